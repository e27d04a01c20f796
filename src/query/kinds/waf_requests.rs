//! `waf_requests`: AWS WAF requests over time, one series per group of action, terminating rule,
//! rule type, web ACL, country, client, path, host or method.

use super::super::waf::{
    parse_waf_filters, parse_waf_group_by, parse_waf_measure, WafMeasure, WafQuery, WafRequests,
    WAF_FILTERS,
};
use super::super::WafDimension;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

/// `waf_requests`.
pub struct WafRequestsKind;

impl Kind for WafRequestsKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "AWS WAF requests over time, by action, rule, web ACL, country, client, path, host or method",
            fields: vec!["measure", "group_by", "limit"],
            measures: WafMeasure::ALL.iter().map(|m| m.name()).collect(),
            dimensions: WafDimension::names(),
            filters: WAF_FILTERS.to_vec(),
            ..KindSpec::new("waf_requests", "WAF requests", Group::Waf, Answer::TimeSeries)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        Ok(panel(PanelQuery::Waf(WafQuery::Requests(WafRequests {
            measure: parse_waf_measure(obj, &WafMeasure::ALL)?,
            group_by: parse_waf_group_by(obj, &[])?,
            filters: parse_waf_filters(obj, "waf_requests")?,
            limit: query.number("limit", 1..=10_000)?,
        }))))
    }
}
