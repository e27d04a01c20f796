//! Shared fixtures of the end-to-end tests: one generated lake per test binary, and the plugin.

#![allow(dead_code)]

pub mod moto;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lakewatch::demo::{self, DemoConfig, DnsQuery, FlowRecord, TrailEvent};
use lakewatch::frame::DecodedFrame;
use lakewatch::grafana_host::{HostQuery, PluginProcess};
use lakewatch::lake::SourceVersion;
use serde_json::{json, Value};

/// The fixture lake's configuration: small, both versions, a fixed end, and messy (IPv6, `-` and
/// NULL addresses, NAT and endpoint traffic, late deliveries, several files per partition), as
/// real lakes are.
pub fn config() -> DemoConfig {
    DemoConfig {
        days: 14,
        accounts: 2,
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        seed: 7,
        end: t("2024-06-15T12:00:00Z"),
        versions: vec![SourceVersion::V1, SourceVersion::V2],
        flows_per_hour: 12,
        messy: true,
    }
}

/// Parses RFC 3339.
pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// The fixture lake, generated once per test binary.
pub fn lake() -> &'static Path {
    static LAKE: OnceLock<PathBuf> = OnceLock::new();
    LAKE.get_or_init(|| {
        let dir = scratch_dir("e2e");
        demo::write_lake(&config(), &dir, false).expect("fixture lake");
        dir
    })
}

/// A fresh, empty folder `lakewatch-{name}-{pid}` in the temp dir for this test process.
///
/// A test binary cannot remove its lakes when it ends (they live in statics), so the folders that
/// earlier, finished processes left under the same name are removed here: at most one set of
/// fixture lakes stays on disk after a test run, whatever the number of runs.
pub fn scratch_dir(name: &str) -> PathBuf {
    let prefix = format!("lakewatch-{name}-");
    let temp = std::env::temp_dir();
    for entry in std::fs::read_dir(&temp).into_iter().flatten().flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let finished = pid.parse::<u32>().is_ok_and(|pid| {
            pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
        });
        if finished {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = temp.join(format!("{prefix}{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    dir
}

/// The Parquet files under `dir` of the fixture lake, at any depth (a messy partition holds
/// several).
pub fn parquet_files(dir: &str) -> usize {
    fn count(path: &Path) -> usize {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                let p = e.path();
                if p.is_dir() {
                    count(&p)
                } else {
                    usize::from(p.extension().is_some_and(|x| x == "parquet"))
                }
            })
            .sum()
    }
    count(&lake().join(dir))
}

/// Every generated record of the fixture lake.
pub fn records() -> &'static [FlowRecord] {
    static RECORDS: OnceLock<Vec<FlowRecord>> = OnceLock::new();
    RECORDS.get_or_init(|| demo::all_records(&config()))
}

/// Every generated CloudTrail event of the fixture lake.
pub fn trail_events() -> &'static [TrailEvent] {
    static EVENTS: OnceLock<Vec<TrailEvent>> = OnceLock::new();
    EVENTS.get_or_init(|| demo::all_trail_events(&config()))
}

/// Every generated Route 53 Resolver query of the fixture lake.
pub fn dns_queries() -> &'static [DnsQuery] {
    static QUERIES: OnceLock<Vec<DnsQuery>> = OnceLock::new();
    QUERIES.get_or_init(|| demo::all_dns_queries(&config()))
}

/// Every generated AWS WAF request of the fixture lake (source version 2 only).
pub fn waf_requests() -> &'static [demo::WafRequest] {
    static REQUESTS: OnceLock<Vec<demo::WafRequest>> = OnceLock::new();
    REQUESTS.get_or_init(|| demo::all_waf_requests(&config()))
}

/// Every generated CloudTrail S3 data event of the fixture lake.
pub fn s3_events() -> &'static [demo::DataEvent] {
    static EVENTS: OnceLock<Vec<demo::DataEvent>> = OnceLock::new();
    EVENTS.get_or_init(|| demo::all_s3_events(&config()))
}

/// Every generated CloudTrail Lambda data event of the fixture lake.
pub fn lambda_events() -> &'static [demo::DataEvent] {
    static EVENTS: OnceLock<Vec<demo::DataEvent>> = OnceLock::new();
    EVENTS.get_or_init(|| demo::all_lambda_events(&config()))
}

/// Datasource settings (`jsonData`) for the fixture lake.
pub fn settings(version: &str) -> Value {
    json!({"engine": "local", "lakePath": lake().display().to_string(), "sourceVersion": version})
}

/// Starts the real plugin binary as Grafana does.
pub async fn plugin() -> PluginProcess {
    PluginProcess::launch(Path::new(env!("CARGO_BIN_EXE_gpx_lakewatch")), &[], None)
        .await
        .expect("plugin starts")
}

/// A host query.
pub fn query(ref_id: &str, json: Value, from: &str, to: &str, interval_ms: i64) -> HostQuery {
    HostQuery {
        ref_id: ref_id.to_string(),
        json: serde_json::to_vec(&json).unwrap(),
        from_ms: t(from).timestamp_millis(),
        to_ms: t(to).timestamp_millis(),
        interval_ms,
        max_data_points: 100_000,
    }
}

/// The partition folder (`region=…/accountId=…/eventDay=…`) a record of that time, region and
/// account lies in, as the plugin's `partitions` meta names it.
pub fn partition_of(time_ms: i64, region: &str, account: &str) -> String {
    let day = DateTime::from_timestamp_millis(time_ms)
        .unwrap()
        .date_naive();
    format!(
        "region={region}/accountId={account}/eventDay={}",
        lakewatch::plan::partitions::event_day(day)
    )
}

/// Brute-force series: per group's labels, one value per hour.
pub type BruteSeries = BTreeMap<BTreeMap<String, String>, Vec<i64>>;

/// The brute-force hourly series of `records` (already filtered to what counts) over
/// `from`..`to`: per group of `labels` (`key` gives a record's value of a label), `measure` of each
/// hour's records; the top `limit` groups by total (ties by labels) kept, the rest added up as
/// `other`. Without labels and records, one series of zeros, as the plugin answers.
pub fn hourly_series<'a, R: 'a>(
    records: impl IntoIterator<Item = &'a R>,
    time_ms: impl Fn(&R) -> i64,
    key: impl Fn(&R, &str) -> String,
    labels: &[&str],
    measure: impl Fn(&[&R]) -> i64,
    (from, to): (&str, &str),
    limit: Option<usize>,
) -> BruteSeries {
    const HOUR: i64 = 3_600_000;
    let first = t(from).timestamp_millis();
    let buckets = ((t(to).timestamp_millis() - first) / HOUR + 1) as usize;
    let mut groups: BTreeMap<Vec<String>, Vec<Vec<&R>>> = BTreeMap::new();
    for r in records {
        let group = labels.iter().map(|l| key(r, l)).collect();
        let slot = ((time_ms(r) - first) / HOUR) as usize;
        groups
            .entry(group)
            .or_insert_with(|| vec![Vec::new(); buckets])[slot]
            .push(r);
    }
    let mut all: Vec<(Vec<String>, Vec<i64>)> = groups
        .into_iter()
        .map(|(k, slots)| (k, slots.iter().map(|s| measure(s)).collect()))
        .collect();
    if labels.is_empty() && all.is_empty() {
        all.push((Vec::new(), vec![0; buckets]));
    }
    let mut other = None;
    if let Some(limit) = limit.filter(|l| all.len() > *l) {
        let total = |s: &[i64]| s.iter().sum::<i64>();
        all.sort_by(|a, b| total(&b.1).cmp(&total(&a.1)).then(a.0.cmp(&b.0)));
        let mut sum = vec![0; buckets];
        for (_, s) in all.split_off(limit) {
            sum.iter_mut().zip(s).for_each(|(a, v)| *a += v);
        }
        other = Some(sum);
    }
    let label_map = |values: Vec<String>| {
        labels
            .iter()
            .map(|l| l.to_string())
            .zip(values)
            .collect::<BTreeMap<_, _>>()
    };
    let mut out: BTreeMap<_, _> = all.into_iter().map(|(k, s)| (label_map(k), s)).collect();
    if let Some(sum) = other {
        out.insert(label_map(vec!["other".to_string(); labels.len()]), sum);
    }
    out
}

/// Asserts that each query, asked of the fixture lake (source version 2) over `from`..`to` in
/// hourly buckets, is refused as the user's fault (400) with exactly the error given.
pub async fn assert_refused_word_for_word(
    p: &PluginProcess,
    cases: &[(Value, &str)],
    from: &str,
    to: &str,
) {
    for (q, want) in cases {
        let answer = p
            .query(
                &settings("2"),
                &[query("A", q.clone(), from, to, 3_600_000)],
                &[],
            )
            .await
            .unwrap();
        assert_eq!(answer["A"].status, 400, "{q}");
        assert_eq!(answer["A"].error, *want, "{q}");
    }
}

/// A table frame as rows of (column name → JSON value).
pub fn rows(frame: &DecodedFrame) -> Vec<BTreeMap<String, Value>> {
    let n = frame.fields.first().map_or(0, |f| f.values.len());
    (0..n)
        .map(|i| {
            frame
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.values[i].clone()))
                .collect()
        })
        .collect()
}

/// One query through the plugin on the fixture lake (source `version`): its single frame, after
/// asserting that it did not fail.
pub async fn ask(p: &PluginProcess, version: &str, q: Value, from: &str, to: &str) -> DecodedFrame {
    let answer = p
        .query(
            &settings(version),
            &[query("A", q.clone(), from, to, 60_000)],
            &[],
        )
        .await
        .unwrap();
    let a = &answer["A"];
    assert_eq!(a.error, "", "v{version} {q}");
    assert_eq!(a.frames.len(), 1);
    a.frames[0].clone()
}

/// A health message with the test query's time replaced by N (`… took N ms; …`).
pub fn without_ms(message: &str) -> String {
    match message.split_once(" took ") {
        Some((head, tail)) => match tail.split_once(" ms;") {
            Some((_, rest)) => format!("{head} took N ms;{rest}"),
            None => message.to_string(),
        },
        None => message.to_string(),
    }
}
