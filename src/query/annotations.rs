//! The `annotations` query kind: events Grafana draws on every panel of a dashboard —
//! Security Hub compliance status changes (`control_status_changes`), silences in the flow logs
//! (`flow_logs_silent`), IAM changes (`iam_changes`), console sign-ins (`sign_ins`) and findings
//! first observed in the range (`new_findings`).

use serde_json::{Map, Value};

use super::cloudtrail::{parse_trail_filters, AUTH_FILTERS, CALL_FILTERS};
use super::compliance::parse_scope;
use super::findings::{parse_finding_filters, parse_min_severity, Severity};
use super::flow::{parse_filters_field, parse_group_by};
use super::{
    number, quoted, snippet, ComplianceScope, Dimension, FindingFilters, FlowFilters, QueryError,
    TrailFilters,
};

/// The events an `annotations` query can mark, by name.
pub const ANNOTATION_EVENTS: &str =
    "control_status_changes, flow_logs_silent, iam_changes, sign_ins, new_findings";

/// The default `silent_for_minutes` of `flow_logs_silent`.
pub const DEFAULT_SILENT_MINUTES: u32 = 60;

/// `annotations`: one event kind marked on the dashboard's graphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Annotations {
    /// One point annotation per compliance status change of a finding (resource × control)
    /// within the time range.
    StatusChanges(StatusChanges),
    /// One region annotation per silence in a group's flow records that overlaps the range.
    FlowSilence(Box<FlowSilence>),
    /// One point annotation per IAM change call in the range (the `iam_changes` kind's rows).
    IamChanges(TrailFilters),
    /// One point annotation per console sign-in in the range (the `auth_events` kind's rows).
    SignIns(TrailFilters),
    /// One point annotation per finding first observed in the range.
    NewFindings(NewFindings),
}

impl Annotations {
    /// The event name used in JSON.
    pub fn event(&self) -> &'static str {
        match self {
            Annotations::StatusChanges(_) => "control_status_changes",
            Annotations::FlowSilence(_) => "flow_logs_silent",
            Annotations::IamChanges(_) => "iam_changes",
            Annotations::SignIns(_) => "sign_ins",
            Annotations::NewFindings(_) => "new_findings",
        }
    }
}

/// `event: control_status_changes`: the findings read (controls, accounts, regions, VPCs, and
/// the look-back before the range start that tells each finding's status before the range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChanges {
    /// Which findings (controls default to `EC2.6`).
    pub scope: ComplianceScope,
}

/// `event: flow_logs_silent`: gaps of at least `silent_for_minutes` between consecutive flow
/// records of a group (and from a group's last record to the range end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSilence {
    /// The groups whose records are followed (default account × region × VPC).
    pub group_by: Vec<Dimension>,
    /// The shortest silence marked, minutes (1–129600, default 60).
    pub silent_for_minutes: u32,
    /// Records are read from this many days before the range start, so that a silence that
    /// began before the range is found (default: the `lookbackDays` setting).
    pub lookback_days: Option<u32>,
    /// Which flows count as records.
    pub filters: FlowFilters,
}

/// `event: new_findings`: findings whose first observation lies in the range, at or above a
/// severity, each marked once at that time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFindings {
    /// Which findings.
    pub filters: FindingFilters,
    /// The lowest severity marked (default High).
    pub min_severity: Severity,
}

/// Parses an `annotations` query.
pub(super) fn parse(obj: &Map<String, Value>) -> Result<Annotations, QueryError> {
    let event = match obj.get("event") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(other) => {
            return Err(QueryError::new(
                "event",
                snippet(&other.to_string()),
                format!("expected a string; supported events: {ANNOTATION_EVENTS}"),
            ))
        }
        None => {
            return Err(QueryError::new(
                "event",
                "(missing)",
                format!("an annotations query names the event it marks; supported events: {ANNOTATION_EVENTS}"),
            ))
        }
    };
    match event.as_str() {
        "control_status_changes" => Ok(Annotations::StatusChanges(StatusChanges {
            scope: parse_scope(obj)?,
        })),
        "flow_logs_silent" => {
            let filters = parse_filters_field(obj)?;
            Ok(Annotations::FlowSilence(Box::new(FlowSilence {
                group_by: parse_group_by(
                    obj,
                    &[Dimension::Account, Dimension::Region, Dimension::Vpc],
                )?,
                silent_for_minutes: number(obj, "silent_for_minutes", 1..=129_600)?
                    .unwrap_or(DEFAULT_SILENT_MINUTES),
                lookback_days: number(obj, "lookback_days", 1..=90)?,
                filters,
            })))
        }
        "iam_changes" => Ok(Annotations::IamChanges(parse_trail_filters(
            obj,
            "the iam_changes annotation",
            &CALL_FILTERS,
        )?)),
        "sign_ins" => Ok(Annotations::SignIns(parse_trail_filters(
            obj,
            "the sign_ins annotation",
            &AUTH_FILTERS,
        )?)),
        "new_findings" => Ok(Annotations::NewFindings(NewFindings {
            filters: parse_finding_filters(obj, "the new_findings annotation")?,
            min_severity: parse_min_severity(obj, Some(Severity::HIGH))?.unwrap_or(Severity::HIGH),
        })),
        other => Err(QueryError::new(
            "event",
            quoted(other),
            format!("unknown annotation event; supported events: {ANNOTATION_EVENTS}"),
        )),
    }
}
