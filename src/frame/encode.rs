//! Frames to and from Arrow IPC files in Grafana's wire convention.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field as ArrowField, Schema, TimeUnit};
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, SecondsFormat};
use serde_json::Value;

use super::Frame;

/// Frame encoding failures (always the plugin's fault).
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A column type Grafana cannot show and that cannot be cast to text.
    #[error("column {column} has type {data_type}, which cannot be sent to Grafana")]
    Unsupported {
        /// Column name.
        column: String,
        /// Its type.
        data_type: String,
    },
    /// Arrow failed.
    #[error("encoding the frame failed: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// JSON failed.
    #[error("encoding frame metadata failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// The Arrow type Grafana reads for a column type, or `None` when it must become text.
fn wire_type(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(DataType::Utf8),
        DataType::Dictionary(_, v)
            if matches!(
                **v,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            Some(DataType::Utf8)
        }
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => {
            Some(DataType::Timestamp(TimeUnit::Nanosecond, None))
        }
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64 => Some(t.clone()),
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => Some(DataType::Float64),
        // `SELECT NULL`: Grafana has no null type; a text column of nulls shows as empty cells.
        DataType::Null => Some(DataType::Utf8),
        _ => None,
    }
}

fn to_wire(name: &str, values: &ArrayRef) -> Result<ArrayRef, FrameError> {
    match wire_type(values.data_type()) {
        Some(t) if &t == values.data_type() => Ok(values.clone()),
        Some(t) => Ok(cast(values, &t)?),
        None => {
            // Nested values (structs, lists, maps) become their text form.
            let opts = FormatOptions::default();
            let fmt = ArrayFormatter::try_new(values.as_ref(), &opts).map_err(|_| {
                FrameError::Unsupported {
                    column: name.to_string(),
                    data_type: values.data_type().to_string(),
                }
            })?;
            // Logical nulls: a dictionary's or run-end array's nulls live in its values.
            let nulls = values.logical_nulls();
            let text: arrow::array::StringArray = (0..values.len())
                .map(|i| {
                    let valid = nulls.as_ref().is_none_or(|n| n.is_valid(i));
                    valid.then(|| fmt.value(i).to_string())
                })
                .collect();
            Ok(Arc::new(text))
        }
    }
}

/// A series frame with nothing but its time axis: no series to read.
fn is_series_without_values(frame: &Frame) -> bool {
    frame
        .meta
        .frame_type
        .is_some_and(|t| t.starts_with("timeseries"))
        && frame
            .fields
            .iter()
            .all(|f| matches!(f.values.data_type(), DataType::Timestamp(_, _)))
}

/// Encodes a frame as an Arrow IPC file for `refId`.
///
/// A field is nullable on the wire only when it holds a null: Grafana's Go SDK takes the type
/// (`[]time.Time` or `[]*time.Time`, …) from the Arrow flag, and the dataplane readers behind
/// alert rules need a non-nullable time field. A series frame without a value field goes out
/// with no fields at all, the dataplane's "no data" (a lone time axis fails the reader).
pub fn encode_frame(frame: &Frame, ref_id: &str) -> Result<Vec<u8>, FrameError> {
    let sent: &[super::Field] = if is_series_without_values(frame) {
        &[]
    } else {
        &frame.fields
    };
    let mut fields = Vec::with_capacity(sent.len());
    let mut columns = Vec::with_capacity(sent.len());
    for field in sent {
        let values = to_wire(&field.name, &field.values)?;
        let mut metadata = HashMap::new();
        if !field.labels.is_empty() {
            metadata.insert("labels".to_string(), serde_json::to_string(&field.labels)?);
        }
        if let Some(config) = &field.config {
            metadata.insert("config".to_string(), serde_json::to_string(config)?);
        }
        fields.push(
            ArrowField::new(
                &field.name,
                values.data_type().clone(),
                values.logical_null_count() > 0,
            )
            .with_metadata(metadata),
        );
        columns.push(values);
    }
    let mut metadata = HashMap::new();
    metadata.insert("name".to_string(), frame.name.clone());
    metadata.insert("refId".to_string(), ref_id.to_string());
    metadata.insert(
        "meta".to_string(),
        serde_json::to_string(&frame.meta.to_json())?,
    );
    let schema = Arc::new(Schema::new(fields).with_metadata(metadata));
    let batch = if columns.is_empty() {
        RecordBatch::new_empty(schema.clone())
    } else {
        RecordBatch::try_new(schema.clone(), columns)?
    };
    let mut buf = Vec::new();
    {
        let mut writer = FileWriter::try_new(&mut buf, &schema)?;
        writer.write(&batch)?;
        writer.finish()?;
    }
    Ok(buf)
}

/// A frame decoded from the wire, values as JSON (times as RFC 3339 UTC strings).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DecodedFrame {
    /// Frame name.
    pub name: String,
    /// refId from the schema metadata.
    #[serde(rename = "refId")]
    pub ref_id: String,
    /// Frame meta JSON.
    pub meta: Value,
    /// Fields.
    pub fields: Vec<DecodedField>,
}

/// A field decoded from the wire.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DecodedField {
    /// Field name.
    pub name: String,
    /// `time`, `string`, `number` or `boolean`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Config JSON, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// Values.
    pub values: Vec<Value>,
}

impl DecodedFrame {
    /// The field with this name and these labels.
    pub fn field(&self, name: &str) -> Option<&DecodedField> {
        self.fields.iter().find(|f| f.name == name)
    }
}

fn json_values(values: &ArrayRef) -> Result<(String, Vec<Value>), FrameError> {
    use arrow::array::*;
    let n = values.len();
    let out = match values.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            let a = values
                .as_any()
                .downcast_ref::<TimestampNanosecondArray>()
                .ok_or_else(|| FrameError::Unsupported {
                    column: "time".into(),
                    data_type: "timestamp".into(),
                })?;
            let v = (0..n)
                .map(|i| {
                    if a.is_null(i) {
                        Value::Null
                    } else {
                        Value::String(
                            DateTime::from_timestamp_nanos(a.value(i))
                                .to_rfc3339_opts(SecondsFormat::Millis, true),
                        )
                    }
                })
                .collect();
            ("time".to_string(), v)
        }
        DataType::Utf8 => {
            let a = values
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| FrameError::Unsupported {
                    column: "string".into(),
                    data_type: "utf8".into(),
                })?;
            let v = (0..n)
                .map(|i| {
                    if a.is_null(i) {
                        Value::Null
                    } else {
                        Value::String(a.value(i).to_string())
                    }
                })
                .collect();
            ("string".to_string(), v)
        }
        DataType::Boolean => {
            let a = values
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(|| FrameError::Unsupported {
                    column: "bool".into(),
                    data_type: "bool".into(),
                })?;
            let v = (0..n)
                .map(|i| {
                    if a.is_null(i) {
                        Value::Null
                    } else {
                        Value::Bool(a.value(i))
                    }
                })
                .collect();
            ("boolean".to_string(), v)
        }
        t if t.is_integer() => {
            let a = cast(values, &DataType::Int64)?;
            let a =
                a.as_any()
                    .downcast_ref::<Int64Array>()
                    .ok_or_else(|| FrameError::Unsupported {
                        column: "int".into(),
                        data_type: t.to_string(),
                    })?;
            let v = (0..n)
                .map(|i| {
                    if a.is_null(i) {
                        Value::Null
                    } else {
                        Value::from(a.value(i))
                    }
                })
                .collect();
            ("number".to_string(), v)
        }
        t => {
            let a = cast(values, &DataType::Float64)?;
            let a = a.as_any().downcast_ref::<Float64Array>().ok_or_else(|| {
                FrameError::Unsupported {
                    column: "float".into(),
                    data_type: t.to_string(),
                }
            })?;
            let v = (0..n)
                .map(|i| {
                    if a.is_null(i) {
                        Value::Null
                    } else {
                        Value::from(a.value(i))
                    }
                })
                .collect();
            ("number".to_string(), v)
        }
    };
    Ok(out)
}

/// Decodes one Arrow IPC frame as Grafana would read it.
pub fn decode_frames(bytes: &[u8]) -> Result<DecodedFrame, FrameError> {
    let reader = FileReader::try_new(Cursor::new(bytes), None)?;
    let schema = reader.schema();
    let mut columns: Vec<Vec<ArrayRef>> = vec![Vec::new(); schema.fields().len()];
    for batch in reader {
        let batch = batch?;
        for (i, c) in batch.columns().iter().enumerate() {
            columns[i].push(c.clone());
        }
    }
    let meta_text = schema.metadata().get("meta").cloned().unwrap_or_default();
    let meta = if meta_text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&meta_text)?
    };
    let mut fields = Vec::new();
    for (i, f) in schema.fields().iter().enumerate() {
        let parts: Vec<&dyn Array> = columns[i].iter().map(|a| a.as_ref()).collect();
        let values = if parts.is_empty() {
            arrow::array::new_empty_array(f.data_type())
        } else {
            arrow::compute::concat(&parts)?
        };
        let (type_name, values) = json_values(&values)?;
        let labels = match f.metadata().get("labels") {
            Some(text) => serde_json::from_str(text)?,
            None => BTreeMap::new(),
        };
        let config = match f.metadata().get("config") {
            Some(text) => Some(serde_json::from_str(text)?),
            None => None,
        };
        fields.push(DecodedField {
            name: f.name().clone(),
            type_name,
            labels,
            config,
            values,
        });
    }
    Ok(DecodedFrame {
        name: schema.metadata().get("name").cloned().unwrap_or_default(),
        ref_id: schema.metadata().get("refId").cloned().unwrap_or_default(),
        meta,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Field, Frame};
    use arrow::array::{Int64Array, StringViewArray, TimestampMillisecondArray};

    #[test]
    fn labels_and_config_both_arrive_and_types_are_grafana_types() {
        let mut value = Field::new("bytes", Arc::new(Int64Array::from(vec![1, 2])));
        value.labels.insert("account".into(), "111122223333".into());
        value.config = Some(serde_json::json!({"unit": "decbytes"}));
        let frame = Frame::new(
            "f",
            vec![
                Field::new(
                    "time",
                    Arc::new(TimestampMillisecondArray::from(vec![0, 60_000])),
                ),
                Field::new(
                    "vpc",
                    Arc::new(StringViewArray::from(vec!["vpc-1", "vpc-2"])),
                ),
                value,
            ],
        );
        let decoded = decode_frames(&encode_frame(&frame, "A").unwrap()).unwrap();
        assert_eq!(decoded.ref_id, "A");
        assert_eq!(decoded.fields[0].type_name, "time");
        assert_eq!(decoded.fields[0].values[1], "1970-01-01T00:01:00.000Z");
        assert_eq!(decoded.fields[1].type_name, "string");
        let bytes = decoded.field("bytes").unwrap();
        assert_eq!(bytes.labels["account"], "111122223333");
        assert_eq!(bytes.config.as_ref().unwrap()["unit"], "decbytes");
        assert_eq!(bytes.values, vec![Value::from(1), Value::from(2)]);
    }
}
