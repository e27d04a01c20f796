//! Hourly egress per group, scored against the same hour of day over the baseline days: the
//! anomalous hours as a table, each group's egress with its baseline band, or each group's
//! score as an alertable series.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{
    Array, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use serde_json::json;

use super::encode::FrameError;
use super::robust::Baseline;
use super::{array, as_i64, as_text, column, Field, Frame, Notice};
use crate::plan::{AnomalyShape, TIME_BUCKET};
use crate::query::AnomalyFormat;

/// The label that tells a group's egress, median and upper band apart (`series` format).
pub const BAND: &str = "band";

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A group's key values (NULL: None).
type Key = Vec<Option<String>>;

/// Each group's bytes per hour start, as the rows gave them.
struct Hourly {
    groups: BTreeMap<Key, HashMap<i64, i64>>,
}

impl Hourly {
    fn read(batches: &[RecordBatch], shape: &AnomalyShape) -> Result<Self, FrameError> {
        let mut groups: BTreeMap<Key, HashMap<i64, i64>> = BTreeMap::new();
        for batch in batches {
            let hours = as_i64(column(batch, TIME_BUCKET)?)?;
            let bytes = as_i64(column(batch, "bytes")?)?;
            let keys: Vec<StringArray> = shape
                .keys
                .iter()
                .map(|d| as_text(column(batch, d.name())?))
                .collect::<Result<_, _>>()?;
            for row in 0..batch.num_rows() {
                if hours.is_null(row) {
                    continue;
                }
                let key = keys
                    .iter()
                    .map(|k| k.is_valid(row).then(|| k.value(row).to_string()))
                    .collect();
                let value = if bytes.is_null(row) {
                    0
                } else {
                    bytes.value(row)
                };
                *groups
                    .entry(key)
                    .or_default()
                    .entry(hours.value(row))
                    .or_default() += value;
            }
        }
        Ok(Hourly { groups })
    }
}

/// One scored hour of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredHour {
    /// The hour's start, epoch ms.
    pub hour_ms: i64,
    /// Bytes sent in the hour.
    pub bytes: i64,
    /// The same hour's baseline.
    pub baseline: Baseline,
    /// The robust score.
    pub score: f64,
}

/// Every range hour of every group, scored. A group or hour without rows sent 0 bytes.
fn scored(hourly: &Hourly, shape: &AnomalyShape) -> Vec<(Key, Vec<ScoredHour>)> {
    let first = shape.range_from_ms;
    let last = shape.to_ms.div_euclid(HOUR_MS) * HOUR_MS;
    hourly
        .groups
        .iter()
        .map(|(key, bytes)| {
            let at = |t: i64| bytes.get(&t).copied().unwrap_or(0);
            let hours = (first..=last)
                .step_by(HOUR_MS as usize)
                .map(|hour_ms| {
                    let of_day = hour_ms.rem_euclid(DAY_MS);
                    let values: Vec<f64> = (0..i64::from(shape.baseline_days))
                        .map(|d| at(shape.baseline_from_ms + d * DAY_MS + of_day) as f64)
                        .collect();
                    let baseline = Baseline::of(&values);
                    let value = at(hour_ms);
                    ScoredHour {
                        hour_ms,
                        bytes: value,
                        baseline,
                        score: baseline.score(value as f64),
                    }
                })
                .collect();
            (key.clone(), hours)
        })
        .collect()
}

/// Whether an hour is anomalous: at least `min_bytes` and a score of at least `min_score`.
fn anomalous(hour: &ScoredHour, shape: &AnomalyShape) -> bool {
    hour.bytes as f64 >= shape.min_bytes as f64 && hour.score >= f64::from(shape.min_score)
}

/// The frames of an egress-anomaly result as `shape.format` asks, with the notices to show.
pub fn egress_anomaly_frame(
    name: &str,
    batches: &[RecordBatch],
    shape: &AnomalyShape,
    max_series: usize,
) -> Result<(Frame, Vec<Notice>), FrameError> {
    let groups = scored(&Hourly::read(batches, shape)?, shape);
    match shape.format {
        AnomalyFormat::Table => Ok(table(name, &groups, shape)),
        AnomalyFormat::Series | AnomalyFormat::Score => {
            let (kept, notices) = most_anomalous(groups, max_series);
            Ok((series(name, &kept, shape), notices))
        }
    }
}

/// The anomalous hours, highest score first (then oldest, then by key), `limit` of them.
fn table(
    name: &str,
    groups: &[(Key, Vec<ScoredHour>)],
    shape: &AnomalyShape,
) -> (Frame, Vec<Notice>) {
    let mut rows: Vec<(&Key, &ScoredHour)> = groups
        .iter()
        .flat_map(|(key, hours)| {
            hours
                .iter()
                .filter(|h| anomalous(h, shape))
                .map(move |h| (key, h))
        })
        .collect();
    rows.sort_by(|a, b| {
        b.1.score
            .total_cmp(&a.1.score)
            .then(a.1.hour_ms.cmp(&b.1.hour_ms))
            .then(a.0.cmp(b.0))
    });
    let mut notices = Vec::new();
    let limit = shape.limit as usize;
    if rows.len() > limit {
        notices.push(Notice {
            severity: "info",
            text: format!(
                "Showing the {limit} highest-scoring of {} anomalous hours; raise the limit or min_score to see the rest.",
                rows.len()
            ),
        });
        rows.truncate(limit);
    }
    let mut fields = vec![Field::new(
        "time",
        array(TimestampMillisecondArray::from_iter_values(
            rows.iter().map(|r| r.1.hour_ms),
        )),
    )];
    for (i, dim) in shape.keys.iter().enumerate() {
        let values: StringArray = rows.iter().map(|r| r.0[i].clone()).collect();
        fields.push(Field::new(dim.name(), array(values)));
    }
    let bytes = Int64Array::from_iter_values(rows.iter().map(|r| r.1.bytes));
    fields.push(unit(Field::new("bytes", array(bytes)), "decbytes"));
    let floats = |f: &dyn Fn(&ScoredHour) -> f64| {
        array(Float64Array::from_iter_values(rows.iter().map(|r| f(r.1))))
    };
    let min_score = f64::from(shape.min_score);
    fields.push(unit(
        Field::new("baseline_median", floats(&|h| h.baseline.median)),
        "decbytes",
    ));
    fields.push(unit(
        Field::new("baseline_upper", floats(&|h| h.baseline.upper(min_score))),
        "decbytes",
    ));
    fields.push(unit(Field::new("score", floats(&|h| h.score)), "none"));
    let mut frame = Frame::new(name, fields);
    frame.meta.preferred_visualisation = Some("table");
    (frame, notices)
}

/// The `max_series` groups with the highest peak score (all when fewer), in key order.
fn most_anomalous(
    mut groups: Vec<(Key, Vec<ScoredHour>)>,
    max_series: usize,
) -> (Vec<(Key, Vec<ScoredHour>)>, Vec<Notice>) {
    let mut notices = Vec::new();
    if groups.len() > max_series {
        let peak = |hours: &[ScoredHour]| hours.iter().map(|h| h.score).fold(f64::MIN, f64::max);
        groups.sort_by(|a, b| peak(&b.1).total_cmp(&peak(&a.1)).then(a.0.cmp(&b.0)));
        notices.push(Notice {
            severity: "info",
            text: format!(
                "Showing the {max_series} of {} groups with the highest peak score (the series cap of this datasource).",
                groups.len()
            ),
        });
        groups.truncate(max_series);
        groups.sort_by(|a, b| a.0.cmp(&b.0));
    }
    (groups, notices)
}

/// One wide series frame over the range's hours: per group its egress, baseline median and
/// upper band (`series`), or its score (`score`; hours under `min_bytes` score 0, too small to
/// alarm). No group: a frame without fields, Grafana's "no data".
fn series(name: &str, groups: &[(Key, Vec<ScoredHour>)], shape: &AnomalyShape) -> Frame {
    let mut frame = Frame::new(name, Vec::new());
    frame.meta.frame_type = Some("timeseries-wide");
    frame.meta.preferred_visualisation = Some("graph");
    let Some((_, hours)) = groups.first() else {
        return frame;
    };
    let times = TimestampMillisecondArray::from_iter_values(hours.iter().map(|h| h.hour_ms));
    frame.push(Field::new("time", array(times)));
    let min_score = f64::from(shape.min_score);
    for (key, hours) in groups {
        let labels: BTreeMap<String, String> = shape
            .keys
            .iter()
            .zip(key)
            .map(|(d, v)| (d.name().to_string(), v.clone().unwrap_or_default()))
            .collect();
        let series: Vec<(&str, &str, Vec<f64>)> = match shape.format {
            AnomalyFormat::Score => vec![(
                "score",
                "none",
                hours
                    .iter()
                    .map(|h| {
                        if h.bytes as f64 >= shape.min_bytes as f64 {
                            h.score
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            )],
            _ => vec![
                (
                    "egress",
                    "decbytes",
                    hours.iter().map(|h| h.bytes as f64).collect(),
                ),
                (
                    "baseline_median",
                    "decbytes",
                    hours.iter().map(|h| h.baseline.median).collect(),
                ),
                (
                    "baseline_upper",
                    "decbytes",
                    hours.iter().map(|h| h.baseline.upper(min_score)).collect(),
                ),
            ],
        };
        let display: Vec<&str> = labels.values().map(String::as_str).collect();
        for (field, unit, values) in series {
            let mut f = Field::new(field, array(Float64Array::from(values)));
            let shown = match shape.format {
                AnomalyFormat::Score => display.join(" / "),
                _ => format!("{} {field}", display.join(" / ")),
            };
            f.config = Some(json!({"unit": unit, "displayNameFromDS": shown}));
            f.labels = labels.clone();
            if shape.format == AnomalyFormat::Series {
                // Alert expressions tell series apart by their labels alone.
                f.labels.insert(BAND.to_string(), field.to_string());
            }
            frame.push(f);
        }
    }
    frame
}

fn unit(mut field: Field, unit: &str) -> Field {
    field.config = Some(json!({ "unit": unit }));
    field
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Dimension;
    use arrow::datatypes::{DataType, Field as ArrowField, Schema};
    use std::sync::Arc;

    fn shape(format: AnomalyFormat) -> AnomalyShape {
        AnomalyShape {
            keys: vec![Dimension::Vpc],
            baseline_from_ms: 0,
            baseline_days: 3,
            range_from_ms: 3 * DAY_MS,
            to_ms: 3 * DAY_MS + 2 * HOUR_MS - 1,
            min_score: 4,
            min_bytes: 100,
            limit: 10,
            format,
        }
    }

    /// vpc-a sends 10, 12, 11 at hour 0 of the baseline days, then 500 in the range's hour 0;
    /// vpc-b sends 1000 every hour 1.
    fn rows() -> Vec<RecordBatch> {
        let hours = [
            0,
            DAY_MS,
            2 * DAY_MS,
            3 * DAY_MS,
            HOUR_MS,
            DAY_MS + HOUR_MS,
            2 * DAY_MS + HOUR_MS,
            3 * DAY_MS + HOUR_MS,
        ];
        let vpcs = [
            "vpc-a", "vpc-a", "vpc-a", "vpc-a", "vpc-b", "vpc-b", "vpc-b", "vpc-b",
        ];
        let bytes = [10, 12, 11, 500, 1000, 1000, 1000, 1000];
        let schema = Arc::new(Schema::new(vec![
            ArrowField::new(TIME_BUCKET, DataType::Int64, true),
            ArrowField::new("vpc", DataType::Utf8, true),
            ArrowField::new("bytes", DataType::Int64, true),
        ]));
        vec![RecordBatch::try_new(
            schema,
            vec![
                array(Int64Array::from(hours.to_vec())),
                array(StringArray::from(vpcs.to_vec())),
                array(Int64Array::from(bytes.to_vec())),
            ],
        )
        .unwrap()]
    }

    #[test]
    fn the_table_lists_the_hours_far_above_their_baseline() {
        let (frame, notices) =
            egress_anomaly_frame("A", &rows(), &shape(AnomalyFormat::Table), 10).unwrap();
        assert!(notices.is_empty());
        assert_eq!(frame.rows(), 1);
        let score = frame.fields[5]
            .values
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        // Median 11, MAD 1: (500 − 11) / 1.4826.
        assert!((score.value(0) - 489.0 / 1.4826).abs() < 1e-9);
    }

    #[test]
    fn scores_are_one_series_per_group_and_no_group_is_no_data() {
        let (frame, _) =
            egress_anomaly_frame("A", &rows(), &shape(AnomalyFormat::Score), 10).unwrap();
        assert_eq!(frame.fields.len(), 3);
        assert_eq!(frame.fields[1].labels["vpc"], "vpc-a");
        let b = frame.fields[2]
            .values
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        // vpc-b: hour 0 under min_bytes (0), hour 1 on its flat baseline (0).
        assert_eq!((b.value(0), b.value(1)), (0.0, 0.0));
        let (band, _) =
            egress_anomaly_frame("A", &rows(), &shape(AnomalyFormat::Series), 10).unwrap();
        let names: Vec<&str> = band.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "time",
                "egress",
                "baseline_median",
                "baseline_upper",
                "egress",
                "baseline_median",
                "baseline_upper"
            ]
        );
        let (empty, _) = egress_anomaly_frame("A", &[], &shape(AnomalyFormat::Score), 10).unwrap();
        assert!(empty.fields.is_empty());
    }
}
