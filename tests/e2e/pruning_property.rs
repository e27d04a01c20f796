//! Property: for random time ranges, accounts and regions, and every flow, compliance, CloudTrail,
//! Route 53, finding and WAF kind (WAF in source version 2 only), the partitions the local engine
//! reads are exactly the partitions whose day, account and region intersect the request (for
//! look-back kinds: the look-back window) — never more (no full scan), never fewer (no dropped
//! first or last day).

use std::collections::BTreeSet;

use crate::common::{config, lake, t};
use chrono::{DateTime, Duration, Utc};
use lakewatch::demo::{
    all_detections, all_dns_queries, all_findings, all_lambda_events, all_s3_events,
    all_trail_events, all_waf_requests, partition_keys, Rng,
};
use lakewatch::engine::local::LocalEngine;
use lakewatch::pipeline::{run_panel, PanelRequest};
use lakewatch::plan::partitions::{event_day, utc_days};
use lakewatch::settings::Settings;
use serde_json::{json, Value};

/// The WAF kinds, read in source version 2 only.
const WAF_KINDS: [&str; 3] = ["waf_requests", "top_blocked", "rate_limited"];

#[tokio::test]
async fn partitions_read_are_exactly_the_ones_the_request_touches() {
    let cfg = config();
    let engine = LocalEngine::new(lake());
    let existing: BTreeSet<String> = partition_keys(&cfg)
        .iter()
        .map(|k| {
            format!(
                "region={}/accountId={}/eventDay={}",
                k.region,
                k.account_id,
                event_day(k.day)
            )
        })
        .collect();
    let accounts = cfg.account_ids();
    let partition_of = |region: &str, account: &str, day: chrono::NaiveDate| {
        format!(
            "region={region}/accountId={account}/eventDay={}",
            event_day(day)
        )
    };
    let existing_findings: BTreeSet<String> = all_findings(&cfg)
        .iter()
        .chain(&all_detections(&cfg))
        .map(|f| {
            let day = DateTime::from_timestamp_millis(f.time_ms)
                .unwrap()
                .date_naive();
            partition_of(&f.region, &f.account_id, day)
        })
        .collect();
    let existing_trail: BTreeSet<String> = all_trail_events(&cfg)
        .iter()
        .map(|e| {
            let day = DateTime::from_timestamp_millis(e.time_ms)
                .unwrap()
                .date_naive();
            partition_of(&e.region, &e.account_id, day)
        })
        .collect();
    let existing_dns: BTreeSet<String> = all_dns_queries(&cfg)
        .iter()
        .map(|q| {
            let day = DateTime::from_timestamp_millis(q.time_ms)
                .unwrap()
                .date_naive();
            partition_of(&q.region, &q.account_id, day)
        })
        .collect();
    let existing_waf: BTreeSet<String> = all_waf_requests(&cfg)
        .iter()
        .map(|r| {
            let day = DateTime::from_timestamp_millis(r.time_ms)
                .unwrap()
                .date_naive();
            partition_of(&r.region, &r.account_id, day)
        })
        .collect();
    let data_partitions = |events: Vec<lakewatch::demo::DataEvent>| -> BTreeSet<String> {
        events
            .iter()
            .map(|e| {
                let day = DateTime::from_timestamp_millis(e.event.time_ms)
                    .unwrap()
                    .date_naive();
                partition_of(&e.event.region, &e.event.account_id, day)
            })
            .collect()
    };
    let existing_s3 = data_partitions(all_s3_events(&cfg));
    let existing_lambda = data_partitions(all_lambda_events(&cfg));
    // (query, days read before the range start, whether the range start is replaced by the end).
    let kinds = [
        (json!({"kind": "flow_volume"}), 0, false),
        (json!({"kind": "top_talkers", "by": "either"}), 0, false),
        (json!({"kind": "top_ports"}), 0, false),
        (json!({"kind": "rejected"}), 0, false),
        (json!({"kind": "port_scan", "threshold": 1}), 0, false),
        (json!({"kind": "internet_egress"}), 0, false),
        (json!({"kind": "flow_search", "limit": 5}), 0, false),
        (
            json!({"kind": "compliance_status", "lookback_days": 2}),
            2,
            true,
        ),
        (
            json!({"kind": "compliance_over_time", "lookback_days": 1}),
            1,
            false,
        ),
        (
            json!({"kind": "api_activity", "group_by": ["service"]}),
            0,
            false,
        ),
        (json!({"kind": "top_principals"}), 0, false),
        (json!({"kind": "auth_events", "limit": 5}), 0, false),
        (json!({"kind": "access_denied"}), 0, false),
        (json!({"kind": "iam_changes"}), 0, false),
        (
            json!({"kind": "dns_queries", "group_by": ["rcode"]}),
            0,
            false,
        ),
        (json!({"kind": "nxdomain"}), 0, false),
        (json!({"kind": "new_domains", "baseline_days": 3}), 3, false),
        (json!({"kind": "dns_tunneling"}), 0, false),
        (
            json!({"kind": "findings", "group_by": ["severity"]}),
            0,
            false,
        ),
        (json!({"kind": "active_findings"}), 0, false),
        (
            json!({"kind": "waf_requests", "group_by": ["action"]}),
            0,
            false,
        ),
        (json!({"kind": "top_blocked", "by": "rules"}), 0, false),
        (json!({"kind": "rate_limited"}), 0, false),
        (
            json!({"kind": "s3_data_access", "group_by": ["bucket"]}),
            0,
            false,
        ),
        (
            json!({"kind": "lambda_invocations", "format": "table"}),
            0,
            false,
        ),
    ];
    // A little beyond the lake on both sides, so empty edges are exercised too.
    let span_start = cfg.start() - Duration::hours(30);
    let span_ms = (cfg.end - span_start).num_milliseconds() as u64 + 30 * 3_600_000;
    let mut cases = Rng::new(20_240_615);
    // Ten rounds of every kind, alternating source versions.
    for case in 0..kinds.len() * 10 {
        let from: DateTime<Utc> = span_start + Duration::milliseconds(cases.below(span_ms) as i64);
        // Mostly short windows, sometimes several days; edges land on any millisecond.
        let length = match cases.below(4) {
            0 => cases.below(3_600_000),
            1 => cases.below(86_400_000),
            _ => cases.below(5 * 86_400_000),
        };
        let to = from + Duration::milliseconds(length as i64);
        let mut filters = serde_json::Map::new();
        let picked_accounts: Vec<&String> =
            accounts.iter().filter(|_| cases.below(3) == 0).collect();
        if !picked_accounts.is_empty() {
            filters.insert("accounts".into(), json!(picked_accounts));
        }
        let picked_regions: Vec<&String> =
            cfg.regions.iter().filter(|_| cases.below(3) == 0).collect();
        if !picked_regions.is_empty() {
            filters.insert("regions".into(), json!(picked_regions));
        }
        let (query, back_days, from_end) = &kinds[case % kinds.len()];
        let mut query = query.clone();
        query["filters"] = Value::Object(filters);
        let kind = query["kind"].as_str().unwrap();
        let waf = WAF_KINDS.contains(&kind);
        // WAF logs exist only in source version 2.
        let version = if (case / kinds.len()) % 2 == 0 && !waf {
            "1"
        } else {
            "2"
        };
        let settings = Settings::from_json(&json!({"sourceVersion": version})).unwrap();
        let read_from = if *from_end { to } else { from } - Duration::days(*back_days);
        let days: BTreeSet<String> = utc_days(read_from, to).into_iter().map(event_day).collect();
        let table = if kind.starts_with("compliance") || kind.ends_with("findings") {
            &existing_findings
        } else if [
            "api_activity",
            "top_principals",
            "auth_events",
            "access_denied",
            "iam_changes",
        ]
        .contains(&kind)
        {
            &existing_trail
        } else if ["dns_queries", "nxdomain", "new_domains", "dns_tunneling"].contains(&kind) {
            &existing_dns
        } else if waf {
            &existing_waf
        } else if kind == "s3_data_access" {
            &existing_s3
        } else if kind == "lambda_invocations" {
            &existing_lambda
        } else {
            &existing
        };
        let want: BTreeSet<String> = table
            .iter()
            .filter(|p| {
                let day_ok = days.iter().any(|d| p.ends_with(&format!("eventDay={d}")));
                let account_ok = picked_accounts.is_empty()
                    || picked_accounts
                        .iter()
                        .any(|a| p.contains(&format!("accountId={a}/")));
                let region_ok = picked_regions.is_empty()
                    || picked_regions
                        .iter()
                        .any(|r| p.starts_with(&format!("region={r}/")));
                day_ok && account_ok && region_ok
            })
            .cloned()
            .collect();
        let json = serde_json::to_vec(&query).unwrap();
        let frames = run_panel(
            &engine,
            &settings,
            &PanelRequest {
                ref_id: "P",
                json: &json,
                from,
                to,
                interval_ms: 60_000,
                max_data_points: 1000,
            },
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("case {case} {query} {from}..{to}: {e}"));
        let got: BTreeSet<String> = frames[0].meta.custom["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            got, want,
            "case {case}: v{version} {query} from {from} to {to}"
        );
    }
    // The fixture's own edges: the first and last lake days are partial and still read.
    assert!(existing.iter().any(|p| p.ends_with(&format!(
        "eventDay={}",
        event_day(t("2024-06-15T11:00:00Z").date_naive())
    ))));
}
