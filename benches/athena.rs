//! Athena results bench, side by side in one run:
//! - decode rate of GetQueryResults pages into Arrow (a 10-column mixed-type result, 100 k rows,
//!   100 pages of 1,000), and the whole page path (JSON → cells → Arrow) ÷ merely parsing the
//!   same pages with `serde_json` into `Value`s;
//! - the same rows read from the CSV result object (one GetObject instead of 100 calls);
//! - the plugin's own overhead per query: parse + plan + render + frame conversion and wire
//!   encoding of a 10 k-row result (p50/p99), with the engine answering at once.
//!
//! `cargo bench --bench athena` runs the full sizes; under `cargo test` a smoke size.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lakewatch::cache::CacheOutcome;
use lakewatch::engine::athena::{decode, PAGE_ROWS};
use lakewatch::engine::result_csv::ResultCsv;
use lakewatch::engine::{Engine, EngineError, EngineRequest, QueryOutput, ScanStats};
use lakewatch::frame::encode_frame;
use lakewatch::pipeline::{run_panel, PanelRequest};
use lakewatch::plan::TableRef;
use lakewatch::settings::Settings;
use lakewatch::sql::Dialect;
use serde::Deserialize;
use serde_json::{json, Value};

const COLUMNS: [(&str, &str); 10] = [
    ("src_ip", "varchar"),
    ("dst_ip", "varchar"),
    ("account", "varchar"),
    ("bytes", "bigint"),
    ("packets", "bigint"),
    ("dst_port", "integer"),
    ("ratio", "double"),
    ("accepted", "boolean"),
    ("start_time", "timestamp"),
    ("event_day", "date"),
];

fn cell(row: usize, column: usize) -> Option<String> {
    if row % 97 == column {
        return None;
    }
    Some(match column {
        0 => format!("10.{}.{}.{}", row % 7, row / 256 % 256, row % 256),
        1 => format!("172.16.{}.{}", row / 256 % 256, row % 199),
        2 => format!("{:012}", 111_122_223_333u64 + (row % 5) as u64),
        3 => (row * 1_537 % 9_000_017).to_string(),
        4 => (row % 1_000).to_string(),
        5 => (row % 65_536).to_string(),
        6 => format!("{:.4}", row as f64 / 7.0),
        7 => (row % 3 != 0).to_string(),
        8 => format!(
            "2024-06-{:02} {:02}:{:02}:{:02}.{:03}",
            1 + row % 28,
            row % 24,
            row % 60,
            row / 60 % 60,
            row % 1000
        ),
        _ => format!("2024-06-{:02}", 1 + row % 28),
    })
}

/// GetQueryResults pages as Athena sends them: the header row first, 1,000 rows a page.
fn pages_json(rows: usize) -> Vec<Vec<u8>> {
    let header: Vec<Value> = COLUMNS
        .iter()
        .map(|(n, _)| json!({"VarCharValue": n}))
        .collect();
    let info: Vec<Value> = COLUMNS
        .iter()
        .map(|(n, t)| json!({"Name": n, "Label": n, "Type": t, "Nullable": "UNKNOWN"}))
        .collect();
    let mut all = vec![json!({ "Data": header })];
    for r in 0..rows {
        let data: Vec<Value> = (0..COLUMNS.len())
            .map(|c| match cell(r, c) {
                Some(v) => json!({ "VarCharValue": v }),
                None => json!({}),
            })
            .collect();
        all.push(json!({ "Data": data }));
    }
    let chunks: Vec<&[Value]> = all.chunks(PAGE_ROWS).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut page = json!({
                "UpdateCount": 0,
                "ResultSet": {"Rows": chunk, "ResultSetMetadata": {"ColumnInfo": info}},
            });
            if i + 1 < chunks.len() {
                page["NextToken"] = json!(format!("token-{}", i + 1));
            }
            serde_json::to_vec(&page).unwrap()
        })
        .collect()
}

/// The CSV result object of the same rows.
fn result_object(rows: usize) -> Vec<u8> {
    let mut text = String::new();
    let quoted = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
    let header: Vec<String> = COLUMNS.iter().map(|(n, _)| quoted(n)).collect();
    text.push_str(&header.join(","));
    text.push('\n');
    for r in 0..rows {
        let cells: Vec<String> = (0..COLUMNS.len())
            .map(|c| cell(r, c).map_or_else(String::new, |v| quoted(&v)))
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    text.into_bytes()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WirePage {
    result_set: WireSet,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireSet {
    rows: Vec<WireRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireRow {
    data: Vec<WireCell>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireCell {
    var_char_value: Option<String>,
}

/// Pages → rows of cells (what the SDK hands the engine), the header row dropped.
fn page_cells(pages: &[Vec<u8>]) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let page: WirePage = serde_json::from_slice(page).unwrap();
        rows.extend(
            page.result_set
                .rows
                .into_iter()
                .skip(usize::from(i == 0))
                .map(|r| r.data.into_iter().map(|c| c.var_char_value).collect()),
        );
    }
    rows
}

fn columns() -> Vec<(String, String)> {
    COLUMNS
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

fn median_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(f());
        times.push(started.elapsed());
    }
    times.sort();
    (times[times.len() / 2], last.unwrap())
}

/// An engine that answers every query at once with the same result: isolates the plugin's own
/// work around the engine.
struct Answering(QueryOutput);

#[async_trait::async_trait]
impl Engine for Answering {
    fn dialect(&self) -> Dialect {
        Dialect::Athena
    }
    fn name(&self) -> &'static str {
        "athena"
    }
    async fn run(&self, _request: &EngineRequest) -> Result<QueryOutput, EngineError> {
        Ok(self.0.clone())
    }
    async fn check(&self, _tables: &[TableRef]) -> Result<String, EngineError> {
        Ok(String::new())
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (rows, runs, overhead_runs) = if full {
        (100_000, 7, 300)
    } else {
        (3_000, 1, 5)
    };
    let columns = columns();

    // Pages and the result object.
    let pages = pages_json(rows);
    let object = result_object(rows);
    let (t_value, _) = median_of(runs, || {
        pages
            .iter()
            .map(|p| serde_json::from_slice::<Value>(p).unwrap())
            .collect::<Vec<_>>()
    });
    let (t_cells, cells) = median_of(runs, || page_cells(&pages));
    let (t_decode, batch) = median_of(runs, || decode(&columns, cells.as_slice()).unwrap());
    assert_eq!(batch.num_rows(), rows);
    let (t_csv, from_csv) = median_of(runs, || {
        let csv = ResultCsv::parse(object.clone(), columns.len()).unwrap();
        decode(&columns, &csv).unwrap()
    });
    assert_eq!(
        from_csv, batch,
        "the result object decodes to the same batch as the pages"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rate = |d: Duration| rows as f64 / d.as_secs_f64().max(1e-9);
    println!(
        "Athena results: {rows} rows × {} columns, {} pages ({} KiB JSON) or one CSV object ({} KiB)",
        columns.len(),
        pages.len(),
        pages.iter().map(Vec::len).sum::<usize>() / 1024,
        object.len() / 1024
    );
    println!(
        "  serde_json → Value (merely parse)   {:>8.1} ms",
        ms(t_value)
    );
    println!(
        "  pages → cells (the SDK's part)      {:>8.1} ms",
        ms(t_cells)
    );
    println!(
        "  cells → Arrow (decode)              {:>8.1} ms   {:>6.2} M rows/s",
        ms(t_decode),
        rate(t_decode) / 1e6
    );
    println!(
        "  page path (cells + decode) ÷ parse  {:>8.2}",
        (t_cells + t_decode).as_secs_f64() / t_value.as_secs_f64()
    );
    println!(
        "  decode alone ÷ parse                {:>8.2}",
        t_decode.as_secs_f64() / t_value.as_secs_f64()
    );
    println!(
        "  CSV object → Arrow                  {:>8.1} ms   {:>6.2} M rows/s, ÷ page path {:.2}; API calls {} vs 1",
        ms(t_csv),
        rate(t_csv) / 1e6,
        t_csv.as_secs_f64() / (t_cells + t_decode).as_secs_f64(),
        pages.len()
    );

    // The plugin's own overhead: a 10 k-row flow volume (100 accounts × 100 hours).
    let from = t("2024-06-01T00:00:00Z");
    let hours = 100;
    let result: Vec<Vec<Option<String>>> = (0..hours)
        .flat_map(|h| {
            (0..100).map(move |a| {
                vec![
                    Some((from.timestamp_millis() + h * 3_600_000).to_string()),
                    Some(format!("{:012}", 100_000_000_000u64 + a)),
                    Some(((h as u64 + 1) * (a + 1) * 1_000).to_string()),
                ]
            })
        })
        .collect();
    let result_columns: Vec<(String, String)> = [
        ("time_bucket", "bigint"),
        ("account", "varchar"),
        ("bytes", "bigint"),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .collect();
    let batch = decode(&result_columns, result.as_slice()).unwrap();
    let engine = Answering(QueryOutput {
        schema: batch.schema(),
        batches: vec![batch],
        stats: ScanStats::default(),
        elapsed: Duration::ZERO,
        athena: None,
        cache: CacheOutcome::Miss,
    });
    let settings = Settings::from_json(&json!({"sourceVersion": "2"})).unwrap();
    let query = serde_json::to_vec(&json!({"kind": "flow_volume", "measure": "bytes",
        "group_by": ["account"], "filters": {"regions": ["us-east-1"]}}))
    .unwrap();
    let mut times = Vec::new();
    let mut encode_times = Vec::new();
    let mut wire_bytes = 0;
    for _ in 0..overhead_runs {
        let started = Instant::now();
        let frames = run_panel(
            &engine,
            &settings,
            &PanelRequest {
                ref_id: "A",
                json: &query,
                from,
                to: from + chrono::Duration::hours(hours),
                interval_ms: 3_600_000,
                max_data_points: 1_000,
            },
            None,
        )
        .await
        .unwrap();
        let framed = started.elapsed();
        wire_bytes = frames
            .iter()
            .map(|f| encode_frame(f, "A").unwrap().len())
            .sum::<usize>();
        times.push(started.elapsed());
        encode_times.push(started.elapsed() - framed);
    }
    times.sort();
    encode_times.sort();
    let pct = |p: f64| ms(times[((times.len() - 1) as f64 * p) as usize]);
    println!(
        "Plugin overhead per query (parse + plan + render + 10 k rows → frames → wire, {} B): p50 {:.2} ms, p99 {:.2} ms over {overhead_runs} runs",
        wire_bytes,
        pct(0.5),
        pct(0.99)
    );
    println!(
        "  of which wire encoding p50 {:.2} ms",
        ms(encode_times[encode_times.len() / 2]),
    );
}
