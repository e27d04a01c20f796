//! `exposed_services`: services that accepted connections from the internet on ports that
//! should never face it (remote administration, databases, caches, search) — what security
//! teams alert on first.

use super::super::flow::parse_own_cidrs;
use super::super::{FlowActionFilter, FlowFilters, InternetPeer, PeerSide, TopFormat};
use super::{dimension_names, flow_dimensions, measures_from, top_panel};
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Flows;
const LIMIT: u32 = 50;
const FORMATS: [(&str, TopFormat); 2] = [("table", TopFormat::Table), ("series", TopFormat::Series)];
const GROUP_BY: [Dimension; 4] = [
    Dimension::Vpc,
    Dimension::DstIp,
    Dimension::DstPort,
    Dimension::Protocol,
];

/// The ports watched when the query names no `dst_ports`: SSH, Telnet, RDP, VNC, SMB, and the
/// usual databases, caches and search engines.
pub const SENSITIVE_PORTS: [u16; 16] = [
    22, 23, 445, 1433, 1521, 2049, 2375, 3306, 3389, 5432, 5900, 5984, 6379, 9200, 11211, 27017,
];

/// `exposed_services`.
pub struct ExposedServices;

impl Kind for ExposedServices {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Services that accepted flows from internet addresses on sensitive ports",
            fields: vec!["own_cidrs", "measure", "group_by", "limit", "format"],
            formats: Some(FORMATS.iter().map(|(name, _)| *name).collect()),
            measures: measures_from(MEASURE),
            dimensions: flow_dimensions(),
            default_group_by: Some(dimension_names(&GROUP_BY)),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "exposed_services",
                "Exposed services",
                Group::Flow,
                Answer::TableOrSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let asked = query.filters()?;
        let dst_ports = if asked.dst_ports.is_empty() {
            SENSITIVE_PORTS.to_vec()
        } else {
            asked.dst_ports.clone()
        };
        let filters = FlowFilters {
            action: Some(FlowActionFilter::Accept),
            dst_ports,
            ..asked
        };
        let own = parse_own_cidrs(query.object())?;
        let keys = TopKeys::Dimensions(query.nonempty_group_by(&GROUP_BY, "exposed_services")?);
        let mut top = query.top(keys, MEASURE, filters)?;
        top.limit = query.limit(LIMIT)?;
        top.format = query.format(&FORMATS)?;
        top.internet = Some(InternetPeer {
            side: PeerSide::Source,
            own,
        });
        Ok(top_panel("exposed_services", top))
    }
}
