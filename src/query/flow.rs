//! The VPC-flow query kinds: volume over time, top-N tables, rejected traffic, port scans,
//! internet egress and flow search, with the filters they share.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::values::{self, AccountId, FlowActionFilter, FlowDirectionFilter, Protocol, Region};
use super::{quoted, snippet, string_list, Dimension, Measure, QueryError, ResourceId};
use crate::net::Cidr;

/// Filters shared by the flow query kinds. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowFilters {
    /// Accounts to include.
    pub accounts: Vec<AccountId>,
    /// Regions to include.
    pub regions: Vec<Region>,
    /// VPC ids to include.
    pub vpcs: Vec<ResourceId>,
    /// Subnet ids to include.
    pub subnets: Vec<ResourceId>,
    /// ENI ids to include.
    pub enis: Vec<ResourceId>,
    /// Addresses or CIDR blocks on either side.
    pub ips: Vec<Cidr>,
    /// Source addresses or blocks.
    pub src_ips: Vec<Cidr>,
    /// Destination addresses or blocks.
    pub dst_ips: Vec<Cidr>,
    /// Addresses or blocks on neither side.
    pub exclude_ips: Vec<Cidr>,
    /// Ports on either side.
    pub ports: Vec<u16>,
    /// Source ports.
    pub src_ports: Vec<u16>,
    /// Destination ports.
    pub dst_ports: Vec<u16>,
    /// Protocols.
    pub protocols: Vec<Protocol>,
    /// ACCEPT or REJECT.
    pub action: Option<FlowActionFilter>,
    /// ingress or egress.
    pub direction: Option<FlowDirectionFilter>,
    /// Traffic-path boundary ids.
    pub boundaries: Vec<i32>,
    /// AWS services of the source address (`pkt-src-aws-service`).
    pub src_aws_services: Vec<String>,
    /// AWS services of the destination address (`pkt-dst-aws-service`).
    pub dst_aws_services: Vec<String>,
}

/// `flow_volume` (and `rejected` over time): a measure over time, one series per group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowVolume {
    /// What to add up.
    pub measure: Measure,
    /// Dimensions that split the series (none: one series).
    pub group_by: Vec<Dimension>,
    /// Which flows count.
    pub filters: FlowFilters,
    /// Keep the top `limit` series by total and fold the rest into `other`.
    pub limit: Option<u32>,
}

/// Which side's address a `top_talkers` table ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalkerSide {
    /// Source addresses.
    Src,
    /// Destination addresses.
    Dst,
    /// Every address on either side of a flow (a flow counts for both of its ends).
    Either,
}

/// What a top-N table groups by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopKeys {
    /// Group by these dimensions.
    Dimensions(Vec<Dimension>),
    /// Group by the address on either side of each flow (column `ip`).
    EitherIp,
}

/// A top-N table: the groups with the largest measure, bytes/packets/flows for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopQuery {
    /// What the table groups by.
    pub keys: TopKeys,
    /// What it ranks by.
    pub measure: Measure,
    /// Which flows count.
    pub filters: FlowFilters,
    /// How many rows to keep.
    pub limit: u32,
    /// Only flows whose peer on one side is an internet address, when set.
    pub internet: Option<InternetPeer>,
    /// How the ranking is shown.
    pub format: TopFormat,
    /// Only groups first seen in the range: absent from this many whole UTC days before the
    /// range's first day and from that day's hours before the range start.
    pub baseline_days: Option<u32>,
}

/// Flows whose peer on `side` is on the internet: a public address outside the user's `own`
/// blocks (NULL and `-` never are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetPeer {
    /// Which end of the flow is the internet peer.
    pub side: PeerSide,
    /// Blocks that are the user's own, never internet.
    pub own: Vec<Cidr>,
}

/// One end of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerSide {
    /// The source address.
    Source,
    /// The destination address.
    Destination,
}

/// How a ranking is shown: a table, or (conversations) Grafana's node graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TopFormat {
    /// One row per group.
    #[default]
    Table,
    /// Nodes (addresses) and edges (conversations).
    NodeGraph,
    /// One series per row at the end of the range, labelled by its keys (alert rules).
    Series,
}

/// What a port scan counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanTarget {
    /// Distinct destination ports.
    Ports,
    /// Distinct destination hosts.
    Hosts,
}

/// `port_scan`: sources that touched more than `threshold` distinct ports (or hosts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortScan {
    /// What is counted.
    pub target: ScanTarget,
    /// A source is reported when its distinct count is above this.
    pub threshold: u32,
    /// Count within windows of this many minutes (none: the whole time range).
    pub window_minutes: Option<u32>,
    /// Which flows count.
    pub filters: FlowFilters,
    /// Most rows.
    pub limit: u32,
}

/// `flow_search`: matching flow records, newest first, every field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSearch {
    /// Which flows match.
    pub filters: FlowFilters,
    /// Most records returned (the total count is reported beside them).
    pub limit: u32,
    /// A table, or log lines for Explore.
    pub format: SearchFormat,
}

/// How a flow search is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchFormat {
    /// One row per record, every flow-log field.
    Table,
    /// One log line per record (Explore's logs view).
    Logs,
}

/// How a coverage result is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageFormat {
    /// One row per group: last record time and minutes since.
    Table,
    /// One wide frame, a number field (minutes since the last record) per group with labels:
    /// what Grafana alert rules threshold.
    Series,
}

/// `coverage` / `freshness`: when each account × region (× VPC) last sent flow records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Groups: account, region and (coverage) VPC, or any dimensions the user picks.
    pub group_by: Vec<Dimension>,
    /// Keep only groups silent for more than this many minutes.
    pub silent_for_minutes: Option<u32>,
    /// Look back this many days (default: the `lookbackDays` setting).
    pub lookback_days: Option<u32>,
    /// Which flows count.
    pub filters: FlowFilters,
    /// Table or alertable series.
    pub format: CoverageFormat,
}

/// The `format` field of `coverage` and `freshness`.
pub(super) fn parse_coverage_format(
    obj: &Map<String, Value>,
    default: CoverageFormat,
) -> Result<CoverageFormat, QueryError> {
    match string_list(obj.get("format"), "format")?.as_slice() {
        [] => Ok(default),
        [one] if one == "table" => Ok(CoverageFormat::Table),
        [one] if one == "series" || one == "time_series" || one == "timeseries" => {
            Ok(CoverageFormat::Series)
        }
        [one] => Err(QueryError::new(
            "format",
            quoted(one),
            "expected table or series",
        )),
        many => Err(QueryError::new(
            "format",
            format!("{many:?}"),
            "expected a single value: table or series",
        )),
    }
}

/// Which address blocks the `internet_egress` kind treats as the user's own (never internet).
pub(super) fn parse_own_cidrs(obj: &Map<String, Value>) -> Result<Vec<Cidr>, QueryError> {
    each(obj, "own_cidrs", "own_cidrs", parse_cidr)
}

pub(super) fn parse_measure(
    obj: &Map<String, Value>,
    default: Measure,
) -> Result<Measure, QueryError> {
    match obj.get("measure") {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) if s.is_empty() => Ok(default),
        Some(Value::String(s)) => Measure::parse(s).ok_or_else(|| {
            QueryError::new(
                "measure",
                quoted(s),
                format!("unknown measure; expected one of {}", Measure::NAMES),
            )
        }),
        Some(other) => Err(QueryError::new(
            "measure",
            snippet(&other.to_string()),
            format!("expected a string, one of {}", Measure::NAMES),
        )),
    }
}

pub(super) fn parse_group_by(
    obj: &Map<String, Value>,
    default: &[Dimension],
) -> Result<Vec<Dimension>, QueryError> {
    let items = string_list(obj.get("group_by"), "group_by")?;
    if items.is_empty() && obj.get("group_by").is_none() {
        return Ok(default.to_vec());
    }
    let mut group_by = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let dim = Dimension::parse(&item).ok_or_else(|| {
            QueryError::new(
                format!("group_by[{i}]"),
                quoted(&item),
                format!("unknown dimension; expected one of {}", Dimension::names()),
            )
        })?;
        if !group_by.contains(&dim) {
            group_by.push(dim);
        }
    }
    Ok(group_by)
}

pub(super) fn parse_filters_field(obj: &Map<String, Value>) -> Result<FlowFilters, QueryError> {
    match obj.get("filters") {
        None | Some(Value::Null) => Ok(FlowFilters::default()),
        Some(Value::Object(f)) => parse_filters(f),
        Some(other) => Err(QueryError::new(
            "filters",
            snippet(&other.to_string()),
            "expected an object such as {\"accounts\":[\"111122223333\"]}",
        )),
    }
}

pub(super) fn each<T>(
    f: &Map<String, Value>,
    key: &str,
    field: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, QueryError> {
    string_list(f.get(key), field)?
        .iter()
        .enumerate()
        .map(|(i, text)| {
            parse(text)
                .map_err(|reason| QueryError::new(format!("{field}[{i}]"), quoted(text), reason))
        })
        .collect()
}

pub(super) fn one<T>(
    f: &Map<String, Value>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, QueryError> {
    let field = format!("filters.{key}");
    let list = string_list(f.get(key), &field)?;
    match list.as_slice() {
        [] => Ok(None),
        [one] => parse(one)
            .map(Some)
            .map_err(|reason| QueryError::new(field, quoted(one), reason)),
        _ => Err(QueryError::new(
            field,
            format!("{list:?}"),
            "expected a single value",
        )),
    }
}

/// An address or a CIDR block.
pub(super) fn parse_cidr(text: &str) -> Result<Cidr, String> {
    Cidr::parse(text).map_err(|e| e.to_string())
}

fn parse_filters(f: &Map<String, Value>) -> Result<FlowFilters, QueryError> {
    let list = |key: &str| format!("filters.{key}");
    // `ip`/`ips` and friends: both spellings are accepted, singular first.
    let cidrs = |keys: [&str; 2]| -> Result<Vec<Cidr>, QueryError> {
        let mut out = each(f, keys[0], &list(keys[0]), parse_cidr)?;
        out.extend(each(f, keys[1], &list(keys[1]), parse_cidr)?);
        Ok(out)
    };
    Ok(FlowFilters {
        accounts: each(f, "accounts", &list("accounts"), AccountId::parse)?,
        regions: each(f, "regions", &list("regions"), Region::parse)?,
        vpcs: each(f, "vpcs", &list("vpcs"), |s| ResourceId::parse(s, "vpc"))?,
        subnets: each(f, "subnets", &list("subnets"), |s| {
            ResourceId::parse(s, "subnet")
        })?,
        enis: each(f, "enis", &list("enis"), |s| ResourceId::parse(s, "eni"))?,
        ips: cidrs(["ip", "ips"])?,
        src_ips: cidrs(["src_ip", "src_ips"])?,
        dst_ips: cidrs(["dst_ip", "dst_ips"])?,
        exclude_ips: cidrs(["exclude_ip", "exclude_ips"])?,
        ports: each(f, "ports", &list("ports"), values::parse_port)?,
        src_ports: each(f, "src_ports", &list("src_ports"), values::parse_port)?,
        dst_ports: each(f, "dst_ports", &list("dst_ports"), values::parse_port)?,
        protocols: {
            let mut all = each(f, "protocols", &list("protocols"), Protocol::parse)?;
            all.extend(each(f, "protocol", &list("protocol"), Protocol::parse)?);
            all
        },
        action: one(f, "action", FlowActionFilter::parse)?,
        direction: one(f, "direction", FlowDirectionFilter::parse)?,
        boundaries: each(f, "boundary", &list("boundary"), values::parse_boundary)?,
        src_aws_services: each(
            f,
            "src_aws_service",
            &list("src_aws_service"),
            values::parse_aws_service,
        )?,
        dst_aws_services: each(
            f,
            "dst_aws_service",
            &list("dst_aws_service"),
            values::parse_aws_service,
        )?,
    })
}

/// The `by` field of `top_talkers`.
pub(super) fn parse_talker_side(obj: &Map<String, Value>) -> Result<TalkerSide, QueryError> {
    match string_list(obj.get("by"), "by")?.as_slice() {
        [] => Ok(TalkerSide::Src),
        [one] => match one.as_str() {
            "src_ip" | "src" | "source" => Ok(TalkerSide::Src),
            "dst_ip" | "dst" | "destination" => Ok(TalkerSide::Dst),
            "either" | "any" => Ok(TalkerSide::Either),
            other => Err(QueryError::new(
                "by",
                quoted(other),
                "expected src_ip, dst_ip or either",
            )),
        },
        many => Err(QueryError::new(
            "by",
            format!("{many:?}"),
            "expected a single value: src_ip, dst_ip or either",
        )),
    }
}

/// The `scan_by` field of `port_scan`.
pub(super) fn parse_scan_target(obj: &Map<String, Value>) -> Result<ScanTarget, QueryError> {
    match string_list(obj.get("scan_by"), "scan_by")?.as_slice() {
        [] => Ok(ScanTarget::Ports),
        [one] if one == "ports" || one == "dst_port" => Ok(ScanTarget::Ports),
        [one] if one == "hosts" || one == "dst_ip" => Ok(ScanTarget::Hosts),
        [one] => Err(QueryError::new(
            "scan_by",
            quoted(one),
            "expected ports or hosts",
        )),
        many => Err(QueryError::new(
            "scan_by",
            format!("{many:?}"),
            "expected a single value: ports or hosts",
        )),
    }
}

/// The filter names Lakewatch reads.
pub(super) const KNOWN_FILTERS: [&str; 23] = [
    "accounts",
    "regions",
    "vpcs",
    "subnets",
    "enis",
    "ip",
    "ips",
    "src_ip",
    "src_ips",
    "dst_ip",
    "dst_ips",
    "exclude_ip",
    "exclude_ips",
    "ports",
    "src_ports",
    "dst_ports",
    "protocols",
    "protocol",
    "action",
    "direction",
    "boundary",
    "src_aws_service",
    "dst_aws_service",
];

/// Whether any address filter would match this address (test helper for brute-force checks).
pub fn any_contains(blocks: &[Cidr], ip: IpAddr) -> bool {
    blocks.iter().any(|b| b.contains(ip))
}
