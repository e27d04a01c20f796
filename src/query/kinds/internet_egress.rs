//! `internet_egress`: egress to public addresses outside the user's own blocks.

use super::super::flow::parse_own_cidrs;
use super::super::{FlowDirectionFilter, FlowFilters, InternetPeer, PeerSide};
use super::{dimension_names, flow_dimensions, measures_from, top_panel};
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Bytes;
const LIMIT: u32 = 10;
const GROUP_BY: [Dimension; 2] = [Dimension::Vpc, Dimension::DstIp];

/// `internet_egress`.
pub struct InternetEgress;

impl Kind for InternetEgress {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Egress to public addresses outside your own blocks",
            fields: vec!["own_cidrs", "measure", "group_by", "limit"],
            measures: measures_from(MEASURE),
            dimensions: flow_dimensions(),
            default_group_by: Some(dimension_names(&GROUP_BY)),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "internet_egress",
                "Internet egress",
                Group::Flow,
                Answer::Table,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = FlowFilters {
            direction: Some(FlowDirectionFilter::Egress),
            ..query.filters()?
        };
        let own = parse_own_cidrs(query.object())?;
        let keys = TopKeys::Dimensions(query.nonempty_group_by(&GROUP_BY, "internet_egress")?);
        let mut top = query.top(keys, MEASURE, filters)?;
        top.internet = Some(InternetPeer {
            side: PeerSide::Destination,
            own,
        });
        Ok(top_panel("internet_egress", top))
    }
}
