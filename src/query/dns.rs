//! The Route 53 query kinds over the resolver query logs (`route53`): queries over time
//! (`dns_queries`), domains ranked (`top_domains`, `nxdomain`, `new_domains`) and DNS tunnelling
//! suspects (`dns_tunneling`), with the filters they share.

use serde_json::{Map, Value};

use super::flow::{each, parse_cidr};
use super::values::{AccountId, Region, ResourceId};
use super::{
    filters_object, merged, parse_dimensions, parse_measure, refuse_unread_filters, QueryError,
};
use super::{number, TrailFormat};
use crate::lake::source::{RCODES, ROUTE53};
use crate::net::Cidr;

/// A Route 53 dimension a panel can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DnsDimension {
    /// AWS account id (the partition).
    Account,
    /// AWS region (the partition).
    Region,
    /// The name queried.
    Domain,
    /// The name less its leftmost label.
    ParentDomain,
    /// The record type asked for.
    QueryType,
    /// The response code.
    Rcode,
    /// The VPC the query came from.
    Vpc,
    /// The asking address.
    SrcIp,
    /// The asking instance.
    Instance,
}

impl DnsDimension {
    /// Every Route 53 dimension, in the order the source describes them.
    pub const ALL: [DnsDimension; 9] = [
        DnsDimension::Account,
        DnsDimension::Region,
        DnsDimension::Domain,
        DnsDimension::ParentDomain,
        DnsDimension::QueryType,
        DnsDimension::Rcode,
        DnsDimension::Vpc,
        DnsDimension::SrcIp,
        DnsDimension::Instance,
    ];

    /// The name used in JSON, labels and result columns.
    pub fn name(self) -> &'static str {
        match self {
            DnsDimension::Account => "account",
            DnsDimension::Region => "region",
            DnsDimension::Domain => "domain",
            DnsDimension::ParentDomain => "parent_domain",
            DnsDimension::QueryType => "query_type",
            DnsDimension::Rcode => "rcode",
            DnsDimension::Vpc => "vpc",
            DnsDimension::SrcIp => "src_ip",
            DnsDimension::Instance => "instance",
        }
    }

    /// The dimension a query names (a name or an alias the Route 53 source gives it).
    pub(super) fn parse(text: &str) -> Option<Self> {
        let spec = ROUTE53.dimension(text)?;
        Self::ALL.into_iter().find(|d| d.name() == spec.name)
    }

    /// Every dimension's names, for the editor.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.map(Self::name).to_vec()
    }
}

/// What a Route 53 measure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnsMeasure {
    /// Queries.
    Queries,
    /// Distinct asking addresses.
    Sources,
    /// Distinct names.
    Domains,
}

impl DnsMeasure {
    /// Every measure, in the order the source describes them.
    pub const ALL: [DnsMeasure; 3] = [
        DnsMeasure::Queries,
        DnsMeasure::Sources,
        DnsMeasure::Domains,
    ];

    /// The name used in JSON and as the value column name.
    pub fn name(self) -> &'static str {
        match self {
            DnsMeasure::Queries => "queries",
            DnsMeasure::Sources => "sources",
            DnsMeasure::Domains => "domains",
        }
    }

    /// The Grafana unit, as the source describes it.
    pub fn unit(self) -> &'static str {
        ROUTE53
            .measure(self.name())
            .expect("every Route 53 measure is described")
            .unit
    }
}

/// Filters shared by the Route 53 kinds. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsFilters {
    /// Accounts (partitions).
    pub accounts: Vec<AccountId>,
    /// Regions (partitions).
    pub regions: Vec<Region>,
    /// Names queried, lowercase with the trailing dot Route 53 writes.
    pub domains: Vec<String>,
    /// Record types (`A`, `TXT`).
    pub query_types: Vec<&'static str>,
    /// Response codes, as OCSF ids.
    pub rcodes: Vec<i64>,
    /// VPCs.
    pub vpcs: Vec<ResourceId>,
    /// Asking addresses or blocks.
    pub src_ips: Vec<Cidr>,
    /// Addresses or blocks left out.
    pub exclude_ips: Vec<Cidr>,
}

/// Every Route 53 filter, in the editor's order.
pub const DNS_FILTERS: [&str; 8] = [
    "accounts",
    "regions",
    "domains",
    "query_types",
    "rcodes",
    "vpcs",
    "src_ip",
    "exclude_ip",
];

/// Other spellings of the Route 53 filters.
pub(super) const DNS_FILTER_ALIASES: [&str; 8] = [
    "domain",
    "query_type",
    "rcode",
    "vpc",
    "src_ips",
    "ip",
    "ips",
    "exclude_ips",
];

/// The record types Route 53 logs (its supported types, and `ANY`).
const QUERY_TYPES: [&str; 15] = [
    "A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
    "SVCB", "TXT",
];

/// The longest DNS name (RFC 1035), without its trailing dot.
const MAX_DOMAIN: usize = 253;

/// A domain name: letters, digits, `-`, `_` and `.`, at most 253 characters; lowercased, with
/// the trailing dot Route 53 writes.
fn parse_domain(text: &str) -> Result<String, String> {
    let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
    let ok = (1..=MAX_DOMAIN).contains(&name.len())
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(format!("{name}."))
    } else {
        Err("expected a domain name such as api.example.com: letters, digits, '-', '_' and '.', up to 253 characters".to_string())
    }
}

fn parse_query_type(text: &str) -> Result<&'static str, String> {
    QUERY_TYPES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("expected a DNS record type: {}", QUERY_TYPES.join(", ")))
}

fn parse_rcode(text: &str) -> Result<i64, String> {
    RCODES
        .iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(text))
        .map(|(id, _)| *id)
        .ok_or_else(|| {
            let names: Vec<&str> = RCODES.iter().map(|(_, n)| *n).collect();
            format!("expected a response code: {}", names.join(", "))
        })
}

/// The filter a key (or another spelling of it) names.
fn canonical_filter(key: &str) -> Option<&'static str> {
    let canonical = match key {
        "domain" => "domains",
        "query_type" => "query_types",
        "rcode" => "rcodes",
        "vpc" => "vpcs",
        "src_ips" | "ip" | "ips" => "src_ip",
        "exclude_ips" => "exclude_ip",
        other => other,
    };
    DNS_FILTERS.into_iter().find(|f| *f == canonical)
}

/// Reads the Route 53 filters of a query for `kind` (every kind reads them all); a filter of
/// another source with a value is refused, naming the ones it reads.
pub(super) fn parse_dns_filters(
    obj: &Map<String, Value>,
    kind: &str,
) -> Result<DnsFilters, QueryError> {
    let Some(f) = filters_object(obj, "{\"domains\":[\"example.com\"]}")? else {
        return Ok(DnsFilters::default());
    };
    refuse_unread_filters(f, kind, &DNS_FILTERS, canonical_filter)?;
    let blocks = |keys: &[&str]| {
        let mut out = Vec::new();
        for key in keys {
            out.extend(each(f, key, &format!("filters.{key}"), parse_cidr)?);
        }
        Ok::<_, QueryError>(out)
    };
    Ok(DnsFilters {
        accounts: each(f, "accounts", "filters.accounts", AccountId::parse)?,
        regions: each(f, "regions", "filters.regions", Region::parse)?,
        domains: merged(f, ["domains", "domain"], parse_domain)?,
        query_types: merged(f, ["query_types", "query_type"], parse_query_type)?,
        rcodes: merged(f, ["rcodes", "rcode"], parse_rcode)?,
        vpcs: merged(f, ["vpcs", "vpc"], |t| ResourceId::parse(t, "vpc"))?,
        src_ips: blocks(&["src_ip", "src_ips", "ip", "ips"])?,
        exclude_ips: blocks(&["exclude_ip", "exclude_ips"])?,
    })
}

/// `group_by` of a Route 53 kind, or `default` when it is absent.
pub(super) fn parse_dns_group_by(
    obj: &Map<String, Value>,
    default: &[DnsDimension],
) -> Result<Vec<DnsDimension>, QueryError> {
    let unknown = format!(
        "unknown Route 53 dimension; expected one of {}",
        DnsDimension::names().join(", ")
    );
    parse_dimensions(obj, default, DnsDimension::parse, &unknown)
}

/// `measure` of a Route 53 kind: one of `accepted`, the first when absent.
pub(super) fn parse_dns_measure(
    obj: &Map<String, Value>,
    accepted: &[DnsMeasure],
) -> Result<DnsMeasure, QueryError> {
    parse_measure(obj, accepted, DnsMeasure::name)
}

/// `dns_queries`: a measure of the queries over time, one series per group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQueries {
    /// What to count.
    pub measure: DnsMeasure,
    /// Dimensions that split the series (none: one series).
    pub group_by: Vec<DnsDimension>,
    /// Which queries count.
    pub filters: DnsFilters,
    /// Keep the top `limit` series by total and fold the rest into `other`.
    pub limit: Option<u32>,
}

/// `top_domains`, `nxdomain` and `new_domains`: groups (domains by default) ranked by a measure,
/// with their queries, distinct sources and first and last query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRanking {
    /// The kind name as written.
    pub kind: &'static str,
    /// The groups.
    pub group_by: Vec<DnsDimension>,
    /// What ranks them.
    pub measure: DnsMeasure,
    /// Which queries count.
    pub filters: DnsFilters,
    /// Only the queries that failed (a response code other than NOERROR).
    pub failed_only: bool,
    /// Only the groups absent from this many whole days before the range (new domains).
    pub baseline_days: Option<u32>,
    /// Most rows.
    pub limit: u32,
    /// Table or alertable series.
    pub format: TrailFormat,
}

/// `dns_tunneling`: per source and parent domain, the queries whose leftmost label is at least
/// `min_label_length` characters, kept when they carry at least `min_subdomains` distinct
/// labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTunneling {
    /// Which queries count.
    pub filters: DnsFilters,
    /// The shortest leftmost label counted.
    pub min_label_length: u32,
    /// The fewest distinct long labels under one parent a suspect has.
    pub min_subdomains: u32,
    /// Most rows.
    pub limit: u32,
    /// Table or alertable series.
    pub format: TrailFormat,
}

/// The shortest leftmost label `dns_tunneling` counts, and its bounds: most names people and
/// services resolve have labels under 20 characters; encoders fill labels towards the 63 the
/// protocol allows.
pub const MIN_LABEL_LENGTH: (u32, std::ops::RangeInclusive<u64>) = (30, 10..=63);

/// The fewest distinct long labels under one parent `dns_tunneling` reports, and its bounds.
pub const MIN_SUBDOMAINS: (u32, std::ops::RangeInclusive<u64>) = (20, 2..=100_000);

/// A Route 53 panel query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsQuery {
    /// `dns_queries`.
    Queries(DnsQueries),
    /// `top_domains`, `nxdomain`, `new_domains`.
    Ranking(DomainRanking),
    /// `dns_tunneling`.
    Tunneling(DnsTunneling),
}

impl DnsQuery {
    /// The kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            DnsQuery::Queries(_) => "dns_queries",
            DnsQuery::Ranking(q) => q.kind,
            DnsQuery::Tunneling(_) => "dns_tunneling",
        }
    }

    /// The filters.
    pub fn filters(&self) -> &DnsFilters {
        match self {
            DnsQuery::Queries(q) => &q.filters,
            DnsQuery::Ranking(q) => &q.filters,
            DnsQuery::Tunneling(q) => &q.filters,
        }
    }
}

/// `min_label_length` and `min_subdomains` of `dns_tunneling`.
pub(super) fn parse_tunnel_thresholds(obj: &Map<String, Value>) -> Result<(u32, u32), QueryError> {
    Ok((
        number(obj, "min_label_length", MIN_LABEL_LENGTH.1.clone())?.unwrap_or(MIN_LABEL_LENGTH.0),
        number(obj, "min_subdomains", MIN_SUBDOMAINS.1.clone())?.unwrap_or(MIN_SUBDOMAINS.0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::PanelQuery;
    use serde_json::json;

    fn parse(v: Value) -> DnsQuery {
        match PanelQuery::from_json(&v) {
            Ok(PanelQuery::Dns(q)) => q,
            other => panic!("{v}: {other:?}"),
        }
    }

    fn err(v: Value) -> String {
        PanelQuery::from_json(&v).unwrap_err().to_string()
    }

    #[test]
    fn typed_keys_are_the_described_dimensions_and_measures() {
        let names: Vec<&str> = ROUTE53.dimensions.iter().map(|d| d.name).collect();
        assert_eq!(DnsDimension::names(), names);
        let measures: Vec<&str> = ROUTE53.measures.iter().map(|m| m.name).collect();
        assert_eq!(DnsMeasure::ALL.map(DnsMeasure::name).to_vec(), measures);
        for alias in DNS_FILTER_ALIASES {
            assert!(canonical_filter(alias).is_some(), "{alias}");
        }
    }

    #[test]
    fn filters_and_defaults_are_read_in_every_spelling() {
        let DnsQuery::Ranking(q) = parse(json!({"kind": "nxdomain",
            "filters": {"domains": ["API.Example.com", "api.example.com."], "domain": "_dmarc.example.org",
                        "query_type": "txt", "rcodes": ["nxdomain", "SERVFAIL"], "vpc": "vpc-0a1b2c3d",
                        "ips": "10.0.0.0/8", "exclude_ips": "10.0.0.5"}}))
        else {
            panic!("nxdomain")
        };
        assert!(q.failed_only && q.baseline_days.is_none());
        assert_eq!(
            (q.limit, q.measure, q.format),
            (50, DnsMeasure::Queries, TrailFormat::Table)
        );
        let f = &q.filters;
        assert_eq!(f.domains, vec!["api.example.com.", "_dmarc.example.org."]);
        assert_eq!(
            (f.query_types.clone(), f.rcodes.clone()),
            (vec!["TXT"], vec![3, 2])
        );
        assert_eq!(
            (f.vpcs.len(), f.src_ips.len(), f.exclude_ips.len()),
            (1, 1, 1)
        );
        let DnsQuery::Ranking(q) = parse(json!({"kind": "new_domains", "format": "series"})) else {
            panic!("new_domains")
        };
        assert_eq!((q.baseline_days, q.format), (Some(7), TrailFormat::Series));
        let DnsQuery::Tunneling(q) =
            parse(json!({"kind": "dns_tunneling", "min_label_length": "40"}))
        else {
            panic!("dns_tunneling")
        };
        assert_eq!(
            (q.min_label_length, q.min_subdomains, q.limit),
            (40, 20, 20)
        );
    }

    #[test]
    fn bad_values_are_refused_word_for_word() {
        let cases = [
            (
                json!({"kind": "top_domains", "filters": {"domains": ["evil.com'; DROP TABLE x"]}}),
                "query field `filters.domains[0]` has the value \"evil.com'; DROP TABLE x\": expected a domain name such as api.example.com: letters, digits, '-', '_' and '.', up to 253 characters",
            ),
            (
                json!({"kind": "dns_queries", "filters": {"domain": "a..b"}}),
                "query field `filters.domain[0]` has the value \"a..b\": expected a domain name such as api.example.com: letters, digits, '-', '_' and '.', up to 253 characters",
            ),
            (
                json!({"kind": "dns_queries", "filters": {"query_types": "AXFR"}}),
                "query field `filters.query_types[0]` has the value \"AXFR\": expected a DNS record type: A, AAAA, CAA, CNAME, DS, HTTPS, MX, NAPTR, NS, PTR, SOA, SPF, SRV, SVCB, TXT",
            ),
            (
                json!({"kind": "nxdomain", "filters": {"rcodes": "failed"}}),
                "query field `filters.rcodes[0]` has the value \"failed\": expected a response code: NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH",
            ),
            (
                json!({"kind": "top_domains", "filters": {"services": ["iam"]}}),
                "query field `filters.services` has the value [\"iam\"]: top_domains filters by accounts, regions, domains, query_types, rcodes, vpcs, src_ip, exclude_ip; remove this filter",
            ),
            (
                json!({"kind": "dns_queries", "group_by": ["principal"]}),
                "query field `group_by[0]` has the value \"principal\": unknown Route 53 dimension; expected one of account, region, domain, parent_domain, query_type, rcode, vpc, src_ip, instance",
            ),
            (
                json!({"kind": "top_domains", "measure": "domains"}),
                "query field `measure` has the value \"domains\": unknown measure; expected one of queries, sources",
            ),
            (
                json!({"kind": "new_domains", "group_by": []}),
                "query field `group_by` has the value []: new_domains ranks groups; name at least one dimension or leave group_by out",
            ),
            (
                json!({"kind": "new_domains", "baseline_days": 60}),
                "query field `baseline_days` has the value 60: expected a whole number from 3 to 28",
            ),
            (
                json!({"kind": "dns_tunneling", "min_label_length": 64}),
                "query field `min_label_length` has the value 64: expected a whole number from 10 to 63",
            ),
            (
                json!({"kind": "dns_tunneling", "min_subdomains": 1}),
                "query field `min_subdomains` has the value 1: expected a whole number from 2 to 100000",
            ),
            (
                json!({"kind": "dns_tunneling", "filters": "example.com"}),
                "query field `filters` has the value \"example.com\": expected an object such as {\"domains\":[\"example.com\"]}",
            ),
        ];
        for (query, want) in cases {
            assert_eq!(err(query.clone()), want, "{query}");
        }
    }
}
