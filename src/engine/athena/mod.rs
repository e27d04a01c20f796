//! The Athena engine: StartQueryExecution with an idempotency token, polling with backoff, a
//! stop when the panel's request goes away or the query outlives its timeout, GetQueryResults
//! page by page, and Athena's typed columns decoded straight into Arrow arrays.
//!
//! The AWS calls sit behind [`AthenaApi`] so that what the API server used in tests cannot
//! produce (FAILED queries, several result pages) is tested with a fake too.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::types::{
    QueryExecutionState, ResultConfiguration, ResultReuseByAgeConfiguration,
    ResultReuseConfiguration,
};
use chrono::NaiveDateTime;

use super::result_csv::{RecordEnds, ResultCsv};
use super::{
    AthenaStats, Engine, EngineError, EngineRequest, Fault, QueryOutput, ResultRead, ScanStats,
};
use crate::cache::CacheOutcome;
use crate::lake::catalog::{Catalog, GlueTable, TargetTable};
use crate::lake::discovery::{self, DiscoveryError, GlueCatalog, Resolution, Wanted};
use crate::lake::estimate::{self, FolderTree, ScanEstimate};
use crate::plan::{PartitionFilter, TableRef};
use crate::settings::AthenaSettings;
use crate::sql::Dialect;

/// The state of a query execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for capacity.
    Queued,
    /// Running.
    Running,
    /// Done; results can be read.
    Succeeded,
    /// Failed; the reason says why.
    Failed,
    /// Stopped.
    Cancelled,
}

/// What GetQueryExecution says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The state.
    pub state: State,
    /// Athena's reason for FAILED/CANCELLED.
    pub reason: Option<String>,
    /// Bytes scanned.
    pub scanned_bytes: u64,
    /// Engine time, ms.
    pub engine_ms: u64,
    /// Queue time, ms.
    pub queue_ms: u64,
    /// Where Athena wrote the result object (`s3://…/<id>.csv`).
    pub result_location: Option<String>,
}

/// One page of GetQueryResults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Column names and Athena types.
    pub columns: Vec<(String, String)>,
    /// Rows of text cells (None: NULL). The first page starts with the header row.
    pub rows: Vec<Vec<Option<String>>>,
    /// The token of the next page.
    pub next: Option<String>,
}

/// The Athena calls the engine makes.
#[async_trait::async_trait]
pub trait AthenaApi: FolderTree + GlueCatalog + Send + Sync {
    /// StartQueryExecution; returns the execution id.
    async fn start(&self, sql: &str, token: &str) -> Result<String, EngineError>;
    /// GetQueryExecution.
    async fn status(&self, id: &str) -> Result<Status, EngineError>;
    /// GetQueryResults from a page token.
    async fn page(&self, id: &str, next: Option<String>) -> Result<Page, EngineError>;
    /// StopQueryExecution.
    async fn stop(&self, id: &str) -> Result<(), EngineError>;
    /// STS GetCallerIdentity: the ARN the credentials act as.
    async fn identity(&self) -> Result<String, EngineError>;
    /// GetWorkGroup: None when it does not exist.
    async fn workgroup(&self, name: &str) -> Result<Option<Workgroup>, EngineError>;
    /// Glue GetTable: whether a table can be described.
    async fn glue_table(&self, database: &str, table: &str) -> Result<TableAccess, EngineError>;
    /// S3 GetObject of a query's result object (`s3://bucket/key`), read as it streams in and
    /// stopped after `max_records` records (the header counts as one) when given.
    async fn result_object(
        &self,
        location: &str,
        max_records: Option<usize>,
    ) -> Result<Vec<u8>, EngineError>;
    /// Glue GetTable: the table's storage location (`s3://…`), None when it has none or the
    /// table cannot be described. A resource link's location is its target's.
    async fn table_location(
        &self,
        database: &str,
        table: &str,
    ) -> Result<Option<String>, EngineError>;
}

/// Whether the credentials can describe a Glue table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableAccess {
    /// It exists and can be described.
    Found,
    /// No such table.
    Missing,
    /// Glue (Lake Formation) denied access; the message says so.
    Denied(String),
}

/// What CheckHealth needs to know of a workgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workgroup {
    /// ENABLED (else DISABLED).
    pub enabled: bool,
    /// The workgroup's query result location, if it has one.
    pub output_location: Option<String>,
}

fn aws_error<E: std::error::Error>(action: &'static str, e: E) -> EngineError {
    let message = DisplayErrorContext(&e).to_string();
    let fault = if message.contains("dispatch failure") || message.contains("io error") {
        // The endpoint could not be reached: network or endpoint setting.
        Fault::User
    } else if message.contains("AccessDenied")
        || message.contains("not authorized")
        || message.contains("InvalidRequest")
        || message.contains("UnrecognizedClient")
        || message.contains("credentials")
    {
        Fault::User
    } else {
        Fault::Plugin
    };
    EngineError::Aws {
        action,
        message,
        fault,
    }
}

/// The SDK clients as an [`AthenaApi`].
pub struct SdkAthena {
    client: aws_sdk_athena::Client,
    sts: aws_sdk_sts::Client,
    glue: aws_sdk_glue::Client,
    s3: aws_sdk_s3::Client,
    settings: AthenaSettings,
}

impl SdkAthena {
    /// Clients for the settings.
    pub fn new(config: &aws_config::SdkConfig, settings: AthenaSettings) -> Self {
        SdkAthena {
            client: aws_sdk_athena::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            glue: aws_sdk_glue::Client::new(config),
            // Path-style addressing: endpoint overrides (VPC endpoints, test servers) are
            // often addresses that bucket subdomains cannot be put in front of.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config)
                    .force_path_style(settings.endpoint.is_some())
                    .build(),
            ),
            settings,
        }
    }
}

impl SdkAthena {
    /// Glue GetTable: the table, or why there is none (missing, or denied by Lake Formation).
    async fn get_table(
        &self,
        catalog_id: Option<&str>,
        database: &str,
        table: &str,
    ) -> Result<Result<aws_sdk_glue::types::Table, TableAccess>, EngineError> {
        match self
            .glue
            .get_table()
            .set_catalog_id(catalog_id.map(str::to_string))
            .database_name(database)
            .name(table)
            .send()
            .await
        {
            Ok(out) => Ok(out.table.ok_or(TableAccess::Missing)),
            Err(e) => match e.as_service_error() {
                Some(s) if s.is_entity_not_found_exception() => Ok(Err(TableAccess::Missing)),
                // Lake Formation's denial is not a modelled GetTable error: read its code.
                Some(s) if s.meta().code() == Some("AccessDeniedException") => Ok(Err(
                    TableAccess::Denied(s.meta().message().unwrap_or("").to_string()),
                )),
                _ => Err(aws_error("GetTable", e)),
            },
        }
    }
}

#[async_trait::async_trait]
impl AthenaApi for SdkAthena {
    async fn start(&self, sql: &str, token: &str) -> Result<String, EngineError> {
        let mut call = self
            .client
            .start_query_execution()
            .query_string(sql)
            .work_group(&self.settings.workgroup)
            .client_request_token(token);
        if let Some(out) = &self.settings.output_location {
            call = call
                .result_configuration(ResultConfiguration::builder().output_location(out).build());
        }
        if let Some(minutes) = self.settings.result_reuse_minutes {
            let by_age = ResultReuseByAgeConfiguration::builder()
                .enabled(true)
                .max_age_in_minutes(minutes as i32)
                .build();
            call = call.result_reuse_configuration(
                ResultReuseConfiguration::builder()
                    .result_reuse_by_age_configuration(by_age)
                    .build(),
            );
        }
        let out = call
            .send()
            .await
            .map_err(|e| aws_error("StartQueryExecution", e))?;
        out.query_execution_id()
            .map(str::to_string)
            .ok_or_else(|| EngineError::Execution("Athena returned no query execution id".into()))
    }

    async fn status(&self, id: &str) -> Result<Status, EngineError> {
        let out = self
            .client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| aws_error("GetQueryExecution", e))?;
        let exec = out.query_execution();
        let status = exec.and_then(|e| e.status());
        let state = match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Queued) => State::Queued,
            Some(QueryExecutionState::Running) => State::Running,
            Some(QueryExecutionState::Succeeded) => State::Succeeded,
            Some(QueryExecutionState::Failed) => State::Failed,
            Some(QueryExecutionState::Cancelled) => State::Cancelled,
            _ => State::Queued,
        };
        let stats = exec.and_then(|e| e.statistics());
        let non_negative = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
        Ok(Status {
            state,
            reason: status
                .and_then(|s| {
                    s.athena_error()
                        .and_then(|e| e.error_message())
                        .or(s.state_change_reason())
                })
                .map(str::to_string),
            scanned_bytes: non_negative(stats.and_then(|s| s.data_scanned_in_bytes())),
            engine_ms: non_negative(stats.and_then(|s| s.engine_execution_time_in_millis())),
            queue_ms: non_negative(stats.and_then(|s| s.query_queue_time_in_millis())),
            result_location: exec
                .and_then(|e| e.result_configuration())
                .and_then(|r| r.output_location())
                .map(str::to_string),
        })
    }

    async fn page(&self, id: &str, next: Option<String>) -> Result<Page, EngineError> {
        let out = self
            .client
            .get_query_results()
            .query_execution_id(id)
            .max_results(PAGE_ROWS as i32)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| aws_error("GetQueryResults", e))?;
        let set = out.result_set();
        let columns = set
            .and_then(|s| s.result_set_metadata())
            .map(|m| {
                m.column_info()
                    .iter()
                    .map(|c| (c.name().to_string(), c.r#type().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let rows = set
            .map(|s| {
                s.rows()
                    .iter()
                    .map(|r| {
                        r.data()
                            .iter()
                            .map(|d| d.var_char_value().map(str::to_string))
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Page {
            columns,
            rows,
            next: out.next_token().map(str::to_string),
        })
    }

    async fn stop(&self, id: &str) -> Result<(), EngineError> {
        self.client
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| aws_error("StopQueryExecution", e))?;
        Ok(())
    }

    async fn identity(&self) -> Result<String, EngineError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| aws_error("GetCallerIdentity", e))?;
        Ok(out.arn().unwrap_or("an unnamed identity").to_string())
    }

    async fn workgroup(&self, name: &str) -> Result<Option<Workgroup>, EngineError> {
        let out = match self.client.get_work_group().work_group(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = aws_error("GetWorkGroup", e);
                // Athena says a missing workgroup with InvalidRequestException.
                return match &e {
                    EngineError::Aws { message, .. } if message.contains("not found") => Ok(None),
                    _ => Err(e),
                };
            }
        };
        Ok(out.work_group().map(|w| Workgroup {
            enabled: w.state().is_none_or(|s| s.as_str() == "ENABLED"),
            output_location: w
                .configuration()
                .and_then(|c| c.result_configuration())
                .and_then(|r| r.output_location())
                .map(str::to_string),
        }))
    }

    async fn table_location(
        &self,
        database: &str,
        table: &str,
    ) -> Result<Option<String>, EngineError> {
        let mut found = self.get_table(None, database, table).await?.ok();
        // A resource link has no storage of its own: its target (perhaps in another account's
        // catalogue) has.
        if let Some(target) = found.as_ref().and_then(|t| t.target_table()) {
            let (Some(db), Some(name)) = (target.database_name(), target.name()) else {
                return Ok(None);
            };
            found = self.get_table(target.catalog_id(), db, name).await?.ok();
        }
        Ok(found.and_then(|t| {
            t.storage_descriptor()
                .and_then(|d| d.location())
                .filter(|l| l.starts_with("s3://"))
                .map(str::to_string)
        }))
    }

    async fn glue_table(&self, database: &str, table: &str) -> Result<TableAccess, EngineError> {
        Ok(match self.get_table(None, database, table).await? {
            Ok(_) => TableAccess::Found,
            Err(access) => access,
        })
    }

    async fn result_object(
        &self,
        location: &str,
        max_records: Option<usize>,
    ) -> Result<Vec<u8>, EngineError> {
        let (bucket, key) = location
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .ok_or_else(|| {
                EngineError::Execution(format!(
                    "Athena's result location {location} is not s3://bucket/key"
                ))
            })?;
        let out = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| aws_error("GetObject", e))?;
        let mut body = out.body;
        let mut bytes = Vec::new();
        let mut ends = RecordEnds::default();
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| EngineError::Execution(format!("reading {location}: {e}")))?
        {
            let start = bytes.len();
            bytes.extend_from_slice(&chunk);
            if let Some(end) = max_records.and_then(|max| ends.feed(&chunk, max)) {
                // Dropping the body closes the connection: the rest is never downloaded.
                bytes.truncate(start + end);
                break;
            }
        }
        Ok(bytes)
    }
}

/// Glue's databases and tables, for discovery.
#[async_trait::async_trait]
impl GlueCatalog for SdkAthena {
    async fn database_page(
        &self,
        next: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), EngineError> {
        let out = self
            .glue
            .get_databases()
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| aws_error("GetDatabases", e))?;
        let names = out.database_list().iter().map(|d| d.name().to_string());
        Ok((names.collect(), out.next_token().map(str::to_string)))
    }

    async fn glue_tables(&self, database: &str) -> Result<Option<Vec<GlueTable>>, EngineError> {
        let mut tables = Vec::new();
        let mut next = None;
        loop {
            let out = match self
                .glue
                .get_tables()
                .database_name(database)
                .set_next_token(next)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    if e.as_service_error()
                        .is_some_and(|s| s.is_entity_not_found_exception())
                    {
                        return Ok(None);
                    }
                    return Err(aws_error("GetTables", e));
                }
            };
            tables.extend(out.table_list().iter().map(|t| GlueTable {
                name: t.name().to_string(),
                target: t.target_table().and_then(|target| {
                    Some(TargetTable {
                        catalog_id: target.catalog_id().map(str::to_string),
                        database: target.database_name()?.to_string(),
                        name: target.name()?.to_string(),
                    })
                }),
            }));
            match out.next_token() {
                Some(token) if !token.is_empty() => next = Some(token.to_string()),
                _ => return Ok(Some(tables)),
            }
        }
    }
}

/// `s3://bucket/prefix` → (bucket, prefix ending in `/` unless empty).
fn s3_folder(url: &str) -> Result<(String, String), EngineError> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| {
        EngineError::Execution(format!("the table location {url} is not an s3:// URL"))
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    };
    Ok((bucket.to_string(), prefix))
}

impl SdkAthena {
    /// Every page of ListObjectsV2 under a folder (`s3://bucket/prefix`), each handed to `page`
    /// with the folder's prefix; with `folders_only`, `/` delimits (sub-folders come back as
    /// common prefixes).
    async fn list(
        &self,
        folder: &str,
        folders_only: bool,
        mut page: impl FnMut(&aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output, &str),
    ) -> Result<(), EngineError> {
        let (bucket, prefix) = s3_folder(folder)?;
        let mut next = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&bucket)
                .prefix(&prefix)
                .set_delimiter(folders_only.then(|| "/".to_string()))
                .set_continuation_token(next)
                .send()
                .await
                .map_err(|e| aws_error("ListObjectsV2", e))?;
            page(&out, &prefix);
            match out.next_continuation_token() {
                Some(token) if out.is_truncated() == Some(true) => next = Some(token.to_string()),
                _ => return Ok(()),
            }
        }
    }
}

/// S3 prefixes as folders.
#[async_trait::async_trait]
impl FolderTree for SdkAthena {
    fn remote(&self) -> bool {
        true
    }

    async fn folders(&self, folder: &str) -> Result<Vec<String>, EngineError> {
        let mut names = Vec::new();
        self.list(folder, true, |out, prefix| {
            names.extend(out.common_prefixes().iter().filter_map(|p| {
                let name = p.prefix()?.strip_prefix(prefix)?;
                Some(name.trim_end_matches('/').to_string())
            }));
        })
        .await?;
        Ok(names)
    }

    async fn files(&self, folder: &str) -> Result<(u64, u64), EngineError> {
        let (mut files, mut bytes) = (0, 0);
        self.list(folder, false, |out, _| {
            for object in out.contents() {
                files += 1;
                bytes += object.size().unwrap_or(0).max(0) as u64;
            }
        })
        .await?;
        Ok((files, bytes))
    }
}

/// Stops a started query when the request that started it goes away before it finished.
struct StopOnDrop {
    api: Arc<dyn AthenaApi>,
    id: String,
    finished: bool,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let (api, id) = (self.api.clone(), self.id.clone());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = api.stop(&id).await;
            });
        }
    }
}

/// How many times a query runs again after a transient failure.
const MAX_RETRIES: u32 = 3;

/// The pause before the first retry; each next one waits four times longer.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Failures that another run may not meet: Athena's or S3's throttling, and a query Athena
/// failed for want of resources. Anything else (a missing table, a syntax error, denied access)
/// fails at once.
fn is_transient(e: &EngineError) -> bool {
    const BUSY: [&str; 5] = [
        "ThrottlingException",
        "TooManyRequestsException",
        "Rate exceeded",
        "SlowDown",
        "exhausted resources",
    ];
    match e {
        EngineError::Aws { message, .. } => BUSY.iter().any(|b| message.contains(b)),
        EngineError::QueryFailed { reason } => BUSY.iter().any(|b| reason.contains(b)),
        _ => false,
    }
}

/// What discovery answered: where the tables are, or why they were not found.
type Resolved = Result<Resolution, DiscoveryError>;

/// The Athena engine.
pub struct AthenaEngine {
    api: Arc<dyn AthenaApi>,
    settings: AthenaSettings,
    /// Resolutions by what was asked (settings names, region, version), each with its time.
    resolutions: tokio::sync::Mutex<HashMap<String, (Instant, Resolved)>>,
    /// The pause before the first retry ([`RETRY_PAUSE`]; shorter in tests).
    retry_pause: Duration,
}

/// A 32-hex-digit idempotency token for a query: the same SQL within the same minute gets the
/// same token, so a retried StartQueryExecution does not run (and bill) the query twice, while a
/// refresh a minute later runs it again.
pub fn request_token(sql: &str, minute: i64) -> String {
    let fnv = |seed: u64| {
        let mut h = seed;
        for b in sql.bytes().chain(minute.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        h
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

impl AthenaEngine {
    /// An engine over an API.
    pub fn new(api: Arc<dyn AthenaApi>, settings: AthenaSettings) -> Self {
        AthenaEngine {
            api,
            settings,
            resolutions: Default::default(),
            retry_pause: RETRY_PAUSE,
        }
    }

    /// An engine with the real SDK client for the settings.
    pub async fn connect(settings: AthenaSettings) -> Self {
        let config = crate::aws::sdk_config(&settings).await;
        AthenaEngine::new(
            Arc::new(SdkAthena::new(&config, settings.clone())),
            settings,
        )
    }

    /// Starts one execution and waits for it to finish.
    async fn start_and_wait(
        &self,
        sql: &str,
        token: &str,
        started: Instant,
    ) -> Result<(StopOnDrop, Status), EngineError> {
        let id = self.api.start(sql, token).await?;
        let mut guard = StopOnDrop {
            api: self.api.clone(),
            id,
            finished: false,
        };
        let status = self.wait(&mut guard, started).await?;
        guard.finished = true;
        Ok((guard, status))
    }

    /// Polls until the query leaves QUEUED/RUNNING, with backoff (100 ms doubling to 2 s).
    async fn wait(&self, guard: &mut StopOnDrop, started: Instant) -> Result<Status, EngineError> {
        let timeout = Duration::from_secs(self.settings.query_timeout_s);
        let mut delay = Duration::from_millis(100);
        loop {
            let status = self.api.status(&guard.id).await?;
            match status.state {
                State::Succeeded => return Ok(status),
                State::Failed => {
                    guard.finished = true;
                    return Err(EngineError::QueryFailed {
                        reason: status
                            .reason
                            .unwrap_or_else(|| "Athena gave no reason".to_string()),
                    });
                }
                State::Cancelled => {
                    guard.finished = true;
                    return Err(EngineError::QueryCancelled);
                }
                State::Queued | State::Running => {}
            }
            if started.elapsed() >= timeout {
                let _ = self.api.stop(&guard.id).await;
                guard.finished = true;
                return Err(EngineError::Timeout {
                    seconds: self.settings.query_timeout_s,
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    /// Reads a finished query's rows. The first GetQueryResults page gives the column types; when
    /// the result is larger than one page and Athena wrote a result object, the rest comes from
    /// that object in one GetObject instead of a call per 1,000 rows (see the decode bench).
    /// With a `row_limit`, reading stops there (pages are not fetched, the object is not
    /// downloaded past it).
    async fn read_results(
        &self,
        id: &str,
        status: &Status,
        row_limit: Option<usize>,
    ) -> Result<(RecordBatch, ResultRead), EngineError> {
        let first = self.api.page(id, None).await?;
        let columns = first.columns;
        let larger_than_a_page = first.next.is_some() || first.rows.len() > PAGE_ROWS;
        if let (true, Some(location)) = (larger_than_a_page, &status.result_location) {
            if location.ends_with(".csv") {
                let records = row_limit.map(|n| n.saturating_add(1));
                let bytes = self.api.result_object(location, records).await?;
                let csv = ResultCsv::parse(bytes, columns.len())?;
                return Ok((
                    decode(&columns, &csv)?,
                    ResultRead::Object(location.clone()),
                ));
            }
        }
        // Athena repeats the column names as the first row of the first page.
        let mut rows: Vec<Vec<Option<String>>> = first.rows.into_iter().skip(1).collect();
        let limit = row_limit.unwrap_or(usize::MAX);
        let (mut next, mut pages) = (first.next, 1u32);
        while rows.len() < limit {
            let Some(token) = next.take() else { break };
            let page = self.api.page(id, Some(token)).await?;
            rows.extend(page.rows);
            next = page.next;
            pages += 1;
        }
        rows.truncate(limit);
        Ok((decode(&columns, rows.as_slice())?, ResultRead::Pages(pages)))
    }
}

/// Rows per GetQueryResults call (Athena's maximum), the header row included on the first.
pub const PAGE_ROWS: usize = 1000;

#[async_trait::async_trait]
impl Engine for AthenaEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Athena
    }

    async fn estimate(
        &self,
        request: &EngineRequest,
        partitions: &PartitionFilter,
    ) -> Result<Option<ScanEstimate>, EngineError> {
        let mut roots = Vec::new();
        for table in &request.tables {
            match self
                .api
                .table_location(&table.database(), &table.table())
                .await?
            {
                Some(location) => roots.push(location),
                None => return Ok(None),
            }
        }
        estimate::estimate_all(self.api.as_ref(), &roots, partitions).await
    }

    fn name(&self) -> &'static str {
        "athena"
    }

    fn min_billed_bytes(&self) -> u64 {
        super::ATHENA_MIN_BILLED_BYTES
    }

    async fn run(&self, request: &EngineRequest) -> Result<QueryOutput, EngineError> {
        let started = Instant::now();
        let minute = chrono::Utc::now().timestamp() / 60;
        let mut retries = 0u32;
        let (guard, status) = loop {
            // A new execution needs a new token: the same one would return the failed one.
            let token = match retries {
                0 => request_token(&request.sql, minute),
                n => request_token(&format!("{}\n{n}", request.sql), minute),
            };
            match self.start_and_wait(&request.sql, &token, started).await {
                Err(e) if retries < MAX_RETRIES && is_transient(&e) => {
                    let pause = self.retry_pause * 4u32.pow(retries);
                    if started.elapsed() + pause
                        >= Duration::from_secs(self.settings.query_timeout_s)
                    {
                        return Err(e);
                    }
                    retries += 1;
                    tracing::info!(ref_id = %request.ref_id, retries, error = %e, "Athena was busy; running the query again");
                    tokio::time::sleep(pause).await;
                }
                other => break other?,
            }
        };
        let (batch, read) = self
            .read_results(&guard.id, &status, request.row_limit)
            .await?;
        Ok(QueryOutput {
            schema: batch.schema(),
            batches: vec![batch],
            stats: ScanStats {
                bytes_read: status.scanned_bytes,
                ..ScanStats::default()
            },
            elapsed: started.elapsed(),
            athena: Some(AthenaStats {
                query_id: guard.id.clone(),
                scanned_bytes: status.scanned_bytes,
                engine_ms: status.engine_ms,
                queue_ms: status.queue_ms,
                read,
                retries,
            }),
            cache: CacheOutcome::Miss,
        })
    }

    async fn check(&self, tables: &[TableRef]) -> Result<String, EngineError> {
        let s = &self.settings;
        let who = self.api.identity().await.map_err(|e| EngineError::Health {
            message: format!("the AWS credentials do not work ({e}); check the authentication method, the keys or profile, and the role to assume"),
        })?;
        let workgroup = self.api.workgroup(&s.workgroup).await?.ok_or_else(|| {
            EngineError::Health {
                message: format!(
                    "the Athena workgroup {} does not exist in {}; create it, or set the workgroup setting to one that exists (primary is the default)",
                    s.workgroup, s.region
                ),
            }
        })?;
        if !workgroup.enabled {
            return Err(EngineError::Health {
                message: format!(
                    "the Athena workgroup {} is disabled; enable it or choose another",
                    s.workgroup
                ),
            });
        }
        let results = s
            .output_location
            .clone()
            .or(workgroup.output_location)
            .ok_or_else(|| EngineError::Health {
                message: format!(
                    "the Athena workgroup {} has no query result location and the datasource sets none; set outputLocation (s3://…) or give the workgroup a result location",
                    s.workgroup
                ),
            })?;
        let who_short = who.clone();
        let mut found = Vec::new();
        let mut databases: Vec<String> = tables.iter().map(TableRef::database).collect();
        databases.dedup();
        for database in databases {
            let names = match self.api.glue_tables(&database).await {
                Ok(Some(names)) => names,
                Ok(None) => {
                    return Err(EngineError::Health {
                        message: format!(
                            "the Glue database {database} does not exist in {}; Security Lake creates it in each region it collects in: check the rollup region setting and that Security Lake is enabled there",
                            s.region
                        ),
                    })
                }
                Err(e) if e.to_string().contains("AccessDenied") => {
                    return Err(EngineError::Health {
                        message: format!(
                            "access denied listing the tables of the Glue database {database}: grant {who_short} Lake Formation DESCRIBE on the database {database}"
                        ),
                    })
                }
                Err(e) => return Err(e),
            };
            let catalog = Catalog::from_tables(&database, &names);
            for table in tables.iter().filter(|t| t.database() == database) {
                let name = table.table();
                if catalog.has(&name) {
                    continue;
                }
                match self.api.glue_table(&database, &name).await? {
                    TableAccess::Found => {}
                    TableAccess::Denied(_) => {
                        return Err(EngineError::Health {
                            message: format!(
                                "access denied on the Glue table {database}.{name}: grant {who_short} Lake Formation SELECT and DESCRIBE on the table {name} in the database {database} (Security Lake subscribers get these grants with query access)"
                            ),
                        })
                    }
                    TableAccess::Missing if name != table.conventional_table() => {
                        return Err(EngineError::Health {
                            message: format!(
                                "the table {name} (setting `tables.{}`) was not found in the Glue database {database}; set it to a table of {database}, or leave it empty to let Lakewatch find the table",
                                table.source.table_part()
                            ),
                        });
                    }
                    TableAccess::Missing => {
                        let others = catalog.versions(table.source);
                        let hint = match others.last() {
                            Some(v) => format!(
                                "the database has the source version {v} table of {}: set the source version setting to {v}",
                                table.source.api_name()
                            ),
                            None => format!(
                                "enable the {} source in Security Lake for {}, or choose the rollup region whose database has it",
                                table.source.api_name(),
                                table.home_region
                            ),
                        };
                        return Err(EngineError::Health {
                            message: format!(
                                "the table {name} was not found in the Glue database {database}; {hint}"
                            ),
                        });
                    }
                }
            }
            found.push(format!("{database} ({})", catalog.describe()));
        }
        Ok(format!(
            "Athena in {} as {who}, workgroup {} (results to {results}), {}",
            s.region,
            s.workgroup,
            found.join("; ")
        ))
    }

    async fn resolve(&self, wanted: Wanted<'_>) -> Result<Option<Resolution>, DiscoveryError> {
        let key = format!(
            "{:?} {} {:?}",
            wanted.names, wanted.home_region, wanted.version
        );
        let mut cache = self.resolutions.lock().await;
        if let Some((at, answer)) = cache.get(&key) {
            let ttl = match answer {
                Ok(_) => CATALOG_TTL,
                Err(_) => NOT_FOUND_TTL,
            };
            if !wanted.refresh && at.elapsed() < ttl {
                return answer.clone().map(Some);
            }
        }
        let answer = discovery::resolve(self.api.as_ref(), wanted).await;
        // A failed Glue call is not kept: the next request asks again.
        if !matches!(answer, Err(DiscoveryError::Engine(_))) {
            cache.insert(key, (Instant::now(), answer.clone()));
        }
        answer.map(Some)
    }
}

/// How long an answer that Glue holds no tables (or not the named database) is reused: every
/// panel of a dashboard would otherwise list and search the databases again.
pub const NOT_FOUND_TTL: Duration = Duration::from_secs(60);

/// How long a resolution (database, tables, version) is reused before Glue is asked again (the
/// health check always asks again).
pub const CATALOG_TTL: Duration = Duration::from_secs(600);

/// Athena's type name → the Arrow type its values decode to.
pub fn arrow_type(athena: &str) -> DataType {
    let base = athena
        .split(['(', ' '])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match base.as_str() {
        "bigint" | "integer" | "int" | "smallint" | "tinyint" => DataType::Int64,
        "double" | "float" | "real" | "decimal" => DataType::Float64,
        "boolean" => DataType::Boolean,
        "timestamp" => DataType::Timestamp(TimeUnit::Millisecond, None),
        "date" => DataType::Date32,
        _ => DataType::Utf8,
    }
}

fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.strip_suffix(" UTC").unwrap_or(text);
    fast_timestamp(text.as_bytes()).or_else(|| {
        let text = text.trim();
        [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc().timestamp_millis())
    })
}

/// `n` ASCII digits at the start of `b` as a number.
fn digits(b: &[u8], n: usize) -> Option<i64> {
    let b = b.get(..n)?;
    b.iter().try_fold(0i64, |v, &c| {
        c.is_ascii_digit().then(|| v * 10 + i64::from(c - b'0'))
    })
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `YYYY-MM-DD` → days since the epoch, without allocating.
fn fast_date(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    days_from_civil(digits(b, 4)?, digits(&b[5..], 2)?, digits(&b[8..], 2)?)
}

/// `YYYY-MM-DD[ T]HH:MM:SS[.f…]` (Athena's timestamp text) → epoch ms; None for anything else
/// (the slow path then tries the other spellings).
fn fast_timestamp(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let days = fast_date(&b[..10])?;
    let (h, mi, sec) = (
        digits(&b[11..], 2)?,
        digits(&b[14..], 2)?,
        digits(&b[17..], 2)?,
    );
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut ms = 0;
    match b.get(19) {
        None => {}
        Some(b'.') => {
            let frac = &b[20..];
            if frac.is_empty() || !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
            for (i, &c) in frac.iter().take(3).enumerate() {
                ms += i64::from(c - b'0') * [100, 10, 1][i];
            }
        }
        Some(_) => return None,
    }
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// Rows of text cells, however they were read.
pub trait Cells {
    /// Number of rows.
    fn rows(&self) -> usize;
    /// A cell's text; None for NULL.
    fn cell(&self, row: usize, column: usize) -> Option<&str>;
}

impl Cells for [Vec<Option<String>>] {
    fn rows(&self) -> usize {
        self.len()
    }
    fn cell(&self, row: usize, column: usize) -> Option<&str> {
        self[row].get(column).and_then(|v| v.as_deref())
    }
}

impl Cells for ResultCsv {
    fn rows(&self) -> usize {
        ResultCsv::rows(self)
    }
    fn cell(&self, row: usize, column: usize) -> Option<&str> {
        ResultCsv::cell(self, row, column)
    }
}

/// Text cells → one Arrow batch typed by Athena's column types. A cell that does not parse as its
/// column's type is an error that names the column, the type and the value.
pub fn decode<C: Cells + ?Sized>(
    columns: &[(String, String)],
    rows: &C,
) -> Result<RecordBatch, EngineError> {
    let n = rows.rows();
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (c, (name, athena)) in columns.iter().enumerate() {
        let cells = (0..n).map(|r| rows.cell(r, c));
        let bad = |v: &str| EngineError::Decode {
            column: name.clone(),
            athena_type: athena.clone(),
            value: v.chars().take(80).collect(),
        };
        let data_type = arrow_type(athena);
        let array: ArrayRef = match &data_type {
            DataType::Int64 => Arc::new(
                cells
                    .map(|v| v.map(|v| v.parse::<i64>().map_err(|_| bad(v))).transpose())
                    .collect::<Result<Int64Array, _>>()?,
            ),
            DataType::Float64 => Arc::new(
                cells
                    .map(|v| v.map(|v| v.parse::<f64>().map_err(|_| bad(v))).transpose())
                    .collect::<Result<Float64Array, _>>()?,
            ),
            DataType::Boolean => Arc::new(
                cells
                    .map(|v| {
                        v.map(|v| match v {
                            "true" => Ok(true),
                            "false" => Ok(false),
                            _ => Err(bad(v)),
                        })
                        .transpose()
                    })
                    .collect::<Result<BooleanArray, _>>()?,
            ),
            DataType::Timestamp(..) => Arc::new(
                cells
                    .map(|v| {
                        v.map(|v| parse_timestamp(v).ok_or_else(|| bad(v)))
                            .transpose()
                    })
                    .collect::<Result<TimestampMillisecondArray, _>>()?,
            ),
            DataType::Date32 => Arc::new(
                cells
                    .map(|v| {
                        v.map(|v| {
                            fast_date(v.as_bytes())
                                .and_then(|d| i32::try_from(d).ok())
                                .ok_or_else(|| bad(v))
                        })
                        .transpose()
                    })
                    .collect::<Result<Date32Array, _>>()?,
            ),
            _ => Arc::new(cells.collect::<StringArray>()),
        };
        fields.push(Field::new(name, data_type, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    RecordBatch::try_new_with_options(
        schema,
        arrays,
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(n)),
    )
    .map_err(|e| EngineError::Execution(e.to_string()))
}

#[cfg(test)]
mod parse_tests {
    use chrono::{Datelike, NaiveDate};

    use super::*;

    #[test]
    fn fast_timestamps_and_dates_agree_with_chrono() {
        let chrono_ms = |t: &str| {
            NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
                .unwrap()
                .and_utc()
                .timestamp_millis()
        };
        for t in [
            "1970-01-01 00:00:00.000",
            "1969-12-31 23:59:59.999",
            "2024-02-29 12:34:56.7",
            "2000-03-01 00:00:00.123456",
            "2100-12-31 23:59:59.99",
            "1600-01-01 00:00:00.001",
        ] {
            assert_eq!(parse_timestamp(t), Some(chrono_ms(t)), "{t}");
        }
        assert_eq!(
            parse_timestamp("2024-06-01T10:00:00"),
            parse_timestamp("2024-06-01 10:00:00.000 UTC")
        );
        for bad in [
            "2023-02-29 00:00:00",
            "2024-06-01 24:00:00",
            "2024-06-01 10:00:00.",
            "soon",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let mut d = NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        while d.year() < 2101 {
            let text = d.format("%Y-%m-%d").to_string();
            assert_eq!(
                fast_date(text.as_bytes()),
                Some((d - epoch).num_days()),
                "{text}"
            );
            d += chrono::Duration::days(13);
        }
        assert_eq!(fast_date(b"2024-13-01"), None);
        assert_eq!(fast_date(b"2024-1-01"), None);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::lake::{Source, SourceVersion};

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
                    self.fail_reason.clone().unwrap_or_else(|| {
                        "TABLE_NOT_FOUND: line 3:6: Table 'x' does not exist".into()
                    })
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
            Ok("arn:aws:iam::111122223333:user/test".into())
        }
        async fn workgroup(&self, _name: &str) -> Result<Option<Workgroup>, EngineError> {
            Ok(Some(Workgroup {
                enabled: true,
                output_location: Some("s3://results/".into()),
            }))
        }
        async fn glue_table(&self, _db: &str, _table: &str) -> Result<TableAccess, EngineError> {
            Ok(if self.denied {
                TableAccess::Denied("Insufficient Lake Formation permission(s)".into())
            } else {
                TableAccess::Missing
            })
        }
        async fn result_object(
            &self,
            location: &str,
            max_records: Option<usize>,
        ) -> Result<Vec<u8>, EngineError> {
            self.calls.lock().unwrap().push(format!("get {location}"));
            let mut bytes = self.object.clone().expect("an object").1;
            let mut ends = super::super::result_csv::RecordEnds::default();
            if let Some(end) = max_records.and_then(|max| ends.feed(&bytes, max)) {
                bytes.truncate(end);
            }
            Ok(bytes)
        }
        async fn table_location(
            &self,
            _db: &str,
            _table: &str,
        ) -> Result<Option<String>, EngineError> {
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
}
