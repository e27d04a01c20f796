//! The rows of a user's SQL (`kind: "sql"`) → a table frame, or a wide time series the way
//! Grafana's SQL datasources shape them: the `time` column (or the first timestamp column) is
//! the time, text columns are labels, number columns are values; one value field per value
//! column and label set.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::TimestampMillisecondArray;
use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::{cast, concat};
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};

use super::encode::FrameError;
use super::{table_frame, Field, Frame, Notice, TableOptions};

/// Why a result could not be shaped.
#[derive(Debug, thiserror::Error)]
pub enum SqlFrameError {
    /// The result does not have the shape the format asks for (the user's to fix).
    #[error("{0}")]
    Shape(String),
    /// Encoding failed (the plugin's fault).
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// How to fill buckets without rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeriesFill {
    /// A fixed value.
    Value(f64),
    /// Null.
    Null,
    /// The previous bucket's value.
    Previous,
}

/// Options of [`sql_series_frame`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SqlSeriesOptions {
    /// `$__timeGroup`'s bucket width and fill; with a fill, every bucket of the range is listed.
    pub fill: Option<(i64, SeriesFill)>,
    /// Range start, epoch ms.
    pub from_ms: i64,
    /// Range end, epoch ms.
    pub to_ms: i64,
    /// Most series in the frame.
    pub max_series: usize,
}

/// Most buckets a fill may produce.
const MAX_FILLED_POINTS: i64 = 100_000;

/// The index of the time column: `time` (any case), else the first timestamp or date column.
fn time_column(schema: &SchemaRef) -> Option<usize> {
    let fields = schema.fields();
    fields
        .iter()
        .position(|f| f.name().eq_ignore_ascii_case("time"))
        .or_else(|| {
            fields.iter().position(|f| {
                matches!(
                    f.data_type(),
                    DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
                )
            })
        })
}

/// A column's values as epoch milliseconds: timestamps and dates converted, numbers taken as ms.
fn epoch_ms(values: &ArrayRef) -> Result<Int64Array, FrameError> {
    let ms = match values.data_type() {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => cast(
            &cast(values, &DataType::Timestamp(TimeUnit::Millisecond, None))?,
            &DataType::Int64,
        )?,
        _ => cast(values, &DataType::Int64)?,
    };
    Ok(ms
        .as_any()
        .downcast_ref::<Int64Array>()
        .cloned()
        .unwrap_or_else(|| Int64Array::from(Vec::<i64>::new())))
}

fn concat_column(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    i: usize,
) -> Result<ArrayRef, FrameError> {
    let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
    Ok(if parts.is_empty() {
        arrow::array::new_empty_array(schema.field(i).data_type())
    } else {
        concat(&parts)?
    })
}

/// A table frame of every column; an integer `time` column becomes a time field (epoch ms).
pub fn sql_table_frame(
    ref_id: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<Frame, FrameError> {
    let mut frame = table_frame(ref_id, schema, batches, &TableOptions::default())?;
    if let Some(i) = schema
        .fields()
        .iter()
        .position(|f| f.name().eq_ignore_ascii_case("time") && f.data_type().is_integer())
    {
        let ms = epoch_ms(&frame.fields[i].values)?;
        frame.fields[i].values = Arc::new(TimestampMillisecondArray::from_iter(ms.iter()));
    }
    Ok(frame)
}

fn is_number(t: &DataType) -> bool {
    t.is_numeric()
}

fn is_label(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean
    )
}

/// Long rows → one wide time-series frame.
pub fn sql_series_frame(
    ref_id: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    opts: &SqlSeriesOptions,
) -> Result<Frame, SqlFrameError> {
    let Some(time_i) = time_column(schema) else {
        return Err(SqlFrameError::Shape(
            "format time_series needs a time column: name one `time`, e.g. SELECT $__timeGroupAlias(time_dt, 5m), count(*) AS flows … GROUP BY 1 ORDER BY 1, or use format table".to_string(),
        ));
    };
    let mut label_cols = Vec::new();
    let mut value_cols = Vec::new();
    for (i, f) in schema.fields().iter().enumerate() {
        if i == time_i {
            continue;
        }
        if is_number(f.data_type()) {
            value_cols.push(i);
        } else if is_label(f.data_type()) {
            label_cols.push(i);
        } else {
            return Err(SqlFrameError::Shape(format!(
                "format time_series takes text columns as labels and number columns as values; column `{}` has type {}: cast it to varchar or a number, or leave it out",
                f.name(),
                f.data_type()
            )));
        }
    }
    if value_cols.is_empty() {
        return Err(SqlFrameError::Shape(
            "format time_series needs at least one number column for the values (e.g. count(*) AS flows); or use format table".to_string(),
        ));
    }
    let times = epoch_ms(&concat_column(schema, batches, time_i)?)?;
    let labels: Vec<StringArray> = label_cols
        .iter()
        .map(|i| {
            let text = cast(&concat_column(schema, batches, *i)?, &DataType::Utf8)?;
            Ok(text
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .unwrap_or_else(|| StringArray::from(Vec::<String>::new())))
        })
        .collect::<Result<_, FrameError>>()?;
    let values: Vec<Float64Array> = value_cols
        .iter()
        .map(|i| {
            let v = cast(&concat_column(schema, batches, *i)?, &DataType::Float64)?;
            Ok(v.as_any()
                .downcast_ref::<Float64Array>()
                .cloned()
                .unwrap_or_else(|| Float64Array::from(Vec::<f64>::new())))
        })
        .collect::<Result<_, FrameError>>()?;

    // (value column, label values) → time → value (the last row wins on duplicates).
    type Key = (usize, Vec<String>);
    let mut series: BTreeMap<Key, BTreeMap<i64, Option<f64>>> = BTreeMap::new();
    let mut seen_times = BTreeSet::new();
    for row in 0..times.len() {
        if times.is_null(row) {
            continue;
        }
        let t = times.value(row);
        seen_times.insert(t);
        let label_values: Vec<String> = labels
            .iter()
            .map(|a| {
                if a.is_null(row) {
                    String::new()
                } else {
                    a.value(row).to_string()
                }
            })
            .collect();
        for (v, array) in values.iter().enumerate() {
            let value = (!array.is_null(row)).then(|| array.value(row));
            series
                .entry((v, label_values.clone()))
                .or_default()
                .insert(t, value);
        }
    }
    let mut notices = Vec::new();
    let total = series.len();
    if total > opts.max_series {
        let keep: Vec<Key> = series.keys().take(opts.max_series).cloned().collect();
        series.retain(|k, _| keep.contains(k));
        notices.push(Notice {
            severity: "warning",
            text: format!(
                "{} of {total} series are shown (the series cap of this datasource); group by fewer label columns.",
                opts.max_series
            ),
        });
    }
    let axis: Vec<i64> = match opts.fill {
        Some((width, _))
            if width > 0 && (opts.to_ms - opts.from_ms) / width < MAX_FILLED_POINTS =>
        {
            let first = opts.from_ms.div_euclid(width) * width;
            let last = opts.to_ms.div_euclid(width) * width;
            let mut all: BTreeSet<i64> = (0..=(last - first) / width)
                .map(|i| first + i * width)
                .collect();
            all.extend(seen_times.iter().copied());
            all.into_iter().collect()
        }
        _ => seen_times.into_iter().collect(),
    };
    let fill = opts.fill.map(|(_, f)| f);
    let mut fields = vec![Field::new(
        "time",
        Arc::new(TimestampMillisecondArray::from(axis.clone())) as ArrayRef,
    )];
    for ((v, label_values), points) in &series {
        let mut previous = None;
        let column: Float64Array = axis
            .iter()
            .map(|t| match points.get(t) {
                Some(value) => {
                    previous = *value;
                    *value
                }
                None => match fill {
                    Some(SeriesFill::Value(x)) => Some(x),
                    Some(SeriesFill::Previous) => previous,
                    Some(SeriesFill::Null) | None => None,
                },
            })
            .collect();
        let mut field = Field::new(
            schema.field(value_cols[*v]).name().clone(),
            Arc::new(column),
        );
        field.labels = label_cols
            .iter()
            .map(|i| schema.field(*i).name().clone())
            .zip(label_values.iter().cloned())
            .collect();
        fields.push(field);
    }
    let mut frame = Frame::new(ref_id, fields);
    frame.meta.frame_type = Some("timeseries-wide");
    frame.meta.preferred_visualisation = Some("graph");
    frame.meta.notices = notices;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{Field as ArrowField, Schema};

    fn batch() -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            ArrowField::new("time", DataType::Int64, true),
            ArrowField::new("region", DataType::Utf8, true),
            ArrowField::new("flows", DataType::Int64, true),
        ]));
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![0, 0, 120_000])),
                Arc::new(StringArray::from(vec!["a", "b", "a"])),
                Arc::new(Int64Array::from(vec![1, 2, 3])),
            ],
        )
        .unwrap();
        (schema, b)
    }

    fn values(f: &Field) -> Vec<Option<f64>> {
        f.values
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn long_rows_become_wide_series_with_fill() {
        let (schema, b) = batch();
        let opts = |fill| SqlSeriesOptions {
            fill,
            from_ms: 0,
            to_ms: 179_999,
            max_series: 10,
        };
        let f = sql_series_frame("A", &schema, std::slice::from_ref(&b), &opts(None)).unwrap();
        assert_eq!(f.fields.len(), 3);
        assert_eq!(f.fields[1].labels["region"], "a");
        assert_eq!(values(&f.fields[1]), vec![Some(1.0), Some(3.0)]);
        assert_eq!(values(&f.fields[2]), vec![Some(2.0), None]);
        let f = sql_series_frame(
            "A",
            &schema,
            std::slice::from_ref(&b),
            &opts(Some((60_000, SeriesFill::Value(0.0)))),
        )
        .unwrap();
        assert_eq!(values(&f.fields[1]), vec![Some(1.0), Some(0.0), Some(3.0)]);
        let f = sql_series_frame(
            "A",
            &schema,
            &[b],
            &opts(Some((60_000, SeriesFill::Previous))),
        )
        .unwrap();
        assert_eq!(values(&f.fields[2]), vec![Some(2.0), Some(2.0), Some(2.0)]);
    }
}
