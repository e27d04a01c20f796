//! `new_domains`: names queried in the range that no query named in the `baseline_days` whole
//! UTC days before it; alertable as series.

use super::dns_ranked::DnsRanked;
use crate::query::DnsDimension;

/// `new_domains`.
pub const NEW_DOMAINS: DnsRanked = DnsRanked {
    kind: "new_domains",
    label: "New domains",
    description: "Domains queried in the range that were not queried in the baseline days",
    group_by: &[DnsDimension::Domain],
    limit: 50,
    failed_only: false,
    baseline: true,
};
