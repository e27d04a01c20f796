//! Day slices through the plugin binary on a lake whose records end now: every kind that splits
//! (series, coverage, top-N tables added up, windowed scans and searches re-ranked, counts,
//! distinct counts and variable values added up; the CloudTrail, Route 53 and WAF kinds too) answers exactly what
//! the same query answers run whole.

use crate::common;

use std::path::PathBuf;

use chrono::{DateTime, Duration, DurationRound, Utc};
use lakewatch::demo::{self, DemoConfig};
use lakewatch::frame::DecodedFrame;
use lakewatch::grafana_host::{HostQuery, PluginProcess};
use lakewatch::lake::SourceVersion;
use serde_json::{json, Value};

fn lake(end: DateTime<Utc>, name: &str) -> PathBuf {
    let dir = common::scratch_dir(name);
    let cfg = DemoConfig {
        days: 3,
        accounts: 2,
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        seed: 11,
        end,
        versions: vec![SourceVersion::V1, SourceVersion::V2],
        flows_per_hour: 12,
        messy: true,
    };
    demo::write_lake(&cfg, &dir, false).expect("lake");
    dir
}

fn host_query(json: &Value, from: DateTime<Utc>, to: DateTime<Utc>) -> HostQuery {
    HostQuery {
        ref_id: "A".into(),
        json: serde_json::to_vec(json).unwrap(),
        from_ms: from.timestamp_millis(),
        to_ms: to.timestamp_millis(),
        interval_ms: 60_000,
        max_data_points: 1_000,
    }
}

async fn answer(p: &PluginProcess, settings: &Value, q: &HostQuery) -> DecodedFrame {
    let answer = p
        .query(settings, std::slice::from_ref(q), &[])
        .await
        .unwrap();
    let a = &answer["A"];
    assert_eq!(
        a.error,
        "",
        "{settings} {}",
        String::from_utf8_lossy(&q.json)
    );
    a.frames[0].clone()
}

/// Every query over every range, sliced (cache on) and whole (cache off), on both source
/// versions: the same fields and totals; loaded again, every slice is reused.
async fn assert_sliced_equal_whole(
    dir: &std::path::Path,
    queries: &[Value],
    ranges: &[(DateTime<Utc>, DateTime<Utc>)],
) {
    assert_sliced_equal_whole_on(dir, queries, ranges, &["1", "2"]).await;
}

/// [`assert_sliced_equal_whole`] on the source versions given (WAF logs exist only in 2).
async fn assert_sliced_equal_whole_on(
    dir: &std::path::Path,
    queries: &[Value],
    ranges: &[(DateTime<Utc>, DateTime<Utc>)],
    versions: &[&str],
) {
    let p = common::plugin().await;
    for version in versions {
        let whole = json!({"engine": "local", "lakePath": dir.display().to_string(), "sourceVersion": version});
        let mut cached = whole.clone();
        cached["cacheTtlSeconds"] = json!(300);
        for q in queries {
            for &(from, to) in ranges {
                let hq = host_query(q, from, to);
                let want = answer(&p, &whole, &hq).await;
                let got = answer(&p, &cached, &hq).await;
                let what = format!("v{version} {q} {from}..{to}");
                let slices = &got.meta["custom"]["daySlices"];
                assert!(slices["slices"].as_u64().unwrap() >= 2, "{what}: {slices}");
                assert!(!want.fields[0].values.is_empty(), "{what}: no rows");
                assert_eq!(
                    serde_json::to_value(&got.fields).unwrap(),
                    serde_json::to_value(&want.fields).unwrap(),
                    "{what}"
                );
                assert_eq!(
                    got.meta["custom"]["totalMatches"], want.meta["custom"]["totalMatches"],
                    "{what}: total"
                );
                // Loaded again: every slice is reused.
                let again = answer(&p, &cached, &hq).await;
                assert_eq!(
                    again.meta["custom"]["daySlices"]["reused"],
                    slices["slices"]
                );
            }
        }
    }
}

/// Ending now (settled days and hours, an open last hour, a head up to the first whole hour),
/// and a past range (all settled, its first and last days partial).
fn ranges(now: DateTime<Utc>) -> [(DateTime<Utc>, DateTime<Utc>); 2] {
    [
        (now - Duration::hours(24) + Duration::seconds(270), now),
        (
            now - Duration::hours(50) + Duration::minutes(7),
            now - Duration::hours(3),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn sliced_answers_equal_whole_answers_for_every_kind_that_splits() {
    // Records up to the current minute, so a range ending now has an open last hour.
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let dir = lake(now, "slices");
    let queries = [
        json!({"kind": "flow_volume", "group_by": ["account"]}),
        json!({"kind": "top_talkers", "by": "either", "limit": 7}),
        json!({"kind": "top_talkers", "by": "source", "measure": "flows", "limit": 5}),
        json!({"kind": "top_ports", "measure": "flows", "limit": 6}),
        json!({"kind": "top_pairs", "limit": 8}),
        json!({"kind": "internet_egress", "limit": 5}),
        json!({"kind": "rejected", "view": "top_sources", "limit": 4}),
        json!({"kind": "port_scan", "scan_by": "ports", "threshold": 1, "window_minutes": 10, "limit": 9}),
        json!({"kind": "port_scan", "scan_by": "hosts", "threshold": 1, "limit": 9, "filters": {"action": "REJECT"}}),
        json!({"kind": "port_scan", "scan_by": "ports", "threshold": 2, "limit": 6}),
        json!({"kind": "flow_search", "limit": 15, "filters": {"action": "REJECT"}}),
        json!({"kind": "variable", "values": "vpcs"}),
        json!({"kind": "coverage"}),
        json!({"kind": "egress_anomaly", "format": "series", "baseline_days": 3}),
        json!({"kind": "egress_anomaly", "format": "score", "by": "eni", "baseline_days": 3}),
        json!({"kind": "new_external_peers", "baseline_days": 3}),
    ];
    assert_sliced_equal_whole(&dir, &queries, &ranges(now)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Finding histories split too: each slice's runs of one state, walked across slices, give the
/// same statuses (and the time each began), state series and status changes as the whole query.
#[tokio::test(flavor = "multi_thread")]
async fn sliced_compliance_histories_equal_whole_histories() {
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let dir = lake(now, "slices-compliance");
    let controls = json!(["EC2.6", "EC2.10", "flow-logs-central-bucket"]);
    let queries = [
        json!({"kind": "compliance_status", "controls": controls, "lookback_days": 1}),
        json!({"kind": "compliance_status", "controls": ["EC2.6"], "view": "counts", "lookback_days": 2}),
        json!({"kind": "compliance_status", "controls": ["EC2.6"], "statuses": ["FAILED"], "lookback_days": 1}),
        json!({"kind": "compliance_over_time", "controls": ["EC2.6"], "group_by": ["account"], "measure": "pass_rate", "lookback_days": 1}),
        json!({"kind": "compliance_over_time", "controls": controls, "group_by": ["control"], "measure": "failing", "lookback_days": 2}),
        json!({"kind": "annotations", "event": "control_status_changes", "control": "EC2.6", "lookback_days": 1}),
    ];
    assert_sliced_equal_whole(&dir, &queries, &ranges(now)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The CloudTrail kinds split like the others: series of counts and distinct counts, rankings
/// with distinct source addresses and first and last calls added up, sign-ins and IAM changes
/// re-ranked with their totals, sign-ins per principal and variable values added up.
#[tokio::test(flavor = "multi_thread")]
async fn sliced_cloudtrail_answers_equal_whole_answers() {
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let dir = lake(now, "slices-cloudtrail");
    let queries = [
        json!({"kind": "api_activity", "group_by": ["service"]}),
        json!({"kind": "api_activity", "measure": "principals", "group_by": ["account"]}),
        json!({"kind": "top_principals", "limit": 7}),
        json!({"kind": "top_principals", "measure": "source_ips", "group_by": ["principal_type"]}),
        json!({"kind": "access_denied", "limit": 5}),
        json!({"kind": "auth_events", "limit": 3}),
        json!({"kind": "auth_events", "format": "series"}),
        json!({"kind": "iam_changes"}),
        json!({"kind": "variable", "values": "principals"}),
    ];
    assert_sliced_equal_whole(&dir, &queries, &ranges(now)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Route 53 kinds split like the others: series of counts and distinct counts, rankings with
/// distinct sources and first and last queries added up (new domains with their baseline days as
/// closed slices), tunnelling suspects with their distinct labels added up before the threshold.
#[tokio::test(flavor = "multi_thread")]
async fn sliced_dns_answers_equal_whole_answers() {
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let dir = lake(now, "slices-dns");
    let queries = [
        json!({"kind": "dns_queries", "group_by": ["rcode"]}),
        json!({"kind": "dns_queries", "measure": "sources", "group_by": ["account"]}),
        json!({"kind": "top_domains", "limit": 7}),
        json!({"kind": "nxdomain", "group_by": ["src_ip"]}),
        json!({"kind": "new_domains", "baseline_days": 3}),
        json!({"kind": "dns_tunneling", "min_label_length": 10, "min_subdomains": 2}),
        json!({"kind": "variable", "values": "domains"}),
    ];
    assert_sliced_equal_whole(&dir, &queries, &ranges(now)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The finding kinds with a cache: the active findings table is a per-finding history merged
/// from its slices (counts per bucket or severity run whole: a finding's newest update may lie
/// in any slice, and the merge adds up no groups).
#[tokio::test(flavor = "multi_thread")]
async fn sliced_finding_answers_equal_whole_answers() {
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let dir = lake(now, "slices-findings");
    let queries = [
        json!({"kind": "active_findings", "min_severity": "Low"}),
        json!({"kind": "active_findings", "filters": {"products": ["GuardDuty", "Config"]}}),
        json!({"kind": "variable", "values": "products"}),
    ];
    assert_sliced_equal_whole(&dir, &queries, &ranges(now)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The WAF kinds split like the others (source version 2 only, as Security Lake keeps them):
/// series of requests and distinct clients, blocked rankings with their first and last requests
/// added up, rate-based hits and variable values added up.
#[tokio::test(flavor = "multi_thread")]
async fn sliced_waf_answers_equal_whole_answers() {
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let dir = lake(now, "slices-waf");
    let queries = [
        json!({"kind": "waf_requests", "group_by": ["action"]}),
        json!({"kind": "waf_requests", "measure": "clients", "group_by": ["country"]}),
        json!({"kind": "top_blocked", "limit": 4}),
        json!({"kind": "top_blocked", "by": "uris", "limit": 6}),
        json!({"kind": "top_blocked", "by": "rules"}),
        json!({"kind": "rate_limited"}),
        json!({"kind": "variable", "values": "web_acls"}),
    ];
    assert_sliced_equal_whole_on(&dir, &queries, &ranges(now), &["2"]).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// An engine that keeps the SQL of every query it runs.
struct Recording {
    inner: lakewatch::engine::local::LocalEngine,
    sql: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl lakewatch::engine::Engine for Recording {
    fn dialect(&self) -> lakewatch::sql::Dialect {
        self.inner.dialect()
    }
    fn name(&self) -> &'static str {
        "recording"
    }
    async fn run(
        &self,
        request: &lakewatch::engine::EngineRequest,
    ) -> Result<lakewatch::engine::QueryOutput, lakewatch::engine::EngineError> {
        self.sql.lock().unwrap().push(request.sql.clone());
        self.inner.run(request).await
    }
    async fn check(
        &self,
        tables: &[lakewatch::plan::TableRef],
    ) -> Result<String, lakewatch::engine::EngineError> {
        self.inner.check(tables).await
    }
}

/// A search reloaded a minute later runs one query: its open slice, which counts its own rows
/// for the total (no second query for the count's open slice); the total stays exact.
#[tokio::test(flavor = "multi_thread")]
async fn a_search_reload_counts_its_open_slice_in_the_same_query() {
    use lakewatch::cache::{CachePolicy, CachedEngine};
    use lakewatch::pipeline::{run_panel_at, PanelRequest};
    use std::sync::Arc;
    // The lake's records end at noon, the loads' "now" (the clock the slicing goes by).
    let now = DateTime::parse_from_rfc3339("2024-06-30T12:00:00Z")
        .unwrap()
        .to_utc();
    let dir = lake(now, "slices-search");
    let recording = Arc::new(Recording {
        inner: lakewatch::engine::local::LocalEngine::new(&dir),
        sql: Default::default(),
    });
    let cached = CachedEngine::new(
        recording.clone(),
        CachePolicy {
            ttl: std::time::Duration::from_secs(300),
            max_bytes: 64_000_000,
        },
    );
    let settings = lakewatch::settings::Settings::from_json(&json!({
        "sourceVersion": "2", "lakePath": dir.display().to_string(), "cacheTtlSeconds": 300
    }))
    .unwrap();
    let whole = lakewatch::settings::Settings::from_json(&json!({
        "sourceVersion": "2", "lakePath": dir.display().to_string()
    }))
    .unwrap();
    let search = serde_json::to_vec(&json!({"kind": "flow_search", "limit": 10})).unwrap();
    let total = |frames: &[lakewatch::frame::Frame]| frames[0].meta.custom["totalMatches"].clone();
    let load = async |engine: &dyn lakewatch::engine::Engine,
                      settings: &lakewatch::settings::Settings,
                      at: DateTime<Utc>| {
        let request = PanelRequest {
            ref_id: "A",
            json: &search,
            // From a whole minute: a count has no head slice before its first whole minute.
            from: at - Duration::hours(6),
            to: at,
            interval_ms: 60_000,
            max_data_points: 1_000,
        };
        run_panel_at(engine, settings, &request, None, at)
            .await
            .unwrap()
    };
    let first = load(&cached, &settings, now).await;
    let ran = recording.sql.lock().unwrap().len();
    let later = now + Duration::minutes(1);
    let again = load(&cached, &settings, later).await;
    let rerun: Vec<String> = recording.sql.lock().unwrap()[ran..].to_vec();
    assert_eq!(rerun.len(), 1, "{rerun:#?}");
    assert!(rerun[0].contains("COUNT(*) OVER ()"), "{}", rerun[0]);
    for (frames, at) in [(first, now), (again, later)] {
        let plain = lakewatch::engine::local::LocalEngine::new(&dir);
        let want = load(&plain, &whole, at).await;
        assert_eq!(total(&frames), total(&want));
        assert_ne!(total(&frames), json!(0));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
