//! Whether a user's SQL prunes the day partitions, decided from its parsed WHERE clauses: every
//! SELECT that reads a Security Lake table (named like Security Lake's, or one of the
//! datasource's own table names, however qualified: counting too many SELECTs only asks more of
//! the SQL) must have a conjunct that bounds the day partition column by constants. A column named anywhere else (the SELECT list, an OR branch, a
//! comparison with another column) bounds nothing.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    visit_expressions, BinaryOperator, Expr, Query, SetExpr, Statement, TableFactor,
    TableWithJoins, Visit, Visitor,
};

/// True when the statements read a Security Lake table and each SELECT reading one bounds
/// `day_column` (compared case-insensitively) in its WHERE clause. (SQL that does not parse is
/// not known to prune: the caller counts it as not pruned.)
pub fn prunes_days(statements: &[Statement], day_column: &str, lake_tables: &[String]) -> bool {
    every_lake_select(statements, lake_tables, &|w| bounds(w, day_column))
}

/// True when the statements read a Security Lake table and each SELECT reading one restricts
/// `column` to some of `allowed` (`column IN ('a', …)` or `column = 'a'`) in a conjunct of its
/// WHERE clause.
pub fn restricts_to(
    statements: &[Statement],
    column: &str,
    allowed: &[&str],
    lake_tables: &[String],
) -> bool {
    every_lake_select(statements, lake_tables, &|w| restricts(w, column, allowed))
}

/// Whether the statements read a lake table and every SELECT reading one has a WHERE clause
/// that `holds`.
fn every_lake_select(
    statements: &[Statement],
    lake_tables: &[String],
    holds: &dyn Fn(&Expr) -> bool,
) -> bool {
    let mut check = SelectsBound {
        holds,
        lake_tables,
        lake_selects: 0,
        unbounded: 0,
    };
    for statement in statements {
        let _ = statement.visit(&mut check);
    }
    check.lake_selects > 0 && check.unbounded == 0
}

/// Counts the SELECTs that read a lake table, and those of them whose WHERE does not hold.
struct SelectsBound<'a> {
    holds: &'a dyn Fn(&Expr) -> bool,
    lake_tables: &'a [String],
    lake_selects: usize,
    unbounded: usize,
}

impl Visitor for SelectsBound<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.check_set(&query.body);
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, _statement: &Statement) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

impl SelectsBound<'_> {
    /// The SELECTs of one query level (nested queries are visited on their own).
    fn check_set(&mut self, set: &SetExpr) {
        match set {
            SetExpr::Select(select)
                if select
                    .from
                    .iter()
                    .any(|from| reads_lake(from, self.lake_tables)) =>
            {
                self.lake_selects += 1;
                let bound = select.selection.as_ref().is_some_and(|w| (self.holds)(w));
                if !bound {
                    self.unbounded += 1;
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.check_set(left);
                self.check_set(right);
            }
            _ => {}
        }
    }
}

fn reads_lake(from: &TableWithJoins, lake_tables: &[String]) -> bool {
    std::iter::once(&from.relation)
        .chain(from.joins.iter().map(|j| &j.relation))
        .any(|t| match t {
            TableFactor::Table { name, .. } => {
                let own_name = name.0.last().is_some_and(|part| {
                    let part = part
                        .as_ident()
                        .map_or_else(|| part.to_string(), |i| i.value.clone());
                    lake_tables.iter().any(|t| t.eq_ignore_ascii_case(&part))
                });
                own_name
                    || name
                        .to_string()
                        .to_ascii_lowercase()
                        .contains("amazon_security_lake_table_")
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => reads_lake(table_with_joins, lake_tables),
            _ => false,
        })
}

/// The conjuncts of a WHERE clause: `a AND (b AND c)` → a, b, c.
fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner) => conjuncts(inner, out),
        other => out.push(other),
    }
}

fn is_column(e: &Expr, column: &str) -> bool {
    match e {
        Expr::Identifier(i) => i.value.eq_ignore_ascii_case(column),
        Expr::CompoundIdentifier(parts) => parts
            .last()
            .is_some_and(|i| i.value.eq_ignore_ascii_case(column)),
        Expr::Nested(inner) => is_column(inner, column),
        _ => false,
    }
}

/// An expression without columns or subqueries: its value is known before any row is read.
fn is_constant(e: &Expr) -> bool {
    visit_expressions(e, |x| match x {
        Expr::Identifier(_)
        | Expr::CompoundIdentifier(_)
        | Expr::Subquery(_)
        | Expr::Exists { .. }
        | Expr::InSubquery { .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_continue()
}

/// Whether the conjuncts of `wher` bound `column` on both sides by constants.
fn bounds(wher: &Expr, column: &str) -> bool {
    let mut parts = Vec::new();
    conjuncts(wher, &mut parts);
    let (mut lower, mut upper) = (false, false);
    for part in parts {
        match part {
            Expr::Between {
                expr,
                negated: false,
                low,
                high,
            } if is_column(expr, column) && is_constant(low) && is_constant(high) => return true,
            Expr::InList {
                expr,
                list,
                negated: false,
            } if is_column(expr, column) && list.iter().all(is_constant) => return true,
            Expr::BinaryOp { left, op, right } => {
                let (op, other) = if is_column(left, column) {
                    (op.clone(), right)
                } else if is_column(right, column) {
                    (flipped(op), left)
                } else {
                    continue;
                };
                if !is_constant(other) {
                    continue;
                }
                match op {
                    BinaryOperator::Eq => return true,
                    BinaryOperator::Gt | BinaryOperator::GtEq => lower = true,
                    BinaryOperator::Lt | BinaryOperator::LtEq => upper = true,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    lower && upper
}

/// Whether a conjunct of `wher` keeps `column` to string literals that are all in `allowed`.
fn restricts(wher: &Expr, column: &str, allowed: &[&str]) -> bool {
    let quoted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    let is_allowed = |e: &Expr| quoted.contains(&e.to_string());
    let mut parts = Vec::new();
    conjuncts(wher, &mut parts);
    parts.into_iter().any(|part| match part {
        Expr::InList {
            expr,
            list,
            negated: false,
        } => is_column(expr, column) && !list.is_empty() && list.iter().all(is_allowed),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            (is_column(left, column) && is_allowed(right))
                || (is_column(right, column) && is_allowed(left))
        }
        _ => false,
    })
}

/// `a < col` reads as `col > a`.
fn flipped(op: &BinaryOperator) -> BinaryOperator {
    match op {
        BinaryOperator::Gt => BinaryOperator::Lt,
        BinaryOperator::GtEq => BinaryOperator::LtEq,
        BinaryOperator::Lt => BinaryOperator::Gt,
        BinaryOperator::LtEq => BinaryOperator::GtEq,
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::sql::parse_statements;

    /// As the expander decides: SQL that does not parse does not prune.
    fn prunes_days(sql: &str, day_column: &str) -> bool {
        parse_statements(sql).is_ok_and(|s| super::prunes_days(&s, day_column, &[]))
    }

    fn restricts_to(sql: &str, column: &str, allowed: &[&str]) -> bool {
        super::restricts_to(&parse_statements(sql).unwrap(), column, allowed, &[])
    }

    const T: &str = "amazon_security_lake_table_us_east_1_vpc_flow_1_0";

    fn prunes(condition: &str) -> bool {
        prunes_days(
            &format!("SELECT count(*) FROM db.{T} WHERE {condition}"),
            "eventday",
        )
    }

    #[test]
    fn the_datasource_s_own_table_names_count_as_lake_tables() {
        let own = ["vpc_flow".to_string()];
        let sql = |where_: &str| {
            parse_statements(&format!(
                "SELECT * FROM \"security_analytics\".\"vpc_flow\" WHERE {where_}"
            ))
            .unwrap()
        };
        let allowed = ["111122223333"];
        assert!(!super::restricts_to(
            &sql("x = 1"),
            "accountid",
            &allowed,
            &own
        ));
        assert!(super::restricts_to(
            &sql("accountid = '111122223333'"),
            "accountid",
            &allowed,
            &own
        ));
        // Unknown to the check, the table is read by no lake SELECT: nothing is restricted.
        assert!(!super::restricts_to(
            &sql("accountid = '111122223333'"),
            "accountid",
            &allowed,
            &[]
        ));
        assert!(super::prunes_days(
            &sql("time_dt = TIMESTAMP '2024-06-01 00:00:00'"),
            "time_dt",
            &own
        ));
    }

    #[test]
    fn only_a_where_conjunct_bounding_the_day_by_constants_prunes() {
        assert!(prunes(
            "\"eventDay\" IN ('20240601', '20240602') AND region = 'x'"
        ));
        assert!(prunes(
            "(eventday BETWEEN '20240601' AND '20240602' AND accountid = '1')"
        ));
        assert!(prunes(
            "x = 1 AND eventday >= '20240601' AND '20240603' > eventday"
        ));
        assert!(prunes("eventday = '20240601'"));
        assert!(!prunes("eventday >= '20240601'"), "one side only");
        assert!(!prunes("eventday IN ('20240601') OR TRUE"), "an OR branch");
        assert!(
            !prunes("eventday BETWEEN eventday AND eventday"),
            "bounded by itself"
        );
        assert!(
            !prunes("eventday IN (SELECT max(eventday) FROM t)"),
            "a subquery"
        );
        assert!(!prunes("x = 1"));
        // The words of the issue: the column named in the SELECT list only.
        assert!(!prunes_days(
            &format!("SELECT \"eventDay\", count(*) FROM db.{T} GROUP BY 1"),
            "eventday"
        ));
    }

    #[test]
    fn accounts_are_restricted_only_by_allowed_literals_in_every_select() {
        let allowed = ["111122223333"];
        let sql = |w: &str| format!("SELECT * FROM db.{T} WHERE {w}");
        assert!(restricts_to(
            &sql("(\"accountid\" IN ('111122223333') AND x = 1)"),
            "accountid",
            &allowed
        ));
        assert!(restricts_to(
            &sql("accountid = '111122223333'"),
            "accountid",
            &allowed
        ));
        assert!(!restricts_to(
            &sql("accountid IN ('111122223333', '444455556666')"),
            "accountid",
            &allowed
        ));
        assert!(!restricts_to(
            &sql("accountid = '111122223333' OR TRUE"),
            "accountid",
            &allowed
        ));
        assert!(!restricts_to(&sql("x = 1"), "accountid", &allowed));
        let pruned = sql("accountid = '111122223333'");
        let whole = format!("SELECT * FROM db.{T}");
        assert!(!restricts_to(
            &format!("{pruned} UNION ALL {whole}"),
            "accountid",
            &allowed
        ));
    }

    #[test]
    fn every_select_reading_the_lake_must_prune() {
        let pruned = format!("SELECT * FROM db.{T} WHERE eventday = '20240601'");
        let whole = format!("SELECT * FROM db.{T}");
        assert!(prunes_days(
            &format!("WITH a AS ({pruned}) SELECT * FROM a"),
            "eventday"
        ));
        assert!(!prunes_days(
            &format!("{pruned} UNION ALL {whole}"),
            "eventday"
        ));
        assert!(!prunes_days(
            &format!("SELECT * FROM ({whole}) x WHERE eventday = '20240601'"),
            "eventday"
        ));
        assert!(
            !prunes_days("SELECT 1 WHERE eventday = '1'", "eventday"),
            "no lake table"
        );
        assert!(
            !prunes_days("SELECT * FROM t WHERE (", "eventday"),
            "not parsed"
        );
    }
}
