//! `compliance_over_time`: pass rate and failing resources over time.

use super::super::compliance::parse_over_time;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError, COMPLIANCE_FILTERS};

/// `compliance_over_time`.
pub struct ComplianceOverTimeKind;

impl Kind for ComplianceOverTimeKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Pass rate and failing resources over time",
            fields: vec!["controls", "measure", "group_by", "lookback_days"],
            measures: vec!["pass_rate", "failing", "passing"],
            dimensions: vec!["account", "region", "control"],
            filters: COMPLIANCE_FILTERS.to_vec(),
            aliases: vec!["control", "config_rule", "config_rules"],
            ..KindSpec::new(
                "compliance_over_time",
                "Compliance over time",
                Group::Compliance,
                Answer::TimeSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        Ok(panel(PanelQuery::ComplianceOverTime(parse_over_time(
            query.object(),
        )?)))
    }
}
