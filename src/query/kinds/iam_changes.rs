//! `iam_changes`: the calls that change who may do what in IAM — users, access keys, login
//! profiles, roles, groups and policies created, deleted, attached, detached — newest first.

use super::super::cloudtrail::{parse_limit, parse_trail_filters, IamChanges, TrailQuery};
use super::api_activity::CALL_FILTERS;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

const LIMIT: u32 = 100;

/// `iam_changes`.
pub struct IamChangesKind;

impl Kind for IamChangesKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "IAM users, access keys, roles, groups and policies created, deleted, attached or detached, newest first",
            fields: vec!["limit"],
            filters: CALL_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "iam_changes",
                "IAM changes",
                Group::CloudTrail,
                Answer::Table,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        Ok(panel(PanelQuery::Trail(TrailQuery::IamChanges(IamChanges {
            filters: parse_trail_filters(obj, "iam_changes", &CALL_FILTERS)?,
            limit: parse_limit(obj, LIMIT)?,
        }))))
    }
}
