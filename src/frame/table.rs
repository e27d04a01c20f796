//! Record batches → one table frame: a field per column, numbers kept as numbers, epoch-ms
//! columns as time fields, protocol numbers by name.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::compute::{cast, concat};
use arrow::datatypes::{DataType, SchemaRef};
use serde_json::json;

use super::encode::FrameError;
use super::{Field, Frame};
use crate::query::Protocol;

/// How to present a table's columns.
#[derive(Debug, Clone, Default)]
pub struct TableOptions {
    /// Epoch-ms columns to show as time fields.
    pub time_columns: Vec<&'static str>,
    /// Grafana units per column.
    pub units: Vec<(&'static str, &'static str)>,
    /// Protocol-number columns to show by name.
    pub protocol_columns: Vec<&'static str>,
}

/// The rows of `batches` (all of `schema`) as one table frame named after the refId.
pub fn table_frame(
    ref_id: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    options: &TableOptions,
) -> Result<Frame, FrameError> {
    let mut fields = Vec::new();
    for (i, column) in schema.fields().iter().enumerate() {
        let name = column.name().as_str();
        let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
        let values: ArrayRef = if parts.is_empty() {
            arrow::array::new_empty_array(column.data_type())
        } else {
            concat(&parts)?
        };
        let values = if options.time_columns.contains(&name)
            && !matches!(values.data_type(), DataType::Timestamp(_, _))
        {
            let ms = cast(&values, &DataType::Int64)?;
            let ms = ms
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("cast to Int64");
            Arc::new(TimestampMillisecondArray::from_iter(ms.iter())) as ArrayRef
        } else if options.protocol_columns.contains(&name) {
            let numbers = cast(&values, &DataType::Int64)?;
            let numbers = numbers
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("cast to Int64");
            let names: StringArray = numbers
                .iter()
                .map(|n| n.map(|n| Protocol::name(n).map_or_else(|| n.to_string(), str::to_string)))
                .collect();
            Arc::new(names) as ArrayRef
        } else {
            values
        };
        let mut field = Field::new(name, values);
        if let Some((_, unit)) = options.units.iter().find(|(c, _)| *c == name) {
            field.config = Some(json!({ "unit": unit }));
        }
        fields.push(field);
    }
    let mut frame = Frame::new(ref_id, fields);
    frame.meta.preferred_visualisation = Some("table");
    Ok(frame)
}
