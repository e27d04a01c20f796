//! The Athena engine: StartQueryExecution with an idempotency token, polling with backoff, a
//! stop when the panel's request goes away or the query outlives its timeout, GetQueryResults
//! page by page, and Athena's typed columns decoded straight into Arrow arrays.
//!
//! The AWS calls sit behind [`AthenaApi`] so that what the API server used in tests cannot
//! produce (FAILED queries, several result pages) is tested with a fake too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::types::{QueryExecutionState, ResultConfiguration};
use chrono::{NaiveDate, NaiveDateTime};

use super::{AthenaStats, Engine, EngineError, EngineRequest, Fault, QueryOutput, ScanStats};
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
pub trait AthenaApi: Send + Sync {
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
    settings: AthenaSettings,
}

impl SdkAthena {
    /// Clients for the settings.
    pub fn new(config: &aws_config::SdkConfig, settings: AthenaSettings) -> Self {
        SdkAthena {
            client: aws_sdk_athena::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            settings,
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
        })
    }

    async fn page(&self, id: &str, next: Option<String>) -> Result<Page, EngineError> {
        let out = self
            .client
            .get_query_results()
            .query_execution_id(id)
            .max_results(1000)
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

/// The Athena engine.
pub struct AthenaEngine {
    api: Arc<dyn AthenaApi>,
    settings: AthenaSettings,
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
        AthenaEngine { api, settings }
    }

    /// An engine with the real SDK client for the settings.
    pub async fn connect(settings: AthenaSettings) -> Self {
        let config = crate::aws::sdk_config(&settings).await;
        AthenaEngine::new(
            Arc::new(SdkAthena::new(&config, settings.clone())),
            settings,
        )
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
}

#[async_trait::async_trait]
impl Engine for AthenaEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Athena
    }

    fn name(&self) -> &'static str {
        "athena"
    }

    async fn run(&self, request: &EngineRequest) -> Result<QueryOutput, EngineError> {
        let started = Instant::now();
        let minute = chrono::Utc::now().timestamp() / 60;
        let id = self
            .api
            .start(&request.sql, &request_token(&request.sql, minute))
            .await?;
        let mut guard = StopOnDrop {
            api: self.api.clone(),
            id,
            finished: false,
        };
        let status = self.wait(&mut guard, started).await?;
        guard.finished = true;
        let mut columns: Vec<(String, String)> = Vec::new();
        let mut rows: Vec<Vec<Option<String>>> = Vec::new();
        let mut next = None;
        let mut first = true;
        loop {
            let page = self.api.page(&guard.id, next.take()).await?;
            if first {
                columns = page.columns;
            }
            // Athena repeats the column names as the first row of the first page.
            let skip = usize::from(first && !page.rows.is_empty());
            rows.extend(page.rows.into_iter().skip(skip));
            first = false;
            match page.next {
                Some(token) => next = Some(token),
                None => break,
            }
        }
        let batch = decode(&columns, &rows)?;
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
            }),
        })
    }

    async fn check(&self) -> Result<String, EngineError> {
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
        let request = EngineRequest {
            ref_id: "health".into(),
            sql: "SELECT 1 AS ok".into(),
            tables: Vec::new(),
        };
        let out = self.run(&request).await?;
        Ok(format!(
            "Athena in {} as {who}, workgroup {} (results to {results}); a test query took {} ms",
            s.region,
            s.workgroup,
            out.elapsed.as_millis()
        ))
    }
}

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
    let text = text.trim_end_matches(" UTC").trim();
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .map(|t| t.and_utc().timestamp_millis())
}

/// Text cells → one Arrow batch typed by Athena's column types. A cell that does not parse as its
/// column's type is an error that names the column, the type and the value.
pub fn decode(
    columns: &[(String, String)],
    rows: &[Vec<Option<String>>],
) -> Result<RecordBatch, EngineError> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (c, (name, athena)) in columns.iter().enumerate() {
        let cells = rows.iter().map(|r| r.get(c).cloned().flatten());
        let bad = |v: &str| EngineError::Decode {
            column: name.clone(),
            athena_type: athena.clone(),
            value: v.chars().take(80).collect(),
        };
        let data_type = arrow_type(athena);
        let array: ArrayRef = match &data_type {
            DataType::Int64 => Arc::new(
                cells
                    .map(|v| v.map(|v| v.parse::<i64>().map_err(|_| bad(&v))).transpose())
                    .collect::<Result<Int64Array, _>>()?,
            ),
            DataType::Float64 => Arc::new(
                cells
                    .map(|v| v.map(|v| v.parse::<f64>().map_err(|_| bad(&v))).transpose())
                    .collect::<Result<Float64Array, _>>()?,
            ),
            DataType::Boolean => Arc::new(
                cells
                    .map(|v| {
                        v.map(|v| match v.as_str() {
                            "true" => Ok(true),
                            "false" => Ok(false),
                            _ => Err(bad(&v)),
                        })
                        .transpose()
                    })
                    .collect::<Result<BooleanArray, _>>()?,
            ),
            DataType::Timestamp(..) => Arc::new(
                cells
                    .map(|v| {
                        v.map(|v| parse_timestamp(&v).ok_or_else(|| bad(&v)))
                            .transpose()
                    })
                    .collect::<Result<TimestampMillisecondArray, _>>()?,
            ),
            DataType::Date32 => {
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
                Arc::new(
                    cells
                        .map(|v| {
                            v.map(|v| {
                                NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                                    .map(|d| (d - epoch).num_days() as i32)
                                    .map_err(|_| bad(&v))
                            })
                            .transpose()
                        })
                        .collect::<Result<Date32Array, _>>()?,
                )
            }
            _ => Arc::new(cells.collect::<StringArray>()),
        };
        fields.push(Field::new(name, data_type, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    RecordBatch::try_new_with_options(
        schema,
        arrays,
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows.len())),
    )
    .map_err(|e| EngineError::Execution(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// What the API server in the tests cannot do: FAILED states and several result pages.
    struct Fake {
        states: Mutex<Vec<State>>,
        pages: Vec<Page>,
        calls: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl AthenaApi for Fake {
        async fn start(&self, _sql: &str, token: &str) -> Result<String, EngineError> {
            self.calls.lock().unwrap().push(format!("start {token}"));
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
                reason: (state == State::Failed)
                    .then(|| "TABLE_NOT_FOUND: line 3:6: Table 'x' does not exist".into()),
                scanned_bytes: 123_456_789,
                engine_ms: 800,
                queue_ms: 90,
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
            Ok(None)
        }
    }

    fn engine(states: Vec<State>, pages: Vec<Page>, timeout_s: u64) -> (AthenaEngine, Arc<Fake>) {
        let fake = Arc::new(Fake {
            states: Mutex::new(states),
            pages,
            calls: Mutex::new(Vec::new()),
        });
        let mut settings = AthenaSettings::new("us-east-1");
        settings.query_timeout_s = timeout_s;
        (AthenaEngine::new(fake.clone(), settings), fake)
    }

    fn request() -> EngineRequest {
        EngineRequest {
            ref_id: "A".into(),
            sql: "SELECT 1".into(),
            tables: Vec::new(),
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
