//! `active_findings`: the findings still open at their newest update in the range (workflow
//! New or In Progress, not archived, not a passed control), newest first, at or above a
//! severity; or one series per severity for alert rules.

use super::super::cloudtrail::{parse_limit, parse_trail_format};
use super::super::findings::{
    parse_finding_filters, parse_min_severity, ActiveFindings, FindingsQuery, Severity,
    FINDING_FILTERS,
};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

/// Rows when the query sets no `limit`.
const LIMIT: u32 = 100;

/// `active_findings`.
pub struct ActiveFindingsKind;

impl Kind for ActiveFindingsKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Open Security Hub findings at or above a severity (Medium by default), newest first, or counted per severity for alerts",
            fields: vec!["min_severity", "limit", "format"],
            formats: Some(vec!["table", "series"]),
            filters: FINDING_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "active_findings",
                "Active findings",
                Group::Findings,
                Answer::TableOrSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        let min_severity = parse_min_severity(obj, Some(Severity::MEDIUM))?;
        Ok(panel(PanelQuery::Findings(FindingsQuery::Active(
            ActiveFindings {
                filters: parse_finding_filters(obj, "active_findings")?,
                min_severity: min_severity.unwrap_or(Severity::MEDIUM),
                limit: parse_limit(obj, LIMIT)?,
                format: parse_trail_format(obj)?,
            },
        ))))
    }
}
