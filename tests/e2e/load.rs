//! Load: 50 concurrent dashboard loads of 10 panels each on the local lake, through the plugin
//! binary over gRPC, while a slow query (an Athena query held RUNNING on moto) is in flight on
//! another datasource: every query answered, each refId with its own answer, memory bounded, and
//! the slow query blocks nothing.

use std::sync::Arc;
use std::time::Instant;

use crate::common::moto::Moto;
use crate::common::{plugin, query, settings};
use lakewatch::frame::DecodedField;
use lakewatch::grafana_host::{HostQuery, HostResponse};
use serde_json::json;

const FROM: &str = "2024-06-14T00:00:00Z";
const TO: &str = "2024-06-15T00:00:00Z";

fn panels() -> Vec<HostQuery> {
    [
        json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"]}),
        json!({"kind": "flow_volume", "measure": "packets", "group_by": ["region", "direction"]}),
        json!({"kind": "rejected"}),
        json!({"kind": "top_talkers", "by": "either"}),
        json!({"kind": "top_pairs"}),
        json!({"kind": "top_ports"}),
        json!({"kind": "top_interfaces"}),
        json!({"kind": "internet_egress"}),
        json!({"kind": "flow_search", "limit": 50}),
        json!({"kind": "coverage"}),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, q)| query(&format!("P{i}"), q, FROM, TO, 3_600_000))
    .collect()
}

/// What must not get mixed up: each refId's fields.
fn answers(
    load: &std::collections::HashMap<String, HostResponse>,
) -> Vec<(String, Vec<Vec<DecodedField>>)> {
    let mut out: Vec<_> = load
        .iter()
        .map(|(ref_id, r)| {
            assert_eq!(r.error, "", "{ref_id}");
            (
                ref_id.clone(),
                r.frames.iter().map(|f| f.fields.clone()).collect(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_dashboard_loads_are_answered_unmixed_beside_a_slow_query() {
    let moto = Moto::start();
    moto.hold_athena_queries(1_000_000);
    let p = Arc::new(plugin().await);
    let pid = p.pid().unwrap();
    let slow = {
        let p = p.clone();
        let athena = json!({
            "engine": "athena", "defaultRegion": "us-east-1", "endpoint": moto.url(),
            "authType": "keys", "sourceVersion": "2", "queryTimeoutSeconds": 120,
            "$secure": {"accessKey": "AKIDLAKEWATCHTEST", "secretKey": "x"}
        });
        tokio::spawn(async move {
            p.query(
                &athena,
                &[query("S", json!({"kind": "flow_volume"}), FROM, TO, 60_000)],
                &[],
            )
            .await
        })
    };
    let local = settings("2");
    let reference = answers(&p.query(&local, &panels(), &[]).await.unwrap());
    assert_eq!(reference.len(), 10);
    let rss_before = peak_rss_kib(pid);
    let started = Instant::now();
    let loads = (0..50).map(|_| {
        let p = p.clone();
        let local = local.clone();
        tokio::spawn(async move { p.query(&local, &panels(), &[]).await.unwrap() })
    });
    let loads = futures::future::join_all(loads).await;
    let took = started.elapsed();
    for load in loads {
        assert_eq!(
            answers(&load.unwrap()),
            reference,
            "every refId gets its own answer"
        );
    }
    assert!(
        !slow.is_finished(),
        "the slow Athena query is still running; it blocked none of the 500 panel queries"
    );
    let peak = peak_rss_kib(pid);
    eprintln!(
        "50 loads × 10 panels in {} ms; plugin peak RSS {} MiB (after one load {} MiB)",
        took.as_millis(),
        peak / 1024,
        rss_before / 1024
    );
    assert!(peak < 2 * 1024 * 1024, "peak RSS {peak} KiB");
    moto.release_athena_queries();
    slow.abort();
    let _ = slow.await;
    Arc::try_unwrap(p).ok().unwrap().stop().await;
}
