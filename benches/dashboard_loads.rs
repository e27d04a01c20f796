//! Dashboard-load bench: the shipped dashboards loaded through the plugin's pipeline on the result
//! cache over a local lake, side by side with running every panel's query on its own. Prints per
//! dashboard:
//! - queries started on the first load ÷ distinct panel queries (goal ≤ 1.00),
//! - queries started on a repeat load within the cache's TTL (goal 0),
//! - bytes read on the first load and on a repeat load ÷ every panel run on its own,
//! - the same for a repeat load a minute later (relative ranges move, so the SQL changes).
//!
//! `cargo bench --bench dashboard_loads` uses a 30-day lake; under `cargo test` a small one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lakewatch::cache::{CacheOutcome, CachePolicy, CachedEngine};
use lakewatch::dashboards::{panel_targets, parse_time, PanelTarget};
use lakewatch::demo::{self, DemoConfig};
use lakewatch::engine::local::LocalEngine;
use lakewatch::engine::{Engine, EngineRequest};
use lakewatch::lake::SourceVersion;
use lakewatch::pipeline::{prepare, PanelRequest, Prepared};
use lakewatch::settings::Settings;

fn prepared(target: &PanelTarget, settings: &Settings, now: DateTime<Utc>) -> Prepared {
    let from = parse_time(&target.time.0, now).unwrap();
    let to = parse_time(&target.time.1, now).unwrap();
    let json = serde_json::to_vec(&target.query).unwrap();
    prepare(
        settings,
        lakewatch::sql::Dialect::Local,
        &PanelRequest {
            ref_id: &target.ref_id,
            json: &json,
            from,
            to,
            interval_ms: ((to - from).num_milliseconds() / 500).max(60_000),
            max_data_points: 1_000,
        },
    )
    .unwrap()
}

/// Runs every panel query of a load concurrently; returns (queries the engine started, bytes
/// those read).
async fn load(engine: &dyn Engine, queries: &[Prepared]) -> (u64, u64) {
    let runs = queries.iter().map(|p| async move {
        engine
            .run(&EngineRequest {
                ref_id: "bench".into(),
                sql: p.sql.clone(),
                tables: vec![p.plan.table.clone()],
                settled: false,
            })
            .await
            .unwrap()
    });
    let outputs = futures::future::join_all(runs).await;
    let started: Vec<_> = outputs
        .iter()
        .filter(|o| o.cache == CacheOutcome::Miss)
        .collect();
    (
        started.len() as u64,
        started.iter().map(|o| o.stats.bytes_read).sum(),
    )
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let end = DateTime::parse_from_rfc3339("2024-06-30T12:00:00Z")
        .unwrap()
        .to_utc();
    let mut cfg = DemoConfig {
        days: 30,
        end,
        versions: vec![SourceVersion::V2],
        ..DemoConfig::default()
    };
    if !full {
        cfg.days = 8;
        cfg.accounts = 2;
        cfg.flows_per_hour = 10;
    }
    let dir = std::env::temp_dir().join(format!("lakewatch-loads-{}", std::process::id()));
    demo::write_lake(&cfg, &dir, false).expect("lake");
    let settings = Settings::from_json(&serde_json::json!({"sourceVersion": "2"})).unwrap();
    let mut dashboards: BTreeMap<String, Vec<PanelTarget>> = BTreeMap::new();
    for target in panel_targets().unwrap() {
        dashboards
            .entry(target.dashboard.clone())
            .or_default()
            .push(target);
    }
    let plain = LocalEngine::new(&dir);
    println!(
        "{:<36} {:>6} {:>8} {:>11} {:>8} {:>10} {:>10} {:>10}",
        "dashboard", "panels", "distinct", "run/dist", "repeat", "bytes 1st", "repeat", "+1 min"
    );
    for (title, targets) in &dashboards {
        let queries: Vec<Prepared> = targets
            .iter()
            .map(|t| prepared(t, &settings, end))
            .collect();
        let distinct: BTreeSet<&str> = queries.iter().map(|p| p.sql.as_str()).collect();
        // Every panel on its own, no cache: what a peer pays.
        let mut alone_bytes = 0;
        for p in &queries {
            let out = plain
                .run(&EngineRequest {
                    ref_id: "alone".into(),
                    sql: p.sql.clone(),
                    tables: vec![p.plan.table.clone()],
                    settled: false,
                })
                .await
                .unwrap();
            alone_bytes += out.stats.bytes_read;
        }
        let cached = CachedEngine::new(
            Arc::new(LocalEngine::new(&dir)),
            CachePolicy {
                ttl: Duration::from_secs(300),
                max_bytes: 256_000_000,
            },
        );
        let (first_runs, first_bytes) = load(&cached, &queries).await;
        let (repeat_runs, repeat_bytes) = load(&cached, &queries).await;
        let later: Vec<Prepared> = targets
            .iter()
            .map(|t| prepared(t, &settings, end + chrono::Duration::minutes(1)))
            .collect();
        let (later_runs, later_bytes) = load(&cached, &later).await;
        assert_eq!(
            cached.stats().queries_run.load(Ordering::Relaxed),
            first_runs + repeat_runs + later_runs
        );
        let ratio = |b: u64| b as f64 / alone_bytes.max(1) as f64;
        println!(
            "{:<36} {:>6} {:>8} {:>11.2} {:>8} {:>10.2} {:>10.2} {:>10.2}",
            title,
            queries.len(),
            distinct.len(),
            first_runs as f64 / distinct.len() as f64,
            repeat_runs,
            ratio(first_bytes),
            ratio(repeat_bytes),
            ratio(later_bytes)
        );
    }
    println!("(bytes columns: bytes read ÷ every panel's query run on its own without a cache)");
    let _ = std::fs::remove_dir_all(&dir);
}
