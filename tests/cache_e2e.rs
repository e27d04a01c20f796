//! One Athena query per distinct panel query: identical panel queries in flight run once, a repeat
//! load within the cache's time-to-live runs none — counted on moto (ListQueryExecutions) through
//! the plugin binary; the stats resource says what was saved.

mod common;

use common::moto::{Moto, DEFAULT_ACCOUNT};
use common::{plugin, query};
use serde_json::json;

const FROM: &str = "2024-06-10T00:00:00Z";
const TO: &str = "2024-06-10T03:00:00Z";

async fn started_queries(moto: &Moto) -> usize {
    let client = aws_sdk_athena::Client::new(&moto.sdk_config("AKIDLAKEWATCHTEST").await);
    let out = client.list_query_executions().send().await.unwrap();
    out.query_execution_ids().len()
}

#[tokio::test]
async fn identical_panels_run_one_athena_query_and_a_repeat_load_none() {
    let moto = Moto::start();
    let rows: Vec<Vec<Option<String>>> = (0..3)
        .map(|i| {
            vec![
                Some(format!("10.0.0.{i}")),
                Some((i * 100).to_string()),
                Some("1".into()),
                Some("1".into()),
            ]
        })
        .collect();
    let columns = vec![
        ("ip", "varchar"),
        ("bytes", "bigint"),
        ("packets", "bigint"),
        ("flows", "bigint"),
    ];
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        "us-east-1",
        &[(columns.clone(), rows.clone()), (columns, rows)],
    );
    let settings = json!({
        "engine": "athena", "defaultRegion": "us-east-1", "endpoint": moto.url(),
        "authType": "keys", "sourceVersion": "2",
        "$secure": {"accessKey": "AKIDLAKEWATCHTEST", "secretKey": "x"}
    });
    let p = plugin().await;
    let talkers = json!({"kind": "top_talkers", "by": "either"});
    let panels: Vec<_> = (0..8)
        .map(|i| query(&format!("P{i}"), talkers.clone(), FROM, TO, 60_000))
        .collect();
    let first = p.query(&settings, &panels, &[]).await.unwrap();
    assert_eq!(
        started_queries(&moto).await,
        1,
        "8 identical panels → 1 query"
    );
    let mut outcomes: Vec<String> = Vec::new();
    for i in 0..8 {
        let a = &first[&format!("P{i}")];
        assert_eq!(a.error, "");
        let ip = a.frames[0].field("ip").unwrap();
        assert_eq!(
            ip.values,
            vec![json!("10.0.0.0"), json!("10.0.0.1"), json!("10.0.0.2")]
        );
        outcomes.push(a.frames[0].meta["custom"]["cache"].as_str().unwrap().into());
    }
    outcomes.sort();
    assert_eq!(
        outcomes,
        ["miss", "shared", "shared", "shared", "shared", "shared", "shared", "shared"]
    );

    // The same dashboard loaded again within the TTL: no query at all.
    let again = p.query(&settings, &panels, &[]).await.unwrap();
    assert_eq!(
        started_queries(&moto).await,
        1,
        "a repeat load runs nothing"
    );
    assert!(again
        .values()
        .all(|a| a.frames[0].meta["custom"]["cache"] == "hit"));
    // Another panel query runs; a datasource with the cache turned off runs it again.
    let other = json!({"kind": "top_talkers", "by": "src_ip"});
    p.query(
        &settings,
        &[query("A", other.clone(), FROM, TO, 60_000)],
        &[],
    )
    .await
    .unwrap();
    assert_eq!(started_queries(&moto).await, 2);
    let (code, stats) = p.call_resource(&settings, "stats").await.unwrap();
    assert_eq!(code, 200);
    assert_eq!(
        (
            &stats["queriesRun"],
            &stats["shared"],
            &stats["cacheHits"],
            &stats["engine"]
        ),
        (&json!(2), &json!(7), &json!(8), &json!("athena"))
    );
    assert_eq!(
        stats["billedBytes"],
        json!(20_000_000),
        "10 MB minimum per query"
    );
    let (code, body) = p.call_resource(&settings, "nosuch").await.unwrap();
    assert_eq!(
        (code, body),
        (
            404,
            json!({"error": "no resource \"nosuch\"; the datasource serves: stats"})
        )
    );
    let mut uncached = settings.clone();
    uncached["cacheTtlSeconds"] = json!(0);
    p.query(&uncached, &[query("A", other, FROM, TO, 60_000)], &[])
        .await
        .unwrap();
    assert_eq!(started_queries(&moto).await, 3, "TTL 0: every load runs");
    p.stop().await;
}
