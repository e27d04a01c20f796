//! End-to-end on Athena: the real plugin binary, configured for Athena, talks through the real
//! AWS SDK to moto in server mode (a real AWS API server on 127.0.0.1, started per test).

mod common;

use common::moto::{Moto, DEFAULT_ACCOUNT};
use common::{plugin, query, t};
use lakewatch::pipeline::{prepare, PanelRequest};
use lakewatch::settings::Settings;
use lakewatch::sql::Dialect;
use serde_json::{json, Value};

const REGION: &str = "us-east-1";
const FROM: &str = "2024-06-10T00:00:00Z";
const TO: &str = "2024-06-10T03:00:00Z";

fn athena_settings(moto: &Moto, extra: Value) -> Value {
    let mut s = json!({
        "engine": "athena", "defaultRegion": REGION, "endpoint": moto.url(),
        "authType": "keys", "sourceVersion": "2", "workgroup": "primary",
        "$secure": {"accessKey": "AKIDLAKEWATCHTEST", "secretKey": "not-checked-by-moto"}
    });
    if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
        s.extend(extra.clone());
    }
    s
}

/// The SQL Lakewatch renders for Athena for this query and range.
fn athena_sql(q: &Value, from: &str, to: &str) -> String {
    let settings = Settings::from_json(&json!({"sourceVersion": "2"})).unwrap();
    let bytes = serde_json::to_vec(q).unwrap();
    prepare(
        &settings,
        Dialect::Athena,
        &PanelRequest {
            ref_id: "A",
            json: &bytes,
            from: t(from),
            to: t(to),
            interval_ms: 3_600_000,
            max_data_points: 100_000,
        },
    )
    .unwrap()
    .sql
}

/// An Athena client on moto, as the test's own AWS peer.
async fn athena_client(moto: &Moto, account_key: &str) -> aws_sdk_athena::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(moto.url())
        .credentials_provider(aws_credential_types::Credentials::new(
            account_key,
            "x",
            None,
            None,
            "test",
        ))
        .load()
        .await;
    aws_sdk_athena::Client::new(&config)
}

/// The SQL of every query execution moto saw, read back through the real SDK.
async fn executed_sql(moto: &Moto, account_key: &str) -> Vec<(String, String)> {
    let client = athena_client(moto, account_key).await;
    let ids = client.list_query_executions().send().await.unwrap();
    let mut out = Vec::new();
    for id in ids.query_execution_ids() {
        let e = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .unwrap();
        let exec = e.query_execution().unwrap();
        out.push((
            exec.query().unwrap_or_default().to_string(),
            exec.status()
                .and_then(|s| s.state())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        ));
    }
    out
}

fn cells(values: &[&str]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|v| (*v != "NULL").then(|| v.to_string()))
        .collect()
}

#[tokio::test]
async fn a_flow_panel_on_athena_gets_typed_frames_from_the_pruned_sql() {
    let moto = Moto::start();
    let hour = |h: i64| (t(FROM).timestamp_millis() + h * 3_600_000).to_string();
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(
            vec![
                ("time_bucket", "bigint"),
                ("account", "varchar"),
                ("bytes", "bigint"),
            ],
            vec![
                cells(&[&hour(0), "111122223333", "1000"]),
                cells(&[&hour(0), "444455556666", "7"]),
                cells(&[&hour(1), "111122223333", "2500000000"]),
                cells(&[&hour(2), "444455556666", "42"]),
            ],
        )],
    );
    let p = plugin().await;
    let q = json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"],
                   "filters": {"regions": ["us-east-1"]}});
    let answer = p
        .query(
            &athena_settings(&moto, json!({})),
            &[lakewatch::grafana_host::HostQuery {
                interval_ms: 3_600_000,
                ..query("A", q.clone(), FROM, TO, 3_600_000)
            }],
            &[],
        )
        .await
        .unwrap();
    let a = &answer["A"];
    assert_eq!(a.error, "");
    let frame = &a.frames[0];
    assert_eq!(frame.meta["custom"]["engine"], "athena");
    assert_eq!(frame.fields[0].type_name, "time");
    assert_eq!(frame.fields[0].values.len(), 4, "00:00 to 03:00 hourly");
    let series: Vec<(String, Vec<Value>)> = frame.fields[1..]
        .iter()
        .map(|f| {
            assert_eq!(f.type_name, "number", "numbers stay numbers");
            (f.labels["account"].clone(), f.values.clone())
        })
        .collect();
    assert_eq!(
        series,
        vec![
            (
                "111122223333".to_string(),
                vec![json!(1000), json!(2_500_000_000_i64), json!(0), json!(0)]
            ),
            (
                "444455556666".to_string(),
                vec![json!(7), json!(0), json!(42), json!(0)]
            ),
        ]
    );
    // Exactly the partition-pruned SQL of the plan reached Athena, once.
    let want = athena_sql(&q, FROM, TO);
    assert!(want.contains("\"time_dt\" BETWEEN TIMESTAMP '2024-06-10 00:00:00.000'"));
    assert_eq!(frame.meta["executedQueryString"], json!(want));
    assert_eq!(
        executed_sql(&moto, "AKIDLAKEWATCHTEST").await,
        vec![(want, "SUCCEEDED".to_string())]
    );
    // What it cost: moto reports 0 bytes scanned, billed as Athena's 10 MB minimum.
    let notices: Vec<&str> = frame.meta["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["text"].as_str())
        .collect();
    assert!(
        notices.contains(
            &"Athena scanned 0 B (billed 10.0 MB, 10 MB minimum per query): $0.00005 at $5.00 per TB."
        ),
        "{notices:?}"
    );
    assert_eq!(frame.meta["custom"]["billedBytes"], 10_000_000);
    p.stop().await;
}

#[tokio::test]
async fn an_assumed_role_with_an_external_id_is_used() {
    let moto = Moto::start();
    // moto maps an assumed role's credentials to the role's account: results seeded there are
    // only seen when the plugin really assumed the role.
    let role_account = "210987654321";
    moto.seed_athena(
        role_account,
        REGION,
        &[(
            vec![
                ("ip", "varchar"),
                ("bytes", "bigint"),
                ("packets", "bigint"),
                ("flows", "bigint"),
            ],
            vec![
                cells(&["10.0.0.5", "900", "3", "1"]),
                cells(&["10.0.0.6", "NULL", "1", "1"]),
            ],
        )],
    );
    let p = plugin().await;
    let settings = athena_settings(
        &moto,
        json!({"assumeRoleArn": format!("arn:aws:iam::{role_account}:role/lakewatch-reader"),
               "externalId": "grafana-7f3a"}),
    );
    let answer = p
        .query(
            &settings,
            &[query(
                "A",
                json!({"kind": "top_talkers", "by": "either"}),
                FROM,
                TO,
                60_000,
            )],
            &[],
        )
        .await
        .unwrap();
    let a = &answer["A"];
    assert_eq!(a.error, "");
    let frame = &a.frames[0];
    let ip = frame.field("ip").unwrap();
    assert_eq!(ip.values, vec![json!("10.0.0.5"), json!("10.0.0.6")]);
    let bytes = frame.field("bytes").unwrap();
    assert_eq!(bytes.type_name, "number");
    assert_eq!(
        bytes.values,
        vec![json!(900), Value::Null],
        "NULL stays NULL"
    );
    p.stop().await;
}

#[tokio::test]
async fn a_query_that_outlives_its_timeout_is_stopped_on_athena() {
    let moto = Moto::start();
    moto.hold_athena_queries(1_000_000);
    let p = plugin().await;
    let answer = p
        .query(
            &athena_settings(&moto, json!({"queryTimeoutSeconds": 1})),
            &[query("A", json!({"kind": "flow_volume"}), FROM, TO, 60_000)],
            &[],
        )
        .await
        .unwrap();
    moto.release_athena_queries();
    assert_eq!(
        answer["A"].error,
        "the Athena query ran longer than 1 s and was stopped; narrow the time range or the filters, or raise the datasource's query timeout"
    );
    assert_eq!(answer["A"].status, 400);
    let executed = executed_sql(&moto, "AKIDLAKEWATCHTEST").await;
    assert_eq!(executed.len(), 1);
    assert_eq!(executed[0].1, "CANCELLED", "the plugin stopped the query");
    p.stop().await;
}

#[tokio::test]
async fn check_health_names_the_identity_workgroup_and_what_is_missing() {
    let moto = Moto::start();
    athena_client(&moto, "AKIDLAKEWATCHTEST")
        .await
        .create_work_group()
        .name("lakewatch")
        .configuration(
            aws_sdk_athena::types::WorkGroupConfiguration::builder()
                .result_configuration(
                    aws_sdk_athena::types::ResultConfiguration::builder()
                        .output_location("s3://lakewatch-results/")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let p = plugin().await;
    let (status, message) = p
        .check_health(&athena_settings(&moto, json!({"workgroup": "lakewatch"})))
        .await
        .unwrap();
    assert_eq!(status, 1, "{message}");
    assert!(
        message.starts_with("Lakewatch is ready: Athena in us-east-1 as arn:aws:"),
        "{message}"
    );
    assert!(
        message.contains(
            ", workgroup lakewatch (results to s3://lakewatch-results/); a test query took "
        ),
        "{message}"
    );
    assert!(
        message.ends_with(" ms; source version 2, tables in us-east-1"),
        "{message}"
    );
    let (status, message) = p
        .check_health(&athena_settings(&moto, json!({"workgroup": "nosuch"})))
        .await
        .unwrap();
    assert_eq!(status, 2);
    assert_eq!(
        message,
        "the Athena workgroup nosuch does not exist in us-east-1; create it, or set the workgroup setting to one that exists (primary is the default)"
    );
    let (status, message) = p
        .check_health(&json!({"engine": "athena", "authType": "keys"}))
        .await
        .unwrap();
    assert_eq!(status, 2);
    assert_eq!(
        message,
        "datasource setting `authType` has the value \"keys\": access key and secret key are both needed in the secure settings (accessKey, secretKey)"
    );
    p.stop().await;
}
