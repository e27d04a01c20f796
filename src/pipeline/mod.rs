//! One panel query through the whole path: query → plan → sql → engine → frame.
//! Used by the plugin service and by the CLI alike, so both answer the same.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::json;
use tracing::Instrument;

use crate::budget::{self, human_bytes, BudgetError, LoadCharge, PlannedRun};
use crate::cache::CacheOutcome;
use crate::engine::{Engine, EngineError, EngineRequest, Fault, QueryOutput, ResultRead};
use crate::frame::{
    annotation_frame, coverage_frame, sql_series_frame, sql_table_frame, state_series_frame,
    table_frame, time_series_frame, AnnotationOptions, CoverageOptions, Frame, Notice, SeriesFill,
    SeriesOptions, SqlFrameError, SqlSeriesOptions, StateSeriesOptions, TableOptions,
};
use crate::lake::discovery::{DiscoveryError, Origin, Resolution, Wanted};
use crate::lake::estimate::ScanEstimate;
use crate::lake::Source;
use crate::merge;
use crate::plan::{self, AnnotationShape, Plan, PlanOptions, Shape, TableRef};
use crate::query::{
    unknown_fields, AnyQuery, ComplianceScope, ComplianceStatus, ControlId, Coverage, Dimension,
    FlowFilters, PanelQuery, QueryError, RawSql, SqlFormat, StatusView, TimeWindow,
    DEFAULT_CONTROL,
};
use crate::settings::Settings;
use crate::sql::macros::{self, Expanded, Fill, MacroContext};
use crate::sql::{self, Dialect};

/// A query that failed: which query, whose fault, and a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryFailure {
    /// Grafana refId of the query.
    pub ref_id: String,
    /// Who has to act.
    pub fault: Fault,
    /// The message shown on the panel.
    pub message: String,
}

impl QueryFailure {
    /// A failure caused by the user's input or setup.
    pub fn user(ref_id: &str, message: impl ToString) -> Self {
        QueryFailure {
            ref_id: ref_id.to_string(),
            fault: Fault::User,
            message: message.to_string(),
        }
    }

    /// A failure inside the plugin.
    pub fn plugin(ref_id: &str, message: impl ToString) -> Self {
        QueryFailure {
            ref_id: ref_id.to_string(),
            fault: Fault::Plugin,
            message: message.to_string(),
        }
    }
}

/// A panel query as Grafana sends it.
#[derive(Debug, Clone)]
pub struct PanelRequest<'a> {
    /// refId.
    pub ref_id: &'a str,
    /// The query JSON bytes.
    pub json: &'a [u8],
    /// Range start.
    pub from: DateTime<Utc>,
    /// Range end.
    pub to: DateTime<Utc>,
    /// `intervalMs`.
    pub interval_ms: i64,
    /// `maxDataPoints`.
    pub max_data_points: i64,
}

impl PanelRequest<'_> {
    /// The panel's time window (range, interval, max data points), validated against the
    /// datasource's limits: a range longer than `maxRangeDays` is refused, `maxDataPoints` is
    /// clamped to `maxPointsPerSeries`.
    fn window(&self, settings: &Settings) -> Result<TimeWindow, QueryFailure> {
        let window = TimeWindow::new(
            self.from,
            self.to,
            self.interval_ms,
            self.max_data_points
                .clamp(0, settings.max_points_per_series),
        )
        .map_err(|e| QueryFailure::user(self.ref_id, e))?;
        let days = (self.to - self.from).num_milliseconds() as f64 / plan::DAY_MS as f64;
        if days > f64::from(settings.max_range_days) {
            return Err(QueryFailure::user(
                self.ref_id,
                QueryError::new(
                    "timeRange",
                    format!("{} .. {}", self.from.to_rfc3339(), self.to.to_rfc3339()),
                    format!(
                        "the range spans {days:.0} days and this datasource allows at most {} (setting `maxRangeDays`); pick a shorter range or ask an admin to raise the setting",
                        settings.max_range_days
                    ),
                ),
            ));
        }
        Ok(window)
    }
}

/// A query parsed and planned, with its SQL.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The typed query.
    pub query: PanelQuery,
    /// Its time window.
    pub window: TimeWindow,
    /// Its plan.
    pub plan: Plan,
    /// The SQL for the chosen dialect.
    pub sql: String,
}

/// Parses, plans and renders a query without running it.
pub fn prepare(
    settings: &Settings,
    dialect: Dialect,
    request: &PanelRequest<'_>,
) -> Result<Prepared, QueryFailure> {
    let ref_id = request.ref_id;
    let query =
        PanelQuery::from_json_bytes(request.json).map_err(|e| QueryFailure::user(ref_id, e))?;
    let window = request.window(settings)?;
    let plan = scoped_plan(settings, &query, &window).map_err(|e| QueryFailure::user(ref_id, e))?;
    let sql = sql::render(&plan, dialect);
    Ok(Prepared {
        query,
        window,
        plan,
        sql,
    })
}

/// The Security Lake tables a datasource queries (flows and findings in its source version).
pub fn lake_tables(settings: &Settings) -> Vec<TableRef> {
    [Source::VpcFlow, Source::ShFindings]
        .into_iter()
        .map(|source| TableRef {
            source,
            version: settings.source_version,
            home_region: settings.home_region.clone(),
            names: settings.lake.clone(),
        })
        .collect()
}

/// Where the tables are, on an engine with a catalogue (Athena: Glue, cached per
/// configuration): the settings then name the database and tables the settings gave or the
/// discovery found, and the source version found when the settings set none. Ok(None): the
/// engine has no catalogue (the local lake's names are fixed) and the settings stay.
pub async fn resolve_lake(
    engine: &dyn Engine,
    settings: &mut Settings,
    refresh: bool,
) -> Result<Option<Resolution>, DiscoveryError> {
    let wanted = Wanted {
        refresh,
        names: &settings.lake,
        home_region: &settings.home_region,
        version: settings
            .source_version_set
            .then_some(settings.source_version),
    };
    let Some(resolution) = engine.resolve(wanted).await? else {
        return Ok(None);
    };
    settings.lake = resolution.names.clone();
    settings.source_version = resolution.version;
    Ok(Some(resolution))
}

/// [`resolve_lake`] before running queries: a database the `database` setting names and Glue
/// does not have fails them all, with what Glue has; when nothing was found, or Glue could not
/// be asked (a role may run Athena queries without the right to list databases), the queries
/// run on the names the settings give (Security Lake's own by default) and Athena says what is
/// missing; the health check says what discovery saw.
pub async fn resolve_for_queries(
    engine: &dyn Engine,
    settings: &mut Settings,
) -> Result<(), DiscoveryError> {
    match resolve_lake(engine, settings, false).await {
        Ok(_) => Ok(()),
        Err(e @ DiscoveryError::DatabaseMissing { .. }) => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "table discovery failed; querying the configured names");
            Ok(())
        }
    }
}

/// The health check: the engine's own checks of its setup and the lake's tables (after source
/// version discovery), then a tiny pruned query. Ok: what was found; Err: what is wrong and what
/// to do.
pub async fn health(engine: &dyn Engine, mut settings: Settings) -> Result<String, String> {
    let resolution = resolve_lake(engine, &mut settings, true)
        .await
        .map_err(|e| e.to_string())?;
    let discovered = resolution.as_ref().is_some_and(|r| r.version_discovered);
    let origin = resolution
        .as_ref()
        .filter(|r| r.origin != Origin::SecurityLake)
        .map_or_else(String::new, |r| format!("; {}", r.origin_text()));
    let found = engine
        .check(&lake_tables(&settings))
        .await
        .map_err(|e| e.to_string())?;
    let took = probe(engine, &settings).await.map_err(|f| f.message)?;
    Ok(format!(
        "Lakewatch is ready: {found}; {took}; source version {}{}, tables in {}{origin}",
        settings.source_version,
        if discovered { " (discovered)" } else { "" },
        settings.home_region
    ))
}

/// The health check's tiny query: a one-row flow search over the last hour, pruned like every
/// panel's; returns what it took, for the health message.
async fn probe(engine: &dyn Engine, settings: &Settings) -> Result<String, QueryFailure> {
    let to = Utc::now();
    let request = PanelRequest {
        ref_id: "health",
        json: br#"{"kind":"flow_search","limit":1}"#,
        from: to - chrono::Duration::hours(1),
        to,
        interval_ms: 60_000,
        max_data_points: 60,
    };
    let prepared = prepare(settings, engine.dialect(), &request)?;
    let output = engine
        .run(&EngineRequest {
            ref_id: "health".into(),
            sql: prepared.sql,
            tables: vec![prepared.plan.table.clone()],
            settled: false,
            row_limit: None,
        })
        .await
        .map_err(|e| QueryFailure {
            ref_id: "health".into(),
            fault: e.fault(),
            message: format!("the test query (one flow of the last hour) failed: {e}"),
        })?;
    Ok(format!(
        "a one-row flow search over the last hour took {} ms",
        output.elapsed.as_millis()
    ))
}

/// A `sql` query with its macros and variables expanded for one dialect.
#[derive(Debug, Clone)]
pub struct PreparedSql {
    /// The typed query.
    pub query: RawSql,
    /// Its time window.
    pub window: TimeWindow,
    /// The expanded SQL and what the expansion found.
    pub expanded: Expanded,
}

/// Parses a `sql` query and expands it without running it.
pub fn prepare_sql(
    settings: &Settings,
    dialect: Dialect,
    request: &PanelRequest<'_>,
) -> Result<PreparedSql, QueryFailure> {
    let ref_id = request.ref_id;
    let mut query = match AnyQuery::from_json_bytes(request.json) {
        Ok(AnyQuery::Sql(q)) => q,
        Ok(AnyQuery::Panel(p)) => {
            return Err(QueryFailure::plugin(
                ref_id,
                format!("a {} query is planned, not expanded", p.kind()),
            ))
        }
        Err(e) => return Err(QueryFailure::user(ref_id, e)),
    };
    let window = request.window(settings)?;
    // `$__partitionFilter` names the datasource's accounts when the query names none.
    query.accounts = crate::scope::scoped_accounts(settings, &query.accounts)
        .map_err(|e| QueryFailure::user(ref_id, e))?;
    let expanded = macros::expand(
        &query,
        &MacroContext {
            dialect,
            version: settings.source_version,
            home_region: &settings.home_region,
            names: &settings.lake,
            window,
        },
    )
    .map_err(|e| QueryFailure::user(ref_id, e))?;
    let tables: Vec<TableRef> = lake_tables(settings);
    let database = settings.lake.database(&settings.home_region);
    let names: Vec<String> = tables.iter().map(TableRef::table).collect();
    crate::sql::reach::check(settings.raw_sql, &database, &names, &expanded.statements)
        .map_err(|e| QueryFailure::user(ref_id, e))?;
    crate::scope::check_sql(settings, &expanded).map_err(|e| QueryFailure::user(ref_id, e))?;
    Ok(PreparedSql {
        query,
        window,
        expanded,
    })
}

/// The SQL a query of any kind runs on a dialect (what the CLI's `sql` command prints).
pub fn render_sql(
    settings: &Settings,
    dialect: Dialect,
    request: &PanelRequest<'_>,
) -> Result<String, QueryFailure> {
    match AnyQuery::from_json_bytes(request.json) {
        Ok(AnyQuery::Sql(_)) => Ok(prepare_sql(settings, dialect, request)?.expanded.sql),
        Ok(AnyQuery::Panel(_)) => Ok(prepare(settings, dialect, request)?.sql),
        Err(e) => Err(QueryFailure::user(request.ref_id, e)),
    }
}

/// The plan of a query, held to the datasource's accounts and sources ([`crate::scope`]).
fn scoped_plan(
    settings: &Settings,
    query: &PanelQuery,
    window: &TimeWindow,
) -> Result<Plan, String> {
    crate::scope::scope_plan(settings, plan::plan(query, window, &plan_options(settings)))
}

fn plan_options(settings: &Settings) -> PlanOptions {
    PlanOptions {
        version: settings.source_version,
        home_region: settings.home_region.clone(),
        names: settings.lake.clone(),
        max_rows: settings.max_rows,
        lookback_days: settings.lookback_days,
    }
}

/// For coverage by account × region × VPC with no flow-only filters: the VPCs that EC2.6
/// findings (updated in the same look-back window, not archived) know of, so that VPCs which
/// never sent a flow record are listed too. None when it does not apply or the findings cannot
/// be read (then a notice says why).
async fn vpcs_in_findings(
    engine: &dyn Engine,
    settings: &Settings,
    coverage: &Coverage,
    window: &TimeWindow,
    ref_id: &str,
    notices: &mut Vec<Notice>,
) -> Option<Vec<Vec<String>>> {
    let f = &coverage.filters;
    let scope_only = FlowFilters {
        accounts: f.accounts.clone(),
        regions: f.regions.clone(),
        vpcs: f.vpcs.clone(),
        ..FlowFilters::default()
    } == *f;
    if coverage.group_by != [Dimension::Account, Dimension::Region, Dimension::Vpc] || !scope_only {
        return None;
    }
    let query = PanelQuery::ComplianceStatus(ComplianceStatus {
        scope: ComplianceScope {
            controls: vec![ControlId::parse(DEFAULT_CONTROL).ok()?],
            accounts: f.accounts.clone(),
            regions: f.regions.clone(),
            vpcs: f.vpcs.clone(),
            lookback_days: Some(coverage.lookback_days.unwrap_or(settings.lookback_days)),
        },
        statuses: Vec::new(),
        view: StatusView::Table,
        limit: 10_000,
    });
    // Within the datasource's scope too; a findings table it may not read adds nothing.
    let plan = scoped_plan(settings, &query, window).ok()?;
    let request = EngineRequest {
        ref_id: ref_id.to_string(),
        sql: sql::render(&plan, engine.dialect()),
        tables: vec![plan.table.clone()],
        settled: false,
        row_limit: None,
    };
    let output = match engine.run(&request).await {
        Ok(output) => output,
        Err(e) => {
            notices.push(Notice {
                severity: "info",
                text: format!("Only VPCs that sent flow records are listed: the Security Hub findings could not be read ({e})."),
            });
            return None;
        }
    };
    let mut out = Vec::new();
    for batch in &output.batches {
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).ok())
        };
        let (Some(a), Some(r), Some(v)) = (text("account"), text("region"), text("resource"))
        else {
            continue;
        };
        let as_str = |c: &arrow::array::ArrayRef, i: usize| {
            c.as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .filter(|s| !arrow::array::Array::is_null(*s, i))
                .map(|s| s.value(i).to_string())
        };
        for i in 0..batch.num_rows() {
            if let (Some(a), Some(r), Some(v)) = (as_str(&a, i), as_str(&r, i), as_str(&v, i)) {
                out.push(vec![a, r, v]);
            }
        }
    }
    Some(out)
}

/// One plan of a panel (its rows, or the count of a paged table): rendered whole, and in day
/// slices when it splits.
struct Job {
    plan: Plan,
    sql: String,
    sliced: Option<(plan::slices::Sliced, Vec<String>)>,
    /// The last (open) slice is not run: its count comes with the rows job's open slice.
    tail_shared: bool,
}

impl Job {
    /// The slices that run (all but a shared tail), with their SQL.
    fn runs(&self) -> impl Iterator<Item = (&plan::slices::Slice, &String)> {
        self.sliced.iter().flat_map(move |(sliced, sqls)| {
            let n = sliced.slices.len() - usize::from(self.tail_shared);
            sliced.slices[..n].iter().zip(sqls)
        })
    }
}

/// On an engine that bills a minimum per query (Athena: 10 MB), day slices cost more than
/// running whole unless the partitions the query reads hold that minimum per slice. A job whose
/// slices would cost more on its first load than its whole query runs whole; with enough bytes
/// per slice no load costs more sliced, and a reload costs less. Returns what was weighed, for
/// the frame meta (`slicing`); None when there was nothing to weigh.
async fn keep_slices_that_pay(
    engine: &dyn Engine,
    whole: &EngineRequest,
    partitions: &plan::PartitionFilter,
    jobs: &mut [Job],
) -> Option<serde_json::Value> {
    let minimum = engine.min_billed_bytes();
    let slices = jobs.iter().map(|j| j.runs().count() as u64).max()?;
    if minimum == 0 || slices == 0 {
        return None;
    }
    let estimate = match engine.estimate(whole, partitions).await {
        Ok(estimate) => estimate.map(|e| e.bytes),
        Err(e) => {
            tracing::info!(error = %e, "partitions not sized; slicing as planned");
            None
        }
    };
    // Unsized partitions (no location in the Security Lake layout): sliced as planned.
    if let Some(bytes) = estimate {
        for job in jobs.iter_mut() {
            if bytes < job.runs().count() as u64 * minimum {
                job.sliced = None;
            }
        }
    }
    let sliced = jobs.iter().any(|j| j.sliced.is_some());
    Some(json!({
        "minBilledBytes": minimum,
        "estimateBytes": estimate,
        "slices": slices,
        "ran": if sliced { "sliced" } else { "whole" },
    }))
}

/// A sliced search counts the rows of its open slice in that slice's own query (a window
/// count, [`merge::MATCHED`]) when its count's open slice reads the same: a reload then runs
/// one query for what has not settled, not two.
fn share_open_count(rows: &mut Job, count: &mut Job, dialect: sql::Dialect) {
    let (Some((rows_sliced, rows_sqls)), Some((count_sliced, _))) =
        (&mut rows.sliced, &count.sliced)
    else {
        return;
    };
    if rows_sliced.merge != plan::slices::Merge::Rerank {
        return;
    }
    let (Some(r), Some(c), Some(sql)) = (
        rows_sliced.slices.last_mut(),
        count_sliced.slices.last(),
        rows_sqls.last_mut(),
    ) else {
        return;
    };
    let same = r.plan.time == c.plan.time && r.plan.partitions == c.plan.partitions;
    if r.closed || c.closed || r.keep_from_ms.is_some() || c.keep_from_ms.is_some() || !same {
        return;
    }
    r.plan.outputs.push(plan::Output {
        alias: merge::MATCHED.to_string(),
        value: plan::OutputValue::Row(plan::Expr::MatchedRows),
    });
    *sql = sql::render(&r.plan, dialect);
    count.tail_shared = true;
}

/// Runs a panel query on an engine and shapes the frames.
pub async fn run_panel(
    engine: &dyn Engine,
    settings: &Settings,
    request: &PanelRequest<'_>,
    load: Option<LoadCharge<'_>>,
) -> Result<Vec<Frame>, QueryFailure> {
    let mut frames = run_panel_at(engine, settings, request, load, Utc::now()).await?;
    crate::frame::account_names::name_accounts(&mut frames, &settings.account_names);
    Ok(frames)
}

/// [`run_panel`] at wall-clock time `now`, which decides what has settled (day slices); the
/// dashboard-load bench moves it.
pub async fn run_panel_at(
    engine: &dyn Engine,
    settings: &Settings,
    request: &PanelRequest<'_>,
    load: Option<LoadCharge<'_>>,
    now: DateTime<Utc>,
) -> Result<Vec<Frame>, QueryFailure> {
    let ref_id = request.ref_id;
    if let AnyQuery::Sql(_) =
        AnyQuery::from_json_bytes(request.json).map_err(|e| QueryFailure::user(ref_id, e))?
    {
        return run_sql(engine, settings, request, load).await;
    }
    let prepared = prepare(settings, engine.dialect(), request)?;
    let span = tracing::info_span!(
        "query",
        ref_id,
        kind = prepared.query.kind(),
        engine = engine.name(),
        duration_ms = tracing::field::Empty,
        rows = tracing::field::Empty,
        files_read = tracing::field::Empty,
        bytes_read = tracing::field::Empty,
    );
    let started = Instant::now();
    let count_total = matches!(
        prepared.plan.shape,
        Shape::Table {
            count_total: true,
            ..
        }
    );
    let request_of = |sql: &str, settled: bool| EngineRequest {
        ref_id: ref_id.to_string(),
        sql: sql.to_string(),
        tables: vec![prepared.plan.table.clone()],
        settled,
        row_limit: None,
    };
    let run = |sql: &str, settled: bool| {
        let request = request_of(sql, settled);
        async move {
            engine.run(&request).await.map_err(|e| QueryFailure {
                ref_id: ref_id.to_string(),
                fault: e.fault(),
                message: e.to_string(),
            })
        }
    };
    // With caching on, a plan over settled days and hours runs in day slices: what no longer
    // changes is reused when the range moves.
    let dialect = engine.dialect();
    let sliced_of = |plan: &Plan| {
        if settings.cache_policy().ttl.is_zero() {
            return None;
        }
        let sliced = plan::slices::slice_plan(plan, now)?;
        let sqls = sliced
            .slices
            .iter()
            .map(|s| sql::render(&s.plan, dialect))
            .collect();
        Some((sliced, sqls))
    };
    // A table that shows a page of a larger result also counts the whole result, concurrently.
    let mut jobs = vec![Job {
        sliced: sliced_of(&prepared.plan),
        plan: prepared.plan.clone(),
        sql: prepared.sql.clone(),
        tail_shared: false,
    }];
    if count_total {
        let counting = prepared.plan.counting();
        jobs.push(Job {
            sliced: sliced_of(&counting),
            sql: sql::render(&counting, dialect),
            plan: counting,
            tail_shared: false,
        });
    }
    let slicing = keep_slices_that_pay(
        engine,
        &request_of(&prepared.sql, false),
        &prepared.plan.partitions,
        &mut jobs,
    )
    .await;
    if let [rows, count] = jobs.as_mut_slice() {
        share_open_count(rows, count, dialect);
    }
    let count_sql = jobs.get(1).map(|j| j.sql.clone());
    // Over the scan budget: refused before anything starts.
    let mut estimate = None;
    if settings.scan_budget.is_on() {
        let runs: Vec<_> = jobs
            .iter()
            .map(|job| {
                let whole = (request_of(&job.sql, false), job.plan.partitions.clone());
                match &job.sliced {
                    Some(_) => PlannedRun {
                        queries: job
                            .runs()
                            .map(|(s, sql)| (request_of(sql, s.closed), s.plan.partitions.clone()))
                            .collect(),
                        whole: Some(whole),
                    },
                    None => PlannedRun {
                        queries: vec![whole],
                        whole: None,
                    },
                }
            })
            .collect();
        estimate = Some(
            budget::check(engine, &settings.scan_budget, load, ref_id, &runs)
                .await
                .map_err(|e| QueryFailure {
                    ref_id: ref_id.to_string(),
                    fault: e.fault(),
                    message: e.to_string(),
                })?,
        );
    }
    let run = &run;
    // A sliced job's slices (a shared tail left out); None for a job that runs whole.
    let run_slices = async |job: &Job| {
        if job.sliced.is_none() {
            return Ok::<_, QueryFailure>(None);
        }
        let gate = tokio::sync::Semaphore::new(plan::slices::PARALLEL_SLICES);
        let gate = &gate;
        let runs = job.runs().map(|(s, sql)| async {
            let _turn = gate.acquire().await;
            run(sql, s.closed).await
        });
        Ok(Some(futures::future::try_join_all(runs).await?))
    };
    // A count's shared tail: the rows job's open slice's window count (taken out of it), or
    // the tail run after all when that did not come back.
    let count_tail = async |rows: &mut Option<Vec<QueryOutput>>,
                            count: &Job,
                            outputs: &mut Option<Vec<QueryOutput>>| {
        let (Some(outputs), Some((sliced, sqls))) = (outputs.as_mut(), &count.sliced) else {
            return Ok::<_, QueryFailure>(());
        };
        let alias = &count.plan.outputs[0].alias;
        let shared = rows
            .as_mut()
            .and_then(|r| r.last_mut())
            .and_then(|last| merge::take_matched(last).ok())
            .and_then(|matched| merge::count_output(matched, outputs, alias).ok());
        let tail = match shared {
            Some(tail) => tail,
            None => {
                let (slice, sql) = sliced.slices.iter().zip(sqls).next_back().expect("a tail");
                run(sql, slice.closed).await?
            }
        };
        outputs.push(tail);
        Ok(())
    };
    let run_job = async |job: &Job, outputs: Option<Vec<QueryOutput>>| {
        let (Some((sliced, _)), Some(outputs)) = (&job.sliced, outputs) else {
            return Ok::<_, QueryFailure>((run(&job.sql, false).await?, None));
        };
        let meta = json!({
            "slices": outputs.len(),
            "reused": outputs.iter().filter(|o| o.cache == CacheOutcome::Hit).count(),
            "closed": sliced.slices.iter().filter(|s| s.closed).count(),
        });
        match merge::join_slices(&job.plan, sliced, outputs, dialect) {
            Ok(output) => Ok((output, Some(meta))),
            Err(e) => {
                tracing::info!(error = %e, "day slices did not fit together; running whole");
                Ok((run(&job.sql, false).await?, None))
            }
        }
    };
    let ((output, sliced), counted) = async {
        match jobs.as_slice() {
            [rows, count] => {
                let (rows_out, count_out) = futures::join!(run_slices(rows), run_slices(count));
                let (mut rows_out, mut count_out) = (rows_out?, count_out?);
                if count.tail_shared {
                    count_tail(&mut rows_out, count, &mut count_out).await?;
                }
                let (rows, count) =
                    futures::join!(run_job(rows, rows_out), run_job(count, count_out));
                Ok::<_, QueryFailure>((rows?, Some(count?.0)))
            }
            [rows] => Ok((run_job(rows, run_slices(rows).await?).await?, None)),
            _ => unreachable!("one or two jobs"),
        }
    }
    .instrument(span.clone())
    .await?;
    let total = counted.as_ref().map(|c| first_count(&c.batches));
    let rows = output.rows();
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    span.record("rows", rows);
    span.record("files_read", output.stats.files);
    span.record("bytes_read", output.stats.bytes_read);
    span.in_scope(|| tracing::info!("query done"));

    let mut notices = Vec::new();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(request.json) {
        let unknown = unknown_fields(&value);
        if !unknown.is_empty() {
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "Ignored query fields Lakewatch does not know: {}. Check their spelling (docs/queries.md lists every field).",
                    unknown.join(", ")
                ),
            });
        }
    }
    notices.extend(budget_notice(estimate));
    let mut batches = output.batches.clone();
    if let PanelQuery::Variable(_) = &prepared.query {
        // A dimension some records lack (a flow without a VPC, a finding without a control).
        batches = drop_nulls(&batches, plan::VARIABLE_VALUE);
    }
    let mut complete_from_ms = None;
    if rows as u64 > settings.max_rows {
        let max = settings.max_rows as usize;
        let mut cut = String::new();
        if let Shape::TimeSeries { bucket_ms, .. } = &prepared.plan.shape {
            // A graph keeps its newest end: whole buckets from the newest back, the rest empty.
            let (kept, oldest_cut) = newest_whole_buckets(&batches, max);
            batches = kept;
            complete_from_ms = oldest_cut.map(|b| b + bucket_ms);
            let from = complete_from_ms
                .and_then(DateTime::from_timestamp_millis)
                .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string());
            cut = format!(": the graph is complete from {from} on and empty before");
        } else {
            batches = truncate(&batches, max);
        }
        notices.push(Notice {
            severity: "warning",
            text: format!(
                "The result was cut at {max} rows (the datasource's row cap){cut}; narrow the time range or filters, or group by fewer dimensions."
            ),
        });
    }
    if let PanelQuery::ComplianceStatus(q) = &prepared.query {
        let days = q.scope.lookback_days.unwrap_or(settings.lookback_days);
        notices.push(Notice {
            severity: "info",
            text: format!(
                "Latest state of each finding updated in the {days} days before the end of the time range (newest update wins, archived findings left out); set lookback_days or the lookbackDays setting to look further."
            ),
        });
    }
    let known = match &prepared.query {
        PanelQuery::Coverage { query, .. } => {
            vpcs_in_findings(
                engine,
                settings,
                query,
                &prepared.window,
                ref_id,
                &mut notices,
            )
            .await
        }
        _ => None,
    };
    let mut bucket = None;
    let mut frame = match &prepared.plan.shape {
        Shape::TimeSeries {
            labels,
            measure,
            bucket_ms,
            top,
        } => {
            bucket = Some(*bucket_ms);
            time_series_frame(
                ref_id,
                &batches,
                &SeriesOptions {
                    labels: labels.clone(),
                    measure: *measure,
                    bucket_ms: *bucket_ms,
                    from_ms: prepared.window.from.timestamp_millis(),
                    to_ms: prepared.window.to.timestamp_millis(),
                    top: *top,
                    max_series: settings.max_series,
                    complete_from_ms,
                },
            )
        }
        Shape::Table {
            time_columns,
            units,
            protocol_columns,
            ..
        } => table_frame(
            ref_id,
            &output.schema,
            &batches,
            &TableOptions {
                time_columns: time_columns.clone(),
                units: units.clone(),
                protocol_columns: protocol_columns.clone(),
            },
        ),
        Shape::StateOverTime {
            labels,
            fields,
            bucket_ms,
            lookback_days,
        } => {
            bucket = Some(*bucket_ms);
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "Each point counts the state in force at the end of its bucket (newest finding update at or before it, archived findings left out); updates up to {lookback_days} days before the range start are read, so findings not updated in that window count from their first update in the range."
                ),
            });
            state_series_frame(
                ref_id,
                &batches,
                &StateSeriesOptions {
                    labels: labels.clone(),
                    fields,
                    bucket_ms: *bucket_ms,
                    from_ms: prepared.window.from.timestamp_millis(),
                    to_ms: prepared.window.to.timestamp_millis(),
                },
            )
        }
        Shape::Annotations(AnnotationShape::StatusChanges { lookback_days }) => {
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "One annotation per status change of a finding (resource × control) in the time range, at the first update with the new status; updates up to {lookback_days} days before the range start are read to know each finding's status before the range (set lookback_days or the lookbackDays setting to look further)."
                ),
            });
            annotation_frame(ref_id, &batches, &AnnotationOptions::StatusChanges)
        }
        Shape::Annotations(AnnotationShape::FlowSilence {
            keys,
            to_ms,
            silent_for_minutes,
            lookback_days,
        }) => {
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "One annotation per gap of at least {silent_for_minutes} minutes between consecutive flow records of a group (start times), and from a group's last record to the end of the range, that overlaps the range; records up to {lookback_days} days before the range start are read, so a silence that began earlier starts at its true time. Groups with no record in that window are not listed."
                ),
            });
            annotation_frame(
                ref_id,
                &batches,
                &AnnotationOptions::FlowSilence {
                    keys: keys.clone(),
                    to_ms: *to_ms,
                },
            )
        }
        Shape::Coverage {
            keys,
            reference_ms,
            since_ms,
            lookback_days,
            format,
            silent_for_minutes,
        } => {
            let lookback = *lookback_days;
            let listed = if known.is_some() {
                "VPCs that EC2.6 findings know of but that sent no flow record in that window are listed with no last record, silent for at least the look-back"
            } else {
                "groups with no records in that window are not listed"
            };
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "Looked back {lookback} days (from {} UTC, the start of the day {lookback} days before the end of the time range) for the last flow record of each group; {listed} (set lookback_days or the lookbackDays setting to look further).",
                    DateTime::from_timestamp_millis(*since_ms)
                        .unwrap_or_default()
                        .format("%Y-%m-%d %H:%M")
                ),
            });
            coverage_frame(
                ref_id,
                &batches,
                &CoverageOptions {
                    keys: keys.clone(),
                    reference_ms: *reference_ms,
                    format: *format,
                    known: known.clone().unwrap_or_default(),
                    lookback_minutes: (reference_ms - since_ms) / 60_000,
                    silent_for_minutes: *silent_for_minutes,
                },
            )
        }
    }
    .map_err(|e| QueryFailure::plugin(ref_id, e))?;
    if let Some(total) = total {
        let shown = frame.rows() as u64;
        if total > shown {
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "Showing the {shown} newest of {total} matching flows; narrow the filters or raise the limit to see more."
                ),
            });
        }
    }
    notices.extend(athena_notice(&output, settings));
    let stats = &output.stats;
    frame.meta.executed_query_string = Some(prepared.sql.clone());
    frame.meta.notices.extend(notices);
    frame.meta.stats = engine_stats(&output);
    let custom = json!({
        "engine": engine.name(),
        "cache": output.cache.as_str(),
        "kind": prepared.query.kind(),
        "table": format!("{}.{}", prepared.plan.table.database(), prepared.plan.table.table()),
        "sourceVersion": prepared.plan.table.version.to_string(),
        "bucketMs": bucket,
        "totalMatches": total,
        "rows": rows,
        "daySlices": sliced,
        "slicing": slicing,
        "scanEstimateBytes": estimate.flatten().map(|e| e.bytes),
        "scanEstimateSampled": estimate.flatten().and_then(sampled_meta),
        "filesRead": stats.files,
        "fileBytes": stats.file_bytes,
        "bytesRead": stats.bytes_read,
        "partitionsRead": stats.partitions.len(),
        "partitions": stats.partitions,
        "engineMs": output.elapsed.as_millis() as u64,
    });
    let mut custom = custom;
    if let serde_json::Value::Object(map) = &mut custom {
        map.retain(|_, v| !v.is_null());
        if let Some(counted) = &counted {
            // The count query reads the same partitions again; show what both read.
            map.insert("countFilesRead".into(), json!(counted.stats.files));
            map.insert("countBytesRead".into(), json!(counted.stats.bytes_read));
            map.insert("countQuery".into(), json!(count_sql));
        }
    }
    if let serde_json::Value::Object(map) = &mut custom {
        athena_meta(&mut frame, map, &output, settings);
    }
    if let serde_json::Value::Object(map) = custom {
        frame.meta.custom = map;
    }
    Ok(vec![frame])
}

/// The notice of a scan budget that could not be checked (the engine could not size the
/// partitions).
/// How an estimate was sampled, for the frame meta: `{sized, of}` partition folders (the rest
/// extrapolated); None when every folder was sized.
fn sampled_meta(estimate: ScanEstimate) -> Option<serde_json::Value> {
    estimate
        .sampled
        .map(|(sized, of)| json!({"sized": sized, "of": of}))
}

fn budget_notice(estimate: Option<Option<ScanEstimate>>) -> Option<Notice> {
    matches!(estimate, Some(None)).then(|| Notice {
        severity: "warning",
        text: "The scan budget was not checked for this query: the table's partition folders could not be listed (its Glue table has no s3:// location in the Security Lake layout). The query ran anyway.".to_string(),
    })
}

/// The notice of what Athena scanned and what it costs.
fn athena_notice(output: &QueryOutput, settings: &Settings) -> Option<Notice> {
    let athena = output.athena.as_ref()?;
    let cents = settings.price_per_tb_cents();
    Some(Notice {
        severity: "info",
        text: format!(
            "Athena scanned {} (billed {}, 10 MB minimum per query): ${:.5} at ${:.2} per TB.",
            human_bytes(athena.scanned_bytes),
            human_bytes(athena.billed_bytes()),
            athena.cost_usd(cents),
            cents as f64 / 100.0
        ),
    })
}

/// The inspector's statistics of an engine run.
fn engine_stats(output: &QueryOutput) -> Vec<(String, f64, &'static str)> {
    let stats = &output.stats;
    vec![
        ("Rows returned".to_string(), output.rows() as f64, "short"),
        ("Files read".to_string(), stats.files as f64, "short"),
        (
            "Bytes read".to_string(),
            stats.bytes_read as f64,
            "decbytes",
        ),
        (
            "Engine time".to_string(),
            output.elapsed.as_secs_f64() * 1000.0,
            "ms",
        ),
    ]
}

/// Athena's query id, bytes and cost in the frame's custom meta and statistics.
fn athena_meta(
    frame: &mut Frame,
    map: &mut serde_json::Map<String, serde_json::Value>,
    output: &QueryOutput,
    settings: &Settings,
) {
    let Some(athena) = &output.athena else {
        return;
    };
    let cents = settings.price_per_tb_cents();
    map.insert("athenaQueryId".into(), json!(athena.query_id));
    map.insert("scannedBytes".into(), json!(athena.scanned_bytes));
    map.insert("billedBytes".into(), json!(athena.billed_bytes()));
    map.insert("costUsd".into(), json!(athena.cost_usd(cents)));
    map.insert("queueMs".into(), json!(athena.queue_ms));
    map.insert("athenaEngineMs".into(), json!(athena.engine_ms));
    if athena.retries > 0 {
        map.insert("athenaRetries".into(), json!(athena.retries));
    }
    map.insert(
        "resultsFrom".into(),
        match &athena.read {
            ResultRead::Pages(n) => json!(format!("GetQueryResults, {n} page(s)")),
            ResultRead::Object(location) => json!(location),
        },
    );
    frame.meta.stats.push((
        "Data scanned".to_string(),
        athena.scanned_bytes as f64,
        "decbytes",
    ));
    frame
        .meta
        .stats
        .push(("Cost".to_string(), athena.cost_usd(cents), "currencyUSD"));
}

/// The warning on a query that reads a Security Lake table with no partition predicate.
pub fn unpruned_notice(dialect: Dialect) -> Notice {
    let column = match dialect {
        Dialect::Athena => "eventday (v1) or time_dt (v2)",
        Dialect::Local => "eventday",
    };
    Notice {
        severity: "warning",
        text: format!(
            "This query reads a Security Lake table without a partition predicate, so every day of every account and region is scanned (Athena bills by the byte). Add `AND $__partitionFilter` to its WHERE clause (or a condition on {column})."
        ),
    }
}

/// Runs a `sql` query: expand, run, shape as a table or a wide time series.
async fn run_sql(
    engine: &dyn Engine,
    settings: &Settings,
    request: &PanelRequest<'_>,
    load: Option<LoadCharge<'_>>,
) -> Result<Vec<Frame>, QueryFailure> {
    let ref_id = request.ref_id;
    let prepared = prepare_sql(settings, engine.dialect(), request)?;
    let expanded = &prepared.expanded;
    let span = tracing::info_span!("query", ref_id, kind = "sql", engine = engine.name());
    let engine_request = EngineRequest {
        ref_id: ref_id.to_string(),
        sql: expanded.sql.clone(),
        tables: expanded.tables.clone(),
        settled: false,
        row_limit: Some(settings.max_rows.saturating_add(1) as usize),
    };
    let budget_failure = |e: BudgetError| QueryFailure {
        ref_id: ref_id.to_string(),
        fault: e.fault(),
        message: e.to_string(),
    };
    // With a budget, SQL must prune; its estimate covers the range's days (and the accounts and
    // regions `$__partitionFilter` restricts to) in every lake table it names.
    let mut estimate = None;
    if settings.scan_budget.is_on() && expanded.reads_lake {
        if !expanded.pruned {
            return Err(budget_failure(BudgetError::Unpruned {
                ref_id: ref_id.to_string(),
            }));
        }
        if !expanded.unsized_tables.is_empty() {
            return Err(budget_failure(BudgetError::Unsized {
                ref_id: ref_id.to_string(),
                tables: expanded.unsized_tables.clone(),
            }));
        }
        let partitions = plan::PartitionFilter {
            days: plan::partitions::utc_days(prepared.window.from, prepared.window.to),
            accounts: prepared.query.accounts.clone(),
            regions: prepared.query.regions.clone(),
        };
        estimate = Some(
            budget::check(
                engine,
                &settings.scan_budget,
                load,
                ref_id,
                &[PlannedRun {
                    queries: vec![(engine_request.clone(), partitions)],
                    whole: None,
                }],
            )
            .await
            .map_err(budget_failure)?,
        );
    }
    let output = engine
        .run(&engine_request)
        .instrument(span)
        .await
        .map_err(|e| QueryFailure {
            ref_id: ref_id.to_string(),
            // The user wrote the SQL: an engine that cannot plan or run it is the user's to fix.
            fault: match e {
                EngineError::Execution(_) => Fault::User,
                ref other => other.fault(),
            },
            message: e.to_string(),
        })?;
    let mut notices = Vec::new();
    if expanded.reads_lake && !expanded.pruned {
        notices.push(unpruned_notice(engine.dialect()));
    }
    notices.extend(budget_notice(estimate));
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(request.json) {
        let unknown = unknown_fields(&value);
        if !unknown.is_empty() {
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "Ignored query fields Lakewatch does not know: {}. Check their spelling (docs/queries.md lists every field).",
                    unknown.join(", ")
                ),
            });
        }
    }
    let rows = output.rows();
    let mut batches = output.batches.clone();
    if rows as u64 > settings.max_rows {
        batches = truncate(&batches, settings.max_rows as usize);
        notices.push(Notice {
            severity: "warning",
            text: format!(
                "The result was cut at {} rows (the datasource's row cap); add a LIMIT, aggregate, or narrow the time range.",
                settings.max_rows
            ),
        });
    }
    let mut frame = match prepared.query.format {
        SqlFormat::Table => sql_table_frame(ref_id, &output.schema, &batches)
            .map_err(|e| QueryFailure::plugin(ref_id, e))?,
        SqlFormat::TimeSeries => {
            let fill = expanded.time_group.and_then(|g| {
                g.fill.map(|f| {
                    (
                        g.interval_ms,
                        match f {
                            Fill::Value(v) => SeriesFill::Value(v),
                            Fill::Null => SeriesFill::Null,
                            Fill::Previous => SeriesFill::Previous,
                        },
                    )
                })
            });
            sql_series_frame(
                ref_id,
                &output.schema,
                &batches,
                &SqlSeriesOptions {
                    fill,
                    from_ms: prepared.window.from.timestamp_millis(),
                    to_ms: prepared.window.to.timestamp_millis(),
                    max_series: settings.max_series,
                },
            )
            .map_err(|e| match e {
                SqlFrameError::Shape(m) => QueryFailure::user(ref_id, m),
                SqlFrameError::Frame(e) => QueryFailure::plugin(ref_id, e),
            })?
        }
    };
    notices.extend(athena_notice(&output, settings));
    frame.meta.executed_query_string = Some(expanded.sql.clone());
    frame.meta.notices.extend(notices);
    frame.meta.stats = engine_stats(&output);
    let tables: Vec<String> = expanded
        .tables
        .iter()
        .map(|t| format!("{}.{}", t.database(), t.table()))
        .collect();
    let mut custom = serde_json::Map::new();
    custom.insert("engine".into(), json!(engine.name()));
    custom.insert("cache".into(), json!(output.cache.as_str()));
    custom.insert("kind".into(), json!("sql"));
    custom.insert("tables".into(), json!(tables));
    custom.insert(
        "sourceVersion".into(),
        json!(settings.source_version.to_string()),
    );
    custom.insert("partitionPruned".into(), json!(expanded.pruned));
    if let Some(Some(e)) = estimate {
        custom.insert("scanEstimateBytes".into(), json!(e.bytes));
        if let Some(sampled) = sampled_meta(e) {
            custom.insert("scanEstimateSampled".into(), sampled);
        }
    }
    if let Some(g) = expanded.time_group {
        custom.insert("bucketMs".into(), json!(g.interval_ms));
    }
    custom.insert("rows".into(), json!(rows));
    custom.insert("filesRead".into(), json!(output.stats.files));
    custom.insert("bytesRead".into(), json!(output.stats.bytes_read));
    custom.insert(
        "partitionsRead".into(),
        json!(output.stats.partitions.len()),
    );
    custom.insert("partitions".into(), json!(output.stats.partitions));
    custom.insert("engineMs".into(), json!(output.elapsed.as_millis() as u64));
    athena_meta(&mut frame, &mut custom, &output, settings);
    frame.meta.custom = custom;
    Ok(vec![frame])
}

/// The single integer of a `COUNT(*)` result.
fn first_count(batches: &[arrow::record_batch::RecordBatch]) -> u64 {
    batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            let col =
                arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::UInt64).ok()?;
            col.as_any()
                .downcast_ref::<arrow::array::UInt64Array>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0)
}

/// The rows whose `column` is not null.
fn drop_nulls(
    batches: &[arrow::record_batch::RecordBatch],
    column: &str,
) -> Vec<arrow::record_batch::RecordBatch> {
    batches
        .iter()
        .map(|b| {
            b.column_by_name(column)
                .and_then(|c| arrow::compute::is_not_null(c).ok())
                .and_then(|mask| arrow::compute::filter_record_batch(b, &mask).ok())
                .unwrap_or_else(|| b.clone())
        })
        .collect()
}

/// The rows of the newest buckets that fit in `max` rows, whole buckets only, whatever order the
/// rows come in; and the newest bucket left out (it, and all before it, may lack rows).
fn newest_whole_buckets(
    batches: &[arrow::record_batch::RecordBatch],
    max: usize,
) -> (Vec<arrow::record_batch::RecordBatch>, Option<i64>) {
    use arrow::array::{Array, Int64Array};
    let buckets: Vec<Int64Array> = batches
        .iter()
        .filter_map(|b| b.column_by_name(plan::TIME_BUCKET))
        .filter_map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Int64).ok())
        .filter_map(|c| c.as_any().downcast_ref::<Int64Array>().cloned())
        .collect();
    let mut all: Vec<i64> = buckets.iter().flat_map(|a| a.iter().flatten()).collect();
    if all.len() <= max || buckets.len() != batches.len() {
        return (truncate(batches, max), None);
    }
    all.sort_unstable_by(|a, b| b.cmp(a));
    let cut = all[max];
    let kept = batches
        .iter()
        .zip(&buckets)
        .filter_map(|(batch, b)| {
            let newer = arrow::compute::kernels::cmp::gt(b, &Int64Array::new_scalar(cut)).ok()?;
            arrow::compute::filter_record_batch(batch, &newer).ok()
        })
        .collect();
    (kept, Some(cut))
}

fn truncate(
    batches: &[arrow::record_batch::RecordBatch],
    max: usize,
) -> Vec<arrow::record_batch::RecordBatch> {
    let mut left = max;
    let mut out = Vec::new();
    for b in batches {
        if left == 0 {
            break;
        }
        let take = b.num_rows().min(left);
        out.push(b.slice(0, take));
        left -= take;
    }
    out
}
