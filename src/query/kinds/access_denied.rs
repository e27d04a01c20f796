//! `access_denied`: calls refused for lack of permission — AccessDenied and its EC2 and JSON
//! services' spellings — by principal and operation: someone trying what they may not.

use super::super::cloudtrail::{
    parse_limit, parse_trail_filters, parse_trail_format, parse_trail_group_by, Outcome,
    TopPrincipals, TrailDimension, TrailMeasure, TrailQuery, DENIED_CODES,
};
use super::api_activity::CALL_FILTERS;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

/// The groups when the query names none.
const GROUP_BY: [TrailDimension; 4] = [
    TrailDimension::Account,
    TrailDimension::Principal,
    TrailDimension::Operation,
    TrailDimension::ErrorCode,
];

const LIMIT: u32 = 50;

/// `access_denied`.
pub struct AccessDeniedKind;

impl Kind for AccessDeniedKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Calls refused for lack of permission, by principal and operation (filters.error_codes replaces the AccessDenied codes)",
            fields: vec!["group_by", "limit", "format"],
            measures: vec![TrailMeasure::Calls.name()],
            dimensions: TrailDimension::ALL.iter().map(|d| d.name()).collect(),
            default_group_by: Some(GROUP_BY.iter().map(|d| d.name()).collect()),
            formats: Some(vec!["table", "series"]),
            filters: CALL_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "access_denied",
                "Access denied",
                Group::CloudTrail,
                Answer::TableOrSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        let mut filters = parse_trail_filters(obj, "access_denied", &CALL_FILTERS)?;
        filters.outcome = Some(Outcome::Failure);
        if filters.error_codes.is_empty() {
            filters.error_codes = DENIED_CODES.map(str::to_string).to_vec();
        }
        let group_by = super::super::nonempty(parse_trail_group_by(obj, &GROUP_BY)?, "access_denied")?;
        Ok(panel(PanelQuery::Trail(TrailQuery::TopPrincipals(
            TopPrincipals {
                kind: "access_denied",
                group_by,
                measure: TrailMeasure::Calls,
                filters,
                limit: parse_limit(obj, LIMIT)?,
                format: parse_trail_format(obj)?,
            },
        ))))
    }
}
