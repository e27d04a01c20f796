//! Lake-size bench: the same panels on org-shaped lakes of ~200, ~2,500 and ~20,000 files, side
//! by side in one run. A panel's cost should follow the partitions it reads, not the size of the
//! lake. Prints, per lake:
//! - the first run of a pruned panel (one account, one region, one day) on a new engine — it
//!   includes registering the table — and its median on later runs,
//! - the pruned panel's median when each run follows the one-day panel below,
//! - the median of a one-day all-accounts panel, its files read and its time per file read,
//! - the median of the demo dashboard set (every shipped dashboard's panel queries, one after
//!   the other, over the dashboards' default ranges ending at the lake's end),
//!
//! each with its ratio to the smallest lake (goal for the pruned panel: at most 1.2).
//!
//! Then the same SQL on DuckDB over the same files, in the same run, through
//! `scripts/duckdb_bench.py` (run by `.venv/bin/python`, or `LAKEWATCH_PYTHON`): per lake the
//! pruned panel (DuckDB's first run, which creates its view over the lake, its median in the
//! process, and a whole process running it once: interpreter, imports, view and query), the
//! one-day panel and the dashboard set, each with the ratio Lakewatch / DuckDB (goal for the
//! pruned panel: at most 1.5). Without that Python the DuckDB part is skipped with a note.
//!
//! `cargo bench --bench lake_size` builds the three lakes (kept under the temp dir and reused by
//! later runs, the files are deterministic); under `cargo test` it runs a small smoke version so
//! it never rots. The debug executable takes `--bench` too.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lakewatch::dashboards::{panel_targets, parse_time};
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

/// The end of every bench lake: the dashboards' "now".
const END: &str = "2024-06-05T12:00:00Z";

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
        end: t(END),
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

fn prepared(query: &Value, from: DateTime<Utc>, to: DateTime<Utc>, interval_ms: i64) -> Prepared {
    let settings = Settings::from_json(&json!({"sourceVersion": "2"})).unwrap();
    let json = serde_json::to_vec(query).unwrap();
    prepare(
        &settings,
        Dialect::Local,
        &PanelRequest {
            ref_id: "A",
            json: &json,
            from,
            to,
            interval_ms,
            max_data_points: 1000,
        },
    )
    .unwrap()
}

/// A panel over the lake's last whole day.
fn panel(query: &Value) -> Prepared {
    let (from, to) = (t("2024-06-04T00:00:00Z"), t("2024-06-04T23:59:59.999Z"));
    prepared(query, from, to, 60_000)
}

/// Every shipped dashboard's panel queries over the dashboard's default range ending at the
/// lake's end, with the interval Grafana would send for a 500-pixel-wide panel.
fn dashboard_set() -> Vec<Prepared> {
    let now = t(END);
    panel_targets()
        .unwrap()
        .iter()
        .map(|target| {
            let from = parse_time(&target.time.0, now).unwrap();
            let to = parse_time(&target.time.1, now).unwrap();
            let interval_ms = ((to - from).num_milliseconds() / 500).max(60_000);
            prepared(&target.query, from, to, interval_ms)
        })
        .collect()
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

fn rows(out: &QueryOutput) -> usize {
    out.batches.iter().map(|b| b.num_rows()).sum()
}

/// The dashboard set run once, panel after panel: the total time.
async fn timed_set(engine: &LocalEngine, set: &[Prepared]) -> Duration {
    let mut total = Duration::ZERO;
    for prepared in set {
        total += timed(engine, prepared).await.0;
    }
    total
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
    pruned_rows: usize,
    all_rows: usize,
    dash_ms: f64,
    dir: PathBuf,
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
    pruned_rows: usize,
    all_rows: usize,
    dash: Vec<Duration>,
    dir: PathBuf,
}

/// Every lake's panels, round by round across the lakes so machine noise hits them alike: the
/// pruned panel alone, then the one-day panel each followed by the pruned panel again (what the
/// pruned panel costs beside a wide one: their files' footers compete for DataFusion's
/// metadata cache), then the dashboard set in fewer rounds (it reads much more).
async fn measure(shapes: &[Shape], panels: &Panels, rounds: (usize, usize)) -> Vec<Row> {
    let Panels { pruned, all, set } = panels;
    let mut lakes = Vec::new();
    for shape in shapes {
        let (dir, files) = lake(shape);
        let engine = LocalEngine::new(&dir);
        let (cold, _) = timed(&engine, pruned).await;
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
            pruned_rows: 0,
            all_rows: 0,
            dash: Vec::new(),
            dir,
        });
    }
    for _ in 0..rounds.0 {
        for lake in &mut lakes {
            let (d, out) = timed(&lake.engine, pruned).await;
            lake.pruned.push(d);
            lake.pruned_files = out.stats.files;
            lake.pruned_rows = rows(&out);
        }
    }
    for _ in 0..rounds.0 {
        for lake in &mut lakes {
            let (d, out) = timed(&lake.engine, all).await;
            lake.all.push(d);
            lake.all_files = out.stats.files;
            lake.all_rows = rows(&out);
            let (d, _) = timed(&lake.engine, pruned).await;
            lake.after.push(d);
        }
    }
    for _ in 0..rounds.1 {
        for lake in &mut lakes {
            lake.dash.push(timed_set(&lake.engine, set).await);
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
            pruned_rows: l.pruned_rows,
            all_rows: l.all_rows,
            dash_ms: median(&mut l.dash),
            dir: l.dir,
        })
        .collect()
}

/// The panels every lake runs.
struct Panels {
    /// One account, one region, one day.
    pruned: Prepared,
    /// One day, every account and region.
    all: Prepared,
    /// The shipped dashboards' panels.
    set: Vec<Prepared>,
}

impl Panels {
    fn new() -> Panels {
        let account = demo::DemoConfig::default().account_ids()[0].clone();
        Panels {
            pruned: panel(&json!({"kind": "flow_volume", "measure": "bytes",
                "group_by": ["vpc"], "filters": {"accounts": [account], "regions": ["us-east-1"]}})),
            all: panel(&json!({"kind": "flow_volume", "group_by": ["account"]})),
            set: dashboard_set(),
        }
    }
}

fn print(rows: &[Row]) {
    println!(
        "{:<8} {:>6} | {:>8} {:>6} | {:>9} {:>6} {:>5} | {:>8} {:>6} | {:>8} {:>6} {:>5} {:>7} {:>6} | {:>7} {:>6}",
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
        "ratio",
        "dash ms",
        "ratio"
    );
    let base = &rows[0];
    let per_file = |r: &Row| r.all_ms / r.all_files.max(1) as f64;
    for r in rows {
        println!(
            "{:<8} {:>6} | {:>8.1} {:>6.2} | {:>9.1} {:>6.2} {:>5} | {:>8.1} {:>6.2} | {:>8.1} {:>6.2} {:>5} {:>7.2} {:>6.2} | {:>7.0} {:>6.2}",
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
            r.dash_ms,
            r.dash_ms / base.dash_ms,
        );
    }
    let worst = rows
        .iter()
        .map(|r| r.pruned_ms / base.pruned_ms)
        .fold(0.0, f64::max);
    println!("pruned panel, worst ratio to the smallest lake: {worst:.2} (goal ≤ 1.20)");
}

/// DuckDB beside Lakewatch: `scripts/duckdb_bench.py` run by the project's Python.
struct Duck {
    python: PathBuf,
    script: PathBuf,
}

/// What DuckDB answered for a list of cases: per case (median ms, first ms, rows), and each
/// round's total.
struct DuckRun {
    cases: Vec<Option<(f64, f64, usize)>>,
    round_ms: Vec<f64>,
}

impl Duck {
    /// The Python of `LAKEWATCH_PYTHON` or the project's `.venv`, if it has duckdb and sqlglot.
    fn find() -> Option<Duck> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = std::env::var_os("LAKEWATCH_PYTHON")
            .map_or_else(|| root.join(".venv/bin/python"), PathBuf::from);
        let ready = Command::new(&python)
            .args(["-c", "import duckdb, sqlglot"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ready.then(|| Duck {
            python,
            script: root.join("scripts/duckdb_bench.py"),
        })
    }

    /// Runs `sql` cases `rounds` times in one process over `lake`; `None` if the process failed.
    fn run(&self, lake: &Path, sql: &[&str], rounds: usize) -> Option<DuckRun> {
        let cases: Vec<Value> = sql
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"name": i.to_string(), "sql": s}))
            .collect();
        let mut child = Command::new(&self.python)
            .arg(&self.script)
            .arg("--lake")
            .arg(lake)
            .args(["--rounds", &rounds.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let input = serde_json::to_vec(&cases).ok()?;
        child.stdin.take()?.write_all(&input).ok()?;
        let out = child.wait_with_output().ok()?;
        let answer: Value = serde_json::from_slice(&out.stdout).ok()?;
        Some(DuckRun {
            cases: answer["cases"].as_array()?.iter().map(duck_case).collect(),
            round_ms: answer["round_ms"]
                .as_array()?
                .iter()
                .flat_map(Value::as_f64)
                .collect(),
        })
    }

    /// The median wall time of `runs` whole processes each running `sql` once.
    fn process_ms(&self, lake: &Path, sql: &str, runs: usize) -> f64 {
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                self.run(lake, &[sql], 1);
                started.elapsed()
            })
            .collect();
        median(&mut times)
    }
}

/// One case of the script's answer: (median ms, first ms, rows), or `None` with its error shown.
fn duck_case(case: &Value) -> Option<(f64, f64, usize)> {
    if let Some(error) = case["error"].as_str() {
        eprintln!("DuckDB failed case {}: {error}", case["name"]);
        return None;
    }
    Some((
        case["median_ms"].as_f64()?,
        case["first_ms"].as_f64()?,
        usize::try_from(case["rows"].as_u64()?).ok()?,
    ))
}

/// What DuckDB measured on one lake, beside Lakewatch's row.
struct Beside<'a> {
    lw: &'a Row,
    pruned: Option<(f64, f64, usize)>,
    all: Option<(f64, f64, usize)>,
    process_ms: f64,
    dash_ms: Option<f64>,
}

/// Every lake's panels on DuckDB: the pruned and one-day panels in one process, the dashboard
/// set in another (its first round, which makes DuckDB's views, left out when there are more),
/// and whole processes running the pruned panel.
fn duck_beside<'a>(
    duck: &Duck,
    rows: &'a [Row],
    panels: &Panels,
    rounds: (usize, usize),
) -> Vec<Beside<'a>> {
    let set: Vec<&str> = panels.set.iter().map(|p| p.sql.as_str()).collect();
    rows.iter()
        .map(|lw| {
            let panels_run = duck.run(&lw.dir, &[&panels.pruned.sql, &panels.all.sql], rounds.0);
            let (pruned, all) = panels_run.map_or((None, None), |r| (r.cases[0], r.cases[1]));
            let dash_ms = duck.run(&lw.dir, &set, rounds.1).and_then(|r| {
                let mut later: Vec<Duration> = r.round_ms[usize::from(r.round_ms.len() > 1)..]
                    .iter()
                    .map(|ms| Duration::from_secs_f64(ms / 1000.0))
                    .collect();
                (!later.is_empty() && r.cases.iter().all(Option::is_some))
                    .then(|| median(&mut later))
            });
            Beside {
                lw,
                pruned,
                all,
                process_ms: duck.process_ms(&lw.dir, &panels.pruned.sql, 3),
                dash_ms,
            }
        })
        .collect()
}

/// `lakewatch ms / duckdb ms`, or "n/a".
fn ratio(lw: f64, duck: Option<f64>) -> String {
    duck.map_or("n/a".into(), |d| format!("{:.2}", lw / d))
}

fn ms(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |v| format!("{v:.1}"))
}

fn print_beside(rows: &[Beside]) {
    println!(
        "\nsame SQL on DuckDB over the same files (ratio = Lakewatch / DuckDB)\n{:<8} | {:>9} {:>9} {:>6} {:>9} {:>10} | {:>8} {:>9} {:>6} | {:>8} {:>9} {:>6}",
        "lake", "pruned ms", "duckdb ms", "ratio", "duck 1st", "duck proc", "1-day ms",
        "duckdb ms", "ratio", "dash ms", "duckdb ms", "ratio"
    );
    for b in rows {
        let (pruned, all) = (b.pruned.map(|p| p.0), b.all.map(|a| a.0));
        println!(
            "{:<8} | {:>9.1} {:>9} {:>6} {:>9} {:>10.0} | {:>8.1} {:>9} {:>6} | {:>8.0} {:>9} {:>6}",
            b.lw.label,
            b.lw.pruned_ms,
            ms(pruned),
            ratio(b.lw.pruned_ms, pruned),
            ms(b.pruned.map(|p| p.1)),
            b.process_ms,
            b.lw.all_ms,
            ms(all),
            ratio(b.lw.all_ms, all),
            b.lw.dash_ms,
            ms(b.dash_ms),
            ratio(b.lw.dash_ms, b.dash_ms),
        );
        for (what, lw, duck) in [
            ("pruned", b.lw.pruned_rows, b.pruned.map(|p| p.2)),
            ("1-day", b.lw.all_rows, b.all.map(|a| a.2)),
        ] {
            if duck.is_some_and(|d| d != lw) {
                println!("  {what} panel: Lakewatch gave {lw} rows, DuckDB {duck:?}");
            }
        }
    }
    let worst = rows
        .iter()
        .filter_map(|b| b.pruned.map(|p| b.lw.pruned_ms / p.0))
        .fold(0.0, f64::max);
    println!("pruned panel, worst ratio to DuckDB: {worst:.2} (goal ≤ 1.50)");
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
    let rounds = if full { (7, 3) } else { (1, 1) };
    let panels = Panels::new();
    let rows = measure(&shapes, &panels, rounds).await;
    print(&rows);
    match Duck::find() {
        Some(duck) => print_beside(&duck_beside(&duck, &rows, &panels, rounds)),
        None => println!(
            "DuckDB side by side skipped: no Python with duckdb and sqlglot (make .venv or set \
             LAKEWATCH_PYTHON)"
        ),
    }
}
