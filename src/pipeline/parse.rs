//! The first stage: a panel request read as a typed query, held to the datasource's limits and
//! scope, planned and rendered (or, for raw SQL, expanded and checked).

use crate::plan::{self, Plan, PlanOptions, TableRef};
use crate::query::{AnyQuery, PanelQuery, QueryError, RawSql, ResourceTimeline, TimeWindow};
use crate::settings::Settings;
use crate::sql::macros::{self, Expanded, MacroContext};
use crate::sql::{self, Dialect};

use super::{lake_tables, PanelRequest, QueryFailure};

impl PanelRequest<'_> {
    /// The panel's time window (range, interval, max data points), validated against the
    /// datasource's limits: a range longer than `maxRangeDays` is refused, `maxDataPoints` is
    /// clamped to `maxPointsPerSeries`.
    pub(super) fn window(&self, settings: &Settings) -> Result<TimeWindow, QueryFailure> {
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

    /// Whether the request is a raw `sql` query (else a planned kind).
    pub(super) fn is_sql(&self) -> Result<bool, QueryFailure> {
        let query =
            AnyQuery::from_json_bytes(self.json).map_err(|e| QueryFailure::user(self.ref_id, e))?;
        Ok(matches!(query, AnyQuery::Sql(_)))
    }

    /// The resource timeline the request asks for, if it is one.
    pub(super) fn timeline(&self) -> Result<Option<ResourceTimeline>, QueryFailure> {
        match AnyQuery::from_json_bytes(self.json) {
            Ok(AnyQuery::Timeline(q)) => Ok(Some(q)),
            Ok(_) => Ok(None),
            Err(e) => Err(QueryFailure::user(self.ref_id, e)),
        }
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
        Ok(AnyQuery::Timeline(_)) => {
            return Err(QueryFailure::plugin(
                ref_id,
                "a resource_timeline query is planned, not expanded",
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

/// The plan of a query, held to the datasource's accounts and sources ([`crate::scope`]).
pub(super) fn scoped_plan(
    settings: &Settings,
    query: &PanelQuery,
    window: &TimeWindow,
) -> Result<Plan, String> {
    crate::scope::scope_plan(settings, plan::plan(query, window, &plan_options(settings)))
}

/// What planning needs of the datasource's settings.
fn plan_options(settings: &Settings) -> PlanOptions {
    PlanOptions {
        version: settings.source_version,
        home_region: settings.home_region.clone(),
        names: settings.lake.clone(),
        max_rows: settings.max_rows,
        lookback_days: settings.lookback_days,
    }
}
