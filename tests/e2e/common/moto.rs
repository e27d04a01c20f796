//! moto in server mode as the AWS API peer: started per test on a free 127.0.0.1 port from the
//! `.venv` that `scripts/test` installs, stopped when dropped. Also what the Athena tests share:
//! the datasource settings on moto, the results they seed, and the query executions moto saw.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lakewatch::frame::DecodedFrame;
use lakewatch::grafana_host::PluginProcess;
use lakewatch::pipeline::{prepare, PanelRequest};
use lakewatch::settings::Settings;
use lakewatch::sql::Dialect;
use serde_json::{json, Value};

use super::query;

/// A seeded Athena result: columns as (name, Athena type), then rows of cells (None = NULL).
pub type AthenaResult<'a> = (Vec<(&'a str, &'a str)>, Vec<Vec<Option<String>>>);

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub address: String,
}

/// The account moto gives to unknown access keys.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// The access key of the Athena tests' datasources and of their own SDK clients (moto maps it to
/// [`DEFAULT_ACCOUNT`]).
pub const KEY: &str = "AKIDLAKEWATCHTEST";
/// The region of the Athena tests' datasources and SDK clients.
pub const REGION: &str = "us-east-1";
/// The start of the Athena tests' panel range: the seeded results' time buckets fall in it.
pub const FROM: &str = "2024-06-10T00:00:00Z";
/// The end of the Athena tests' panel range (three hours after [`FROM`]).
pub const TO: &str = "2024-06-10T03:00:00Z";

/// `settings` with each top-level key of `extra` set on it (a key in both takes `extra`'s value).
pub fn merged(mut settings: Value, extra: Value) -> Value {
    if let (Some(s), Some(extra)) = (settings.as_object_mut(), extra.as_object()) {
        s.extend(extra.clone());
    }
    settings
}

/// Settings of an Athena datasource on `moto`, in [`REGION`] with the keys [`KEY`] (moto checks no
/// secret), then `extra` merged on top.
pub fn athena_settings(moto: &Moto, extra: Value) -> Value {
    let base = json!({
        "engine": "athena", "defaultRegion": REGION, "endpoint": moto.url(), "authType": "keys",
        "$secure": {"accessKey": KEY, "secretKey": "not-checked-by-moto"}
    });
    merged(base, extra)
}

/// [`athena_settings`] with source version 2 and the `primary` workgroup, then `extra` on top.
pub fn athena_v2_settings(moto: &Moto, extra: Value) -> Value {
    let v2 = json!({"sourceVersion": "2", "workgroup": "primary"});
    athena_settings(moto, merged(v2, extra))
}

/// A result row's cells; the text `NULL` is a NULL cell.
pub fn cells(values: &[&str]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|v| (*v != "NULL").then(|| v.to_string()))
        .collect()
}

/// The hour `h` hours after [`FROM`], in epoch milliseconds as Athena returns a time bucket.
pub fn hour(h: i64) -> String {
    (super::t(FROM).timestamp_millis() + h * 3_600_000).to_string()
}

/// The empty result of the health check's one-row flow search (its probe query).
pub fn probe_result() -> AthenaResult<'static> {
    (vec![("time", "timestamp")], Vec::new())
}

/// A flow-volume result grouped by account: rows of (time bucket, account, bytes).
pub fn flow_volume_result(rows: Vec<Vec<Option<String>>>) -> AthenaResult<'static> {
    (
        vec![
            ("time_bucket", "bigint"),
            ("account", "varchar"),
            ("bytes", "bigint"),
        ],
        rows,
    )
}

/// A flow-volume panel grouped by account over [`FROM`]..[`TO`] through the plugin: its error
/// (empty when it worked).
pub async fn flow_panel(p: &PluginProcess, settings: &Value) -> String {
    let q = json!({"kind": "flow_volume", "group_by": ["account"]});
    let answer = p
        .query(settings, &[query("A", q, FROM, TO, 60_000)], &[])
        .await
        .unwrap();
    answer["A"].error.clone()
}

/// Asserts that exactly the partition-pruned Athena SQL of `q`'s plan (source version 2, hourly
/// buckets over [`FROM`]..[`TO`]) ran: it is the frame's executed query and reached Athena once,
/// and it reads `table`. Returns the SQL for further checks.
pub async fn assert_planned_sql_ran_once(
    moto: &Moto,
    frame: &DecodedFrame,
    q: &Value,
    table: &str,
) -> String {
    let settings = Settings::from_json(&json!({"sourceVersion": "2"})).unwrap();
    let bytes = serde_json::to_vec(q).unwrap();
    let want = prepare(
        &settings,
        Dialect::Athena,
        &PanelRequest {
            ref_id: "A",
            json: &bytes,
            from: super::t(FROM),
            to: super::t(TO),
            interval_ms: 3_600_000,
            max_data_points: 100_000,
        },
    )
    .unwrap()
    .sql;
    assert!(want.contains(&format!("\"{table}\"")), "{want}");
    assert!(want.contains("\"accountid\" = '111122223333'"), "{want}");
    assert_eq!(frame.meta["executedQueryString"], json!(want));
    assert_eq!(
        moto.athena_executions(KEY).await,
        vec![(want.clone(), "SUCCEEDED".to_string())]
    );
    want
}

fn moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    assert!(
        p.is_file(),
        "{} is missing: run scripts/test once (it installs moto into .venv)",
        p.display()
    );
    p
}

impl Moto {
    /// Starts a server and waits until it answers.
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto {
            child,
            address: format!("127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while moto.request("GET", "/moto-api/", None).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not answer"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// The endpoint URL for the SDK.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A plain HTTP/1.1 request; returns (status, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(&self.address)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let body = body.map(Value::to_string).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        )?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map_or("", |x| x.1).to_string();
        Ok((status, body))
    }

    /// Queues Athena results for an account and region: the N-th query started after this gets
    /// the N-th result. Each result: (columns as (name, type), rows of cells, None = NULL).
    pub fn seed_athena(&self, account: &str, region: &str, results: &[AthenaResult<'_>]) {
        let results: Vec<Value> = results
            .iter()
            .map(|(columns, rows)| {
                let header: Vec<Value> = columns
                    .iter()
                    .map(|(n, _)| serde_json::json!({"VarCharValue": n}))
                    .collect();
                let mut all = vec![serde_json::json!({"Data": header})];
                for row in rows {
                    let data: Vec<Value> = row
                        .iter()
                        .map(|c| match c {
                            Some(v) => serde_json::json!({"VarCharValue": v}),
                            None => serde_json::json!({}),
                        })
                        .collect();
                    all.push(serde_json::json!({"Data": data}));
                }
                let info: Vec<Value> = columns
                    .iter()
                    .map(|(n, t)| {
                        serde_json::json!({"CatalogName": "hive", "SchemaName": "", "TableName": "",
                            "Name": n, "Label": n, "Type": t, "Precision": 0, "Scale": 0,
                            "Nullable": "UNKNOWN", "CaseSensitive": false})
                    })
                    .collect();
                serde_json::json!({"rows": all, "column_info": info})
            })
            .collect();
        let (status, body) = self
            .request(
                "POST",
                "/moto-api/static/athena/query-results",
                Some(&serde_json::json!({"account_id": account, "region": region, "results": results})),
            )
            .unwrap();
        assert_eq!(status, 201, "{body}");
    }

    /// The SDK configuration of a client of this server, as the tests' own AWS peer (moto maps an
    /// unknown access key to [`DEFAULT_ACCOUNT`]).
    pub async fn sdk_config(&self, access_key: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(self.url())
            .credentials_provider(aws_credential_types::Credentials::new(
                access_key, "x", None, None, "test",
            ))
            .load()
            .await
    }

    /// Queues, for [`DEFAULT_ACCOUNT`] in [`REGION`], the result of the health check's probe and
    /// then that of one flow-volume panel (account 111122223333 sent 5 bytes in the hour of
    /// [`FROM`]).
    pub fn seed_probe_and_flow_panel(&self) {
        self.seed_athena(
            DEFAULT_ACCOUNT,
            REGION,
            &[
                probe_result(),
                flow_volume_result(vec![cells(&[&hour(0), "111122223333", "5"])]),
            ],
        );
    }

    /// Every Athena query execution this server saw as the account of `access_key`, oldest
    /// first, read back through the real SDK.
    async fn executions(&self, access_key: &str) -> Vec<aws_sdk_athena::types::QueryExecution> {
        let client = aws_sdk_athena::Client::new(&self.sdk_config(access_key).await);
        let ids = client.list_query_executions().send().await.unwrap();
        let mut out = Vec::new();
        for id in ids.query_execution_ids() {
            let e = client
                .get_query_execution()
                .query_execution_id(id)
                .send()
                .await
                .unwrap();
            out.extend(e.query_execution().cloned());
        }
        out
    }

    /// Every Athena query execution of `access_key`'s account, oldest first: (SQL, state).
    pub async fn athena_executions(&self, access_key: &str) -> Vec<(String, String)> {
        let state = |e: &aws_sdk_athena::types::QueryExecution| {
            e.status()
                .and_then(|s| s.state())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default()
        };
        self.executions(access_key)
            .await
            .iter()
            .map(|e| (e.query().unwrap_or_default().to_string(), state(e)))
            .collect()
    }

    /// The data catalog each Athena query execution of `access_key`'s account ran in, oldest
    /// first.
    pub async fn athena_catalogs(&self, access_key: &str) -> Vec<Option<String>> {
        self.executions(access_key)
            .await
            .iter()
            .map(|e| {
                let context = e.query_execution_context();
                context.and_then(|c| c.catalog()).map(str::to_string)
            })
            .collect()
    }

    /// Creates a Glue database with these (column-less) tables, as the account of `access_key`.
    pub async fn seed_glue(&self, access_key: &str, database: &str, tables: &[&str]) {
        let glue = aws_sdk_glue::Client::new(&self.sdk_config(access_key).await);
        glue.create_database()
            .database_input(
                aws_sdk_glue::types::DatabaseInput::builder()
                    .name(database)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        for table in tables {
            self.seed_table(access_key, database, table).await;
        }
    }

    /// Creates a (column-less) Glue table, as the account of `access_key` (the database must
    /// exist).
    pub async fn seed_table(&self, access_key: &str, database: &str, table: &str) {
        aws_sdk_glue::Client::new(&self.sdk_config(access_key).await)
            .create_table()
            .database_name(database)
            .table_input(
                aws_sdk_glue::types::TableInput::builder()
                    .name(table)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    /// Creates a Glue table whose data lives at `location` (`s3://…/`), as the account of
    /// `access_key` (the database must exist).
    pub async fn seed_table_at(
        &self,
        access_key: &str,
        database: &str,
        table: &str,
        location: &str,
    ) {
        let glue = aws_sdk_glue::Client::new(&self.sdk_config(access_key).await);
        glue.create_table()
            .database_name(database)
            .table_input(
                aws_sdk_glue::types::TableInput::builder()
                    .name(table)
                    .storage_descriptor(
                        aws_sdk_glue::types::StorageDescriptor::builder()
                            .location(location)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    /// Writes an S3 object of `size` bytes, as the account of `access_key`.
    pub async fn put_object(&self, access_key: &str, bucket: &str, key: &str, size: usize) {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config(access_key).await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(vec![7u8; size].into())
            .send()
            .await
            .unwrap();
    }

    /// Creates an S3 bucket, as the account of `access_key`.
    pub async fn create_bucket(&self, access_key: &str, bucket: &str) {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config(access_key).await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
    }

    /// Holds Athena queries in their current state for `times` GetQueryExecution calls.
    pub fn hold_athena_queries(&self, times: u64) {
        let (status, body) = self
            .request(
                "POST",
                "/moto-api/state-manager/set-transition",
                Some(&serde_json::json!({"model_name": "athena::execution",
                    "transition": {"progression": "manual", "times": times}})),
            )
            .unwrap();
        assert!(status < 300, "{body}");
    }

    /// Lets Athena queries succeed at once again.
    pub fn release_athena_queries(&self) {
        let _ = self.request(
            "POST",
            "/moto-api/state-manager/unset-transition",
            Some(&serde_json::json!({"model_name": "athena::execution"})),
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
