//! The local engine's cost follows the query, not the lake: on a lake of many partition folders,
//! a query naming one partition lists only the folders on its way and opens only that partition's
//! files; listings are reused until a folder changes; and whatever the filters on the partition
//! columns, the rows counted are the brute force's over the generated records.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::common::{scratch_dir, t};
use lakewatch::demo::{self, DemoConfig, FlowRecord};
use lakewatch::engine::local::LocalEngine;
use lakewatch::engine::{Engine, EngineRequest, QueryOutput};
use lakewatch::lake::{Source, SourceVersion};
use lakewatch::plan::TableRef;

/// 12 accounts × 3 regions × 4 touched days: 144 partition folders, few records in each.
fn config() -> DemoConfig {
    DemoConfig {
        days: 3,
        accounts: 12,
        regions: vec!["us-east-1".into(), "eu-west-1".into(), "ap-south-1".into()],
        seed: 11,
        end: t("2024-06-04T12:00:00Z"),
        versions: vec![SourceVersion::V2],
        flows_per_hour: 3,
        // One file per partition: the test counts the files a query opens.
        messy: false,
    }
}

/// The many-folder lake, generated once per test binary, and its records.
fn lake() -> &'static (std::path::PathBuf, Vec<FlowRecord>) {
    static LAKE: OnceLock<(std::path::PathBuf, Vec<FlowRecord>)> = OnceLock::new();
    LAKE.get_or_init(|| {
        let dir = scratch_dir("listing");
        demo::write_lake(&config(), &dir, false).expect("lake");
        (dir, demo::all_records(&config()))
    })
}

fn table() -> TableRef {
    TableRef {
        source: Source::VpcFlow,
        version: SourceVersion::V2,
        home_region: "us-east-1".into(),
        names: Default::default(),
    }
}

const FROM: &str = "FROM \"amazon_security_lake_glue_db_us_east_1\".\"amazon_security_lake_table_us_east_1_vpc_flow_2_0\"";

async fn run(engine: &LocalEngine, sql: &str) -> QueryOutput {
    engine
        .run(&EngineRequest {
            ref_id: "A".into(),
            sql: sql.to_string(),
            tables: vec![table()],
            settled: false,
            row_limit: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `(records, bytes)` per account, as the engine counts them.
async fn per_account(engine: &LocalEngine, condition: &str) -> BTreeMap<String, (i64, i64)> {
    let sql = format!(
        "SELECT \"accountid\", count(*), sum(get_field(\"traffic\", 'bytes')) {FROM} WHERE {condition} GROUP BY 1"
    );
    let out = run(engine, &sql).await;
    let mut counts = BTreeMap::new();
    for batch in &out.batches {
        let accounts =
            arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8).unwrap();
        let accounts = accounts
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        let n = batch
            .column(1)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        let bytes = batch
            .column(2)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        for i in 0..batch.num_rows() {
            counts.insert(accounts.value(i).to_string(), (n.value(i), bytes.value(i)));
        }
    }
    counts
}

/// Whether a partition (region, account, day) is selected.
type PartitionTest = dyn Fn(&str, &str, &str) -> bool;

/// `(records, bytes)` per account over the generated records whose partition passes `keep`.
fn brute_force(keep: impl Fn(&str, &str, &str) -> bool) -> BTreeMap<String, (i64, i64)> {
    let mut counts = BTreeMap::new();
    for r in &lake().1 {
        if keep(&r.region, &r.account_id, &r.event_day()) {
            let c = counts.entry(r.account_id.clone()).or_insert((0, 0));
            c.0 += 1;
            c.1 += r.bytes;
        }
    }
    counts
}

#[tokio::test]
async fn a_one_partition_query_lists_and_opens_only_that_partition() {
    let (dir, _) = lake();
    let engine = LocalEngine::new(dir);
    let account = config().account_ids()[5].clone();
    let sql = format!(
        "SELECT count(*) {FROM} WHERE \"region\" = 'eu-west-1' AND \"accountid\" = '{account}' AND \"eventday\" = '20240603'"
    );
    let out = run(&engine, &sql).await;
    let partition = format!("region=eu-west-1/accountId={account}/eventDay=20240603");
    assert_eq!(out.stats.partitions, std::slice::from_ref(&partition));
    assert_eq!(out.stats.files, 1, "the partition's one file");
    // Registering reads one path down to a first file (4 folders); the scan then reads the
    // named region's, account's and day's folders. 184 folders in the table.
    let first = engine.listing_counts();
    assert!(first.read <= 7, "{first:?}");

    // The same query again lists nothing anew: the folders have not changed.
    let again = run(&engine, &sql).await;
    assert_eq!(again.batches, out.batches);
    assert_eq!(engine.listing_counts().read, first.read);

    // A file added to the partition changes its folder: that folder alone is listed again and
    // the new file is read.
    let folder = dir.join("aws/VPC_FLOW/2.0").join(&partition);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::copy(
        folder.join("part-00000.parquet"),
        folder.join("part-00001.parquet"),
    )
    .unwrap();
    let doubled = run(&engine, &sql).await;
    std::fs::remove_file(folder.join("part-00001.parquet")).unwrap();
    assert_eq!(doubled.stats.files, 2);
    assert_eq!(engine.listing_counts().read, first.read + 1);
    let count = |o: &QueryOutput| {
        o.batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap()
            .value(0)
    };
    assert_eq!(count(&doubled), 2 * count(&out));
}

#[tokio::test]
async fn results_on_a_many_folder_lake_are_the_brute_force() {
    let (dir, _) = lake();
    let engine = LocalEngine::new(dir);
    let a = config().account_ids();
    let (a1, a7) = (a[1].clone(), a[7].clone());
    let cases: Vec<(String, Box<PartitionTest>)> = vec![
        (
            "\"eventday\" = '20240602'".into(),
            Box::new(|_, _, d| d == "20240602"),
        ),
        (
            "\"eventday\" BETWEEN '20240602' AND '20240603' AND \"region\" IN ('eu-west-1', 'ap-south-1')".into(),
            Box::new(|r, _, d| ("20240602"..="20240603").contains(&d) && r != "us-east-1"),
        ),
        (
            format!("\"eventday\" > '20240601' AND \"eventday\" <= '20240603' AND \"accountid\" <> '{a1}'"),
            Box::new(move |_, acct, d| d > "20240601" && d <= "20240603" && acct != a[1]),
        ),
        (
            format!("(\"region\" = 'us-east-1' AND \"accountid\" = '{a7}') OR \"eventday\" = '20240604'"),
            Box::new({
                let a7 = a7.clone();
                move |r, acct, d| (r == "us-east-1" && acct == a7) || d == "20240604"
            }),
        ),
        (
            "\"eventday\" LIKE '%02' AND starts_with(\"region\", 'eu')".into(),
            Box::new(|r, _, d| d.ends_with("02") && r.starts_with("eu")),
        ),
        (
            "\"eventday\" = '20240530'".into(),
            Box::new(|_, _, _| false),
        ),
    ];
    for (condition, keep) in &cases {
        let expected = brute_force(keep);
        assert_eq!(
            per_account(&engine, condition).await,
            expected,
            "{condition}"
        );
    }
}
