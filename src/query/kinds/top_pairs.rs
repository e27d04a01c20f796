//! `top_pairs`: source → destination:port/protocol pairs with the most traffic, as a table or
//! as Grafana's node graph (`format: node_graph`).

use super::super::{quoted, string_list, TopFormat};
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
            fields: vec!["measure", "limit", "format"],
            measures: measures_from(MEASURE),
            formats: Some(vec!["table", "node_graph"]),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new("top_pairs", "Top pairs", Group::Flow, Answer::TableOrNodeGraph)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        let keys = TopKeys::Dimensions(KEYS.to_vec());
        let mut top = query.top(keys, MEASURE, filters)?;
        top.format = format(query)?;
        Ok(top_panel("top_pairs", top))
    }
}

/// `format`: `table` (the default) or `node_graph`.
fn format(query: &Envelope) -> Result<TopFormat, QueryError> {
    match string_list(query.object().get("format"), "format")?.as_slice() {
        [] => Ok(TopFormat::Table),
        [one] if one == "table" => Ok(TopFormat::Table),
        [one] if one == "node_graph" || one == "nodegraph" => Ok(TopFormat::NodeGraph),
        [one] => Err(QueryError::new(
            "format",
            quoted(one),
            "expected table or node_graph",
        )),
        many => Err(QueryError::new(
            "format",
            format!("{many:?}"),
            "expected a single value: table or node_graph",
        )),
    }
}
