//! Long `(time_bucket, labels…, value)` rows → one wide time-series frame.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde_json::json;

use super::encode::FrameError;
use super::{column, Field, Frame, Notice};
use crate::query::{Dimension, Measure, Protocol};

/// How to shape a time series.
#[derive(Debug, Clone)]
pub struct SeriesOptions {
    /// Label dimensions, in column order after the bucket.
    pub labels: Vec<Dimension>,
    /// The value column.
    pub measure: Measure,
    /// Bucket width, ms.
    pub bucket_ms: i64,
    /// Range start, epoch ms.
    pub from_ms: i64,
    /// Range end, epoch ms.
    pub to_ms: i64,
    /// Keep the top N series (by total) and fold the rest into `other`.
    pub top: Option<u32>,
    /// Most series a frame may carry whatever `top` says.
    pub max_series: usize,
}

/// The label text of a value, e.g. protocol 6 → `TCP`.
pub fn label_text(dim: Dimension, raw: &str) -> String {
    match dim {
        Dimension::Protocol => raw
            .parse::<i64>()
            .ok()
            .and_then(Protocol::name)
            .map_or_else(|| raw.to_string(), str::to_string),
        _ => raw.to_string(),
    }
}

fn as_i64(values: &ArrayRef) -> Result<Int64Array, FrameError> {
    let cast = cast(values, &DataType::Int64)?;
    Ok(cast
        .as_any()
        .downcast_ref::<Int64Array>()
        .cloned()
        .unwrap_or_else(|| Int64Array::from(Vec::<i64>::new())))
}

fn as_text(values: &ArrayRef) -> Result<StringArray, FrameError> {
    let cast = cast(values, &DataType::Utf8)?;
    Ok(cast
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .unwrap_or_else(|| StringArray::from(Vec::<String>::new())))
}

/// Builds the wide frame; buckets without rows are 0 (no flows), so alert rules see silence.
pub fn time_series_frame(
    name: &str,
    batches: &[RecordBatch],
    opts: &SeriesOptions,
) -> Result<Frame, FrameError> {
    type Key = Vec<String>;
    let mut series: HashMap<Key, HashMap<i64, i64>> = HashMap::new();
    let mut totals: HashMap<Key, i128> = HashMap::new();
    for batch in batches {
        let buckets = as_i64(column(batch, crate::plan::TIME_BUCKET)?)?;
        let values = as_i64(column(batch, opts.measure.name())?)?;
        let labels: Vec<StringArray> = opts
            .labels
            .iter()
            .map(|d| as_text(column(batch, d.name())?))
            .collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            if buckets.is_null(row) {
                continue;
            }
            let key: Key = opts
                .labels
                .iter()
                .zip(&labels)
                .map(|(d, a)| {
                    if a.is_null(row) {
                        String::new()
                    } else {
                        label_text(*d, a.value(row))
                    }
                })
                .collect();
            let v = if values.is_null(row) {
                0
            } else {
                values.value(row)
            };
            *series
                .entry(key.clone())
                .or_default()
                .entry(buckets.value(row))
                .or_default() += v;
            *totals.entry(key).or_default() += i128::from(v);
        }
    }
    if opts.labels.is_empty() && series.is_empty() {
        series.insert(Vec::new(), HashMap::new());
        totals.insert(Vec::new(), 0);
    }

    // Order: by total when folding, else by label values.
    let mut keys: Vec<Key> = series.keys().cloned().collect();
    let keep = opts
        .top
        .map_or(opts.max_series, |t| (t as usize).min(opts.max_series));
    let mut notices = Vec::new();
    let mut other: Option<HashMap<i64, i64>> = None;
    if keys.len() > keep {
        keys.sort_by(|a, b| totals[b].cmp(&totals[a]).then_with(|| a.cmp(b)));
        let folded = keys.split_off(keep);
        let mut sum: HashMap<i64, i64> = HashMap::new();
        for key in &folded {
            for (bucket, v) in &series[key] {
                *sum.entry(*bucket).or_default() += v;
            }
        }
        let reason = if opts.top.is_some_and(|t| (t as usize) <= opts.max_series) {
            format!("top {keep} series shown")
        } else {
            format!("the series cap of this datasource is {keep}")
        };
        notices.push(Notice {
            severity: "info",
            text: format!(
                "{} of {} series are folded into \"other\" ({reason}).",
                folded.len(),
                folded.len() + keep
            ),
        });
        other = Some(sum);
    }
    keys.sort();

    let width = opts.bucket_ms.max(1);
    let first = opts.from_ms.div_euclid(width) * width;
    let last = opts.to_ms.div_euclid(width) * width;
    let times: Vec<i64> = (0..=((last - first) / width))
        .map(|i| first + i * width)
        .collect();
    let mut fields = vec![Field::new(
        "time",
        Arc::new(TimestampMillisecondArray::from(times.clone())) as ArrayRef,
    )];
    let unit = opts.measure.unit();
    let value_field = |labels: BTreeMap<String, String>, points: &HashMap<i64, i64>| {
        let values: Int64Array = times
            .iter()
            .map(|t| Some(*points.get(t).unwrap_or(&0)))
            .collect();
        let mut config = json!({"unit": unit});
        if !labels.is_empty() {
            let display: Vec<&str> = labels.values().map(String::as_str).collect();
            config["displayNameFromDS"] = json!(display.join(" / "));
        }
        Field {
            name: opts.measure.name().to_string(),
            labels,
            config: Some(config),
            values: Arc::new(values),
        }
    };
    for key in &keys {
        let labels: BTreeMap<String, String> = opts
            .labels
            .iter()
            .map(|d| d.name().to_string())
            .zip(key.iter().cloned())
            .collect();
        fields.push(value_field(labels, &series[key]));
    }
    if let Some(sum) = other {
        let labels = opts
            .labels
            .iter()
            .map(|d| (d.name().to_string(), "other".to_string()))
            .collect();
        fields.push(value_field(labels, &sum));
    }
    let mut frame = Frame::new(name, fields);
    frame.meta.frame_type = Some("timeseries-wide");
    frame.meta.preferred_visualisation = Some("graph");
    frame.meta.notices = notices;
    Ok(frame)
}
