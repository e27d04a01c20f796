//! A table of conversations (`top_pairs`) as Grafana's node graph: a `nodes` frame, one node per
//! address sized by what it sent and received, and an `edges` frame, one edge per conversation
//! (source → destination on a port and protocol) with its measure.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, Float64Array, StringArray};
use arrow::datatypes::DataType;
use serde_json::json;

use super::encode::FrameError;
use super::{array, Field, Frame};
use crate::query::Measure;

/// What a node is called when its flows carry no address (`-` or NULL in the flow log).
pub const NO_ADDRESS: &str = "(no address)";

/// The conversations table (`src_ip`, `dst_ip`, `dst_port`, `protocol` and the measures) as the
/// node graph's `nodes` and `edges` frames; the table's meta (notices, statistics, SQL) goes
/// with the nodes.
pub fn node_graph_frames(table: Frame, measure: Measure) -> Result<Vec<Frame>, FrameError> {
    let pairs = Pairs::read(&table, measure)?;
    let mut nodes = pairs.nodes_frame(measure);
    nodes.meta = table.meta;
    nodes.meta.preferred_visualisation = Some("nodeGraph");
    Ok(vec![nodes, pairs.edges_frame(measure)])
}

/// The conversations, in the table's order (largest first).
struct Pairs {
    sources: Vec<String>,
    targets: Vec<String>,
    ports: Vec<String>,
    protocols: Vec<String>,
    values: Vec<f64>,
    flows: Vec<f64>,
}

impl Pairs {
    fn read(table: &Frame, measure: Measure) -> Result<Self, FrameError> {
        Ok(Pairs {
            sources: texts(table, "src_ip")?,
            targets: texts(table, "dst_ip")?,
            ports: texts(table, "dst_port")?,
            protocols: texts(table, "protocol")?,
            values: numbers(table, measure.name())?,
            flows: numbers(table, Measure::Flows.name())?,
        })
    }

    /// One edge per conversation: the measure as its main number, flows beside it.
    fn edges_frame(&self, measure: Measure) -> Frame {
        let ids: StringArray = (0..self.sources.len())
            .map(|i| Some(self.edge_id(i)))
            .collect();
        let mut fields = vec![
            Field::new("id", array(ids)),
            Field::new("source", strings(&self.sources)),
            Field::new("target", strings(&self.targets)),
            stat("mainstat", &self.values, measure),
        ];
        if measure != Measure::Flows {
            fields.push(stat("secondarystat", &self.flows, Measure::Flows));
        }
        fields.push(Field::new("detail__dst_port", strings(&self.ports)));
        fields.push(Field::new("detail__protocol", strings(&self.protocols)));
        let mut frame = Frame::new("edges", fields);
        frame.meta.preferred_visualisation = Some("nodeGraph");
        frame
    }

    fn edge_id(&self, i: usize) -> String {
        format!(
            "{} → {}:{}/{}",
            self.sources[i], self.targets[i], self.ports[i], self.protocols[i]
        )
    }

    /// One node per address, in order of first appearance: what it sent and received in total,
    /// its peers, and an arc of the sent and received shares.
    fn nodes_frame(&self, measure: Measure) -> Frame {
        let mut order: Vec<&str> = Vec::new();
        let mut totals: HashMap<&str, Totals> = HashMap::new();
        for i in 0..self.sources.len() {
            let (src, dst, value) = (&self.sources[i], &self.targets[i], self.values[i]);
            for (address, sent, received) in [(src, value, 0.0), (dst, 0.0, value)] {
                let entry = totals.entry(address.as_str()).or_insert_with(|| {
                    order.push(address);
                    Totals::default()
                });
                entry.sent += sent;
                entry.received += received;
                entry.peers += 1.0;
            }
        }
        let of =
            |f: fn(&Totals) -> f64| -> Vec<f64> { order.iter().map(|a| f(&totals[a])).collect() };
        let names: Vec<String> = order.iter().map(|a| a.to_string()).collect();
        let fields = vec![
            Field::new("id", strings(&names)),
            Field::new("title", strings(&names)),
            stat("mainstat", &of(|t| t.sent + t.received), measure),
            peers_field(&of(|t| t.peers)),
            arc("arc__sent", &of(Totals::sent_share), "blue"),
            arc("arc__received", &of(|t| 1.0 - t.sent_share()), "green"),
        ];
        Frame::new("nodes", fields)
    }
}

/// What one address did across the conversations shown.
#[derive(Default)]
struct Totals {
    sent: f64,
    received: f64,
    peers: f64,
}

impl Totals {
    /// The share of its traffic it sent (0 when it moved nothing, so the arc stays whole).
    fn sent_share(&self) -> f64 {
        let total = self.sent + self.received;
        if total > 0.0 {
            self.sent / total
        } else {
            0.0
        }
    }
}

/// A column's values as text; an empty or missing address is named so that it can be a node.
fn texts(table: &Frame, name: &str) -> Result<Vec<String>, FrameError> {
    let values = table.values_as(name, &DataType::Utf8)?;
    let values = values
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8");
    Ok(values
        .iter()
        .map(|v| match v {
            Some(t) if !t.is_empty() && t != "-" => t.to_string(),
            _ => NO_ADDRESS.to_string(),
        })
        .collect())
}

/// A column's values as numbers (NULL as 0: a measure is a sum).
fn numbers(table: &Frame, name: &str) -> Result<Vec<f64>, FrameError> {
    let values = table.values_as(name, &DataType::Float64)?;
    let values = values
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("cast to Float64");
    Ok(values.iter().map(|v| v.unwrap_or(0.0)).collect())
}

fn strings(values: &[String]) -> ArrayRef {
    array(StringArray::from_iter_values(values))
}

/// A number shown on a node or edge, with the measure's unit and name.
fn stat(name: &str, values: &[f64], measure: Measure) -> Field {
    let mut field = Field::new(name, array(Float64Array::from(values.to_vec())));
    field.config = Some(json!({"unit": measure.unit(), "displayName": measure.name()}));
    field
}

fn peers_field(values: &[f64]) -> Field {
    let mut field = Field::new("secondarystat", array(Float64Array::from(values.to_vec())));
    field.config = Some(json!({"displayName": "peers"}));
    field
}

/// One arc segment of every node; the segments of a node add up to 1.
fn arc(name: &str, shares: &[f64], color: &str) -> Field {
    let mut field = Field::new(name, array(Float64Array::from(shares.to_vec())));
    let label = name.trim_start_matches("arc__");
    field.config =
        Some(json!({"color": {"mode": "fixed", "fixedColor": color}, "displayName": label}));
    field
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    fn table() -> Frame {
        let text = |v: &[Option<&str>]| array(StringArray::from(v.to_vec()));
        let int = |v: &[i64]| array(Int64Array::from(v.to_vec()));
        Frame::new(
            "A",
            vec![
                Field::new("src_ip", text(&[Some("10.0.0.1"), Some("10.0.0.2"), None])),
                Field::new(
                    "dst_ip",
                    text(&[Some("10.0.0.2"), Some("10.0.0.3"), Some("10.0.0.1")]),
                ),
                Field::new("dst_port", int(&[443, 22, 53])),
                Field::new("protocol", text(&[Some("TCP"), Some("TCP"), Some("UDP")])),
                Field::new("bytes", int(&[300, 100, 50])),
                Field::new("packets", int(&[3, 1, 1])),
                Field::new("flows", int(&[6, 2, 1])),
            ],
        )
    }

    fn column(frame: &Frame, name: &str) -> Vec<String> {
        let text = frame.values_as(name, &DataType::Utf8).unwrap();
        let text = text.as_any().downcast_ref::<StringArray>().unwrap();
        text.iter().map(|v| v.unwrap_or("").to_string()).collect()
    }

    #[test]
    fn every_conversation_is_an_edge_and_every_address_a_node_with_its_totals() {
        let frames = node_graph_frames(table(), Measure::Bytes).unwrap();
        let (nodes, edges) = (&frames[0], &frames[1]);
        assert_eq!(
            (nodes.name.as_str(), edges.name.as_str()),
            ("nodes", "edges")
        );
        assert_eq!(nodes.meta.preferred_visualisation, Some("nodeGraph"));
        assert_eq!(edges.meta.preferred_visualisation, Some("nodeGraph"));
        assert_eq!(
            column(edges, "id"),
            [
                "10.0.0.1 → 10.0.0.2:443/TCP",
                "10.0.0.2 → 10.0.0.3:22/TCP",
                "(no address) → 10.0.0.1:53/UDP"
            ]
        );
        assert_eq!(numbers(edges, "mainstat").unwrap(), [300.0, 100.0, 50.0]);
        assert_eq!(numbers(edges, "secondarystat").unwrap(), [6.0, 2.0, 1.0]);
        assert_eq!(
            column(nodes, "id"),
            ["10.0.0.1", "10.0.0.2", "10.0.0.3", "(no address)"]
        );
        // 10.0.0.1 sent 300 and received 50; 10.0.0.2 received 300 and sent 100.
        assert_eq!(
            numbers(nodes, "mainstat").unwrap(),
            [350.0, 400.0, 100.0, 50.0]
        );
        assert_eq!(
            numbers(nodes, "secondarystat").unwrap(),
            [2.0, 2.0, 1.0, 1.0]
        );
        let sent = numbers(nodes, "arc__sent").unwrap();
        let received = numbers(nodes, "arc__received").unwrap();
        assert_eq!((sent[1], received[1]), (0.25, 0.75));
        assert_eq!((sent[2], received[2]), (0.0, 1.0));
    }

    #[test]
    fn with_flows_as_the_measure_the_edges_carry_no_second_number() {
        let frames = node_graph_frames(table(), Measure::Flows).unwrap();
        assert_eq!(numbers(&frames[1], "mainstat").unwrap(), [6.0, 2.0, 1.0]);
        assert!(frames[1].field_named("secondarystat").is_err());
    }
}
