//! `nxdomain`: failed lookups — NXDOMAIN, SERVFAIL, REFUSED and every other response code but
//! NOERROR — by source and domain: misconfigured hosts, typos, and malware trying generated names.

use super::dns_ranked::DnsRanked;
use crate::query::DnsDimension;

/// `nxdomain`.
pub const NXDOMAIN: DnsRanked = DnsRanked {
    kind: "nxdomain",
    label: "Failed lookups",
    description: "Lookups that failed (NXDOMAIN, SERVFAIL, …) by source and domain",
    group_by: &[
        DnsDimension::Vpc,
        DnsDimension::SrcIp,
        DnsDimension::Domain,
        DnsDimension::Rcode,
    ],
    limit: 50,
    failed_only: true,
    baseline: false,
};
