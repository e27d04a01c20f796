//! `annotations`: events to mark on the time axis (control status changes, flow logs going
//! silent, IAM changes, console sign-ins, new findings).

use std::collections::BTreeMap;

use super::super::annotations::parse;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError, COMPLIANCE_FILTERS};
use crate::query::cloudtrail::{AUTH_FILTERS, CALL_FILTERS};
use crate::query::FINDING_FILTERS;

/// `annotations`.
pub struct AnnotationsKind;

impl Kind for AnnotationsKind {
    fn spec(&self) -> KindSpec {
        let events = BTreeMap::from([
            ("control_status_changes", vec!["control"]),
            ("flow_logs_silent", vec!["silent_for_minutes", "group_by"]),
            ("iam_changes", vec![]),
            ("sign_ins", vec![]),
            ("new_findings", vec!["min_severity"]),
        ]);
        let event_filters = BTreeMap::from([
            ("control_status_changes", COMPLIANCE_FILTERS.to_vec()),
            ("flow_logs_silent", COMPLIANCE_FILTERS.to_vec()),
            ("iam_changes", CALL_FILTERS.to_vec()),
            ("sign_ins", AUTH_FILTERS.to_vec()),
            ("new_findings", FINDING_FILTERS.to_vec()),
        ]);
        let mut filters: Vec<&str> = Vec::new();
        for name in event_filters.values().flatten() {
            if !filters.contains(name) {
                filters.push(name);
            }
        }
        KindSpec {
            description:
                "Events to mark on the time axis: control status changes, flow logs going silent, IAM changes, console sign-ins, new findings",
            fields: vec!["event"],
            event_fields: Some(events),
            event_filters: Some(event_filters),
            dimensions: vec!["account", "region", "vpc"],
            default_group_by: Some(vec!["account", "region", "vpc"]),
            filters,
            ..KindSpec::new(
                "annotations",
                "Annotations",
                Group::Annotations,
                Answer::Annotations,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        Ok(panel(PanelQuery::Annotations(parse(query.object())?)))
    }
}
