//! The engine against a fake API: what the API server in the tests cannot do (FAILED states,
//! several result pages, Lake Formation denials, throttling).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::{Date32Array, Float64Array, Int64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::DataType;

use super::api::{AthenaApi, DatabaseAccess, Page, State, Status, TableAccess, Workgroup};
use super::retry::request_token;
use super::AthenaEngine;
use crate::engine::{Engine, EngineError, EngineRequest, Fault, QueryOutput, ResultRead};
use crate::lake::catalog::GlueTable;
use crate::lake::discovery::{DiscoveryError, GlueCatalog, Wanted};
use crate::lake::estimate::FolderTree;
use crate::lake::{Source, SourceVersion};
use crate::plan::TableRef;
use crate::settings::AthenaSettings;

/// What the API server in the tests cannot do: FAILED states and several result pages.
#[derive(Default)]
struct Fake {
    states: Mutex<Vec<State>>,
    pages: Vec<Page>,
    calls: Mutex<Vec<String>>,
    /// Glue: the database's tables (None: no database).
    tables: Option<Vec<String>>,
    /// Glue: GetTable is denied (Lake Formation).
    denied: bool,
    /// Glue: GetTables is denied.
    tables_denied: bool,
    /// STS: GetCallerIdentity fails with this.
    identity_error: Option<EngineError>,
    /// GetWorkGroup's answer (default: enabled, results to s3://results/).
    workgroup: Option<Option<Workgroup>>,
    /// Where the result object is, and its bytes.
    object: Option<(String, Vec<u8>)>,
    /// Errors of the next StartQueryExecution calls, in order.
    start_errors: Mutex<Vec<EngineError>>,
    /// Athena's reason for FAILED (default: a missing table).
    fail_reason: Option<String>,
}

#[async_trait::async_trait]
impl AthenaApi for Fake {
    async fn start(&self, _sql: &str, token: &str) -> Result<String, EngineError> {
        self.calls.lock().unwrap().push(format!("start {token}"));
        let mut errors = self.start_errors.lock().unwrap();
        if !errors.is_empty() {
            return Err(errors.remove(0));
        }
        Ok("q-1".into())
    }
    async fn status(&self, _id: &str) -> Result<Status, EngineError> {
        let mut states = self.states.lock().unwrap();
        let state = if states.len() > 1 {
            states.remove(0)
        } else {
            states[0]
        };
        Ok(Status {
            state,
            reason: (state == State::Failed).then(|| {
                self.fail_reason
                    .clone()
                    .unwrap_or_else(|| "TABLE_NOT_FOUND: line 3:6: Table 'x' does not exist".into())
            }),
            scanned_bytes: 123_456_789,
            engine_ms: 800,
            queue_ms: 90,
            result_location: self.object.as_ref().map(|o| o.0.clone()),
        })
    }
    async fn page(&self, _id: &str, next: Option<String>) -> Result<Page, EngineError> {
        let i: usize = next.map_or(0, |n| n.parse().unwrap());
        self.calls.lock().unwrap().push(format!("page {i}"));
        Ok(self.pages[i].clone())
    }
    async fn stop(&self, id: &str) -> Result<(), EngineError> {
        self.calls.lock().unwrap().push(format!("stop {id}"));
        Ok(())
    }
    async fn identity(&self) -> Result<String, EngineError> {
        match &self.identity_error {
            Some(e) => Err(e.clone()),
            None => Ok("arn:aws:iam::111122223333:user/test".into()),
        }
    }
    async fn workgroup(&self, _name: &str) -> Result<Option<Workgroup>, EngineError> {
        Ok(self.workgroup.clone().unwrap_or(Some(Workgroup {
            enabled: true,
            output_location: Some("s3://results/".into()),
        })))
    }
    async fn glue_table(&self, _db: &str, _table: &str) -> Result<TableAccess, EngineError> {
        Ok(if self.denied {
            TableAccess::Denied("Insufficient Lake Formation permission(s)".into())
        } else {
            TableAccess::Missing
        })
    }
    async fn database_tables(&self, database: &str) -> Result<DatabaseAccess, EngineError> {
        if self.tables_denied {
            return Ok(DatabaseAccess::Denied(
                "Insufficient Lake Formation permission(s)".into(),
            ));
        }
        Ok(match self.glue_tables(database).await? {
            Some(tables) => DatabaseAccess::Tables(tables),
            None => DatabaseAccess::Missing,
        })
    }
    async fn result_object(
        &self,
        location: &str,
        max_records: Option<usize>,
    ) -> Result<Vec<u8>, EngineError> {
        self.calls.lock().unwrap().push(format!("get {location}"));
        let mut bytes = self.object.clone().expect("an object").1;
        let mut ends = crate::engine::result_csv::RecordEnds::default();
        if let Some(end) = max_records.and_then(|max| ends.feed(&bytes, max)) {
            bytes.truncate(end);
        }
        Ok(bytes)
    }
    async fn table_location(&self, _db: &str, _table: &str) -> Result<Option<String>, EngineError> {
        Ok(None)
    }
}

#[async_trait::async_trait]
impl GlueCatalog for Fake {
    async fn database_page(
        &self,
        _next: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), EngineError> {
        self.calls.lock().unwrap().push("databases".into());
        Ok((Vec::new(), None))
    }
    async fn glue_tables(&self, database: &str) -> Result<Option<Vec<GlueTable>>, EngineError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("tables {database}"));
        Ok(self
            .tables
            .as_ref()
            .map(|t| t.iter().map(GlueTable::named).collect()))
    }
}

#[async_trait::async_trait]
impl FolderTree for Fake {
    async fn folders(&self, _folder: &str) -> Result<Vec<String>, EngineError> {
        Ok(Vec::new())
    }
    async fn files(&self, _folder: &str) -> Result<(u64, u64), EngineError> {
        Ok((0, 0))
    }
}

fn engine(states: Vec<State>, pages: Vec<Page>, timeout_s: u64) -> (AthenaEngine, Arc<Fake>) {
    with_fake(
        Fake {
            states: Mutex::new(states),
            pages,
            ..Fake::default()
        },
        timeout_s,
    )
}

fn with_fake(fake: Fake, timeout_s: u64) -> (AthenaEngine, Arc<Fake>) {
    let fake = Arc::new(fake);
    let mut settings = AthenaSettings::new("us-east-1");
    settings.query_timeout_s = timeout_s;
    let mut engine = AthenaEngine::new(fake.clone(), settings);
    engine.retry_pause = Duration::from_millis(1);
    (engine, fake)
}

fn request() -> EngineRequest {
    EngineRequest {
        ref_id: "A".into(),
        sql: "SELECT 1".into(),
        tables: Vec::new(),
        settled: false,
        row_limit: None,
    }
}

fn row(cells: &[Option<&str>]) -> Vec<Option<String>> {
    cells.iter().map(|c| c.map(str::to_string)).collect()
}

#[tokio::test]
async fn pages_are_read_to_the_end_and_typed() {
    let columns = vec![
        ("n".to_string(), "bigint".to_string()),
        ("x".to_string(), "double".to_string()),
        ("ok".to_string(), "boolean".to_string()),
        ("at".to_string(), "timestamp(3)".to_string()),
        ("d".to_string(), "date".to_string()),
        ("tags".to_string(), "array(varchar)".to_string()),
    ];
    let pages = vec![
        Page {
            columns: columns.clone(),
            rows: vec![
                row(&[
                    Some("n"),
                    Some("x"),
                    Some("ok"),
                    Some("at"),
                    Some("d"),
                    Some("tags"),
                ]),
                row(&[
                    Some("1"),
                    Some("0.5"),
                    Some("true"),
                    Some("2024-06-01 00:00:00.123"),
                    Some("2024-06-02"),
                    Some("[a, b]"),
                ]),
            ],
            next: Some("1".into()),
        },
        Page {
            columns: columns.clone(),
            rows: vec![row(&[None, None, None, None, None, None])],
            next: Some("2".into()),
        },
        Page {
            columns,
            rows: vec![row(&[
                Some("-3"),
                Some("1e3"),
                Some("false"),
                Some("2024-06-01 00:00:01 UTC"),
                Some("1970-01-01"),
                Some("[]"),
            ])],
            next: None,
        },
    ];
    let (engine, fake) = engine(
        vec![State::Queued, State::Running, State::Succeeded],
        pages,
        60,
    );
    let out = engine.run(&request()).await.unwrap();
    assert_eq!(
        out.rows(),
        3,
        "the header row of the first page is not data"
    );
    let b = &out.batches[0];
    let n = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(n.iter().collect::<Vec<_>>(), vec![Some(1), None, Some(-3)]);
    let x = b.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(
        x.iter().collect::<Vec<_>>(),
        vec![Some(0.5), None, Some(1000.0)]
    );
    let at = b
        .column(3)
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .unwrap();
    assert_eq!(at.value(0), 1_717_200_000_123);
    assert_eq!(at.value(2), 1_717_200_001_000);
    let d = b.column(4).as_any().downcast_ref::<Date32Array>().unwrap();
    assert_eq!((d.value(0), d.value(2)), (19_876, 0));
    assert_eq!(b.schema().field(5).data_type(), &DataType::Utf8);
    let stats = out.athena.unwrap();
    assert_eq!(
        (stats.scanned_bytes, stats.billed_bytes()),
        (123_456_789, 123_456_789)
    );
    let calls = fake.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 4);
    assert!(
        calls[0].starts_with("start ") && calls[0].len() == 6 + 32,
        "{calls:?}"
    );
    assert_eq!(calls[1..], ["page 0", "page 1", "page 2"]);
    assert_eq!(stats.read, ResultRead::Pages(3));
}

#[tokio::test]
async fn a_result_larger_than_a_page_is_read_from_the_result_object() {
    let columns = vec![
        ("n".to_string(), "bigint".to_string()),
        ("name".to_string(), "varchar".to_string()),
    ];
    let first = Page {
        columns,
        rows: vec![
            row(&[Some("n"), Some("name")]),
            row(&[Some("1"), Some("a")]),
        ],
        next: Some("1".into()),
    };
    let csv = "\"n\",\"name\"\n\"1\",\"a\"\n\"2\",\n,\"say \"\"hi\"\"\"\n";
    let location = "s3://results/q-1.csv".to_string();
    let (engine, fake) = with_fake(
        Fake {
            states: Mutex::new(vec![State::Succeeded]),
            pages: vec![first],
            object: Some((location.clone(), csv.as_bytes().to_vec())),
            ..Fake::default()
        },
        60,
    );
    let out = engine.run(&request()).await.unwrap();
    let calls = fake.calls.lock().unwrap().clone();
    assert_eq!(calls[1..], ["page 0", "get s3://results/q-1.csv"]);
    assert_eq!(out.athena.unwrap().read, ResultRead::Object(location));
    let b = &out.batches[0];
    let n = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(n.iter().collect::<Vec<_>>(), vec![Some(1), Some(2), None]);
    let name = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(
        name.iter().collect::<Vec<_>>(),
        vec![Some("a"), None, Some("say \"hi\"")]
    );
}

#[tokio::test]
async fn a_row_limit_stops_reading_pages_and_the_result_object() {
    let columns = vec![("n".to_string(), "bigint".to_string())];
    let page = |rows: &[&str], next: Option<&str>| Page {
        columns: columns.clone(),
        rows: rows.iter().map(|r| row(&[Some(r)])).collect(),
        next: next.map(str::to_string),
    };
    let numbers = |out: &QueryOutput| {
        let b = &out.batches[0];
        let n = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        n.iter().map(Option::unwrap).collect::<Vec<_>>()
    };
    let limited = EngineRequest {
        row_limit: Some(3),
        ..request()
    };
    // Pages: the third page is never asked for.
    let (engine, fake) = with_fake(
        Fake {
            states: Mutex::new(vec![State::Succeeded]),
            pages: vec![
                page(&["n", "1", "2"], Some("1")),
                page(&["3", "4"], Some("2")),
                page(&["5"], None),
            ],
            ..Fake::default()
        },
        60,
    );
    let out = engine.run(&limited).await.unwrap();
    assert_eq!(numbers(&out), [1, 2, 3]);
    assert_eq!(fake.calls.lock().unwrap()[1..], ["page 0", "page 1"]);
    // The result object: read up to the header and three rows.
    let csv = "\"n\"\n\"1\"\n\"2\"\n\"3\"\n\"4\"\n\"5\"\n";
    let (engine, _) = with_fake(
        Fake {
            states: Mutex::new(vec![State::Succeeded]),
            pages: vec![page(&["n", "1"], Some("1"))],
            object: Some(("s3://results/q-1.csv".into(), csv.as_bytes().to_vec())),
            ..Fake::default()
        },
        60,
    );
    assert_eq!(numbers(&engine.run(&limited).await.unwrap()), [1, 2, 3]);
}

fn throttled() -> EngineError {
    EngineError::Aws {
        action: "StartQueryExecution",
        message: "TooManyRequestsException: Rate exceeded".into(),
        fault: Fault::Plugin,
    }
}

#[tokio::test]
async fn throttling_and_transient_failures_run_again_with_a_new_token() {
    let (engine, fake) = with_fake(
        Fake {
            states: Mutex::new(vec![State::Succeeded]),
            pages: vec![Page::default()],
            start_errors: Mutex::new(vec![throttled(), throttled()]),
            ..Fake::default()
        },
        60,
    );
    let out = engine.run(&request()).await.unwrap();
    assert_eq!(out.athena.unwrap().retries, 2);
    let starts: Vec<String> = fake
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.starts_with("start"))
        .cloned()
        .collect();
    assert_eq!(starts.len(), 3);
    assert!(
        starts[0] != starts[1] && starts[1] != starts[2],
        "{starts:?}"
    );

    let (engine, _) = with_fake(
        Fake {
            states: Mutex::new(vec![State::Failed, State::Succeeded]),
            pages: vec![Page::default()],
            fail_reason: Some("HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split s3://b/k (SlowDown: Please reduce your request rate)".into()),
            ..Fake::default()
        },
        60,
    );
    assert_eq!(
        engine
            .run(&request())
            .await
            .unwrap()
            .athena
            .unwrap()
            .retries,
        1
    );
}

#[tokio::test]
async fn retries_are_bounded_and_other_failures_fail_at_once() {
    let (busy, fake) = with_fake(
        Fake {
            states: Mutex::new(vec![State::Succeeded]),
            start_errors: Mutex::new((0..5).map(|_| throttled()).collect()),
            ..Fake::default()
        },
        60,
    );
    let e = busy.run(&request()).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "AWS StartQueryExecution failed: TooManyRequestsException: Rate exceeded"
    );
    assert_eq!(
        fake.calls.lock().unwrap().len(),
        4,
        "one run and three retries"
    );

    let (failing, fake) = engine(vec![State::Failed], Vec::new(), 60);
    failing.run(&request()).await.unwrap_err();
    let starts = fake
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.starts_with("start"))
        .count();
    assert_eq!(starts, 1, "a missing table is not run again");
}

fn health_with(tables: Option<&[&str]>, denied: bool) -> AthenaEngine {
    with_fake(
        Fake {
            states: Mutex::new(vec![State::Succeeded]),
            tables: tables.map(|t| t.iter().map(|n| n.to_string()).collect()),
            denied,
            ..Fake::default()
        },
        60,
    )
    .0
}

fn lake_tables(version: SourceVersion) -> Vec<TableRef> {
    [Source::VpcFlow, Source::ShFindings]
        .into_iter()
        .map(|source| TableRef {
            source,
            version,
            home_region: "us-east-1".into(),
            names: Default::default(),
        })
        .collect()
}

const V1_TABLES: &[&str] = &[
    "amazon_security_lake_table_us_east_1_vpc_flow_1_0",
    "amazon_security_lake_table_us_east_1_sh_findings_1_0",
];

#[tokio::test]
async fn health_names_the_missing_database_table_or_grant() {
    let e = health_with(None, false)
        .check(&lake_tables(SourceVersion::V2))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "the Glue database amazon_security_lake_glue_db_us_east_1 does not exist in us-east-1; Security Lake creates it in each region it collects in: check the rollup region setting and that Security Lake is enabled there");
    let e = health_with(Some(V1_TABLES), false)
        .check(&lake_tables(SourceVersion::V2))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "the table amazon_security_lake_table_us_east_1_vpc_flow_2_0 was not found in the Glue database amazon_security_lake_glue_db_us_east_1; the database has the source version 1 table of VPC_FLOW: set the source version setting to 1");
    let e = health_with(Some(&V1_TABLES[..1]), false)
        .check(&lake_tables(SourceVersion::V1))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "the table amazon_security_lake_table_us_east_1_sh_findings_1_0 was not found in the Glue database amazon_security_lake_glue_db_us_east_1; enable the SH_FINDINGS source in Security Lake for us-east-1, or choose the rollup region whose database has it");
    let e = health_with(Some(&[]), true)
        .check(&lake_tables(SourceVersion::V1))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "access denied on the Glue table amazon_security_lake_glue_db_us_east_1.amazon_security_lake_table_us_east_1_vpc_flow_1_0: grant arn:aws:iam::111122223333:user/test Lake Formation SELECT and DESCRIBE on the table amazon_security_lake_table_us_east_1_vpc_flow_1_0 in the database amazon_security_lake_glue_db_us_east_1 (Security Lake subscribers get these grants with query access)");
    let found = health_with(Some(V1_TABLES), false)
        .check(&lake_tables(SourceVersion::V1))
        .await
        .unwrap();
    assert_eq!(found, "Athena in us-east-1 as arn:aws:iam::111122223333:user/test, workgroup primary (results to s3://results/), amazon_security_lake_glue_db_us_east_1 (sh_findings 1.0, vpc_flow 1.0)");
}

#[tokio::test]
async fn health_names_the_credentials_workgroup_and_database_problems() {
    let check = |fake: Fake| async move {
        let (engine, _) = with_fake(fake, 60);
        let e = engine.check(&lake_tables(SourceVersion::V1)).await;
        e.unwrap_err().to_string()
    };
    let expired = EngineError::Aws {
        action: "GetCallerIdentity",
        message: "ExpiredToken: The security token included in the request is expired".into(),
        fault: Fault::User,
    };
    let e = check(Fake {
        identity_error: Some(expired),
        ..Fake::default()
    });
    assert_eq!(e.await, "the AWS credentials do not work (AWS GetCallerIdentity failed: ExpiredToken: The security token included in the request is expired); check the authentication method, the keys or profile, and the role to assume");
    let workgroup = |w: Option<Workgroup>| Fake {
        workgroup: Some(w),
        ..Fake::default()
    };
    assert_eq!(check(workgroup(None)).await, "the Athena workgroup primary does not exist in us-east-1; create it, or set the workgroup setting to one that exists (primary is the default)");
    let disabled = Workgroup {
        enabled: false,
        output_location: Some("s3://results/".into()),
    };
    assert_eq!(
        check(workgroup(Some(disabled))).await,
        "the Athena workgroup primary is disabled; enable it or choose another"
    );
    let no_results = Workgroup {
        enabled: true,
        output_location: None,
    };
    assert_eq!(check(workgroup(Some(no_results))).await, "the Athena workgroup primary has no query result location and the datasource sets none; set outputLocation (s3://…) or give the workgroup a result location");
    let e = check(Fake {
        tables_denied: true,
        ..Fake::default()
    });
    assert_eq!(e.await, "access denied listing the tables of the Glue database amazon_security_lake_glue_db_us_east_1: grant arn:aws:iam::111122223333:user/test Lake Formation DESCRIBE on the database amazon_security_lake_glue_db_us_east_1");
    // A table the settings name.
    let mut tables = lake_tables(SourceVersion::V1);
    tables[0].names.vpc_flow = Some("flows".into());
    let (engine, _) = with_fake(
        Fake {
            tables: Some(V1_TABLES.iter().map(|n| n.to_string()).collect()),
            ..Fake::default()
        },
        60,
    );
    assert_eq!(engine.check(&tables).await.unwrap_err().to_string(), "the table flows (setting `tables.vpc_flow`) was not found in the Glue database amazon_security_lake_glue_db_us_east_1; set it to a table of amazon_security_lake_glue_db_us_east_1, or leave it empty to let Lakewatch find the table");
}

#[tokio::test]
async fn the_resolution_is_kept_and_the_health_check_asks_again() {
    let (engine, fake) = with_fake(
        Fake {
            tables: Some(V1_TABLES.iter().map(|n| n.to_string()).collect()),
            ..Fake::default()
        },
        60,
    );
    let names = crate::lake::LakeNames::default();
    let wanted = Wanted {
        names: &names,
        home_region: "us-east-1",
        version: None,
        refresh: false,
    };
    for _ in 0..2 {
        let r = engine.resolve(wanted).await.unwrap().unwrap();
        assert_eq!(r.version, SourceVersion::V1);
    }
    assert_eq!(
        fake.calls.lock().unwrap().clone(),
        ["tables amazon_security_lake_glue_db_us_east_1"]
    );
    let refresh = Wanted {
        refresh: true,
        ..wanted
    };
    engine.resolve(refresh).await.unwrap();
    assert_eq!(fake.calls.lock().unwrap().len(), 2);
    // Nothing found is kept too (for a minute): panels do not search Glue again each.
    let (engine, fake) = with_fake(Fake::default(), 60);
    for _ in 0..3 {
        let e = engine.resolve(wanted).await.unwrap_err();
        assert!(matches!(e, DiscoveryError::NothingFound { .. }), "{e}");
    }
    assert_eq!(
        fake.calls.lock().unwrap().clone(),
        ["tables amazon_security_lake_glue_db_us_east_1", "databases"]
    );
}

#[tokio::test]
async fn a_failed_query_quotes_athenas_reason() {
    let (engine, _) = engine(vec![State::Running, State::Failed], Vec::new(), 60);
    let e = engine.run(&request()).await.unwrap_err();
    assert_eq!(e.fault(), Fault::User);
    assert_eq!(
        e.to_string(),
        "Athena could not run the query: TABLE_NOT_FOUND: line 3:6: Table 'x' does not exist. If a table or column is missing, check the datasource's source version and rollup region; if access is denied, grant the role Lake Formation SELECT and DESCRIBE on the Security Lake tables"
    );
}

#[tokio::test]
async fn a_bad_cell_names_column_type_and_value() {
    let pages = vec![Page {
        columns: vec![("bytes".into(), "bigint".into())],
        rows: vec![row(&[Some("bytes")]), row(&[Some("12x")])],
        next: None,
    }];
    let (engine, _) = engine(vec![State::Succeeded], pages, 60);
    assert_eq!(
        engine.run(&request()).await.unwrap_err().to_string(),
        "Athena returned \"12x\" in column bytes of type bigint, which Lakewatch cannot read as that type"
    );
}

#[tokio::test]
async fn a_dropped_request_stops_its_query() {
    let (engine, fake) = engine(vec![State::Running], Vec::new(), 60);
    let request = request();
    let run = engine.run(&request);
    assert!(tokio::time::timeout(Duration::from_millis(300), run)
        .await
        .is_err());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(fake.calls.lock().unwrap().contains(&"stop q-1".to_string()));
}

#[test]
fn tokens_are_stable_per_sql_and_minute() {
    assert_eq!(request_token("SELECT 1", 5), request_token("SELECT 1", 5));
    assert_ne!(request_token("SELECT 1", 5), request_token("SELECT 1", 6));
    assert_ne!(request_token("SELECT 1", 5), request_token("SELECT 2", 5));
    assert_eq!(request_token("SELECT 1", 5).len(), 32);
}
