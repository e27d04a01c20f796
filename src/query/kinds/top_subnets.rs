//! `top_subnets`: subnets ranked by traffic (a subnet that suddenly carries most of a VPC's bytes,
//! or one that should be quiet and is not).

use super::{dimension_names, flow_dimensions, measures_from, top_panel};
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Bytes;
const LIMIT: u32 = 10;
const GROUP_BY: [Dimension; 2] = [Dimension::Vpc, Dimension::Subnet];

/// `top_subnets`.
pub struct TopSubnets;

impl Kind for TopSubnets {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Subnets ranked, with their VPC",
            fields: vec!["measure", "group_by", "limit"],
            measures: measures_from(MEASURE),
            dimensions: flow_dimensions(),
            default_group_by: Some(dimension_names(&GROUP_BY)),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new("top_subnets", "Top subnets", Group::Flow, Answer::Table)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        let keys = TopKeys::Dimensions(query.nonempty_group_by(&GROUP_BY, "top_subnets")?);
        Ok(top_panel("top_subnets", query.top(keys, MEASURE, filters)?))
    }
}
