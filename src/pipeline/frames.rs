//! The frame a result becomes: by the plan's shape for a planned kind, by the `format` field for
//! raw SQL. A shape that reads beyond the panel's range (look-backs, state carried in) says so
//! in a notice.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::DateTime;

use crate::frame::{
    annotation_frame, coverage_frame, egress_anomaly_frame, sql_series_frame, sql_table_frame,
    state_series_frame, table_frame, time_series_frame, AnnotationOptions, CoverageOptions, Frame,
    Notice, SeriesFill, SeriesOptions, SqlFrameError, SqlSeriesOptions, StateSeriesOptions,
    TableOptions,
};
use crate::plan::{AnnotationShape, AnomalyShape, EventAnnotation, Shape};
use crate::query::{SqlFormat, TimeWindow};
use crate::settings::Settings;
use crate::sql::macros::{Fill, TimeGroup};

use super::QueryFailure;

/// The rows a frame is made of, and what every shape reads besides.
pub(super) struct Rows<'a> {
    /// Grafana refId, the frame's name.
    pub ref_id: &'a str,
    /// The result's schema.
    pub schema: &'a SchemaRef,
    /// The rows, held to the row cap.
    pub batches: &'a [RecordBatch],
    /// The panel's time window.
    pub window: &'a TimeWindow,
    /// The datasource's settings (series cap).
    pub settings: &'a Settings,
}

impl Rows<'_> {
    /// The panel's range start, epoch ms.
    fn range_start_ms(&self) -> i64 {
        self.window.from.timestamp_millis()
    }

    /// The panel's range end, epoch ms.
    fn range_end_ms(&self) -> i64 {
        self.window.to.timestamp_millis()
    }
}

/// The bucket width of a shape that draws buckets.
pub(super) fn bucket_ms(shape: &Shape) -> Option<i64> {
    match shape {
        Shape::TimeSeries { bucket_ms, .. } | Shape::StateOverTime { bucket_ms, .. } => {
            Some(*bucket_ms)
        }
        _ => None,
    }
}

/// The frame of a planned panel, as its plan's shape asks. `complete_from_ms`: where a series
/// cut at the row cap starts to be complete; `known`: the (account, region, VPC) rows that
/// EC2.6 findings know of, for coverage.
pub(super) fn panel_frame(
    rows: &Rows<'_>,
    shape: &Shape,
    complete_from_ms: Option<i64>,
    known: Option<Vec<Vec<String>>>,
    notices: &mut Vec<Notice>,
) -> Result<Frame, QueryFailure> {
    let ref_id = rows.ref_id;
    let frame = match shape {
        Shape::TimeSeries {
            labels,
            protocol_labels,
            value,
            unit,
            bucket_ms,
            top,
        } => {
            let options = SeriesOptions {
                labels: labels.clone(),
                protocol_labels: protocol_labels.clone(),
                value,
                unit,
                bucket_ms: *bucket_ms,
                from_ms: rows.range_start_ms(),
                to_ms: rows.range_end_ms(),
                top: *top,
                max_series: rows.settings.max_series,
                complete_from_ms,
            };
            time_series_frame(ref_id, rows.batches, &options)
        }
        Shape::Table {
            time_columns,
            units,
            protocol_columns,
            ..
        } => {
            let options = TableOptions {
                time_columns: time_columns.clone(),
                units: units.clone(),
                protocol_columns: protocol_columns.clone(),
            };
            table_frame(ref_id, rows.schema, rows.batches, &options)
        }
        Shape::StateOverTime {
            labels,
            fields,
            bucket_ms,
            lookback_days,
        } => {
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "Each point counts the state in force at the end of its bucket (newest finding update at or before it, archived findings left out); updates up to {lookback_days} days before the range start are read, so findings not updated in that window count from their first update in the range."
                ),
            });
            let options = StateSeriesOptions {
                labels: labels.clone(),
                fields,
                bucket_ms: *bucket_ms,
                from_ms: rows.range_start_ms(),
                to_ms: rows.range_end_ms(),
            };
            state_series_frame(ref_id, rows.batches, &options)
        }
        Shape::Annotations(annotations) => return annotations_frame(rows, annotations, notices),
        Shape::Coverage { .. } => return coverage(rows, shape, known, notices),
        Shape::EgressAnomaly(anomaly) => return egress_anomaly(rows, anomaly, notices),
    };
    frame.map_err(|e| QueryFailure::plugin(ref_id, e))
}

/// Status changes of findings, or silences of flow groups, as annotations.
fn annotations_frame(
    rows: &Rows<'_>,
    shape: &AnnotationShape,
    notices: &mut Vec<Notice>,
) -> Result<Frame, QueryFailure> {
    let frame = match shape {
        AnnotationShape::StatusChanges { lookback_days } => {
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "One annotation per status change of a finding (resource × control) in the time range, at the first update with the new status; updates up to {lookback_days} days before the range start are read to know each finding's status before the range (set lookback_days or the lookbackDays setting to look further)."
                ),
            });
            annotation_frame(rows.ref_id, rows.batches, &AnnotationOptions::StatusChanges)
        }
        AnnotationShape::FlowSilence {
            keys,
            to_ms,
            silent_for_minutes,
            lookback_days,
        } => {
            notices.push(Notice {
                severity: "info",
                text: format!(
                    "One annotation per gap of at least {silent_for_minutes} minutes between consecutive flow records of a group (start times), and from a group's last record to the end of the range, that overlaps the range; records up to {lookback_days} days before the range start are read, so a silence that began earlier starts at its true time. Groups with no record in that window are not listed."
                ),
            });
            let options = AnnotationOptions::FlowSilence {
                keys: keys.clone(),
                to_ms: *to_ms,
            };
            annotation_frame(rows.ref_id, rows.batches, &options)
        }
        AnnotationShape::Events(event) => {
            notices.push(Notice {
                severity: "info",
                text: event_notice(*event).to_string(),
            });
            annotation_frame(
                rows.ref_id,
                rows.batches,
                &AnnotationOptions::Events(*event),
            )
        }
    };
    frame.map_err(|e| QueryFailure::plugin(rows.ref_id, e))
}

/// What one annotation of an event table marks.
fn event_notice(event: EventAnnotation) -> &'static str {
    match event {
        EventAnnotation::IamChanges => "One annotation per call that changed IAM (users, access keys, roles, groups, policies) in the time range, at the call's time.",
        EventAnnotation::SignIns => "One annotation per console sign-in in the time range, at the sign-in's time.",
        EventAnnotation::NewFindings => "One annotation per finding first observed in the time range, at its first observation; its severity, title and resource are those of its newest update in the range.",
    }
}

/// Hourly internet egress per group scored against the same hour of the baseline days.
fn egress_anomaly(
    rows: &Rows<'_>,
    shape: &AnomalyShape,
    notices: &mut Vec<Notice>,
) -> Result<Frame, QueryFailure> {
    let days = shape.baseline_days;
    notices.push(Notice {
        severity: "info",
        text: format!(
            "Each hour's bytes to internet addresses are scored against the same hour of the {days} whole days from {} UTC: (bytes − median) / (1.4826 × MAD), the mean absolute deviation standing in when the MAD is 0; an hour is anomalous from a score of {} and {} bytes on (set baseline_days, min_score, min_bytes).",
            DateTime::from_timestamp_millis(shape.baseline_from_ms)
                .unwrap_or_default()
                .format("%Y-%m-%d"),
            shape.min_score,
            shape.min_bytes,
        ),
    });
    let (frame, more) =
        egress_anomaly_frame(rows.ref_id, rows.batches, shape, rows.settings.max_series)
            .map_err(|e| QueryFailure::plugin(rows.ref_id, e))?;
    notices.extend(more);
    Ok(frame)
}

/// When each group last sent flow records, with the VPCs EC2.6 findings know of (`known`).
fn coverage(
    rows: &Rows<'_>,
    shape: &Shape,
    known: Option<Vec<Vec<String>>>,
    notices: &mut Vec<Notice>,
) -> Result<Frame, QueryFailure> {
    let Shape::Coverage {
        keys,
        reference_ms,
        since_ms,
        lookback_days,
        format,
        silent_for_minutes,
    } = shape
    else {
        unreachable!("a coverage shape");
    };
    let lookback = *lookback_days;
    let listed = if known.is_some() {
        "VPCs that EC2.6 findings know of but that sent no flow record in that window are listed with no last record, silent for at least the look-back"
    } else {
        "groups with no records in that window are not listed"
    };
    notices.push(Notice {
        severity: "info",
        text: format!(
            "Looked back {lookback} days (from {} UTC, the start of the day {lookback} days before the end of the time range) for the last flow record of each group; {listed} (set lookback_days or the lookbackDays setting to look further).",
            DateTime::from_timestamp_millis(*since_ms)
                .unwrap_or_default()
                .format("%Y-%m-%d %H:%M")
        ),
    });
    let options = CoverageOptions {
        keys: keys.clone(),
        reference_ms: *reference_ms,
        format: *format,
        known: known.unwrap_or_default(),
        lookback_minutes: (reference_ms - since_ms) / 60_000,
        silent_for_minutes: *silent_for_minutes,
    };
    coverage_frame(rows.ref_id, rows.batches, &options)
        .map_err(|e| QueryFailure::plugin(rows.ref_id, e))
}

/// The frame of a `sql` query: a table, or a wide time series (filled as its
/// `$__timeGroup(…, fill)` asks). A result that cannot be a series is the user's to fix.
pub(super) fn sql_frame(
    rows: &Rows<'_>,
    format: SqlFormat,
    time_group: Option<TimeGroup>,
) -> Result<Frame, QueryFailure> {
    let ref_id = rows.ref_id;
    match format {
        SqlFormat::Table => sql_table_frame(ref_id, rows.schema, rows.batches)
            .map_err(|e| QueryFailure::plugin(ref_id, e)),
        SqlFormat::TimeSeries => {
            let fill = time_group.and_then(|g| {
                let fill = match g.fill? {
                    Fill::Value(v) => SeriesFill::Value(v),
                    Fill::Null => SeriesFill::Null,
                    Fill::Previous => SeriesFill::Previous,
                };
                Some((g.interval_ms, fill))
            });
            let options = SqlSeriesOptions {
                fill,
                from_ms: rows.range_start_ms(),
                to_ms: rows.range_end_ms(),
                max_series: rows.settings.max_series,
            };
            sql_series_frame(ref_id, rows.schema, rows.batches, &options).map_err(|e| match e {
                SqlFrameError::Shape(m) => QueryFailure::user(ref_id, m),
                SqlFrameError::Frame(e) => QueryFailure::plugin(ref_id, e),
            })
        }
    }
}
