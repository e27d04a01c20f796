//! The second stage: what a planned panel runs. Its rows, and for a table that shows a page of a
//! larger result the count of the whole; each whole or, with caching on, in day slices when the
//! slices pay on the engine's billing; and coverage's lookup of the VPCs EC2.6 findings know of.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::engine::{Engine, EngineRequest};
use crate::merge;
use crate::plan::{self, Plan, Shape, TableRef};
use crate::settings::Settings;
use crate::sql::{self, Dialect};

use super::enrich::{self, Enrichment};
use super::Prepared;

/// What one planned panel runs.
pub(super) struct Schedule {
    /// Grafana refId, for the engine's logs and the budget's messages.
    pub ref_id: String,
    /// The table every job reads.
    pub table: TableRef,
    /// The rows job first, then the count job of a paged table.
    pub jobs: Vec<Job>,
    /// How slices were weighed against the engine's minimum bill, for the frame meta.
    pub slicing: Option<serde_json::Value>,
    /// Coverage's lookup of the VPCs EC2.6 findings know of, when it applies.
    pub enrichment: Option<Enrichment>,
}

impl Schedule {
    /// An engine request for one of the jobs' queries.
    pub fn request(&self, sql: &str, settled: bool) -> EngineRequest {
        EngineRequest {
            ref_id: self.ref_id.clone(),
            sql: sql.to_string(),
            tables: vec![self.table.clone()],
            settled,
            row_limit: None,
        }
    }

    /// The whole SQL of the count job, for the frame meta.
    pub fn count_sql(&self) -> Option<String> {
        self.jobs.get(1).map(|j| j.sql.clone())
    }
}

/// One plan of a panel (its rows, or the count of a paged table): rendered whole, and in day
/// slices when it splits.
pub(super) struct Job {
    pub plan: Plan,
    pub sql: String,
    pub sliced: Option<(plan::slices::Sliced, Vec<String>)>,
    /// The last (open) slice is not run: its count comes with the rows job's open slice.
    pub tail_shared: bool,
}

impl Job {
    /// The slices that run (all but a shared tail), with their SQL.
    pub fn runs(&self) -> impl Iterator<Item = (&plan::slices::Slice, &String)> {
        self.sliced.iter().flat_map(move |(sliced, sqls)| {
            let n = sliced.slices.len() - usize::from(self.tail_shared);
            sliced.slices[..n].iter().zip(sqls)
        })
    }
}

/// The jobs of a prepared panel query at wall-clock time `now` (which decides what has
/// settled), with their slices weighed, and coverage's lookup.
pub(super) async fn schedule(
    engine: &dyn Engine,
    settings: &Settings,
    prepared: &Prepared,
    ref_id: &str,
    now: DateTime<Utc>,
) -> Schedule {
    let dialect = engine.dialect();
    let job = |plan: Plan, sql: String| Job {
        sliced: day_slices(settings, &plan, dialect, now),
        plan,
        sql,
        tail_shared: false,
    };
    // A table that shows a page of a larger result also counts the whole result, concurrently.
    let mut jobs = vec![job(prepared.plan.clone(), prepared.sql.clone())];
    if let Shape::Table {
        count_total: true, ..
    } = prepared.plan.shape
    {
        let counting = prepared.plan.counting();
        let sql = sql::render(&counting, dialect);
        jobs.push(job(counting, sql));
    }
    let mut schedule = Schedule {
        ref_id: ref_id.to_string(),
        table: prepared.plan.table.clone(),
        jobs,
        slicing: None,
        enrichment: enrich::plan(settings, prepared, ref_id, dialect),
    };
    let whole = schedule.request(&prepared.sql, false);
    schedule.slicing = keep_slices_that_pay(
        engine,
        &whole,
        &prepared.plan.partitions,
        &mut schedule.jobs,
    )
    .await;
    if let [rows, count] = schedule.jobs.as_mut_slice() {
        share_open_count(rows, count, dialect);
    }
    schedule
}

/// With caching on, a plan over settled days and hours runs in day slices: what no longer
/// changes is reused when the range moves. None: it runs whole.
fn day_slices(
    settings: &Settings,
    plan: &Plan,
    dialect: Dialect,
    now: DateTime<Utc>,
) -> Option<(plan::slices::Sliced, Vec<String>)> {
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
fn share_open_count(rows: &mut Job, count: &mut Job, dialect: Dialect) {
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
