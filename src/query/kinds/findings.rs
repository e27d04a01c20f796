//! `findings`: Security Hub findings of every product over time, each counted once at its newest
//! update in the range, by severity, product, type, resource, account, region or class.

use super::super::findings::{
    parse_finding_filters, parse_finding_group_by, parse_min_severity, FindingCounts,
    FindingDimension, FindingsQuery, FINDING_FILTERS,
};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

/// `findings`.
pub struct FindingsKind;

impl Kind for FindingsKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Security Hub findings over time (distinct findings at their newest update), by severity, product, type, resource, account or region",
            fields: vec!["group_by", "min_severity", "limit"],
            measures: vec!["findings"],
            dimensions: FindingDimension::names(),
            filters: FINDING_FILTERS.to_vec(),
            ..KindSpec::new("findings", "Findings", Group::Findings, Answer::TimeSeries)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        Ok(panel(PanelQuery::Findings(FindingsQuery::Counts(
            FindingCounts {
                group_by: parse_finding_group_by(obj, &[])?,
                filters: parse_finding_filters(obj, "findings")?,
                min_severity: parse_min_severity(obj, None)?,
                limit: query.number("limit", 1..=10_000)?,
            },
        ))))
    }
}
