//! Every kind's frames, with data and without, read the way Grafana's server reads them (the Go
//! SDK's Arrow rules and the dataplane rules of the declared type), through the plugin binary with
//! the header alert rules send.

use std::collections::BTreeMap;

use crate::common::{plugin, query, settings};
use lakewatch::frame::grafana_rules::{check_frames, Shape};
use lakewatch::grafana_host::{HostResponse, PluginProcess};
use serde_json::{json, Value};

const FROM: &str = "2024-06-15T00:00:00Z";
const TO: &str = "2024-06-15T12:00:00Z";
/// Before the fixture lake begins: no flow records, no findings.
const EMPTY_FROM: &str = "2023-01-01T00:00:00Z";
const EMPTY_TO: &str = "2023-01-01T12:00:00Z";

/// How a series kind answers when its range holds no records.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Empty {
    /// The dataplane's no data: one typed frame without fields.
    NoData,
    /// One series of zeros: a count with nothing to count is 0, not unknown.
    Zeros,
}

fn series_kinds() -> Vec<(Value, Empty)> {
    vec![
        (json!({"kind": "flow_volume"}), Empty::Zeros),
        (
            json!({"kind": "flow_volume", "group_by": ["vpc"]}),
            Empty::NoData,
        ),
        (
            json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account", "region"]}),
            Empty::NoData,
        ),
        (
            json!({"kind": "rejected", "group_by": ["vpc"]}),
            Empty::NoData,
        ),
        (
            json!({"kind": "coverage", "format": "series"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "freshness", "format": "series"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "exposed_services", "format": "series"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "egress_anomaly", "format": "series"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "egress_anomaly", "format": "score", "by": "eni"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "new_external_peers", "format": "series"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "beaconing", "format": "series"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "compliance_over_time", "group_by": ["account"]}),
            Empty::NoData,
        ),
        (
            json!({"kind": "compliance_over_time", "measure": "pass_rate"}),
            Empty::NoData,
        ),
        (json!({"kind": "api_activity"}), Empty::Zeros),
        (
            json!({"kind": "s3_data_access", "group_by": ["bucket", "access"]}),
            Empty::NoData,
        ),
        (
            json!({"kind": "lambda_invocations", "measure": "principals", "group_by": ["function"]}),
            Empty::NoData,
        ),
        (
            json!({"kind": "api_activity", "measure": "failures", "group_by": ["service"]}),
            Empty::NoData,
        ),
        (
            json!({"kind": "top_principals", "format": "series"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "auth_events", "format": "series"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "findings", "group_by": ["severity"]}),
            Empty::NoData,
        ),
        (
            json!({"kind": "active_findings", "format": "series"}),
            Empty::NoData,
        ),
        (
            json!({"kind": "sql", "format": "time_series", "rawSql":
                "SELECT $__timeGroupAlias(time_dt, 5m, 0), region, count(*) AS flows \
                 FROM $__table(vpc_flow) WHERE $__partitionFilter GROUP BY 1, 2 ORDER BY 1"}),
            Empty::NoData,
        ),
    ]
}

fn table_kinds() -> Vec<Value> {
    vec![
        json!({"kind": "rejected", "view": "top_sources"}),
        json!({"kind": "top_talkers", "by": "either"}),
        json!({"kind": "top_pairs"}),
        json!({"kind": "top_ports"}),
        json!({"kind": "top_interfaces"}),
        json!({"kind": "internet_egress"}),
        json!({"kind": "exposed_services"}),
        json!({"kind": "egress_anomaly"}),
        json!({"kind": "new_external_peers"}),
        json!({"kind": "beaconing"}),
        json!({"kind": "top_subnets"}),
        json!({"kind": "port_scan", "threshold": 2}),
        json!({"kind": "flow_search", "limit": 20}),
        json!({"kind": "coverage"}),
        json!({"kind": "freshness"}),
        json!({"kind": "compliance_status"}),
        json!({"kind": "compliance_status", "view": "counts"}),
        json!({"kind": "annotations", "event": "control_status_changes"}),
        json!({"kind": "annotations", "event": "flow_logs_silent"}),
        json!({"kind": "top_principals"}),
        json!({"kind": "auth_events"}),
        json!({"kind": "access_denied"}),
        json!({"kind": "iam_changes"}),
        json!({"kind": "active_findings"}),
        json!({"kind": "sql", "rawSql": "SELECT NULL AS nul, 1 AS one, 'x' AS text"}),
    ]
}

async fn ask_as_alert(
    p: &PluginProcess,
    version: &str,
    q: &Value,
    from: &str,
    to: &str,
) -> HostResponse {
    let mut answer = p
        .query(
            &settings(version),
            &[query("A", q.clone(), from, to, 60_000)],
            &[("FromAlert", "true")],
        )
        .await
        .unwrap();
    let a = answer.remove("A").unwrap();
    assert_eq!(a.error, "", "v{version} {q}");
    a
}

fn read_as_grafana(a: &HostResponse, what: &str) -> Shape {
    match check_frames(&a.raw_frames) {
        Ok(shape) => shape,
        Err(broken) => {
            let lines: Vec<String> = broken.iter().map(|v| v.to_string()).collect();
            panic!(
                "{what}: Grafana's readers refuse the frames:\n{}",
                lines.join("\n")
            )
        }
    }
}

#[tokio::test]
async fn every_series_kind_reads_as_dataplane_series_or_no_data() {
    let p = plugin().await;
    for (q, empty) in series_kinds() {
        let versions: &[&str] = if q["kind"] == "sql" {
            &["2"]
        } else {
            &["1", "2"]
        };
        for version in versions {
            let what = format!("v{version} {q}");
            let a = ask_as_alert(&p, version, &q, FROM, TO).await;
            match read_as_grafana(&a, &what) {
                Shape::Series(series) => assert!(!series.is_empty(), "{what}"),
                other => panic!("{what}: {other:?}"),
            }
            let a = ask_as_alert(&p, version, &q, EMPTY_FROM, EMPTY_TO).await;
            let shape = read_as_grafana(&a, &format!("{what} without data"));
            match empty {
                Empty::NoData => assert_eq!(shape, Shape::NoData, "{what} without data"),
                Empty::Zeros => {
                    assert_eq!(shape, Shape::Series(vec![BTreeMap::new()]), "{what}");
                    let values = &a.frames[0].fields[1].values;
                    assert!(values.iter().all(|v| v == &json!(0)), "{what}: {values:?}");
                }
            }
        }
    }
}

#[tokio::test]
async fn every_table_kind_reads_under_the_go_sdk_rules_and_nulls_stay_null() {
    let p = plugin().await;
    for q in table_kinds() {
        for (from, to) in [(FROM, TO), (EMPTY_FROM, EMPTY_TO)] {
            let what = format!("{q} {from}");
            let a = ask_as_alert(&p, "2", &q, from, to).await;
            assert_eq!(read_as_grafana(&a, &what), Shape::Untyped, "{what}");
        }
    }
    let q = json!({"kind": "sql", "rawSql": "SELECT NULL AS nul, 1 AS one, 'x' AS text"});
    let a = ask_as_alert(&p, "2", &q, FROM, TO).await;
    let frame = &a.frames[0];
    assert_eq!(frame.field("nul").unwrap().values, vec![Value::Null]);
    assert_eq!(frame.field("one").unwrap().values, vec![json!(1)]);
}

#[tokio::test]
async fn compliance_measures_of_one_group_carry_their_measure_as_a_label() {
    let p = plugin().await;
    let q = json!({"kind": "compliance_over_time", "group_by": ["account"]});
    let a = ask_as_alert(&p, "2", &q, FROM, TO).await;
    let Shape::Series(series) = read_as_grafana(&a, "compliance_over_time") else {
        panic!("series expected")
    };
    let measures: Vec<&str> = series.iter().map(|l| l["measure"].as_str()).collect();
    let per_account = measures.len() / 2;
    assert!(per_account > 0);
    assert_eq!(
        measures.iter().filter(|m| **m == "pass_rate").count(),
        per_account
    );
    assert_eq!(
        measures.iter().filter(|m| **m == "failing").count(),
        per_account
    );
}

#[tokio::test]
async fn the_shipped_alert_rule_reads_as_a_series_per_vpc_and_as_no_data_when_there_is_none() {
    let rule = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/provisioning/alerting/lakewatch-coverage.yaml"
    ))
    .unwrap();
    for line in [
        "kind: coverage",
        "format: series",
        "group_by: [account, region, vpc]",
    ] {
        assert!(rule.contains(line), "the shipped rule's query has {line}");
    }
    let model = json!({"kind": "coverage", "format": "series",
        "group_by": ["account", "region", "vpc"], "filters": {}});
    let p = plugin().await;
    for version in ["1", "2"] {
        let a = ask_as_alert(&p, version, &model, "2024-06-15T11:00:00Z", TO).await;
        let Shape::Series(series) = read_as_grafana(&a, "the alert rule") else {
            panic!("series expected")
        };
        let vpcs: Vec<&str> = series.iter().map(|l| l["vpc"].as_str()).collect();
        let mut distinct = vpcs.clone();
        distinct.sort();
        distinct.dedup();
        assert!(vpcs.len() > 1, "v{version}: {vpcs:?}");
        assert_eq!(distinct.len(), vpcs.len(), "v{version}: one series per VPC");
        for labels in &series {
            let keys: Vec<&str> = labels.keys().map(String::as_str).collect();
            assert_eq!(keys, ["account", "region", "vpc"]);
        }
        let a = ask_as_alert(&p, version, &model, EMPTY_FROM, EMPTY_TO).await;
        assert_eq!(
            read_as_grafana(&a, "the alert rule, no data"),
            Shape::NoData
        );
    }
}

#[tokio::test]
async fn the_shipped_exposed_service_rule_reads_as_a_series_per_service() {
    let rule = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/provisioning/alerting/lakewatch-exposed-services.yaml"
    ))
    .unwrap();
    for line in ["kind: exposed_services", "format: series"] {
        assert!(rule.contains(line), "the shipped rule's query has {line}");
    }
    let model = json!({"kind": "exposed_services", "format": "series", "filters": {}});
    let (_, _, jump_host, _) = lakewatch::demo::exposed_service(&crate::common::config());
    let p = plugin().await;
    for version in ["1", "2"] {
        let a = ask_as_alert(&p, version, &model, FROM, TO).await;
        let Shape::Series(series) = read_as_grafana(&a, "the exposed-service rule") else {
            panic!("series expected")
        };
        let services: Vec<(&str, &str)> = series
            .iter()
            .map(|l| (l["dst_ip"].as_str(), l["dst_port"].as_str()))
            .collect();
        assert_eq!(services, [(jump_host.as_str(), "22")], "v{version}");
        let keys: Vec<&str> = series[0].keys().map(String::as_str).collect();
        assert_eq!(keys, ["dst_ip", "dst_port", "protocol", "vpc"]);
        let a = ask_as_alert(&p, version, &model, EMPTY_FROM, EMPTY_TO).await;
        assert_eq!(
            read_as_grafana(&a, "the exposed-service rule, no data"),
            Shape::NoData
        );
    }
}

/// A shipped rule file and the lines its query must hold.
fn shipped_rule(file: &str, lines: &[&str]) {
    let path = format!(
        "{}/provisioning/alerting/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let rule = std::fs::read_to_string(path).unwrap();
    for line in lines {
        assert!(
            rule.contains(line),
            "{file}: the shipped rule's query has {line}"
        );
    }
}

#[tokio::test]
async fn the_shipped_egress_rule_reads_as_a_score_series_per_vpc_that_passes_at_the_burst() {
    shipped_rule(
        "lakewatch-egress-anomaly.yaml",
        &[
            "kind: egress_anomaly",
            "format: score",
            "reducer: max",
            "params: [4]",
        ],
    );
    let model = json!({"kind": "egress_anomaly", "format": "score", "filters": {}});
    let (_, _, burst_vpc, _) = lakewatch::demo::egress_burst(&crate::common::config());
    let p = plugin().await;
    for version in ["1", "2"] {
        let a = ask_as_alert(&p, version, &model, FROM, TO).await;
        let Shape::Series(series) = read_as_grafana(&a, "the egress rule") else {
            panic!("series expected")
        };
        let vpcs: Vec<&str> = series.iter().map(|l| l["vpc"].as_str()).collect();
        assert!(vpcs.len() > 1, "v{version}: {vpcs:?}");
        // What the rule's reduce (max) and threshold (> 4) make of each series: only the VPC
        // of the planted burst fires.
        let firing: Vec<&str> = a.frames[0].fields[1..]
            .iter()
            .filter(|f| {
                f.values
                    .iter()
                    .filter_map(Value::as_f64)
                    .fold(f64::MIN, f64::max)
                    > 4.0
            })
            .map(|f| f.labels["vpc"].as_str())
            .collect();
        assert_eq!(firing, [burst_vpc.as_str()], "v{version}");
        let a = ask_as_alert(&p, version, &model, EMPTY_FROM, EMPTY_TO).await;
        assert_eq!(
            read_as_grafana(&a, "the egress rule, no data"),
            Shape::NoData
        );
    }
}

#[tokio::test]
async fn the_shipped_new_peer_rule_reads_as_a_series_per_new_peer() {
    shipped_rule(
        "lakewatch-new-external-peers.yaml",
        &["kind: new_external_peers", "format: series"],
    );
    let model = json!({"kind": "new_external_peers", "format": "series", "filters": {}});
    let (peer, port) = lakewatch::demo::NEW_PEER;
    let p = plugin().await;
    // The hours around the first calls (twenty hours before the lake's end).
    let (from, to) = ("2024-06-14T15:00:00Z", "2024-06-14T18:00:00Z");
    for version in ["1", "2"] {
        let a = ask_as_alert(&p, version, &model, from, to).await;
        let Shape::Series(series) = read_as_grafana(&a, "the new-peer rule") else {
            panic!("series expected")
        };
        let peers: Vec<(&str, &str)> = series
            .iter()
            .map(|l| (l["dst_ip"].as_str(), l["dst_port"].as_str()))
            .collect();
        assert!(
            peers.contains(&(peer, &port.to_string())),
            "v{version}: {peers:?}"
        );
        let keys: Vec<&str> = series[0].keys().map(String::as_str).collect();
        assert_eq!(keys, ["dst_ip", "dst_port", "protocol", "vpc"]);
        let a = ask_as_alert(&p, version, &model, EMPTY_FROM, EMPTY_TO).await;
        assert_eq!(
            read_as_grafana(&a, "the new-peer rule, no data"),
            Shape::NoData
        );
    }
}

#[tokio::test]
async fn the_shipped_beaconing_rule_reads_as_a_series_per_beacon() {
    shipped_rule(
        "lakewatch-beaconing.yaml",
        &["kind: beaconing", "format: series"],
    );
    let model = json!({"kind": "beaconing", "format": "series", "filters": {}});
    let (_, _, vpc, host, _) = lakewatch::demo::beacon(&crate::common::config());
    let p = plugin().await;
    for version in ["1", "2"] {
        let a = ask_as_alert(&p, version, &model, FROM, TO).await;
        let Shape::Series(series) = read_as_grafana(&a, "the beaconing rule") else {
            panic!("series expected")
        };
        let beacons: Vec<(&str, &str, &str)> = series
            .iter()
            .map(|l| {
                (
                    l["vpc"].as_str(),
                    l["src_ip"].as_str(),
                    l["dst_ip"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            beacons,
            [(vpc.as_str(), host.as_str(), lakewatch::demo::BEACON_DEST)],
            "v{version}"
        );
        // Twelve calls an hour over the twelve hours.
        assert_eq!(a.frames[0].fields[1].values, [json!(144.0)], "v{version}");
        let a = ask_as_alert(&p, version, &model, EMPTY_FROM, EMPTY_TO).await;
        assert_eq!(
            read_as_grafana(&a, "the beaconing rule, no data"),
            Shape::NoData
        );
    }
}

/// The shipped identity rules read as one series per principal in an hour that holds what they
/// watch — the root user's visit, the story's sign-in without MFA — and as no data before the lake.
#[tokio::test]
async fn the_shipped_identity_rules_read_as_a_series_per_principal() {
    let rules = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/provisioning/alerting/lakewatch-identity.yaml"
    ))
    .unwrap();
    for line in [
        "kind: top_principals",
        "principal_types: [Root]",
        "kind: auth_events",
        "outcome: success",
        "mfa: false",
        "format: series",
    ] {
        assert!(
            rules.contains(line),
            "the shipped rules' queries have {line}"
        );
    }
    let cfg = crate::common::config();
    let (root_account, _, root_at) = lakewatch::demo::root_sign_in(&cfg);
    let story = lakewatch::demo::trail_story(&cfg);
    let hour_after = |ms: i64| {
        let at = chrono::DateTime::from_timestamp_millis(ms).unwrap();
        (
            (at - chrono::Duration::minutes(5)).to_rfc3339(),
            (at + chrono::Duration::minutes(55)).to_rfc3339(),
        )
    };
    let root = json!({"kind": "top_principals", "format": "series", "filters": {"principal_types": ["Root"]}});
    let no_mfa = json!({"kind": "auth_events", "format": "series", "filters": {"outcome": "success", "mfa": false}});
    let p = plugin().await;
    for version in ["1", "2"] {
        let (from, to) = hour_after(root_at);
        let a = ask_as_alert(&p, version, &root, &from, &to).await;
        let Shape::Series(series) = read_as_grafana(&a, "the root rule") else {
            panic!("series expected")
        };
        assert_eq!(series.len(), 1, "v{version}: {series:?}");
        assert_eq!(series[0]["account"], root_account);
        assert_eq!(series[0]["principal_type"], "Root");
        let (from, to) = hour_after(story.sign_in_ms);
        let a = ask_as_alert(&p, version, &no_mfa, &from, &to).await;
        let Shape::Series(series) = read_as_grafana(&a, "the MFA rule") else {
            panic!("series expected")
        };
        let principals: Vec<(&str, &str)> = series
            .iter()
            .map(|l| (l["account"].as_str(), l["principal"].as_str()))
            .collect();
        assert_eq!(
            principals,
            [(story.account.as_str(), story.user_arn.as_str())],
            "v{version}"
        );
        for model in [&root, &no_mfa] {
            let a = ask_as_alert(&p, version, model, EMPTY_FROM, EMPTY_TO).await;
            assert_eq!(read_as_grafana(&a, "no data"), Shape::NoData, "{model}");
        }
    }
}

/// The shipped DNS rule reads as one series per new domain in the hour the burst host resolves
/// the story's rare domain, and as no data before the lake.
#[tokio::test]
async fn the_shipped_dns_rule_reads_as_a_series_per_new_domain() {
    shipped_rule(
        "lakewatch-dns.yaml",
        &[
            "kind: new_domains",
            "format: series",
            "group_by: [parent_domain]",
        ],
    );
    let model = json!({"kind": "new_domains", "format": "series", "group_by": ["parent_domain"], "filters": {}});
    let story = lakewatch::demo::dns_story(&crate::common::config());
    let parent = lakewatch::demo::RARE_DOMAIN.split_once('.').unwrap().1;
    let at = chrono::DateTime::from_timestamp_millis(story.rare_ms).unwrap();
    let (from, to) = (
        (at - chrono::Duration::minutes(5)).to_rfc3339(),
        (at + chrono::Duration::minutes(55)).to_rfc3339(),
    );
    let p = plugin().await;
    for version in ["1", "2"] {
        let a = ask_as_alert(&p, version, &model, &from, &to).await;
        let Shape::Series(series) = read_as_grafana(&a, "the DNS rule") else {
            panic!("series expected")
        };
        let found: Vec<&str> = series.iter().map(|l| l["parent_domain"].as_str()).collect();
        assert_eq!(found, [parent], "v{version}");
        let a = ask_as_alert(&p, version, &model, EMPTY_FROM, EMPTY_TO).await;
        assert_eq!(read_as_grafana(&a, "the DNS rule, no data"), Shape::NoData);
    }
}

/// The shipped findings rule reads as one series per severity (High: the story's stolen key
/// and the burst host's command-and-control finding) in the hour after the key's misuse, and as
/// no data before the lake.
#[tokio::test]
async fn the_shipped_findings_rule_reads_as_a_series_per_severity() {
    shipped_rule(
        "lakewatch-findings.yaml",
        &[
            "kind: active_findings",
            "format: series",
            "min_severity: High",
        ],
    );
    let model = json!({"kind": "active_findings", "format": "series", "min_severity": "High", "filters": {}});
    let story = lakewatch::demo::trail_story(&crate::common::config());
    let at = chrono::DateTime::from_timestamp_millis(story.from_ms + 15 * 60_000).unwrap();
    let (from, to) = (
        (at - chrono::Duration::minutes(5)).to_rfc3339(),
        (at + chrono::Duration::minutes(55)).to_rfc3339(),
    );
    let p = plugin().await;
    for version in ["1", "2"] {
        let a = ask_as_alert(&p, version, &model, &from, &to).await;
        let Shape::Series(series) = read_as_grafana(&a, "the findings rule") else {
            panic!("series expected")
        };
        let found: Vec<&str> = series.iter().map(|l| l["severity"].as_str()).collect();
        assert_eq!(found, ["High"], "v{version}");
        let a = ask_as_alert(&p, version, &model, EMPTY_FROM, EMPTY_TO).await;
        assert_eq!(
            read_as_grafana(&a, "the findings rule, no data"),
            Shape::NoData
        );
    }
}

/// The shipped WAF rule reads as one series per client and rate-based rule in the hour the story's
/// client goes over its rate (version 2; Security Lake has no v1 WAF table), and as no data before
/// the lake.
#[tokio::test]
async fn the_shipped_waf_rule_reads_as_a_series_per_rate_limited_client() {
    shipped_rule(
        "lakewatch-waf.yaml",
        &[
            "kind: rate_limited",
            "format: series",
            "group_by: [src_ip, rule]",
        ],
    );
    let model = json!({"kind": "rate_limited", "format": "series", "group_by": ["src_ip", "rule"], "filters": {}});
    let hits: Vec<i64> = crate::common::waf_requests()
        .iter()
        .filter(|r| r.rule == lakewatch::demo::RATE_RULE)
        .map(|r| r.time_ms)
        .collect();
    let at = chrono::DateTime::from_timestamp_millis(*hits.last().unwrap()).unwrap();
    let (from, to) = (
        (at - chrono::Duration::minutes(30)).to_rfc3339(),
        (at + chrono::Duration::minutes(30)).to_rfc3339(),
    );
    let p = plugin().await;
    let a = ask_as_alert(&p, "2", &model, &from, &to).await;
    let Shape::Series(series) = read_as_grafana(&a, "the WAF rule") else {
        panic!("series expected")
    };
    let found: Vec<(&str, &str)> = series
        .iter()
        .map(|l| (l["src_ip"].as_str(), l["rule"].as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            lakewatch::demo::RATE_LIMITED_CLIENT,
            lakewatch::demo::RATE_RULE
        )]
    );
    let a = ask_as_alert(&p, "2", &model, EMPTY_FROM, EMPTY_TO).await;
    assert_eq!(read_as_grafana(&a, "the WAF rule, no data"), Shape::NoData);
}

#[tokio::test]
async fn the_shipped_data_event_rule_fires_only_for_the_stolen_key_s_reads() {
    shipped_rule(
        "lakewatch-data-events.yaml",
        &[
            "kind: s3_data_access",
            "group_by: [principal, src_ip, bucket]",
            "access: read",
            "reducer: sum",
            "params: [50]",
        ],
    );
    let model = json!({"kind": "s3_data_access", "measure": "requests", "group_by": ["principal", "src_ip", "bucket"],
                       "filters": {"access": "read", "exclude_ip": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]}});
    let cfg = crate::common::config();
    let story = lakewatch::demo::trail_story(&cfg);
    let at =
        chrono::DateTime::from_timestamp_millis(lakewatch::demo::story_reads_from(&cfg)).unwrap();
    let (from, to) = (
        (at - chrono::Duration::minutes(10)).to_rfc3339(),
        (at + chrono::Duration::minutes(50)).to_rfc3339(),
    );
    let p = plugin().await;
    for version in ["1", "2"] {
        let a = ask_as_alert(&p, version, &model, &from, &to).await;
        let Shape::Series(series) = read_as_grafana(&a, "the data-event rule") else {
            panic!("series expected")
        };
        assert!(!series.is_empty(), "v{version}");
        // What the rule's reduce (sum) and threshold (> 50) make of each series.
        let firing: Vec<(&str, &str)> = a.frames[0].fields[1..]
            .iter()
            .filter(|f| f.values.iter().filter_map(Value::as_i64).sum::<i64>() > 50)
            .map(|f| (f.labels["principal"].as_str(), f.labels["src_ip"].as_str()))
            .collect();
        assert_eq!(
            firing,
            [(story.user_arn.as_str(), story.address)],
            "v{version}"
        );
        let a = ask_as_alert(&p, version, &model, EMPTY_FROM, EMPTY_TO).await;
        assert_eq!(
            read_as_grafana(&a, "the data-event rule, no data"),
            Shape::NoData
        );
    }
}
