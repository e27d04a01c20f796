//! Async queries (docs/async-queries.md) through the real plugin binary over gRPC, with moto as
//! Athena: a query held RUNNING past a short simulated proxy deadline is answered "running" with
//! a queryID, joined rather than started again, finished through polling, and stopped by cancel;
//! alert rules and the local engine stay synchronous.

use std::time::{Duration, Instant};

use crate::common::moto::{
    athena_v2_settings, cells, flow_volume_result, hour, Moto, DEFAULT_ACCOUNT, FROM, KEY, REGION,
    TO,
};
use crate::common::{plugin, query, settings, t};
use lakewatch::grafana_host::{HostQuery, HostResponse, PluginProcess};
use serde_json::{json, Value};

/// An Athena datasource on moto that waits at most 1 s per request (the simulated proxy
/// deadline) before answering "running".
fn async_settings(moto: &Moto) -> Value {
    athena_v2_settings(moto, json!({"asyncWaitSeconds": 1}))
}

/// The panel query as `DatasourceWithAsyncBackend` sends it: `meta.queryFlow` async, and the
/// `queryID` of the previous answer when it polls.
fn panel(query_id: Option<&str>) -> HostQuery {
    let mut q = json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"],
                       "meta": {"queryFlow": "async"}});
    if let Some(id) = query_id {
        q["queryID"] = json!(id);
    }
    HostQuery {
        interval_ms: 3_600_000,
        ..query("A", q, FROM, TO, 3_600_000)
    }
}

/// moto with the panel's one result seeded and its Athena queries held, the plugin, and
/// [`async_settings`] on that moto.
async fn held_panel_run() -> (Moto, PluginProcess, Value) {
    let moto = Moto::start();
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[flow_volume_result(vec![
            cells(&[&hour(0), "111122223333", "1000"]),
            cells(&[&hour(2), "111122223333", "42"]),
        ])],
    );
    moto.hold_athena_queries(1_000_000);
    let p = plugin().await;
    let s = async_settings(&moto);
    (moto, p, s)
}

/// The state of every query execution moto saw, oldest first.
async fn execution_states(moto: &Moto) -> Vec<String> {
    let executions = moto.athena_executions(KEY).await;
    executions.into_iter().map(|(_, state)| state).collect()
}

/// One request of the panel: its answer for refId A and how long it took.
async fn ask(p: &PluginProcess, settings: &Value, q: HostQuery) -> (HostResponse, Duration) {
    let started = Instant::now();
    let mut answer = p.query(settings, &[q], &[]).await.unwrap();
    (answer.remove("A").unwrap(), started.elapsed())
}

/// `meta.custom {queryID, status}` of the answer's first frame.
fn status(a: &HostResponse) -> (String, String) {
    assert_eq!(a.error, "");
    let custom = &a.frames[0].meta["custom"];
    (
        custom["queryID"].as_str().unwrap_or_default().to_string(),
        custom["status"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn a_query_held_running_past_the_deadline_is_finished_through_polling_and_not_restarted() {
    let (moto, p, s) = held_panel_run().await;

    let (first, took) = ask(&p, &s, panel(None)).await;
    let (id, state) = status(&first);
    assert_eq!(state, "running");
    assert!(id.starts_with("lw-"), "{id}");
    assert!(
        took < Duration::from_secs(5),
        "answered after the 1 s wait, not {took:?}"
    );
    assert_eq!(first.frames.len(), 1);
    assert!(
        first.frames[0].fields.is_empty(),
        "a status frame has no fields"
    );

    // Another tab asks the same: it joins the run; Athena still has one execution.
    let (again, _) = ask(&p, &s, panel(None)).await;
    assert_eq!(status(&again), (id.clone(), "running".to_string()));
    let (poll, _) = ask(&p, &s, panel(Some(&id))).await;
    assert_eq!(status(&poll), (id.clone(), "running".to_string()));
    assert_eq!(execution_states(&moto).await, vec!["QUEUED"]);

    moto.release_athena_queries();
    let mut finished = None;
    for _ in 0..20 {
        let (poll, _) = ask(&p, &s, panel(Some(&id))).await;
        if status(&poll).1 != "running" {
            finished = Some(poll);
            break;
        }
    }
    let finished = finished.expect("the run finishes within 20 polls");
    assert_eq!(status(&finished), (id.clone(), "finished".to_string()));
    let frame = &finished.frames[0];
    assert_eq!(frame.meta["custom"]["engine"], "athena");
    assert_eq!(frame.fields[0].values.len(), 4, "00:00 to 03:00 hourly");
    assert_eq!(
        frame.fields[1].values,
        vec![json!(1000), json!(0), json!(42), json!(0)]
    );
    assert_eq!(execution_states(&moto).await, vec!["SUCCEEDED"]);
    p.stop().await;
}

#[tokio::test]
async fn cancel_stops_the_athena_query_and_a_later_poll_says_canceled() {
    let (moto, p, s) = held_panel_run().await;
    let (first, _) = ask(&p, &s, panel(None)).await;
    let (id, _) = status(&first);

    let (code, body) = p
        .post_resource(&s, "cancel", &json!({"queryId": id}))
        .await
        .unwrap();
    assert_eq!(code, 200);
    assert_eq!(
        body,
        json!({"message": format!("the query {id} was canceled")})
    );
    let started = Instant::now();
    while execution_states(&moto).await != vec!["CANCELLED"] {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "StopQueryExecution was not called: {:?}",
            execution_states(&moto).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (poll, took) = ask(&p, &s, panel(Some(&id))).await;
    assert_eq!(status(&poll), (id.clone(), "canceled".to_string()));
    assert!(poll.frames[0].fields.is_empty());
    assert!(
        took < Duration::from_millis(900),
        "a canceled run does not wait"
    );
    assert_eq!(
        execution_states(&moto).await,
        vec!["CANCELLED"],
        "not restarted"
    );

    let (code, body) = p
        .post_resource(&s, "cancel", &json!({"queryId": "lw-0000000000000000-9"}))
        .await
        .unwrap();
    assert_eq!(code, 404);
    assert_eq!(
        body,
        json!({"error": "no query lw-0000000000000000-9 is held for this datasource; it finished long ago, was canceled, or the plugin restarted"})
    );
    let (code, body) = p.post_resource(&s, "cancel", &json!({})).await.unwrap();
    assert_eq!(code, 400);
    assert_eq!(
        body,
        json!({"error": "cancel needs the body {\"queryId\": \"…\"} naming the query to stop"})
    );
    moto.release_athena_queries();
    p.stop().await;
}

#[tokio::test]
async fn an_alert_rule_waits_for_its_frames_past_the_async_wait() {
    let (moto, p, s) = held_panel_run().await;
    let queries = [panel(None)];
    let started = Instant::now();
    let (answer, ()) = tokio::join!(p.query(&s, &queries, &[("FromAlert", "true")]), async {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        moto.release_athena_queries();
    });
    let a = &answer.unwrap()["A"];
    assert_eq!(a.error, "");
    assert!(
        started.elapsed() >= Duration::from_millis(2500),
        "it waited"
    );
    let custom = &a.frames[0].meta["custom"];
    assert_eq!(custom["engine"], "athena");
    assert!(custom.get("queryID").is_none() && custom.get("status").is_none());
    assert_eq!(a.frames[0].fields[0].values.len(), 4);
    assert_eq!(execution_states(&moto).await, vec!["SUCCEEDED"]);
    p.stop().await;
}

#[tokio::test]
async fn the_local_engine_answers_polling_panels_synchronously() {
    let p = plugin().await;
    let mut answer = p.query(&settings("2"), &[panel(None)], &[]).await.unwrap();
    let a = answer.remove("A").unwrap();
    assert_eq!(a.error, "");
    let meta = &a.frames[0].meta;
    assert!(meta["custom"].get("queryID").is_none(), "{meta}");
    assert!(!a.frames[0].fields.is_empty());
    let notices = meta["notices"].to_string();
    assert!(
        !notices.contains("queryID") && !notices.contains("meta"),
        "{notices}"
    );
    p.stop().await;
}

#[tokio::test]
async fn a_datasource_holding_its_most_async_queries_refuses_another_with_a_clear_error() {
    let moto = Moto::start();
    moto.hold_athena_queries(1_000_000);
    let p = plugin().await;
    let mut s = async_settings(&moto);
    s["asyncMaxQueries"] = json!(1);
    let (first, _) = ask(&p, &s, panel(None)).await;
    assert_eq!(status(&first).1, "running");
    let other = HostQuery {
        to_ms: t("2024-06-10T02:00:00Z").timestamp_millis(),
        ..panel(None)
    };
    let (refused, _) = ask(&p, &s, other).await;
    assert_eq!(
        refused.error,
        "Lakewatch already holds 1 running or unclaimed async queries for this datasource (setting `asyncMaxQueries`); wait for them to finish or ask an admin to raise the setting"
    );
    assert_eq!(refused.status, 400);
    assert_eq!(execution_states(&moto).await.len(), 1, "nothing started");
    moto.release_athena_queries();
    p.stop().await;
}
