//! End-to-end on Athena: the real plugin binary, configured for Athena, talks through the real
//! AWS SDK to moto in server mode (a real AWS API server on 127.0.0.1, started per test).

use crate::common::moto::{
    athena_v2_settings, cells, flow_panel, flow_volume_result, hour, probe_result, Moto,
    DEFAULT_ACCOUNT, FROM, KEY, REGION, TO,
};
use crate::common::{plugin, query, t, without_ms};
use lakewatch::frame::DecodedFrame;
use lakewatch::grafana_host::PluginProcess;
use lakewatch::pipeline::{prepare, PanelRequest};
use lakewatch::settings::Settings;
use lakewatch::sql::Dialect;
use serde_json::{json, Value};

/// The columns of a top-talkers result as Athena types them.
const TALKER_COLUMNS: [(&str, &str); 4] = [
    ("ip", "varchar"),
    ("bytes", "bigint"),
    ("packets", "bigint"),
    ("flows", "bigint"),
];

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

/// A top-talkers panel through the plugin: its frame, after asserting that it did not fail.
async fn talkers(p: &PluginProcess, settings: &Value) -> DecodedFrame {
    let q = json!({"kind": "top_talkers", "by": "either"});
    let answer = p
        .query(settings, &[query("A", q, FROM, TO, 60_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["A"].error, "");
    answer["A"].frames[0].clone()
}

#[tokio::test]
async fn a_flow_panel_on_athena_gets_typed_frames_from_the_pruned_sql() {
    let moto = Moto::start();
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[flow_volume_result(vec![
            cells(&[&hour(0), "111122223333", "1000"]),
            cells(&[&hour(0), "444455556666", "7"]),
            cells(&[&hour(1), "111122223333", "2500000000"]),
            cells(&[&hour(2), "444455556666", "42"]),
        ])],
    );
    let p = plugin().await;
    let q = json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"],
                   "filters": {"regions": ["us-east-1"]}});
    let answer = p
        .query(
            &athena_v2_settings(&moto, json!({})),
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
        moto.athena_executions(KEY).await,
        vec![(want, "SUCCEEDED".to_string())]
    );
    assert_eq!(
        moto.athena_catalogs(KEY).await,
        [Some("AwsDataCatalog".to_string())],
        "the datasource's data catalog"
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
async fn queries_run_in_the_data_catalog_the_datasource_names() {
    let moto = Moto::start();
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[flow_volume_result(vec![cells(&[
            &hour(0),
            "111122223333",
            "5",
        ])])],
    );
    let p = plugin().await;
    let settings = athena_v2_settings(&moto, json!({"catalog": "lake_catalog"}));
    assert_eq!(flow_panel(&p, &settings).await, "");
    assert_eq!(
        moto.athena_catalogs(KEY).await,
        [Some("lake_catalog".to_string())]
    );
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
            TALKER_COLUMNS.to_vec(),
            vec![
                cells(&["10.0.0.5", "900", "3", "1"]),
                cells(&["10.0.0.6", "NULL", "1", "1"]),
            ],
        )],
    );
    let p = plugin().await;
    let settings = athena_v2_settings(
        &moto,
        json!({"assumeRoleArn": format!("arn:aws:iam::{role_account}:role/lakewatch-reader"),
               "externalId": "grafana-7f3a"}),
    );
    let frame = &talkers(&p, &settings).await;
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
            &athena_v2_settings(&moto, json!({"queryTimeoutSeconds": 1})),
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
    let executed = moto.athena_executions(KEY).await;
    assert_eq!(executed.len(), 1);
    assert_eq!(executed[0].1, "CANCELLED", "the plugin stopped the query");
    p.stop().await;
}

pub(crate) const DATABASE: &str = "amazon_security_lake_glue_db_us_east_1";
pub(crate) const FLOW_V2: &str = "amazon_security_lake_table_us_east_1_vpc_flow_2_0";
pub(crate) const FINDINGS_V2: &str = "amazon_security_lake_table_us_east_1_sh_findings_2_0";
const FLOW_V1: &str = "amazon_security_lake_table_us_east_1_vpc_flow_1_0";
const FINDINGS_V1: &str = "amazon_security_lake_table_us_east_1_sh_findings_1_0";

/// The `lakewatch` workgroup, with a result location.
pub(crate) async fn workgroup_with_results(moto: &Moto) {
    aws_sdk_athena::Client::new(&moto.sdk_config(KEY).await)
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
}

#[tokio::test]
async fn check_health_names_the_identity_workgroup_and_what_is_missing() {
    let moto = Moto::start();
    workgroup_with_results(&moto).await;
    let p = plugin().await;
    let settings = athena_v2_settings(&moto, json!({"workgroup": "lakewatch"}));
    // No Security Lake database in the region yet.
    let (status, message) = p.check_health(&settings).await.unwrap();
    assert_eq!(status, 2, "{message}");
    assert_eq!(
        message,
        "no Security Lake tables found: the Glue database `amazon_security_lake_glue_db_us_east_1` does not exist in us-east-1, and no other database holds Security Lake tables or resource links to them (the credentials see no Glue databases); check the rollup region setting and that Security Lake is enabled there, or set `database` to the database that holds the tables (and grant the role Lake Formation DESCRIBE on it)"
    );
    // The database with the flow table only.
    moto.seed_glue(KEY, DATABASE, &[FLOW_V2]).await;
    let (status, message) = p.check_health(&settings).await.unwrap();
    assert_eq!(status, 2, "{message}");
    assert_eq!(
        message,
        "the table amazon_security_lake_table_us_east_1_sh_findings_2_0 was not found in the Glue database amazon_security_lake_glue_db_us_east_1; enable the SH_FINDINGS source in Security Lake for us-east-1, or choose the rollup region whose database has it"
    );
    // Both tables: ready, and the test query reached Athena pruned to the last hour.
    moto.seed_table(KEY, DATABASE, FINDINGS_V2).await;
    let (status, message) = p.check_health(&settings).await.unwrap();
    assert_eq!(status, 1, "{message}");
    let account = "arn:aws:sts::123456789012:user/moto";
    assert_eq!(
        without_ms(&message),
        format!("Lakewatch is ready: Athena in us-east-1 as {account}, workgroup lakewatch (results to s3://lakewatch-results/), amazon_security_lake_glue_db_us_east_1 (sh_findings 2.0, vpc_flow 2.0); no cloud_trail_mgmt 2.0, route53 2.0, waf 2.0, s3_data 2.0, lambda_execution 2.0, eks_audit 2.0 tables (queries that read them fail until those sources are enabled in Security Lake); a one-row flow search over the last hour took N ms; source version 2, tables in us-east-1")
    );
    let executed = moto.athena_executions(KEY).await;
    assert_eq!(executed.len(), 1, "{executed:?}");
    assert!(
        executed[0].0.contains("\"time_dt\" BETWEEN TIMESTAMP"),
        "{executed:?}"
    );
    assert!(executed[0].0.ends_with("LIMIT 1"), "{executed:?}");
    // With the CloudTrail and Route 53 tables too, nothing optional is missing.
    for table in [
        "amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0",
        "amazon_security_lake_table_us_east_1_route53_2_0",
    ] {
        moto.seed_table(KEY, DATABASE, table).await;
    }
    let (status, message) = p.check_health(&settings).await.unwrap();
    assert_eq!(status, 1, "{message}");
    assert!(
        without_ms(&message).contains("amazon_security_lake_glue_db_us_east_1 (cloud_trail_mgmt 2.0, route53 2.0, sh_findings 2.0, vpc_flow 2.0); no waf 2.0, s3_data 2.0, lambda_execution 2.0, eks_audit 2.0 tables (queries that read them fail until those sources are enabled in Security Lake); a one-row flow search"),
        "{message}"
    );
    // A workgroup that does not exist, and keys without a secret.
    let (status, message) = p
        .check_health(&athena_v2_settings(&moto, json!({"workgroup": "nosuch"})))
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

#[tokio::test]
async fn the_source_version_is_discovered_from_glue_when_not_set() {
    let moto = Moto::start();
    workgroup_with_results(&moto).await;
    moto.seed_glue(KEY, DATABASE, &[FLOW_V1, FINDINGS_V1, "unrelated_table"])
        .await;
    let mut settings = athena_v2_settings(&moto, json!({"workgroup": "lakewatch"}));
    settings.as_object_mut().unwrap().remove("sourceVersion");
    // The health check's test query, then the panel's.
    moto.seed_probe_and_flow_panel();
    let p = plugin().await;
    let (status, message) = p.check_health(&settings).await.unwrap();
    assert_eq!(status, 1, "{message}");
    assert!(
        without_ms(&message).ends_with("amazon_security_lake_glue_db_us_east_1 (sh_findings 1.0, vpc_flow 1.0); no cloud_trail_mgmt 1.0, route53 1.0, s3_data 1.0, lambda_execution 1.0 tables (queries that read them fail until those sources are enabled in Security Lake); a one-row flow search over the last hour took N ms; source version 1 (discovered), tables in us-east-1"),
        "{message}"
    );
    // A panel runs on the v1 table with v1 partition predicates.
    assert_eq!(flow_panel(&p, &settings).await, "");
    let executed = moto.athena_executions(KEY).await;
    let panel_sql = &executed.last().unwrap().0;
    assert!(panel_sql.contains(FLOW_V1), "{panel_sql}");
    assert!(
        panel_sql.contains("WHERE \"eventday\" = '20240610'"),
        "{panel_sql}"
    );
    p.stop().await;
}

#[tokio::test]
async fn a_large_result_is_read_from_the_result_object_in_s3() {
    let moto = Moto::start();
    moto.create_bucket(KEY, "lakewatch-results").await;
    // 2,500 rows: more than two GetQueryResults pages on Athena.
    let rows: Vec<Vec<Option<String>>> = (0..2500)
        .map(|i| {
            cells(&[
                &format!("10.0.{}.{}", i / 250, i % 250),
                &(i * 1000).to_string(),
                if i % 7 == 0 { "NULL" } else { "3" },
                "1",
            ])
        })
        .collect();
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(TALKER_COLUMNS.to_vec(), rows.clone())],
    );
    let p = plugin().await;
    let settings = athena_v2_settings(
        &moto,
        json!({"outputLocation": "s3://lakewatch-results/athena/"}),
    );
    let frame = &talkers(&p, &settings).await;
    let from = frame.meta["custom"]["resultsFrom"].as_str().unwrap();
    assert!(
        from.starts_with("s3://lakewatch-results/athena/") && from.ends_with(".csv"),
        "{from}"
    );
    let want = |c: usize| -> Vec<Value> {
        rows.iter()
            .map(|r| match &r[c] {
                None => Value::Null,
                Some(v) if c == 0 => json!(v),
                Some(v) => json!(v.parse::<i64>().unwrap()),
            })
            .collect()
    };
    assert_eq!(frame.field("ip").unwrap().values, want(0));
    assert_eq!(frame.field("bytes").unwrap().values, want(1));
    assert_eq!(frame.field("packets").unwrap().type_name, "number");
    assert_eq!(frame.field("packets").unwrap().values, want(2));
    p.stop().await;
}

#[tokio::test]
async fn the_cli_checks_and_queries_athena() {
    let moto = Moto::start();
    workgroup_with_results(&moto).await;
    moto.seed_glue(KEY, DATABASE, &[FLOW_V2, FINDINGS_V2]).await;
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[
            probe_result(),
            (
                TALKER_COLUMNS.to_vec(),
                vec![cells(&["10.0.0.5", "900", "3", "1"])],
            ),
        ],
    );
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lakewatch"))
            .args(args)
            .args([
                "--athena",
                "--endpoint",
                &moto.url(),
                "--workgroup",
                "lakewatch",
            ])
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", "x")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, stdout, stderr) = cli(&["check"]);
    assert!(ok, "{stderr}");
    assert!(
        without_ms(&stdout).ends_with("amazon_security_lake_glue_db_us_east_1 (sh_findings 2.0, vpc_flow 2.0); no cloud_trail_mgmt 2.0, route53 2.0, waf 2.0, s3_data 2.0, lambda_execution 2.0, eks_audit 2.0 tables (queries that read them fail until those sources are enabled in Security Lake); a one-row flow search over the last hour took N ms; source version 2 (discovered), tables in us-east-1\n"),
        "{stdout}"
    );
    let file = std::env::temp_dir().join(format!("lakewatch-cli-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"kind": "top_talkers", "by": "either"}"#).unwrap();
    let (ok, stdout, stderr) = cli(&[
        "query",
        "--query",
        file.to_str().unwrap(),
        "--from",
        FROM,
        "--to",
        TO,
        "--format",
        "csv",
    ]);
    std::fs::remove_file(&file).unwrap();
    assert!(ok, "{stderr}");
    assert!(stdout.contains("10.0.0.5,900,3,1"), "{stdout}");
    let executed = moto.athena_executions(KEY).await;
    assert!(executed[1].0.contains(FLOW_V2), "{executed:?}");
}

#[tokio::test]
async fn no_key_secret_or_token_reaches_the_log_at_trace_level() {
    let moto = Moto::start();
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(
            TALKER_COLUMNS.to_vec(),
            vec![cells(&["10.0.0.5", "900", "3", "1"])],
        )],
    );
    let dir = crate::common::scratch_dir("secrets-log");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("plugin.log");
    let exe = env!("CARGO_BIN_EXE_gpx_lakewatch");
    let p = PluginProcess::launch(
        std::path::Path::new("/usr/bin/env"),
        &["RUST_LOG=trace", exe],
        Some(&log),
    )
    .await
    .unwrap();
    let (key, secret, token) = (
        "AKIDSECRETLOGTEST",
        "wJalrXUtnFEMI-secret-log-test",
        "FwoGZXIvYXdzEJr-session-token-log-test",
    );
    let settings = athena_v2_settings(
        &moto,
        json!({"$secure": {"accessKey": key, "secretKey": secret, "sessionToken": token}}),
    );
    let answer = p
        .query(
            &settings,
            &[query("A", json!({"kind": "top_talkers"}), FROM, TO, 60_000)],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(answer["A"].error, "");
    p.check_health(&settings).await.unwrap();
    p.stop().await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(r#""@level":"TRACE""#),
        "trace logging is on: {text}"
    );
    for (what, value) in [
        ("access key id", key),
        ("secret key", secret),
        ("session token", token),
    ] {
        assert!(!text.contains(value), "the {what} is in the log");
    }
}
