//! `top_blocked`: the clients (by default), URIs or rules with the most blocked requests, with
//! their distinct clients and first and last block; as a table or as alertable series.

use super::waf_ranked::WafRanked;
use crate::query::WafDimension;

/// `top_blocked`.
pub const TOP_BLOCKED: WafRanked = WafRanked {
    kind: "top_blocked",
    label: "Top blocked",
    description: "Clients, URIs or rules ranked by requests AWS WAF blocked, with distinct clients and first and last block",
    by: &[
        ("clients", &[WafDimension::SrcIp, WafDimension::Country]),
        ("uris", &[WafDimension::Host, WafDimension::Path]),
        ("rules", &[WafDimension::Rule, WafDimension::RuleType]),
    ],
    limit: 20,
    blocked_only: true,
    rate_based_only: false,
};
