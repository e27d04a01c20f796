//! A resource timeline's parts (each source's hourly groups) → one table frame in time order,
//! each row summarised in words, cut at the query's limit.

use arrow::array::{Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use super::encode::FrameError;
use super::{array, Field, Frame, Notice};
use crate::plan::{RECORDS, TIME_BUCKET};
use crate::query::{Protocol, Resource, TimelineSource};

/// One row of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    /// The hour's start, epoch ms.
    pub time_ms: i64,
    /// Where the row comes from.
    pub source: TimelineSource,
    /// What happened, in words.
    pub summary: String,
    /// Records (flows, queries, calls).
    pub count: i64,
    /// Bytes (flows only).
    pub bytes: Option<i64>,
    /// Account.
    pub account: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// The other side of a flow.
    pub peer: Option<String>,
    /// The name a DNS query asked for.
    pub domain: Option<String>,
    /// Who made a CloudTrail call.
    pub principal: Option<String>,
}

/// One batch's columns by name, as text or numbers.
struct Columns<'a>(&'a RecordBatch);

impl Columns<'_> {
    fn text(&self, name: &str) -> Vec<Option<String>> {
        let Some(column) = self.0.column_by_name(name) else {
            return vec![None; self.0.num_rows()];
        };
        let text = cast(column, &DataType::Utf8).expect("every column casts to text");
        let text = text.as_any().downcast_ref::<StringArray>().expect("text");
        text.iter().map(|v| v.map(str::to_string)).collect()
    }

    fn number(&self, name: &str) -> Vec<i64> {
        let Some(column) = self.0.column_by_name(name) else {
            return vec![0; self.0.num_rows()];
        };
        let column = cast(column, &DataType::Int64).expect("numbers and times cast to Int64");
        let numbers = column.as_any().downcast_ref::<Int64Array>().expect("Int64");
        numbers.iter().map(|v| v.unwrap_or(0)).collect()
    }
}

/// The rows of one part's result.
pub fn timeline_rows(
    source: TimelineSource,
    resource: &Resource,
    batches: &[RecordBatch],
) -> Vec<TimelineRow> {
    batches
        .iter()
        .flat_map(|batch| match source {
            TimelineSource::Flows => flow_rows(resource, &Columns(batch)),
            TimelineSource::Dns => dns_rows(&Columns(batch)),
            TimelineSource::CloudTrail => trail_rows(&Columns(batch)),
        })
        .collect()
}

/// The row every source starts from: its hour, account, region and records.
fn base_rows(c: &Columns, source: TimelineSource, count: &str) -> Vec<TimelineRow> {
    let (time, counts) = (c.number(TIME_BUCKET), c.number(count));
    let (accounts, regions) = (c.text("account"), c.text("region"));
    (0..time.len())
        .map(|i| TimelineRow {
            time_ms: time[i],
            source,
            summary: String::new(),
            count: counts[i],
            bytes: None,
            account: accounts[i].clone(),
            region: regions[i].clone(),
            peer: None,
            domain: None,
            principal: None,
        })
        .collect()
}

/// `→ peer:port/PROTO ACTION` (egress) or `← peer:port/PROTO ACTION` (ingress). The peer is the
/// side that is not the address asked for; for an ENI, instance or VPC, the remote side of the
/// flow's direction (the destination of egress, the source of ingress).
fn flow_rows(resource: &Resource, c: &Columns) -> Vec<TimelineRow> {
    let (src, dst) = (c.text("src_ip"), c.text("dst_ip"));
    let (direction, port) = (c.text("direction"), c.text("dst_port"));
    let (protocol, action, bytes) = (c.number("protocol"), c.text("action"), c.number("bytes"));
    let mut rows = base_rows(c, TimelineSource::Flows, "flows");
    for (i, row) in rows.iter_mut().enumerate() {
        let egress = match resource {
            Resource::Ip(ip) => src[i].as_deref() == Some(ip.addr.to_string().as_str()),
            _ => direction[i].as_deref() == Some("egress"),
        };
        let peer = if egress { &dst[i] } else { &src[i] };
        let arrow = if egress { "→" } else { "←" };
        let proto =
            Protocol::name(protocol[i]).map_or_else(|| protocol[i].to_string(), str::to_string);
        row.summary = format!(
            "{arrow} {}:{}/{proto} {}",
            peer.as_deref().unwrap_or("?"),
            port[i].as_deref().unwrap_or("?"),
            action[i].as_deref().unwrap_or("?"),
        );
        row.bytes = Some(bytes[i]);
        row.peer = peer.clone();
    }
    rows
}

/// `domain TYPE RCODE`.
fn dns_rows(c: &Columns) -> Vec<TimelineRow> {
    let (domain, kind, rcode) = (c.text("domain"), c.text("query_type"), c.text("rcode"));
    let mut rows = base_rows(c, TimelineSource::Dns, RECORDS);
    for (i, row) in rows.iter_mut().enumerate() {
        let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".to_string());
        row.summary = format!(
            "{} {} {}",
            text(&domain[i]),
            text(&kind[i]),
            text(&rcode[i])
        );
        row.domain = domain[i].clone();
    }
    rows
}

/// `service:Operation by principal Outcome`.
fn trail_rows(c: &Columns) -> Vec<TimelineRow> {
    let (service, operation) = (c.text("service"), c.text("operation"));
    let (principal, outcome) = (c.text("principal"), c.text("outcome"));
    let mut rows = base_rows(c, TimelineSource::CloudTrail, RECORDS);
    for (i, row) in rows.iter_mut().enumerate() {
        let service = service[i].as_deref().unwrap_or("?");
        let service = service.strip_suffix(".amazonaws.com").unwrap_or(service);
        row.summary = format!(
            "{service}:{} by {} {}",
            operation[i].as_deref().unwrap_or("?"),
            principal[i].as_deref().unwrap_or("?"),
            outcome[i].as_deref().unwrap_or("?"),
        );
        row.principal = principal[i].clone();
    }
    rows
}

/// The rows in time order, then by source and summary, cut at `limit` with a notice of how many
/// there were.
pub fn ordered(
    mut rows: Vec<TimelineRow>,
    limit: u32,
    notices: &mut Vec<Notice>,
) -> Vec<TimelineRow> {
    rows.sort_by(|a, b| (a.time_ms, a.source, &a.summary).cmp(&(b.time_ms, b.source, &b.summary)));
    let limit = limit as usize;
    if rows.len() > limit {
        notices.push(Notice {
            severity: "info",
            text: format!(
                "Showing the first {limit} of {} timeline rows; narrow the time range or the sources, or raise the limit to see more.",
                rows.len()
            ),
        });
        rows.truncate(limit);
    }
    rows
}

/// The timeline as one table frame named after the refId.
pub fn timeline_frame(ref_id: &str, rows: &[TimelineRow]) -> Result<Frame, FrameError> {
    let text =
        |f: fn(&TimelineRow) -> Option<&str>| array(rows.iter().map(f).collect::<StringArray>());
    let time = TimestampMillisecondArray::from_iter_values(rows.iter().map(|r| r.time_ms));
    let fields = vec![
        Field::new("time", array(time)),
        Field::new("source", text(|r| Some(r.source.name()))),
        Field::new("summary", text(|r| Some(r.summary.as_str()))),
        Field::new(
            "count",
            array(Int64Array::from_iter_values(rows.iter().map(|r| r.count))),
        ),
        Field::new(
            "bytes",
            array(rows.iter().map(|r| r.bytes).collect::<Int64Array>()),
        ),
        Field::new("account", text(|r| r.account.as_deref())),
        Field::new("region", text(|r| r.region.as_deref())),
        Field::new("peer", text(|r| r.peer.as_deref())),
        Field::new("domain", text(|r| r.domain.as_deref())),
        Field::new("principal", text(|r| r.principal.as_deref())),
    ];
    let mut frame = Frame::new(ref_id, fields);
    if let Some(field) = frame.fields.iter_mut().find(|f| f.name == "bytes") {
        field.config = Some(serde_json::json!({ "unit": "decbytes" }));
    }
    frame.meta.preferred_visualisation = Some("table");
    Ok(frame)
}
