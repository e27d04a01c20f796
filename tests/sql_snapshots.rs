//! Exact SQL of every query kind, for both dialects and both source versions.

use chrono::{DateTime, Utc};
use lakewatch::pipeline::{prepare, PanelRequest};
use lakewatch::settings::Settings;
use lakewatch::sql::Dialect;
use serde_json::{json, Value};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn sql(query: Value, from: &str, to: &str, dialect: Dialect, version: &str) -> String {
    let settings = Settings::from_json(&json!({"sourceVersion": version})).unwrap();
    let json = serde_json::to_vec(&query).unwrap();
    prepare(
        &settings,
        dialect,
        &PanelRequest {
            ref_id: "A",
            json: &json,
            from: t(from),
            to: t(to),
            interval_ms: 60_000,
            max_data_points: 1000,
        },
    )
    .unwrap()
    .sql
}

fn all_dialects(name: &str, query: Value, from: &str, to: &str) {
    for (dialect, dname) in [(Dialect::Athena, "athena"), (Dialect::Local, "local")] {
        for version in ["1", "2"] {
            insta::assert_snapshot!(
                format!("{name}__{dname}_v{version}"),
                sql(query.clone(), from, to, dialect, version)
            );
        }
    }
}

#[test]
fn flow_volume_by_account_one_day() {
    all_dialects(
        "flow_volume_by_account",
        json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"]}),
        "2024-06-01T00:00:00Z",
        "2024-06-01T23:59:59.999Z",
    );
}

#[test]
fn flow_volume_every_dimension_and_filter() {
    all_dialects(
        "flow_volume_every_filter",
        json!({"kind": "flow_volume", "measure": "packets",
               "group_by": ["region", "vpc", "subnet", "eni", "src_ip", "dst_ip", "dst_port", "protocol", "action", "direction", "boundary"],
               "filters": {"accounts": ["111122223333", "444455556666"], "regions": ["us-east-1"],
                           "vpcs": ["vpc-0a1b2c3d4e5f60718"], "subnets": ["subnet-0a1b2c3d"], "enis": ["eni-0a1b2c3d4e5f60718"],
                           "ip": ["10.0.1.17", "2001:db8::1"], "src_ip": ["10.0.1.18"], "dst_ip": ["52.1.2.3"],
                           "dst_ports": [443, 8443], "protocols": ["tcp"], "action": "REJECT", "direction": "ingress",
                           "boundary": ["internet gateway"]},
               "limit": 10}),
        "2024-06-30T22:00:00Z",
        "2024-07-01T02:00:00Z",
    );
}

#[test]
fn flow_volume_flows_over_a_long_range_uses_between() {
    all_dialects(
        "flow_volume_flows_45_days",
        json!({"kind": "flow_volume", "measure": "flows"}),
        "2023-12-01T06:00:00Z",
        "2024-01-14T06:00:00Z",
    );
}
