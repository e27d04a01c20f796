//! A resource timeline through the same stages as any planned panel, once per source: each
//! part is prepared and scheduled (day slices, cache) on its own, all parts are held to the scan
//! budget together, run concurrently, and their rows merged into one table in time order. A
//! source that cannot name the resource, that the datasource does not read, or whose optional
//! table is missing is skipped with a notice.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::budget::LoadCharge;
use crate::engine::{CacheOutcome, Engine, Fault, QueryOutput, ScanStats};
use crate::frame::{self, Frame, Notice};
use crate::lake::SOURCES;
use crate::query::{PanelQuery, ResourceTimeline, TimelineSource};
use crate::settings::Settings;
use crate::sql::{self, Dialect};

use super::execute::{self, run_slices};
use super::join::join;
use super::parse::scoped_plan;
use super::respond::Answer;
use super::schedule::schedule;
use super::{PanelRequest, Prepared, QueryFailure};

/// The parts that run, and a notice for each source skipped.
pub(super) fn prepare_parts(
    settings: &Settings,
    dialect: Dialect,
    request: &PanelRequest<'_>,
    query: &ResourceTimeline,
) -> Result<(Vec<Prepared>, Vec<Notice>), QueryFailure> {
    let window = request.window(settings)?;
    let (parts, unnamed) = query.parts();
    let resource = query.resource.text();
    let mut notices: Vec<Notice> = unnamed
        .iter()
        .map(|s| skipped(*s, &format!("its records cannot name {resource}")))
        .collect();
    let mut prepared = Vec::new();
    for part in parts {
        let source = part.source;
        let query = PanelQuery::Timeline(part);
        match scoped_plan(settings, &query, &window) {
            Ok(plan) => prepared.push(Prepared {
                sql: sql::render(&plan, dialect),
                query,
                window,
                plan,
            }),
            Err(reason) => notices.push(skipped(source, &reason)),
        }
    }
    Ok((prepared, notices))
}

fn skipped(source: TimelineSource, reason: &str) -> Notice {
    Notice {
        severity: "info",
        text: format!("The timeline leaves out {}: {reason}.", source.name()),
    }
}

/// The source a part reads.
fn source_of(prepared: &Prepared) -> TimelineSource {
    match &prepared.query {
        PanelQuery::Timeline(part) => part.source,
        other => unreachable!("a timeline part, not {}", other.kind()),
    }
}

/// Runs a resource timeline: its parts concurrently, one table frame.
pub(super) async fn run(
    engine: &dyn Engine,
    settings: &Settings,
    request: &PanelRequest<'_>,
    query: &ResourceTimeline,
    load: Option<LoadCharge<'_>>,
    now: DateTime<Utc>,
) -> Result<Vec<Frame>, QueryFailure> {
    let ref_id = request.ref_id;
    let (parts, mut notices) = prepare_parts(settings, engine.dialect(), request, query)?;
    let schedules = futures::future::join_all(
        parts
            .iter()
            .map(|p| schedule(engine, settings, p, ref_id, now)),
    )
    .await;
    let estimate = execute::check_budgets(engine, settings, &schedules, load).await?;
    let runs = schedules.iter().map(|s| async move {
        let slices = run_slices(engine, s).await?;
        join(engine, s, slices).await
    });
    let results = futures::future::join_all(runs).await;
    let mut rows = Vec::new();
    let mut outputs = Vec::new();
    let mut meta = Vec::new();
    for (part, result) in parts.iter().zip(results) {
        let source = source_of(part);
        match result {
            Ok(joined) => {
                let output = joined.output;
                rows.extend(frame::timeline_rows(
                    source,
                    &query.resource,
                    &output.batches,
                ));
                meta.push(json!({
                    "source": source.name(),
                    "sql": part.sql,
                    "rows": output.rows(),
                    "partitionsRead": output.stats.partitions.len(),
                    "partitions": output.stats.partitions,
                }));
                outputs.push(output);
            }
            Err(e) if e.fault == Fault::User && optional(part) => {
                notices.push(skipped(source, &e.message));
            }
            Err(e) => return Err(e),
        }
    }
    let output = combined(&outputs);
    let rows = frame::ordered(rows, query.limit, &mut notices);
    let frame =
        frame::timeline_frame(ref_id, &rows).map_err(|e| QueryFailure::plugin(ref_id, e))?;
    let mut answer = Answer::new(engine, settings, &output, "resource_timeline");
    answer.unknown_fields(request.json);
    answer.estimate(estimate);
    answer.notices.extend(notices);
    answer.meta("parts", meta);
    let sql: Vec<String> = parts.iter().map(|p| format!("{};", p.sql)).collect();
    Ok(vec![answer.finish(frame, &sql.join("\n"))])
}

/// Whether the part reads a source a lake may lack (CloudTrail, Route 53).
fn optional(part: &Prepared) -> bool {
    SOURCES
        .iter()
        .any(|s| s.source == part.plan.table.source && s.optional)
}

/// The parts' outputs as one, for the answer's statistics: what they read added up.
fn combined(outputs: &[QueryOutput]) -> QueryOutput {
    let mut stats = ScanStats::default();
    for o in outputs {
        stats.files += o.stats.files;
        stats.file_bytes += o.stats.file_bytes;
        stats.bytes_read += o.stats.bytes_read;
        stats.partitions.extend(o.stats.partitions.iter().cloned());
    }
    QueryOutput {
        schema: std::sync::Arc::new(arrow::datatypes::Schema::empty()),
        batches: Vec::new(),
        stats,
        elapsed: outputs.iter().map(|o| o.elapsed).max().unwrap_or_default(),
        athena: None,
        cache: outputs.first().map_or(CacheOutcome::Miss, |o| o.cache),
    }
}
