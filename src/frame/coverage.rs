//! Last-record times per group → a coverage table (last seen, minutes since) or one wide frame
//! with a "minutes since the last flow record" number per group, labelled, for alert rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde_json::json;

use super::encode::FrameError;
use super::{column, Field, Frame};
use crate::query::{CoverageFormat, Dimension};

/// How to shape a coverage result.
#[derive(Debug, Clone)]
pub struct CoverageOptions {
    /// Key columns, in order.
    pub keys: Vec<Dimension>,
    /// "Now", epoch ms.
    pub reference_ms: i64,
    /// Table or series.
    pub format: CoverageFormat,
    /// Groups known from elsewhere (VPCs in EC2.6 findings): listed with no last record when
    /// the result lacks them.
    pub known: Vec<Vec<String>>,
    /// The look-back, minutes: how long a known group without records has been silent at least.
    pub lookback_minutes: i64,
    /// Keep only groups silent for more than this many minutes.
    pub silent_for_minutes: Option<u32>,
}

/// One group's last record.
struct Row {
    keys: Vec<String>,
    /// None: no record in the look-back window.
    last_ms: Option<i64>,
    flows: i64,
}

fn rows(batches: &[RecordBatch], keys: &[Dimension]) -> Result<Vec<Row>, FrameError> {
    let mut out = Vec::new();
    for batch in batches {
        let key_columns: Vec<StringArray> = keys
            .iter()
            .map(|k| {
                let c = cast(column(batch, k.name())?, &DataType::Utf8)?;
                Ok(c.as_any()
                    .downcast_ref::<StringArray>()
                    .expect("cast to Utf8")
                    .clone())
            })
            .collect::<Result<_, FrameError>>()?;
        let int = |name: &str| -> Result<Int64Array, FrameError> {
            let c = cast(column(batch, name)?, &DataType::Int64)?;
            Ok(c.as_any()
                .downcast_ref::<Int64Array>()
                .expect("cast to Int64")
                .clone())
        };
        let last = int(crate::plan::LAST_SEEN)?;
        let flows = int("flows")?;
        for i in 0..batch.num_rows() {
            out.push(Row {
                keys: key_columns
                    .iter()
                    .map(|c| {
                        if c.is_null(i) {
                            String::new()
                        } else {
                            c.value(i).to_string()
                        }
                    })
                    .collect(),
                last_ms: Some(last.value(i)),
                flows: flows.value(i),
            });
        }
    }
    // A group read in several day slices has a row per slice: its last record is the newest of
    // them and its flows their sum. Longest-silent first, then by keys (as the SQL orders them).
    out.sort_by(|a, b| a.keys.cmp(&b.keys));
    out.dedup_by(|later, first| {
        let same = later.keys == first.keys;
        if same {
            first.last_ms = first.last_ms.max(later.last_ms);
            first.flows += later.flows;
        }
        same
    });
    out.sort_by(|a, b| a.last_ms.cmp(&b.last_ms).then_with(|| a.keys.cmp(&b.keys)));
    Ok(out)
}

fn minutes_since(reference_ms: i64, last_ms: i64) -> f64 {
    ((reference_ms - last_ms).max(0) as f64 / 60_000.0 * 10.0).round() / 10.0
}

impl CoverageOptions {
    /// Minutes since a group's last record; the look-back for groups with none (at least that).
    fn silent_minutes(&self, row: &Row) -> f64 {
        row.last_ms.map_or(self.lookback_minutes as f64, |last| {
            minutes_since(self.reference_ms, last)
        })
    }
}

/// The result rows plus the known groups it lacks, which go first (silent the longest).
fn with_known(mut rows: Vec<Row>, options: &CoverageOptions) -> Vec<Row> {
    let mut missing: Vec<Row> = options
        .known
        .iter()
        .filter(|k| !rows.iter().any(|r| &r.keys == *k))
        .filter(|_| {
            options
                .silent_for_minutes
                .is_none_or(|m| options.lookback_minutes > i64::from(m))
        })
        .map(|k| Row {
            keys: k.clone(),
            last_ms: None,
            flows: 0,
        })
        .collect();
    missing.sort_by(|a, b| a.keys.cmp(&b.keys));
    missing.dedup_by(|a, b| a.keys == b.keys);
    if let Some(m) = options.silent_for_minutes {
        let threshold = options.reference_ms - i64::from(m) * 60_000;
        rows.retain(|r| r.last_ms.is_some_and(|last| last < threshold));
    }
    missing.append(&mut rows);
    missing
}

/// The coverage frame of `batches` (columns: keys…, `last_seen` epoch ms, `flows`).
pub fn coverage_frame(
    ref_id: &str,
    batches: &[RecordBatch],
    options: &CoverageOptions,
) -> Result<Frame, FrameError> {
    let rows = with_known(rows(batches, &options.keys)?, options);
    match options.format {
        CoverageFormat::Table => {
            let mut fields: Vec<Field> = options
                .keys
                .iter()
                .enumerate()
                .map(|(k, dim)| {
                    let values: StringArray =
                        rows.iter().map(|r| Some(r.keys[k].as_str())).collect();
                    Field::new(dim.name(), Arc::new(values) as ArrayRef)
                })
                .collect();
            let last: TimestampMillisecondArray = rows.iter().map(|r| r.last_ms).collect();
            fields.push(Field::new("last_seen", Arc::new(last) as ArrayRef));
            let since: Float64Array = rows
                .iter()
                .map(|r| Some(options.silent_minutes(r)))
                .collect();
            let mut since = Field::new("minutes_since", Arc::new(since) as ArrayRef);
            since.config = Some(json!({"unit": "m"}));
            fields.push(since);
            let flows: Int64Array = rows.iter().map(|r| Some(r.flows)).collect();
            fields.push(Field::new("flows", Arc::new(flows) as ArrayRef));
            let mut frame = Frame::new(ref_id, fields);
            frame.meta.preferred_visualisation = Some("table");
            Ok(frame)
        }
        CoverageFormat::Series => {
            let time = TimestampMillisecondArray::from(vec![options.reference_ms]);
            let mut fields = vec![Field::new("time", Arc::new(time) as ArrayRef)];
            for r in &rows {
                let labels: BTreeMap<String, String> = options
                    .keys
                    .iter()
                    .zip(&r.keys)
                    .map(|(d, v)| (d.name().to_string(), v.clone()))
                    .collect();
                let value = Float64Array::from(vec![options.silent_minutes(r)]);
                let mut field = Field::new("minutes_since", Arc::new(value) as ArrayRef);
                field.config = Some(json!({
                    "unit": "m",
                    "displayNameFromDS": r.keys.join(" / "),
                }));
                field.labels = labels;
                fields.push(field);
            }
            let mut frame = Frame::new(ref_id, fields);
            frame.meta.frame_type = Some("timeseries-wide");
            Ok(frame)
        }
    }
}
