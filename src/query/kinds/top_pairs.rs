//! `top_pairs`: source → destination:port/protocol pairs with the most traffic, as a table or
//! as Grafana's node graph (`format: node_graph`).

use super::super::TopFormat;
use super::{measures_from, top_panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Bytes;
const LIMIT: u32 = 10;
const FORMATS: [(&str, TopFormat); 2] = [("table", TopFormat::Table), ("node_graph", TopFormat::NodeGraph)];
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
            fields: vec!["measure", "limit", "format"],
            measures: measures_from(MEASURE),
            formats: Some(FORMATS.iter().map(|(name, _)| *name).collect()),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new("top_pairs", "Top pairs", Group::Flow, Answer::TableOrNodeGraph)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        let keys = TopKeys::Dimensions(KEYS.to_vec());
        let mut top = query.top(keys, MEASURE, filters)?;
        top.format = query.format(&FORMATS)?;
        Ok(top_panel("top_pairs", top))
    }
}
