//! `top_interfaces`: network interfaces (ENIs) ranked.

use super::{dimension_names, flow_dimensions, measures_from, top_panel};
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Bytes;
const LIMIT: u32 = 10;
const GROUP_BY: [Dimension; 1] = [Dimension::Eni];

/// `top_interfaces`.
pub struct TopInterfaces;

impl Kind for TopInterfaces {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Network interfaces (ENIs) ranked",
            fields: vec!["measure", "group_by", "limit"],
            measures: measures_from(MEASURE),
            dimensions: flow_dimensions(),
            default_group_by: Some(dimension_names(&GROUP_BY)),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "top_interfaces",
                "Top interfaces",
                Group::Flow,
                Answer::Table,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        let keys = TopKeys::Dimensions(query.nonempty_group_by(&GROUP_BY, "top_interfaces")?);
        Ok(top_panel(
            "top_interfaces",
            query.top(keys, MEASURE, filters)?,
        ))
    }
}
