//! `lakewatch`: the command-line face of the plugin — run the demo, generate a lake, print a
//! query's SQL, run a query on a local lake, check a lake. All logic lives in the library.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use lakewatch::dashboards::{self, parse_time};
use lakewatch::demo::{self, DemoConfig};

/// The generator and `query` allocate per value and per file as the plugin does (see
/// `gpx_lakewatch`'s allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use lakewatch::frame::{decode_frames, encode_frame, DecodedFrame};
use lakewatch::grafana_host::{HostQuery, PluginProcess};
use lakewatch::lake::{Source, SourceVersion};
use lakewatch::pipeline::{health, render_sql, resolve_for_queries, run_panel, PanelRequest};
use lakewatch::settings::Settings;
use lakewatch::sql::Dialect;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(
    name = "lakewatch",
    version,
    about = "Amazon Security Lake for Grafana: demo, lake generator, SQL and query tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the demo lake (once), start the plugin as Grafana does and show every shipped panel.
    Demo {
        /// Lake folder (generated when missing).
        #[arg(long, default_value = "demo-lake")]
        lake: PathBuf,
        /// Throw the lake away and generate it anew.
        #[arg(long)]
        regenerate: bool,
        /// Plugin executable (default: gpx_lakewatch next to this program).
        #[arg(long)]
        plugin: Option<PathBuf>,
    },
    /// Generate a demo Security Lake (real Parquet in the Security Lake folder layout).
    DemoLake {
        /// Output folder (the lake root).
        #[arg(long)]
        out: PathBuf,
        /// Days of data.
        #[arg(long, default_value_t = 14)]
        days: u32,
        /// Number of AWS accounts.
        #[arg(long, default_value_t = 3)]
        accounts: u32,
        /// Regions, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "us-east-1,eu-west-1")]
        regions: Vec<String>,
        /// Random seed: the same seed and end give byte-identical files.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Source version(s) to write.
        #[arg(long, value_enum, default_value_t = VersionArg::V2)]
        source_version: VersionArg,
        /// End of the lake (RFC 3339 or now-…); default now.
        #[arg(long)]
        end: Option<String>,
        /// Flow records per account, region and hour at the daily peak.
        #[arg(long)]
        flows_per_hour: Option<u32>,
        /// Add what real lakes carry (IPv6, `-` and NULL addresses and ports, NAT-gateway and
        /// endpoint traffic, flows crossing midnight, late deliveries, several files per
        /// partition): the test fixture lakes are messy.
        #[arg(long)]
        messy: bool,
        /// Replace an existing lake.
        #[arg(long)]
        force: bool,
    },
    /// Print the SQL of a query.
    Sql {
        /// Query JSON file, or - for stdin.
        #[arg(long)]
        query: String,
        /// Range start (RFC 3339 or now-…).
        #[arg(long)]
        from: String,
        /// Range end.
        #[arg(long, default_value = "now")]
        to: String,
        /// SQL dialect.
        #[arg(long, value_enum, default_value_t = DialectArg::Athena)]
        dialect: DialectArg,
        /// Source version of the tables.
        #[arg(long, default_value = "2")]
        source_version: String,
        /// Region whose database holds the tables.
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Grafana's intervalMs.
        #[arg(long, default_value_t = 0)]
        interval_ms: i64,
        /// Grafana's maxDataPoints.
        #[arg(long, default_value_t = 1000)]
        max_data_points: i64,
    },
    /// Run a query on a local lake (or on Athena with --athena) and print the result and what was
    /// read.
    Query {
        #[command(flatten)]
        engine: EngineArgs,
        /// Query JSON file, or - for stdin.
        #[arg(long)]
        query: String,
        /// Range start (RFC 3339 or now-…).
        #[arg(long)]
        from: String,
        /// Range end.
        #[arg(long, default_value = "now")]
        to: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
        /// Grafana's intervalMs.
        #[arg(long, default_value_t = 0)]
        interval_ms: i64,
        /// Grafana's maxDataPoints.
        #[arg(long, default_value_t = 1000)]
        max_data_points: i64,
        /// Also read the frames the way Grafana's alert rules and expressions do (the Go SDK's
        /// Arrow rules, the dataplane rules); exit non-zero with each broken rule when they
        /// refuse them.
        #[arg(long)]
        check_frames: bool,
    },
    /// Answer every panel and annotation query of every shipped dashboard on a small demo lake
    /// at a fixed time and write the frames as Grafana's frontend receives them, one JSON file
    /// per dashboard (the dashboard pictures are drawn from them).
    DashboardFrames {
        /// Output folder (frontend/e2e/frames in the repository).
        #[arg(long, default_value = lakewatch::dashboard_frames::FRAMES_DIR)]
        out: PathBuf,
    },
    /// Print the query kinds as the query editor reads them (frontend/src/kinds.json is this
    /// output).
    Kinds,
    /// Check that a local lake (or Athena with --athena) is usable, as the datasource's health
    /// check does.
    Check {
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Serve the plugin protocol (what gpx_lakewatch does).
    #[command(hide = true)]
    ServePlugin,
}

/// Where queries run: the local lake, or Athena with the datasource's settings.
#[derive(Args)]
struct EngineArgs {
    /// Lake folder (local engine).
    #[arg(long, default_value = "demo-lake")]
    lake: PathBuf,
    /// Run on Amazon Athena instead of the local lake.
    #[arg(long)]
    athena: bool,
    /// Athena API region.
    #[arg(long, default_value = "us-east-1", requires = "athena")]
    region: String,
    /// Athena workgroup.
    #[arg(long, default_value = "primary", requires = "athena")]
    workgroup: String,
    /// Named profile of the shared AWS config (default: the default credential chain).
    #[arg(long, requires = "athena")]
    profile: Option<String>,
    /// Query result location (s3://…); the workgroup's when absent.
    #[arg(long, requires = "athena")]
    output_location: Option<String>,
    /// Role to assume.
    #[arg(long, requires = "athena")]
    assume_role_arn: Option<String>,
    /// External id for the role.
    #[arg(long, requires = "assume_role_arn")]
    external_id: Option<String>,
    /// Endpoint override for every AWS API (VPC endpoints, test servers).
    #[arg(long, requires = "athena")]
    endpoint: Option<String>,
    /// Region whose Glue database holds the Security Lake tables (default: --region).
    #[arg(long)]
    rollup_region: Option<String>,
    /// Source version of the tables (default: 2 locally, discovered from Glue on Athena).
    #[arg(long)]
    source_version: Option<String>,
}

impl EngineArgs {
    /// The datasource settings these arguments stand for (validated like the datasource's).
    fn settings(&self) -> Result<Settings, lakewatch::settings::SettingsError> {
        let mut json = if self.athena {
            let mut json = json!({
                "engine": "athena",
                "defaultRegion": self.region,
                "workgroup": self.workgroup,
                "rollupRegion": self.rollup_region.as_deref().unwrap_or(&self.region),
            });
            let optional = [
                ("outputLocation", &self.output_location),
                ("assumeRoleArn", &self.assume_role_arn),
                ("externalId", &self.external_id),
                ("endpoint", &self.endpoint),
                ("profile", &self.profile),
            ];
            for (key, value) in optional {
                if let Some(v) = value {
                    json[key] = json!(v);
                }
            }
            if self.profile.is_some() {
                json["authType"] = json!("credentials");
            }
            json
        } else {
            json!({ "lakePath": self.lake.display().to_string() })
        };
        if let Some(region) = self.rollup_region.as_ref().filter(|_| !self.athena) {
            json["rollupRegion"] = json!(region);
        }
        if let Some(v) = &self.source_version {
            json["sourceVersion"] = json!(v);
        }
        Settings::from_json(&json)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum VersionArg {
    #[value(name = "1")]
    V1,
    #[value(name = "2")]
    V2,
    Both,
}

#[derive(Clone, Copy, ValueEnum)]
enum DialectArg {
    Athena,
    Local,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Table,
    Json,
    Csv,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::ServePlugin) {
        use tracing_subscriber::prelude::*;
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_filter(filter)
                    .with_filter(lakewatch::log_filter::no_credentials()),
            )
            .try_init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn run(command: Command) -> CliResult {
    match command {
        Command::Demo {
            lake,
            regenerate,
            plugin,
        } => run_demo(&lake, regenerate, plugin).await,
        Command::DemoLake {
            out,
            days,
            accounts,
            regions,
            seed,
            source_version,
            end,
            flows_per_hour,
            messy,
            force,
        } => {
            let mut cfg = DemoConfig {
                days,
                accounts,
                regions,
                seed,
                messy,
                versions: match source_version {
                    VersionArg::V1 => vec![SourceVersion::V1],
                    VersionArg::V2 => vec![SourceVersion::V2],
                    VersionArg::Both => vec![SourceVersion::V1, SourceVersion::V2],
                },
                ..DemoConfig::default()
            };
            if let Some(end) = end {
                cfg.end = parse_time(&end, Utc::now())?;
            }
            if let Some(n) = flows_per_hour {
                cfg.flows_per_hour = n;
            }
            validate_demo_config(&cfg)?;
            if out.exists() {
                if force {
                    std::fs::remove_dir_all(&out)?;
                } else {
                    return Err(format!(
                        "{} already exists; pass --force to replace it",
                        out.display()
                    )
                    .into());
                }
            }
            generate(&cfg, &out)?;
            Ok(())
        }
        Command::Sql {
            query,
            from,
            to,
            dialect,
            source_version,
            region,
            interval_ms,
            max_data_points,
        } => {
            let settings = Settings::from_json(&json!({
                "sourceVersion": source_version, "rollupRegion": region
            }))?;
            let json = read_query(&query)?;
            let (from, to) = range(&from, &to)?;
            let dialect = match dialect {
                DialectArg::Athena => Dialect::Athena,
                DialectArg::Local => Dialect::Local,
            };
            let sql = render_sql(
                &settings,
                dialect,
                &PanelRequest {
                    ref_id: "A",
                    json: &json,
                    from,
                    to,
                    interval_ms,
                    max_data_points,
                },
            )?;
            println!("{sql}");
            Ok(())
        }
        Command::Query {
            engine,
            query,
            from,
            to,
            format,
            interval_ms,
            max_data_points,
            check_frames,
        } => {
            let mut settings = engine.settings()?;
            let json = read_query(&query)?;
            let (from, to) = range(&from, &to)?;
            let engine = lakewatch::service::connect_engine(&settings.engine).await;
            resolve_for_queries(engine.as_ref(), &mut settings).await?;
            let frames = run_panel(
                engine.as_ref(),
                &settings,
                &PanelRequest {
                    ref_id: "A",
                    json: &json,
                    from,
                    to,
                    interval_ms,
                    max_data_points,
                },
                None,
            )
            .await?;
            let wire = frames
                .iter()
                .map(|f| encode_frame(f, "A"))
                .collect::<Result<Vec<_>, _>>()?;
            let decoded = wire
                .iter()
                .map(|bytes| decode_frames(bytes))
                .collect::<Result<Vec<_>, _>>()?;
            match format {
                FormatArg::Json => println!("{}", serde_json::to_string_pretty(&decoded)?),
                FormatArg::Csv => {
                    for f in &decoded {
                        print_csv(f);
                    }
                }
                FormatArg::Table => {
                    for f in &decoded {
                        print_table(f);
                    }
                }
            }
            for f in &decoded {
                eprintln!("{}", read_line(f));
            }
            if check_frames {
                report_frame_check(&wire)?;
            }
            Ok(())
        }
        Command::Check { engine } => {
            let settings = engine.settings()?;
            let engine = lakewatch::service::connect_engine(&settings.engine).await;
            println!("{}", health(engine.as_ref(), settings).await?);
            Ok(())
        }
        Command::DashboardFrames { out } => write_dashboard_frames(&out).await,
        Command::Kinds => {
            print!("{}", lakewatch::query::kinds::kinds_json());
            Ok(())
        }
        Command::ServePlugin => lakewatch::service::serve().await,
    }
}

fn validate_demo_config(cfg: &DemoConfig) -> Result<(), String> {
    if cfg.days == 0 || cfg.days > 366 {
        return Err(format!("--days {} is out of range; use 1 to 366", cfg.days));
    }
    if cfg.accounts == 0 || cfg.accounts > 50 {
        return Err(format!(
            "--accounts {} is out of range; use 1 to 50",
            cfg.accounts
        ));
    }
    for r in &cfg.regions {
        lakewatch::query::Region::parse(r).map_err(|e| format!("--regions {r:?}: {e}"))?;
    }
    if cfg.regions.is_empty() {
        return Err("--regions needs at least one region".into());
    }
    Ok(())
}

fn generate(cfg: &DemoConfig, out: &Path) -> CliResult {
    eprintln!(
        "generating a demo lake in {}: {} accounts x {} regions x {} days, seed {}, ending {}",
        out.display(),
        cfg.accounts,
        cfg.regions.len(),
        cfg.days,
        cfg.seed,
        cfg.end.to_rfc3339()
    );
    let summary = demo::write_lake(cfg, out, true)?;
    let secs = summary.elapsed.as_secs_f64();
    eprintln!(
        "generated {} flow records, {} CloudTrail events, {} CloudTrail data events (S3 and Lambda, drawn in {} ms) and {} resolver queries per version, {} WAF requests (version 2), {} files, {} in {:.1} s ({:.0} records/s over every source, {:.0} flow records/s)",
        summary.records_per_version,
        summary.trail_events_per_version,
        summary.data_events_per_version,
        summary.data_events_cpu.as_millis(),
        summary.dns_queries_per_version,
        summary.waf_requests,
        summary.files,
        human_bytes(summary.bytes as f64),
        secs,
        summary.records_written(cfg.versions.len()) as f64 / secs.max(1e-9),
        summary.records_per_version as f64 * cfg.versions.len() as f64 / secs.max(1e-9)
    );
    Ok(())
}

fn read_query(path: &str) -> Result<Vec<u8>, std::io::Error> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}

fn range(from: &str, to: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let now = Utc::now();
    Ok((
        parse_time(from, now).map_err(|e| format!("--from: {e}"))?,
        parse_time(to, now).map_err(|e| format!("--to: {e}"))?,
    ))
}

fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

fn field_title(f: &lakewatch::frame::DecodedField) -> String {
    if f.labels.is_empty() {
        f.name.clone()
    } else {
        let labels: Vec<String> = f.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} {{{}}}", f.name, labels.join(", "))
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn print_table(f: &DecodedFrame) {
    let headers: Vec<String> = f.fields.iter().map(field_title).collect();
    let rows = f.fields.first().map_or(0, |x| x.values.len());
    let cells: Vec<Vec<String>> = (0..rows)
        .map(|r| f.fields.iter().map(|x| cell(&x.values[r])).collect())
        .collect();
    print_aligned("", &headers, &cells);
}

/// Right-aligned columns, each as wide as its widest cell, every line after `indent`.
fn print_aligned(indent: &str, headers: &[String], cells: &[Vec<String>]) {
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |items: &[String]| {
        items
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{indent}{}", line(headers));
    for r in cells {
        println!("{indent}{}", line(r));
    }
}

fn print_csv(f: &DecodedFrame) {
    let esc = |s: String| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let headers: Vec<String> = f.fields.iter().map(|x| esc(field_title(x))).collect();
    println!("{}", headers.join(","));
    let rows = f.fields.first().map_or(0, |x| x.values.len());
    for r in 0..rows {
        let cells: Vec<String> = f.fields.iter().map(|x| esc(cell(&x.values[r]))).collect();
        println!("{}", cells.join(","));
    }
}

fn read_line(f: &DecodedFrame) -> String {
    let c = &f.meta["custom"];
    format!(
        "rows {} · partitions (files) read {} · bytes read {} ({} in those files) · engine {} ms",
        c["rows"],
        c["filesRead"],
        human_bytes(c["bytesRead"].as_f64().unwrap_or(0.0)),
        human_bytes(c["fileBytes"].as_f64().unwrap_or(0.0)),
        c["engineMs"]
    )
}

/// A compact per-series summary of a time-series frame: total, peak and last value; for levels
/// (compliance series: a pass rate or a count of resources at each point) mean, low and last.
fn print_series_summary(f: &DecodedFrame, unit_bytes: bool) {
    let level = f.meta["custom"]["kind"] == "compliance_over_time";
    let mut series: Vec<(String, f64, f64, f64)> = f
        .fields
        .iter()
        .filter(|x| x.type_name == "number")
        .map(|x| {
            let nums: Vec<f64> = x.values.iter().filter_map(Value::as_f64).collect();
            let total: f64 = nums.iter().sum();
            let (first, second) = if level {
                (
                    total / nums.len().max(1) as f64,
                    nums.iter().copied().fold(f64::INFINITY, f64::min),
                )
            } else {
                (total, nums.iter().copied().fold(0.0, f64::max))
            };
            let last = nums.last().copied().unwrap_or(0.0);
            let mut name = if x.labels.is_empty() {
                x.name.clone()
            } else {
                x.labels.values().cloned().collect::<Vec<_>>().join(" / ")
            };
            if level && !x.labels.is_empty() {
                name = format!("{name} {}", x.name);
            }
            (name, first, second, last)
        })
        .collect();
    series.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let fmt = |v: f64| {
        if unit_bytes {
            human_bytes(v)
        } else if v.is_finite() {
            let text = format!("{v:.1}");
            text.trim_end_matches(".0").to_string()
        } else {
            "-".to_string()
        }
    };
    let width = series
        .iter()
        .map(|s| s.0.len())
        .max()
        .unwrap_or(6)
        .clamp(6, 48);
    let (first, second) = if level {
        ("mean", "low")
    } else {
        ("total", "peak")
    };
    println!(
        "    {:<width$}  {:>12}  {:>12}  {:>12}",
        "series", first, second, "last"
    );
    let shown = 8;
    for (name, first, second, last) in series.iter().take(shown) {
        println!(
            "    {:<width$}  {:>12}  {:>12}  {:>12}",
            name,
            fmt(*first),
            fmt(*second),
            fmt(*last)
        );
    }
    if series.len() > shown {
        println!("    … and {} more series", series.len() - shown);
    }
}

/// The first rows of a table frame, compactly: wide tables (flow search, sign-ins, IAM changes)
/// show their key columns, times to the second, byte counts in human units.
fn print_table_summary(f: &DecodedFrame) {
    const KEY_COLUMNS: [&str; 17] = [
        "start",
        "srcaddr",
        "srcport",
        "dstaddr",
        "dstport",
        "protocol-name",
        "bytes",
        "action",
        "interface-id",
        "time",
        "account",
        "principal",
        "operation",
        "target",
        "src_ip",
        "outcome",
        "mfa",
    ];
    const SHOWN: usize = 8;
    let fields: Vec<&lakewatch::frame::DecodedField> = if f.fields.len() > 10 {
        f.fields
            .iter()
            .filter(|x| KEY_COLUMNS.contains(&x.name.as_str()))
            .collect()
    } else {
        f.fields.iter().collect()
    };
    let rows = f.fields.first().map_or(0, |x| x.values.len());
    if rows == 0 {
        println!("    (no rows)");
        return;
    }
    let show = |x: &lakewatch::frame::DecodedField, v: &Value| -> String {
        match (x.type_name.as_str(), v) {
            ("time", Value::String(s)) => s.get(5..19).unwrap_or(s).replace('T', " "),
            ("number", Value::Number(n)) if x.name == "bytes" => {
                human_bytes(n.as_f64().unwrap_or(0.0))
            }
            _ => cell(v),
        }
    };
    let headers: Vec<String> = fields.iter().map(|x| x.name.clone()).collect();
    let cells: Vec<Vec<String>> = (0..rows.min(SHOWN))
        .map(|r| fields.iter().map(|x| show(x, &x.values[r])).collect())
        .collect();
    print_aligned("    ", &headers, &cells);
    if rows > SHOWN {
        println!("    … and {} more rows", rows - SHOWN);
    }
}

fn lake_end(lake: &Path) -> Option<DateTime<Utc>> {
    let text = std::fs::read_to_string(lake.join("lake.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let end = v["config"]["end"].as_str().or_else(|| v["end"].as_str())?;
    DateTime::parse_from_rfc3339(end).ok().map(|t| t.to_utc())
}

fn plugin_path(explicit: Option<PathBuf>) -> Result<(PathBuf, Vec<&'static str>), String> {
    if let Some(p) = explicit {
        return Ok((p, Vec::new()));
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let sibling = me.with_file_name("gpx_lakewatch");
    if sibling.is_file() {
        return Ok((sibling, Vec::new()));
    }
    // `cargo run --bin lakewatch` builds only this binary: build the plugin the same way.
    if let Some(cargo) = std::env::var_os("CARGO") {
        let release = me.components().any(|c| c.as_os_str() == "release");
        eprintln!("building the plugin binary gpx_lakewatch …");
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "--bin", "gpx_lakewatch"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().map_err(|e| e.to_string())?;
        if status.success() && sibling.is_file() {
            return Ok((sibling, Vec::new()));
        }
    }
    // The same plugin code is in this binary.
    Ok((me, vec!["serve-plugin"]))
}

/// The query Grafana would send for a dashboard target, its relative range read at `anchor`.
fn dashboard_query(
    t: &dashboards::PanelTarget,
    anchor: DateTime<Utc>,
) -> Result<HostQuery, Box<dyn std::error::Error + Send + Sync>> {
    let from = parse_time(&t.time.0, anchor)?;
    let to = parse_time(&t.time.1, anchor)?;
    Ok(HostQuery {
        ref_id: t.ref_id.clone(),
        json: serde_json::to_vec(&t.query)?,
        from_ms: from.timestamp_millis(),
        to_ms: to.timestamp_millis(),
        interval_ms: 60_000,
        max_data_points: 300,
    })
}

async fn run_demo(lake: &Path, regenerate: bool, plugin: Option<PathBuf>) -> CliResult {
    // A lake from an older Lakewatch lacks some source's table (findings, CloudTrail, Route 53, WAF, data events): make a fresh one.
    let complete = lake.join("lake.json").is_file()
        && [
            Source::ShFindings,
            Source::CloudTrailMgmt,
            Source::Route53,
            Source::Waf,
            Source::S3Data,
            Source::LambdaExecution,
        ]
        .iter()
        .all(|s| lake.join("aws").join(s.api_name()).is_dir());
    if regenerate || !complete {
        if lake.exists() {
            std::fs::remove_dir_all(lake)?;
        }
        generate(&DemoConfig::default(), lake)?;
    } else {
        eprintln!(
            "reusing the demo lake in {} (pass --regenerate for a fresh one)",
            lake.display()
        );
    }
    let lake_abs = lake.canonicalize()?;
    let (exe, args) = plugin_path(plugin)?;
    let log = std::env::temp_dir().join("lakewatch-demo-plugin.log");
    let started = Instant::now();
    let plugin = PluginProcess::launch(&exe, &args, Some(&log)).await?;
    println!(
        "plugin {} started; handshake {:?} in {} ms (logs: {})",
        exe.display(),
        plugin.handshake,
        started.elapsed().as_millis(),
        log.display()
    );
    let settings = json!({"engine": "local", "lakePath": lake_abs.display().to_string(), "sourceVersion": "2"});
    let (status, message) = plugin.check_health(&settings).await?;
    println!(
        "CheckHealth: {} — {message}",
        if status == 1 { "OK" } else { "ERROR" }
    );

    let now = Utc::now();
    let anchor = lake_end(lake).map_or(now, |end| end.min(now));
    if anchor < now - chrono::Duration::minutes(5) {
        println!(
            "note: the lake ends at {}; panels show the time range ending there (pass --regenerate for data up to now)",
            anchor.to_rfc3339()
        );
    }
    let targets = dashboards::panel_targets()?;
    let mut calls = Vec::new();
    for t in &targets {
        let query = dashboard_query(t, anchor)?;
        let plugin = &plugin;
        let settings = &settings;
        calls.push(async move { plugin.query(settings, &[query], &[]).await });
    }
    let answers = futures::future::join_all(calls).await;
    let mut failed = 0;
    let mut current = String::new();
    for (t, answer) in targets.iter().zip(answers) {
        if t.dashboard != current {
            current = t.dashboard.clone();
            println!("\n══ {current} ({} .. {}) ══", t.time.0, t.time.1);
        }
        println!("\n▸ {}", t.panel);
        let answer = answer?;
        let Some(r) = answer.get(&t.ref_id) else {
            println!("    no answer");
            failed += 1;
            continue;
        };
        if !r.error.is_empty() {
            println!("    error ({}): {}", r.status, r.error);
            failed += 1;
            continue;
        }
        for f in &r.frames {
            // A node graph's nodes and edges and log lines read best as rows, as tables do.
            let rows = ["table", "nodeGraph", "logs"];
            if rows.contains(
                &f.meta["preferredVisualisationType"]
                    .as_str()
                    .unwrap_or_default(),
            ) {
                print_table_summary(f);
            } else {
                // Units come from the fields' config, as Grafana would show them.
                let bytes = f
                    .fields
                    .iter()
                    .any(|x| x.config.as_ref().is_some_and(|c| c["unit"] == "decbytes"));
                print_series_summary(f, bytes);
            }
            for n in f.meta["notices"].as_array().into_iter().flatten() {
                println!("    note: {}", n["text"].as_str().unwrap_or_default());
            }
            println!("    {}", read_line(f));
        }
    }
    let annotations = dashboards::annotation_targets()?;
    if !annotations.is_empty() {
        println!("\n══ Dashboard annotations ══");
    }
    for t in &annotations {
        let query = dashboard_query(t, anchor)?;
        let answer = plugin.query(&settings, &[query], &[]).await?;
        let Some(r) = answer.get(&t.ref_id).filter(|r| r.error.is_empty()) else {
            let error = answer
                .get(&t.ref_id)
                .map_or("no answer", |r| r.error.as_str());
            println!("\n▸ {} / {}: error: {error}", t.dashboard, t.panel);
            failed += 1;
            continue;
        };
        let texts: Vec<&str> = r
            .frames
            .iter()
            .filter_map(|f| f.fields.iter().find(|x| x.name == "text"))
            .flat_map(|x| x.values.iter().filter_map(Value::as_str))
            .collect();
        println!(
            "\n▸ {} / {} ({} .. {}): {} annotations",
            t.dashboard,
            t.panel,
            t.time.0,
            t.time.1,
            texts.len()
        );
        for text in texts.iter().take(5) {
            println!("    {text}");
        }
        if texts.len() > 5 {
            println!("    … and {} more", texts.len() - 5);
        }
    }
    plugin.stop().await;
    println!(
        "\n{} panels and {} annotation queries, {} failed. Raw SQL of any panel: lakewatch sql --query FILE --from now-24h; the same query on the lake: lakewatch query --query FILE --from now-24h",
        targets.len(),
        annotations.len(),
        failed
    );
    if failed > 0 {
        return Err(format!("{failed} panels or annotation queries failed").into());
    }
    Ok(())
}

/// Generates the small demo lake in a scratch folder, answers every dashboard query on it and
/// writes the frames to `out` (files of dashboards no longer shipped are removed).
async fn write_dashboard_frames(out: &Path) -> CliResult {
    use lakewatch::dashboard_frames;
    let lake = std::env::temp_dir().join(format!("lakewatch-frames-lake-{}", std::process::id()));
    if lake.exists() {
        std::fs::remove_dir_all(&lake)?;
    }
    dashboard_frames::write_lake(&lake)?;
    let answered = dashboard_frames::dashboard_frames(&lake).await;
    std::fs::remove_dir_all(&lake)?;
    let answered = answered?;
    std::fs::create_dir_all(out)?;
    for entry in std::fs::read_dir(out)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".json") && !answered.iter().any(|d| d.file == name) {
            std::fs::remove_file(&path)?;
        }
    }
    let mut failed = 0;
    for d in &answered {
        let text = d.text();
        std::fs::write(out.join(&d.file), &text)?;
        for entry in ["panels", "annotations"]
            .iter()
            .flat_map(|k| d.json[*k].as_array().into_iter().flatten())
        {
            if let Some(error) = entry["error"].as_str() {
                eprintln!(
                    "{} / {}: {error}",
                    d.file,
                    entry["title"].as_str().unwrap_or_default()
                );
                failed += 1;
            }
        }
        println!("{}: {} KB", out.join(&d.file).display(), text.len() / 1024);
    }
    if failed > 0 {
        return Err(format!("{failed} dashboard queries failed").into());
    }
    Ok(())
}

/// Prints how Grafana's server-side readers take the frames, or every rule they break.
fn report_frame_check(wire: &[Vec<u8>]) -> CliResult {
    use lakewatch::frame::grafana_rules::{check_frames, Shape};
    match check_frames(wire) {
        Ok(Shape::Untyped) => eprintln!("frames: a table; Grafana's Go SDK reads it"),
        Ok(Shape::NoData) => eprintln!("frames: no data, as alert rules read it"),
        Ok(Shape::Series(s)) => eprintln!("frames: {} series alert rules can evaluate", s.len()),
        Ok(Shape::Numbers(n)) => eprintln!("frames: {n} numbers alert rules can evaluate"),
        Err(broken) => {
            for v in &broken {
                eprintln!("frames: {v}");
            }
            return Err(format!(
                "Grafana's readers refuse these frames ({} rules broken)",
                broken.len()
            )
            .into());
        }
    }
    Ok(())
}
