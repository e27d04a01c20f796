//! `rate_limited`: requests a rate-based rule ended, by client and rule — a client over its
//! rate; as a table or as alertable series (`format: series`).

use super::waf_ranked::WafRanked;
use crate::query::WafDimension;

/// `rate_limited`.
pub const RATE_LIMITED: WafRanked = WafRanked {
    kind: "rate_limited",
    label: "Rate-limited clients",
    description: "Requests AWS WAF's rate-based rules ended, by client and rule, with first and last hit",
    by: &[("clients", &[WafDimension::SrcIp, WafDimension::Rule])],
    limit: 20,
    blocked_only: false,
    rate_based_only: true,
};
