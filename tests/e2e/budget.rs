//! The scan budget through the plugin binary: a query whose partitions hold more than the
//! per-query budget, or more than what is left of its dashboard load's budget, is refused before
//! it starts — on the local lake (sizes from its folders) and on Athena (sizes from S3 under the
//! Glue table's location; moto counts the queries started).

use crate::common::moto::{Moto, DEFAULT_ACCOUNT};
use crate::common::{lake, plugin, query, settings};
use lakewatch::budget::human_bytes;
use serde_json::json;

const FROM: &str = "2024-06-13T00:00:00Z";
const TO: &str = "2024-06-14T12:00:00Z";

/// (files, bytes, partition folders) of the v2 flow table on 13 and 14 June, walked by hand.
fn flow_files() -> (u64, u64, u64) {
    table_files("aws/VPC_FLOW/2.0")
}

/// (files, bytes, partition folders) of a table folder on 13 and 14 June, walked by hand.
fn table_files(folder: &str) -> (u64, u64, u64) {
    let root = lake().join(folder);
    let (mut files, mut bytes, mut parts) = (0, 0, 0);
    for region in std::fs::read_dir(&root).unwrap().flatten() {
        for account in std::fs::read_dir(region.path()).unwrap().flatten() {
            for day in ["eventDay=20240613", "eventDay=20240614"] {
                let folder = account.path().join(day);
                let Ok(entries) = std::fs::read_dir(&folder) else {
                    continue;
                };
                parts += 1;
                for f in entries.flatten() {
                    files += 1;
                    bytes += f.metadata().unwrap().len();
                }
            }
        }
    }
    (files, bytes, parts)
}

fn gb(bytes: u64) -> String {
    format!("{}", bytes as f64 / 1e9)
}

#[tokio::test]
async fn the_local_lake_refuses_queries_over_the_budgets_before_running_them() {
    let (files, bytes, parts) = flow_files();
    assert!(bytes > 2_000, "{bytes}");
    let p = plugin().await;
    let volume = json!({"kind": "flow_volume", "measure": "bytes"});

    // Per query: over → refused, word for word; exactly the estimate → runs.
    let mut s = settings("2");
    s["scanBudgetQueryGb"] = json!("0.000001");
    let answer = p
        .query(&s, &[query("A", volume.clone(), FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["A"].status, 400);
    assert_eq!(
        answer["A"].error,
        format!("query A would scan up to {} ({files} files in {parts} partition folders of region × account × day), over the datasource's per-query scan budget of 1.0 KB (scanBudgetQueryGb); it was not run. Narrow the time range, filter accounts or regions (they prune partitions), or raise the budget in the datasource settings.", human_bytes(bytes))
    );
    s["scanBudgetQueryGb"] = json!(gb(bytes));
    let answer = p
        .query(&s, &[query("A", volume.clone(), FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["A"].error, "");
    assert_eq!(
        answer["A"].frames[0].meta["custom"]["scanEstimateBytes"],
        json!(bytes)
    );

    // Day slices (cache on) count no more than the query run whole: a top-N table whose head
    // slice and first-day slice read the same partitions fits the same budget.
    s["cacheTtlSeconds"] = json!(300);
    let top = query(
        "A",
        json!({"kind": "top_talkers"}),
        "2024-06-13T12:30:00Z",
        TO,
        3_600_000,
    );
    let answer = p.query(&s, &[top], &[]).await.unwrap();
    assert_eq!(answer["A"].error, "");
    let custom = &answer["A"].frames[0].meta["custom"];
    assert_eq!(custom["daySlices"]["slices"], json!(3));
    assert_eq!(custom["scanEstimateBytes"], json!(bytes));

    // Per load: three panels of one load, each reading the same partitions, budget for 1.5 of
    // them: the first allowed runs, the other two are refused.
    let mut s = settings("2");
    s["scanBudgetLoadGb"] = json!(gb(bytes * 3 / 2));
    let panels = [
        query("A", volume.clone(), FROM, TO, 3_600_000),
        query(
            "B",
            json!({"kind": "flow_volume", "measure": "packets"}),
            FROM,
            TO,
            3_600_000,
        ),
        query("C", json!({"kind": "top_talkers"}), FROM, TO, 3_600_000),
    ];
    let answer = p.query(&s, &panels, &[]).await.unwrap();
    let mut refused: Vec<&str> = Vec::new();
    for (ref_id, a) in &answer {
        if a.error.is_empty() {
            continue;
        }
        assert_eq!(
            a.error,
            format!("query {ref_id} would scan up to {}, but this dashboard load's other queries were already allowed {} of its {} scan budget (scanBudgetLoadGb); it was not run. Narrow the time range, filter accounts or regions, or raise the budget in the datasource settings.", human_bytes(bytes), human_bytes(bytes), human_bytes(bytes * 3 / 2))
        );
        refused.push(ref_id);
    }
    assert_eq!(refused.len(), 2, "{answer:?}");
    // The next load (a new range) has its own budget.
    let later = [query("A", volume, FROM, "2024-06-14T12:01:00Z", 3_600_000)];
    let answer = p.query(&s, &later, &[]).await.unwrap();
    assert_eq!(answer["A"].error, "");

    // Raw SQL without a partition predicate is refused when a budget is set.
    let mut s = settings("2");
    s["scanBudgetQueryGb"] = json!(10);
    let sql = json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table"});
    let answer = p
        .query(&s, &[query("S", sql, FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert_eq!(
        answer["S"].error,
        "query S reads a Security Lake table without a partition predicate, so it would scan every day of every account and region; with a scan budget set it was not run. Add `AND $__partitionFilter` to its WHERE clause."
    );
    // Words do not prune: the day column in the SELECT list bounds nothing.
    let named =
        json!({"kind": "sql", "rawSql": "SELECT eventday, count(*) AS n FROM $__table GROUP BY 1"});
    let answer = p
        .query(&s, &[query("S", named, FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert!(
        answer["S"]
            .error
            .starts_with("query S reads a Security Lake table without a partition predicate"),
        "{}",
        answer["S"].error
    );
    // A lake table the estimate cannot size is refused, not counted as 0 bytes.
    let other = json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM amazon_security_lake_table_us_east_1_appfabric_2_0 WHERE eventday = '20240610'"});
    let answer = p
        .query(&s, &[query("S", other, FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert_eq!(
        answer["S"].error,
        "query S reads amazon_security_lake_table_us_east_1_appfabric_2_0, which the scan budget cannot size (it sizes this datasource's VPC flow, Security Hub findings, CloudTrail management and data event, Route 53 resolver, WAF and EKS audit tables); with a scan budget set it was not run. Read those tables through $__table, or ask an admin to remove the budget."
    );
    // The CloudTrail table is sized like the others: its partitions of the range.
    let (_, trail_bytes, _) = table_files("aws/CLOUD_TRAIL_MGMT/2.0");
    assert!(trail_bytes > 2_000, "{trail_bytes}");
    let trail = json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(cloud_trail_mgmt) WHERE $__partitionFilter"});
    let answer = p
        .query(&s, &[query("S", trail, FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["S"].error, "");
    assert_eq!(
        answer["S"].frames[0].meta["custom"]["scanEstimateBytes"],
        json!(trail_bytes)
    );
    let pruned = json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table WHERE $__partitionFilter"});
    let answer = p
        .query(&s, &[query("S", pruned, FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["S"].error, "");
    assert_eq!(
        answer["S"].frames[0].meta["custom"]["scanEstimateBytes"],
        json!(bytes)
    );
    p.stop().await;
}

/// Coverage by account × region × VPC also reads the findings table, for the VPCs EC2.6
/// findings know of: the budget sizes that lookup with the flows, and a budget that holds the
/// flows alone refuses the panel before either query starts.
#[tokio::test]
async fn coverage_charges_its_findings_lookup_to_the_budget() {
    let p = plugin().await;
    let mut s = settings("2");
    s["scanBudgetQueryGb"] = json!(10);
    let ask = async |s: &serde_json::Value, kind: serde_json::Value| {
        let answer = p
            .query(s, &[query("A", kind, FROM, TO, 3_600_000)], &[])
            .await
            .unwrap();
        let a = &answer["A"];
        let estimate = a
            .frames
            .first()
            .map(|f| f.meta["custom"]["scanEstimateBytes"].clone());
        (a.error.clone(), estimate.and_then(|e| e.as_u64()))
    };
    // The same look-back window of flows without the lookup, and the lookup's own query (the
    // latest state of EC2.6 findings over the default look-back).
    let (_, flows) = ask(&s, json!({"kind": "freshness"})).await;
    let (_, findings) = ask(&s, json!({"kind": "compliance_status"})).await;
    let (error, coverage) = ask(&s, json!({"kind": "coverage"})).await;
    let (flows, findings) = (flows.unwrap(), findings.unwrap());
    assert!(flows > 0 && findings > 0, "{flows} {findings}");
    assert_eq!(error, "");
    assert_eq!(coverage, Some(flows + findings));

    s["scanBudgetQueryGb"] = json!(gb(flows));
    let (error, _) = ask(&s, json!({"kind": "freshness"})).await;
    assert_eq!(error, "");
    let (error, _) = ask(&s, json!({"kind": "coverage"})).await;
    let over = format!(
        "query A would scan up to {} (",
        human_bytes(flows + findings)
    );
    assert!(error.starts_with(&over), "{error}");
    p.stop().await;
}

const DATABASE: &str = "amazon_security_lake_glue_db_us_east_1";
const FLOW_V2: &str = "amazon_security_lake_table_us_east_1_vpc_flow_2_0";

#[tokio::test]
async fn athena_refuses_an_over_budget_query_before_start_query_execution() {
    let moto = Moto::start();
    let key = "AKIDLAKEWATCHTEST";
    moto.seed_glue(key, DATABASE, &[]).await;
    moto.create_bucket(key, "lake-bucket").await;
    moto.seed_table_at(key, DATABASE, FLOW_V2, "s3://lake-bucket/aws/VPC_FLOW/2.0")
        .await;
    let account = "111122223333";
    for (region, day, size) in [
        ("us-east-1", "20240613", 600_000),
        ("us-east-1", "20240614", 600_000),
        ("us-east-1", "20240612", 5_000_000),
        ("eu-west-1", "20240613", 300_000),
    ] {
        let object = format!(
            "aws/VPC_FLOW/2.0/region={region}/accountId={account}/eventDay={day}/part-0.parquet"
        );
        moto.put_object(key, "lake-bucket", &object, size).await;
    }
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        "us-east-1",
        &[(
            vec![("time_bucket", "bigint"), ("bytes", "bigint")],
            Vec::new(),
        )],
    );
    let mut s = json!({
        "engine": "athena", "defaultRegion": "us-east-1", "endpoint": moto.url(),
        "authType": "keys", "sourceVersion": "2", "cacheTtlSeconds": 0,
        "scanBudgetQueryGb": "0.001",
        "$secure": {"accessKey": key, "secretKey": "x"}
    });
    let p = plugin().await;
    let volume = json!({"kind": "flow_volume", "measure": "bytes"});
    let answer = p
        .query(&s, &[query("A", volume.clone(), FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert_eq!(
        answer["A"].error,
        "query A would scan up to 1.5 MB (3 files in 3 partition folders of region × account × day), over the datasource's per-query scan budget of 1.0 MB (scanBudgetQueryGb); it was not run. Narrow the time range, filter accounts or regions (they prune partitions), or raise the budget in the datasource settings."
    );
    let athena = aws_sdk_athena::Client::new(&moto.sdk_config(key).await);
    let started = || async {
        athena
            .list_query_executions()
            .send()
            .await
            .unwrap()
            .query_execution_ids()
            .len()
    };
    assert_eq!(started().await, 0, "refused before StartQueryExecution");

    // Filtering the region prunes the estimate too; a budget that fits lets it run.
    let narrow =
        json!({"kind": "flow_volume", "measure": "bytes", "filters": {"regions": ["us-east-1"]}});
    s["scanBudgetQueryGb"] = json!("0.0013");
    let answer = p
        .query(&s, &[query("A", narrow, FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["A"].error, "");
    assert_eq!(
        answer["A"].frames[0].meta["custom"]["scanEstimateBytes"],
        json!(1_200_000)
    );
    assert_eq!(started().await, 1);
    p.stop().await;
}
