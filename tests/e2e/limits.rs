//! Hostile requests against the plugin binary under an address-space limit: unbounded ranges,
//! data points and results end as per-query errors or capped answers, and the plugin keeps
//! answering.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{lake, query, t};
use lakewatch::grafana_host::{HostQuery, HostResponse, PluginProcess};
use serde_json::{json, Value};

/// The plugin's address space in these tests: the hostile requests took 3–10 GB before.
const ADDRESS_SPACE: &str = "--as=1610612736";

async fn limited_plugin() -> PluginProcess {
    let exe = env!("CARGO_BIN_EXE_gpx_lakewatch");
    // One malloc arena per thread would reserve address space the process never uses.
    PluginProcess::launch(
        Path::new("/usr/bin/env"),
        &["MALLOC_ARENA_MAX=2", "prlimit", ADDRESS_SPACE, "--", exe],
        None,
    )
    .await
    .expect("plugin starts under prlimit")
}

fn settings() -> Value {
    json!({"engine": "local", "lakePath": lake().display().to_string(), "sourceVersion": "2",
           "localQueryMemoryMb": 256})
}

async fn ask(p: &PluginProcess, q: HostQuery) -> HostResponse {
    let started = Instant::now();
    let mut answer = p
        .query(&settings(), &[q], &[])
        .await
        .expect("the plugin answers");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "answered in {:?}",
        started.elapsed()
    );
    answer.remove("A").unwrap()
}

fn raw_sql(sql: &str) -> HostQuery {
    query(
        "A",
        json!({"kind": "sql", "rawSql": sql}),
        "2024-06-15T00:00:00Z",
        "2024-06-15T12:00:00Z",
        60_000,
    )
}

async fn still_answers(p: &PluginProcess) {
    let q = query(
        "A",
        json!({"kind": "flow_volume", "group_by": ["region"]}),
        "2024-06-15T00:00:00Z",
        "2024-06-15T12:00:00Z",
        60_000,
    );
    let a = ask(p, q).await;
    assert_eq!(a.error, "");
    assert!(a.frames[0].fields.len() > 1, "a series per region");
}

#[tokio::test]
async fn a_range_past_the_cap_is_refused_naming_the_setting() {
    let p = limited_plugin().await;
    let q = query(
        "A",
        json!({"kind": "flow_volume"}),
        "2023-01-01T12:00:00Z",
        "2024-06-15T12:00:00Z",
        60_000,
    );
    assert_eq!(
        ask(&p, q).await.error,
        "query field `timeRange` has the value 2023-01-01T12:00:00+00:00 .. 2024-06-15T12:00:00+00:00: \
         the range spans 531 days and this datasource allows at most 400 (setting `maxRangeDays`); \
         pick a shorter range or ask an admin to raise the setting"
    );
    // The range Grafana sends when a user types a year far in the past: refused at once.
    let mut q = query(
        "A",
        json!({"kind": "flow_volume"}),
        "2024-06-15T00:00:00Z",
        "2024-06-15T12:00:00Z",
        0,
    );
    q.from_ms = -8_000_000_000_000_000;
    let a = ask(&p, q).await;
    assert!(a.error.contains("(setting `maxRangeDays`)"), "{}", a.error);
    still_answers(&p).await;
}

#[tokio::test]
async fn max_data_points_are_clamped_to_the_points_per_series_cap() {
    let p = limited_plugin().await;
    let mut q = query(
        "A",
        json!({"kind": "flow_volume", "group_by": ["region"]}),
        "2024-05-01T00:00:00Z",
        "2024-06-15T00:00:00Z",
        0,
    );
    q.max_data_points = 1_000_000_000;
    let a = ask(&p, q).await;
    assert_eq!(a.error, "");
    let times = &a.frames[0].fields[0].values;
    // 45 days within 10,000 points: the smallest nice width is 10 minutes.
    let first = t(times[0].as_str().unwrap());
    let second = t(times[1].as_str().unwrap());
    assert_eq!((second - first).num_seconds(), 600);
    assert_eq!(times.len(), 45 * 144 + 1);
}

#[tokio::test]
async fn a_huge_sql_result_is_cut_while_it_streams() {
    let p = limited_plugin().await;
    let a = ask(
        &p,
        raw_sql("SELECT value FROM generate_series(1, 400000000)"),
    )
    .await;
    assert_eq!(a.error, "");
    let frame = &a.frames[0];
    assert_eq!(frame.fields[0].values.len(), 100_000);
    assert_eq!(
        frame.meta["notices"][0]["text"],
        "The result was cut at 100000 rows (the datasource's row cap); add a LIMIT, aggregate, or narrow the time range."
    );
    still_answers(&p).await;
}

#[tokio::test]
async fn a_query_past_its_memory_bound_fails_alone() {
    let p = limited_plugin().await;
    let a = ask(
        &p,
        raw_sql("SELECT value FROM generate_series(1, 400000000) ORDER BY value DESC"),
    )
    .await;
    assert_eq!(
        a.error,
        "the local engine failed the query: the query needs more memory than this datasource allows \
         a query (256 MB, setting `localQueryMemoryMb`); narrow the time range, aggregate, or add a LIMIT"
    );
    still_answers(&p).await;
}
