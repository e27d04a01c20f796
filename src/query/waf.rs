//! The AWS WAF query kinds over the web ACL logs (`waf`, source version 2 only): requests over
//! time (`waf_requests`), blocked clients, URIs or rules ranked (`top_blocked`) and hits of
//! rate-based rules (`rate_limited`), with the filters they share. Every value a user gives is
//! checked against a closed list or a restricted character set here, before any plan sees it.

use serde_json::{Map, Value};

use super::flow::{each, parse_cidr};
use super::values::{AccountId, Region};
use super::{filters_object, merged, parse_dimensions, parse_measure, refuse_unread_filters};
use super::{QueryError, TrailFormat};
use crate::lake::source::{RULE_TYPES, WAF, WAF_ACTIONS};
use crate::net::Cidr;

/// A WAF dimension a panel can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WafDimension {
    /// AWS account id (the partition).
    Account,
    /// AWS region (the partition).
    Region,
    /// What WAF did (ALLOW, BLOCK, …).
    Action,
    /// The terminating rule.
    Rule,
    /// Its type.
    RuleType,
    /// The web ACL.
    WebAcl,
    /// The client's country.
    Country,
    /// The client address.
    SrcIp,
    /// The URI path.
    Path,
    /// The host.
    Host,
    /// The HTTP method.
    Method,
}

impl WafDimension {
    /// Every WAF dimension, in the order the source describes them.
    pub const ALL: [WafDimension; 11] = [
        WafDimension::Account,
        WafDimension::Region,
        WafDimension::Action,
        WafDimension::Rule,
        WafDimension::RuleType,
        WafDimension::WebAcl,
        WafDimension::Country,
        WafDimension::SrcIp,
        WafDimension::Path,
        WafDimension::Host,
        WafDimension::Method,
    ];

    /// The name used in JSON, labels and result columns.
    pub fn name(self) -> &'static str {
        match self {
            WafDimension::Account => "account",
            WafDimension::Region => "region",
            WafDimension::Action => "action",
            WafDimension::Rule => "rule",
            WafDimension::RuleType => "rule_type",
            WafDimension::WebAcl => "web_acl",
            WafDimension::Country => "country",
            WafDimension::SrcIp => "src_ip",
            WafDimension::Path => "path",
            WafDimension::Host => "host",
            WafDimension::Method => "method",
        }
    }

    /// The dimension a query names (a name or an alias the WAF source gives it).
    pub(super) fn parse(text: &str) -> Option<Self> {
        let spec = WAF.dimension(text)?;
        Self::ALL.into_iter().find(|d| d.name() == spec.name)
    }

    /// Every dimension's names, for the editor.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.map(Self::name).to_vec()
    }
}

/// What a WAF measure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WafMeasure {
    /// Requests.
    Requests,
    /// Distinct client addresses.
    Clients,
}

impl WafMeasure {
    /// Every measure, in the order the source describes them.
    pub const ALL: [WafMeasure; 2] = [WafMeasure::Requests, WafMeasure::Clients];

    /// The name used in JSON and as the value column name.
    pub fn name(self) -> &'static str {
        match self {
            WafMeasure::Requests => "requests",
            WafMeasure::Clients => "clients",
        }
    }

    /// The Grafana unit, as the source describes it.
    pub fn unit(self) -> &'static str {
        WAF.measure(self.name())
            .expect("every WAF measure is described")
            .unit
    }
}

/// Filters shared by the WAF kinds. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WafFilters {
    /// Accounts (partitions).
    pub accounts: Vec<AccountId>,
    /// Regions (partitions).
    pub regions: Vec<Region>,
    /// Actions, as OCSF disposition ids.
    pub actions: Vec<i64>,
    /// Terminating rules.
    pub rules: Vec<String>,
    /// Terminating-rule types.
    pub rule_types: Vec<&'static str>,
    /// Web ACL ARNs.
    pub web_acls: Vec<String>,
    /// Client countries, ISO 3166 alpha-2, uppercase.
    pub countries: Vec<String>,
    /// URI paths.
    pub paths: Vec<String>,
    /// Hosts, lowercase.
    pub hosts: Vec<String>,
    /// HTTP methods, uppercase.
    pub methods: Vec<&'static str>,
    /// Client addresses or blocks.
    pub src_ips: Vec<Cidr>,
    /// Addresses or blocks left out.
    pub exclude_ips: Vec<Cidr>,
}

/// Every WAF filter, in the editor's order.
pub const WAF_FILTERS: [&str; 12] = [
    "accounts",
    "regions",
    "web_acls",
    "actions",
    "rules",
    "rule_types",
    "countries",
    "hosts",
    "paths",
    "methods",
    "src_ip",
    "exclude_ip",
];

/// Other spellings of the WAF filters.
pub(super) const WAF_FILTER_ALIASES: [&str; 12] = [
    "web_acl",
    "action",
    "rule",
    "rule_type",
    "country",
    "host",
    "path",
    "method",
    "client_ip",
    "src_ips",
    "ip",
    "exclude_ips",
];

/// The filter a key (or another spelling of it) names.
fn canonical_filter(key: &str) -> Option<&'static str> {
    let canonical = match key {
        "src_ips" | "ip" | "client_ip" => "src_ip",
        "exclude_ips" => "exclude_ip",
        "country" => "countries",
        other if WAF_FILTER_ALIASES.contains(&other) => return plural(other),
        other => other,
    };
    WAF_FILTERS.into_iter().find(|f| *f == canonical)
}

/// The plural filter of a singular alias (`rule` → `rules`).
fn plural(alias: &str) -> Option<&'static str> {
    WAF_FILTERS
        .into_iter()
        .find(|f| f.strip_suffix('s') == Some(alias))
}

/// The HTTP methods WAF logs.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

/// The longest URI path, host and rule name or ARN accepted.
const MAX_PATH: usize = 512;
const MAX_HOST: usize = 253;
const MAX_NAME: usize = 128;
const MAX_ARN: usize = 512;

/// Whether `text` is 1 to `max` characters, each alphanumeric or one of `extra`.
fn charset(text: &str, max: usize, extra: &str) -> bool {
    (1..=max).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

fn parse_action(text: &str) -> Result<i64, String> {
    WAF_ACTIONS
        .iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(text))
        .map(|(id, _)| *id)
        .ok_or_else(|| {
            let names: Vec<&str> = WAF_ACTIONS.iter().map(|(_, n)| *n).collect();
            format!("expected a WAF action: {}", names.join(", "))
        })
}

fn parse_rule_type(text: &str) -> Result<&'static str, String> {
    RULE_TYPES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("expected a WAF rule type: {}", RULE_TYPES.join(", ")))
}

fn parse_method(text: &str) -> Result<&'static str, String> {
    METHODS
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("expected an HTTP method: {}", METHODS.join(", ")))
}

fn parse_rule(text: &str) -> Result<String, String> {
    if charset(text, MAX_NAME, "-_") {
        Ok(text.to_string())
    } else {
        Err("expected a WAF rule name such as AWS-AWSManagedRulesCommonRuleSet: letters, digits, '-' and '_', up to 128 characters".to_string())
    }
}

fn parse_web_acl(text: &str) -> Result<String, String> {
    if text.starts_with("arn:") && charset(text, MAX_ARN, ":/-_.") {
        Ok(text.to_string())
    } else {
        Err("expected a web ACL ARN such as arn:aws:wafv2:us-east-1:111122223333:regional/webacl/shop/1a2b: letters, digits and ':', '/', '-', '_', '.', up to 512 characters".to_string())
    }
}

fn parse_country(text: &str) -> Result<String, String> {
    if text.len() == 2 && text.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err("expected a country as an ISO 3166 alpha-2 code such as US or DE".to_string())
    }
}

fn parse_path(text: &str) -> Result<String, String> {
    if text.starts_with('/') && charset(text, MAX_PATH, "/-_.~%+:@;=!$*") {
        Ok(text.to_string())
    } else {
        Err("expected a URI path such as /login: '/' then letters, digits and / - _ . ~ % + : @ ; = ! $ *, up to 512 characters".to_string())
    }
}

fn parse_host(text: &str) -> Result<String, String> {
    let host = text.to_ascii_lowercase();
    if charset(&host, MAX_HOST, "-.") && !host.starts_with('.') && !host.contains("..") {
        Ok(host)
    } else {
        Err("expected a host name such as shop.example.com: letters, digits, '-' and '.', up to 253 characters".to_string())
    }
}

/// Reads the WAF filters of a query for `kind`; a filter of another source with a value is
/// refused, naming the ones it reads.
pub(super) fn parse_waf_filters(
    obj: &Map<String, Value>,
    kind: &str,
) -> Result<WafFilters, QueryError> {
    let Some(f) = filters_object(obj, "{\"actions\":[\"BLOCK\"]}")? else {
        return Ok(WafFilters::default());
    };
    refuse_unread_filters(f, kind, &WAF_FILTERS, canonical_filter)?;
    let blocks = |keys: &[&str]| {
        let mut out = Vec::new();
        for key in keys {
            out.extend(each(f, key, &format!("filters.{key}"), parse_cidr)?);
        }
        Ok::<_, QueryError>(out)
    };
    Ok(WafFilters {
        accounts: each(f, "accounts", "filters.accounts", AccountId::parse)?,
        regions: each(f, "regions", "filters.regions", Region::parse)?,
        actions: merged(f, ["actions", "action"], parse_action)?,
        rules: merged(f, ["rules", "rule"], parse_rule)?,
        rule_types: merged(f, ["rule_types", "rule_type"], parse_rule_type)?,
        web_acls: merged(f, ["web_acls", "web_acl"], parse_web_acl)?,
        countries: merged(f, ["countries", "country"], parse_country)?,
        paths: merged(f, ["paths", "path"], parse_path)?,
        hosts: merged(f, ["hosts", "host"], parse_host)?,
        methods: merged(f, ["methods", "method"], parse_method)?,
        src_ips: blocks(&["src_ip", "src_ips", "ip", "client_ip"])?,
        exclude_ips: blocks(&["exclude_ip", "exclude_ips"])?,
    })
}

/// `group_by` of a WAF kind, or `default` when it is absent.
pub(super) fn parse_waf_group_by(
    obj: &Map<String, Value>,
    default: &[WafDimension],
) -> Result<Vec<WafDimension>, QueryError> {
    let unknown = format!(
        "unknown WAF dimension; expected one of {}",
        WafDimension::names().join(", ")
    );
    parse_dimensions(obj, default, WafDimension::parse, &unknown)
}

/// `measure` of a WAF kind: one of `accepted`, the first when absent.
pub(super) fn parse_waf_measure(
    obj: &Map<String, Value>,
    accepted: &[WafMeasure],
) -> Result<WafMeasure, QueryError> {
    parse_measure(obj, accepted, WafMeasure::name)
}

/// `waf_requests`: a measure of the requests over time, one series per group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WafRequests {
    /// What to count.
    pub measure: WafMeasure,
    /// Dimensions that split the series (none: one series).
    pub group_by: Vec<WafDimension>,
    /// Which requests count.
    pub filters: WafFilters,
    /// Keep the top `limit` series by total and fold the rest into `other`.
    pub limit: Option<u32>,
}

/// `top_blocked` and `rate_limited`: groups ranked by a measure, with their requests, distinct
/// clients and first and last request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WafRanking {
    /// The kind name as written.
    pub kind: &'static str,
    /// The groups.
    pub group_by: Vec<WafDimension>,
    /// What ranks them.
    pub measure: WafMeasure,
    /// Which requests count.
    pub filters: WafFilters,
    /// Only blocked requests.
    pub blocked_only: bool,
    /// Only requests a rate-based rule ended.
    pub rate_based_only: bool,
    /// Most rows.
    pub limit: u32,
    /// Table or alertable series.
    pub format: TrailFormat,
}

/// A WAF panel query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WafQuery {
    /// `waf_requests`.
    Requests(WafRequests),
    /// `top_blocked`, `rate_limited`.
    Ranking(WafRanking),
}

impl WafQuery {
    /// The kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            WafQuery::Requests(_) => "waf_requests",
            WafQuery::Ranking(q) => q.kind,
        }
    }

    /// The filters.
    pub fn filters(&self) -> &WafFilters {
        match self {
            WafQuery::Requests(q) => &q.filters,
            WafQuery::Ranking(q) => &q.filters,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::PanelQuery;
    use serde_json::json;

    fn parse(v: Value) -> WafQuery {
        match PanelQuery::from_json(&v) {
            Ok(PanelQuery::Waf(q)) => q,
            other => panic!("{v}: {other:?}"),
        }
    }

    fn err(v: Value) -> String {
        PanelQuery::from_json(&v).unwrap_err().to_string()
    }

    #[test]
    fn typed_keys_are_the_described_dimensions_and_measures() {
        let names: Vec<&str> = WAF.dimensions.iter().map(|d| d.name).collect();
        assert_eq!(WafDimension::names(), names);
        let measures: Vec<&str> = WAF.measures.iter().map(|m| m.name).collect();
        assert_eq!(WafMeasure::ALL.map(WafMeasure::name).to_vec(), measures);
        for alias in WAF_FILTER_ALIASES {
            assert!(canonical_filter(alias).is_some(), "{alias}");
        }
    }

    #[test]
    fn filters_and_defaults_are_read_in_every_spelling() {
        let WafQuery::Ranking(q) = parse(json!({"kind": "top_blocked", "by": "uris",
            "filters": {"action": "block", "countries": ["de", "US"], "host": "Shop.Example.com",
                        "path": "/login", "method": "post", "rule_type": "rate_based",
                        "rule": "AWS-AWSManagedRulesCommonRuleSet", "client_ip": "10.0.0.0/8",
                        "web_acl": "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/shop/1a2b"}}))
        else {
            panic!("top_blocked")
        };
        assert!(q.blocked_only && !q.rate_based_only);
        assert_eq!(q.group_by, vec![WafDimension::Host, WafDimension::Path]);
        assert_eq!((q.limit, q.format), (20, TrailFormat::Table));
        let f = &q.filters;
        assert_eq!(
            (f.actions.clone(), f.countries.clone(), f.hosts.clone()),
            (
                vec![2],
                vec!["DE".to_string(), "US".to_string()],
                vec!["shop.example.com".to_string()]
            )
        );
        assert_eq!(
            (f.methods.clone(), f.rule_types.clone()),
            (vec!["POST"], vec!["RATE_BASED"])
        );
        assert_eq!(
            (f.rules.len(), f.web_acls.len(), f.src_ips.len()),
            (1, 1, 1)
        );
        let WafQuery::Ranking(q) = parse(json!({"kind": "rate_limited", "format": "series"}))
        else {
            panic!("rate_limited")
        };
        assert!(q.rate_based_only && !q.blocked_only);
        assert_eq!(q.group_by, vec![WafDimension::SrcIp, WafDimension::Rule]);
        assert_eq!(q.format, TrailFormat::Series);
        let WafQuery::Requests(q) = parse(json!({"kind": "waf_requests", "group_by": "action"}))
        else {
            panic!("waf_requests")
        };
        assert_eq!(
            (q.measure, q.group_by),
            (WafMeasure::Requests, vec![WafDimension::Action])
        );
    }

    #[test]
    fn bad_values_are_refused_word_for_word() {
        let cases = [
            (
                json!({"kind": "waf_requests", "filters": {"actions": ["DENY"]}}),
                "query field `filters.actions[0]` has the value \"DENY\": expected a WAF action: ALLOW, BLOCK, COUNT, CAPTCHA, CHALLENGE",
            ),
            (
                json!({"kind": "waf_requests", "filters": {"countries": "USA"}}),
                "query field `filters.countries[0]` has the value \"USA\": expected a country as an ISO 3166 alpha-2 code such as US or DE",
            ),
            (
                json!({"kind": "top_blocked", "filters": {"paths": ["/x' OR 1=1 --"]}}),
                "query field `filters.paths[0]` has the value \"/x' OR 1=1 --\": expected a URI path such as /login: '/' then letters, digits and / - _ . ~ % + : @ ; = ! $ *, up to 512 characters",
            ),
            (
                json!({"kind": "top_blocked", "filters": {"host": "shop..example.com"}}),
                "query field `filters.host[0]` has the value \"shop..example.com\": expected a host name such as shop.example.com: letters, digits, '-' and '.', up to 253 characters",
            ),
            (
                json!({"kind": "rate_limited", "filters": {"rules": "rate limit"}}),
                "query field `filters.rules[0]` has the value \"rate limit\": expected a WAF rule name such as AWS-AWSManagedRulesCommonRuleSet: letters, digits, '-' and '_', up to 128 characters",
            ),
            (
                json!({"kind": "rate_limited", "filters": {"web_acls": "shop"}}),
                "query field `filters.web_acls[0]` has the value \"shop\": expected a web ACL ARN such as arn:aws:wafv2:us-east-1:111122223333:regional/webacl/shop/1a2b: letters, digits and ':', '/', '-', '_', '.', up to 512 characters",
            ),
            (
                json!({"kind": "waf_requests", "filters": {"rule_types": "CUSTOM"}}),
                "query field `filters.rule_types[0]` has the value \"CUSTOM\": expected a WAF rule type: REGULAR, RATE_BASED, MANAGED_RULE_GROUP, GROUP",
            ),
            (
                json!({"kind": "waf_requests", "filters": {"methods": "FETCH"}}),
                "query field `filters.methods[0]` has the value \"FETCH\": expected an HTTP method: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, CONNECT, TRACE",
            ),
            (
                json!({"kind": "waf_requests", "filters": {"src_ip": "10.0.0.300"}}),
                "query field `filters.src_ip[0]` has the value \"10.0.0.300\": not an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32",
            ),
            (
                json!({"kind": "top_blocked", "filters": {"domains": ["example.com"]}}),
                "query field `filters.domains` has the value [\"example.com\"]: top_blocked filters by accounts, regions, web_acls, actions, rules, rule_types, countries, hosts, paths, methods, src_ip, exclude_ip; remove this filter",
            ),
            (
                json!({"kind": "top_blocked", "by": "hosts"}),
                "query field `by` has the value \"hosts\": expected one of clients, uris, rules",
            ),
            (
                json!({"kind": "waf_requests", "group_by": ["domain"]}),
                "query field `group_by[0]` has the value \"domain\": unknown WAF dimension; expected one of account, region, action, rule, rule_type, web_acl, country, src_ip, path, host, method",
            ),
            (
                json!({"kind": "rate_limited", "measure": "bytes"}),
                "query field `measure` has the value \"bytes\": unknown measure; expected one of requests, clients",
            ),
        ];
        for (query, want) in cases {
            assert_eq!(err(query.clone()), want, "{query}");
        }
    }
}
