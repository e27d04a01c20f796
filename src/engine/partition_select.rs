//! Which partition folders a scan's filters admit. DataFusion hands a table scan the conjuncts of
//! the query's WHERE clause; those that read only partition columns decide which
//! `region=…/accountId=…/eventDay=…` folders hold rows the query can return.
//!
//! Two steps, so that listing follows the query: while walking down the folders, a folder is
//! skipped only when a filter compares its key with constants and its value fails ([`admits`],
//! sound for any filter: what it cannot judge it admits); then every filter is evaluated exactly
//! on the values of the partitions found ([`PartitionPredicates`]), as DataFusion would on the rows.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use datafusion::physical_plan::PhysicalExpr;

/// The partition folder keys of the Security Lake layout, in folder order.
pub const PARTITION_KEYS: [&str; 3] = ["region", "accountId", "eventDay"];

/// Whether a filter reads only partition columns (and gives the same answer each time), so the
/// partition values alone decide it.
pub fn is_partition_filter(filter: &Expr) -> bool {
    !filter.is_volatile()
        && filter
            .column_refs()
            .iter()
            .all(|c| PARTITION_KEYS.contains(&c.name.as_str()))
}

/// Whether rows whose partition column `key` is `value` could pass every filter, knowing
/// nothing of the other columns: false only when a filter compares `key` with constants and
/// `value` fails the comparison.
pub fn admits(filters: &[Expr], key: &str, value: &str) -> bool {
    filters.iter().all(|f| could_hold(f, key, value))
}

fn could_hold(filter: &Expr, key: &str, value: &str) -> bool {
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => could_hold(left, key, value) && could_hold(right, key, value),
            Operator::Or => could_hold(left, key, value) || could_hold(right, key, value),
            _ => compares(left, *op, right, key, value),
        },
        Expr::InList(InList {
            expr,
            list,
            negated,
        }) if is_key(expr, key) => match list.iter().map(text).collect::<Option<Vec<_>>>() {
            Some(values) => values.contains(&value) != *negated,
            None => true,
        },
        Expr::Between(Between {
            expr,
            negated,
            low,
            high,
        }) if is_key(expr, key) => match (text(low), text(high)) {
            (Some(low), Some(high)) => (low <= value && value <= high) != *negated,
            _ => true,
        },
        Expr::Alias(alias) => could_hold(&alias.expr, key, value),
        _ => true,
    }
}

/// `key <op> 'constant'` (either way round) judged on `value`; true when it is no such
/// comparison. Strings compare bytewise, as Arrow compares them.
fn compares(left: &Expr, op: Operator, right: &Expr, key: &str, value: &str) -> bool {
    let (op, constant) = if is_key(left, key) {
        (op, right)
    } else if is_key(right, key) {
        match op.swap() {
            Some(swapped) => (swapped, left),
            None => return true,
        }
    } else {
        return true;
    };
    let Some(constant) = text(constant) else {
        return true;
    };
    match op {
        Operator::Eq | Operator::IsNotDistinctFrom => value == constant,
        Operator::NotEq | Operator::IsDistinctFrom => value != constant,
        Operator::Lt => value < constant,
        Operator::LtEq => value <= constant,
        Operator::Gt => value > constant,
        Operator::GtEq => value >= constant,
        _ => true,
    }
}

/// The partition column `key` itself, or a cast of it to another string type (same values).
fn is_key(e: &Expr, key: &str) -> bool {
    match e {
        Expr::Column(c) => c.name == key,
        Expr::Cast(cast) if is_string(cast.field.data_type()) => is_key(&cast.expr, key),
        Expr::TryCast(cast) if is_string(cast.field.data_type()) => is_key(&cast.expr, key),
        _ => false,
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// A non-null string constant.
fn text(e: &Expr) -> Option<&str> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.as_str()),
        Expr::Cast(cast) if is_string(cast.field.data_type()) => text(&cast.expr),
        _ => None,
    }
}

/// The schema of the partition values: one string column per key, in folder order.
pub fn partition_schema() -> SchemaRef {
    Arc::new(Schema::new(
        PARTITION_KEYS
            .iter()
            .map(|k| Field::new(*k, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ))
}

/// The partition filters of a scan, ready to evaluate on partition values away from the session
/// (on the thread that lists the folders).
pub struct PartitionPredicates {
    filters: Vec<Expr>,
    physical: Vec<Arc<dyn PhysicalExpr>>,
}

impl PartitionPredicates {
    /// Compiles the filters that read only partition columns.
    pub fn new(state: &dyn Session, filters: &[Expr]) -> Result<Self> {
        let schema = DFSchema::try_from(partition_schema())?;
        let filters: Vec<Expr> = filters
            .iter()
            .filter(|f| is_partition_filter(f))
            .map(|f| unnormalize_col(f.clone()))
            .collect();
        let physical = filters
            .iter()
            .map(|f| state.create_physical_expr(f.clone(), &schema))
            .collect::<Result<_>>()?;
        Ok(PartitionPredicates { filters, physical })
    }

    /// See [`admits`].
    pub fn admits(&self, key: &str, value: &str) -> bool {
        admits(&self.filters, key, value)
    }

    /// Which of the partitions (values in [`PARTITION_KEYS`] order) pass every filter.
    pub fn matching(&self, partitions: &[[String; 3]]) -> Result<Vec<bool>> {
        let mut keep = vec![true; partitions.len()];
        if self.physical.is_empty() || partitions.is_empty() {
            return Ok(keep);
        }
        let columns: Vec<ArrayRef> = (0..PARTITION_KEYS.len())
            .map(|i| {
                Arc::new(StringArray::from_iter_values(
                    partitions.iter().map(|p| p[i].as_str()),
                )) as ArrayRef
            })
            .collect();
        let batch = RecordBatch::try_new(partition_schema(), columns)?;
        for predicate in &self.physical {
            let result = predicate.evaluate(&batch)?.into_array(batch.num_rows())?;
            let Some(passed) = result.as_any().downcast_ref::<BooleanArray>() else {
                continue;
            };
            for (k, p) in keep.iter_mut().zip(passed.iter()) {
                *k &= p == Some(true);
            }
        }
        Ok(keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{ident as col, lit, SessionContext};

    fn day() -> Expr {
        col("eventDay")
    }

    #[test]
    fn constant_comparisons_of_the_key_decide_and_the_rest_is_admitted() {
        let f = |e: Expr, v: &str| admits(&[e], "eventDay", v);
        assert!(f(day().eq(lit("20240601")), "20240601"));
        assert!(!f(day().eq(lit("20240601")), "20240602"));
        assert!(!f(lit("20240601").lt(day()), "20240601"), "swapped");
        assert!(f(lit("20240601").lt(day()), "20240602"));
        assert!(f(day().between(lit("a"), lit("c")), "b"));
        assert!(!f(day().not_between(lit("a"), lit("c")), "b"));
        assert!(!f(day().in_list(vec![lit("x"), lit("y")], false), "z"));
        assert!(f(day().in_list(vec![lit("x"), lit("y")], true), "z"));
        let either = day().eq(lit("x")).or(day().eq(lit("y")));
        assert!(f(either.clone(), "y") && !f(either, "z"));
        assert!(!f(day().eq(lit("x")).and(col("region").eq(lit("r"))), "y"));
        // What is not a comparison of the key with constants cannot rule a folder out.
        assert!(f(day().eq(col("region")), "y"));
        assert!(f(col("region").eq(lit("r")), "y"));
        assert!(f(Expr::Not(Box::new(day().eq(lit("y")))), "y"));
    }

    #[test]
    fn partition_filters_are_evaluated_exactly() {
        let ctx = SessionContext::new();
        let filters = [
            col("region").eq(lit("us-east-1")),
            datafusion::functions::expr_fn::ends_with(day(), lit("02")),
            col("time").gt(lit(1)),
        ];
        let p = PartitionPredicates::new(&ctx.state(), &filters).unwrap();
        let part = |r: &str, d: &str| [r.to_string(), "1".to_string(), d.to_string()];
        assert_eq!(
            p.matching(&[
                part("us-east-1", "20240602"),
                part("us-east-1", "20240603"),
                part("eu-west-1", "20240602"),
            ])
            .unwrap(),
            [true, false, false]
        );
        assert!(
            p.admits("eventDay", "20240603"),
            "not a constant comparison"
        );
        assert!(!p.admits("region", "eu-west-1"));
    }
}
