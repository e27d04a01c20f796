//! `top_principals`: who calls most — principals (or any CloudTrail groups) ranked by their
//! calls, with their failures, distinct source addresses and first and last call; as a table, or
//! as one labelled number per row for alert rules (root use).

use super::super::cloudtrail::{
    parse_limit, parse_trail_filters, parse_trail_format, parse_trail_group_by,
    parse_trail_measure, TopPrincipals, TrailDimension, TrailMeasure, TrailQuery,
};
use super::api_activity::CALL_FILTERS;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

/// What ranks the rows, the default first.
const MEASURES: [TrailMeasure; 3] = [
    TrailMeasure::Calls,
    TrailMeasure::Failures,
    TrailMeasure::SourceIps,
];

/// The groups when the query names none.
pub const GROUP_BY: [TrailDimension; 3] = [
    TrailDimension::Account,
    TrailDimension::Principal,
    TrailDimension::PrincipalType,
];

const LIMIT: u32 = 20;

/// `top_principals`.
pub struct TopPrincipalsKind;

impl Kind for TopPrincipalsKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Principals ranked by CloudTrail calls, with their failures, distinct source IPs and first and last call",
            fields: vec!["measure", "group_by", "limit", "format"],
            measures: MEASURES.iter().map(|m| m.name()).collect(),
            dimensions: TrailDimension::ALL.iter().map(|d| d.name()).collect(),
            default_group_by: Some(GROUP_BY.iter().map(|d| d.name()).collect()),
            formats: Some(vec!["table", "series"]),
            filters: CALL_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "top_principals",
                "Top principals",
                Group::CloudTrail,
                Answer::TableOrSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        let group_by = super::super::nonempty(parse_trail_group_by(obj, &GROUP_BY)?, "top_principals")?;
        Ok(panel(PanelQuery::Trail(TrailQuery::TopPrincipals(
            TopPrincipals {
                kind: "top_principals",
                group_by,
                measure: parse_trail_measure(obj, &MEASURES)?,
                filters: parse_trail_filters(obj, "top_principals", &CALL_FILTERS)?,
                limit: parse_limit(obj, LIMIT)?,
                format: parse_trail_format(obj)?,
            },
        ))))
    }
}
