//! `top_pairs`: source → destination:port/protocol pairs with the most traffic.

use super::{measures_from, top_panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Bytes;
const LIMIT: u32 = 10;
const KEYS: [Dimension; 4] = [
    Dimension::SrcIp,
    Dimension::DstIp,
    Dimension::DstPort,
    Dimension::Protocol,
];

/// `top_pairs`.
pub struct TopPairs;

impl Kind for TopPairs {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Source → destination:port/protocol pairs with the most traffic",
            fields: vec!["measure", "limit"],
            measures: measures_from(MEASURE),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new("top_pairs", "Top pairs", Group::Flow, Answer::Table)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        let keys = TopKeys::Dimensions(KEYS.to_vec());
        Ok(top_panel("top_pairs", query.top(keys, MEASURE, filters)?))
    }
}
