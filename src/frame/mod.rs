//! Arrow record batches → Grafana data frames: wide time series (one value field per series,
//! labels on the field) for graphs and alert rules, and the Arrow IPC bytes Grafana reads.
//!
//! Frames are written with arrow-rs in Grafana's wire convention (schema metadata `name`, `refId`,
//! `meta`; field metadata `labels`, `config`), so labels and config always travel together.

pub mod account_names;
mod annotations;
mod coverage;
mod egress_anomaly;
mod encode;
mod flow_log_lines;
pub mod grafana_json;
pub mod grafana_rules;
mod node_graph;
mod ranking_series;
pub mod robust;
mod series;
mod sql_result;
mod state_series;
mod table;
mod timeline;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::ArrayRef;
use serde_json::{json, Map, Value};

pub use annotations::{
    annotation_frame, duration_text, silence_text, status_change_text, AnnotationOptions,
};
pub use coverage::{coverage_frame, CoverageOptions};
pub use egress_anomaly::egress_anomaly_frame;
pub use encode::{decode_frames, encode_frame, DecodedField, DecodedFrame, FrameError};
pub use flow_log_lines::flow_log_lines_frame;
pub use node_graph::{node_graph_frames, NO_ADDRESS};
pub use ranking_series::{ranking_series_frame, SeriesValue};
pub use series::{time_series_frame, SeriesOptions};
pub use sql_result::{
    sql_series_frame, sql_table_frame, SeriesFill, SqlFrameError, SqlSeriesOptions,
};
pub use state_series::{
    bucket_instant, bucket_starts, pass_rate, state_series_frame, StateSeriesOptions,
};
pub use table::{table_frame, TableOptions};
pub use timeline::{ordered, timeline_frame, timeline_rows, TimelineRow};

/// A Grafana field: values plus labels and display config.
#[derive(Debug, Clone)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Series labels (time-series value fields).
    pub labels: BTreeMap<String, String>,
    /// Field config JSON (`unit`, `displayNameFromDS`, …).
    pub config: Option<Value>,
    /// The values.
    pub values: ArrayRef,
}

impl Field {
    /// A field with no labels or config.
    pub fn new(name: impl Into<String>, values: ArrayRef) -> Self {
        Field {
            name: name.into(),
            labels: BTreeMap::new(),
            config: None,
            values,
        }
    }
}

/// A notice shown on the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `info`, `warning` or `error`.
    pub severity: &'static str,
    /// The text.
    pub text: String,
}

/// Frame metadata.
#[derive(Debug, Clone, Default)]
pub struct FrameMeta {
    /// Data frame type, e.g. `timeseries-wide`.
    pub frame_type: Option<&'static str>,
    /// The SQL the engine ran.
    pub executed_query_string: Option<String>,
    /// Query statistics shown in Grafana's inspector: (name, value, unit).
    pub stats: Vec<(String, f64, &'static str)>,
    /// Notices.
    pub notices: Vec<Notice>,
    /// Plugin-specific meta.
    pub custom: Map<String, Value>,
    /// Preferred visualisation (`graph`, `table`).
    pub preferred_visualisation: Option<&'static str>,
}

impl FrameMeta {
    /// The `meta` JSON Grafana expects.
    pub fn to_json(&self) -> Value {
        let mut meta = Map::new();
        if let Some(t) = self.frame_type {
            meta.insert("type".into(), json!(t));
            meta.insert("typeVersion".into(), json!([0, 1]));
        }
        if let Some(sql) = &self.executed_query_string {
            meta.insert("executedQueryString".into(), json!(sql));
        }
        if !self.stats.is_empty() {
            let stats: Vec<Value> = self
                .stats
                .iter()
                .map(|(name, value, unit)| json!({"displayName": name, "value": value, "unit": unit}))
                .collect();
            meta.insert("stats".into(), Value::Array(stats));
        }
        if !self.notices.is_empty() {
            let notices: Vec<Value> = self
                .notices
                .iter()
                .map(|n| json!({"severity": n.severity, "text": n.text}))
                .collect();
            meta.insert("notices".into(), Value::Array(notices));
        }
        if !self.custom.is_empty() {
            meta.insert("custom".into(), Value::Object(self.custom.clone()));
        }
        if let Some(v) = self.preferred_visualisation {
            meta.insert("preferredVisualisationType".into(), json!(v));
        }
        Value::Object(meta)
    }
}

/// A Grafana data frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Frame name.
    pub name: String,
    /// Fields, all of the same length.
    pub fields: Vec<Field>,
    /// Metadata.
    pub meta: FrameMeta,
}

impl Frame {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.fields.first().map_or(0, |f| f.values.len())
    }

    /// Adds a field.
    pub fn push(&mut self, field: Field) {
        self.fields.push(field);
    }

    /// The field named `name`; a missing one is a plugin bug (plans name every column).
    pub(crate) fn field_named(&self, name: &str) -> Result<&Field, encode::FrameError> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| encode::FrameError::Unsupported {
                column: name.to_string(),
                data_type: "missing".to_string(),
            })
    }

    /// The values of the field named `name`, cast to `as_type`.
    pub(crate) fn values_as(
        &self,
        name: &str,
        as_type: &arrow::datatypes::DataType,
    ) -> Result<ArrayRef, encode::FrameError> {
        Ok(arrow::compute::cast(
            &self.field_named(name)?.values,
            as_type,
        )?)
    }

    /// A frame from fields.
    pub fn new(name: impl Into<String>, fields: Vec<Field>) -> Self {
        Frame {
            name: name.into(),
            fields,
            meta: FrameMeta::default(),
        }
    }
}

/// A result column by name; a missing column is a plugin bug (plans name every column).
pub(crate) fn column<'a>(
    batch: &'a arrow::record_batch::RecordBatch,
    name: &str,
) -> Result<&'a ArrayRef, encode::FrameError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| encode::FrameError::Unsupported {
            column: name.to_string(),
            data_type: "missing".to_string(),
        })
}

/// Shorthand for an `ArrayRef`.
pub fn array<A: arrow::array::Array + 'static>(a: A) -> ArrayRef {
    Arc::new(a)
}

/// A result column as 64-bit integers (a column of another type is cast).
pub(crate) fn as_i64(values: &ArrayRef) -> Result<arrow::array::Int64Array, encode::FrameError> {
    let cast = arrow::compute::cast(values, &arrow::datatypes::DataType::Int64)?;
    Ok(cast
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .cloned()
        .unwrap_or_else(|| arrow::array::Int64Array::from(Vec::<i64>::new())))
}

/// A result column as text (a column of another type is cast).
pub(crate) fn as_text(values: &ArrayRef) -> Result<arrow::array::StringArray, encode::FrameError> {
    let cast = arrow::compute::cast(values, &arrow::datatypes::DataType::Utf8)?;
    Ok(cast
        .as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .cloned()
        .unwrap_or_else(|| arrow::array::StringArray::from(Vec::<String>::new())))
}
