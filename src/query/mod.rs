//! Typed panel queries, parsed from a tolerant JSON envelope.
//!
//! Unknown fields are ignored (dashboards carry editor state); a known field with a bad value fails
//! that query alone, with an error that names the field and the value and says what is accepted.

mod values;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub use values::{AccountId, FlowActionFilter, FlowDirectionFilter, Protocol, Region, ResourceId};

/// The time window of a panel: Grafana's time range plus its interval hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// Start of the range (inclusive), UTC.
    pub from: DateTime<Utc>,
    /// End of the range (inclusive), UTC.
    pub to: DateTime<Utc>,
    /// Grafana's suggested interval (`intervalMs`), 0 when unknown.
    pub interval_ms: i64,
    /// Grafana's `maxDataPoints`, 0 when unknown.
    pub max_data_points: i64,
}

impl TimeWindow {
    /// A window checked for `from <= to`.
    pub fn new(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        interval_ms: i64,
        max_data_points: i64,
    ) -> Result<Self, QueryError> {
        if from > to {
            return Err(QueryError::new(
                "timeRange",
                format!("{} .. {}", from.to_rfc3339(), to.to_rfc3339()),
                "the start is after the end; pick a range whose start comes first",
            ));
        }
        Ok(TimeWindow {
            from,
            to,
            interval_ms,
            max_data_points,
        })
    }
}

/// A query field that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query field `{field}` has the value {value}: {reason}")]
pub struct QueryError {
    /// The JSON path of the field, e.g. `group_by[1]` or `filters.accounts[0]`.
    pub field: String,
    /// The offending value as the user wrote it (JSON text).
    pub value: String,
    /// What is wrong and what is accepted.
    pub reason: String,
}

impl QueryError {
    /// A new error for `field` holding `value`.
    pub fn new(
        field: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        QueryError {
            field: field.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// What a flow metric adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// Sum of `traffic.bytes`.
    Bytes,
    /// Sum of `traffic.packets`.
    Packets,
    /// Number of flow records.
    Flows,
}

impl Measure {
    const NAMES: &'static str = "bytes, packets, flows";

    fn parse(text: &str) -> Option<Self> {
        match text {
            "bytes" => Some(Measure::Bytes),
            "packets" => Some(Measure::Packets),
            "flows" => Some(Measure::Flows),
            _ => None,
        }
    }

    /// The name used in JSON and as the value column name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Bytes => "bytes",
            Measure::Packets => "packets",
            Measure::Flows => "flows",
        }
    }

    /// The Grafana unit of the measure.
    pub fn unit(self) -> &'static str {
        match self {
            Measure::Bytes => "decbytes",
            Measure::Packets | Measure::Flows => "short",
        }
    }
}

/// A flow dimension a panel can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// AWS account id.
    Account,
    /// AWS region.
    Region,
    /// VPC id.
    Vpc,
    /// Subnet id.
    Subnet,
    /// Network interface (ENI) id.
    Eni,
    /// Source address.
    SrcIp,
    /// Destination address.
    DstIp,
    /// Destination port.
    DstPort,
    /// IANA protocol number.
    Protocol,
    /// ACCEPT / REJECT.
    Action,
    /// ingress / egress.
    Direction,
    /// Traffic path (OCSF boundary).
    Boundary,
}

impl Dimension {
    /// Every dimension, in documentation order.
    pub const ALL: [Dimension; 12] = [
        Dimension::Account,
        Dimension::Region,
        Dimension::Vpc,
        Dimension::Subnet,
        Dimension::Eni,
        Dimension::SrcIp,
        Dimension::DstIp,
        Dimension::DstPort,
        Dimension::Protocol,
        Dimension::Action,
        Dimension::Direction,
        Dimension::Boundary,
    ];

    /// The name used in JSON, in labels and as the result column alias.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Account => "account",
            Dimension::Region => "region",
            Dimension::Vpc => "vpc",
            Dimension::Subnet => "subnet",
            Dimension::Eni => "eni",
            Dimension::SrcIp => "src_ip",
            Dimension::DstIp => "dst_ip",
            Dimension::DstPort => "dst_port",
            Dimension::Protocol => "protocol",
            Dimension::Action => "action",
            Dimension::Direction => "direction",
            Dimension::Boundary => "boundary",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "interface" => Some(Dimension::Eni),
            other => Dimension::ALL.into_iter().find(|d| d.name() == other),
        }
    }

    fn names() -> String {
        Dimension::ALL.map(Dimension::name).join(", ")
    }
}

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
    /// Addresses on either side.
    pub ips: Vec<std::net::IpAddr>,
    /// Source addresses.
    pub src_ips: Vec<std::net::IpAddr>,
    /// Destination addresses.
    pub dst_ips: Vec<std::net::IpAddr>,
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
}

/// `flow_volume`: a measure over time, one series per group.
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

/// A panel query, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelQuery {
    /// Flow volume over time.
    FlowVolume(FlowVolume),
}

impl PanelQuery {
    /// The kind name used in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            PanelQuery::FlowVolume(_) => "flow_volume",
        }
    }

    /// Parses the raw query JSON bytes Grafana sends (tolerant of unknown fields).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, QueryError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            QueryError::new(
                "(query JSON)",
                snippet(&String::from_utf8_lossy(bytes)),
                format!("it is not valid JSON ({e}); send a JSON object such as {{\"kind\":\"flow_volume\",\"measure\":\"bytes\"}}"),
            )
        })?;
        Self::from_json(&value)
    }

    /// Parses a query JSON value.
    pub fn from_json(value: &Value) -> Result<Self, QueryError> {
        let obj = value.as_object().ok_or_else(|| {
            QueryError::new(
                "(query JSON)",
                snippet(&value.to_string()),
                "a query must be a JSON object",
            )
        })?;
        let kind = match obj.get("kind") {
            None | Some(Value::Null) => "flow_volume",
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(QueryError::new(
                    "kind",
                    snippet(&other.to_string()),
                    "expected a string; supported kinds: flow_volume",
                ))
            }
        };
        match kind {
            "flow_volume" => Ok(PanelQuery::FlowVolume(parse_flow_volume(obj)?)),
            other => Err(QueryError::new(
                "kind",
                quoted(other),
                "unknown query kind; supported kinds: flow_volume",
            )),
        }
    }
}

fn parse_flow_volume(obj: &Map<String, Value>) -> Result<FlowVolume, QueryError> {
    let measure = match obj.get("measure") {
        None | Some(Value::Null) => Measure::Bytes,
        Some(Value::String(s)) => Measure::parse(s).ok_or_else(|| {
            QueryError::new(
                "measure",
                quoted(s),
                format!("unknown measure; expected one of {}", Measure::NAMES),
            )
        })?,
        Some(other) => {
            return Err(QueryError::new(
                "measure",
                snippet(&other.to_string()),
                format!("expected a string, one of {}", Measure::NAMES),
            ))
        }
    };
    let mut group_by = Vec::new();
    for (i, item) in string_list(obj.get("group_by"), "group_by")?
        .into_iter()
        .enumerate()
    {
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
    let limit = match obj.get("limit") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) if (1..=10_000).contains(&v) => Some(v as u32),
            _ => {
                return Err(QueryError::new(
                    "limit",
                    n.to_string(),
                    "expected a whole number from 1 to 10000",
                ))
            }
        },
        Some(other) => {
            return Err(QueryError::new(
                "limit",
                snippet(&other.to_string()),
                "expected a whole number from 1 to 10000",
            ))
        }
    };
    let filters = match obj.get("filters") {
        None | Some(Value::Null) => FlowFilters::default(),
        Some(Value::Object(f)) => parse_filters(f)?,
        Some(other) => {
            return Err(QueryError::new(
                "filters",
                snippet(&other.to_string()),
                "expected an object such as {\"accounts\":[\"111122223333\"]}",
            ))
        }
    };
    Ok(FlowVolume {
        measure,
        group_by,
        filters,
        limit,
    })
}

fn parse_filters(f: &Map<String, Value>) -> Result<FlowFilters, QueryError> {
    fn each<T>(
        f: &Map<String, Value>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, QueryError> {
        let field = format!("filters.{key}");
        string_list(f.get(key), &field)?
            .iter()
            .enumerate()
            .map(|(i, text)| {
                parse(text).map_err(|reason| {
                    QueryError::new(format!("{field}[{i}]"), quoted(text), reason)
                })
            })
            .collect()
    }
    fn one<T>(
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
    Ok(FlowFilters {
        accounts: each(f, "accounts", AccountId::parse)?,
        regions: each(f, "regions", Region::parse)?,
        vpcs: each(f, "vpcs", |s| ResourceId::parse(s, "vpc"))?,
        subnets: each(f, "subnets", |s| ResourceId::parse(s, "subnet"))?,
        enis: each(f, "enis", |s| ResourceId::parse(s, "eni"))?,
        ips: each(f, "ip", values::parse_ip)?,
        src_ips: each(f, "src_ip", values::parse_ip)?,
        dst_ips: each(f, "dst_ip", values::parse_ip)?,
        dst_ports: each(f, "dst_ports", values::parse_port)?,
        protocols: each(f, "protocols", Protocol::parse)?,
        action: one(f, "action", FlowActionFilter::parse)?,
        direction: one(f, "direction", FlowDirectionFilter::parse)?,
        boundaries: each(f, "boundary", values::parse_boundary)?,
    })
}

/// A field that may hold one value or a list of values (Grafana multi-value variables give lists);
/// numbers are accepted as their decimal text. `"$__all"`/`"All"` entries mean "no restriction".
fn string_list(value: Option<&Value>, field: &str) -> Result<Vec<String>, QueryError> {
    fn scalar(v: &Value, field: &str) -> Result<Option<String>, QueryError> {
        match v {
            Value::String(s) if s.trim().is_empty() || s == "$__all" || s == "All" => Ok(None),
            Value::String(s) => Ok(Some(s.trim().to_string())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Null => Ok(None),
            other => Err(QueryError::new(
                field,
                snippet(&other.to_string()),
                "expected a string, a number or a list of them",
            )),
        }
    }
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if let Some(s) = scalar(item, &format!("{field}[{i}]"))? {
                    out.push(s);
                }
            }
            Ok(out)
        }
        Some(v) => Ok(scalar(v, field)?.into_iter().collect()),
    }
}

/// A JSON string literal of `text` for error messages.
fn quoted(text: &str) -> String {
    snippet(&Value::String(text.to_string()).to_string())
}

/// At most 80 characters of `text`, for error messages.
fn snippet(text: &str) -> String {
    if text.chars().count() <= 80 {
        text.to_string()
    } else {
        let head: String = text.chars().take(77).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        PanelQuery::from_json(&v).unwrap_err().to_string()
    }

    #[test]
    fn parses_a_full_flow_volume_query_and_ignores_unknown_fields() {
        let q = PanelQuery::from_json(&json!({
            "kind": "flow_volume", "measure": "packets", "group_by": ["account", "interface", "account"],
            "filters": {"accounts": ["111122223333"], "regions": "us-east-1", "dst_ports": [443, "80"],
                        "protocols": ["tcp", 17], "action": "reject", "direction": "egress"},
            "limit": 5, "refId": "A", "datasource": {"uid": "x"}, "editorMode": "builder"
        }))
        .unwrap();
        let PanelQuery::FlowVolume(fv) = q;
        assert_eq!(fv.measure, Measure::Packets);
        assert_eq!(fv.group_by, vec![Dimension::Account, Dimension::Eni]);
        assert_eq!(fv.limit, Some(5));
        assert_eq!(fv.filters.dst_ports, vec![443, 80]);
        assert_eq!(fv.filters.protocols, vec![Protocol(6), Protocol(17)]);
        assert_eq!(fv.filters.action, Some(FlowActionFilter::Reject));
        assert_eq!(fv.filters.regions.len(), 1);
    }

    #[test]
    fn errors_name_the_field_and_the_value() {
        assert_eq!(
            err(json!({"kind": "flow_volumes"})),
            "query field `kind` has the value \"flow_volumes\": unknown query kind; supported kinds: flow_volume"
        );
        assert_eq!(
            err(json!({"kind": "flow_volume", "group_by": ["account", "colour"]})),
            "query field `group_by[1]` has the value \"colour\": unknown dimension; expected one of account, region, vpc, subnet, eni, src_ip, dst_ip, dst_port, protocol, action, direction, boundary"
        );
        assert_eq!(
            err(json!({"measure": "octets"})),
            "query field `measure` has the value \"octets\": unknown measure; expected one of bytes, packets, flows"
        );
        assert_eq!(
            err(json!({"filters": {"accounts": ["1234"]}})),
            "query field `filters.accounts[0]` has the value \"1234\": an AWS account id is 12 digits, e.g. 111122223333"
        );
        assert_eq!(
            err(json!({"limit": "ten"})),
            "query field `limit` has the value \"ten\": expected a whole number from 1 to 10000"
        );
    }

    #[test]
    fn malformed_json_is_a_query_error() {
        let e = PanelQuery::from_json_bytes(b"{\"kind\": ").unwrap_err();
        assert_eq!(e.field, "(query JSON)");
        assert!(e.reason.starts_with("it is not valid JSON"), "{e}");
    }

    #[test]
    fn all_means_no_restriction() {
        let q =
            PanelQuery::from_json(&json!({"filters": {"accounts": ["$__all"], "regions": "All"}}))
                .unwrap();
        let PanelQuery::FlowVolume(fv) = q;
        assert!(fv.filters.accounts.is_empty() && fv.filters.regions.is_empty());
    }

    #[test]
    fn time_window_rejects_a_reversed_range() {
        let to = DateTime::parse_from_rfc3339("2024-06-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let from = DateTime::parse_from_rfc3339("2024-06-02T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            TimeWindow::new(from, to, 0, 0).unwrap_err().to_string(),
            "query field `timeRange` has the value 2024-06-02T00:00:00+00:00 .. 2024-06-01T00:00:00+00:00: the start is after the end; pick a range whose start comes first"
        );
    }
}
