//! The fourth stage: a panel's day slices put back together into the result of each job
//! ([`crate::merge`] does the joining), the page's count completed with its shared open slice.

use arrow::array::UInt64Array;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use serde_json::json;

use crate::cache::CacheOutcome;
use crate::engine::{Engine, QueryOutput};
use crate::merge;

use super::execute::run_query;
use super::schedule::{Job, Schedule};
use super::QueryFailure;

/// What a panel's jobs returned, each as one result.
pub(super) struct Joined {
    /// The rows job's result.
    pub output: QueryOutput,
    /// How the rows job's day slices went (`daySlices` meta); None when it ran whole.
    pub day_slices: Option<serde_json::Value>,
    /// The count job's result, for a paged table.
    pub counted: Option<QueryOutput>,
}

impl Joined {
    /// The number of matching rows a paged table counted.
    pub fn total(&self) -> Option<u64> {
        self.counted.as_ref().map(|c| first_count(&c.batches))
    }
}

/// Joins each job's slices (`slices`, in job order, as [`super::execute::run_slices`] returns
/// them) into one result; a job that ran whole, or whose slices do not fit together, runs whole
/// here.
pub(super) async fn join(
    engine: &dyn Engine,
    schedule: &Schedule,
    mut slices: Vec<Option<Vec<QueryOutput>>>,
) -> Result<Joined, QueryFailure> {
    if let ([_, count], [rows_out, count_out]) = (schedule.jobs.as_slice(), slices.as_mut_slice()) {
        if count.tail_shared {
            count_tail(engine, schedule, rows_out, count, count_out).await?;
        }
    }
    let jobs = schedule
        .jobs
        .iter()
        .zip(slices)
        .map(|(job, outputs)| join_job(engine, schedule, job, outputs));
    let mut joined = futures::future::join_all(jobs).await.into_iter();
    let (output, day_slices) = joined.next().expect("a rows job")?;
    let counted = joined.next().transpose()?.map(|(count, _)| count);
    Ok(Joined {
        output,
        day_slices,
        counted,
    })
}

/// A count's shared tail: the rows job's open slice's window count (taken out of it), or the
/// tail run after all when that did not come back.
async fn count_tail(
    engine: &dyn Engine,
    schedule: &Schedule,
    rows: &mut Option<Vec<QueryOutput>>,
    count: &Job,
    outputs: &mut Option<Vec<QueryOutput>>,
) -> Result<(), QueryFailure> {
    let (Some(outputs), Some((sliced, sqls))) = (outputs.as_mut(), &count.sliced) else {
        return Ok(());
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
            run_query(engine, &schedule.request(sql, slice.closed)).await?
        }
    };
    outputs.push(tail);
    Ok(())
}

/// One job's result: its slices joined (with what they reused, for the meta), or its whole
/// query run.
async fn join_job(
    engine: &dyn Engine,
    schedule: &Schedule,
    job: &Job,
    outputs: Option<Vec<QueryOutput>>,
) -> Result<(QueryOutput, Option<serde_json::Value>), QueryFailure> {
    let whole = schedule.request(&job.sql, false);
    let (Some((sliced, _)), Some(outputs)) = (&job.sliced, outputs) else {
        return Ok((run_query(engine, &whole).await?, None));
    };
    let meta = json!({
        "slices": outputs.len(),
        "reused": outputs.iter().filter(|o| o.cache == CacheOutcome::Hit).count(),
        "closed": sliced.slices.iter().filter(|s| s.closed).count(),
    });
    match merge::join_slices(&job.plan, sliced, outputs, engine.dialect()) {
        Ok(output) => Ok((output, Some(meta))),
        Err(e) => {
            tracing::info!(error = %e, "day slices did not fit together; running whole");
            Ok((run_query(engine, &whole).await?, None))
        }
    }
}

/// The single integer of a `COUNT(*)` result.
fn first_count(batches: &[RecordBatch]) -> u64 {
    batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            let col = arrow::compute::cast(b.column(0), &DataType::UInt64).ok()?;
            col.as_any()
                .downcast_ref::<UInt64Array>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0)
}
