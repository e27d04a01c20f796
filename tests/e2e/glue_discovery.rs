//! The Glue database and tables on Athena: found by discovery in a database of another name, read
//! through Lake Formation resource links (Glue `TargetTable`), named by the settings, or not
//! found at all. The real plugin binary, the real SDK, moto as the AWS peer.

use crate::common::moto::{
    athena_settings, flow_panel, merged, Moto, DEFAULT_ACCOUNT, FROM, KEY, REGION, TO,
};
use crate::common::{plugin, query, without_ms};
use serde_json::{json, Value};

const OWN_DATABASE: &str = "amazon_security_lake_glue_db_us_east_1";
const FLOW_V2: &str = "amazon_security_lake_table_us_east_1_vpc_flow_2_0";
const FINDINGS_V2: &str = "amazon_security_lake_table_us_east_1_sh_findings_2_0";
/// The Security Lake account the resource links point into.
const PRODUCER: &str = "999988887777";
const IDENTITY: &str = "arn:aws:sts::123456789012:user/moto";

/// [`athena_settings`] with the results written to `s3://lakewatch-results/`, then `extra`.
fn settings(moto: &Moto, extra: Value) -> Value {
    let results = json!({"outputLocation": "s3://lakewatch-results/"});
    athena_settings(moto, merged(results, extra))
}

async fn glue(moto: &Moto) -> aws_sdk_glue::Client {
    aws_sdk_glue::Client::new(&moto.sdk_config(KEY).await)
}

/// A database of Lake Formation resource links, each `(link name, target table)` into Security
/// Lake's database of the producer account.
async fn seed_links(moto: &Moto, database: &str, links: &[(&str, &str)]) {
    moto.seed_glue(KEY, database, &[]).await;
    let glue = glue(moto).await;
    for (name, target) in links {
        let target = aws_sdk_glue::types::TableIdentifier::builder()
            .catalog_id(PRODUCER)
            .database_name(OWN_DATABASE)
            .name(*target)
            .build();
        glue.create_table()
            .database_name(database)
            .table_input(
                aws_sdk_glue::types::TableInput::builder()
                    .name(*name)
                    .target_table(target)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
}

/// The SQL of the query executions moto saw, oldest first.
async fn executed_sql(moto: &Moto) -> Vec<String> {
    let executions = moto.athena_executions(KEY).await;
    executions.into_iter().map(|(sql, _)| sql).collect()
}

#[tokio::test]
async fn tables_in_a_database_of_another_name_are_discovered_and_queried_there() {
    let moto = Moto::start();
    moto.seed_glue(KEY, "default", &["notes"]).await;
    moto.seed_glue(KEY, "security_analytics", &[FLOW_V2, FINDINGS_V2])
        .await;
    moto.seed_probe_and_flow_panel();
    let p = plugin().await;
    let s = settings(&moto, json!({}));
    let (status, message) = p.check_health(&s).await.unwrap();
    assert_eq!(status, 1, "{message}");
    assert_eq!(
        without_ms(&message),
        format!("Lakewatch is ready: Athena in us-east-1 as {IDENTITY}, workgroup primary (results to s3://lakewatch-results/), security_analytics (sh_findings 2.0, vpc_flow 2.0); no cloud_trail_mgmt 2.0, route53 2.0, waf 2.0, s3_data 2.0, lambda_execution 2.0, eks_audit 2.0 tables (queries that read them fail until those sources are enabled in Security Lake); a one-row flow search over the last hour took N ms; source version 2 (discovered), tables in us-east-1; database security_analytics found among the Glue databases (set `database` to skip the search)")
    );
    assert_eq!(flow_panel(&p, &s).await, "");
    let executed = executed_sql(&moto).await;
    assert_eq!(executed.len(), 2, "{executed:?}");
    for sql in &executed {
        assert!(
            sql.contains(&format!("FROM \"security_analytics\".\"{FLOW_V2}\"")),
            "{sql}"
        );
    }
    // Named in the settings, the database is used without a search, and `$__database` and
    // `$__table` follow it.
    let named = settings(&moto, json!({"database": "security_analytics"}));
    let (status, message) = p.check_health(&named).await.unwrap();
    assert_eq!(status, 1, "{message}");
    assert!(
        message.ends_with(
            "tables in us-east-1; database security_analytics from the `database` setting"
        ),
        "{message}"
    );
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(vec![("n", "bigint")], Vec::new())],
    );
    let raw = json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table WHERE $__database = $__database"});
    let answer = p
        .query(&named, &[query("S", raw, FROM, TO, 60_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["S"].error, "");
    let last = executed_sql(&moto).await.pop().unwrap();
    assert_eq!(
        last,
        format!("SELECT count(*) AS n FROM \"security_analytics\".\"{FLOW_V2}\" WHERE \"security_analytics\" = \"security_analytics\"")
    );
    p.stop().await;
}

#[tokio::test]
async fn resource_links_are_found_queried_and_sized_through_their_target() {
    let moto = Moto::start();
    seed_links(
        &moto,
        "subscriber_links",
        &[("vpc_flow", FLOW_V2), ("sh_findings", FINDINGS_V2)],
    )
    .await;
    moto.seed_probe_and_flow_panel();
    let p = plugin().await;
    let s = settings(&moto, json!({"sourceVersion": "2"}));
    let (status, message) = p.check_health(&s).await.unwrap();
    assert_eq!(status, 1, "{message}");
    let link = |name: &str, target: &str| {
        format!("resource link `{name}` → `{OWN_DATABASE}`.`{target}` in account {PRODUCER}")
    };
    assert_eq!(
        without_ms(&message),
        format!(
            "Lakewatch is ready: Athena in us-east-1 as {IDENTITY}, workgroup primary (results to s3://lakewatch-results/), subscriber_links (sh_findings 2.0 via {}, vpc_flow 2.0 via {}); no cloud_trail_mgmt 2.0, route53 2.0, waf 2.0, s3_data 2.0, lambda_execution 2.0, eks_audit 2.0 tables (queries that read them fail until those sources are enabled in Security Lake); a one-row flow search over the last hour took N ms; source version 2, tables in us-east-1; database subscriber_links found among the Glue databases (set `database` to skip the search)",
            link("sh_findings", FINDINGS_V2),
            link("vpc_flow", FLOW_V2)
        )
    );
    assert_eq!(flow_panel(&p, &s).await, "");
    let panel_sql = executed_sql(&moto).await.pop().unwrap();
    assert!(
        panel_sql.contains("FROM \"subscriber_links\".\"vpc_flow\""),
        "{panel_sql}"
    );
    // The scan estimate reads the link's target's location (moto keeps one catalogue, so the
    // producer's database stands beside the links; naming the database keeps discovery off it).
    moto.create_bucket(KEY, "lake-bucket").await;
    moto.seed_glue(KEY, OWN_DATABASE, &[]).await;
    moto.seed_table_at(
        KEY,
        OWN_DATABASE,
        FLOW_V2,
        "s3://lake-bucket/aws/VPC_FLOW/2.0",
    )
    .await;
    let object =
        "aws/VPC_FLOW/2.0/region=us-east-1/accountId=111122223333/eventDay=20240610/part-0.parquet";
    moto.put_object(KEY, "lake-bucket", object, 700_000).await;
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(
            vec![("time_bucket", "bigint"), ("bytes", "bigint")],
            Vec::new(),
        )],
    );
    let budgeted = settings(
        &moto,
        json!({"database": "subscriber_links", "scanBudgetQueryGb": "10", "cacheTtlSeconds": 0}),
    );
    let answer = p
        .query(
            &budgeted,
            &[query(
                "A",
                json!({"kind": "flow_volume", "measure": "bytes"}),
                FROM,
                TO,
                3_600_000,
            )],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(answer["A"].error, "");
    assert_eq!(
        answer["A"].frames[0].meta["custom"]["scanEstimateBytes"],
        json!(700_000)
    );
    // Account scoping knows the link as a lake table: SQL reading it must restrict the account.
    let scoped = settings(
        &moto,
        json!({"database": "subscriber_links", "allowedAccounts": ["111122223333"]}),
    );
    let raw = |sql: &str| json!({"kind": "sql", "rawSql": sql});
    let answer = p
        .query(
            &scoped,
            &[query(
                "S",
                raw("SELECT count(*) AS n FROM $__table"),
                FROM,
                TO,
                60_000,
            )],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        answer["S"].error,
        "this datasource reads only the accounts 111122223333 (setting `allowedAccounts`), and the SQL does not restrict the account in every SELECT that reads the lake; add `AND $__partitionFilter` to its WHERE clause"
    );
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(vec![("n", "bigint")], Vec::new())],
    );
    let bounded = raw("SELECT count(*) AS n FROM $__table WHERE $__partitionFilter");
    let answer = p
        .query(&scoped, &[query("S", bounded, FROM, TO, 60_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["S"].error, "");
    let last = executed_sql(&moto).await.pop().unwrap();
    assert!(
        last.starts_with("SELECT count(*) AS n FROM \"subscriber_links\".\"vpc_flow\" WHERE")
            && last.contains("'111122223333'"),
        "{last}"
    );
    p.stop().await;
}

#[tokio::test]
async fn nothing_found_lists_the_databases_seen_and_a_missing_named_database_fails_queries() {
    let moto = Moto::start();
    moto.seed_glue(KEY, "default", &["notes"]).await;
    moto.seed_glue(KEY, "sales", &["orders"]).await;
    let p = plugin().await;
    let (status, message) = p.check_health(&settings(&moto, json!({}))).await.unwrap();
    assert_eq!(status, 2, "{message}");
    assert_eq!(
        message,
        "no Security Lake tables found: the Glue database `amazon_security_lake_glue_db_us_east_1` does not exist in us-east-1, and no other database holds Security Lake tables or resource links to them (databases seen: `default`, `sales`); check the rollup region setting and that Security Lake is enabled there, or set `database` to the database that holds the tables (and grant the role Lake Formation DESCRIBE on it)"
    );
    let named = settings(&moto, json!({"database": "security_analytics"}));
    let expected = "the Glue database `security_analytics` (setting `database`) does not exist or the credentials cannot see it (databases seen: `default`, `sales`); set `database` to one of them, or grant the role Lake Formation DESCRIBE on `security_analytics`";
    let (status, message) = p.check_health(&named).await.unwrap();
    assert_eq!((status, message.as_str()), (2, expected));
    assert_eq!(flow_panel(&p, &named).await, expected);
    assert!(executed_sql(&moto).await.is_empty(), "nothing ran");
    // A named table the database does not hold.
    moto.seed_glue(KEY, "security_analytics", &[FLOW_V2, FINDINGS_V2])
        .await;
    let (status, message) = p
        .check_health(&settings(
            &moto,
            json!({"database": "security_analytics", "tables": {"vpc_flow": "flows"}}),
        ))
        .await
        .unwrap();
    assert_eq!(status, 2, "{message}");
    assert_eq!(
        message,
        "the table flows (setting `tables.vpc_flow`) was not found in the Glue database security_analytics; set it to a table of security_analytics, or leave it empty to let Lakewatch find the table"
    );
    p.stop().await;
}
