//! Typed panel queries, parsed from a tolerant JSON envelope.
//!
//! Unknown fields are ignored (dashboards carry editor state); a known field with a bad value fails
//! that query alone, with an error that names the field and the value and says what is accepted.

mod annotations;
mod baseline;
mod cloudtrail;
mod compliance;
mod data_events;
mod dns;
mod findings;
mod flow;
pub mod kinds;
mod raw_sql;
mod timeline;
mod values;
mod waf;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::lake::source::VPC_FLOW;
use crate::lenient::{self, Items, Problem};

pub use annotations::{
    Annotations, FlowSilence, NewFindings, StatusChanges, ANNOTATION_EVENTS, DEFAULT_SILENT_MINUTES,
};
pub use baseline::{
    AnomalyFormat, AnomalyKeys, Beaconing, EgressAnomaly, BASELINE_DAYS, DEFAULT_BASELINE_DAYS,
};
pub use cloudtrail::{
    ApiActivity, AuthEvents, IamChanges, Outcome, TopPrincipals, TrailDimension, TrailFilters,
    TrailFormat, TrailMeasure, TrailQuery, DENIED_CODES, IAM_CHANGES, TRAIL_FILTERS,
};
pub use compliance::{
    ComplianceDimension, ComplianceMeasure, ComplianceOverTime, ComplianceScope, ComplianceState,
    ComplianceStatus, ControlId, StatusView, DEFAULT_CONTROL,
};
pub use data_events::{
    table_groups, Access, DataDimension, DataEventsQuery, DataFilters, DataFormat, DataMeasure,
    DataSource, LAMBDA_FILTERS, S3_FILTERS, TABLE_LIMIT,
};
pub use dns::{
    DnsDimension, DnsFilters, DnsMeasure, DnsQueries, DnsQuery, DnsTunneling, DomainRanking,
    DNS_FILTERS, MIN_LABEL_LENGTH, MIN_SUBDOMAINS,
};
pub use findings::{
    severity_names, ActiveFindings, FindingCounts, FindingDimension, FindingFilters, FindingsQuery,
    Severity, FINDING_FILTERS,
};
pub use flow::{
    any_contains, Coverage, CoverageFormat, FlowFilters, FlowSearch, FlowVolume, InternetPeer,
    PeerSide, PortScan, ScanTarget, SearchFormat, TalkerSide, TopFormat, TopKeys, TopQuery,
};
pub use raw_sql::{
    is_variable_name, parse_value, RawSql, SqlFormat, Variable, VariableType, VariableValue,
    VariableValues, MAX_SQL_CHARS,
};
pub use timeline::{Resource, ResourceTimeline, TimelinePart, TimelineSource, TIMELINE_FILTERS};
pub use values::{AccountId, FlowActionFilter, FlowDirectionFilter, Protocol, Region, ResourceId};
pub use waf::{
    WafDimension, WafFilters, WafMeasure, WafQuery, WafRanking, WafRequests, WAF_FILTERS,
};

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
        // Every echo is cut: a value or list of megabytes must not become a message (or log
        // line) of megabytes.
        QueryError {
            field: cut(&field.into(), 120),
            value: snippet(&value.into()),
            reason: cut(&reason.into(), 600),
        }
    }
}

impl From<Problem> for QueryError {
    /// The lenient readers' problem, cut like every echo.
    fn from(p: Problem) -> Self {
        QueryError::new(p.key, p.value, p.reason)
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
    pub(crate) const NAMES: &'static str = "bytes, packets, flows";

    /// Every flow measure, in the order the flow source describes them.
    pub const ALL: [Measure; 3] = [Measure::Bytes, Measure::Packets, Measure::Flows];

    fn parse(text: &str) -> Option<Self> {
        Measure::ALL.into_iter().find(|m| m.name() == text)
    }

    /// The name used in JSON and as the value column name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Bytes => "bytes",
            Measure::Packets => "packets",
            Measure::Flows => "flows",
        }
    }

    /// The Grafana unit of the measure, as the flow source describes it.
    pub fn unit(self) -> &'static str {
        VPC_FLOW
            .measure(self.name())
            .expect("every flow measure is described")
            .unit
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
    /// AWS service of the source address (`pkt-src-aws-service`).
    SrcAwsService,
    /// AWS service of the destination address (`pkt-dst-aws-service`).
    DstAwsService,
}

impl Dimension {
    /// Every dimension, in documentation order.
    pub const ALL: [Dimension; 14] = [
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
        Dimension::SrcAwsService,
        Dimension::DstAwsService,
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
            Dimension::SrcAwsService => "src_aws_service",
            Dimension::DstAwsService => "dst_aws_service",
        }
    }

    /// The dimension a query names (a name or an alias the flow source gives it).
    fn parse(text: &str) -> Option<Self> {
        let spec = VPC_FLOW.dimension(text)?;
        Dimension::ALL.into_iter().find(|d| d.name() == spec.name)
    }

    fn names() -> String {
        Dimension::ALL.map(Dimension::name).join(", ")
    }
}

/// Any query Lakewatch answers: a planned panel query, or the user's own SQL (`kind: "sql"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyQuery {
    /// A query kind Lakewatch plans itself.
    Panel(Box<PanelQuery>),
    /// The user's SQL with macros and template variables.
    Sql(RawSql),
    /// `resource_timeline`: one planned part per source, merged.
    Timeline(ResourceTimeline),
}

impl AnyQuery {
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

    /// Parses a query JSON value: its `kind` (`flow_volume` when absent) picks the parser from
    /// the registry ([`kinds::KINDS`]).
    pub fn from_json(value: &Value) -> Result<Self, QueryError> {
        let obj = value.as_object().ok_or_else(|| {
            QueryError::new(
                "(query JSON)",
                snippet(&value.to_string()),
                "a query must be a JSON object",
            )
        })?;
        let name = match obj.get("kind") {
            None | Some(Value::Null) => "flow_volume",
            Some(Value::String(s)) if s.is_empty() => "flow_volume",
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(QueryError::new(
                    "kind",
                    snippet(&other.to_string()),
                    format!("expected a string; supported kinds: {}", kinds::names()),
                ))
            }
        };
        let kind = kinds::find(name).ok_or_else(|| unknown_kind(name))?;
        kind.parse(&kinds::Envelope::new(obj))
    }
}

/// The error for a kind no registry entry has.
fn unknown_kind(name: &str) -> QueryError {
    QueryError::new(
        "kind",
        quoted(name),
        format!("unknown query kind; supported kinds: {}", kinds::names()),
    )
}

/// A panel query, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelQuery {
    /// A measure over time (`flow_volume`; `rejected` over time).
    Series {
        /// The kind name as written.
        kind: &'static str,
        /// The query.
        query: FlowVolume,
    },
    /// A top-N table (`top_talkers`, `top_pairs`, `top_ports`, `top_interfaces`,
    /// `rejected` with `view: top_sources`, `internet_egress`).
    Top {
        /// The kind name as written.
        kind: &'static str,
        /// The query.
        query: TopQuery,
    },
    /// `port_scan`.
    PortScan(PortScan),
    /// `egress_anomaly`.
    EgressAnomaly(EgressAnomaly),
    /// `beaconing`.
    Beaconing(Beaconing),
    /// `flow_search`.
    FlowSearch(FlowSearch),
    /// `coverage` and `freshness`: when flow records last arrived.
    Coverage {
        /// The kind name as written.
        kind: &'static str,
        /// The query.
        query: Coverage,
    },
    /// `compliance_status`: the latest state of each resource for a control.
    ComplianceStatus(ComplianceStatus),
    /// `compliance_over_time`: pass rate and failing resources over time.
    ComplianceOverTime(ComplianceOverTime),
    /// `variable`: the values of one dimension seen in the time range (template variables).
    Variable(VariableQuery),
    /// `annotations`: compliance status changes or flow-log silences, as Grafana annotations.
    Annotations(Annotations),
    /// The CloudTrail kinds (`api_activity`, `top_principals`, `auth_events`, `access_denied`,
    /// `iam_changes`).
    Trail(TrailQuery),
    /// The Route 53 kinds (`dns_queries`, `top_domains`, `nxdomain`, `new_domains`,
    /// `dns_tunneling`).
    Dns(DnsQuery),
    /// The kinds over every Security Hub finding (`findings`, `active_findings`).
    Findings(FindingsQuery),
    /// The AWS WAF kinds (`waf_requests`, `top_blocked`, `rate_limited`).
    Waf(WafQuery),
    /// The CloudTrail data-event kinds (`s3_data_access`, `lambda_invocations`).
    DataEvents(DataEventsQuery),
    /// One source's part of a `resource_timeline`.
    Timeline(TimelinePart),
}

/// What a `variable` query lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableTarget {
    /// A flow dimension (account, region, vpc, subnet, eni) from the flow records.
    Flow(Dimension),
    /// Security Hub control ids from the findings.
    Controls,
    /// A CloudTrail dimension (principal, identity type, service, operation) from the
    /// management events.
    Trail(TrailDimension),
    /// A Route 53 dimension (domain, record type, response code) from the resolver queries.
    Dns(DnsDimension),
    /// A finding dimension (product, type, severity) from every finding.
    Finding(FindingDimension),
    /// A WAF dimension (web ACL, rule, action, country) from the web ACL logs.
    Waf(WafDimension),
    /// A data-event dimension (bucket, function) from the CloudTrail data events.
    Data(DataSource, DataDimension),
}

impl VariableTarget {
    const NAMES: &'static str = "accounts, regions, vpcs, subnets, enis, controls, principals, principal_types, services, operations, domains, query_types, rcodes, products, finding_types, severities, web_acls, rules, actions, countries, buckets, functions";

    fn parse(text: &str) -> Option<Self> {
        Some(match text.strip_suffix('s').unwrap_or(text) {
            "principal" => VariableTarget::Trail(TrailDimension::Principal),
            "principal_type" => VariableTarget::Trail(TrailDimension::PrincipalType),
            "service" => VariableTarget::Trail(TrailDimension::Service),
            "operation" => VariableTarget::Trail(TrailDimension::Operation),
            "domain" => VariableTarget::Dns(DnsDimension::Domain),
            "query_type" => VariableTarget::Dns(DnsDimension::QueryType),
            "rcode" => VariableTarget::Dns(DnsDimension::Rcode),
            "web_acl" => VariableTarget::Waf(WafDimension::WebAcl),
            "rule" => VariableTarget::Waf(WafDimension::Rule),
            "action" => VariableTarget::Waf(WafDimension::Action),
            "countrie" | "country" => VariableTarget::Waf(WafDimension::Country),
            "bucket" => VariableTarget::Data(DataSource::S3, DataDimension::Bucket),
            "function" => VariableTarget::Data(DataSource::Lambda, DataDimension::Function),
            "account" => VariableTarget::Flow(Dimension::Account),
            "region" => VariableTarget::Flow(Dimension::Region),
            "vpc" => VariableTarget::Flow(Dimension::Vpc),
            "subnet" => VariableTarget::Flow(Dimension::Subnet),
            "eni" | "interface" => VariableTarget::Flow(Dimension::Eni),
            "control" => VariableTarget::Controls,
            "product" => VariableTarget::Finding(FindingDimension::Product),
            "finding_type" => VariableTarget::Finding(FindingDimension::Type),
            "severity" | "severitie" => VariableTarget::Finding(FindingDimension::Severity),
            _ => return None,
        })
    }
}

/// A `variable` query: distinct values seen in the panel's time range, each with its record count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableQuery {
    /// What to list.
    pub target: VariableTarget,
    /// Narrowing (accounts and regions prune partitions; flow filters apply to flow targets).
    pub filters: FlowFilters,
    /// Most values listed.
    pub limit: u32,
}

impl PanelQuery {
    /// The kind name used in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            PanelQuery::Series { kind, .. }
            | PanelQuery::Top { kind, .. }
            | PanelQuery::Coverage { kind, .. } => kind,
            PanelQuery::PortScan(_) => "port_scan",
            PanelQuery::EgressAnomaly(_) => "egress_anomaly",
            PanelQuery::Beaconing(_) => "beaconing",
            PanelQuery::FlowSearch(_) => "flow_search",
            PanelQuery::ComplianceStatus(_) => "compliance_status",
            PanelQuery::ComplianceOverTime(_) => "compliance_over_time",
            PanelQuery::Variable(_) => "variable",
            PanelQuery::Annotations(_) => "annotations",
            PanelQuery::Trail(q) => q.kind(),
            PanelQuery::Dns(q) => q.kind(),
            PanelQuery::Findings(q) => q.kind(),
            PanelQuery::Waf(q) => q.kind(),
            PanelQuery::DataEvents(q) => q.kind(),
            PanelQuery::Timeline(_) => "resource_timeline",
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

    /// Parses a query JSON value of a planned kind (not `sql`).
    pub fn from_json(value: &Value) -> Result<Self, QueryError> {
        match AnyQuery::from_json(value)? {
            AnyQuery::Panel(panel) => Ok(*panel),
            AnyQuery::Sql(_) => Err(unknown_kind("sql")),
            AnyQuery::Timeline(_) => Err(unknown_kind("resource_timeline")),
        }
    }
}

/// Fields of a query JSON that no kind reads (typos such as `mesure` or `filters.acounts`):
/// they are ignored, and the panel says so.
pub fn unknown_fields(value: &Value) -> Vec<String> {
    let Some(obj) = value.as_object() else {
        return Vec::new();
    };
    let known = known_fields();
    let mut out: Vec<String> = obj
        .keys()
        .filter(|k| !known.contains(k.as_str()))
        .cloned()
        .collect();
    if let Some(Value::Object(f)) = obj.get("filters") {
        let known = |k: &str| {
            flow::KNOWN_FILTERS.contains(&k)
                || cloudtrail::TRAIL_FILTERS.contains(&k)
                || cloudtrail::TRAIL_FILTER_ALIASES.contains(&k)
                || dns::DNS_FILTERS.contains(&k)
                || dns::DNS_FILTER_ALIASES.contains(&k)
                || findings::FINDING_FILTERS.contains(&k)
                || findings::FINDING_FILTER_ALIASES.contains(&k)
                || waf::WAF_FILTERS.contains(&k)
                || waf::WAF_FILTER_ALIASES.contains(&k)
                || data_events::S3_FILTERS.contains(&k)
                || data_events::LAMBDA_FILTERS.contains(&k)
                || data_events::DATA_FILTER_ALIASES.contains(&k)
        };
        out.extend(
            f.keys()
                .filter(|k| !known(k))
                .map(|k| format!("filters.{k}")),
        );
    }
    out
}

/// The fields Grafana adds to every query, and the envelope's own.
const ENVELOPE_FIELDS: [&str; 19] = [
    "kind",
    "filters",
    "refId",
    "datasource",
    "datasourceId",
    "hide",
    "key",
    "queryType",
    "intervalMs",
    "maxDataPoints",
    "editorMode",
    "interval",
    "intervalFactor",
    "legendFormat",
    "alias",
    "instant",
    "range",
    "exemplar",
    "timeRange",
];

/// Every field some kind reads, and the envelope's.
fn known_fields() -> &'static std::collections::BTreeSet<&'static str> {
    static KNOWN: std::sync::OnceLock<std::collections::BTreeSet<&'static str>> =
        std::sync::OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut known: std::collections::BTreeSet<&'static str> =
            ENVELOPE_FIELDS.into_iter().collect();
        for spec in kinds::specs() {
            known.extend(spec.fields.iter().chain(&spec.aliases));
            for fields in spec.event_fields.iter().flat_map(|e| e.values()) {
                known.extend(fields);
            }
        }
        known
    })
}

/// A top-N table needs at least one dimension to rank (flow or CloudTrail dimensions).
fn nonempty<D>(dims: Vec<D>, kind: &str) -> Result<Vec<D>, QueryError> {
    if dims.is_empty() {
        Err(QueryError::new(
            "group_by",
            "[]",
            format!("{kind} ranks groups; name at least one dimension or leave group_by out"),
        ))
    } else {
        Ok(dims)
    }
}

/// `group_by` over a source's dimensions (`parse` reads a name or alias), or `default` when the
/// field is absent; an unknown name fails with `unknown` (what the source's dimensions are).
fn parse_dimensions<D: Copy + PartialEq>(
    obj: &serde_json::Map<String, Value>,
    default: &[D],
    parse: impl Fn(&str) -> Option<D>,
    unknown: &str,
) -> Result<Vec<D>, QueryError> {
    let items = string_list(obj.get("group_by"), "group_by")?;
    if items.is_empty() && obj.get("group_by").is_none() {
        return Ok(default.to_vec());
    }
    let mut group_by = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let dim = parse(&item)
            .ok_or_else(|| QueryError::new(format!("group_by[{i}]"), quoted(&item), unknown))?;
        if !group_by.contains(&dim) {
            group_by.push(dim);
        }
    }
    Ok(group_by)
}

/// `measure`: one of `accepted` (named by `name`), the first when absent.
fn parse_measure<M: Copy + PartialEq>(
    obj: &serde_json::Map<String, Value>,
    accepted: &[M],
    name: impl Fn(M) -> &'static str,
) -> Result<M, QueryError> {
    let names: Vec<&str> = accepted.iter().map(|m| name(*m)).collect();
    let names = names.join(", ");
    match string_list(obj.get("measure"), "measure")?.as_slice() {
        [] => Ok(accepted[0]),
        [one] => accepted
            .iter()
            .copied()
            .find(|m| name(*m) == one)
            .ok_or_else(|| {
                QueryError::new(
                    "measure",
                    quoted(one),
                    format!("unknown measure; expected one of {names}"),
                )
            }),
        many => Err(QueryError::new(
            "measure",
            format!("{many:?}"),
            format!("expected a single value: {names}"),
        )),
    }
}

/// The values of a filter under both its spellings, each once.
fn merged<T: PartialEq>(
    f: &serde_json::Map<String, Value>,
    keys: [&str; 2],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, QueryError> {
    let mut out = Vec::new();
    for key in keys {
        for item in flow::each(f, key, &format!("filters.{key}"), &parse)? {
            if !out.contains(&item) {
                out.push(item);
            }
        }
    }
    Ok(out)
}

/// The `filters` object of a query (None when absent); anything else fails, showing `example`.
fn filters_object<'a>(
    obj: &'a serde_json::Map<String, Value>,
    example: &str,
) -> Result<Option<&'a serde_json::Map<String, Value>>, QueryError> {
    match obj.get("filters") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(f)) => Ok(Some(f)),
        Some(other) => Err(QueryError::new(
            "filters",
            snippet(&other.to_string()),
            format!("expected an object such as {example}"),
        )),
    }
}

/// Refuses a filter with a value that `kind` does not read (`canonical` names the filter a key
/// spells), naming the ones it reads.
fn refuse_unread_filters(
    f: &serde_json::Map<String, Value>,
    kind: &str,
    accepted: &[&str],
    canonical: impl Fn(&str) -> Option<&'static str>,
) -> Result<(), QueryError> {
    for (key, value) in f {
        if canonical(key).is_some_and(|c| accepted.contains(&c)) {
            continue;
        }
        let field = format!("filters.{key}");
        let empty =
            !matches!(value, Value::Bool(_)) && string_list(Some(value), &field)?.is_empty();
        if !empty {
            return Err(QueryError::new(
                field,
                snippet(&value.to_string()),
                format!(
                    "{kind} filters by {}; remove this filter",
                    accepted.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A field that may hold one value or a list of values (Grafana multi-value variables give lists);
/// numbers are accepted as their decimal text. A text may list several values separated by commas
/// (what a viewer types into a dashboard's text box: `10.0.0.0/8, 2001:db8::/32`); no value of
/// any filter contains a comma. Empty, `"$__all"` and `"All"` entries mean "no restriction".
fn string_list(value: Option<&Value>, field: &str) -> Result<Vec<String>, QueryError> {
    let mut items = lenient::list(field, value, Items::Values)?;
    // Grafana's "All" of a multi-value variable (its custom all value or its label) restricts
    // nothing, like an empty entry.
    items.retain(|item| item != "$__all" && item != "All");
    Ok(items)
}

/// A whole number field within `range`, None when absent or empty; text-box template variables
/// send numbers as strings.
fn number(
    obj: &serde_json::Map<String, Value>,
    field: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u32>, QueryError> {
    let n = lenient::whole_number(field, obj.get(field), range)?;
    // The ranges of query fields fit in u32; a wider one saturates rather than wraps.
    Ok(n.map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// A JSON string literal of `text` for error messages.
fn quoted(text: &str) -> String {
    snippet(&Value::String(text.to_string()).to_string())
}

/// At most 80 characters of `text`, for error messages.
fn snippet(text: &str) -> String {
    cut(text, 80)
}

/// `text` when it has at most `max` characters, else its head and `...` in `max` characters.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let head: String = text.chars().take(max - 3).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::source::SH_FINDINGS;
    use serde_json::json;

    fn err(v: Value) -> String {
        PanelQuery::from_json(&v).unwrap_err().to_string()
    }

    #[test]
    fn typed_keys_are_the_described_dimensions_and_measures() {
        let names = |specs: &[crate::lake::source::DimensionSpec]| -> Vec<&str> {
            specs.iter().map(|d| d.name).collect()
        };
        assert_eq!(
            Dimension::ALL.map(Dimension::name).to_vec(),
            names(VPC_FLOW.dimensions)
        );
        assert_eq!(
            ComplianceDimension::ALL
                .map(ComplianceDimension::name)
                .to_vec(),
            names(SH_FINDINGS.dimensions)
        );
        let measures: Vec<&str> = VPC_FLOW.measures.iter().map(|m| m.name).collect();
        assert_eq!(Measure::ALL.map(Measure::name).to_vec(), measures);
        assert_eq!(Measure::NAMES, measures.join(", "));
        for measure in [
            ComplianceMeasure::PassRateAndFailing,
            ComplianceMeasure::PassRate,
            ComplianceMeasure::Failing,
            ComplianceMeasure::Passing,
        ] {
            for field in measure.fields() {
                assert!(SH_FINDINGS.measure(field).is_some(), "{field}");
            }
        }
        assert_eq!(Dimension::parse("interface"), Some(Dimension::Eni));
        assert_eq!(
            ComplianceDimension::parse("config_rule"),
            Some(ComplianceDimension::Control)
        );
    }

    #[test]
    fn echoed_values_are_cut_however_large() {
        let huge = "x".repeat(2_000_000);
        let message = err(json!({"kind": "rejected", "view": [huge, "y"]}));
        assert!(message.len() < 600, "{} characters", message.len());
        let message = err(json!({"kind": "flow_volume", "filters": {"accounts": [huge]}}));
        assert!(message.len() < 600, "{} characters", message.len());
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
        let PanelQuery::Series { query: fv, .. } = q else {
            panic!("a series query")
        };
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
        // The list of kinds is the registry's (a new kind joins it without editing this test).
        assert_eq!(
            err(json!({"kind": "flow_volumes"})),
            format!(
                "query field `kind` has the value \"flow_volumes\": unknown query kind; supported kinds: {}",
                kinds::names()
            )
        );
        assert_eq!(
            err(json!({"kind": "flow_volume", "group_by": ["account", "colour"]})),
            "query field `group_by[1]` has the value \"colour\": unknown dimension; expected one of account, region, vpc, subnet, eni, src_ip, dst_ip, dst_port, protocol, action, direction, boundary, src_aws_service, dst_aws_service"
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
    fn parses_every_flow_kind() {
        let q = |v: Value| PanelQuery::from_json(&v).unwrap();
        let PanelQuery::Top { kind, query } = q(
            json!({"kind": "top_talkers", "by": "either", "limit": "7", "filters": {"ip": "10.0.0.0/8"}}),
        ) else {
            panic!("top")
        };
        assert_eq!(kind, "top_talkers");
        assert_eq!(query.keys, TopKeys::EitherIp);
        assert_eq!(query.limit, 7);
        assert_eq!(query.filters.ips[0].to_string(), "10.0.0.0/8");
        let PanelQuery::Top { query, .. } = q(json!({"kind": "rejected", "view": "top_sources"}))
        else {
            panic!("rejected top")
        };
        assert_eq!(query.filters.action, Some(FlowActionFilter::Reject));
        assert_eq!(query.measure, Measure::Flows);
        let PanelQuery::Series { query, .. } = q(json!({"kind": "rejected", "action": "ACCEPT"}))
        else {
            panic!("rejected series")
        };
        assert_eq!(query.filters.action, Some(FlowActionFilter::Reject));
        let PanelQuery::Top { query, .. } =
            q(json!({"kind": "internet_egress", "own_cidrs": ["198.51.100.0/24"]}))
        else {
            panic!("egress")
        };
        assert_eq!(query.internet.as_ref().map(|i| i.own.len()), Some(1));
        assert_eq!(query.filters.direction, Some(FlowDirectionFilter::Egress));
        assert_eq!(
            q(json!({"kind": "port_scan"})),
            PanelQuery::PortScan(PortScan {
                target: ScanTarget::Ports,
                threshold: 20,
                window_minutes: None,
                filters: FlowFilters::default(),
                limit: 100,
            })
        );
        assert_eq!(q(json!({"kind": "flow_search"})).kind(), "flow_search");
        assert_eq!(
            err(json!({"kind": "top_ports", "group_by": []})),
            "query field `group_by` has the value []: top_ports ranks groups; name at least one dimension or leave group_by out"
        );
    }

    #[test]
    fn annotations_parse_both_events_with_their_defaults() {
        let q = |v: Value| PanelQuery::from_json(&v).unwrap();
        let PanelQuery::Annotations(Annotations::StatusChanges(changes)) = q(
            json!({"kind": "annotations", "event": "control_status_changes",
                     "filters": {"accounts": "111122223333", "vpcs": ["$__all"]}}),
        ) else {
            panic!("status changes")
        };
        assert_eq!(
            changes.scope.controls,
            vec![ControlId::parse("EC2.6").unwrap()]
        );
        assert_eq!(changes.scope.accounts.len(), 1);
        assert!(changes.scope.vpcs.is_empty());
        let PanelQuery::Annotations(Annotations::StatusChanges(changes)) = q(
            json!({"kind": "annotations", "event": "control_status_changes", "control": "EC2.10"}),
        ) else {
            panic!("status changes")
        };
        assert_eq!(
            changes.scope.controls,
            vec![ControlId::parse("EC2.10").unwrap()]
        );
        let silent = q(json!({"kind": "annotations", "event": "flow_logs_silent"}));
        assert_eq!(silent.kind(), "annotations");
        assert_eq!(
            silent,
            PanelQuery::Annotations(Annotations::FlowSilence(Box::new(FlowSilence {
                group_by: vec![Dimension::Account, Dimension::Region, Dimension::Vpc],
                silent_for_minutes: 60,
                lookback_days: None,
                filters: FlowFilters::default(),
            })))
        );
        assert_eq!(
            err(json!({"kind": "annotations", "event": "deployments"})),
            "query field `event` has the value \"deployments\": unknown annotation event; supported events: control_status_changes, flow_logs_silent, iam_changes, sign_ins, new_findings"
        );
        assert_eq!(
            err(json!({"kind": "annotations", "event": "flow_logs_silent", "silent_for_minutes": 129_601})),
            "query field `silent_for_minutes` has the value 129601: expected a whole number from 1 to 129600"
        );
        assert!(unknown_fields(
            &json!({"kind": "annotations", "event": "flow_logs_silent", "control": "EC2.6"})
        )
        .is_empty());
    }

    #[test]
    fn variable_queries_name_what_they_list() {
        let q = PanelQuery::from_json(&json!({"kind": "variable", "values": "enis", "limit": 50}))
            .unwrap();
        assert_eq!(
            q,
            PanelQuery::Variable(VariableQuery {
                target: VariableTarget::Flow(Dimension::Eni),
                filters: FlowFilters::default(),
                limit: 50,
            })
        );
        assert_eq!(
            err(json!({"kind": "variable", "values": "colours"})),
            "query field `values` has the value \"colours\": expected one of accounts, regions, vpcs, subnets, enis, controls, principals, principal_types, services, operations, domains, query_types, rcodes, products, finding_types, severities, web_acls, rules, actions, countries, buckets, functions"
        );
        assert_eq!(
            err(json!({"kind": "variable"})),
            "query field `values` has the value (missing): a variable query names what to list: one of accounts, regions, vpcs, subnets, enis, controls, principals, principal_types, services, operations, domains, query_types, rcodes, products, finding_types, severities, web_acls, rules, actions, countries, buckets, functions"
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
        let PanelQuery::Series { query: fv, .. } = q else {
            panic!("a series query")
        };
        assert!(fv.filters.accounts.is_empty() && fv.filters.regions.is_empty());
    }

    #[test]
    fn a_typed_list_is_split_at_commas_and_an_empty_box_restricts_nothing() {
        let q = PanelQuery::from_json(&json!({"kind": "flow_search", "filters": {
            "ip": " 10.0.0.0/8, 2001:db8::/32 ,", "dst_ports": "22,3389", "src_ip": "",
            "protocols": ["tcp, udp"]}}))
        .unwrap();
        let PanelQuery::FlowSearch(search) = q else {
            panic!("a search query")
        };
        let f = &search.filters;
        assert_eq!(f.ips.len(), 2);
        assert!(f.src_ips.is_empty());
        assert_eq!(f.dst_ports, vec![22, 3389]);
        assert_eq!(f.protocols.len(), 2);
        let e = PanelQuery::from_json(
            &json!({"kind": "flow_search", "filters": {"ip": "10.0.0.0/8, 10.1"}}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "query field `filters.ip[1]` has the value \"10.1\": not an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32"
        );
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
