//! Dashboard-load bench: the shipped dashboards loaded through the plugin's pipeline
//! (`run_panel`, so series over closed days run in day slices) on the result cache over a local
//! lake, side by side with running every panel's query on its own. Prints per dashboard:
//! - engine queries started on the first load ÷ distinct panel queries (day slices count: a
//!   series over two days starts two),
//! - queries started on a repeat load within the cache's TTL (goal 0),
//! - bytes read on the first load and on a repeat load ÷ every panel run on its own,
//! - the same for a load a minute later (relative ranges move, so the SQL changes: only the
//!   slices that have not settled, the head slices before a range's first whole hour and the
//!   unsliced panels run again).
//!
//! Twice: with the bytes queries read, then with the bytes Athena would bill (at least 10 MB a
//! query, which the pipeline weighs day slices against: on a small lake they run whole).
//!
//! The lake's records end at the loads' "now" (12:00 UTC), the clock the slicing goes by.
//!
//! `cargo bench --bench dashboard_loads` uses a 30-day lake; under `cargo test` a small one.
//! With `LAKEWATCH_BENCH_QUERIES` set, every engine query's bytes and time filter go to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lakewatch::cache::{CachePolicy, CachedEngine};
use lakewatch::dashboards::{panel_targets, parse_time, PanelTarget};
use lakewatch::demo::{self, DemoConfig};
use lakewatch::engine::local::LocalEngine;
use lakewatch::engine::{Engine, EngineError, EngineRequest, QueryOutput, ATHENA_MIN_BILLED_BYTES};
use lakewatch::lake::estimate::ScanEstimate;
use lakewatch::lake::SourceVersion;
use lakewatch::pipeline::{prepare, run_panel, run_panel_at, PanelRequest, Prepared};
use lakewatch::plan::{PartitionFilter, TableRef};
use lakewatch::settings::Settings;

fn request<'a>(target: &'a PanelTarget, json: &'a [u8], now: DateTime<Utc>) -> PanelRequest<'a> {
    let from = parse_time(&target.time.0, now).unwrap();
    let to = parse_time(&target.time.1, now).unwrap();
    PanelRequest {
        ref_id: &target.ref_id,
        json,
        from,
        to,
        interval_ms: ((to - from).num_milliseconds() / 500).max(60_000),
        max_data_points: 1_000,
    }
}

fn prepared(target: &PanelTarget, settings: &Settings, now: DateTime<Utc>) -> Prepared {
    let json = serde_json::to_vec(&target.query).unwrap();
    prepare(
        settings,
        lakewatch::sql::Dialect::Local,
        &request(target, &json, now),
    )
    .unwrap()
}

/// An engine that counts the queries it runs and the bytes they bill: what they read, at least
/// `min_billed` a query (0 for bytes read; Athena's 10 MB to bill as Athena does, which the
/// pipeline then weighs its day slices against).
struct Metered {
    inner: LocalEngine,
    min_billed: u64,
    runs: AtomicU64,
    bytes: AtomicU64,
}

impl Metered {
    fn new(dir: &std::path::Path, min_billed: u64) -> Metered {
        Metered {
            inner: LocalEngine::new(dir),
            min_billed,
            runs: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }
}

#[async_trait::async_trait]
impl Engine for Metered {
    fn dialect(&self) -> lakewatch::sql::Dialect {
        self.inner.dialect()
    }
    fn name(&self) -> &'static str {
        "metered"
    }
    async fn run(&self, request: &EngineRequest) -> Result<QueryOutput, EngineError> {
        let mut out = self.inner.run(request).await?;
        out.cache = lakewatch::cache::CacheOutcome::Miss;
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.bytes
            .fetch_add(out.stats.bytes_read.max(self.min_billed), Ordering::Relaxed);
        if std::env::var_os("LAKEWATCH_BENCH_QUERIES").is_some() {
            // Which rows the query read (its time filter) and the bytes that took.
            let range = request.sql.lines().find(|l| l.contains("BETWEEN"));
            eprintln!(
                "{:>9} B  {}  {}",
                out.stats.bytes_read,
                request.sql.lines().nth(1).unwrap_or_default().trim(),
                range.unwrap_or_default().trim()
            );
        }
        Ok(out)
    }
    async fn check(&self, tables: &[TableRef]) -> Result<String, EngineError> {
        self.inner.check(tables).await
    }
    fn min_billed_bytes(&self) -> u64 {
        self.min_billed
    }
    async fn estimate(
        &self,
        request: &EngineRequest,
        partitions: &PartitionFilter,
    ) -> Result<Option<ScanEstimate>, EngineError> {
        self.inner.estimate(request, partitions).await
    }
}

/// Runs every panel of a load concurrently through the pipeline; returns (engine queries
/// started, bytes those read).
async fn load(
    engine: &CachedEngine,
    metered: &Metered,
    settings: &Settings,
    targets: &[PanelTarget],
    now: DateTime<Utc>,
) -> (u64, u64) {
    let (runs, bytes) = (
        metered.runs.load(Ordering::Relaxed),
        metered.bytes.load(Ordering::Relaxed),
    );
    let jsons: Vec<Vec<u8>> = targets
        .iter()
        .map(|t| serde_json::to_vec(&t.query).unwrap())
        .collect();
    let panels = targets.iter().zip(&jsons).map(|(t, json)| async move {
        run_panel_at(engine, settings, &request(t, json, now), None, now)
            .await
            .unwrap()
    });
    futures::future::join_all(panels).await;
    (
        metered.runs.load(Ordering::Relaxed) - runs,
        metered.bytes.load(Ordering::Relaxed) - bytes,
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
    let settings = Settings::from_json(&serde_json::json!({
        "sourceVersion": "2", "lakePath": dir.display().to_string(), "cacheTtlSeconds": 300
    }))
    .unwrap();
    let mut dashboards: BTreeMap<String, Vec<PanelTarget>> = BTreeMap::new();
    for target in panel_targets().unwrap() {
        dashboards
            .entry(target.dashboard.clone())
            .or_default()
            .push(target);
    }
    let alone_settings = Settings::from_json(&serde_json::json!({"sourceVersion": "2"})).unwrap();
    for (min_billed, heading) in [
        (0, "bytes read"),
        (
            ATHENA_MIN_BILLED_BYTES,
            "bytes billed as Athena bills them: at least 10 MB a query",
        ),
    ] {
        println!("\n{heading}");
        println!(
            "{:<36} {:>6} {:>8} {:>9} {:>7} {:>10} {:>10} {:>7} {:>7}",
            "dashboard",
            "panels",
            "distinct",
            "run/dist",
            "repeat",
            "alone MB",
            "bytes 1st",
            "repeat",
            "+1 min"
        );
        for (title, targets) in &dashboards {
            let queries: Vec<Prepared> = targets
                .iter()
                .map(|t| prepared(t, &alone_settings, end))
                .collect();
            let distinct: BTreeSet<&str> = queries.iter().map(|p| p.sql.as_str()).collect();
            // Every panel on its own, no cache (and so no day slices): what a peer pays.
            let plain = Metered::new(&dir, min_billed);
            for t in targets {
                let json = serde_json::to_vec(&t.query).unwrap();
                run_panel(&plain, &alone_settings, &request(t, &json, end), None)
                    .await
                    .unwrap();
            }
            let alone_bytes = plain.bytes.load(Ordering::Relaxed);
            let metered = Arc::new(Metered::new(&dir, min_billed));
            let cached = CachedEngine::new(
                metered.clone(),
                CachePolicy {
                    ttl: Duration::from_secs(300),
                    max_bytes: 256_000_000,
                },
            );
            let trace = |phase: &str| {
                if std::env::var_os("LAKEWATCH_BENCH_QUERIES").is_some() {
                    eprintln!("== {title} ({heading}): {phase}");
                }
            };
            trace("first load");
            let (first_runs, first_bytes) = load(&cached, &metered, &settings, targets, end).await;
            let (repeat_runs, repeat_bytes) =
                load(&cached, &metered, &settings, targets, end).await;
            let minute = end + chrono::Duration::minutes(1);
            trace("a minute later");
            let (later_runs, later_bytes) =
                load(&cached, &metered, &settings, targets, minute).await;
            assert_eq!(
                cached.stats().queries_run.load(Ordering::Relaxed),
                first_runs + repeat_runs + later_runs
            );
            let ratio = |b: u64| b as f64 / alone_bytes.max(1) as f64;
            println!(
                "{:<36} {:>6} {:>8} {:>9.2} {:>7} {:>10.2} {:>10.2} {:>7.2} {:>7.2}",
                title,
                queries.len(),
                distinct.len(),
                first_runs as f64 / distinct.len() as f64,
                repeat_runs,
                alone_bytes as f64 / 1e6,
                ratio(first_bytes),
                ratio(repeat_bytes),
                ratio(later_bytes)
            );
        }
    }
    println!(
        "(alone MB: bytes read, or billed, by every panel's query run on its own without a cache; the bytes columns are ÷ that)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
