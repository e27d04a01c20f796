//! A resource timeline's parts (each source's hourly groups) → one table frame in time order,
//! each row summarised in words, cut at the query's limit.

use arrow::array::{Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use super::encode::FrameError;
use super::{array, Field, Frame, Notice};
use crate::plan::{
    COMPLIANCE_STATUS, FINDING_ID, FINDING_STATE, FINDING_TITLE, FLOW_INTERFACE_GROUPS, RECORDS,
    TIME_BUCKET,
};
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
    /// Records (flows, queries, calls, finding updates).
    pub count: i64,
    /// Bytes (flows only).
    pub bytes: Option<i64>,
    /// Account.
    pub account: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// The resource's side of the row: the address on its side of a flow, the address asking a
    /// DNS query, the resource a CloudTrail call is matched by, the finding's resource (an ARN).
    pub resource: Option<String>,
    /// The other side of a flow.
    pub peer: Option<String>,
    /// The name a DNS query asked for.
    pub domain: Option<String>,
    /// Who made a CloudTrail call.
    pub principal: Option<String>,
    /// A finding's id.
    pub finding_id: Option<String>,
    /// A finding's severity caption.
    pub severity: Option<String>,
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
            TimelineSource::CloudTrail => trail_rows(resource, &Columns(batch)),
            TimelineSource::Findings => finding_rows(&Columns(batch)),
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
            resource: None,
            peer: None,
            domain: None,
            principal: None,
            finding_id: None,
            severity: None,
        })
        .collect()
}

/// Which side of a flow row is the resource's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Src,
    Dst,
}

/// The resource's side of row `i`. For an address: the side that is the address. For an ENI,
/// instance or VPC: the side the logging interface is on (the source of egress, the destination
/// of ingress or of an unknown direction), unless the interface forwarded the packet there (its
/// own address, `srcaddr`/`dstaddr`, differs from the packet's): then that side's packet address
/// is the far end and the host on the resource's side is the other one (a NAT gateway receiving a
/// host's packet for the internet logs it as ingress from the host).
fn resource_side(resource: &Resource, c: &FlowCells, i: usize) -> Side {
    if let Resource::Ip(ip) = resource {
        let own = c.src[i].as_deref() == Some(ip.addr.to_string().as_str());
        return if own { Side::Src } else { Side::Dst };
    }
    let (interface, packet, own, other) = if c.direction[i].as_deref() == Some("egress") {
        (&c.srcaddr[i], &c.src[i], Side::Src, Side::Dst)
    } else {
        (&c.dstaddr[i], &c.dst[i], Side::Dst, Side::Src)
    };
    let forwarded = interface.is_some() && interface != packet;
    if forwarded {
        other
    } else {
        own
    }
}

/// A flow part's grouped columns.
struct FlowCells {
    src: Vec<Option<String>>,
    dst: Vec<Option<String>>,
    srcaddr: Vec<Option<String>>,
    dstaddr: Vec<Option<String>>,
    direction: Vec<Option<String>>,
}

impl FlowCells {
    fn read(c: &Columns) -> Self {
        let [srcaddr, dstaddr] = FLOW_INTERFACE_GROUPS.map(|name| c.text(name));
        FlowCells {
            src: c.text("src_ip"),
            dst: c.text("dst_ip"),
            srcaddr,
            dstaddr,
            direction: c.text("direction"),
        }
    }
}

/// `→ peer:port/PROTO ACTION` (the resource's side sent the packets) or `← peer:port/PROTO
/// ACTION` (it received them); the resource's side and the peer as [`resource_side`] tells.
fn flow_rows(resource: &Resource, c: &Columns) -> Vec<TimelineRow> {
    let cells = FlowCells::read(c);
    let port = c.text("dst_port");
    let (protocol, action, bytes) = (c.number("protocol"), c.text("action"), c.number("bytes"));
    let mut rows = base_rows(c, TimelineSource::Flows, "flows");
    for (i, row) in rows.iter_mut().enumerate() {
        let side = resource_side(resource, &cells, i);
        let (local, peer, arrow) = match side {
            Side::Src => (&cells.src[i], &cells.dst[i], "→"),
            Side::Dst => (&cells.dst[i], &cells.src[i], "←"),
        };
        let proto =
            Protocol::name(protocol[i]).map_or_else(|| protocol[i].to_string(), str::to_string);
        row.summary = format!(
            "{arrow} {}:{}/{proto} {}",
            peer.as_deref().unwrap_or("?"),
            port[i].as_deref().unwrap_or("?"),
            action[i].as_deref().unwrap_or("?"),
        );
        row.bytes = Some(bytes[i]);
        row.resource = local.clone();
        row.peer = peer.clone();
    }
    rows
}

/// `domain TYPE RCODE`.
fn dns_rows(c: &Columns) -> Vec<TimelineRow> {
    let (domain, kind, rcode) = (c.text("domain"), c.text("query_type"), c.text("rcode"));
    let asking = c.text("src_ip");
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
        row.resource = asking[i].clone();
    }
    rows
}

/// `service:Operation by principal Outcome`; the resource is the one asked for (the caller's
/// address, or the instance whose role session called).
fn trail_rows(resource: &Resource, c: &Columns) -> Vec<TimelineRow> {
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
        row.resource = Some(resource.text());
    }
    rows
}

/// `Severity Product type: title STATUS`: the compliance status of a control's finding, else
/// the finding's state (its workflow caption, or ARCHIVED).
fn finding_rows(c: &Columns) -> Vec<TimelineRow> {
    let (severity, product, kind) = (c.text("severity"), c.text("product"), c.text("type"));
    let (title, compliance, state) = (
        c.text(FINDING_TITLE),
        c.text(COMPLIANCE_STATUS),
        c.text(FINDING_STATE),
    );
    let (ids, resources) = (c.text(FINDING_ID), c.text("resource"));
    let mut rows = base_rows(c, TimelineSource::Findings, RECORDS);
    for (i, row) in rows.iter_mut().enumerate() {
        let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".to_string());
        let status = compliance[i]
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| state[i].clone());
        row.summary = format!(
            "{} {} {}: {} {}",
            text(&severity[i]),
            text(&product[i]),
            text(&kind[i]),
            text(&title[i]),
            text(&status),
        );
        row.resource = resources[i].clone();
        row.finding_id = ids[i].clone();
        row.severity = severity[i].clone();
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
        Field::new("resource", text(|r| r.resource.as_deref())),
        Field::new("finding_id", text(|r| r.finding_id.as_deref())),
        Field::new("severity", text(|r| r.severity.as_deref())),
    ];
    let mut frame = Frame::new(ref_id, fields);
    if let Some(field) = frame.fields.iter_mut().find(|f| f.name == "bytes") {
        field.config = Some(serde_json::json!({ "unit": "decbytes" }));
    }
    frame.meta.preferred_visualisation = Some("table");
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(rows: &[[&str; 5]]) -> FlowCells {
        let column = |k: usize| {
            rows.iter()
                .map(|r| Some(r[k]).filter(|v| !v.is_empty()).map(str::to_string))
                .collect()
        };
        FlowCells {
            src: column(0),
            dst: column(1),
            srcaddr: column(2),
            dstaddr: column(3),
            direction: column(4),
        }
    }

    /// Dashboards' data links name these columns: a rename breaks them.
    #[test]
    fn the_frame_keeps_its_column_names_in_order() {
        let frame = timeline_frame("A", &[]).unwrap();
        let names: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "time",
                "source",
                "summary",
                "count",
                "bytes",
                "account",
                "region",
                "peer",
                "domain",
                "principal",
                "resource",
                "finding_id",
                "severity"
            ]
        );
    }

    #[test]
    fn the_resource_side_is_the_host_inside_even_through_a_nat_gateway() {
        let vpc = Resource::parse("vpc-0a1b2c3d").unwrap();
        let c = cells(&[
            // A host's egress, and a scanner's probe of it.
            [
                "10.0.0.5",
                "52.216.8.21",
                "10.0.0.5",
                "52.216.8.21",
                "egress",
            ],
            [
                "45.155.205.17",
                "10.0.0.5",
                "45.155.205.17",
                "10.0.0.5",
                "ingress",
            ],
            // The NAT gateway's interface (10.0.1.12) receives the host's packet for the
            // internet, and hands it the answer.
            [
                "10.0.0.5",
                "52.216.8.21",
                "10.0.0.5",
                "10.0.1.12",
                "ingress",
            ],
            ["52.216.8.21", "10.0.0.5", "10.0.1.12", "10.0.0.5", "egress"],
            // No direction: the destination's side, as ingress.
            ["10.0.0.5", "10.0.0.6", "10.0.0.5", "10.0.0.6", ""],
        ]);
        let sides: Vec<Side> = (0..5).map(|i| resource_side(&vpc, &c, i)).collect();
        assert_eq!(
            sides,
            [Side::Src, Side::Dst, Side::Src, Side::Dst, Side::Dst]
        );
        let ip = Resource::parse("10.0.0.5").unwrap();
        assert_eq!(resource_side(&ip, &c, 3), Side::Dst);
        assert_eq!(resource_side(&ip, &c, 2), Side::Src);
    }
}
