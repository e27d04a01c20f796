//! Pruning bench: the same panel query run side by side with the partition predicates Lakewatch
//! renders and with the time filter only (what peers send), on one generated lake, in one run.
//! Prints files, bytes and wall time of both and their ratios.
//!
//! `cargo bench --bench pruning` measures the default-size lake; under `cargo test` it runs a
//! small smoke version so it never rots.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lakewatch::demo::{self, DemoConfig};
use lakewatch::engine::local::LocalEngine;
use lakewatch::engine::{Engine, EngineRequest, QueryOutput};
use lakewatch::lake::SourceVersion;
use lakewatch::pipeline::{prepare, PanelRequest};
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
        })
        .await
        .expect("query runs")
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let mut cfg = DemoConfig {
        end: t("2024-06-15T12:00:00Z"),
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
        "lake: {} records per version, {} files, {} bytes, generated in {:.1} s",
        summary.records_per_version,
        summary.files,
        summary.bytes,
        summary.elapsed.as_secs_f64()
    );
    let engine = LocalEngine::new(&dir);
    let rounds = if full { 7 } else { 1 };
    let panels = [
        (
            "1 day, bytes by account",
            "2024-06-14T00:00:00Z",
            "2024-06-14T23:59:59.999Z",
            json!({"measure": "bytes", "group_by": ["account"]}),
        ),
        (
            "6 hours, rejected by port",
            "2024-06-15T06:00:00Z",
            "2024-06-15T12:00:00Z",
            json!({"measure": "flows", "group_by": ["dst_port"], "filters": {"action": "REJECT"}}),
        ),
        (
            "1 hour, flow search by CIDR",
            "2024-06-15T10:00:00Z",
            "2024-06-15T11:00:00Z",
            json!({"kind": "flow_search", "limit": 100, "filters": {"ip": ["10.0.0.0/16"], "protocols": ["tcp"]}}),
        ),
        (
            "1 day, top talkers either",
            "2024-06-14T00:00:00Z",
            "2024-06-14T23:59:59.999Z",
            json!({"kind": "top_talkers", "by": "either", "limit": 10}),
        ),
        (
            "1 day, one account+region",
            "2024-06-14T00:00:00Z",
            "2024-06-14T23:59:59.999Z",
            json!({"measure": "packets", "filters": {"accounts": [cfg.account_ids()[0].clone()], "regions": ["us-east-1"]}}),
        ),
    ];
    println!(
        "{:<28} {:>3} {:>17} {:>17} {:>8} {:>12} {:>12} {:>8}",
        "panel", "ver", "bytes pruned", "bytes all", "ratio", "ms pruned", "ms all", "ratio"
    );
    for version in ["1", "2"] {
        let settings = Settings::from_json(&json!({"sourceVersion": version})).unwrap();
        for (name, from, to, query) in &panels {
            let json = serde_json::to_vec(query).unwrap();
            let prepared = prepare(
                &settings,
                Dialect::Local,
                &PanelRequest {
                    ref_id: "A",
                    json: &json,
                    from: t(from),
                    to: t(to),
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
            assert_eq!(p.rows(), a.rows(), "pruning must not change the answer");
            let median = |v: &mut Vec<Duration>| {
                v.sort();
                v[v.len() / 2].as_secs_f64() * 1000.0
            };
            let (mp, ma) = (median(&mut tp), median(&mut ta));
            println!(
                "{:<28} {:>3} {:>10} ({:>4}) {:>10} ({:>4}) {:>8.3} {:>12.1} {:>12.1} {:>8.3}",
                name,
                version,
                p.stats.bytes_read,
                p.stats.files,
                a.stats.bytes_read,
                a.stats.files,
                p.stats.bytes_read as f64 / a.stats.bytes_read.max(1) as f64,
                mp,
                ma,
                mp / ma
            );
        }
    }
    println!("columns: bytes read (files) with Lakewatch's partition predicates vs the time filter alone; ratio = pruned / all");
    let _ = std::fs::remove_dir_all(&dir);
}
