//! `beaconing`: a source calling one internet destination like clockwork — what implants do
//! when they check in with their command-and-control server.

use super::super::flow::parse_own_cidrs;
use super::super::{Beaconing, FlowDirectionFilter, FlowFilters, InternetPeer, PeerSide};
use super::super::TopFormat;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError, FLOW_FILTERS};

const LIMIT: u32 = 50;
const FORMATS: [(&str, TopFormat); 2] = [("table", TopFormat::Table), ("series", TopFormat::Series)];
/// The fewest contacts of a beacon when the query names no `min_contacts`.
pub const MIN_CONTACTS: u32 = 8;
/// The most its intervals may vary when the query names no `max_jitter_percent`.
pub const MAX_JITTER_PERCENT: u32 = 20;

/// `beaconing`.
pub struct BeaconingKind;

impl Kind for BeaconingKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Sources that call one internet destination at regular intervals",
            fields: vec![
                "min_contacts",
                "max_jitter_percent",
                "own_cidrs",
                "limit",
                "format",
            ],
            formats: Some(FORMATS.iter().map(|(name, _)| *name).collect()),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new("beaconing", "Beaconing", Group::Flow, Answer::TableOrSeries)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = FlowFilters {
            direction: Some(FlowDirectionFilter::Egress),
            ..query.filters()?
        };
        let internet = InternetPeer {
            side: PeerSide::Destination,
            own: parse_own_cidrs(query.object())?,
        };
        Ok(panel(PanelQuery::Beaconing(Beaconing {
            min_contacts: query
                .number("min_contacts", 3..=100_000)?
                .unwrap_or(MIN_CONTACTS),
            max_jitter_percent: query
                .number("max_jitter_percent", 1..=100)?
                .unwrap_or(MAX_JITTER_PERCENT),
            filters,
            internet,
            limit: query.limit(LIMIT)?,
            format: query.format(&FORMATS)?,
        })))
    }
}
