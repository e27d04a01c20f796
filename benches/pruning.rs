//! Pruning bench: every query kind on a 1-day window of a 30-day lake (flows and findings), run side by side with the
//! partition predicates Lakewatch renders and with the time filter alone (what peers send), in
//! one run. Prints, per kind and source version:
//! - partitions read ÷ partitions the question needs (goal 1.00),
//! - file bytes opened, and bytes DataFusion actually read, ours ÷ naïve,
//! - median wall time, ours ÷ naïve.
//!
//! `cargo bench --bench pruning` measures the default-size lake over 30 days; under `cargo test`
//! it runs a small smoke version so it never rots.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lakewatch::demo::{self, DemoConfig};
use lakewatch::engine::local::LocalEngine;
use lakewatch::engine::{Engine, EngineRequest, QueryOutput};
use lakewatch::lake::SourceVersion;
use lakewatch::pipeline::{prepare, PanelRequest};
use lakewatch::plan::partitions::event_day;
use lakewatch::settings::Settings;
use lakewatch::sql::{self, Dialect};
use serde_json::json;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

async fn run(engine: &LocalEngine, sql: &str, table: &lakewatch::plan::TableRef) -> QueryOutput {
    engine
        .run(&EngineRequest {
            ref_id: "bench".into(),
            sql: sql.to_string(),
            tables: vec![table.clone()],
            settled: false,
            row_limit: None,
        })
        .await
        .expect("query runs")
}

fn median(v: &mut [Duration]) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn ratio(a: f64, b: f64) -> f64 {
    a / b.max(1.0)
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let mut cfg = DemoConfig {
        days: 30,
        end: t("2024-06-30T12:00:00Z"),
        versions: vec![SourceVersion::V1, SourceVersion::V2],
        ..DemoConfig::default()
    };
    if !full {
        cfg.accounts = 2;
        cfg.flows_per_hour = 10;
    }
    let dir = std::env::temp_dir().join(format!("lakewatch-bench-{}", std::process::id()));
    let summary = demo::write_lake(&cfg, &dir, false).expect("lake");
    println!(
        "lake: {} days, {} accounts, {} regions, {} records per version, {} files, {} bytes, generated in {:.1} s",
        cfg.days,
        cfg.accounts,
        cfg.regions.len(),
        summary.records_per_version,
        summary.files,
        summary.bytes,
        summary.elapsed.as_secs_f64()
    );
    let lake_days: BTreeSet<String> = (0..=cfg.days)
        .map(|d| event_day((cfg.start() + chrono::Duration::days(i64::from(d))).date_naive()))
        .collect();
    let engine = LocalEngine::new(&dir);
    let rounds = if full { 5 } else { 1 };
    let account = cfg.account_ids()[0].clone();
    let (day_from, day_to) = ("2024-06-20T00:00:00Z", "2024-06-20T23:59:59.999Z");
    let panels = [
        (
            "flow_volume by account",
            json!({"kind": "flow_volume", "group_by": ["account"]}),
        ),
        (
            "flow_volume 1 acct+region",
            json!({"kind": "flow_volume", "measure": "packets", "filters": {"accounts": [account], "regions": ["us-east-1"]}}),
        ),
        (
            "rejected by port",
            json!({"kind": "rejected", "group_by": ["dst_port"], "limit": 10}),
        ),
        (
            "rejected top sources",
            json!({"kind": "rejected", "view": "top_sources"}),
        ),
        (
            "top_talkers either",
            json!({"kind": "top_talkers", "by": "either"}),
        ),
        ("top_pairs", json!({"kind": "top_pairs"})),
        ("top_ports", json!({"kind": "top_ports"})),
        ("top_interfaces", json!({"kind": "top_interfaces"})),
        ("internet_egress", json!({"kind": "internet_egress"})),
        (
            "port_scan 10 min",
            json!({"kind": "port_scan", "window_minutes": 10}),
        ),
        (
            "flow_search CIDR",
            json!({"kind": "flow_search", "filters": {"ip": ["10.0.0.0/16"], "protocols": ["tcp"]}}),
        ),
        ("coverage (7-day look-back)", json!({"kind": "coverage"})),
        (
            "compliance_status (7-day)",
            json!({"kind": "compliance_status", "controls": ["EC2.6", "EC2.10"]}),
        ),
        (
            "compliance counts (7-day)",
            json!({"kind": "compliance_status", "view": "counts"}),
        ),
        (
            "compliance_over_time (+7d)",
            json!({"kind": "compliance_over_time", "group_by": ["account"]}),
        ),
    ];
    println!(
        "{:<28} {:>3} {:>11} {:>6} {:>7} {:>7} {:>7} {:>9} {:>9} {:>7}",
        "kind (1-day window)",
        "ver",
        "parts r/n",
        "ratio",
        "files",
        "naïve",
        "fbytes",
        "scanned",
        "ms",
        "time"
    );
    let mut worst_partition_ratio: f64 = 0.0;
    let mut worst_file_bytes_ratio: f64 = 0.0;
    for version in ["1", "2"] {
        let settings = Settings::from_json(&json!({"sourceVersion": version})).unwrap();
        for (name, query) in &panels {
            let json = serde_json::to_vec(query).unwrap();
            let prepared = prepare(
                &settings,
                Dialect::Local,
                &PanelRequest {
                    ref_id: "A",
                    json: &json,
                    from: t(day_from),
                    to: t(day_to),
                    interval_ms: 60_000,
                    max_data_points: 1000,
                },
            )
            .unwrap();
            let unpruned = sql::render_unpruned(&prepared.plan, Dialect::Local);
            let (mut tp, mut ta) = (Vec::new(), Vec::new());
            let (mut pruned_out, mut all_out) = (None, None);
            // Alternate the two so machine noise hits both alike.
            for _ in 0..rounds {
                let s = Instant::now();
                pruned_out = Some(run(&engine, &prepared.sql, &prepared.plan.table).await);
                tp.push(s.elapsed());
                let s = Instant::now();
                all_out = Some(run(&engine, &unpruned, &prepared.plan.table).await);
                ta.push(s.elapsed());
            }
            let (p, a) = (pruned_out.unwrap(), all_out.unwrap());
            assert_eq!(
                p.rows(),
                a.rows(),
                "{name}: pruning must not change the answer"
            );
            // The partitions the question needs: its days that exist in the lake × its accounts
            // × its regions.
            let parts = &prepared.plan.partitions;
            let days = parts
                .days
                .iter()
                .filter(|d| lake_days.contains(&event_day(**d)))
                .count();
            let accounts = if parts.accounts.is_empty() {
                cfg.accounts as usize
            } else {
                parts.accounts.len()
            };
            let regions = if parts.regions.is_empty() {
                cfg.regions.len()
            } else {
                parts.regions.len()
            };
            let needed = days * accounts * regions;
            let read = p.stats.partitions.len();
            let partition_ratio = ratio(read as f64, needed as f64);
            let file_bytes_ratio = ratio(p.stats.file_bytes as f64, a.stats.file_bytes as f64);
            worst_partition_ratio = worst_partition_ratio.max(partition_ratio);
            // Coverage and compliance read their look-back window by design: the 1-day goal is
            // for the others.
            if !name.starts_with("coverage") && !name.starts_with("compliance") {
                worst_file_bytes_ratio = worst_file_bytes_ratio.max(file_bytes_ratio);
            }
            let (mp, ma) = (median(&mut tp), median(&mut ta));
            println!(
                "{:<28} {:>3} {:>5}/{:<5} {:>6.2} {:>7} {:>7} {:>7.3} {:>9.3} {:>4.0}/{:<4.0} {:>7.3}",
                name,
                version,
                read,
                needed,
                partition_ratio,
                p.stats.files,
                a.stats.files,
                file_bytes_ratio,
                ratio(p.stats.bytes_read as f64, a.stats.bytes_read as f64),
                mp,
                ma,
                mp / ma
            );
        }
    }
    println!(
        "parts r/n: partitions read / partitions the question needs; files: files opened, ours vs naïve; \
         fbytes: bytes of the files opened, ours ÷ naïve; scanned: bytes DataFusion read, ours ÷ naïve \
         (DataFusion also skips row groups by the `time` statistics, so this understates what pruning saves \
         on engines that must list and open every file); ms: median ours/naïve; time: ours ÷ naïve"
    );
    println!(
        "worst partitions-read ratio {worst_partition_ratio:.2} (goal 1.00); worst file-bytes ratio of the 1-day kinds {worst_file_bytes_ratio:.3} (goal ≤ 0.05)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
