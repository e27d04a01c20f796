//! Resolver queries → one Arrow batch with the `route53` columns of a source version (OCSF DNS
//! Activity 4003): v1 is OCSF 1.0.0-rc.2 (`cloud.account_uid`), v2 OCSF 1.1.0
//! (`cloud.account.uid`, `time_dt`). `docs/sources.md` says where each column comes from.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use super::super::columns::{col, int32, int64, same, same_list, strs, struct_list, structure, ts};
use super::super::DemoError;
use super::DnsQuery;
use crate::lake::SourceVersion;

/// Resolver queries → one batch with the `route53` columns of a version (no partition columns).
pub fn dns_batch(version: SourceVersion, queries: &[DnsQuery]) -> Result<RecordBatch, DemoError> {
    let n = queries.len();
    let v2 = version == SourceVersion::V2;
    let q = |i: usize| &queries[i];
    let metadata = structure(vec![
        col(
            "product",
            structure(vec![
                col("name", same(n, "Route 53")),
                col("vendor_name", same(n, "AWS")),
                col("version", same(n, "1.100000")),
                col(
                    "feature",
                    structure(vec![col(
                        "name",
                        same(
                            n,
                            if v2 {
                                "Resolver Query Logs"
                            } else {
                                "Query Logs"
                            },
                        ),
                    )]),
                ),
            ]),
        ),
        col(
            "profiles",
            same_list(
                n,
                if v2 {
                    &["cloud", "security_control", "datetime"]
                } else {
                    &["cloud", "security_control"]
                },
            ),
        ),
        col("version", same(n, if v2 { "1.1.0" } else { "1.0.0-rc.2" })),
    ]);
    let account = strs(n, |i| Some(q(i).account_id.as_str()));
    let account = if v2 {
        col("account", structure(vec![col("uid", account)]))
    } else {
        col("account_uid", account)
    };
    let cloud = structure(vec![
        account,
        col("region", strs(n, |i| Some(&q(i).region))),
        col("provider", same(n, "AWS")),
    ]);
    let query = structure(vec![
        col("hostname", strs(n, |i| Some(&q(i).hostname))),
        col("type", strs(n, |i| Some(q(i).query_type))),
        col("class", same(n, "IN")),
    ]);
    let rdata: Vec<(&str, &str)> = queries
        .iter()
        .flat_map(|q| q.answers.iter().map(|a| (a.as_str(), q.query_type)))
        .collect();
    let m = rdata.len();
    let answers = struct_list(
        structure(vec![
            col("rdata", strs(m, |j| Some(rdata[j].0))),
            col("type", strs(m, |j| Some(rdata[j].1))),
            col("class", same(m, "IN")),
        ]),
        queries.iter().map(|q| q.answers.len()),
    );
    let src_endpoint = structure(vec![
        col("ip", strs(n, |i| Some(&q(i).src_ip))),
        col("port", int32(n, |i| q(i).src_port)),
        col("vpc_uid", strs(n, |i| Some(&q(i).vpc_id))),
        col("instance_uid", strs(n, |i| q(i).instance_id.as_deref())),
    ]);
    let activity = if v2 { (6, "Traffic") } else { (2, "Response") };
    let mut cols = vec![
        col("metadata", metadata),
        col("time", int64(n, |i| q(i).time_ms)),
    ];
    if v2 {
        cols.push(col("time_dt", ts(n, |i| q(i).time_ms)));
    }
    cols.extend([
        col("cloud", cloud),
        col("query", query),
        col("answers", answers),
        col("rcode", strs(n, |i| Some(q(i).rcode()))),
        col("rcode_id", int32(n, |i| q(i).rcode_id)),
        col("src_endpoint", src_endpoint),
        col(
            "connection_info",
            structure(vec![col("protocol_name", same(n, "UDP"))]),
        ),
        col("severity", same(n, "Informational")),
        col("severity_id", int32(n, |_| 1)),
        col("class_uid", int32(n, |_| 4003)),
        col("class_name", same(n, "DNS Activity")),
        col("category_uid", int32(n, |_| 4)),
        col("category_name", same(n, "Network Activity")),
        // The mapping's activity: Traffic (6) in OCSF 1.1.0; rc.2 derives it from the response
        // code, and a logged answer is a Response (2).
        col("activity_id", int32(n, |_| activity.0)),
        col("activity_name", same(n, activity.1)),
        col("type_uid", int64(n, |_| 400_300 + i64::from(activity.0))),
    ]);
    if v2 {
        cols.push(col("asl_version", same(n, "2.0")));
    }
    let (fields, arrays): (Vec<_>, Vec<_>) = cols.into_iter().unzip();
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    RecordBatch::try_new(schema, arrays).map_err(|e| DemoError::Encode(e.to_string()))
}
