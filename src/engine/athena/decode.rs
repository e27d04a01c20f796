//! Athena's result rows → Arrow. Whether the rows came from GetQueryResults pages or from the
//! CSV result object, every cell is text; the column's Athena type says what to parse it as.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use super::datetime::{fast_date, parse_timestamp};
use crate::engine::result_csv::ResultCsv;
use crate::engine::EngineError;

/// Athena's type name → the Arrow type its values decode to.
fn arrow_type(athena: &str) -> DataType {
    let base = athena
        .split(['(', ' '])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match base.as_str() {
        "bigint" | "integer" | "int" | "smallint" | "tinyint" => DataType::Int64,
        "double" | "float" | "real" | "decimal" => DataType::Float64,
        "boolean" => DataType::Boolean,
        "timestamp" => DataType::Timestamp(TimeUnit::Millisecond, None),
        "date" => DataType::Date32,
        _ => DataType::Utf8,
    }
}

/// Rows of text cells, however they were read.
pub trait Cells {
    /// Number of rows.
    fn rows(&self) -> usize;
    /// A cell's text; None for NULL.
    fn cell(&self, row: usize, column: usize) -> Option<&str>;
}

impl Cells for [Vec<Option<String>>] {
    fn rows(&self) -> usize {
        self.len()
    }
    fn cell(&self, row: usize, column: usize) -> Option<&str> {
        self[row].get(column).and_then(|v| v.as_deref())
    }
}

impl Cells for ResultCsv {
    fn rows(&self) -> usize {
        ResultCsv::rows(self)
    }
    fn cell(&self, row: usize, column: usize) -> Option<&str> {
        ResultCsv::cell(self, row, column)
    }
}

/// Text cells → one Arrow batch typed by Athena's column types. A cell that does not parse as its
/// column's type is an error that names the column, the type and the value.
pub fn decode<C: Cells + ?Sized>(
    columns: &[(String, String)],
    rows: &C,
) -> Result<RecordBatch, EngineError> {
    let n = rows.rows();
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (c, (name, athena)) in columns.iter().enumerate() {
        let cells = (0..n).map(|r| rows.cell(r, c));
        let bad = |v: &str| EngineError::Decode {
            column: name.clone(),
            athena_type: athena.clone(),
            value: v.chars().take(80).collect(),
        };
        let data_type = arrow_type(athena);
        arrays.push(column(&data_type, cells, bad)?);
        fields.push(Field::new(name, data_type, true));
    }
    let schema = Arc::new(Schema::new(fields));
    RecordBatch::try_new_with_options(
        schema,
        arrays,
        &RecordBatchOptions::new().with_row_count(Some(n)),
    )
    .map_err(|e| EngineError::Execution(e.to_string()))
}

/// One column's cells as an array of `data_type`; `bad` is the error of a cell that does not
/// parse.
fn column<'a>(
    data_type: &DataType,
    cells: impl Iterator<Item = Option<&'a str>>,
    bad: impl Fn(&str) -> EngineError,
) -> Result<ArrayRef, EngineError> {
    Ok(match data_type {
        DataType::Int64 => Arc::new(parsed::<_, Int64Array>(cells, |v| v.parse().ok(), bad)?),
        DataType::Float64 => Arc::new(parsed::<_, Float64Array>(cells, |v| v.parse().ok(), bad)?),
        DataType::Boolean => Arc::new(parsed::<_, BooleanArray>(cells, parse_bool, bad)?),
        DataType::Timestamp(..) => Arc::new(parsed::<_, TimestampMillisecondArray>(
            cells,
            parse_timestamp,
            bad,
        )?),
        DataType::Date32 => Arc::new(parsed::<_, Date32Array>(
            cells,
            |v| fast_date(v.as_bytes()).and_then(|d| i32::try_from(d).ok()),
            bad,
        )?),
        _ => Arc::new(cells.collect::<StringArray>()),
    })
}

/// Athena's boolean text.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Cells parsed into an array: NULLs stay NULL, the first cell `parse` rejects is `bad`.
fn parsed<'a, T, A: FromIterator<Option<T>>>(
    cells: impl Iterator<Item = Option<&'a str>>,
    parse: impl Fn(&str) -> Option<T>,
    bad: impl Fn(&str) -> EngineError,
) -> Result<A, EngineError> {
    cells
        .map(|v| v.map(|v| parse(v).ok_or_else(|| bad(v))).transpose())
        .collect()
}
