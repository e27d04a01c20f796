//! The query kinds, one file each, listed once in [`KINDS`].
//!
//! A kind says its name, what the query editor shows and sends (its [`KindSpec`]: fields,
//! defaults, accepted values, the frame it answers with) and how its JSON becomes a typed query.
//! Query parsing, the kind lists in error messages, unknown-field detection, the `kinds` resource
//! and the editor's kind menu (`frontend/src/kinds.json`, generated from here) all read this one
//! table. A kind of an existing shape is one new file and one line below (a ranking of flow
//! groups is one `Ranked` value in its file).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::flow;
use super::{quoted, string_list};
use super::{AnyQuery, Dimension, FlowFilters, FlowVolume, Measure, PanelQuery, QueryError};
use super::{TopFormat, TopKeys, TopQuery, BASELINE_DAYS, DEFAULT_BASELINE_DAYS};

mod data_kind;
mod dns_ranked;
mod ranked;
mod waf_ranked;

pub use exposed_services::SENSITIVE_PORTS;

/// Declares each kind's module and lists its kind in [`KINDS`]: adding a kind is one line here.
macro_rules! registry {
    ($($module:ident :: $kind:ident),* $(,)?) => {
        $(mod $module;)*

        /// Every query kind, in the order the editor's menu and error messages list them.
        pub static KINDS: &[&dyn Kind] = &[$(&$module::$kind),*];
    };
}

registry! {
    flow_volume::FlowVolumeKind,
    top_talkers::TopTalkers,
    top_pairs::TopPairs,
    top_ports::TOP_PORTS,
    top_interfaces::TOP_INTERFACES,
    top_subnets::TOP_SUBNETS,
    rejected::Rejected,
    port_scan::PortScanKind,
    internet_egress::InternetEgress,
    exposed_services::ExposedServices,
    egress_anomaly::EgressAnomalyKind,
    new_external_peers::NewExternalPeers,
    beaconing::BeaconingKind,
    flow_search::FlowSearchKind,
    coverage::CoverageKind,
    freshness::Freshness,
    compliance_status::ComplianceStatusKind,
    compliance_over_time::ComplianceOverTimeKind,
    findings::FindingsKind,
    active_findings::ActiveFindingsKind,
    api_activity::ApiActivityKind,
    top_principals::TopPrincipalsKind,
    auth_events::AuthEventsKind,
    access_denied::AccessDeniedKind,
    iam_changes::IamChangesKind,
    s3_data_access::S3DataAccessKind,
    lambda_invocations::LambdaInvocationsKind,
    dns_queries::DnsQueriesKind,
    top_domains::TOP_DOMAINS,
    nxdomain::NXDOMAIN,
    new_domains::NEW_DOMAINS,
    dns_tunneling::DnsTunnelingKind,
    waf_requests::WafRequestsKind,
    top_blocked::TOP_BLOCKED,
    rate_limited::RATE_LIMITED,
    resource_timeline::ResourceTimelineKind,
    annotations::AnnotationsKind,
    variable::VariableKind,
    sql::SqlKind,
}

/// One query kind.
pub trait Kind: Sync {
    /// What the editor shows and sends, and what the kind answers with.
    fn spec(&self) -> KindSpec;
    /// The typed query of a JSON object whose `kind` is this kind's name.
    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError>;
}

/// The kind named `name`.
pub fn find(name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().copied().find(|k| k.spec().kind == name)
}

/// Every kind's spec, in menu order (the `kinds` resource and `frontend/src/kinds.json`).
pub fn specs() -> Vec<KindSpec> {
    KINDS.iter().map(|k| k.spec()).collect()
}

/// The kinds by name, comma separated (error messages).
pub fn names() -> String {
    specs()
        .iter()
        .map(|s| s.kind)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a kind sits in the editor's menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Group {
    /// VPC flow metrics and searches.
    Flow,
    /// When flow logs last arrived.
    Coverage,
    /// Security Hub controls and Config rules.
    Compliance,
    /// Security Hub findings of every product.
    Findings,
    /// CloudTrail API calls and sign-ins.
    CloudTrail,
    /// Route 53 Resolver queries.
    #[serde(rename = "DNS")]
    Dns,
    /// AWS WAF web requests.
    #[serde(rename = "WAF")]
    Waf,
    /// One resource across the sources.
    Investigate,
    /// Events on the time axis.
    Annotations,
    /// Template variable values.
    Variable,
    /// The user's own SQL.
    #[serde(rename = "SQL")]
    Sql,
}

/// The frame a kind answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// A wide time series, one value field per group.
    TimeSeries,
    /// A table.
    Table,
    /// A table, or a time series when `format` asks for one.
    TableOrSeries,
    /// A table, or Grafana's node graph when `format` asks for one.
    TableOrNodeGraph,
    /// A table, or log lines for Explore when `format` asks for them.
    TableOrLogs,
    /// Grafana annotation events.
    Annotations,
    /// Values for a template variable.
    Values,
}

/// What the query editor needs to know about a kind, and what the kind answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindSpec {
    /// The name in query JSON.
    pub kind: &'static str,
    /// Menu label.
    pub label: &'static str,
    /// One line on what the kind shows (the editor's hint and the docs).
    pub description: &'static str,
    /// Menu group.
    pub group: Group,
    /// The frame it answers with.
    pub answer: Answer,
    /// The fields the kind reads (besides `kind` and `filters`).
    pub fields: Vec<&'static str>,
    /// Kinds with events: the fields each event reads besides `fields`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_fields: Option<BTreeMap<&'static str, Vec<&'static str>>>,
    /// Kinds with events: the filters each event reads (`filters` lists them all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_filters: Option<BTreeMap<&'static str, Vec<&'static str>>>,
    /// Measures accepted, the default first.
    pub measures: Vec<&'static str>,
    /// Dimensions `group_by` accepts (empty: no group-by).
    pub dimensions: Vec<&'static str>,
    /// What the kind groups by when `group_by` is left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_group_by: Option<Vec<&'static str>>,
    /// Values of `view`, the default first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub views: Option<Vec<&'static str>>,
    /// Values of `format`, the default first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formats: Option<Vec<&'static str>>,
    /// Filters the kind accepts.
    pub filters: Vec<&'static str>,
    /// The default `limit`, where the kind has one the editor shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_limit: Option<u32>,
    /// Other fields the kind reads that the editor does not show: other spellings people write
    /// (`status` for `statuses`) and what the editor sends alongside (`variables`).
    #[serde(skip)]
    pub aliases: Vec<&'static str>,
}

impl KindSpec {
    /// A spec with the fields every kind sets; the rest empty.
    pub fn new(kind: &'static str, label: &'static str, group: Group, answer: Answer) -> Self {
        KindSpec {
            kind,
            label,
            description: "",
            group,
            answer,
            fields: Vec::new(),
            event_fields: None,
            event_filters: None,
            measures: Vec::new(),
            dimensions: Vec::new(),
            default_group_by: None,
            views: None,
            formats: None,
            filters: Vec::new(),
            default_limit: None,
            aliases: Vec::new(),
        }
    }
}

/// Every flow filter, in the editor's order.
pub const FLOW_FILTERS: [&str; 18] = [
    "accounts",
    "regions",
    "vpcs",
    "subnets",
    "enis",
    "ip",
    "src_ip",
    "dst_ip",
    "exclude_ip",
    "ports",
    "src_ports",
    "dst_ports",
    "protocols",
    "action",
    "direction",
    "boundary",
    "src_aws_service",
    "dst_aws_service",
];

/// The filters of the compliance kinds and annotations (they narrow findings by partition and VPC).
pub const COMPLIANCE_FILTERS: [&str; 3] = ["accounts", "regions", "vpcs"];

/// Every flow dimension's name, in documentation order.
pub fn flow_dimensions() -> Vec<&'static str> {
    Dimension::ALL.iter().map(|d| d.name()).collect()
}

/// The flow measures with `default` first, then the others in their usual order.
pub fn measures_from(default: Measure) -> Vec<&'static str> {
    let mut out = vec![default.name()];
    out.extend(
        Measure::ALL
            .into_iter()
            .filter(|m| *m != default)
            .map(Measure::name),
    );
    out
}

/// Dimension names.
pub fn dimension_names(dims: &[Dimension]) -> Vec<&'static str> {
    dims.iter().map(|d| d.name()).collect()
}

/// A query JSON object as the kinds read it: the lenient field readers of the flow kinds.
pub struct Envelope<'a> {
    obj: &'a Map<String, Value>,
}

impl<'a> Envelope<'a> {
    /// The envelope of a query object.
    pub fn new(obj: &'a Map<String, Value>) -> Self {
        Envelope { obj }
    }

    /// The JSON object itself, for kinds with readers of their own.
    pub fn object(&self) -> &'a Map<String, Value> {
        self.obj
    }

    /// `filters`, checked.
    pub fn filters(&self) -> Result<FlowFilters, QueryError> {
        flow::parse_filters_field(self.obj)
    }

    /// `limit` (1–10,000), or `default`.
    pub fn limit(&self, default: u32) -> Result<u32, QueryError> {
        Ok(self.number("limit", 1..=10_000)?.unwrap_or(default))
    }

    /// A whole number field within `range`, None when absent or empty.
    pub fn number(
        &self,
        field: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u32>, QueryError> {
        super::number(self.obj, field, range)
    }

    /// `group_by`, or `default` when it is absent.
    pub fn group_by(&self, default: &[Dimension]) -> Result<Vec<Dimension>, QueryError> {
        flow::parse_group_by(self.obj, default)
    }

    /// `group_by` that must name at least one dimension for `kind`.
    pub fn nonempty_group_by(
        &self,
        default: &[Dimension],
        kind: &str,
    ) -> Result<Vec<Dimension>, QueryError> {
        super::nonempty(self.group_by(default)?, kind)
    }

    /// A top-N table query.
    pub fn top(
        &self,
        keys: TopKeys,
        default_measure: Measure,
        filters: FlowFilters,
    ) -> Result<TopQuery, QueryError> {
        Ok(TopQuery {
            keys,
            measure: flow::parse_measure(self.obj, default_measure)?,
            filters,
            limit: self.limit(10)?,
            internet: None,
            format: TopFormat::Table,
            baseline_days: None,
        })
    }

    /// `baseline_days` (see [`BASELINE_DAYS`]), or the default.
    pub fn baseline_days(&self) -> Result<u32, QueryError> {
        Ok(self
            .number("baseline_days", BASELINE_DAYS)?
            .unwrap_or(DEFAULT_BASELINE_DAYS))
    }

    /// `format`: one of `accepted` (name, format), the first when absent.
    pub fn format<T: Copy>(&self, accepted: &[(&str, T)]) -> Result<T, QueryError> {
        self.choice("format", accepted)
    }

    /// A field holding one of `accepted` (name, value), the first when absent.
    pub fn choice<T: Copy>(&self, field: &str, accepted: &[(&str, T)]) -> Result<T, QueryError> {
        let names: Vec<&str> = accepted.iter().map(|(name, _)| *name).collect();
        let names = names.join(" or ");
        match string_list(self.obj.get(field), field)?.as_slice() {
            [] => Ok(accepted[0].1),
            [one] => accepted
                .iter()
                .find(|(name, _)| name == one)
                .map(|(_, value)| *value)
                .ok_or_else(|| QueryError::new(field, quoted(one), format!("expected {names}"))),
            many => Err(QueryError::new(
                field,
                format!("{many:?}"),
                format!("expected a single value: {names}"),
            )),
        }
    }

    /// A whole number field within `range` that may exceed 32 bits (byte volumes), None when
    /// absent or empty.
    pub fn wide_number(
        &self,
        field: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, QueryError> {
        Ok(crate::lenient::whole_number(
            field,
            self.obj.get(field),
            range,
        )?)
    }

    /// A measure-over-time query.
    pub fn series(
        &self,
        default_measure: Measure,
        filters: FlowFilters,
    ) -> Result<FlowVolume, QueryError> {
        Ok(FlowVolume {
            measure: flow::parse_measure(self.obj, default_measure)?,
            group_by: self.group_by(&[])?,
            filters,
            limit: self.number("limit", 1..=10_000)?,
        })
    }
}

/// A top-N table of `kind`.
pub fn top_panel(kind: &'static str, query: TopQuery) -> AnyQuery {
    AnyQuery::Panel(Box::new(PanelQuery::Top { kind, query }))
}

/// A time series of `kind`.
pub fn series_panel(kind: &'static str, query: FlowVolume) -> AnyQuery {
    AnyQuery::Panel(Box::new(PanelQuery::Series { kind, query }))
}

/// A panel query of another shape.
pub fn panel(query: PanelQuery) -> AnyQuery {
    AnyQuery::Panel(Box::new(query))
}

/// The kinds' specs as the editor reads them (pretty JSON with a final newline).
pub fn kinds_json() -> String {
    let editor: Vec<KindSpec> = specs()
        .into_iter()
        .filter(|s| s.group != Group::Variable)
        .collect();
    serde_json::to_string_pretty(&editor).expect("specs serialise") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::PanelQuery;

    #[test]
    fn every_kind_is_listed_once_and_found_by_name() {
        let names: Vec<&str> = specs().iter().map(|s| s.kind).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for name in names {
            assert_eq!(find(name).map(|k| k.spec().kind), Some(name));
        }
    }

    /// The smallest query of a kind: its name, and what it cannot do without.
    fn smallest(name: &str) -> Value {
        match name {
            "variable" => serde_json::json!({"kind": name, "values": "accounts"}),
            "annotations" => serde_json::json!({"kind": name, "event": "flow_logs_silent"}),
            "sql" => serde_json::json!({"kind": name, "rawSql": "SELECT 1"}),
            "resource_timeline" => serde_json::json!({"kind": name, "resource": "10.0.0.1"}),
            _ => serde_json::json!({ "kind": name }),
        }
    }

    /// The measure, groups and limit a parsed query ended up with.
    fn defaults_of(
        query: &AnyQuery,
    ) -> (Option<&'static str>, Option<Vec<&'static str>>, Option<u32>) {
        let panel = match query {
            AnyQuery::Panel(panel) => panel,
            AnyQuery::Timeline(q) => return (None, None, Some(q.limit)),
            AnyQuery::Sql(_) => return (None, None, None),
        };
        match panel.as_ref() {
            PanelQuery::Series { query, .. } => (Some(query.measure.name()), None, None),
            PanelQuery::Top { query, .. } => {
                let groups = match &query.keys {
                    TopKeys::Dimensions(d) => Some(dimension_names(d)),
                    TopKeys::EitherIp => None,
                };
                (Some(query.measure.name()), groups, Some(query.limit))
            }
            PanelQuery::Coverage { query, .. } => {
                (None, Some(dimension_names(&query.group_by)), None)
            }
            PanelQuery::PortScan(q) => (None, None, Some(q.limit)),
            PanelQuery::EgressAnomaly(q) => (None, None, Some(q.limit)),
            PanelQuery::Beaconing(q) => (None, None, Some(q.limit)),
            PanelQuery::FlowSearch(q) => (None, None, Some(q.limit)),
            PanelQuery::ComplianceStatus(q) => (None, None, Some(q.limit)),
            PanelQuery::Variable(q) => (None, None, Some(q.limit)),
            PanelQuery::Annotations(crate::query::Annotations::FlowSilence(q)) => {
                (None, Some(dimension_names(&q.group_by)), None)
            }
            PanelQuery::Trail(trail) => {
                let names = |dims: &[crate::query::TrailDimension]| {
                    Some(dims.iter().map(|d| d.name()).collect())
                };
                match trail {
                    crate::query::TrailQuery::Activity(q) => (Some(q.measure.name()), None, None),
                    crate::query::TrailQuery::TopPrincipals(q) => {
                        (Some(q.measure.name()), names(&q.group_by), Some(q.limit))
                    }
                    crate::query::TrailQuery::AuthEvents(q) => {
                        (None, names(&q.group_by), Some(q.limit))
                    }
                    crate::query::TrailQuery::IamChanges(q) => (None, None, Some(q.limit)),
                }
            }
            PanelQuery::Dns(crate::query::DnsQuery::Queries(q)) => {
                (Some(q.measure.name()), None, None)
            }
            PanelQuery::Dns(crate::query::DnsQuery::Ranking(q)) => (
                Some(q.measure.name()),
                Some(q.group_by.iter().map(|d| d.name()).collect()),
                Some(q.limit),
            ),
            PanelQuery::Dns(crate::query::DnsQuery::Tunneling(q)) => (None, None, Some(q.limit)),
            PanelQuery::Findings(crate::query::FindingsQuery::Active(q)) => {
                (None, None, Some(q.limit))
            }
            PanelQuery::Waf(crate::query::WafQuery::Requests(q)) => {
                (Some(q.measure.name()), None, None)
            }
            PanelQuery::Waf(crate::query::WafQuery::Ranking(q)) => (
                Some(q.measure.name()),
                Some(q.group_by.iter().map(|d| d.name()).collect()),
                Some(q.limit),
            ),
            _ => (None, None, None),
        }
    }

    #[test]
    fn each_kind_parses_with_the_defaults_its_spec_shows() {
        for spec in specs() {
            let parsed = AnyQuery::from_json(&smallest(spec.kind))
                .unwrap_or_else(|e| panic!("{}: {e}", spec.kind));
            let (measure, groups, limit) = defaults_of(&parsed);
            let flow_measure = spec.measures.first().copied().filter(|_| measure.is_some());
            assert_eq!(measure, flow_measure, "{}: default measure", spec.kind);
            if spec.default_group_by.is_some() {
                assert_eq!(
                    groups, spec.default_group_by,
                    "{}: default group_by",
                    spec.kind
                );
            }
            if spec.default_limit.is_some() {
                assert_eq!(limit, spec.default_limit, "{}: default limit", spec.kind);
            }
            if let AnyQuery::Panel(p) = &parsed {
                assert_eq!(p.kind(), spec.kind);
            }
        }
    }

    #[test]
    fn baseline_detections_read_their_defaults_and_name_their_bounds() {
        use crate::query::{AnomalyFormat, AnomalyKeys};
        let parse = |v: Value| AnyQuery::from_json(&v);
        let Ok(AnyQuery::Panel(p)) = parse(serde_json::json!({"kind": "egress_anomaly"})) else {
            panic!("egress_anomaly parses")
        };
        let PanelQuery::EgressAnomaly(q) = *p else {
            panic!("an egress anomaly")
        };
        assert_eq!(
            (q.keys, q.baseline_days, q.min_score, q.min_bytes, q.format),
            (AnomalyKeys::Vpc, 7, 4, 100_000_000, AnomalyFormat::Table)
        );
        assert_eq!(
            q.filters.direction,
            Some(crate::query::FlowDirectionFilter::Egress)
        );
        let Ok(AnyQuery::Panel(p)) = parse(serde_json::json!({"kind": "new_external_peers",
            "baseline_days": "14", "format": "series"}))
        else {
            panic!("new_external_peers parses")
        };
        let PanelQuery::Top { query, .. } = *p else {
            panic!("a ranking")
        };
        assert_eq!(
            (query.baseline_days, query.format),
            (Some(14), TopFormat::Series)
        );
        let err = |v: Value| parse(v).unwrap_err().to_string();
        assert_eq!(
            err(serde_json::json!({"kind": "egress_anomaly", "baseline_days": 2})),
            "query field `baseline_days` has the value 2: expected a whole number from 3 to 28"
        );
        assert_eq!(
            err(serde_json::json!({"kind": "new_external_peers", "baseline_days": 29})),
            "query field `baseline_days` has the value 29: expected a whole number from 3 to 28"
        );
        assert_eq!(
            err(serde_json::json!({"kind": "egress_anomaly", "by": "subnet"})),
            "query field `by` has the value \"subnet\": expected vpc or eni"
        );
        assert_eq!(
            err(serde_json::json!({"kind": "egress_anomaly", "min_score": 0})),
            "query field `min_score` has the value 0: expected a whole number from 1 to 1000"
        );
        assert_eq!(
            err(serde_json::json!({"kind": "egress_anomaly", "format": "pie"})),
            "query field `format` has the value \"pie\": expected table or series or score"
        );
    }

    #[test]
    fn every_kind_has_its_line_in_the_query_docs() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/queries.md");
        let docs = std::fs::read_to_string(path).unwrap();
        for spec in specs() {
            let row = format!("\n| `{}` ", spec.kind);
            let heading = format!("\n## `{}`", spec.kind);
            assert!(
                docs.contains(&row) || docs.contains(&heading),
                "docs/queries.md has no line for the kind {}",
                spec.kind
            );
        }
    }

    #[test]
    fn the_editor_kind_list_is_generated_from_the_registry() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/frontend/src/kinds.json");
        let written = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            written,
            kinds_json(),
            "frontend/src/kinds.json is out of date: run `cargo run --bin lakewatch -- kinds > frontend/src/kinds.json`"
        );
    }
}
