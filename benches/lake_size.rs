//! Lake-size bench: the same panels on org-shaped lakes of ~200, ~2,500 and ~20,000 files, side
//! by side in one run. A panel's cost should follow the partitions it reads, not the size of the
//! lake. Prints, per lake:
//! - the first run of a pruned panel (one account, one region, one day) on a new engine — it
//!   includes registering the table — and its median on later runs,
//! - the pruned panel's median when each run follows the one-day panel below,
//! - the median of a one-day all-accounts panel, its files read and its time per file read,
//!
//! each with its ratio to the smallest lake (goal for the pruned panel: at most 1.2).
//!
//! `cargo bench --bench lake_size` builds the three lakes (kept under the temp dir and reused by
//! later runs, the files are deterministic); under `cargo test` it runs a small smoke version so
//! it never rots. The debug executable takes `--bench` too.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lakewatch::demo::{self, DemoConfig};
use lakewatch::engine::local::LocalEngine;
use lakewatch::engine::{Engine, EngineRequest, QueryOutput};
use lakewatch::lake::SourceVersion;
use lakewatch::pipeline::{prepare, PanelRequest, Prepared};
use lakewatch::settings::Settings;
use lakewatch::sql::Dialect;
use serde_json::{json, Value};

const REGIONS: [&str; 10] = [
    "us-east-1",
    "eu-west-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-central-1",
    "eu-west-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
];

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// A lake shape: accounts × regions × days, few flows each (the file count is the point).
struct Shape {
    label: &'static str,
    accounts: u32,
    regions: usize,
    days: u32,
}

/// The lake of a shape, generated on first use and kept for later runs.
fn lake(shape: &Shape) -> (PathBuf, u64) {
    let cfg = DemoConfig {
        days: shape.days,
        accounts: shape.accounts,
        regions: REGIONS[..shape.regions]
            .iter()
            .map(|r| r.to_string())
            .collect(),
        end: t("2024-06-05T12:00:00Z"),
        versions: vec![SourceVersion::V2],
        flows_per_hour: 4,
        ..DemoConfig::default()
    };
    let dir = std::env::temp_dir()
        .join("lakewatch-bench-lake-size")
        .join(format!(
            "{}a-{}r-{}d",
            shape.accounts, shape.regions, shape.days
        ));
    if !dir.exists() {
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        demo::write_lake(&cfg, &dir, false).expect("lake");
    }
    (dir.clone(), count_files(&dir))
}

fn count_files(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                count_files(&path)
            } else {
                u64::from(path.extension().is_some_and(|x| x == "parquet"))
            }
        })
        .sum()
}

fn panel(query: &Value) -> Prepared {
    let settings = Settings::from_json(&json!({"sourceVersion": "2"})).unwrap();
    let json = serde_json::to_vec(query).unwrap();
    prepare(
        &settings,
        Dialect::Local,
        &PanelRequest {
            ref_id: "A",
            json: &json,
            from: t("2024-06-04T00:00:00Z"),
            to: t("2024-06-04T23:59:59.999Z"),
            interval_ms: 60_000,
            max_data_points: 1000,
        },
    )
    .unwrap()
}

async fn timed(engine: &LocalEngine, prepared: &Prepared) -> (Duration, QueryOutput) {
    let started = Instant::now();
    let out = engine
        .run(&EngineRequest {
            ref_id: "bench".into(),
            sql: prepared.sql.clone(),
            tables: vec![prepared.plan.table.clone()],
            settled: false,
            row_limit: None,
        })
        .await
        .expect("query runs");
    (started.elapsed(), out)
}

fn median(v: &mut [Duration]) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

/// What one lake measured.
struct Row {
    label: &'static str,
    files: u64,
    cold_ms: f64,
    pruned_ms: f64,
    pruned_files: u64,
    after_ms: f64,
    all_ms: f64,
    all_files: u64,
}

/// One lake's engine and what it measured so far.
struct Lake {
    label: &'static str,
    files: u64,
    engine: LocalEngine,
    cold: Duration,
    pruned: Vec<Duration>,
    pruned_files: u64,
    after: Vec<Duration>,
    all: Vec<Duration>,
    all_files: u64,
}

/// Every lake's panels, round by round across the lakes so machine noise hits them alike: the
/// pruned panel alone, then the one-day panel each followed by the pruned panel again (what the
/// pruned panel costs beside a wide one: their files' footers compete for DataFusion's
/// metadata cache).
async fn measure(shapes: &[Shape], rounds: usize) -> Vec<Row> {
    let pruned = panel(
        &json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["vpc"],
        "filters": {"accounts": [demo::DemoConfig::default().account_ids()[0]], "regions": ["us-east-1"]}}),
    );
    let all = panel(&json!({"kind": "flow_volume", "group_by": ["account"]}));
    let mut lakes = Vec::new();
    for shape in shapes {
        let (dir, files) = lake(shape);
        let engine = LocalEngine::new(&dir);
        let (cold, _) = timed(&engine, &pruned).await;
        lakes.push(Lake {
            label: shape.label,
            files,
            engine,
            cold,
            pruned: Vec::new(),
            pruned_files: 0,
            after: Vec::new(),
            all: Vec::new(),
            all_files: 0,
        });
    }
    for _ in 0..rounds {
        for lake in &mut lakes {
            let (d, out) = timed(&lake.engine, &pruned).await;
            lake.pruned.push(d);
            lake.pruned_files = out.stats.files;
        }
    }
    for _ in 0..rounds {
        for lake in &mut lakes {
            let (d, out) = timed(&lake.engine, &all).await;
            lake.all.push(d);
            lake.all_files = out.stats.files;
            let (d, _) = timed(&lake.engine, &pruned).await;
            lake.after.push(d);
        }
    }
    lakes
        .into_iter()
        .map(|mut l| Row {
            label: l.label,
            files: l.files,
            cold_ms: l.cold.as_secs_f64() * 1000.0,
            pruned_ms: median(&mut l.pruned),
            pruned_files: l.pruned_files,
            after_ms: median(&mut l.after),
            all_ms: median(&mut l.all),
            all_files: l.all_files,
        })
        .collect()
}

fn print(rows: &[Row]) {
    println!(
        "{:<8} {:>6} | {:>8} {:>6} | {:>9} {:>6} {:>5} | {:>8} {:>6} | {:>8} {:>6} {:>5} {:>7} {:>6}",
        "lake",
        "files",
        "cold ms",
        "ratio",
        "pruned ms",
        "ratio",
        "files",
        "after ms",
        "ratio",
        "1-day ms",
        "ratio",
        "files",
        "ms/file",
        "ratio"
    );
    let base = &rows[0];
    let per_file = |r: &Row| r.all_ms / r.all_files.max(1) as f64;
    for r in rows {
        println!(
            "{:<8} {:>6} | {:>8.1} {:>6.2} | {:>9.1} {:>6.2} {:>5} | {:>8.1} {:>6.2} | {:>8.1} {:>6.2} {:>5} {:>7.2} {:>6.2}",
            r.label,
            r.files,
            r.cold_ms,
            r.cold_ms / base.cold_ms,
            r.pruned_ms,
            r.pruned_ms / base.pruned_ms,
            r.pruned_files,
            r.after_ms,
            r.after_ms / base.after_ms,
            r.all_ms,
            r.all_ms / base.all_ms,
            r.all_files,
            per_file(r),
            per_file(r) / per_file(base),
        );
    }
    let worst = rows
        .iter()
        .map(|r| r.pruned_ms / base.pruned_ms)
        .fold(0.0, f64::max);
    println!("pruned panel, worst ratio to the smallest lake: {worst:.2} (goal ≤ 1.20)");
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let shapes: Vec<Shape> = if full {
        vec![
            Shape {
                label: "~200",
                accounts: 4,
                regions: 2,
                days: 12,
            },
            Shape {
                label: "~2,500",
                accounts: 50,
                regions: 6,
                days: 3,
            },
            Shape {
                label: "~20,000",
                accounts: 200,
                regions: 10,
                days: 4,
            },
        ]
    } else {
        vec![
            Shape {
                label: "smoke-s",
                accounts: 1,
                regions: 1,
                days: 1,
            },
            Shape {
                label: "smoke-l",
                accounts: 3,
                regions: 2,
                days: 2,
            },
        ]
    };
    let rounds = if full { 7 } else { 1 };
    print(&measure(&shapes, rounds).await);
}
