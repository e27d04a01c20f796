//! `top_domains`: the names resolved most, with their distinct sources and first and last query;
//! as a table or as alertable series.

use super::dns_ranked::DnsRanked;
use crate::query::DnsDimension;

/// `top_domains`.
pub const TOP_DOMAINS: DnsRanked = DnsRanked {
    kind: "top_domains",
    label: "Top domains",
    description: "Domains ranked by Route 53 Resolver queries, with distinct sources and first and last query",
    group_by: &[DnsDimension::Domain],
    limit: 20,
    failed_only: false,
    baseline: false,
};
