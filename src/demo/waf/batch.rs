//! WAF requests → one Arrow batch with the `waf_2_0` columns (OCSF 1.1.0 HTTP Activity 4002).
//! `docs/sources.md` says where each column comes from.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use super::super::columns::{col, int32, int32_opt, int64, same, same_list, strs, structure, ts};
use super::super::DemoError;
use super::WafRequest;

/// OCSF's HTTP Activity ids of the methods (activity_id: Connect 1 … Trace 8, Other 99).
const METHODS: [(&str, i32, &str); 8] = [
    ("CONNECT", 1, "Connect"),
    ("DELETE", 2, "Delete"),
    ("GET", 3, "Get"),
    ("HEAD", 4, "Head"),
    ("OPTIONS", 5, "Options"),
    ("POST", 6, "Post"),
    ("PUT", 7, "Put"),
    ("TRACE", 8, "Trace"),
];

fn activity(method: &str) -> (i32, &'static str) {
    METHODS
        .iter()
        .find(|(m, _, _)| *m == method)
        .map_or((99, "Other"), |(_, id, name)| (*id, *name))
}

/// OCSF's action of a disposition: ALLOW Allowed (1), BLOCK Denied (2), the rest Other (99).
fn action(disposition_id: i32) -> (i32, &'static str) {
    match disposition_id {
        1 => (1, "Allowed"),
        2 => (2, "Denied"),
        _ => (99, "Other"),
    }
}

/// OCSF 1.1.0's disposition names of the WAF actions written.
fn disposition(disposition_id: i32) -> &'static str {
    match disposition_id {
        1 => "Allowed",
        2 => "Blocked",
        20 => "Count",
        22 => "Captcha",
        23 => "Challenge",
        _ => "Other",
    }
}

/// Requests → one batch with the `waf_2_0` columns (no partition columns).
pub fn waf_batch(requests: &[WafRequest]) -> Result<RecordBatch, DemoError> {
    let n = requests.len();
    let r = |i: usize| &requests[i];
    let metadata = structure(vec![
        col(
            "product",
            structure(vec![
                col("name", same(n, "AWS WAF")),
                col("vendor_name", same(n, "AWS")),
                col("version", same(n, "1")),
                col(
                    "feature",
                    structure(vec![
                        col("uid", strs(n, |i| Some(&r(i).web_acl))),
                        col("name", same(n, "WAF web ACL logs")),
                    ]),
                ),
            ]),
        ),
        col("profiles", same_list(n, &["cloud", "datetime"])),
        col("version", same(n, "1.1.0")),
    ]);
    let cloud = structure(vec![
        col(
            "account",
            structure(vec![col("uid", strs(n, |i| Some(&r(i).account_id)))]),
        ),
        col("region", strs(n, |i| Some(&r(i).region))),
        col("provider", same(n, "AWS")),
    ]);
    let src_endpoint = structure(vec![
        col("ip", strs(n, |i| Some(&r(i).src_ip))),
        col(
            "location",
            structure(vec![col("country", strs(n, |i| Some(r(i).country)))]),
        ),
    ]);
    let http_request = structure(vec![
        col(
            "url",
            structure(vec![
                col("path", strs(n, |i| Some(r(i).path))),
                col("hostname", strs(n, |i| Some(r(i).host))),
            ]),
        ),
        col("http_method", strs(n, |i| Some(r(i).method))),
        col("user_agent", strs(n, |i| Some(r(i).user_agent))),
        col("version", same(n, "HTTP/1.1")),
    ]);
    // WAF logs a status code only for the responses it sends itself (a block's 403).
    let code = int32_opt(n, |i| (r(i).disposition_id == 2).then_some(403));
    let firewall_rule = structure(vec![
        col("uid", strs(n, |i| Some(r(i).rule))),
        col("type", strs(n, |i| Some(r(i).rule_type))),
    ]);
    let cols = vec![
        col("metadata", metadata),
        col("time", int64(n, |i| r(i).time_ms)),
        col("time_dt", ts(n, |i| r(i).time_ms)),
        col("cloud", cloud),
        col("src_endpoint", src_endpoint),
        col("http_request", http_request),
        col("http_response", structure(vec![col("code", code)])),
        col("firewall_rule", firewall_rule),
        col("action_id", int32(n, |i| action(r(i).disposition_id).0)),
        col("action", strs(n, |i| Some(action(r(i).disposition_id).1))),
        col("disposition_id", int32(n, |i| r(i).disposition_id)),
        col(
            "disposition",
            strs(n, |i| Some(disposition(r(i).disposition_id))),
        ),
        col("severity", same(n, "Informational")),
        col("severity_id", int32(n, |_| 1)),
        col("class_uid", int32(n, |_| 4002)),
        col("class_name", same(n, "HTTP Activity")),
        col("category_uid", int32(n, |_| 4)),
        col("category_name", same(n, "Network Activity")),
        col("activity_id", int32(n, |i| activity(r(i).method).0)),
        col("activity_name", strs(n, |i| Some(activity(r(i).method).1))),
        col(
            "type_uid",
            int64(n, |i| 400_200 + i64::from(activity(r(i).method).0)),
        ),
        col("asl_version", same(n, "2.0")),
    ];
    let (fields, arrays): (Vec<_>, Vec<_>) = cols.into_iter().unzip();
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    RecordBatch::try_new(schema, arrays).map_err(|e| DemoError::Encode(e.to_string()))
}
