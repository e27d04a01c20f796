//! Arrow columns of the demo tables, built from closures over row indices: what the writers of
//! every source (`write.rs`, `trail/batch.rs`) share. Imports nothing of its siblings.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, ListArray, ListBuilder, MapBuilder,
    StringArray, StringBuilder, StructArray, TimestampMillisecondArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields};

use super::DemoError;

pub(super) type Col = (Arc<Field>, ArrayRef);

pub(super) fn col(name: &str, values: ArrayRef) -> Col {
    (
        Arc::new(Field::new(name, values.data_type().clone(), true)),
        values,
    )
}

pub(super) fn strs<'a>(n: usize, f: impl Fn(usize) -> Option<&'a str>) -> ArrayRef {
    Arc::new((0..n).map(f).collect::<StringArray>())
}

pub(super) fn same(n: usize, value: &str) -> ArrayRef {
    Arc::new(StringArray::from(vec![Some(value); n]))
}

pub(super) fn int32(n: usize, f: impl Fn(usize) -> i32) -> ArrayRef {
    Arc::new((0..n).map(|i| Some(f(i))).collect::<Int32Array>())
}

pub(super) fn int32_opt(n: usize, f: impl Fn(usize) -> Option<i32>) -> ArrayRef {
    Arc::new((0..n).map(f).collect::<Int32Array>())
}

pub(super) fn int64(n: usize, f: impl Fn(usize) -> i64) -> ArrayRef {
    Arc::new((0..n).map(|i| Some(f(i))).collect::<Int64Array>())
}

pub(super) fn ts(n: usize, f: impl Fn(usize) -> i64) -> ArrayRef {
    Arc::new(
        (0..n)
            .map(|i| Some(f(i)))
            .collect::<TimestampMillisecondArray>(),
    )
}

pub(super) fn structure(cols: Vec<Col>) -> ArrayRef {
    Arc::new(StructArray::from(cols))
}

/// A list column where every row holds the same strings.
pub(super) fn same_list(n: usize, items: &[&str]) -> ArrayRef {
    let values: StringArray = (0..n)
        .flat_map(|_| items.iter().map(|s| Some(*s)))
        .collect();
    let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(items.len(), n));
    Arc::new(ListArray::new(
        Arc::new(Field::new("item", DataType::Utf8, true)),
        offsets,
        Arc::new(values),
        None,
    ))
}

/// A list column holding one address where `f` gives one, NULL elsewhere (`intermediate_ips`).
pub(super) fn addr_lists<'a>(n: usize, f: impl Fn(usize) -> Option<&'a str>) -> ArrayRef {
    let mut lists = ListBuilder::new(StringBuilder::new());
    for i in 0..n {
        match f(i) {
            Some(addr) => {
                lists.values().append_value(addr);
                lists.append(true);
            }
            None => lists.append(false),
        }
    }
    Arc::new(lists.finish())
}

/// A nullable boolean column.
pub(super) fn bools(n: usize, f: impl Fn(usize) -> Option<bool>) -> ArrayRef {
    Arc::new((0..n).map(f).collect::<BooleanArray>())
}

/// A list-of-structs column: `lengths[i]` items for row `i`, the items' fields given whole.
pub(super) fn struct_list(values: ArrayRef, lengths: impl Iterator<Item = usize>) -> ArrayRef {
    let fields: Fields = match values.data_type() {
        DataType::Struct(f) => f.clone(),
        _ => Fields::empty(),
    };
    Arc::new(ListArray::new(
        Arc::new(Field::new("item", DataType::Struct(fields), true)),
        OffsetBuffer::from_lengths(lengths),
        values,
        None,
    ))
}

/// A `map<string,string>` column: the entries of each row.
pub(super) fn string_map(
    n: usize,
    entries: impl Fn(usize) -> Vec<(&'static str, String)>,
) -> Result<ArrayRef, DemoError> {
    let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for i in 0..n {
        for (key, value) in entries(i) {
            map.keys().append_value(key);
            map.values().append_value(value);
        }
        map.append(true)
            .map_err(|e| DemoError::Encode(e.to_string()))?;
    }
    Ok(Arc::new(map.finish()))
}
