//! Putting the results of a plan's day slices ([`crate::plan::slices`]) back together: rows before the
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
use crate::plan::slices::{Merge, Sliced, REGROUP_ROWS, SLICE_TIME};
use crate::plan::{
    Aggregate, Expr, HistoryRows, Literal, OutputValue, Plan, Predicate, ENTITY, PREVIOUS_STATE,
    SINCE, STATE, UPDATED,
};
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
            batches = drop_columns(&batches, SLICE_TIME);
        }
        joined.batches.extend(batches);
        add_stats(&mut joined, &mut parts, output);
    }
    joined.stats.partitions = parts.into_iter().collect();
    if let Some(first) = joined.batches.first() {
        joined.schema = first.schema();
    } else {
        joined.schema = Arc::new(drop_field(&joined.schema, SLICE_TIME));
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
        Merge::History => {
            let all = concat_batches(&joined.schema, &joined.batches).map_err(arrow_err)?;
            vec![sorted(plan, &history(plan, &all)?, dialect)?]
        }
    };
    if let Some(first) = joined.batches.first() {
        joined.schema = first.schema();
    }
    Ok(joined)
}

/// Alias of the window count a search's open slice carries ([`crate::plan::Expr::MatchedRows`]).
pub const MATCHED: &str = "slice_matched";

/// Takes the window count ([`MATCHED`]) out of a search slice's output: the rows it matched
/// (0 without rows), the column dropped so the slice fits its siblings.
pub fn take_matched(output: &mut QueryOutput) -> Result<i64, MergeError> {
    let mut matched = 0;
    if let Some(first) = output.batches.iter().find(|b| b.num_rows() > 0) {
        matched = int64(named(first, MATCHED)?)?.value(0);
    }
    output.batches = drop_columns(&output.batches, MATCHED);
    output.schema = Arc::new(drop_field(&output.schema, MATCHED));
    Ok(matched)
}

/// A count slice's output holding `matched` (a search slice's window count) in the column of
/// the count's other slices (`like`), so the count need not run that slice.
pub fn count_output(
    matched: i64,
    like: &[QueryOutput],
    column: &str,
) -> Result<QueryOutput, MergeError> {
    let field = like
        .iter()
        .find_map(|o| o.schema.field_with_name(column).ok())
        .ok_or_else(|| MergeError::Arrow(format!("no column {column}")))?
        .clone();
    let values = cast(&Int64Array::from(vec![matched]), field.data_type()).map_err(arrow_err)?;
    let schema = Arc::new(Schema::new(vec![field]));
    Ok(QueryOutput {
        schema: schema.clone(),
        batches: vec![RecordBatch::try_new(schema, vec![values]).map_err(arrow_err)?],
        stats: ScanStats::default(),
        elapsed: Duration::ZERO,
        athena: None,
        cache: CacheOutcome::Hit,
    })
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
                retries: j.retries + a.retries,
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

/// The batches without their column `name` (where they have it).
fn drop_columns(batches: &[RecordBatch], name: &str) -> Vec<RecordBatch> {
    batches
        .iter()
        .map(|batch| {
            let mut batch = batch.clone();
            if let Ok(i) = batch.schema().index_of(name) {
                batch.remove_column(i);
            }
            batch
        })
        .collect()
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

/// What a history plan's whole query returns, from its slices' runs of one state
/// ([`HistoryRows::Runs`]). Walked per entity in the window functions' order (time, then
/// state), a row is a change when its state differs from the row before it (an entity's first
/// row is one): a row the slices left out has the state of the run it lies in, so the walk
/// sees every change. Then the plan's history rows — the changes, the transitions with their
/// previous state, or each entity's newest row (the newest time, the first state there) with
/// the time its state began — its outer filters and its outer columns.
fn history(plan: &Plan, all: &RecordBatch) -> Result<RecordBatch, MergeError> {
    let h = plan
        .history
        .as_ref()
        .ok_or_else(|| MergeError::Arrow("not a history plan".into()))?;
    let (entity, updated, state) = (
        named(all, ENTITY)?,
        named(all, UPDATED)?,
        named(all, STATE)?,
    );
    let key = |values: &ArrayRef| SortColumn {
        values: values.clone(),
        options: None,
    };
    let order =
        lexsort_to_indices(&[key(entity), key(updated), key(state)], None).map_err(arrow_err)?;
    let order = order.values();
    let entities = comparable(std::slice::from_ref(entity))?;
    let states = comparable(std::slice::from_ref(state))?;
    let times = int64(updated)?;
    // Changes (row, the row before it) and, per entity, (newest row, its last change).
    let mut changes: Vec<(u32, Option<u32>)> = Vec::new();
    let mut newest: Vec<(u32, u32)> = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let first = order[i] as usize;
        let (mut j, mut before, mut last_change) = (i, None::<u32>, order[i]);
        while j < order.len() && entities.row(order[j] as usize) == entities.row(first) {
            let row = order[j];
            if before.is_none_or(|b| states.row(b as usize) != states.row(row as usize)) {
                changes.push((row, before));
                last_change = row;
            }
            before = Some(row);
            j += 1;
        }
        let last_time = times.value(order[j - 1] as usize);
        let mut k = j - 1;
        while k > i && times.value(order[k - 1] as usize) == last_time {
            k -= 1;
        }
        newest.push((order[k], last_change));
        i = j;
    }
    let indices = |rows: Vec<u32>| UInt32Array::from(rows);
    let with_column = |batch: RecordBatch, name: &str, values: ArrayRef| {
        let mut fields: Vec<Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(name, values.data_type().clone(), true));
        let mut columns = batch.columns().to_vec();
        columns.push(values);
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)
    };
    let rows = match h.rows {
        HistoryRows::Changes => {
            take_record_batch(all, &indices(changes.iter().map(|c| c.0).collect()))
                .map_err(arrow_err)?
        }
        HistoryRows::Transitions => {
            let (rows, before): (Vec<u32>, Vec<u32>) = changes
                .iter()
                .filter_map(|(row, before)| before.map(|b| (*row, b)))
                .unzip();
            let previous = take(state, &indices(before), None).map_err(arrow_err)?;
            let rows = take_record_batch(all, &indices(rows)).map_err(arrow_err)?;
            with_column(rows, PREVIOUS_STATE, previous)?
        }
        HistoryRows::Newest => {
            let (rows, since): (Vec<u32>, Vec<u32>) = newest.into_iter().unzip();
            let since = take(updated, &indices(since), None).map_err(arrow_err)?;
            let rows = take_record_batch(all, &indices(rows)).map_err(arrow_err)?;
            with_column(rows, SINCE, since)?
        }
        HistoryRows::Runs => return Err(MergeError::Arrow("runs are a slice's rows".into())),
    };
    let mut keep = BooleanArray::from(vec![true; rows.num_rows()]);
    for p in &h.outer_filters {
        keep = arrow::compute::and_kleene(&keep, &holds(p, &rows)?).map_err(arrow_err)?;
    }
    let rows = filter_record_batch(&rows, &keep).map_err(arrow_err)?;
    outer_columns(&h.outer, &rows)
}

/// Where a history's outer condition holds over `rows` (SQL's three values: NULL where a value
/// it compares is NULL). Conditions on aliases only.
fn holds(p: &Predicate, rows: &RecordBatch) -> Result<BooleanArray, MergeError> {
    let unsupported =
        || MergeError::Arrow(format!("an outer condition the merge cannot check: {p:?}"));
    Ok(match p {
        Predicate::In(Expr::Alias(alias), values) => {
            let column = named(rows, alias)?;
            // The values are all integers or all text (None: a mix).
            let ints: Option<HashSet<i64>> = values
                .iter()
                .map(|v| match v {
                    Literal::Int(i) => Some(*i),
                    Literal::Str(_) => None,
                })
                .collect();
            let texts: Option<HashSet<&str>> = values
                .iter()
                .map(|v| match v {
                    Literal::Str(s) => Some(s.as_str()),
                    Literal::Int(_) => None,
                })
                .collect();
            if let Some(ints) = ints {
                int64(column)?
                    .iter()
                    .map(|v| v.map(|v| ints.contains(&v)))
                    .collect()
            } else if let Some(texts) = texts {
                let column = cast(column, &DataType::Utf8).map_err(arrow_err)?;
                let column = column
                    .as_any()
                    .downcast_ref::<arrow::array::StringArray>()
                    .ok_or_else(|| MergeError::Arrow("not a text column".into()))?;
                column
                    .iter()
                    .map(|v| v.map(|v| texts.contains(v)))
                    .collect()
            } else {
                return Err(unsupported());
            }
        }
        Predicate::Not(inner) => arrow::compute::not(&holds(inner, rows)?).map_err(arrow_err)?,
        Predicate::Or(any) => {
            let mut out = BooleanArray::from(vec![false; rows.num_rows()]);
            for p in any {
                out = arrow::compute::or_kleene(&out, &holds(p, rows)?).map_err(arrow_err)?;
            }
            out
        }
        Predicate::Compare(Expr::Alias(alias), op, value) => int64(named(rows, alias)?)?
            .iter()
            .map(|v| v.map(|v| op.holds(v, *value)))
            .collect(),
        _ => return Err(unsupported()),
    })
}

/// A history's outer columns over its kept rows: input columns by alias, or counts (one row).
fn outer_columns(
    outer: &[crate::plan::Output],
    rows: &RecordBatch,
) -> Result<RecordBatch, MergeError> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let counts = outer
        .iter()
        .any(|o| matches!(o.value, OutputValue::Aggregate(_)));
    for o in outer {
        match (&o.value, counts) {
            (OutputValue::Row(Expr::Alias(alias)), false) => {
                let column = named(rows, alias)?;
                fields.push(Field::new(&o.alias, column.data_type().clone(), true));
                columns.push(column.clone());
            }
            (OutputValue::Aggregate(Aggregate::Count), true) => {
                fields.push(Field::new(&o.alias, DataType::Int64, false));
                columns.push(Arc::new(Int64Array::from(vec![rows.num_rows() as i64])));
            }
            (OutputValue::Aggregate(Aggregate::CountWhere(p)), true) => {
                let n = holds(p, rows)?.iter().filter(|v| *v == Some(true)).count();
                fields.push(Field::new(&o.alias, DataType::Int64, false));
                columns.push(Arc::new(Int64Array::from(vec![n as i64])));
            }
            _ => {
                return Err(MergeError::Arrow(format!(
                    "an outer column the merge cannot compute: {}",
                    o.alias
                )))
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)
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
            *k &= v.is_some_and(|v| having.op.holds(v, having.value));
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
            fields.push(Field::new(SLICE_TIME, DataType::Int64, true));
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

    /// A history slice's runs: (finding, updated, state) rows with the plan's other outputs
    /// filled in (`status` is the state).
    fn runs(plan: &Plan, rows: &[(&str, i64, &str)]) -> QueryOutput {
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        let aliases = plan.outputs.iter().map(|o| o.alias.as_str());
        for alias in aliases.chain([ENTITY, UPDATED, STATE]) {
            let column: ArrayRef = match alias {
                UPDATED => Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                ENTITY => Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                STATE | "status" => {
                    Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2)))
                }
                _ => Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "x"))),
            };
            fields.push(Field::new(alias, column.data_type().clone(), true));
            columns.push(column);
        }
        let schema = Arc::new(Schema::new(fields));
        QueryOutput {
            schema: schema.clone(),
            batches: vec![RecordBatch::try_new(schema, columns).unwrap()],
            stats: ScanStats::default(),
            elapsed: Duration::ZERO,
            athena: None,
            cache: CacheOutcome::Hit,
        }
    }

    #[test]
    fn a_history_walks_runs_across_slices_to_newest_rows_the_time_their_state_began_and_changes() {
        let status = |query: serde_json::Value| {
            planned("2024-06-29T12:00:00Z", "2024-06-30T12:00:00Z", query)
        };
        let newest =
            status(serde_json::json!({"kind": "compliance_status", "controls": ["EC2.6"]}));
        let changes =
            status(serde_json::json!({"kind": "compliance_over_time", "controls": ["EC2.6"]}));
        let now = t("2024-07-05T00:00:00Z");
        for p in [newest, changes] {
            let sliced = slice_plan(&p, now).unwrap();
            let mut outputs: Vec<QueryOutput> =
                sliced.slices.iter().map(|_| runs(&p, &[])).collect();
            // f1 passes from 5 on (its next slice's first row continues the run, its newest row
            // is no change); f2 fails from 11; f3 is archived; f4 has two states at 3, the first
            // one in state order being its newest row.
            outputs[0] = runs(
                &p,
                &[
                    ("f1", 1, "FAILED"),
                    ("f1", 5, "PASSED"),
                    ("f2", 2, "PASSED"),
                    ("f4", 3, "FAILED"),
                    ("f4", 3, "PASSED"),
                ],
            );
            outputs[1] = runs(
                &p,
                &[
                    ("f1", 10, "PASSED"),
                    ("f1", 20, "PASSED"),
                    ("f2", 11, "FAILED"),
                    ("f3", 12, "ARCHIVED"),
                ],
            );
            let joined = join_slices(&p, &sliced, outputs, Dialect::Athena).unwrap();
            let batch = &joined.batches[0];
            if p.history.as_ref().unwrap().rows == HistoryRows::Newest {
                assert_eq!(column(batch, ENTITY), ["f2", "f4", "f1"]);
                assert_eq!(column(batch, "status"), ["FAILED", "FAILED", "PASSED"]);
                assert_eq!(column(batch, "since"), ["11", "3", "5"]);
                assert_eq!(column(batch, UPDATED), ["11", "3", "20"]);
            } else {
                let rows: Vec<String> = column(batch, ENTITY)
                    .into_iter()
                    .zip(column(batch, UPDATED))
                    .zip(column(batch, STATE))
                    .map(|((f, u), s)| format!("{f} {u} {s}"))
                    .collect();
                assert_eq!(
                    rows[..4],
                    ["f1 1 FAILED", "f1 5 PASSED", "f2 2 PASSED", "f2 11 FAILED"]
                );
                assert_eq!(rows[4], "f3 12 ARCHIVED");
                assert_eq!(rows.len(), 7, "{rows:?}");
            }
        }
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
