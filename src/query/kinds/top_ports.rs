//! `top_ports`: destination ports and protocols ranked.

use super::{dimension_names, flow_dimensions, measures_from, top_panel};
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Flows;
const LIMIT: u32 = 10;
const GROUP_BY: [Dimension; 2] = [Dimension::DstPort, Dimension::Protocol];

/// `top_ports`.
pub struct TopPorts;

impl Kind for TopPorts {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Destination ports and protocols ranked",
            fields: vec!["measure", "group_by", "limit"],
            measures: measures_from(MEASURE),
            dimensions: flow_dimensions(),
            default_group_by: Some(dimension_names(&GROUP_BY)),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new("top_ports", "Top ports", Group::Flow, Answer::Table)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        let keys = TopKeys::Dimensions(query.nonempty_group_by(&GROUP_BY, "top_ports")?);
        Ok(top_panel("top_ports", query.top(keys, MEASURE, filters)?))
    }
}
