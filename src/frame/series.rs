//! Long `(time_bucket, labels…, value)` rows → one wide time-series frame.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use serde_json::json;

use super::encode::FrameError;
use super::{as_i64, as_text, column, Field, Frame, Notice};
use crate::query::Protocol;

/// How to shape a time series.
#[derive(Debug, Clone)]
pub struct SeriesOptions {
    /// Label columns (dimension names), in column order after the bucket.
    pub labels: Vec<&'static str>,
    /// Label columns of IANA protocol numbers, shown by name (TCP, UDP, …).
    pub protocol_labels: Vec<&'static str>,
    /// The value column (the measure's name).
    pub value: &'static str,
    /// The value's Grafana unit.
    pub unit: &'static str,
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
    /// When the row cap cut the result: the first bucket whose rows are all there. Buckets
    /// before it are left empty (null), not 0.
    pub complete_from_ms: Option<i64>,
}

/// The label text of a value, e.g. protocol 6 → `TCP` in a protocol label.
pub fn label_text(protocol: bool, raw: &str) -> String {
    if !protocol {
        return raw.to_string();
    }
    raw.parse::<i64>()
        .ok()
        .and_then(Protocol::name)
        .map_or_else(|| raw.to_string(), str::to_string)
}

/// One series being summed: its label texts, its (bucket, value) rows, its total.
///
/// Rows stay sparse until the series is kept: a query grouped by addresses can return as many
/// series as rows, and a dense vector per series would cost series × buckets.
struct Summed {
    key: Vec<String>,
    points: Vec<(u32, i64)>,
    total: i128,
}

impl Summed {
    /// Adds this series' rows into one value per bucket.
    fn add_into(&self, dense: &mut [i64]) {
        for (slot, v) in &self.points {
            dense[*slot as usize] += v;
        }
    }
}

/// Builds the wide frame; buckets without rows are 0 (no flows), so alert rules see silence.
pub fn time_series_frame(
    name: &str,
    batches: &[RecordBatch],
    opts: &SeriesOptions,
) -> Result<Frame, FrameError> {
    let width = opts.bucket_ms.max(1);
    let first = opts.from_ms.div_euclid(width) * width;
    let last = opts.to_ms.div_euclid(width) * width;
    let buckets_in_range = ((last - first) / width + 1) as usize;
    let columns = batches
        .iter()
        .map(|batch| {
            let labels: Vec<StringArray> = opts
                .labels
                .iter()
                .map(|d| as_text(column(batch, d)?))
                .collect::<Result<_, FrameError>>()?;
            Ok((
                as_i64(column(batch, crate::plan::TIME_BUCKET)?)?,
                as_i64(column(batch, opts.value)?)?,
                labels,
            ))
        })
        .collect::<Result<Vec<_>, FrameError>>()?;
    // Raw label values → series, worked out once per distinct combination: one hash and no
    // allocation per row.
    let mut series: Vec<Summed> = Vec::new();
    let mut by_key: HashMap<Vec<String>, usize> = HashMap::new();
    let mut by_raw: HashMap<Vec<Option<&str>>, usize> = HashMap::new();
    let mut raw: Vec<Option<&str>> = Vec::with_capacity(opts.labels.len());
    for (buckets, values, labels) in &columns {
        for row in 0..buckets.len() {
            if buckets.is_null(row) {
                continue;
            }
            let slot = (buckets.value(row) - first).div_euclid(width);
            if slot < 0 || slot as usize >= buckets_in_range {
                continue;
            }
            raw.clear();
            raw.extend(
                labels
                    .iter()
                    .map(|a| (!a.is_null(row)).then(|| a.value(row))),
            );
            let index = match by_raw.get(raw.as_slice()) {
                Some(i) => *i,
                None => {
                    let key: Vec<String> = opts
                        .labels
                        .iter()
                        .zip(&raw)
                        .map(|(d, v)| {
                            let protocol = opts.protocol_labels.contains(d);
                            v.map_or_else(String::new, |v| label_text(protocol, v))
                        })
                        .collect();
                    let i = *by_key.entry(key.clone()).or_insert_with(|| {
                        series.push(Summed {
                            key,
                            points: Vec::new(),
                            total: 0,
                        });
                        series.len() - 1
                    });
                    by_raw.insert(raw.clone(), i);
                    i
                }
            };
            let v = if values.is_null(row) {
                0
            } else {
                values.value(row)
            };
            let s = &mut series[index];
            s.points.push((slot as u32, v));
            s.total += i128::from(v);
        }
    }
    if opts.labels.is_empty() && series.is_empty() {
        series.push(Summed {
            key: Vec::new(),
            points: Vec::new(),
            total: 0,
        });
    }

    // Order: by total when folding, else by label values.
    let keep = opts
        .top
        .map_or(opts.max_series, |t| (t as usize).min(opts.max_series));
    let mut notices = Vec::new();
    let mut other: Option<Vec<i64>> = None;
    if series.len() > keep {
        series.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
        let folded = series.split_off(keep);
        let mut sum = vec![0i64; buckets_in_range];
        for s in &folded {
            s.add_into(&mut sum);
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
    series.sort_by(|a, b| a.key.cmp(&b.key));

    let times: Vec<i64> = (0..buckets_in_range as i64)
        .map(|i| first + i * width)
        .collect();
    let mut fields = vec![Field::new(
        "time",
        Arc::new(TimestampMillisecondArray::from(times)) as ArrayRef,
    )];
    let unit = opts.unit;
    // Slots before the first complete bucket are unknown after a cut.
    let unknown = opts.complete_from_ms.map_or(0, |c| {
        ((c - first).div_euclid(width)).clamp(0, buckets_in_range as i64) as usize
    });
    let value_field = |labels: BTreeMap<String, String>, points: Vec<i64>| {
        let mut config = json!({"unit": unit});
        if !labels.is_empty() {
            let display: Vec<&str> = labels.values().map(String::as_str).collect();
            config["displayNameFromDS"] = json!(display.join(" / "));
        }
        Field {
            name: opts.value.to_string(),
            labels,
            config: Some(config),
            values: Arc::new(
                points
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (i >= unknown).then_some(v))
                    .collect::<Int64Array>(),
            ),
        }
    };
    for s in series {
        let mut points = vec![0i64; buckets_in_range];
        s.add_into(&mut points);
        let labels: BTreeMap<String, String> = opts
            .labels
            .iter()
            .map(|d| d.to_string())
            .zip(s.key)
            .collect();
        fields.push(value_field(labels, points));
    }
    if let Some(sum) = other {
        let labels = opts
            .labels
            .iter()
            .map(|d| (d.to_string(), "other".to_string()))
            .collect();
        fields.push(value_field(labels, sum));
    }
    let mut frame = Frame::new(name, fields);
    frame.meta.frame_type = Some("timeseries-wide");
    frame.meta.preferred_visualisation = Some("graph");
    frame.meta.notices = notices;
    Ok(frame)
}
