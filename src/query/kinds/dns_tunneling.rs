//! `dns_tunneling`: sources that look up many long, distinct leftmost labels under one parent
//! domain — data encoded into names (`<payload>.t.example.net`). It measures label length and
//! the number of distinct labels, not their entropy: a CDN or a service that puts long ids in
//! names (`<hash>.cloudfront.net` is short; some APIs' are not) shows up too, and a slow tunnel
//! that stays under `min_subdomains` in the range does not.

use super::super::cloudtrail::{parse_limit, parse_trail_format};
use super::super::dns::{
    parse_dns_filters, parse_tunnel_thresholds, DnsQuery, DnsTunneling, DNS_FILTERS,
};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

const LIMIT: u32 = 20;

/// `dns_tunneling`.
pub struct DnsTunnelingKind;

impl Kind for DnsTunnelingKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Sources looking up many long, distinct subdomains of one domain (DNS tunnelling suspects)",
            fields: vec!["min_label_length", "min_subdomains", "limit", "format"],
            formats: Some(vec!["table", "series"]),
            filters: DNS_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "dns_tunneling",
                "DNS tunnelling",
                Group::Dns,
                Answer::TableOrSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        let (min_label_length, min_subdomains) = parse_tunnel_thresholds(obj)?;
        Ok(panel(PanelQuery::Dns(DnsQuery::Tunneling(DnsTunneling {
            filters: parse_dns_filters(obj, "dns_tunneling")?,
            min_label_length,
            min_subdomains,
            limit: parse_limit(obj, LIMIT)?,
            format: parse_trail_format(obj)?,
        }))))
    }
}
