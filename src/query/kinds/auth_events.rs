//! `auth_events`: console sign-ins — who signed in, from where, whether it succeeded and
//! whether MFA was used, root included — newest first; or, as series, the sign-ins of each
//! group (account and principal by default) for alert rules (sign-ins without MFA).

use super::super::cloudtrail::{
    parse_limit, parse_trail_filters, parse_trail_format, parse_trail_group_by, AuthEvents,
    TrailDimension, TrailQuery,
};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

pub use super::super::cloudtrail::AUTH_FILTERS;

/// The groups of the series format when the query names none.
pub const GROUP_BY: [TrailDimension; 2] = [TrailDimension::Account, TrailDimension::Principal];

const LIMIT: u32 = 100;

/// `auth_events`.
pub struct AuthEventsKind;

impl Kind for AuthEventsKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Console sign-ins, newest first: who, from where, success or failure, MFA used or not, root included",
            fields: vec!["limit", "format", "group_by"],
            dimensions: TrailDimension::ALL.iter().map(|d| d.name()).collect(),
            default_group_by: Some(GROUP_BY.iter().map(|d| d.name()).collect()),
            formats: Some(vec!["table", "series"]),
            filters: AUTH_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "auth_events",
                "Sign-ins",
                Group::CloudTrail,
                Answer::TableOrSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        Ok(panel(PanelQuery::Trail(TrailQuery::AuthEvents(AuthEvents {
            filters: parse_trail_filters(obj, "auth_events", &AUTH_FILTERS)?,
            limit: parse_limit(obj, LIMIT)?,
            format: parse_trail_format(obj)?,
            group_by: parse_trail_group_by(obj, &GROUP_BY)?,
        }))))
    }
}
