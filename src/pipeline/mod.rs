//! One panel query through the whole path: query → plan → sql → engine → frame.
//! Used by the plugin service and by the CLI alike, so both answer the same.
//!
//! The path runs in stages, one module each: `parse` reads, scopes and plans the query (or
//! expands raw SQL); `schedule` decides what a planned panel runs (its rows and a paged table's
//! count, whole or in day slices, and coverage's EC2.6 lookup); `execute` holds those runs to
//! the scan budget and runs them; `join` puts day slices back together; `respond` builds the
//! answer (notices, row cap, statistics, meta) around the frame `frames` shapes. `enrich` is
//! coverage's EC2.6 lookup, `health` the datasource's health check.

mod enrich;
mod execute;
mod frames;
mod health;
mod join;
mod parse;
mod respond;
mod schedule;
mod timeline;

use chrono::{DateTime, Utc};
use tracing::Instrument;

use crate::budget::LoadCharge;
use crate::engine::{Engine, EngineRequest, Fault};
use crate::frame::Frame;
use crate::lake::discovery::{DiscoveryError, Resolution, Wanted};
use crate::lake::SOURCES;
use crate::plan::TableRef;
use crate::query::AnyQuery;
use crate::settings::Settings;
use crate::sql::Dialect;

pub use health::health;
pub use parse::{prepare, prepare_sql, Prepared, PreparedSql};
pub use respond::unpruned_notice;

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

/// Runs a panel query on an engine and shapes the frames.
pub async fn run_panel(
    engine: &dyn Engine,
    settings: &Settings,
    request: &PanelRequest<'_>,
    load: Option<LoadCharge<'_>>,
) -> Result<Vec<Frame>, QueryFailure> {
    answer_panel_at(engine, settings, request, load, Utc::now()).await
}

/// [`run_panel`] as if the wall clock read `now`: the frames a panel shows, accounts named.
pub async fn answer_panel_at(
    engine: &dyn Engine,
    settings: &Settings,
    request: &PanelRequest<'_>,
    load: Option<LoadCharge<'_>>,
    now: DateTime<Utc>,
) -> Result<Vec<Frame>, QueryFailure> {
    let mut frames = run_panel_at(engine, settings, request, load, now).await?;
    // The datasource's own names win over what the engine learns (e.g. AWS Organizations).
    let mut names = engine.account_names().await;
    names.extend(settings.account_names.clone());
    crate::frame::account_names::name_accounts(&mut frames, &names);
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
    if request.is_sql()? {
        return run_sql(engine, settings, request, load).await;
    }
    if let Some(query) = request.timeline()? {
        return timeline::run(engine, settings, request, &query, load, now).await;
    }
    let ref_id = request.ref_id;
    let prepared = prepare(settings, engine.dialect(), request)?;
    let trace = execute::Trace::start(ref_id, prepared.query.kind(), engine.name());
    let schedule = schedule::schedule(engine, settings, &prepared, ref_id, now).await;
    let estimate = execute::check_budget(engine, settings, &schedule, load).await?;
    let joined = async {
        let slices = execute::run_slices(engine, &schedule).await?;
        join::join(engine, &schedule, slices).await
    }
    .instrument(trace.span.clone())
    .await?;
    trace.done(&joined.output);
    let known = enrich::vpcs_in_findings(engine, schedule.enrichment.as_ref()).await;
    let ran = respond::Ran {
        estimate,
        joined,
        known,
    };
    respond::panel(engine, settings, request, &prepared, &schedule, ran)
}

/// Runs a `sql` query: expand, hold to the budget, run, shape as a table or a wide time series.
async fn run_sql(
    engine: &dyn Engine,
    settings: &Settings,
    request: &PanelRequest<'_>,
    load: Option<LoadCharge<'_>>,
) -> Result<Vec<Frame>, QueryFailure> {
    let prepared = prepare_sql(settings, engine.dialect(), request)?;
    let engine_request = EngineRequest {
        ref_id: request.ref_id.to_string(),
        sql: prepared.expanded.sql.clone(),
        tables: prepared.expanded.tables.clone(),
        settled: false,
        // The row cap plus one, so that a cut shows.
        row_limit: Some(settings.max_rows.saturating_add(1) as usize),
    };
    let estimate =
        execute::check_sql_budget(engine, settings, &prepared, &engine_request, load).await?;
    let output = execute::run_user_sql(engine, &engine_request).await?;
    respond::sql(engine, settings, request, &prepared, estimate, &output)
}

/// The Security Lake tables a datasource queries (every source, in its source version).
pub fn lake_tables(settings: &Settings) -> Vec<TableRef> {
    tables_of(settings, |_| true)
}

/// The tables the health check requires: those of the sources that are not optional (a lake
/// without CloudTrail is still a lake).
pub fn required_tables(settings: &Settings) -> Vec<TableRef> {
    tables_of(settings, |spec| !spec.optional)
}

fn tables_of(
    settings: &Settings,
    keep: impl Fn(&crate::lake::source::SourceSpec) -> bool,
) -> Vec<TableRef> {
    SOURCES
        .iter()
        .filter(|spec| keep(spec) && spec.source.has_version(settings.source_version))
        .map(|spec| TableRef {
            source: spec.source,
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

/// The SQL a query of any kind runs on a dialect (what the CLI's `sql` command prints).
pub fn render_sql(
    settings: &Settings,
    dialect: Dialect,
    request: &PanelRequest<'_>,
) -> Result<String, QueryFailure> {
    match AnyQuery::from_json_bytes(request.json) {
        Ok(AnyQuery::Sql(_)) => Ok(parse::prepare_sql(settings, dialect, request)?.expanded.sql),
        Ok(AnyQuery::Panel(_)) => Ok(parse::prepare(settings, dialect, request)?.sql),
        Ok(AnyQuery::Timeline(q)) => Ok(timeline::prepare_parts(settings, dialect, request, &q)?
            .0
            .iter()
            .map(|p| format!("{};", p.sql))
            .collect::<Vec<_>>()
            .join("\n")),
        Err(e) => Err(QueryFailure::user(request.ref_id, e)),
    }
}

#[cfg(test)]
mod tests;
