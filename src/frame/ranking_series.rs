//! A ranking table as alert rules read it: one series per row, labelled by the row's keys,
//! holding the row's measure at one instant (the end of the range). A rule then fires per row,
//! e.g. per exposed service.

use std::collections::BTreeMap;

use arrow::array::{Array, Float64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::DataType;
use serde_json::json;

use super::encode::FrameError;
use super::{array, Field, Frame};

/// The ranking `table` (key columns `keys`, then the measures) as a wide series frame at
/// `at_ms`; the table's meta goes with it. No rows: a series frame with no values, which is
/// Grafana's "no data".
pub fn ranking_series_frame(
    mut table: Frame,
    keys: &[&str],
    (measure, unit): (&str, &str),
    at_ms: i64,
) -> Result<Frame, FrameError> {
    let labels = key_labels(&table, keys)?;
    let values = table.values_as(measure, &DataType::Float64)?;
    let values = values
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("cast to Float64");
    let time = TimestampMillisecondArray::from(vec![at_ms]);
    let mut fields = vec![Field::new("time", array(time))];
    for (row, labels) in labels.into_iter().enumerate() {
        let value = values.is_valid(row).then(|| values.value(row));
        let mut field = Field::new(measure, array(Float64Array::from(vec![value])));
        let name: Vec<&str> = labels.values().map(String::as_str).collect();
        field.config = Some(json!({"unit": unit, "displayNameFromDS": name.join(" / ")}));
        field.labels = labels;
        fields.push(field);
    }
    table.fields = fields;
    table.meta.frame_type = Some("timeseries-wide");
    table.meta.preferred_visualisation = Some("graph");
    Ok(table)
}

/// Each row's keys as labels (empty text for NULL: a label has no null).
fn key_labels(table: &Frame, keys: &[&str]) -> Result<Vec<BTreeMap<String, String>>, FrameError> {
    let columns: Vec<_> = keys
        .iter()
        .map(|k| table.values_as(k, &DataType::Utf8))
        .collect::<Result<_, _>>()?;
    Ok((0..table.rows())
        .map(|row| {
            keys.iter()
                .zip(&columns)
                .map(|(key, values)| {
                    let text = values.as_any().downcast_ref::<StringArray>();
                    let value = text
                        .filter(|t| t.is_valid(row))
                        .map_or_else(String::new, |t| t.value(row).to_string());
                    (key.to_string(), value)
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    #[test]
    fn each_row_is_a_labelled_series_at_the_instant() {
        let table = Frame::new(
            "A",
            vec![
                Field::new(
                    "dst_ip",
                    array(StringArray::from(vec![Some("10.0.0.5"), None])),
                ),
                Field::new("dst_port", array(Int64Array::from(vec![22, 3389]))),
                Field::new("flows", array(Int64Array::from(vec![7, 2]))),
            ],
        );
        let frame = ranking_series_frame(table, &["dst_ip", "dst_port"], ("flows", "short"), 1_000)
            .unwrap();
        assert_eq!(frame.meta.frame_type, Some("timeseries-wide"));
        assert_eq!(frame.fields.len(), 3);
        assert_eq!(frame.fields[0].values.len(), 1);
        let labels: Vec<Vec<(&str, &str)>> = frame.fields[1..]
            .iter()
            .map(|f| {
                f.labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect()
            })
            .collect();
        assert_eq!(
            labels,
            [
                vec![("dst_ip", "10.0.0.5"), ("dst_port", "22")],
                vec![("dst_ip", ""), ("dst_port", "3389")]
            ]
        );
        let second = frame.fields[2]
            .values
            .as_any()
            .downcast_ref::<Float64Array>();
        assert_eq!(second.unwrap().value(0), 2.0);
    }
}
