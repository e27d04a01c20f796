//! CloudTrail events → one Arrow batch with the `cloud_trail_mgmt` columns of a source version:
//! the union of the three classes' columns, as Security Lake's table has them (a column a class
//! lacks is NULL in its rows). v1 is OCSF 1.0.0-rc.2 (the user's ARN in `actor.user.uuid`,
//! `account_uid`, `mfa`), v2 OCSF 1.1.0 (the ARN in `actor.user.uid`, `account.uid`, `is_mfa`,
//! `time_dt`). `docs/sources.md` says where each column comes from.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use super::super::columns::{
    bools, col, int32, int64, same, same_list, string_map, strs, struct_list, structure, ts,
};
use super::super::DemoError;
use super::{DataEvent, TrailClass, TrailEvent};
use crate::lake::SourceVersion;

/// The OCSF class id, name, category id and category name of an event in a version.
fn class(e: &TrailEvent, v2: bool) -> (i32, &'static str, i32, &'static str) {
    let audit = if v2 {
        "Identity & Access Management"
    } else {
        "Audit Activity"
    };
    match e.class {
        TrailClass::ApiActivity if v2 => (6003, "API Activity", 6, "Application Activity"),
        TrailClass::ApiActivity => (3005, "API Activity", 3, "Audit Activity"),
        TrailClass::Authentication => (3002, "Authentication", 3, audit),
        TrailClass::AccountChange => (3001, "Account Change", 3, audit),
    }
}

/// The OCSF activity name of an event.
fn activity_name(e: &TrailEvent) -> &'static str {
    match (e.class, e.activity_id) {
        (TrailClass::Authentication, 1) => "Logon",
        (TrailClass::AccountChange, 1) => "Create",
        (TrailClass::AccountChange, 3) => "Password Change",
        (TrailClass::AccountChange, 6) => "Delete",
        (TrailClass::AccountChange, 7) => "Attach Policy",
        (TrailClass::AccountChange, 8) => "Detach Policy",
        (_, 1) => "Create",
        (_, 2) => "Read",
        (_, 3) => "Update",
        (_, 4) => "Delete",
        _ => "Other",
    }
}

/// CloudTrail events → one batch with the `cloud_trail_mgmt` columns of a version (no partition
/// columns).
pub fn trail_batch(
    version: SourceVersion,
    events: &[TrailEvent],
) -> Result<RecordBatch, DemoError> {
    api_batch(version, events, None)
}

/// CloudTrail data events → one batch with the `s3_data` or `lambda_execution` columns of a
/// version: the management events' columns, the product feature `Data` and the `resources` each
/// call touched (no partition columns).
pub fn data_event_batch(
    version: SourceVersion,
    events: &[DataEvent],
) -> Result<RecordBatch, DemoError> {
    let calls: Vec<TrailEvent> = events.iter().map(|e| e.event.clone()).collect();
    let resources: Vec<Vec<(String, &'static str)>> =
        events.iter().map(DataEvent::resources).collect();
    api_batch(version, &calls, Some(&resources))
}

/// `resources` (`uid` the ARN, `type`) of each event, a list per row.
fn resources_column(resources: &[Vec<(String, &'static str)>]) -> arrow::array::ArrayRef {
    let flat: Vec<&(String, &'static str)> = resources.iter().flatten().collect();
    let m = flat.len();
    let values = structure(vec![
        col("uid", strs(m, |j| Some(flat[j].0.as_str()))),
        col("type", strs(m, |j| Some(flat[j].1))),
    ]);
    struct_list(values, resources.iter().map(Vec::len))
}

/// The batch of API calls; `resources` makes it a data-event table's.
fn api_batch(
    version: SourceVersion,
    events: &[TrailEvent],
    resources: Option<&[Vec<(String, &'static str)>]>,
) -> Result<RecordBatch, DemoError> {
    let n = events.len();
    let v2 = version == SourceVersion::V2;
    let e = |i: usize| &events[i];
    let mut metadata = vec![
        col(
            "product",
            structure(vec![
                col("name", same(n, "CloudTrail")),
                col("vendor_name", same(n, "AWS")),
                col("version", same(n, "1.09")),
                col(
                    "feature",
                    structure(vec![col(
                        "name",
                        same(
                            n,
                            if resources.is_some() {
                                "Data"
                            } else {
                                "Management"
                            },
                        ),
                    )]),
                ),
            ]),
        ),
        col(
            "profiles",
            if v2 {
                same_list(n, &["cloud", "datetime"])
            } else {
                same_list(n, &["cloud"])
            },
        ),
        col("uid", strs(n, |i| Some(&e(i).event_id))),
        col("version", same(n, if v2 { "1.1.0" } else { "1.0.0-rc.2" })),
    ];
    if v2 {
        metadata.push(col(
            "event_code",
            strs(n, |i| {
                Some(match e(i).class {
                    TrailClass::Authentication => "AwsConsoleSignIn",
                    _ => "AwsApiCall",
                })
            }),
        ));
    }
    let account = |name: &str, values: Vec<Option<&str>>| {
        let values = strs(n, |i| values[i]);
        if v2 {
            col("account", structure(vec![col("uid", values)]))
        } else {
            col(name, values)
        }
    };
    let cloud = structure(vec![
        account(
            "account_uid",
            events.iter().map(|e| Some(e.account_id.as_str())).collect(),
        ),
        col("region", strs(n, |i| Some(&e(i).region))),
        col("provider", same(n, "AWS")),
    ]);
    let api = structure(vec![
        col("operation", strs(n, |i| Some(e(i).operation))),
        col(
            "service",
            structure(vec![col("name", strs(n, |i| Some(e(i).service)))]),
        ),
        col(
            "request",
            structure(vec![col("uid", strs(n, |i| e(i).request_id.as_deref()))]),
        ),
        col(
            "response",
            structure(vec![
                col("error", strs(n, |i| e(i).error_code)),
                col("message", strs(n, |i| e(i).error_message)),
            ]),
        ),
    ]);
    let id = |i: usize| &e(i).identity;
    let (arn, principal_id) = if v2 {
        ("uid", "uid_alt")
    } else {
        ("uuid", "uid")
    };
    let user = structure(vec![
        col("type", strs(n, |i| Some(id(i).kind))),
        col("name", strs(n, |i| id(i).name.as_deref())),
        col(arn, strs(n, |i| id(i).arn.as_deref())),
        col(principal_id, strs(n, |i| id(i).principal_id.as_deref())),
        account(
            "account_uid",
            events
                .iter()
                .map(|e| e.identity.account_id.as_deref())
                .collect(),
        ),
        col("credential_uid", strs(n, |i| id(i).access_key.as_deref())),
    ]);
    let session = structure(vec![
        col("issuer", strs(n, |i| id(i).session_issuer.as_deref())),
        col(
            if v2 { "is_mfa" } else { "mfa" },
            bools(n, |i| id(i).session_mfa),
        ),
    ]);
    let actor = structure(vec![
        col("user", user),
        col("session", session),
        col("invoked_by", strs(n, |i| id(i).invoked_by)),
    ]);
    let src_endpoint = structure(vec![
        col("ip", strs(n, |i| e(i).src_ip.as_deref())),
        col("domain", strs(n, |i| e(i).src_domain)),
    ]);
    let http_request = structure(vec![col("user_agent", strs(n, |i| Some(&e(i).user_agent)))]);
    // The user a sign-in or an account change is about.
    let target = structure(vec![
        col("name", strs(n, |i| e(i).target_user.as_deref())),
        col(
            "uid",
            strs(n, |i| {
                e(i).target_user
                    .as_ref()
                    .map(|_| e(i).identity.principal_id.as_deref().unwrap_or_default())
            }),
        ),
    ]);
    let status = |i: usize| if e(i).success { "Success" } else { "Failure" };
    let class_of = |i: usize| class(e(i), v2);
    let mut cols = vec![
        col("metadata", structure(metadata)),
        col("time", int64(n, |i| e(i).time_ms)),
    ];
    if v2 {
        cols.push(col("time_dt", ts(n, |i| e(i).time_ms)));
    }
    cols.extend([
        col("cloud", cloud),
        col("api", api),
        col("actor", actor),
        col("src_endpoint", src_endpoint),
        col("http_request", http_request),
        col("user", target),
        col(
            if v2 { "is_mfa" } else { "mfa" },
            bools(n, |i| e(i).mfa_used),
        ),
        col("status", strs(n, |i| Some(status(i)))),
        col("status_id", int32(n, |i| if e(i).success { 1 } else { 2 })),
        col("severity", same(n, "Informational")),
        col("severity_id", int32(n, |_| 1)),
        col("class_uid", int32(n, |i| class_of(i).0)),
        col("class_name", strs(n, |i| Some(class_of(i).1))),
        col("category_uid", int32(n, |i| class_of(i).2)),
        col("category_name", strs(n, |i| Some(class_of(i).3))),
        col("activity_id", int32(n, |i| e(i).activity_id)),
        col("activity_name", strs(n, |i| Some(activity_name(e(i))))),
        col(
            "type_uid",
            int64(n, |i| {
                i64::from(class_of(i).0) * 100 + i64::from(e(i).activity_id)
            }),
        ),
    ]);
    if v2 {
        cols.push(col("asl_version", same(n, "2.0")));
    }
    cols.push(col(
        "unmapped",
        string_map(n, |i| {
            let event = e(i);
            let mut entries = vec![
                ("recipientAccountId", event.account_id.clone()),
                ("readOnly", event.read_only.to_string()),
            ];
            entries.extend(event.parameters.iter().cloned());
            entries
        })?,
    ));
    // Observables: the caller's address (or service) and name, where the record has them.
    let observed: Vec<Vec<(&str, &str, i32, String)>> = events
        .iter()
        .map(|event| {
            let mut o = Vec::new();
            if let Some(ip) = &event.src_ip {
                o.push(("src_endpoint.ip", "IP Address", 2, ip.clone()));
            }
            if let Some(domain) = event.src_domain {
                o.push(("src_endpoint.domain", "Hostname", 1, domain.to_string()));
            }
            if let Some(name) = &event.identity.name {
                o.push(("actor.user.name", "User Name", 4, name.clone()));
            }
            o
        })
        .collect();
    let flat: Vec<&(&str, &str, i32, String)> = observed.iter().flatten().collect();
    let m = flat.len();
    let values = structure(vec![
        col("name", strs(m, |j| Some(flat[j].0))),
        col("value", strs(m, |j| Some(flat[j].3.as_str()))),
        col("type", strs(m, |j| Some(flat[j].1))),
        col("type_id", int32(m, |j| flat[j].2)),
    ]);
    cols.push(col(
        "observables",
        struct_list(values, observed.iter().map(Vec::len)),
    ));
    if let Some(resources) = resources {
        cols.push(col("resources", resources_column(resources)));
    }
    let (fields, arrays): (Vec<_>, Vec<_>) = cols.into_iter().unzip();
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    RecordBatch::try_new(schema, arrays).map_err(|e| DemoError::Encode(e.to_string()))
}
