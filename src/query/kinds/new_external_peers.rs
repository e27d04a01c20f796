//! `new_external_peers`: internet addresses and ports a VPC reached for the first time in the
//! range — absent from the whole days of baseline before it.

use super::super::flow::parse_own_cidrs;
use super::super::{FlowDirectionFilter, FlowFilters, InternetPeer, PeerSide, TopFormat};
use super::{dimension_names, flow_dimensions, measures_from, top_panel};
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Bytes;
const LIMIT: u32 = 50;
const FORMATS: [(&str, TopFormat); 2] = [("table", TopFormat::Table), ("series", TopFormat::Series)];
const GROUP_BY: [Dimension; 4] = [
    Dimension::Vpc,
    Dimension::DstIp,
    Dimension::DstPort,
    Dimension::Protocol,
];

/// `new_external_peers`.
pub struct NewExternalPeers;

impl Kind for NewExternalPeers {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Internet peers and ports each VPC reached first in the range, unseen in the baseline days",
            fields: vec![
                "baseline_days",
                "own_cidrs",
                "measure",
                "group_by",
                "limit",
                "format",
            ],
            formats: Some(FORMATS.iter().map(|(name, _)| *name).collect()),
            measures: measures_from(MEASURE),
            dimensions: flow_dimensions(),
            default_group_by: Some(dimension_names(&GROUP_BY)),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "new_external_peers",
                "New external peers",
                Group::Flow,
                Answer::TableOrSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = FlowFilters {
            direction: Some(FlowDirectionFilter::Egress),
            ..query.filters()?
        };
        let own = parse_own_cidrs(query.object())?;
        let keys = TopKeys::Dimensions(query.nonempty_group_by(&GROUP_BY, "new_external_peers")?);
        let mut top = query.top(keys, MEASURE, filters)?;
        top.limit = query.limit(LIMIT)?;
        top.format = query.format(&FORMATS)?;
        top.internet = Some(InternetPeer {
            side: PeerSide::Destination,
            own,
        });
        top.baseline_days = Some(query.baseline_days()?);
        Ok(top_panel("new_external_peers", top))
    }
}
