//! `api_activity`: CloudTrail API calls (and sign-ins) over time, one series per group of
//! service, operation, principal, account, region, source address, outcome, …

use super::super::cloudtrail::{
    parse_trail_filters, parse_trail_group_by, parse_trail_measure, ApiActivity, TrailDimension,
    TrailMeasure, TrailQuery,
};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

pub use super::super::cloudtrail::CALL_FILTERS;

/// `api_activity`.
pub struct ApiActivityKind;

impl Kind for ApiActivityKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "CloudTrail API calls over time, by service, operation, principal, account, region, source IP or outcome",
            fields: vec!["measure", "group_by", "limit"],
            measures: TrailMeasure::ALL.iter().map(|m| m.name()).collect(),
            dimensions: TrailDimension::ALL.iter().map(|d| d.name()).collect(),
            filters: CALL_FILTERS.to_vec(),
            ..KindSpec::new(
                "api_activity",
                "API activity",
                Group::CloudTrail,
                Answer::TimeSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        Ok(panel(PanelQuery::Trail(TrailQuery::Activity(ApiActivity {
            measure: parse_trail_measure(obj, &TrailMeasure::ALL)?,
            group_by: parse_trail_group_by(obj, &[])?,
            filters: parse_trail_filters(obj, "api_activity", &CALL_FILTERS)?,
            limit: query.number("limit", 1..=10_000)?,
        }))))
    }
}
