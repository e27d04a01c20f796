//! Every kind's Athena SQL, run on an engine other than ours, agrees with the local engine.
//!
//! For each case and source version: the local-dialect SQL runs on the local engine (DataFusion)
//! over the messy fixture lake; the Athena-dialect SQL runs on DuckDB over the same Parquet files
//! (`scripts/cross_engine.py`, from the `.venv` that `scripts/test` installs), transpiled from
//! Trino by sqlglot, with Trino's IP address semantics as Python functions (a CIDR block with host
//! bits and a block of the other address family raise, as on Athena engines before Trino 427; a
//! CAST of a non-address fails the query). The two answers must be the same rows.
//!
//! What this proves and what only Athena can: docs/testing.md ("Cross-engine check").

use std::path::PathBuf;
use std::process::{Command, Stdio};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use lakewatch::engine::local::LocalEngine;
use lakewatch::engine::{Engine, EngineRequest};
use lakewatch::pipeline::{lake_tables, render_sql, PanelRequest};
use lakewatch::settings::Settings;
use lakewatch::sql::Dialect;
use serde_json::{json, Value};

use crate::common::{lake, t};

const DAY_FROM: &str = "2024-06-13T00:00:00Z";
const DAY_TO: &str = "2024-06-13T23:59:59.999Z";

/// A kind's query and its time range.
struct Case {
    name: &'static str,
    query: Value,
    from: &'static str,
    to: &'static str,
}

fn case(name: &'static str, query: Value, from: &'static str, to: &'static str) -> Case {
    Case {
        name,
        query,
        from,
        to,
    }
}

/// Every query kind, with the filters and shapes that exercise the mess: CIDR blocks with host
/// bits, both address families in one filter, IPv6 own blocks, NULL ports and addresses.
fn cases() -> Vec<Case> {
    vec![
        case(
            "flow_volume_by_account",
            json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"]}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "flow_volume_every_dimension_mixed_families",
            json!({"kind": "flow_volume", "measure": "packets",
                   "group_by": ["region", "vpc", "src_ip", "dst_ip", "dst_port", "protocol", "action", "direction", "boundary"],
                   "filters": {"ip": ["10.0.1.5/16", "fd00:1::/32", "2600:1f18::/32"],
                               "dst_ports": [443, 53], "protocols": ["tcp", "udp"]},
                   "limit": 50}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "flow_volume_flows_long_range",
            json!({"kind": "flow_volume", "measure": "flows"}),
            "2024-05-20T06:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "top_talkers_src",
            json!({"kind": "top_talkers", "by": "src_ip", "limit": 15}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "top_talkers_either_in_blocks",
            json!({"kind": "top_talkers", "by": "either", "measure": "packets", "limit": 10,
                   "filters": {"ip": ["10.4.0.0/14", "fd00::/8"], "exclude_ips": ["10.4.0.10"]}}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "top_pairs_v6_destinations",
            json!({"kind": "top_pairs", "filters": {"dst_ip": ["2000::/3", "fd00::1:2:3/8"]}}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "top_ports",
            json!({"kind": "top_ports", "measure": "flows", "limit": 30}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "top_interfaces_by_vpc",
            json!({"kind": "top_interfaces", "group_by": ["account", "vpc", "eni"]}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "rejected_over_time",
            json!({"kind": "rejected", "group_by": ["dst_port"], "limit": 5}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "rejected_top_sources",
            json!({"kind": "rejected", "view": "top_sources", "limit": 20}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "port_scan",
            json!({"kind": "port_scan", "threshold": 3, "window_minutes": 60}),
            "2024-06-12T00:00:00Z",
            DAY_TO,
        ),
        case(
            "internet_egress_own_blocks_of_both_families",
            json!({"kind": "internet_egress", "own_cidrs": ["52.216.0.0/15", "2606:4700::/32"], "limit": 30}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "egress_anomaly_by_eni_own_blocks_of_both_families",
            json!({"kind": "egress_anomaly", "by": "eni", "own_cidrs": ["52.216.0.0/15", "2606:4700::/32"]}),
            "2024-06-14T06:30:00Z",
            "2024-06-15T11:59:59.999Z",
        ),
        case(
            "new_external_peers",
            json!({"kind": "new_external_peers", "baseline_days": 5}),
            "2024-06-14T00:00:00Z",
            "2024-06-15T11:59:59.999Z",
        ),
        case(
            "beaconing",
            json!({"kind": "beaconing", "min_contacts": 4, "max_jitter_percent": 100}),
            "2024-06-14T00:00:00Z",
            "2024-06-15T11:59:59.999Z",
        ),
        case(
            "flow_search",
            json!({"kind": "flow_search", "limit": 200,
                   "filters": {"ip": ["10.0.0.0/8", "::/0"], "accounts": ["111122223333"]}}),
            "2024-06-13T10:00:00Z",
            "2024-06-13T13:00:00Z",
        ),
        case(
            "coverage_silent",
            json!({"kind": "coverage", "silent_for_minutes": 60, "format": "table"}),
            "2024-06-15T11:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "freshness",
            json!({"kind": "freshness", "lookback_days": 2}),
            "2024-06-15T11:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "compliance_status_table",
            json!({"kind": "compliance_status", "controls": ["EC2.6"], "lookback_days": 3}),
            "2024-06-01T00:00:00Z",
            "2024-06-10T12:00:00Z",
        ),
        case(
            "compliance_status_counts",
            json!({"kind": "compliance_status", "view": "counts"}),
            "2024-06-01T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "compliance_over_time",
            json!({"kind": "compliance_over_time", "controls": ["EC2.6", "EC2.10"], "group_by": ["account", "control"]}),
            "2024-06-08T00:00:00Z",
            "2024-06-12T00:00:00Z",
        ),
        case(
            "sql_macros",
            json!({"kind": "sql", "format": "table",
                   "rawSql": "SELECT $__timeGroupAlias(time, 1h, 0), region, count(*) AS flows, sum(traffic.bytes) AS bytes\nFROM $__table(vpc_flow)\nWHERE $__partitionFilter AND $__timeFilter(time)\n  AND $__in(cloud.region, region)\nGROUP BY 1, 2\nORDER BY 1, 2",
                   "variables": {"region": ["us-east-1", "eu-west-1"]}}),
            "2024-06-13T22:30:00Z",
            "2024-06-14T03:29:59.999Z",
        ),
        case(
            "variable_vpcs",
            json!({"kind": "variable", "values": "vpcs", "filters": {"accounts": ["111122223333"]}}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "variable_controls",
            json!({"kind": "variable", "values": "controls"}),
            "2024-06-01T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "annotations_control_status_changes",
            json!({"kind": "annotations", "event": "control_status_changes", "control": "EC2.6"}),
            "2024-06-05T00:00:00Z",
            "2024-06-12T00:00:00Z",
        ),
        case(
            "api_activity_every_dimension",
            json!({"kind": "api_activity", "measure": "failures",
                   "group_by": ["account", "region", "service", "operation", "principal", "principal_name", "principal_type",
                                "access_key", "session_issuer", "src_ip", "user_agent", "outcome", "error_code", "class", "mfa"],
                   "filters": {"src_ip": ["10.0.1.5/16", "198.51.100.0/24", "2001:db8::/32"], "exclude_ip": ["198.51.100.11"],
                               "services": ["ec2", "iam", "lambda"]},
                   "limit": 40}),
            "2024-06-09T00:00:00Z",
            "2024-06-10T23:59:59.999Z",
        ),
        case(
            "api_activity_distinct",
            json!({"kind": "api_activity", "measure": "source_ips", "group_by": ["account", "principal_type"]}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "top_principals",
            json!({"kind": "top_principals", "measure": "failures", "group_by": ["principal", "session_issuer"],
                   "filters": {"principal_types": ["IAMUser", "AssumedRole", "AWSService"], "outcome": "failure"}, "limit": 50}),
            "2024-06-09T00:00:00Z",
            "2024-06-12T00:00:00Z",
        ),
        case(
            "auth_events",
            json!({"kind": "auth_events", "limit": 500, "filters": {"exclude_ip": ["10.0.0.0/8"]}}),
            "2024-06-01T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "auth_events_series_no_mfa",
            json!({"kind": "auth_events", "format": "series", "filters": {"mfa": false}}),
            "2024-06-01T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "access_denied",
            json!({"kind": "access_denied", "group_by": ["principal", "operation", "error_code", "src_ip"]}),
            "2024-06-13T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "iam_changes",
            json!({"kind": "iam_changes", "limit": 300}),
            "2024-06-01T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "sql_cloud_trail",
            json!({"kind": "sql", "format": "table",
                   "rawSql": "SELECT region, api.operation AS operation, count(*) AS calls FROM $__table(cloud_trail_mgmt) WHERE $__partitionFilter GROUP BY 1, 2 ORDER BY 1, 2"}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "dns_queries_every_dimension",
            json!({"kind": "dns_queries", "measure": "sources",
                   "group_by": ["account", "region", "domain", "query_type", "rcode", "vpc", "src_ip", "instance"],
                   "filters": {"src_ip": ["10.0.1.5/16", "2001:db8::/32"], "exclude_ip": ["10.0.0.11"]},
                   "limit": 40}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "top_domains_by_sources",
            json!({"kind": "top_domains", "measure": "sources", "group_by": ["domain", "query_type"], "limit": 50}),
            "2024-06-09T00:00:00Z",
            "2024-06-12T00:00:00Z",
        ),
        case(
            "findings_by_severity_and_product",
            json!({"kind": "findings", "group_by": ["severity", "product", "class"], "min_severity": "Low"}),
            "2024-06-13T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "findings_by_type_and_resource",
            json!({"kind": "findings", "group_by": ["type", "resource", "resource_type"],
                   "filters": {"products": ["GuardDuty", "Inspector", "Macie"]}}),
            "2024-06-01T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "annotations_iam_changes",
            json!({"kind": "annotations", "event": "iam_changes"}),
            "2024-06-01T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "annotations_sign_ins_without_mfa",
            json!({"kind": "annotations", "event": "sign_ins", "filters": {"mfa": "false"}}),
            "2024-06-01T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "annotations_new_findings",
            json!({"kind": "annotations", "event": "new_findings", "min_severity": "Low"}),
            "2024-06-08T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "active_findings",
            json!({"kind": "active_findings", "min_severity": "Informational", "limit": 1000}),
            "2024-06-08T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "active_findings_series",
            json!({"kind": "active_findings", "format": "series", "min_severity": "Low",
                   "filters": {"products": ["GuardDuty", "Inspector", "Config"]}}),
            "2024-06-13T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "nxdomain",
            json!({"kind": "nxdomain", "limit": 200, "filters": {"rcodes": ["NXDOMAIN", "SERVFAIL"]}}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "new_domains",
            json!({"kind": "new_domains", "baseline_days": 3, "limit": 500}),
            "2024-06-15T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "dns_tunneling",
            json!({"kind": "dns_tunneling", "min_label_length": 10, "min_subdomains": 2, "limit": 100}),
            "2024-06-14T00:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "sql_route53",
            json!({"kind": "sql", "format": "table",
                   "rawSql": "SELECT region, query.type AS query_type, count(*) AS queries FROM $__table(route53) WHERE $__partitionFilter GROUP BY 1, 2 ORDER BY 1, 2"}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "waf_requests_every_dimension",
            json!({"kind": "waf_requests", "measure": "clients",
                   "group_by": ["account", "region", "action", "rule", "rule_type", "web_acl", "country", "src_ip", "path", "host", "method"],
                   "filters": {"src_ip": ["45.155.205.0/24", "2001:db8::/32", "198.51.100.77"], "exclude_ip": ["203.0.113.11"]},
                   "limit": 40}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "waf_top_blocked_uris",
            json!({"kind": "top_blocked", "by": "uris", "limit": 50}),
            "2024-06-09T00:00:00Z",
            "2024-06-12T00:00:00Z",
        ),
        case(
            "waf_rate_limited",
            json!({"kind": "rate_limited", "limit": 100, "filters": {"countries": ["nl"]}}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "waf_sql",
            json!({"kind": "sql", "format": "table",
                   "rawSql": "SELECT region, firewall_rule.type AS rule_type, count(*) AS requests FROM $__table(waf) WHERE $__partitionFilter GROUP BY 1, 2 ORDER BY 1, 2"}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "s3_data_access_every_dimension",
            json!({"kind": "s3_data_access", "measure": "principals",
                   "group_by": ["account", "region", "bucket", "operation", "access", "principal_type", "src_ip", "outcome"],
                   "filters": {"exclude_ip": ["10.0.0.0/8"], "operations": ["GetObject", "PutObject", "ListObjects"]},
                   "limit": 40}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "s3_data_access_who_read",
            json!({"kind": "s3_data_access", "format": "table", "limit": 100, "filters": {"access": "read"}}),
            "2024-06-13T12:00:00Z",
            "2024-06-15T12:00:00Z",
        ),
        case(
            "lambda_invocations_by_function",
            json!({"kind": "lambda_invocations", "measure": "source_ips", "group_by": ["function", "principal", "outcome"]}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "lambda_invocations_table",
            json!({"kind": "lambda_invocations", "format": "table", "limit": 100,
                   "filters": {"functions": ["orders-api", "image-resize"]}}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "sql_s3_data",
            json!({"kind": "sql", "format": "table",
                   "rawSql": "SELECT region, api.operation AS operation, count(*) AS calls FROM $__table(s3_data) WHERE $__partitionFilter GROUP BY 1, 2 ORDER BY 1, 2"}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "annotations_flow_logs_silent",
            json!({"kind": "annotations", "event": "flow_logs_silent", "silent_for_minutes": 50,
                   "group_by": ["account", "region", "vpc"], "lookback_days": 1}),
            "2024-06-12T06:00:00Z",
            "2024-06-13T06:00:00Z",
        ),
        // One source per case (a timeline's parts are separate statements): the fixture lake's
        // VPC with a NAT gateway, whose forwarded packets its flow part groups apart, and whose
        // control findings its findings part lists.
        case(
            "resource_timeline_vpc_flows",
            json!({"kind": "resource_timeline", "resource": "vpc-0449750c815c187cc", "sources": ["flows"]}),
            DAY_FROM,
            DAY_TO,
        ),
        case(
            "resource_timeline_vpc_findings",
            json!({"kind": "resource_timeline", "resource": "vpc-0449750c815c187cc", "sources": ["findings"]}),
            DAY_FROM,
            DAY_TO,
        ),
    ]
}

fn time(s: &str) -> DateTime<Utc> {
    t(s)
}

fn settings(version: &str) -> Settings {
    Settings::from_json(
        &json!({"engine": "local", "lakePath": lake().display().to_string(),
                                "sourceVersion": version, "rawSql": "any"}),
    )
    .unwrap()
}

fn sql(case: &Case, version: &str, dialect: Dialect) -> String {
    let json = serde_json::to_vec(&case.query).unwrap();
    render_sql(
        &settings(version),
        dialect,
        &PanelRequest {
            ref_id: case.name,
            json: &json,
            from: time(case.from),
            to: time(case.to),
            interval_ms: 3_600_000,
            max_data_points: 1000,
        },
    )
    .unwrap_or_else(|e| panic!("{} v{version}: {e:?}", case.name))
}

/// One answer: column names and rows of JSON values (times as epoch ms).
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

/// A column's values as JSON: whole numbers as i64, other numbers as f64, times as epoch ms,
/// text as text.
fn values(column: &ArrayRef) -> Vec<Value> {
    let as_json = |array: ArrayRef, f: &dyn Fn(&ArrayRef, usize) -> Value| -> Vec<Value> {
        (0..array.len())
            .map(|i| {
                if array.is_null(i) {
                    Value::Null
                } else {
                    f(&array, i)
                }
            })
            .collect()
    };
    match column.data_type() {
        DataType::Timestamp(_, _) => {
            let ms = cast(column, &DataType::Timestamp(TimeUnit::Millisecond, None)).unwrap();
            let ms = cast(&ms, &DataType::Int64).unwrap();
            as_json(ms, &|a, i| json!(a.as_primitive::<Int64Type>().value(i)))
        }
        t if t.is_integer() => {
            let ints = cast(column, &DataType::Int64).unwrap();
            as_json(ints, &|a, i| json!(a.as_primitive::<Int64Type>().value(i)))
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(_, _) => {
            let floats = cast(column, &DataType::Float64).unwrap();
            as_json(floats, &|a, i| {
                json!(a.as_primitive::<arrow::datatypes::Float64Type>().value(i))
            })
        }
        DataType::Boolean => as_json(column.clone(), &|a, i| json!(a.as_boolean().value(i))),
        _ => {
            let text = cast(column, &DataType::Utf8).unwrap();
            as_json(text, &|a, i| json!(a.as_string::<i32>().value(i)))
        }
    }
}

fn answer_of(batches: &[RecordBatch], columns: Vec<String>) -> Answer {
    let mut rows = Vec::new();
    for batch in batches {
        let cols: Vec<Vec<Value>> = batch.columns().iter().map(values).collect();
        for i in 0..batch.num_rows() {
            rows.push(cols.iter().map(|c| c[i].clone()).collect());
        }
    }
    Answer { columns, rows }
}

async fn local_answer(engine: &LocalEngine, case: &Case, version: &str) -> Answer {
    let request = EngineRequest {
        ref_id: case.name.to_string(),
        sql: sql(case, version, Dialect::Local),
        // The fixture lake has no EKS audit logs (the demo does not generate them).
        tables: lake_tables(&settings(version))
            .into_iter()
            .filter(|t| t.source != lakewatch::lake::Source::EksAudit)
            .collect(),
        settled: true,
        row_limit: None,
    };
    let out = engine
        .run(&request)
        .await
        .unwrap_or_else(|e| panic!("{} v{version} local: {e}", case.name));
    let columns = out
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    answer_of(&out.batches, columns)
}

fn python() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.is_file(),
        "{} is missing: run scripts/test once (it installs DuckDB and sqlglot into .venv)",
        p.display()
    );
    p
}

/// The Athena SQL of every (case, version) on DuckDB, in one process.
fn duckdb_answers(cases: &[(String, String)]) -> Vec<Result<Answer, String>> {
    let input: Vec<Value> = cases
        .iter()
        .map(|(name, sql)| json!({"name": name, "sql": sql}))
        .collect();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/cross_engine.py");
    let mut child = Command::new(python())
        .arg(script)
        .arg("--lake")
        .arg(lake())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cross-engine runner starts");
    let body = serde_json::to_vec(&input).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&body).unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "cross_engine.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    results
        .into_iter()
        .map(|r| match r["error"].as_str() {
            Some(e) => Err(e.to_string()),
            None => Ok(Answer {
                columns: serde_json::from_value(r["columns"].clone()).unwrap(),
                rows: serde_json::from_value(r["rows"].clone()).unwrap(),
            }),
        })
        .collect()
}

/// Values the two engines may spell differently but mean the same: numbers compare as numbers
/// (an average may be whole on one side), within a relative 1e-9.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        _ => a == b,
    }
}

fn same_answer(a: &Answer, b: &Answer) -> Result<(), String> {
    let lower = |c: &[String]| c.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>();
    if lower(&a.columns) != lower(&b.columns) {
        return Err(format!("columns {:?} vs {:?}", a.columns, b.columns));
    }
    if a.rows.len() != b.rows.len() {
        return Err(format!("{} rows vs {}", a.rows.len(), b.rows.len()));
    }
    for (i, (x, y)) in a.rows.iter().zip(&b.rows).enumerate() {
        if x.len() != y.len() || !x.iter().zip(y).all(|(p, q)| same_value(p, q)) {
            return Err(format!("row {i}: {x:?} vs {y:?}"));
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_kinds_athena_sql_on_duckdb_agrees_with_the_local_engine() {
    let engine = LocalEngine::new(lake());
    let cases = cases();
    let mut runs = Vec::new();
    let mut athena = Vec::new();
    for case in &cases {
        // Security Lake has no v1 WAF table: the WAF cases run on version 2 only.
        let versions: &[&str] = if case.name.starts_with("waf_") {
            &["2"]
        } else {
            &["1", "2"]
        };
        for &version in versions {
            runs.push((case, version, local_answer(&engine, case, version).await));
            athena.push((
                format!("{} v{version}", case.name),
                sql(case, version, Dialect::Athena),
            ));
        }
    }
    let duck = duckdb_answers(&athena);
    let mut failures = Vec::new();
    let mut empty = Vec::new();
    for ((case, version, local), duck) in runs.iter().zip(&duck) {
        let name = format!("{} v{version}", case.name);
        match duck {
            Err(e) => failures.push(format!("{name}: DuckDB failed: {e}")),
            Ok(duck) => {
                if let Err(e) = same_answer(local, duck) {
                    failures.push(format!("{name}: {e}"));
                }
                if local.rows.is_empty() {
                    empty.push(name);
                }
            }
        }
    }
    let total = runs.len();
    println!(
        "cross-engine: {}/{total} kind x version cases agree",
        total - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(empty.is_empty(), "cases that prove nothing: {empty:?}");
}

/// The runner's own check of its Trino semantics (host bits, mixed families, TRY_CAST).
#[test]
fn the_duckdb_runner_follows_trinos_ip_semantics() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/cross_engine.py");
    let out = Command::new(python())
        .arg(script)
        .arg("--self-test")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
