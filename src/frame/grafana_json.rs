//! Frames as Grafana's server hands them to its frontend: data-frame JSON (`schema` + `data`),
//! the form the Go SDK writes from the plugin's Arrow frames and `dataFrameFromJSON` reads.

use std::io::Cursor;

use arrow::datatypes::{DataType, Field as ArrowField};
use arrow::ipc::reader::FileReader;
use chrono::DateTime;
use serde_json::{json, Map, Value};

use super::encode::{decode_frames, DecodedField, FrameError};

/// The data-frame JSON of one frame encoded for the wire (an Arrow IPC file from
/// [`super::encode_frame`]): field types as the frontend reads them (`time`, `number`, `string`,
/// `boolean`) with the Go type in `typeInfo`, times as epoch milliseconds, values column by column.
pub fn frame_json(ipc: &[u8]) -> Result<Value, FrameError> {
    let schema = FileReader::try_new(Cursor::new(ipc), None)?.schema();
    let decoded = decode_frames(ipc)?;
    let mut fields = Vec::with_capacity(decoded.fields.len());
    let mut values = Vec::with_capacity(decoded.fields.len());
    for (field, wire) in decoded.fields.iter().zip(schema.fields()) {
        fields.push(field_schema(field, wire));
        values.push(Value::Array(column_values(field)));
    }
    let mut schema_json = Map::new();
    if !decoded.name.is_empty() {
        schema_json.insert("name".into(), json!(decoded.name));
    }
    schema_json.insert("refId".into(), json!(decoded.ref_id));
    if !decoded.meta.is_null() {
        schema_json.insert("meta".into(), decoded.meta.clone());
    }
    schema_json.insert("fields".into(), Value::Array(fields));
    Ok(json!({"schema": schema_json, "data": {"values": values}}))
}

fn field_schema(field: &DecodedField, wire: &ArrowField) -> Value {
    let mut type_info = Map::new();
    type_info.insert("frame".into(), json!(go_type(wire.data_type())));
    if wire.is_nullable() {
        type_info.insert("nullable".into(), json!(true));
    }
    let mut out = Map::new();
    out.insert("name".into(), json!(field.name));
    out.insert("type".into(), json!(field.type_name));
    out.insert("typeInfo".into(), Value::Object(type_info));
    if !field.labels.is_empty() {
        out.insert("labels".into(), json!(field.labels));
    }
    if let Some(config) = &field.config {
        out.insert("config".into(), config.clone());
    }
    Value::Object(out)
}

/// The Go SDK's name of the field type an Arrow type becomes.
fn go_type(t: &DataType) -> &'static str {
    match t {
        DataType::Timestamp(_, _) => "time.Time",
        DataType::Boolean => "bool",
        DataType::Int8 => "int8",
        DataType::Int16 => "int16",
        DataType::Int32 => "int32",
        DataType::Int64 => "int64",
        DataType::UInt8 => "uint8",
        DataType::UInt16 => "uint16",
        DataType::UInt32 => "uint32",
        DataType::UInt64 => "uint64",
        DataType::Float32 => "float32",
        DataType::Float64 => "float64",
        _ => "string",
    }
}

/// A column's values as the frontend receives them: times in epoch milliseconds.
fn column_values(field: &DecodedField) -> Vec<Value> {
    if field.type_name != "time" {
        return field.values.clone();
    }
    field
        .values
        .iter()
        .map(|v| match v.as_str().map(DateTime::parse_from_rfc3339) {
            Some(Ok(t)) => json!(t.timestamp_millis()),
            _ => Value::Null,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, StringArray, TimestampMillisecondArray};

    use super::*;
    use crate::frame::{encode_frame, Field, Frame};

    #[test]
    fn a_series_frame_reads_as_the_frontend_receives_it() {
        let mut bytes = Field::new("bytes", Arc::new(Float64Array::from(vec![Some(1.5), None])));
        bytes.labels.insert("vpc".into(), "vpc-1".into());
        bytes.config = Some(json!({"unit": "decbytes"}));
        let mut frame = Frame::new(
            "bytes",
            vec![
                Field::new(
                    "time",
                    Arc::new(TimestampMillisecondArray::from(vec![0, 60_000])),
                ),
                bytes,
                Field::new("note", Arc::new(StringArray::from(vec!["a", "b"]))),
            ],
        );
        frame.meta.frame_type = Some("timeseries-wide");
        let ipc = encode_frame(&frame, "A").unwrap();
        assert_eq!(
            frame_json(&ipc).unwrap(),
            json!({
                "schema": {
                    "name": "bytes",
                    "refId": "A",
                    "meta": {"type": "timeseries-wide", "typeVersion": [0, 1]},
                    "fields": [
                        {"name": "time", "type": "time", "typeInfo": {"frame": "time.Time"}},
                        {"name": "bytes", "type": "number", "typeInfo": {"frame": "float64", "nullable": true},
                         "labels": {"vpc": "vpc-1"}, "config": {"unit": "decbytes"}},
                        {"name": "note", "type": "string", "typeInfo": {"frame": "string"}},
                    ],
                },
                "data": {"values": [[0, 60_000], [1.5, null], ["a", "b"]]},
            })
        );
    }
}
