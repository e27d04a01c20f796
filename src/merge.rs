//! Putting the results of a plan's day slices ([`plan::slices`]) back together: rows before the
//! range start dropped, then side by side, re-sorted and cut, or added up per group — so the
//! frames cannot tell a sliced result from the plan run whole.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::compute::{cast, concat_batches, filter_record_batch, lexsort_to_indices, take};
use arrow::compute::{SortColumn, SortOptions};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};

use crate::cache::CacheOutcome;
use crate::engine::{AthenaStats, QueryOutput, ResultRead, ScanStats};
use crate::plan::slices::{Merge, Sliced, REGROUP_ROWS, SLICE_HOUR};
use crate::plan::{Aggregate, Comparison, OutputValue, Plan};
use crate::sql::Dialect;

/// Why slices' results could not be put together; the plan then runs whole.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    /// A slice of an added-up table returned its whole limit: groups may be missing.
    #[error("a slice returned {0} rows, its limit: groups may be missing")]
    Incomplete(usize),
    /// The slices' columns did not fit together.
    #[error("slice results do not fit together: {0}")]
    Arrow(String),
}

fn arrow_err(e: arrow::error::ArrowError) -> MergeError {
    MergeError::Arrow(e.to_string())
}

/// The column called `name`.
fn named<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, MergeError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| MergeError::Arrow(format!("no column {name}")))
}

/// One output from the outputs of `sliced`, the slices of `plan`: their rows put together as
/// the plan's [`Merge`] says, what they read and cost added up; a hit only when every slice was.
pub fn join_slices(
    plan: &Plan,
    sliced: &Sliced,
    outputs: Vec<QueryOutput>,
    dialect: Dialect,
) -> Result<QueryOutput, MergeError> {
    let mut joined = QueryOutput {
        schema: outputs[0].schema.clone(),
        batches: Vec::new(),
        stats: ScanStats::default(),
        elapsed: Duration::ZERO,
        athena: None,
        cache: CacheOutcome::Hit,
    };
    let mut parts = BTreeSet::new();
    for (slice, mut output) in sliced.slices.iter().zip(outputs) {
        let rows = output.rows();
        if slice.every_group && rows as u64 > REGROUP_ROWS {
            return Err(MergeError::Incomplete(rows));
        }
        let batches = std::mem::take(&mut output.batches);
        let mut batches = match slice.keep_from_ms {
            Some(from) => keep_from(&batches, &sliced.trim_column, from)?,
            None => batches,
        };
        if sliced.merge == Merge::Regroup {
            batches = batches
                .iter()
                .map(|b| drop_column(b, SLICE_HOUR))
                .collect::<Result<_, _>>()?;
        }
        joined.batches.extend(batches);
        add_stats(&mut joined, &mut parts, output);
    }
    joined.stats.partitions = parts.into_iter().collect();
    if let Some(first) = joined.batches.first() {
        joined.schema = first.schema();
    } else {
        joined.schema = Arc::new(drop_field(&joined.schema, SLICE_HOUR));
    }
    joined.batches = match sliced.merge {
        Merge::Concat => joined.batches,
        Merge::Rerank => {
            let all = concat_batches(&joined.schema, &joined.batches).map_err(arrow_err)?;
            vec![sorted(plan, &all, dialect)?]
        }
        Merge::Regroup => {
            let all = concat_batches(&joined.schema, &joined.batches).map_err(arrow_err)?;
            vec![sorted(plan, &regroup(plan, &all)?, dialect)?]
        }
    };
    if let Some(first) = joined.batches.first() {
        joined.schema = first.schema();
    }
    Ok(joined)
}

/// Adds what a slice's query read, cost and took to the joined output (its partition folders
/// into `parts`).
fn add_stats(joined: &mut QueryOutput, parts: &mut BTreeSet<String>, output: QueryOutput) {
    let stats = output.stats;
    joined.stats.files += stats.files;
    joined.stats.file_bytes += stats.file_bytes;
    joined.stats.bytes_read += stats.bytes_read;
    parts.extend(stats.partitions);
    joined.elapsed = joined.elapsed.max(output.elapsed);
    joined.cache = match (joined.cache, output.cache) {
        (CacheOutcome::Miss, _) | (_, CacheOutcome::Miss) => CacheOutcome::Miss,
        (CacheOutcome::Shared, _) | (_, CacheOutcome::Shared) => CacheOutcome::Shared,
        _ => CacheOutcome::Hit,
    };
    if let Some(a) = output.athena {
        joined.athena = Some(match joined.athena.take() {
            None => a,
            Some(j) => AthenaStats {
                query_id: format!("{}, {}", j.query_id, a.query_id),
                scanned_bytes: j.scanned_bytes + a.scanned_bytes,
                engine_ms: j.engine_ms.max(a.engine_ms),
                queue_ms: j.queue_ms.max(a.queue_ms),
                read: match (j.read, a.read) {
                    (ResultRead::Pages(x), ResultRead::Pages(y)) => ResultRead::Pages(x + y),
                    (ResultRead::Object(x), _) | (_, ResultRead::Object(x)) => {
                        ResultRead::Object(x)
                    }
                },
            },
        });
    }
}

/// The rows whose epoch-ms `column` is at or after `from_ms`.
pub fn keep_from(
    batches: &[RecordBatch],
    column: &str,
    from_ms: i64,
) -> Result<Vec<RecordBatch>, MergeError> {
    batches
        .iter()
        .map(|b| {
            let values = int64(named(b, column)?)?;
            let keep: BooleanArray = values
                .iter()
                .map(|v| Some(v.is_some_and(|v| v >= from_ms)))
                .collect();
            filter_record_batch(b, &keep).map_err(arrow_err)
        })
        .collect()
}

fn int64(values: &ArrayRef) -> Result<Int64Array, MergeError> {
    let values = cast(values, &DataType::Int64).map_err(arrow_err)?;
    values
        .as_any()
        .downcast_ref::<Int64Array>()
        .cloned()
        .ok_or_else(|| MergeError::Arrow("not an integer column".into()))
}

fn drop_field(schema: &Schema, name: &str) -> Schema {
    Schema::new(
        schema
            .fields()
            .iter()
            .filter(|f| f.name() != name)
            .cloned()
            .collect::<Vec<_>>(),
    )
}

fn drop_column(batch: &RecordBatch, name: &str) -> Result<RecordBatch, MergeError> {
    match batch.schema().index_of(name) {
        Ok(i) => {
            let mut batch = batch.clone();
            batch.remove_column(i);
            Ok(batch)
        }
        Err(_) => Ok(batch.clone()),
    }
}

/// Rows of one group added up: one row per distinct combination of the plan's group columns,
/// sums and counts added, minima and maxima kept, a distinct count's values (returned by the
/// slices under its alias) counted once; then the plan's group conditions. No group columns:
/// exactly one row, as SQL gives (counts 0, the rest NULL when there were no rows).
fn regroup(plan: &Plan, all: &RecordBatch) -> Result<RecordBatch, MergeError> {
    let schema = all.schema();
    let column = |alias: &str| {
        let field = schema.field_with_name(alias).map_err(arrow_err)?.clone();
        Ok::<_, MergeError>((field, named(all, alias)?.clone()))
    };
    let keys: Vec<ArrayRef> = plan
        .outputs
        .iter()
        .filter(|o| matches!(o.value, OutputValue::Group(_)))
        .map(|o| column(&o.alias).map(|(_, c)| c))
        .collect::<Result<_, _>>()?;
    // Each row's group, numbered in order of first appearance.
    let mut firsts: Vec<u32> = Vec::new();
    let mut group_of: Vec<usize> = Vec::with_capacity(all.num_rows());
    if keys.is_empty() {
        group_of.resize(all.num_rows(), 0);
        firsts.push(0);
    } else {
        let rows = comparable(&keys)?;
        let mut seen = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            let next = firsts.len();
            let group = *seen.entry(row.owned()).or_insert(next);
            if group == next {
                firsts.push(i as u32);
            }
            group_of.push(group);
        }
    }
    let groups = firsts.len();
    let firsts = UInt32Array::from(firsts);
    let mut fields = Vec::with_capacity(plan.outputs.len());
    let mut columns = Vec::with_capacity(plan.outputs.len());
    for output in &plan.outputs {
        let (field, values) = column(&output.alias)?;
        match &output.value {
            OutputValue::Aggregate(Aggregate::CountDistinct(_)) => {
                let rows = comparable(std::slice::from_ref(&values))?;
                let mut sets = vec![HashSet::new(); groups];
                for (row, group) in group_of.iter().enumerate() {
                    if values.is_valid(row) {
                        sets[*group].insert(rows.row(row).owned());
                    }
                }
                fields.push(Field::new(&output.alias, DataType::Int64, false));
                columns.push(Arc::new(Int64Array::from_iter_values(
                    sets.iter().map(|s| s.len() as i64),
                )) as ArrayRef);
            }
            OutputValue::Aggregate(aggregate) => {
                let ints = int64(&values)?;
                let mut acc: Vec<Option<i64>> = vec![None; groups];
                for (row, group) in group_of.iter().enumerate() {
                    if ints.is_null(row) {
                        continue;
                    }
                    let v = ints.value(row);
                    let slot = &mut acc[*group];
                    *slot = Some(match (aggregate, *slot) {
                        (_, None) => v,
                        (Aggregate::Min(_), Some(a)) => a.min(v),
                        (Aggregate::Max(_), Some(a)) => a.max(v),
                        (_, Some(a)) => a + v,
                    });
                }
                if matches!(aggregate, Aggregate::Count | Aggregate::CountWhere(_)) {
                    acc.iter_mut().for_each(|a| *a = Some(a.unwrap_or(0)));
                }
                let summed: ArrayRef = Arc::new(Int64Array::from(acc));
                columns.push(cast(&summed, values.data_type()).map_err(arrow_err)?);
                fields.push(field);
            }
            _ => {
                columns.push(take(&values, &firsts, None).map_err(arrow_err)?);
                fields.push(field);
            }
        }
    }
    let merged = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)?;
    holding(plan, &merged)
}

/// Rows in comparable, hashable form.
fn comparable(columns: &[ArrayRef]) -> Result<arrow::row::Rows, MergeError> {
    let converter = RowConverter::new(
        columns
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )
    .map_err(arrow_err)?;
    converter.convert_columns(columns).map_err(arrow_err)
}

/// The rows whose groups meet every group condition of the plan (`HAVING`), checked on the
/// output column of the condition's aggregate.
fn holding(plan: &Plan, merged: &RecordBatch) -> Result<RecordBatch, MergeError> {
    let mut keep = vec![true; merged.num_rows()];
    for having in &plan.having {
        let alias = plan
            .outputs
            .iter()
            .find(|o| o.value == OutputValue::Aggregate(having.aggregate.clone()))
            .map(|o| o.alias.as_str())
            .ok_or_else(|| MergeError::Arrow("a group condition has no column".into()))?;
        let values = int64(named(merged, alias)?)?;
        for (k, v) in keep.iter_mut().zip(values.iter()) {
            *k &= v.is_some_and(|v| match having.op {
                Comparison::Greater => v > having.value,
                Comparison::Less => v < having.value,
                Comparison::AtLeast => v >= having.value,
            });
        }
    }
    filter_record_batch(merged, &BooleanArray::from(keep)).map_err(arrow_err)
}

/// The rows sorted by the plan's order (NULLs where the dialect's engine puts them) and cut at
/// its limit.
fn sorted(plan: &Plan, all: &RecordBatch, dialect: Dialect) -> Result<RecordBatch, MergeError> {
    let limit = usize::try_from(plan.limit).unwrap_or(usize::MAX);
    if plan.order_by.is_empty() {
        return Ok(all.slice(0, all.num_rows().min(limit)));
    }
    let keys: Vec<SortColumn> = plan
        .order_by
        .iter()
        .map(|k| {
            Ok(SortColumn {
                values: named(all, &k.alias)?.clone(),
                options: Some(SortOptions {
                    descending: k.descending,
                    // DataFusion sorts NULLs as PostgreSQL does (first when descending); Athena
                    // (Trino) puts them last either way.
                    nulls_first: dialect == Dialect::Local && k.descending,
                }),
            })
        })
        .collect::<Result<_, MergeError>>()?;
    let order = lexsort_to_indices(&keys, Some(limit)).map_err(arrow_err)?;
    take_record_batch(all, &order).map_err(arrow_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::slices::slice_plan;
    use crate::plan::slices::tests::{planned, t};
    use arrow::array::StringArray;

    /// A talkers result: (address, hour or None, bytes); packets and flows 1 each.
    fn talkers(rows: &[(&str, Option<&str>, i64)]) -> QueryOutput {
        let hourly = rows.iter().any(|r| r.1.is_some());
        let mut fields = vec![Field::new("src_ip", DataType::Utf8, true)];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.0),
        ))];
        if hourly {
            fields.push(Field::new(SLICE_HOUR, DataType::Int64, true));
            columns.push(Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| t(r.1.unwrap()).timestamp_millis()),
            )));
        }
        for name in ["bytes", "packets", "flows"] {
            fields.push(Field::new(name, DataType::Int64, true));
            let values = rows.iter().map(|r| if name == "bytes" { r.2 } else { 1 });
            columns.push(Arc::new(Int64Array::from_iter_values(values)));
        }
        let schema = Arc::new(Schema::new(fields));
        QueryOutput {
            schema: schema.clone(),
            batches: vec![RecordBatch::try_new(schema, columns).unwrap()],
            stats: ScanStats {
                files: 1,
                file_bytes: 10,
                bytes_read: 5,
                partitions: vec!["p".into()],
            },
            elapsed: Duration::from_millis(3),
            athena: None,
            cache: CacheOutcome::Hit,
        }
    }

    fn column(batch: &RecordBatch, name: &str) -> Vec<String> {
        let c = cast(batch.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
        let c = c.as_any().downcast_ref::<StringArray>().unwrap();
        c.iter().map(|v| v.unwrap_or("NULL").to_string()).collect()
    }

    #[test]
    fn an_added_up_table_sums_groups_across_slices_after_dropping_hours_before_the_range() {
        let p = planned(
            "2024-06-14T12:30:00Z",
            "2024-06-15T06:00:00Z",
            serde_json::json!({"kind": "top_talkers", "by": "source", "limit": 2}),
        );
        let sliced = slice_plan(&p, t("2024-07-01T00:00:00Z")).unwrap();
        assert_eq!(sliced.slices.len(), 3);
        let outputs = vec![
            talkers(&[("10.0.0.1", None, 10), ("10.0.0.2", None, 5)]),
            talkers(&[
                ("10.0.0.1", Some("2024-06-14T12:00:00Z"), 100),
                ("10.0.0.1", Some("2024-06-14T13:00:00Z"), 7),
                ("10.0.0.3", Some("2024-06-14T20:00:00Z"), 3),
            ]),
            talkers(&[("10.0.0.2", None, 40), ("10.0.0.3", None, 1)]),
        ];
        let joined = join_slices(&p, &sliced, outputs, Dialect::Local).unwrap();
        let batch = &joined.batches[0];
        assert_eq!(column(batch, "src_ip"), ["10.0.0.2", "10.0.0.1"]);
        assert_eq!(column(batch, "bytes"), ["45", "17"]);
        assert_eq!(column(batch, "flows"), ["2", "2"]);
        assert_eq!(
            batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>(),
            ["src_ip", "bytes", "packets", "flows"]
        );
        assert_eq!((joined.stats.files, joined.stats.bytes_read), (3, 15));
        assert_eq!(joined.stats.partitions, ["p"]);
        assert_eq!(joined.cache, CacheOutcome::Hit);
    }

    #[test]
    fn a_slice_cut_at_its_limit_makes_the_plan_run_whole() {
        let p = planned(
            "2024-06-14T12:30:00Z",
            "2024-06-15T06:00:00Z",
            serde_json::json!({"kind": "top_talkers", "by": "source"}),
        );
        let sliced = slice_plan(&p, t("2024-07-01T00:00:00Z")).unwrap();
        let many: Vec<String> = (0..=REGROUP_ROWS).map(|i| format!("10.{i}")).collect();
        let rows: Vec<(&str, Option<&str>, i64)> =
            many.iter().map(|ip| (ip.as_str(), None, 1)).collect();
        let outputs = vec![talkers(&rows), talkers(&[]), talkers(&[])];
        assert_eq!(
            join_slices(&p, &sliced, outputs, Dialect::Local).unwrap_err(),
            MergeError::Incomplete(REGROUP_ROWS as usize + 1)
        );
    }

    #[test]
    fn a_count_of_no_rows_is_one_row_of_zero() {
        let p = planned(
            "2024-06-14T12:30:00Z",
            "2024-06-15T06:00:00Z",
            serde_json::json!({"kind": "flow_search"}),
        )
        .counting();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "total",
            DataType::Int64,
            false,
        )]));
        let all = RecordBatch::new_empty(schema);
        let counted = regroup(&p, &all).unwrap();
        assert_eq!(column(&counted, "total"), ["0"]);
    }

    #[test]
    fn nulls_sort_where_each_engine_puts_them() {
        let p = planned(
            "2024-06-14T12:30:00Z",
            "2024-06-15T06:00:00Z",
            serde_json::json!({"kind": "top_talkers", "by": "source", "limit": 3}),
        );
        let schema = Arc::new(Schema::new(vec![
            Field::new("src_ip", DataType::Utf8, true),
            Field::new("bytes", DataType::Int64, true),
        ]));
        let all = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["a", "b", "c"])),
                Arc::new(Int64Array::from(vec![Some(1), None, Some(2)])),
            ],
        )
        .unwrap();
        let local = sorted(&p, &all, Dialect::Local).unwrap();
        assert_eq!(column(&local, "src_ip"), ["b", "c", "a"]);
        let athena = sorted(&p, &all, Dialect::Athena).unwrap();
        assert_eq!(column(&athena, "src_ip"), ["c", "a", "b"]);
    }
}
