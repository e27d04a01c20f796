//! Property: for random time ranges, accounts and regions, and every flow kind, the partitions the
//! local engine reads are exactly the partitions whose day, account and region intersect the
//! request — never more (no full scan), never fewer (no dropped first or last day).

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use common::{config, lake, t};
use lakewatch::demo::partition_keys;
use lakewatch::engine::local::LocalEngine;
use lakewatch::pipeline::{run_panel, PanelRequest};
use lakewatch::plan::partitions::{event_day, utc_days};
use lakewatch::settings::Settings;
use serde_json::{json, Value};

/// SplitMix64: a small deterministic generator, so a failure names a reproducible case.
struct Cases(u64);

impl Cases {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

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
    let kinds = [
        json!({"kind": "flow_volume"}),
        json!({"kind": "top_talkers", "by": "either"}),
        json!({"kind": "top_ports"}),
        json!({"kind": "rejected"}),
        json!({"kind": "port_scan", "threshold": 1}),
        json!({"kind": "internet_egress"}),
        json!({"kind": "flow_search", "limit": 5}),
    ];
    // A little beyond the lake on both sides, so empty edges are exercised too.
    let span_start = cfg.start() - Duration::hours(30);
    let span_ms = (cfg.end - span_start).num_milliseconds() as u64 + 30 * 3_600_000;
    let mut cases = Cases(20_240_615);
    for case in 0..60 {
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
        let mut query = kinds[case % kinds.len()].clone();
        query["filters"] = Value::Object(filters);
        let version = if case % 2 == 0 { "1" } else { "2" };
        let settings = Settings::from_json(&json!({"sourceVersion": version})).unwrap();
        let days: BTreeSet<String> = utc_days(from, to).into_iter().map(event_day).collect();
        let want: BTreeSet<String> = existing
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
