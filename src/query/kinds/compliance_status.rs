//! `compliance_status`: the latest state of each resource for Security Hub controls or Config
//! rules.

use super::super::compliance::parse_status;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError, COMPLIANCE_FILTERS};

/// `compliance_status`.
pub struct ComplianceStatusKind;

impl Kind for ComplianceStatusKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Latest state of each resource for Security Hub controls or Config rules",
            fields: vec!["controls", "statuses", "view", "lookback_days", "limit"],
            views: Some(vec!["table", "counts"]),
            filters: COMPLIANCE_FILTERS.to_vec(),
            aliases: vec!["control", "config_rule", "config_rules", "status"],
            default_limit: Some(1000),
            ..KindSpec::new(
                "compliance_status",
                "Compliance status",
                Group::Compliance,
                Answer::Table,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        Ok(panel(PanelQuery::ComplianceStatus(parse_status(
            query.object(),
        )?)))
    }
}
