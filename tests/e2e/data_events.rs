//! End-to-end: the CloudTrail data-event kinds (`s3_data_access`, `lambda_invocations`) through
//! the real plugin binary on both source versions, each answer checked against a brute-force
//! computation over the generated data events of the fixture lake; the story's burst of object
//! reads from the stolen key's address; the partitions each kind, the variable lists and
//! `$__table(s3_data)` / `$__table(lambda_execution)` read are exactly those needed;
//! `$__table(eks_audit)` resolves; bad values fail word for word; a table runs on Athena (moto).

use std::collections::{BTreeMap, BTreeSet};

use crate::cloudtrail::{ask, ms, series, sql_order, text, Key, HOUR};
use crate::common::{
    config, hourly_series, lambda_events, partition_of, plugin, query, rows, s3_events, settings,
    t, BruteSeries,
};
use lakewatch::demo::{
    bucket, story_reads_from, trail_story, DataEvent, SENSITIVE_BUCKET, STORY_READS,
};
use lakewatch::frame::DecodedFrame;
use lakewatch::net::Cidr;
use lakewatch::plan::partitions::{event_day, utc_days};
use serde_json::{json, Value};

/// The last two days of the fixture lake, around the story (14 June).
const FROM: &str = "2024-06-13T12:00:00Z";
const TO: &str = "2024-06-15T11:59:59.999Z";

fn in_range(e: &DataEvent) -> bool {
    (t(FROM).timestamp_millis()..=t(TO).timestamp_millis()).contains(&e.event.time_ms)
}

/// A dimension of an event, as the kinds compute it (NULL is `None`).
fn dim(e: &DataEvent, name: &str) -> Key {
    let c = &e.event;
    match name {
        "account" => Some(c.account_id.clone()),
        "region" => Some(c.region.clone()),
        "bucket" | "function" => Some(e.target.clone()),
        "operation" => Some(c.operation.to_string()),
        "access" => Some(
            match c.activity_id {
                2 => "read",
                1 | 3 | 4 => "write",
                _ => "other",
            }
            .to_string(),
        ),
        "principal" => c
            .identity
            .arn
            .clone()
            .or(c.identity.invoked_by.map(str::to_string)),
        "principal_type" => Some(c.identity.kind.to_string()),
        "src_ip" => c.src_ip.clone(),
        "outcome" => Some(if c.success { "Success" } else { "Failure" }.to_string()),
        other => panic!("no dimension {other}"),
    }
}

fn within(block: &str, ip: &Option<String>) -> bool {
    let block = Cidr::parse(block).unwrap();
    ip.as_deref()
        .and_then(|a| a.parse().ok())
        .is_some_and(|a| block.contains(a))
}

fn principals(events: &[&DataEvent]) -> i64 {
    events
        .iter()
        .filter_map(|e| dim(e, "principal"))
        .collect::<BTreeSet<_>>()
        .len() as i64
}

/// Prints a kind's answer size beside the brute force's (the figures of the test log).
fn figure(version: &str, what: &str, plugin: usize, brute: usize, events: &[DataEvent]) {
    let n = events.iter().filter(|e| in_range(e)).count();
    println!(
        "figures: v{version} {what}: plugin {plugin} rows/series, brute force {brute}, over {n} data events"
    );
}

/// The brute-force series: per group, `measure` of each hourly bucket's events; the top `limit`
/// groups by total (ties by labels) kept, the rest added up as `other`.
fn brute_series(
    events: &[DataEvent],
    labels: &[&str],
    keep: impl Fn(&DataEvent) -> bool,
    measure: impl Fn(&[&DataEvent]) -> i64,
    limit: Option<usize>,
) -> BruteSeries {
    hourly_series(
        events.iter().filter(|e| in_range(e) && keep(e)),
        |e| e.event.time_ms,
        |e, l| dim(e, l).unwrap_or_default(),
        labels,
        measure,
        (FROM, TO),
        limit,
    )
}

/// A ranking row: keys, then calls, failures, first and last call.
type RankRow = (Vec<Key>, [i64; 4]);

fn brute_rank(
    events: &[DataEvent],
    group_by: &[&str],
    keep: impl Fn(&DataEvent) -> bool,
    by_failures: bool,
    limit: usize,
) -> Vec<RankRow> {
    let mut groups: BTreeMap<Vec<Key>, Vec<&DataEvent>> = BTreeMap::new();
    for e in events.iter().filter(|e| in_range(e) && keep(e)) {
        let key = group_by.iter().map(|g| dim(e, g)).collect();
        groups.entry(key).or_default().push(e);
    }
    let mut out: Vec<RankRow> = groups
        .into_iter()
        .map(|(k, es)| {
            let failures = es.iter().filter(|e| !e.event.success).count() as i64;
            let first = es.iter().map(|e| e.event.time_ms).min().unwrap();
            let last = es.iter().map(|e| e.event.time_ms).max().unwrap();
            (k, [es.len() as i64, failures, first, last])
        })
        .collect();
    let rank = usize::from(by_failures);
    out.sort_by(|a, b| b.1[rank].cmp(&a.1[rank]).then(sql_order(&a.0, &b.0)));
    out.truncate(limit);
    out
}

fn table_rank(frame: &DecodedFrame, group_by: &[&str], events: &str) -> Vec<RankRow> {
    rows(frame)
        .into_iter()
        .map(|row| {
            let n = |c: &str| row[c].as_i64().unwrap();
            let keys = group_by.iter().map(|c| text(&row[*c])).collect();
            let times = [ms(&row["first_seen"]), ms(&row["last_seen"])];
            (keys, [n(events), n("failures"), times[0], times[1]])
        })
        .collect()
}

#[tokio::test]
async fn s3_data_access_matches_brute_force_on_both_versions() {
    let p = plugin().await;
    let range = (FROM, TO);
    let events = s3_events();
    let sensitive = bucket(SENSITIVE_BUCKET, &trail_story(&config()).account);
    for version in ["1", "2"] {
        let q = json!({"kind": "s3_data_access", "group_by": ["bucket", "access"]});
        let frame = ask(&p, version, q, range, HOUR).await;
        let want = brute_series(
            events,
            &["bucket", "access"],
            |_| true,
            |es| es.len() as i64,
            None,
        );
        let access: BTreeSet<&str> = want.keys().map(|l| l["access"].as_str()).collect();
        assert_eq!(access, BTreeSet::from(["read", "write"]));
        assert_eq!(series(&frame), want, "v{version} by bucket and access");
        figure(
            version,
            "s3_data_access by bucket, access",
            series(&frame).len(),
            want.len(),
            events,
        );

        let q = json!({"kind": "s3_data_access", "measure": "principals", "group_by": ["operation"],
                       "filters": {"buckets": [sensitive], "access": "read", "exclude_ip": "10.0.0.0/8"}});
        let frame = ask(&p, version, q, range, HOUR).await;
        let want = brute_series(
            events,
            &["operation"],
            |e| {
                e.target == sensitive
                    && dim(e, "access").as_deref() == Some("read")
                    && !within("10.0.0.0/8", &e.event.src_ip)
            },
            principals,
            None,
        );
        assert!(!want.is_empty());
        assert_eq!(
            series(&frame),
            want,
            "v{version} principals reading the sensitive bucket"
        );
        figure(
            version,
            "s3_data_access principals by operation, sensitive bucket",
            series(&frame).len(),
            want.len(),
            events,
        );

        let q = json!({"kind": "s3_data_access", "group_by": ["principal"], "limit": 3,
                       "filters": {"operations": ["GetObject", "PutObject"], "outcome": "success"}});
        let frame = ask(&p, version, q, range, HOUR).await;
        let want = brute_series(
            events,
            &["principal"],
            |e| ["GetObject", "PutObject"].contains(&e.event.operation) && e.event.success,
            |es| es.len() as i64,
            Some(3),
        );
        assert_eq!(want.len(), 4, "three principals kept, the rest folded");
        assert_eq!(
            series(&frame),
            want,
            "v{version} requests per principal, limit 3"
        );
        figure(
            version,
            "s3_data_access by principal, limit 3",
            series(&frame).len(),
            want.len(),
            events,
        );
    }
    p.stop().await;
}

#[tokio::test]
async fn who_read_the_sensitive_bucket_shows_the_stolen_key_s_burst() {
    let p = plugin().await;
    let range = (FROM, TO);
    let events = s3_events();
    let story = trail_story(&config());
    let sensitive = bucket(SENSITIVE_BUCKET, &story.account);
    let groups = ["principal", "bucket", "src_ip", "operation"];
    for version in ["1", "2"] {
        let q =
            json!({"kind": "s3_data_access", "format": "table", "filters": {"buckets": sensitive}});
        let frame = ask(&p, version, q, range, HOUR).await;
        let want = brute_rank(events, &groups, |e| e.target == sensitive, false, 100);
        assert_eq!(table_rank(&frame, &groups, "requests"), want, "v{version}");
        let burst = want
            .iter()
            .find(|(k, _)| {
                k[2].as_deref() == Some(story.address) && k[3].as_deref() == Some("GetObject")
            })
            .expect("the stolen key's reads");
        assert_eq!(burst.0[0].as_deref(), Some(story.user_arn.as_str()));
        assert_eq!(burst.1[0], STORY_READS as i64);
        assert_eq!(burst.1[2], story_reads_from(&config()));
        assert!(burst.1[2] > story.policy_attached_ms);
        figure(
            version,
            "s3_data_access table, sensitive bucket",
            rows(&frame).len(),
            want.len(),
            events,
        );

        let q = json!({"kind": "s3_data_access", "format": "table", "measure": "failures",
                       "group_by": ["account", "principal_type"], "limit": 4});
        let frame = ask(&p, version, q, range, HOUR).await;
        let want = brute_rank(events, &["account", "principal_type"], |_| true, true, 4);
        assert_eq!(
            table_rank(&frame, &["account", "principal_type"], "requests"),
            want,
            "v{version} by failures"
        );
        figure(
            version,
            "s3_data_access table by failures",
            rows(&frame).len(),
            want.len(),
            events,
        );
    }
    p.stop().await;
}

#[tokio::test]
async fn lambda_invocations_match_brute_force_on_both_versions() {
    let p = plugin().await;
    let range = (FROM, TO);
    let events = lambda_events();
    for version in ["1", "2"] {
        let q = json!({"kind": "lambda_invocations", "group_by": ["function", "region"]});
        let frame = ask(&p, version, q, range, HOUR).await;
        let want = brute_series(
            events,
            &["function", "region"],
            |_| true,
            |es| es.len() as i64,
            None,
        );
        let functions: BTreeSet<&str> = want.keys().map(|l| l["function"].as_str()).collect();
        assert_eq!(
            functions,
            BTreeSet::from(["image-resize", "nightly-report", "orders-api"])
        );
        assert_eq!(series(&frame), want, "v{version} by function and region");
        figure(
            version,
            "lambda_invocations by function, region",
            series(&frame).len(),
            want.len(),
            events,
        );

        let q = json!({"kind": "lambda_invocations", "measure": "source_ips", "group_by": ["principal"],
                       "filters": {"functions": ["orders-api"], "src_ip": "10.0.0.0/8"}});
        let frame = ask(&p, version, q, range, HOUR).await;
        let want = brute_series(
            events,
            &["principal"],
            |e| e.target == "orders-api" && within("10.0.0.0/8", &e.event.src_ip),
            |es| {
                es.iter()
                    .filter_map(|e| e.event.src_ip.clone())
                    .collect::<BTreeSet<_>>()
                    .len() as i64
            },
            None,
        );
        assert!(!want.is_empty());
        assert_eq!(
            series(&frame),
            want,
            "v{version} addresses invoking orders-api"
        );
        figure(
            version,
            "lambda_invocations source_ips by principal",
            series(&frame).len(),
            want.len(),
            events,
        );

        let groups = ["function", "principal", "src_ip"];
        let q = json!({"kind": "lambda_invocations", "format": "table", "limit": 10});
        let frame = ask(&p, version, q, range, HOUR).await;
        let want = brute_rank(events, &groups, |_| true, false, 10);
        assert!(want.iter().any(|(_, n)| n[1] > 0), "throttled invocations");
        assert_eq!(
            table_rank(&frame, &groups, "invocations"),
            want,
            "v{version} table"
        );
        figure(
            version,
            "lambda_invocations table",
            rows(&frame).len(),
            want.len(),
            events,
        );
    }
    p.stop().await;
}

#[tokio::test]
async fn variables_list_buckets_and_functions() {
    let p = plugin().await;
    for version in ["1", "2"] {
        for (values, events) in [("buckets", s3_events()), ("functions", lambda_events())] {
            let q = json!({"kind": "variable", "values": values});
            let frame = ask(&p, version, q, (FROM, TO), HOUR).await;
            let got: Vec<(String, i64)> = rows(&frame)
                .into_iter()
                .map(|r| {
                    (
                        r["value"].as_str().unwrap().to_string(),
                        r["records"].as_i64().unwrap(),
                    )
                })
                .collect();
            let mut want: BTreeMap<String, i64> = BTreeMap::new();
            for e in events.iter().filter(|e| in_range(e)) {
                *want.entry(e.target.clone()).or_default() += 1;
            }
            assert_eq!(
                got,
                want.into_iter().collect::<Vec<_>>(),
                "v{version} {values}"
            );
        }
    }
    p.stop().await;
}

fn partitions_of(events: &[DataEvent]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| partition_of(e.event.time_ms, &e.event.region, &e.event.account_id))
        .collect()
}

#[tokio::test]
async fn each_kind_reads_only_the_partitions_it_needs() {
    let p = plugin().await;
    let account = config().account_ids()[1].clone();
    let (from, to) = ("2024-06-12T22:30:00Z", "2024-06-14T03:15:00Z");
    let days: Vec<String> = utc_days(t(from), t(to))
        .into_iter()
        .map(event_day)
        .collect();
    for version in ["1", "2"] {
        for narrowed in [true, false] {
            let filters = if narrowed {
                json!({"accounts": [account], "regions": ["eu-west-1"]})
            } else {
                json!({})
            };
            let cases = [
                (
                    s3_events(),
                    json!({"kind": "s3_data_access", "group_by": ["bucket"], "filters": filters}),
                ),
                (
                    s3_events(),
                    json!({"kind": "s3_data_access", "format": "table", "filters": filters}),
                ),
                (
                    s3_events(),
                    json!({"kind": "variable", "values": "buckets", "filters": filters}),
                ),
                (
                    s3_events(),
                    json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(s3_data) WHERE $__partitionFilter", "filters": filters}),
                ),
                (
                    lambda_events(),
                    json!({"kind": "lambda_invocations", "group_by": ["function"], "filters": filters}),
                ),
                (
                    lambda_events(),
                    json!({"kind": "lambda_invocations", "format": "table", "filters": filters}),
                ),
                (
                    lambda_events(),
                    json!({"kind": "variable", "values": "functions", "filters": filters}),
                ),
                (
                    lambda_events(),
                    json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(lambda_execution) WHERE $__partitionFilter", "filters": filters}),
                ),
            ];
            for (events, q) in cases {
                let needed: BTreeSet<String> = partitions_of(events)
                    .into_iter()
                    .filter(|p| days.iter().any(|d| p.ends_with(&format!("eventDay={d}"))))
                    .filter(|p| {
                        !narrowed
                            || (p.starts_with("region=eu-west-1/")
                                && p.contains(&format!("accountId={account}/")))
                    })
                    .collect();
                assert_eq!(needed.len(), if narrowed { 3 } else { 12 });
                let frame = ask(&p, version, q.clone(), (from, to), HOUR).await;
                let read: BTreeSet<String> = frame.meta["custom"]["partitions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect();
                assert_eq!(read, needed, "v{version} {q}");
                println!(
                    "pruning: v{version} {} {} {}: partitions read {} of {} needed = {:.2}",
                    q["kind"],
                    q.get("format").or(q.get("values")).unwrap_or(&Value::Null),
                    q["filters"],
                    read.len(),
                    needed.len(),
                    read.len() as f64 / needed.len() as f64
                );
            }
        }
    }
    p.stop().await;
}

#[tokio::test]
async fn eks_audit_resolves_for_raw_sql_only() {
    let p = plugin().await;
    let sql = "SELECT count(*) AS n FROM $__table(eks_audit) WHERE $__partitionFilter";
    let ask_error = |version: &'static str, q: Value| {
        let p = &p;
        async move {
            let answer = p
                .query(&settings(version), &[query("A", q, FROM, TO, HOUR)], &[])
                .await
                .unwrap();
            (answer["A"].status, answer["A"].error.clone())
        }
    };
    let (_, error) = ask_error("1", json!({"kind": "sql", "rawSql": sql})).await;
    assert_eq!(
        error,
        "macro `$__table` has a bad argument `eks_audit`: EKS_AUDIT logs exist only in source version 2: Security Lake has no eks_audit_1_0 table, and this datasource reads source version 1; use a datasource set to source version 2"
    );
    // The fixture lake has no EKS audit logs: the table resolves, and its absence is what fails.
    let (_, error) = ask_error("2", json!({"kind": "sql", "rawSql": sql})).await;
    let lake = crate::common::lake().display().to_string();
    assert_eq!(
        error,
        format!("the lake at {lake} has no EKS_AUDIT data (looked in {lake}/aws/EKS_AUDIT/2.0); the demo lake does not generate this source: put its Parquet files there, or read it through Athena")
    );
    p.stop().await;
}

#[tokio::test]
async fn bad_values_and_foreign_filters_fail_word_for_word() {
    let p = plugin().await;
    let cases = [
        (
            json!({"kind": "s3_data_access", "filters": {"buckets": ["reports' OR '1'='1"]}}),
            "query field `filters.buckets[0]` has the value \"reports' OR '1'='1\": expected an S3 bucket name such as reports-111122223333: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address",
        ),
        (
            json!({"kind": "s3_data_access", "format": "table", "filters": {"bucket": "Reports"}}),
            "query field `filters.bucket[0]` has the value \"Reports\": expected an S3 bucket name such as reports-111122223333: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address",
        ),
        (
            json!({"kind": "s3_data_access", "filters": {"operations": ["GetObject;--"]}}),
            "query field `filters.operations[0]` has the value \"GetObject;--\": expected an API operation as CloudTrail names it, e.g. CreateAccessKey (letters and digits)",
        ),
        (
            json!({"kind": "lambda_invocations", "filters": {"functions": ["orders api"]}}),
            "query field `filters.functions[0]` has the value \"orders api\": expected a Lambda function name such as orders-api: 1 to 64 letters, digits, '-' and '_' (the name, not its ARN)",
        ),
        (
            json!({"kind": "lambda_invocations", "filters": {"src_ip": ["1.2.3.4/40"]}}),
            "query field `filters.src_ip[0]` has the value \"1.2.3.4/40\": the prefix length must be a whole number from 0 to 32 for this address family",
        ),
        (
            json!({"kind": "lambda_invocations", "filters": {"access": "read"}}),
            "query field `filters.access` has the value \"read\": lambda_invocations filters by accounts, regions, functions, principals, src_ip, exclude_ip, outcome; remove this filter",
        ),
        (
            json!({"kind": "s3_data_access", "filters": {"services": ["s3"]}}),
            "query field `filters.services` has the value [\"s3\"]: s3_data_access filters by accounts, regions, buckets, operations, principals, src_ip, exclude_ip, access, outcome; remove this filter",
        ),
    ];
    for (q, want) in cases {
        for version in ["1", "2"] {
            let answer = p
                .query(
                    &settings(version),
                    &[query("A", q.clone(), FROM, TO, HOUR)],
                    &[],
                )
                .await
                .unwrap();
            assert_eq!(answer["A"].status, 400);
            assert_eq!(answer["A"].error, want);
        }
    }
    p.stop().await;
}

/// On Athena (moto in server mode as the AWS peer): a "who read this bucket" table gets typed
/// frames from the partition-pruned SQL of its plan, which reached Athena once.
#[tokio::test]
async fn who_read_this_bucket_runs_on_athena_with_typed_frames_from_the_pruned_sql() {
    use crate::common::moto::{
        athena_v2_settings, cells, hour, Moto, DEFAULT_ACCOUNT, FROM, KEY, REGION, TO,
    };
    let moto = Moto::start();
    let columns = vec![
        ("principal", "varchar"),
        ("bucket", "varchar"),
        ("src_ip", "varchar"),
        ("operation", "varchar"),
        ("requests", "bigint"),
        ("failures", "bigint"),
        ("first_seen", "bigint"),
        ("last_seen", "bigint"),
    ];
    let carol = "arn:aws:iam::111122223333:user/carol";
    let target = "customer-exports-111122223333";
    let rows_in = [
        (carol, "5.188.62.140", "GetObject", "60", "0", 1, 1),
        (carol, "5.188.62.140", "ListObjects", "1", "0", 1, 1),
    ];
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(
            columns,
            rows_in
                .iter()
                .map(|(p, ip, o, n, f, a, b)| {
                    cells(&[p, target, ip, o, n, f, &hour(*a), &hour(*b)])
                })
                .collect(),
        )],
    );
    let p = plugin().await;
    let q = json!({"kind": "s3_data_access", "format": "table",
                   "filters": {"accounts": ["111122223333"], "buckets": [target], "access": "read"}});
    let answer = p
        .query(
            &athena_v2_settings(&moto, json!({})),
            &[query("A", q.clone(), FROM, TO, HOUR)],
            &[],
        )
        .await
        .unwrap();
    let a = &answer["A"];
    assert_eq!(a.error, "");
    let frame = &a.frames[0];
    assert_eq!(frame.meta["custom"]["engine"], "athena");
    let at = |h: i64| t(FROM).timestamp_millis() + h * HOUR;
    let key = |o: &str| {
        vec![
            Some(carol.to_string()),
            Some(target.to_string()),
            Some("5.188.62.140".to_string()),
            Some(o.to_string()),
        ]
    };
    assert_eq!(
        table_rank(
            frame,
            &["principal", "bucket", "src_ip", "operation"],
            "requests"
        ),
        vec![
            (key("GetObject"), [60, 0, at(1), at(1)]),
            (key("ListObjects"), [1, 0, at(1), at(1)]),
        ]
    );
    let settings =
        lakewatch::settings::Settings::from_json(&json!({"sourceVersion": "2"})).unwrap();
    let bytes = serde_json::to_vec(&q).unwrap();
    let want = lakewatch::pipeline::prepare(
        &settings,
        lakewatch::sql::Dialect::Athena,
        &lakewatch::pipeline::PanelRequest {
            ref_id: "A",
            json: &bytes,
            from: t(FROM),
            to: t(TO),
            interval_ms: HOUR,
            max_data_points: 100_000,
        },
    )
    .unwrap()
    .sql;
    assert!(want.contains("\"amazon_security_lake_table_us_east_1_s3_data_2_0\""));
    assert!(want.contains("\"accountid\" = '111122223333'"));
    assert!(want.contains("= 'customer-exports-111122223333'"));
    assert_eq!(frame.meta["executedQueryString"], json!(want));
    assert_eq!(
        moto.athena_executions(KEY).await,
        vec![(want, "SUCCEEDED".to_string())]
    );
    p.stop().await;
}
