//! One query's lifecycle: StartQueryExecution with an idempotency token, GetQueryExecution
//! polled with backoff until the query finishes, StopQueryExecution when the panel's request
//! goes away or the query outlives its timeout, and the rows read page by page or from the
//! result object.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;

use super::api::{AthenaApi, State, Status, PAGE_ROWS};
use super::decode::decode;
use super::retry::{is_transient, run_token, MAX_RETRIES};
use super::AthenaEngine;
use crate::cache::CacheOutcome;
use crate::engine::result_csv::ResultCsv;
use crate::engine::{AthenaStats, EngineError, EngineRequest, QueryOutput, ResultRead, ScanStats};

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

impl AthenaEngine {
    /// Runs a query and reads its rows, running it again after transient failures.
    pub(super) async fn run_query(
        &self,
        request: &EngineRequest,
    ) -> Result<QueryOutput, EngineError> {
        let started = Instant::now();
        let (guard, status, retries) = self.run_until_done(request, started).await?;
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

    /// Starts the query and waits for it; after a transient failure, pauses (four times
    /// longer each time) and starts it again, unless the pause would outlast the timeout.
    /// Returns the finished execution and how many times it ran again.
    async fn run_until_done(
        &self,
        request: &EngineRequest,
        started: Instant,
    ) -> Result<(StopOnDrop, Status, u32), EngineError> {
        let timeout = Duration::from_secs(self.settings.query_timeout_s);
        let minute = chrono::Utc::now().timestamp() / 60;
        let mut retries = 0u32;
        loop {
            let token = run_token(&request.sql, minute, retries);
            match self.start_and_wait(&request.sql, &token, started).await {
                Err(e) if retries < MAX_RETRIES && is_transient(&e) => {
                    let pause = self.retry_pause * 4u32.pow(retries);
                    if started.elapsed() + pause >= timeout {
                        return Err(e);
                    }
                    retries += 1;
                    tracing::info!(ref_id = %request.ref_id, retries, error = %e, "Athena was busy; running the query again");
                    tokio::time::sleep(pause).await;
                }
                other => return other.map(|(guard, status)| (guard, status, retries)),
            }
        }
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
