//! `dns_queries`: Route 53 Resolver queries over time, one series per group of domain, record
//! type, response code, VPC, source address, …

use super::super::dns::{
    parse_dns_filters, parse_dns_group_by, parse_dns_measure, DnsDimension, DnsMeasure, DnsQueries,
    DnsQuery, DNS_FILTERS,
};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

/// `dns_queries`.
pub struct DnsQueriesKind;

impl Kind for DnsQueriesKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Route 53 Resolver queries over time, by domain, record type, response code, VPC or source IP",
            fields: vec!["measure", "group_by", "limit"],
            measures: DnsMeasure::ALL.iter().map(|m| m.name()).collect(),
            dimensions: DnsDimension::names(),
            filters: DNS_FILTERS.to_vec(),
            ..KindSpec::new("dns_queries", "DNS queries", Group::Dns, Answer::TimeSeries)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        Ok(panel(PanelQuery::Dns(DnsQuery::Queries(DnsQueries {
            measure: parse_dns_measure(obj, &DnsMeasure::ALL)?,
            group_by: parse_dns_group_by(obj, &[])?,
            filters: parse_dns_filters(obj, "dns_queries")?,
            limit: query.number("limit", 1..=10_000)?,
        }))))
    }
}
