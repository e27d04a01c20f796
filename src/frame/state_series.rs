//! State changes of findings → per time bucket, the state in force for each finding, counted per
//! group: pass rate and failing/passing resources as a wide time series that alert rules can
//! threshold.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde_json::json;

use super::encode::FrameError;
use super::{column, Field, Frame};
use crate::lake::source::SH_FINDINGS;
use crate::plan::{ENTITY, STATE, UPDATED};

/// How to shape a state-over-time result.
#[derive(Debug, Clone)]
pub struct StateSeriesOptions {
    /// Label columns in order.
    pub labels: Vec<&'static str>,
    /// Value fields: any of `pass_rate`, `failing`, `passing`.
    pub fields: &'static [&'static str],
    /// Bucket width, ms.
    pub bucket_ms: i64,
    /// Range start, epoch ms.
    pub from_ms: i64,
    /// Range end, epoch ms.
    pub to_ms: i64,
}

/// One finding's state changes, oldest first, and its labels.
#[derive(Default)]
struct Entity {
    labels: Vec<String>,
    changes: Vec<(i64, String)>,
}

fn strings(batch: &RecordBatch, name: &str) -> Result<StringArray, FrameError> {
    let c = cast(column(batch, name)?, &DataType::Utf8)?;
    Ok(c.as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8")
        .clone())
}

fn text(a: &StringArray, i: usize) -> String {
    if a.is_null(i) {
        String::new()
    } else {
        a.value(i).to_string()
    }
}

/// The state in force at `at`: the newest change at or before it.
fn state_at(changes: &[(i64, String)], at: i64) -> Option<&str> {
    let n = changes.partition_point(|(t, _)| *t <= at);
    n.checked_sub(1).map(|i| changes[i].1.as_str())
}

/// The bucket start times of a range (aligned to the width, as flow series are).
pub fn bucket_starts(from_ms: i64, to_ms: i64, width: i64) -> Vec<i64> {
    let width = width.max(1);
    let first = from_ms.div_euclid(width) * width;
    let last = to_ms.div_euclid(width) * width;
    (0..=((last - first) / width))
        .map(|i| first + i * width)
        .collect()
}

/// The instant a bucket's state is read at: its last millisecond, or the range end.
pub fn bucket_instant(start: i64, width: i64, to_ms: i64) -> i64 {
    (start + width.max(1) - 1).min(to_ms)
}

/// The state-over-time frame of `batches` (columns: labels…, `finding`, `updated` epoch ms,
/// `state`; one row per state change).
pub fn state_series_frame(
    ref_id: &str,
    batches: &[RecordBatch],
    options: &StateSeriesOptions,
) -> Result<Frame, FrameError> {
    let mut entities: HashMap<String, Entity> = HashMap::new();
    for batch in batches {
        let labels: Vec<StringArray> = options
            .labels
            .iter()
            .map(|l| strings(batch, l))
            .collect::<Result<_, _>>()?;
        let ids = strings(batch, ENTITY)?;
        let states = strings(batch, STATE)?;
        let times = cast(column(batch, UPDATED)?, &DataType::Int64)?;
        let times = times
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("cast to Int64");
        for i in 0..batch.num_rows() {
            let entity = entities.entry(text(&ids, i)).or_default();
            entity.labels = labels.iter().map(|l| text(l, i)).collect();
            entity.changes.push((times.value(i), text(&states, i)));
        }
    }
    let starts = bucket_starts(options.from_ms, options.to_ms, options.bucket_ms);
    // Per group: (passed, failed) per bucket.
    let mut groups: BTreeMap<Vec<String>, Vec<(i64, i64)>> = BTreeMap::new();
    // Ungrouped, the one series is there even in buckets before the first finding; with no
    // finding at all nothing was evaluated, which is no data (not a pass rate of nothing).
    if options.labels.is_empty() && !entities.is_empty() {
        groups.insert(Vec::new(), vec![(0, 0); starts.len()]);
    }
    for entity in entities.values_mut() {
        entity.changes.sort();
        let counts = groups
            .entry(entity.labels.clone())
            .or_insert_with(|| vec![(0, 0); starts.len()]);
        for (b, start) in starts.iter().enumerate() {
            let at = bucket_instant(*start, options.bucket_ms, options.to_ms);
            match state_at(&entity.changes, at) {
                Some("PASSED") => counts[b].0 += 1,
                Some("FAILED") => counts[b].1 += 1,
                _ => {}
            }
        }
    }
    let mut fields = vec![Field::new(
        "time",
        Arc::new(TimestampMillisecondArray::from(starts.clone())) as ArrayRef,
    )];
    for (key, counts) in &groups {
        let labels: BTreeMap<String, String> = options
            .labels
            .iter()
            .map(|l| l.to_string())
            .zip(key.iter().cloned())
            .collect();
        for name in options.fields {
            let values: ArrayRef = match *name {
                "pass_rate" => Arc::new(
                    counts
                        .iter()
                        .map(|(p, f)| pass_rate(*p, *f))
                        .collect::<Float64Array>(),
                ),
                "passing" => Arc::new(counts.iter().map(|(p, _)| Some(*p)).collect::<Int64Array>()),
                _ => Arc::new(counts.iter().map(|(_, f)| Some(*f)).collect::<Int64Array>()),
            };
            let unit = SH_FINDINGS.measure(name).map_or("short", |m| m.unit);
            let mut config = json!({"unit": unit});
            if *name == "pass_rate" {
                config["min"] = json!(0);
                config["max"] = json!(100);
            }
            let mut display: Vec<&str> = key.iter().map(String::as_str).collect();
            if options.fields.len() > 1 || display.is_empty() {
                display.push(name);
            }
            config["displayNameFromDS"] = json!(display.join(" / "));
            // Alert rules tell series apart by labels alone: with several measures per group,
            // the measure is a label too.
            let mut labels = labels.clone();
            if options.fields.len() > 1 {
                labels.insert("measure".to_string(), name.to_string());
            }
            fields.push(Field {
                name: name.to_string(),
                labels,
                config: Some(config),
                values,
            });
        }
    }
    let mut frame = Frame::new(ref_id, fields);
    frame.meta.frame_type = Some("timeseries-wide");
    frame.meta.preferred_visualisation = Some("graph");
    Ok(frame)
}

/// Percent of PASSED among PASSED and FAILED, one decimal; none when nothing was evaluated.
pub fn pass_rate(passed: i64, failed: i64) -> Option<f64> {
    let total = passed + failed;
    (total > 0).then(|| (passed as f64 * 1000.0 / total as f64).round() / 10.0)
}
