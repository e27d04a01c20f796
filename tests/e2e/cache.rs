//! One Athena query per distinct panel query: identical panel queries in flight run once, a repeat
//! load within the cache's time-to-live runs none — counted on moto (ListQueryExecutions) through
//! the plugin binary; the stats resource says what was saved.

use crate::common::moto::{Moto, DEFAULT_ACCOUNT};
use crate::common::{plugin, query};
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
            json!({"error": "no resource \"nosuch\"; the datasource serves: stats, cancel, kinds"})
        )
    );
    let (code, kinds) = p.call_resource(&settings, "kinds").await.unwrap();
    assert_eq!(code, 200);
    assert_eq!(kinds, json!(lakewatch::query::kinds::specs()));
    let names: Vec<&str> = kinds
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(names.join(", "), lakewatch::query::kinds::names());
    assert!(names.contains(&"variable") && names.contains(&"sql"));
    let mut uncached = settings.clone();
    uncached["cacheTtlSeconds"] = json!(0);
    p.query(&uncached, &[query("A", other, FROM, TO, 60_000)], &[])
        .await
        .unwrap();
    assert_eq!(started_queries(&moto).await, 3, "TTL 0: every load runs");
    p.stop().await;
}

/// The SQL of every query moto ran.
async fn started_sql(moto: &Moto) -> Vec<String> {
    let client = aws_sdk_athena::Client::new(&moto.sdk_config("AKIDLAKEWATCHTEST").await);
    let ids = client.list_query_executions().send().await.unwrap();
    let mut out = Vec::new();
    for id in ids.query_execution_ids() {
        let q = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .unwrap();
        out.push(
            q.query_execution()
                .unwrap()
                .query()
                .unwrap_or_default()
                .to_string(),
        );
    }
    out
}

#[tokio::test]
async fn a_series_ending_now_reruns_only_the_open_day_when_now_moves() {
    use chrono::{Duration, DurationRound, Utc};
    let moto = Moto::start();
    let columns = vec![("time_bucket", "bigint"), ("bytes", "bigint")];
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let rows: Vec<Vec<Option<String>>> = (0..3)
        .map(|i| {
            let bucket = (now - Duration::hours(i * 10)).timestamp_millis() / 300_000 * 300_000;
            vec![Some(bucket.to_string()), Some("100".into())]
        })
        .collect();
    let results: Vec<_> = (0..12).map(|_| (columns.clone(), rows.clone())).collect();
    moto.seed_athena(DEFAULT_ACCOUNT, "us-east-1", &results);
    let settings = json!({
        "engine": "athena", "defaultRegion": "us-east-1", "endpoint": moto.url(),
        "authType": "keys", "sourceVersion": "2",
        "$secure": {"accessKey": "AKIDLAKEWATCHTEST", "secretKey": "x"}
    });
    let p = plugin().await;
    let volume = json!({"kind": "flow_volume", "measure": "bytes"});
    let at = |end: chrono::DateTime<Utc>| {
        let from = (end - Duration::hours(30)).to_rfc3339();
        query("A", volume.clone(), &from, &end.to_rfc3339(), 300_000)
    };
    // The days of the range and which of them are closed (ended at least an hour ago).
    let today = now.date_naive();
    let days: Vec<_> = (0..3)
        .map(|d| today - Duration::days(d))
        .filter(|d| d.and_hms_opt(23, 59, 59).unwrap().and_utc() >= now - Duration::hours(30))
        .collect();
    let closed_days: Vec<_> = days
        .iter()
        .copied()
        .filter(|d| {
            let end = (*d + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc();
            end + Duration::hours(1) <= now
        })
        .collect();
    // The first day not closed has its settled whole hours (those that ended an hour ago) as
    // one more closed slice, unless there are none yet.
    let first_open = if closed_days.contains(&(today - Duration::days(1))) {
        today
    } else {
        today - Duration::days(1)
    };
    let cut = (now - Duration::hours(1))
        .duration_trunc(Duration::hours(1))
        .unwrap();
    let settled_hours = cut > first_open.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let closed = closed_days.len() + usize::from(settled_hours);

    let first = p.query(&settings, &[at(now)], &[]).await.unwrap();
    assert_eq!(first["A"].error, "");
    let custom = &first["A"].frames[0].meta["custom"];
    let ran = started_queries(&moto).await;
    if closed == 0 {
        // Nothing settled yet: the range runs as one query.
        assert_eq!(ran, 1);
        p.stop().await;
        return;
    }
    assert_eq!(
        ran,
        closed + 1,
        "one query per closed day, one for the settled hours, one for the open rest"
    );
    assert_eq!(
        custom["daySlices"],
        json!({"slices": closed + 1, "reused": 0, "closed": closed})
    );

    // A minute later: the closed days and hours are reused, only the open rest runs again.
    let before = started_sql(&moto).await;
    let later = p
        .query(&settings, &[at(now + Duration::minutes(1))], &[])
        .await
        .unwrap();
    assert_eq!(later["A"].error, "");
    assert_eq!(
        started_queries(&moto).await,
        closed + 2,
        "only the open rest re-runs"
    );
    assert_eq!(
        later["A"].frames[0].meta["custom"]["daySlices"],
        json!({"slices": closed + 1, "reused": closed, "closed": closed})
    );
    let mut after = started_sql(&moto).await;
    for sql in &before {
        let i = after.iter().position(|s| s == sql).unwrap();
        after.remove(i);
    }
    assert_eq!(after.len(), 1);
    let rerun = &after[0];
    let day_literal = |d: chrono::NaiveDate| format!("TIMESTAMP '{}", d.format("%Y-%m-%d"));
    assert!(rerun.contains(&day_literal(today)), "{rerun}");
    for day in &closed_days {
        assert!(!rerun.contains(&day_literal(*day)), "{rerun}");
    }
    // It reads from the first unsettled hour on.
    let cut_literal = format!("TIMESTAMP '{}", cut.format("%Y-%m-%d %H:%M:%S"));
    assert!(
        !settled_hours || rerun.contains(&cut_literal),
        "{rerun} {cut_literal}"
    );
    p.stop().await;
}

/// Athena bills at least 10 MB a query: a range whose partitions hold less than that per day
/// slice runs as one query; once they hold enough, the same kind of range runs in day slices.
#[tokio::test]
async fn athena_runs_a_small_range_whole_and_slices_one_that_holds_10_mb_a_slice() {
    const DATABASE: &str = "amazon_security_lake_glue_db_us_east_1";
    let moto = Moto::start();
    let key = "AKIDLAKEWATCHTEST";
    moto.seed_glue(key, DATABASE, &[]).await;
    moto.create_bucket(key, "lake-bucket").await;
    moto.seed_table_at(
        key,
        DATABASE,
        "amazon_security_lake_table_us_east_1_vpc_flow_2_0",
        "s3://lake-bucket/aws/VPC_FLOW/2.0",
    )
    .await;
    let put_days = |size: usize, file: &'static str| {
        let moto = &moto;
        async move {
            for day in ["20240601", "20240602", "20240603"] {
                let object = format!(
                    "aws/VPC_FLOW/2.0/region=us-east-1/accountId=111122223333/eventDay={day}/{file}"
                );
                moto.put_object(key, "lake-bucket", &object, size).await;
            }
        }
    };
    put_days(1_000_000, "part-0.parquet").await;
    // Results in the order the queries start: the bytes query, then the packets query's slices.
    let columns = |measure| vec![("time_bucket", "bigint"), (measure, "bigint")];
    let mut results = vec![(columns("bytes"), Vec::new())];
    results.extend(vec![(columns("packets"), Vec::new()); 4]);
    moto.seed_athena(DEFAULT_ACCOUNT, "us-east-1", &results);
    let settings = json!({
        "engine": "athena", "defaultRegion": "us-east-1", "endpoint": moto.url(),
        "authType": "keys", "sourceVersion": "2",
        "$secure": {"accessKey": key, "secretKey": "x"}
    });
    let p = plugin().await;
    let (from, to) = ("2024-06-01T00:00:00Z", "2024-06-04T00:00:00Z");
    let volume = |measure: &str| {
        query(
            "A",
            json!({"kind": "flow_volume", "measure": measure}),
            from,
            to,
            3_600_000,
        )
    };

    // 3 MB in three closed days: four slices (the three days and the instant that ends the
    // range, in the fourth day) would bill 40 MB, the whole query 10 MB.
    let small = p.query(&settings, &[volume("bytes")], &[]).await.unwrap();
    assert_eq!(small["A"].error, "");
    let custom = &small["A"].frames[0].meta["custom"];
    assert_eq!(
        custom["slicing"],
        json!({"minBilledBytes": 10_000_000, "estimateBytes": 3_000_000, "slices": 4, "ran": "whole"})
    );
    assert_eq!(custom["daySlices"], json!(null));
    assert_eq!(started_queries(&moto).await, 1);

    // 42 MB: each slice holds its 10 MB; a query of another measure runs in four slices. The
    // sizes of closed days are kept for a day (they no longer change), so a plugin that already
    // sized them would not see files added to them: a new plugin process reads the grown lake.
    put_days(13_000_000, "part-1.parquet").await;
    let p = plugin().await;
    let large = p.query(&settings, &[volume("packets")], &[]).await.unwrap();
    assert_eq!(large["A"].error, "");
    let custom = &large["A"].frames[0].meta["custom"];
    assert_eq!(
        custom["slicing"],
        json!({"minBilledBytes": 10_000_000, "estimateBytes": 42_000_000, "slices": 4, "ran": "sliced"})
    );
    assert_eq!(
        custom["daySlices"],
        json!({"slices": 4, "reused": 0, "closed": 4})
    );
    assert_eq!(started_queries(&moto).await, 1 + 4);
    p.stop().await;
}
