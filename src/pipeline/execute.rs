//! The third stage: a query's runs held to the scan budget before any starts, then run, a
//! panel's day slices concurrently.

use std::time::Instant;

use tracing::Instrument;

use crate::budget::{self, BudgetError, LoadCharge, PlannedRun};
use crate::engine::{Engine, EngineError, EngineRequest, Fault, QueryOutput};
use crate::lake::estimate::ScanEstimate;
use crate::plan;
use crate::settings::Settings;

use super::schedule::{Job, Schedule};
use super::{PreparedSql, QueryFailure};

/// The budget's answer: None when no budget is set; Some(None) when it is but the engine could
/// not size the partitions (the query runs, with a notice); else the estimate.
pub(super) type Estimate = Option<Option<ScanEstimate>>;

/// Holds a panel's runs to the scan budget, refusing it before anything starts: every job (its
/// slices, counted at most as its whole query) and coverage's findings lookup, which reads a
/// second table.
pub(super) async fn check_budget(
    engine: &dyn Engine,
    settings: &Settings,
    schedule: &Schedule,
    load: Option<LoadCharge<'_>>,
) -> Result<Estimate, QueryFailure> {
    check_budgets(engine, settings, std::slice::from_ref(schedule), load).await
}

/// [`check_budget`] of several planned queries answering one panel (a resource timeline's
/// parts), held to the budget together.
pub(super) async fn check_budgets(
    engine: &dyn Engine,
    settings: &Settings,
    schedules: &[Schedule],
    load: Option<LoadCharge<'_>>,
) -> Result<Estimate, QueryFailure> {
    let Some(first) = schedules.first() else {
        return Ok(None);
    };
    if !settings.scan_budget.is_on() {
        return Ok(None);
    }
    let mut runs: Vec<PlannedRun> = Vec::new();
    for schedule in schedules {
        runs.extend(schedule.jobs.iter().map(|job| planned_run(schedule, job)));
        runs.extend(schedule.enrichment.as_ref().map(|e| e.planned_run()));
    }
    let ref_id = &first.ref_id;
    budget::check(engine, &settings.scan_budget, load, ref_id, &runs)
        .await
        .map(Some)
        .map_err(|e| budget_failure(ref_id, e))
}

/// What one job starts: its whole query, or its slices with the whole query as their bound.
fn planned_run(schedule: &Schedule, job: &Job) -> PlannedRun {
    let whole = (
        schedule.request(&job.sql, false),
        job.plan.partitions.clone(),
    );
    match &job.sliced {
        Some(_) => PlannedRun {
            queries: job
                .runs()
                .map(|(s, sql)| (schedule.request(sql, s.closed), s.plan.partitions.clone()))
                .collect(),
            whole: Some(whole),
        },
        None => PlannedRun {
            queries: vec![whole],
            whole: None,
        },
    }
}

/// Holds a `sql` query to the scan budget. With a budget, SQL must prune; its estimate covers
/// the range's days (and the accounts and regions `$__partitionFilter` restricts to) in every
/// lake table it names.
pub(super) async fn check_sql_budget(
    engine: &dyn Engine,
    settings: &Settings,
    prepared: &PreparedSql,
    request: &EngineRequest,
    load: Option<LoadCharge<'_>>,
) -> Result<Estimate, QueryFailure> {
    let expanded = &prepared.expanded;
    let ref_id = &request.ref_id;
    if !settings.scan_budget.is_on() || !expanded.reads_lake {
        return Ok(None);
    }
    if !expanded.pruned {
        let unpruned = BudgetError::Unpruned {
            ref_id: ref_id.clone(),
        };
        return Err(budget_failure(ref_id, unpruned));
    }
    if !expanded.unsized_tables.is_empty() {
        let unsized_tables = BudgetError::Unsized {
            ref_id: ref_id.clone(),
            tables: expanded.unsized_tables.clone(),
        };
        return Err(budget_failure(ref_id, unsized_tables));
    }
    let partitions = plan::PartitionFilter {
        days: plan::partitions::utc_days(prepared.window.from, prepared.window.to),
        accounts: prepared.query.accounts.clone(),
        regions: prepared.query.regions.clone(),
    };
    let runs = [PlannedRun {
        queries: vec![(request.clone(), partitions)],
        whole: None,
    }];
    budget::check(engine, &settings.scan_budget, load, ref_id, &runs)
        .await
        .map(Some)
        .map_err(|e| budget_failure(ref_id, e))
}

fn budget_failure(ref_id: &str, e: BudgetError) -> QueryFailure {
    QueryFailure {
        ref_id: ref_id.to_string(),
        fault: e.fault(),
        message: e.to_string(),
    }
}

/// Runs one of a panel's queries.
pub(super) async fn run_query(
    engine: &dyn Engine,
    request: &EngineRequest,
) -> Result<QueryOutput, QueryFailure> {
    engine.run(request).await.map_err(|e| QueryFailure {
        ref_id: request.ref_id.clone(),
        fault: e.fault(),
        message: e.to_string(),
    })
}

/// Runs a `sql` query in its `query` span. The user wrote the SQL: an engine that cannot plan
/// or run it is the user's to fix.
pub(super) async fn run_user_sql(
    engine: &dyn Engine,
    request: &EngineRequest,
) -> Result<QueryOutput, QueryFailure> {
    let ref_id = request.ref_id.as_str();
    let span = tracing::info_span!("query", ref_id, kind = "sql", engine = engine.name());
    let output = engine.run(request).instrument(span).await;
    output.map_err(|e| QueryFailure {
        ref_id: request.ref_id.clone(),
        fault: match e {
            EngineError::Execution(_) => Fault::User,
            ref other => other.fault(),
        },
        message: e.to_string(),
    })
}

/// Runs the day slices of every job of a panel at once (a shared tail left out), at most
/// [`plan::slices::PARALLEL_SLICES`] of a job at a time; None for a job that runs whole.
pub(super) async fn run_slices(
    engine: &dyn Engine,
    schedule: &Schedule,
) -> Result<Vec<Option<Vec<QueryOutput>>>, QueryFailure> {
    let jobs = schedule
        .jobs
        .iter()
        .map(|job| job_slices(engine, schedule, job));
    futures::future::join_all(jobs).await.into_iter().collect()
}

async fn job_slices(
    engine: &dyn Engine,
    schedule: &Schedule,
    job: &Job,
) -> Result<Option<Vec<QueryOutput>>, QueryFailure> {
    if job.sliced.is_none() {
        return Ok(None);
    }
    let gate = tokio::sync::Semaphore::new(plan::slices::PARALLEL_SLICES);
    let gate = &gate;
    let runs = job.runs().map(|(s, sql)| async move {
        let _turn = gate.acquire().await;
        run_query(engine, &schedule.request(sql, s.closed)).await
    });
    Ok(Some(futures::future::try_join_all(runs).await?))
}

/// The `query` span of a panel run: its refId, kind and engine, and once its jobs are back
/// how long they took and what they read.
pub(super) struct Trace {
    /// The span the jobs run in.
    pub span: tracing::Span,
    started: Instant,
}

impl Trace {
    /// Opens the span; the duration counts from here.
    pub fn start(ref_id: &str, kind: &str, engine: &str) -> Self {
        let span = tracing::info_span!(
            "query",
            ref_id,
            kind,
            engine,
            duration_ms = tracing::field::Empty,
            rows = tracing::field::Empty,
            files_read = tracing::field::Empty,
            bytes_read = tracing::field::Empty,
        );
        Trace {
            span,
            started: Instant::now(),
        }
    }

    /// Records what the jobs returned and logs that the query is done.
    pub fn done(&self, output: &QueryOutput) {
        let span = &self.span;
        span.record("duration_ms", self.started.elapsed().as_millis() as u64);
        span.record("rows", output.rows());
        span.record("files_read", output.stats.files);
        span.record("bytes_read", output.stats.bytes_read);
        span.in_scope(|| tracing::info!("query done"));
    }
}
