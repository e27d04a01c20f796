//! `resource_timeline`: one table in time order of the flows, DNS queries, CloudTrail calls and
//! Security Hub findings naming an address, ENI, instance or VPC.

use super::super::timeline::{parse_resource, parse_scope, parse_sources};
use super::super::{ResourceTimeline, TIMELINE_FILTERS};
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, QueryError};

/// Rows shown when the query names no `limit`.
pub const LIMIT: u32 = 500;

/// `resource_timeline`.
pub struct ResourceTimelineKind;

impl Kind for ResourceTimelineKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Everything the lake says about an address, ENI, instance or VPC: its flows, DNS queries, CloudTrail calls and findings by hour, in time order",
            fields: vec!["resource", "sources", "limit"],
            filters: TIMELINE_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            views: None,
            dimensions: Vec::new(),
            measures: Vec::new(),
            formats: None,
            ..KindSpec::new(
                "resource_timeline",
                "Resource timeline",
                Group::Investigate,
                Answer::Table,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        let (accounts, regions) = parse_scope(obj, "resource_timeline")?;
        Ok(AnyQuery::Timeline(ResourceTimeline {
            resource: parse_resource(obj)?,
            accounts,
            regions,
            sources: parse_sources(obj)?,
            limit: query.limit(LIMIT)?,
        }))
    }
}

