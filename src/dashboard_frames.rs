//! The frames every shipped dashboard shows, answered on a small fixed demo lake at a fixed time
//! and written as Grafana's data-frame JSON (what Grafana's server hands its frontend). The
//! pictures of the dashboards (`scripts/screenshots`, `frontend/e2e/dashboards.mjs`) are drawn
//! from them; `lakewatch dashboard-frames` writes them to `frontend/e2e/frames/`, and a test keeps
//! them the plugin's current answers.
//!
//! Each query is sent as Grafana sends it: the dashboard's variables at their saved values, its
//! default range ending at the lake's end, and `maxDataPoints` and `intervalMs` as Grafana's
//! query runner resolves them for a panel [`PANEL_WIDTH_PX`] wide (`$__interval` in a query's text
//! becomes that interval). It runs in process through the pipeline QueryData runs, at the lake's
//! end as the wall clock, and its frames go through the plugin's wire encoding.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::dashboards::{self, parse_time, PanelTarget, DASHBOARDS};
use crate::demo::{self, DemoConfig};
use crate::frame::{encode_frame, grafana_json::frame_json};
use crate::lake::SourceVersion;
use crate::pipeline::{answer_panel_at, PanelRequest};
use crate::settings::Settings;

/// The width in pixels of the panel the queries are sized for: Grafana asks for at most one
/// point per pixel (`maxDataPoints`).
pub const PANEL_WIDTH_PX: i64 = 1200;

/// The rows kept of a frame that is not a time series: more than a panel shows, few enough to
/// check in.
pub const KEPT_ROWS: usize = 50;

/// Where the frames are checked in, from the repository root.
pub const FRAMES_DIR: &str = "frontend/e2e/frames";

/// The command that rewrites the checked-in frames (and the pictures drawn from them).
pub const REGENERATE: &str = "scripts/screenshots";

/// The lake the frames come from: the demo's accounts, regions and story at a fixed end, with
/// fewer flows per hour so that it is generated and queried in seconds.
pub fn lake_config() -> DemoConfig {
    DemoConfig {
        days: 14,
        accounts: 3,
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        seed: 42,
        end: DateTime::from_timestamp(1_718_452_800, 0).unwrap_or_default(),
        versions: vec![SourceVersion::V2],
        flows_per_hour: 60,
        messy: false,
    }
}

/// The datasource on `lake` as `provisioning/datasources` provisions the demo lake.
pub fn datasource_settings(lake: &Path) -> Result<Settings, String> {
    Settings::from_json(&json!({
        "engine": "local",
        "lakePath": lake.display().to_string(),
        "sourceVersion": "2",
        "rollupRegion": "us-east-1",
        "lookbackDays": 7,
    }))
    .map_err(|e| e.to_string())
}

/// Grafana's `intervalMs` for a range of `range_ms` drawn with `max_data_points` points: the
/// range over the points, rounded to the nearest of Grafana's steps (`rangeutil.roundInterval`).
pub fn grafana_interval_ms(range_ms: i64, max_data_points: i64) -> i64 {
    // (below this raw interval, Grafana takes this step), as in @grafana/data.
    const STEPS: [(f64, i64); 30] = [
        (10.0, 1),
        (15.0, 10),
        (35.0, 20),
        (75.0, 50),
        (150.0, 100),
        (350.0, 200),
        (750.0, 500),
        (1_500.0, 1_000),
        (3_500.0, 2_000),
        (7_500.0, 5_000),
        (12_500.0, 10_000),
        (17_500.0, 15_000),
        (25_000.0, 20_000),
        (45_000.0, 30_000),
        (90_000.0, 60_000),
        (210_000.0, 120_000),
        (450_000.0, 300_000),
        (750_000.0, 600_000),
        (1_050_000.0, 900_000),
        (1_500_000.0, 1_200_000),
        (2_700_000.0, 1_800_000),
        (5_400_000.0, 3_600_000),
        (9_000_000.0, 7_200_000),
        (16_200_000.0, 10_800_000),
        (32_400_000.0, 21_600_000),
        (86_400_000.0, 43_200_000),
        (604_800_000.0, 86_400_000),
        (1_814_400_000.0, 604_800_000),
        (3_628_800_000.0, 2_592_000_000),
        (f64::INFINITY, 31_536_000_000),
    ];
    let raw = range_ms as f64 / max_data_points.max(1) as f64;
    STEPS
        .iter()
        .find(|(below, _)| raw < *below)
        .map_or(31_536_000_000, |(_, step)| *step)
}

/// Grafana's text for an interval (`rangeutil.secondsToHms`): its largest whole unit.
pub fn grafana_interval_text(interval_ms: i64) -> String {
    const UNITS: [(i64, &str); 6] = [
        (31_536_000_000, "y"),
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ];
    UNITS
        .iter()
        .find(|(unit_ms, _)| interval_ms >= *unit_ms)
        .map_or_else(
            || "less than a millisecond".to_string(),
            |(unit_ms, name)| format!("{}{name}", interval_ms / unit_ms),
        )
}

/// What Grafana's frontend does to a query's text before sending it: `$__interval_ms` and
/// `$__interval` become the panel's interval.
fn interpolate_interval(value: &mut Value, interval_ms: i64) {
    match value {
        Value::String(text) if text.contains("$__interval") => {
            *text = text
                .replace("${__interval_ms}", &interval_ms.to_string())
                .replace("$__interval_ms", &interval_ms.to_string())
                .replace("${__interval}", &grafana_interval_text(interval_ms))
                .replace("$__interval", &grafana_interval_text(interval_ms));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| interpolate_interval(v, interval_ms)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| interpolate_interval(v, interval_ms)),
        _ => {}
    }
}

/// One dashboard's frames: its file name in `dashboards/` and the JSON written for it.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardFrames {
    /// The dashboard's file name, e.g. `vpc-flow-overview.json`.
    pub file: String,
    /// The range, and per panel and annotation query its request and frames (or error).
    pub json: Value,
}

impl DashboardFrames {
    /// The file's text: one line per panel, so that a change shows as the panels it touches.
    pub fn text(&self) -> String {
        let line = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let list = |key: &str| {
            let items: Vec<String> = self.json[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| format!("    {}", line(v)))
                .collect();
            if items.is_empty() {
                "[]".to_string()
            } else {
                format!("[\n{}\n  ]", items.join(",\n"))
            }
        };
        format!(
            "{{\n  \"dashboard\": {},\n  \"title\": {},\n  \"range\": {},\n  \"panels\": {},\n  \"annotations\": {}\n}}\n",
            line(&self.json["dashboard"]),
            line(&self.json["title"]),
            line(&self.json["range"]),
            list("panels"),
            list("annotations"),
        )
    }
}

/// Generates the lake of [`lake_config`] into `lake` (a folder that must not exist).
pub fn write_lake(lake: &Path) -> Result<(), String> {
    demo::write_lake(&lake_config(), lake, false)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Every shipped dashboard's frames on the lake of [`lake_config`] in `lake`, answered at its end.
pub async fn dashboard_frames(lake: &Path) -> Result<Vec<DashboardFrames>, String> {
    let settings = datasource_settings(lake)?;
    let engine = crate::service::connect_engine(&settings.engine).await;
    let at = lake_config().end;
    let mut out = Vec::new();
    for (file, text) in DASHBOARDS {
        let dash: Value = serde_json::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let from = dash["time"]["from"].as_str().unwrap_or("now-24h");
        let to = dash["time"]["to"].as_str().unwrap_or("now");
        let range = (parse_time(from, at)?, parse_time(to, at)?);
        let mut answers = Map::new();
        for (key, annotations) in [("panels", false), ("annotations", true)] {
            let targets = dashboards::dashboard_targets(&dash, annotations, &[]);
            let asked = targets
                .iter()
                .map(|t| answer(engine.as_ref(), &settings, t, range, at));
            let answered = futures::future::join_all(asked).await;
            answers.insert(key.into(), Value::Array(answered));
        }
        out.push(DashboardFrames {
            file: file.to_string(),
            json: json!({
                "dashboard": file,
                "title": dash["title"],
                "range": {"from": range.0.timestamp_millis(), "to": range.1.timestamp_millis(), "raw": {"from": from, "to": to}},
                "panels": answers["panels"],
                "annotations": answers["annotations"],
            }),
        });
    }
    Ok(out)
}

/// One target's request and what the plugin answers it, as stable JSON.
async fn answer(
    engine: &dyn crate::engine::Engine,
    settings: &Settings,
    target: &PanelTarget,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    at: DateTime<Utc>,
) -> Value {
    let interval_ms = grafana_interval_ms((to - from).num_milliseconds(), PANEL_WIDTH_PX);
    let mut query = target.query.clone();
    interpolate_interval(&mut query, interval_ms);
    let query = serde_json::to_vec(&query).unwrap_or_default();
    let request = PanelRequest {
        ref_id: &target.ref_id,
        json: &query,
        from,
        to,
        interval_ms,
        max_data_points: PANEL_WIDTH_PX,
    };
    let mut entry = json!({
        "index": target.index,
        "title": target.panel,
        "refId": target.ref_id,
        "intervalMs": interval_ms,
        "maxDataPoints": PANEL_WIDTH_PX,
    });
    let frames = answer_panel_at(engine, settings, &request, None, at)
        .await
        .map_err(|e| e.message)
        .and_then(|frames| {
            frames
                .iter()
                .map(|f| {
                    let ipc = encode_frame(f, &target.ref_id).map_err(|e| e.to_string())?;
                    frame_json(&ipc).map_err(|e| e.to_string())
                })
                .collect::<Result<Vec<_>, _>>()
        });
    match frames {
        Ok(frames) => entry["frames"] = Value::Array(frames.into_iter().map(stable).collect()),
        Err(message) => entry["error"] = json!(message),
    }
    entry
}

/// A frame without what changes from run to run (timings, bytes read, the lake's path in the
/// SQL), floats to 7 significant digits (sums may add up in any order), and a table's first
/// [`KEPT_ROWS`] rows.
fn stable(mut frame: Value) -> Value {
    let meta = &frame["schema"]["meta"];
    let mut kept = Map::new();
    for key in [
        "type",
        "typeVersion",
        "notices",
        "preferredVisualisationType",
    ] {
        if !meta[key].is_null() {
            kept.insert(key.into(), meta[key].clone());
        }
    }
    if !meta["custom"]["kind"].is_null() {
        kept.insert("custom".into(), json!({"kind": meta["custom"]["kind"]}));
    }
    let series = kept
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("timeseries"));
    frame["schema"]["meta"] = Value::Object(kept);
    for column in frame["data"]["values"].as_array_mut().into_iter().flatten() {
        let Some(values) = column.as_array_mut() else {
            continue;
        };
        if !series {
            values.truncate(KEPT_ROWS);
        }
        for v in values.iter_mut() {
            if v.is_f64() {
                *v = json!(seven_digits(v.as_f64().unwrap_or_default()));
            }
        }
    }
    frame
}

fn seven_digits(v: f64) -> f64 {
    format!("{v:.6e}").parse().unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_grafanas_for_a_1200_pixel_panel() {
        let hour = 3_600_000;
        let cases = [
            (hour, 2_000),
            (6 * hour, 20_000),
            (24 * hour, 60_000),
            (7 * 24 * hour, 600_000),
        ];
        for (range, interval) in cases {
            assert_eq!(
                grafana_interval_ms(range, PANEL_WIDTH_PX),
                interval,
                "{range}"
            );
        }
        assert_eq!(grafana_interval_ms(1, 1200), 1);
        assert_eq!(grafana_interval_ms(i64::MAX, 1), 31_536_000_000);
    }

    #[test]
    fn interval_macros_become_the_panels_interval_as_grafana_writes_it() {
        let texts = [
            (60_000, "1m"),
            (600_000, "10m"),
            (20_000, "20s"),
            (500, "500ms"),
            (86_400_000, "1d"),
            (31_536_000_000, "1y"),
        ];
        for (ms, text) in texts {
            assert_eq!(grafana_interval_text(ms), text);
        }
        let mut query = json!({"rawSql": "GROUP BY $__timeGroup(time_dt, $__interval) -- $__interval_ms ${__interval}", "n": 1});
        interpolate_interval(&mut query, 60_000);
        assert_eq!(
            query,
            json!({"rawSql": "GROUP BY $__timeGroup(time_dt, 1m) -- 60000 1m", "n": 1})
        );
    }

    #[test]
    fn floats_keep_seven_significant_digits() {
        assert_eq!(seven_digits(0.833_333_333_3), 0.833_333_3);
        assert_eq!(seven_digits(123_456_789.0), 123_456_800.0);
        assert_eq!(seven_digits(0.1 + 0.2), 0.3);
    }

    /// The checked-in frames are what the plugin answers now.
    #[test]
    fn checked_in_frames_are_the_plugins_answers() {
        let lake =
            std::env::temp_dir().join(format!("lakewatch-dashboard-frames-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&lake);
        write_lake(&lake).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let answered = runtime.block_on(dashboard_frames(&lake));
        let _ = std::fs::remove_dir_all(&lake);
        let answered = answered.unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(FRAMES_DIR);
        let mut stale = Vec::new();
        for d in &answered {
            let now = d.text();
            let checked_in = std::fs::read_to_string(dir.join(&d.file)).unwrap_or_default();
            if checked_in != now {
                stale.push(format!("{FRAMES_DIR}/{}", d.file));
            }
        }
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".json"))
            .filter(|name| !answered.iter().any(|d| &d.file == name))
            .collect();
        files.sort();
        stale.extend(
            files
                .iter()
                .map(|f| format!("{FRAMES_DIR}/{f} (no such dashboard)")),
        );
        assert!(
            stale.is_empty(),
            "the dashboard frames are out of date: {}; run `{REGENERATE}` (it rewrites them and the pictures in docs/img/)",
            stale.join(", ")
        );
    }
}
