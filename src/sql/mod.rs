//! Rendering a [`Plan`] to SQL text for one [`Dialect`]. The only place SQL text is made; every
//! identifier is quoted and every literal escaped here.

pub mod macros;
pub mod pruning;
pub mod reach;

/// A user's expanded SQL parsed the way the local engine reads SQL (sqlparser's generic
/// dialect), once, for every check that looks at its structure; the parser's message when it
/// cannot be parsed.
pub fn parse_statements(
    sql: &str,
) -> Result<Vec<datafusion::sql::sqlparser::ast::Statement>, String> {
    use datafusion::sql::sqlparser::{dialect::GenericDialect, parser::Parser};
    Parser::parse_sql(&GenericDialect {}, sql).map_err(|e| e.to_string())
}

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::lake::{PartitionColumn, SourceVersion};
use crate::net::Cidr;
use crate::plan::{
    partitions, Aggregate, Comparison, Expr, Gaps, History, HistoryRows, Intervals, Literal,
    Output, OutputValue, PartitionFilter, Plan, Predicate, TimeFilter, CONTACT, CONTACTS, ENTITY,
    FIRST_SEEN, GAP_NEXT, GAP_START, INTERVAL, INTERVAL_MS, JITTER_PERCENT, LAST_SEEN,
    PREVIOUS_STATE, SIDE_IP, SINCE, STATE, UPDATED,
};

/// The SQL dialect of an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Amazon Athena (Trino): `"a"."b"` for struct fields, Glue partition names.
    Athena,
    /// The embedded DataFusion lake: `get_field("a", 'b')` for struct fields, folder partition names.
    Local,
}

impl Dialect {
    /// Parses `athena` or `local`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "athena" => Some(Dialect::Athena),
            "local" => Some(Dialect::Local),
            _ => None,
        }
    }
}

/// Up to this many days, v1 partitions are listed (`IN`), which spares Athena partition inference.
pub const MAX_LISTED_DAYS: usize = 31;

/// A double-quoted identifier, inner quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted string literal, inner quotes doubled. Neither Trino nor DataFusion treats
/// backslashes as escapes, so doubling quotes is the whole escaping; NUL and other control
/// characters never reach here (values are validated) and are dropped if they do.
pub fn string_literal(value: &str) -> String {
    let clean: String = value.chars().filter(|c| !c.is_control()).collect();
    format!("'{}'", clean.replace('\'', "''"))
}

fn literal(value: &Literal) -> String {
    match value {
        Literal::Str(s) => string_literal(s),
        Literal::Int(i) => i.to_string(),
    }
}

pub(crate) fn timestamp_literal(t: DateTime<Utc>) -> String {
    let text = t.to_rfc3339_opts(SecondsFormat::Millis, true);
    // 2024-06-01T00:00:00.000Z -> 2024-06-01 00:00:00.000
    format!(
        "TIMESTAMP '{}'",
        text.trim_end_matches('Z').replace('T', " ")
    )
}

/// A partition column as a Glue table names it, on both engines (the local engine's tables
/// answer to the lowercase names too).
fn partition_column(_dialect: Dialect, column: PartitionColumn) -> String {
    ident(column.name())
}

pub(crate) fn column(dialect: Dialect, path: &[&str]) -> String {
    let mut out = ident(path[0]);
    for part in &path[1..] {
        out = match dialect {
            Dialect::Athena => format!("{out}.{}", ident(part)),
            Dialect::Local => format!("get_field({out}, {})", string_literal(part)),
        };
    }
    out
}

fn in_list(column: String, values: &[String]) -> String {
    match values {
        [one] => format!("{column} = {}", string_literal(one)),
        many => format!(
            "{column} IN ({})",
            many.iter()
                .map(|v| string_literal(v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The partition and time predicates of a plan, in the order they are rendered.
pub fn partition_predicates(
    dialect: Dialect,
    version: SourceVersion,
    parts: &PartitionFilter,
    time: &TimeFilter,
) -> Vec<String> {
    let mut out = Vec::new();
    let day_partition = !(dialect == Dialect::Athena && version == SourceVersion::V2);
    if day_partition {
        let day_col = partition_column(dialect, PartitionColumn::EventDay);
        let days: Vec<String> = parts
            .days
            .iter()
            .map(|d| partitions::event_day(*d))
            .collect();
        if days.len() <= MAX_LISTED_DAYS {
            out.push(in_list(day_col, &days));
        } else {
            out.push(format!(
                "{day_col} BETWEEN {} AND {}",
                string_literal(&days[0]),
                string_literal(&days[days.len() - 1])
            ));
        }
    }
    if !parts.regions.is_empty() {
        let values: Vec<String> = parts
            .regions
            .iter()
            .map(|r| r.as_str().to_string())
            .collect();
        out.push(in_list(
            partition_column(dialect, PartitionColumn::Region),
            &values,
        ));
    }
    if !parts.accounts.is_empty() {
        let values: Vec<String> = parts
            .accounts
            .iter()
            .map(|a| a.as_str().to_string())
            .collect();
        out.push(in_list(
            partition_column(dialect, PartitionColumn::AccountId),
            &values,
        ));
    }
    match (dialect, time.time_dt) {
        // Iceberg prunes on bare comparisons of the timestamp column with constants.
        (Dialect::Athena, Some(time_dt)) => out.push(format!(
            "{} BETWEEN {} AND {}",
            column(dialect, time_dt),
            timestamp_literal(time.from),
            timestamp_literal(time.to)
        )),
        _ => out.push(format!(
            "{} BETWEEN {} AND {}",
            column(dialect, time.time_ms),
            time.from.timestamp_millis(),
            time.to.timestamp_millis()
        )),
    }
    out
}

/// Rendering context: the dialect, and what [`Expr::SideIp`] stands for.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    dialect: Dialect,
    /// The side expression of one branch of a local either-side union.
    side: Option<&'a Expr>,
}

impl Ctx<'_> {
    fn column(self, path: &[&str]) -> String {
        column(self.dialect, path)
    }

    fn expr(self, e: &Expr) -> String {
        match e {
            Expr::Column(path) => self.column(path),
            Expr::Partition(p) => partition_column(self.dialect, *p),
            Expr::Coalesce(items) => format!(
                "COALESCE({})",
                items
                    .iter()
                    .map(|i| self.expr(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Expr::Labels {
                expr: inner,
                cases,
                default,
            } => {
                let mut out = format!("CASE {}", self.expr(inner));
                for (id, label) in cases {
                    let _ = write!(out, " WHEN {id} THEN {}", string_literal(label));
                }
                let _ = write!(out, " ELSE {} END", string_literal(default));
                out
            }
            Expr::Flag {
                expr: inner,
                yes,
                no,
                unknown,
            } => {
                let value = self.expr(inner);
                format!(
                    "CASE WHEN {value} THEN {} WHEN NOT {value} THEN {} ELSE {} END",
                    string_literal(yes),
                    string_literal(no),
                    string_literal(unknown)
                )
            }
            Expr::BucketMs {
                expr: inner,
                width_ms,
            } => format!("({} / {width_ms}) * {width_ms}", self.expr(inner)),
            Expr::SideIp => match self.side {
                Some(side) => self.expr(side),
                None => format!("{}.{}", ident(SIDE_RELATION), ident(SIDE_IP)),
            },
            Expr::MapValue { map, key } => match self.dialect {
                // `m['k']` fails on Trino when the key is absent; element_at gives NULL.
                Dialect::Athena => {
                    format!("element_at({}, {})", self.column(map), string_literal(key))
                }
                Dialect::Local => {
                    format!("get_field({}, {})", self.column(map), string_literal(key))
                }
            },
            // Both give NULL past the end of the list (Trino's `list[1]` would fail instead).
            Expr::FirstItem(list) => match self.dialect {
                Dialect::Athena => format!("element_at({}, 1)", self.column(list)),
                Dialect::Local => format!("array_element({}, 1)", self.column(list)),
            },
            Expr::FirstOf { list, field } => match self.dialect {
                Dialect::Athena => format!("element_at({}, 1).{}", self.column(list), ident(field)),
                Dialect::Local => format!(
                    "get_field(array_element({}, 1), {})",
                    self.column(list),
                    string_literal(field)
                ),
            },
            Expr::Segment {
                expr: inner,
                separator,
                last,
            } => match (self.dialect, last) {
                (_, false) => format!(
                    "split_part({}, {}, 1)",
                    self.expr(inner),
                    string_literal(separator)
                ),
                // Trino's split_part counts from the start only.
                (Dialect::Athena, true) => format!(
                    "element_at(split({}, {}), -1)",
                    self.expr(inner),
                    string_literal(separator)
                ),
                (Dialect::Local, true) => format!(
                    "split_part({}, {}, -1)",
                    self.expr(inner),
                    string_literal(separator)
                ),
            },
            // The local engine is built without DataFusion's unicode functions (`length`,
            // `substr`, `strpos`): DNS names are ASCII (IDNs travel as punycode), so bytes are
            // characters, and the label and its separator are cut from the front.
            Expr::Length(inner) => match self.dialect {
                Dialect::Athena => format!("length({})", self.expr(inner)),
                Dialect::Local => format!("octet_length({})", self.expr(inner)),
            },
            Expr::AfterFirst {
                expr: inner,
                separator,
            } => {
                let value = self.expr(inner);
                let head = format!("split_part({value}, {}, 1)", string_literal(separator));
                let cut = separator.len();
                match self.dialect {
                    Dialect::Athena => format!("substr({value}, length({head}) + {})", cut + 1),
                    Dialect::Local => format!(
                        "overlay({value} PLACING '' FROM 1 FOR octet_length({head}) + {cut})"
                    ),
                }
            }
            Expr::Alias(alias) => ident(alias),
            Expr::Literal(l) => literal(l),
            Expr::MatchedRows => "COUNT(*) OVER ()".to_string(),
            Expr::When {
                condition,
                then,
                otherwise,
            } => format!(
                "CASE WHEN {} THEN {} ELSE {} END",
                self.predicate(condition),
                literal(then),
                self.expr(otherwise)
            ),
        }
    }

    fn predicate(self, p: &Predicate) -> String {
        match p {
            Predicate::In(e, values) => match values.as_slice() {
                [one] => format!("{} = {}", self.expr(e), literal(one)),
                many => format!(
                    "{} IN ({})",
                    self.expr(e),
                    many.iter().map(literal).collect::<Vec<_>>().join(", ")
                ),
            },
            Predicate::Or(items) => format!(
                "({})",
                items
                    .iter()
                    .map(|i| self.predicate(i))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
            // "Does not hold" must be true where the inner test is unknown: `NOT (ip = '10.9.9.9')`
            // alone is NULL for a flow without an address, which WHERE drops, so excluding one
            // address would also drop every flow that has none.
            Predicate::Not(inner) => format!("NOT COALESCE({}, FALSE)", self.predicate(inner)),
            Predicate::InCidr(e, block) => self.cidr(e, block),
            Predicate::Compare(e, op, value) => {
                format!("{} {} {value}", self.expr(e), comparison(*op))
            }
        }
    }

    /// CIDR matching: equality for a single address; Trino's `contains` on Athena; the
    /// `cidr_contains` function the local engine registers. An address that is not one (NULL,
    /// or `-` as flow logs write a missing value) is in no block: false, never an error.
    ///
    /// On Athena the block is written without host bits (Trino refuses `10.0.1.5/16`), the
    /// address is read with `TRY_CAST`, and `contains` is only reached for addresses of the
    /// block's family (Trino before 427 raises an error across families); CASE evaluates only
    /// the branch it takes.
    fn cidr(self, e: &Expr, block: &Cidr) -> String {
        let column = self.expr(e);
        if block.is_single_address() {
            return format!("{column} = {}", string_literal(&block.addr.to_string()));
        }
        let text = string_literal(&block.network().to_string());
        match self.dialect {
            Dialect::Athena => {
                let family = if block.is_v6() { "> 0" } else { "= 0" };
                format!("COALESCE(CASE WHEN strpos({column}, ':') {family} THEN contains({text}, TRY_CAST({column} AS IPADDRESS)) END, FALSE)")
            }
            Dialect::Local => format!("cidr_contains({text}, {column})"),
        }
    }

    fn aggregate(self, a: &Aggregate) -> String {
        match a {
            Aggregate::Sum(e) => format!("SUM({})", self.expr(e)),
            Aggregate::Count => "COUNT(*)".to_string(),
            Aggregate::CountDistinct(e) => format!("COUNT(DISTINCT {})", self.expr(e)),
            Aggregate::Min(e) => format!("MIN({})", self.expr(e)),
            Aggregate::Max(e) => format!("MAX({})", self.expr(e)),
            Aggregate::CountWhere(p) => {
                format!("SUM(CASE WHEN {} THEN 1 ELSE 0 END)", self.predicate(p))
            }
        }
    }
}

/// The relation and column names of Athena's `CROSS JOIN UNNEST` for either-side plans.
const SIDE_RELATION: &str = "side";

/// Renders a plan as SQL for a dialect.
pub fn render(plan: &Plan, dialect: Dialect) -> String {
    render_with(plan, dialect, true)
}

/// Renders a plan the way peers do — the exact time filter only, no partition predicates — so
/// benchmarks can measure what pruning saves. Never used to answer a panel.
pub fn render_unpruned(plan: &Plan, dialect: Dialect) -> String {
    render_with(plan, dialect, false)
}

fn render_with(plan: &Plan, dialect: Dialect, prune: bool) -> String {
    if let Some(history) = &plan.history {
        return render_history(plan, history, dialect, prune);
    }
    if let Some(gaps) = &plan.gaps {
        return render_gaps(plan, gaps, dialect, prune);
    }
    if let Some(intervals) = &plan.intervals {
        return render_intervals(plan, intervals, dialect, prune);
    }
    match (&plan.sides, dialect) {
        (Some(sides), Dialect::Local) => render_sides_union(plan, sides, prune),
        _ => {
            let mut sql = select_block(
                plan,
                Ctx {
                    dialect,
                    side: None,
                },
                prune,
            );
            finish(&mut sql, plan);
            sql
        }
    }
}

/// The local engine has no lateral UNNEST: aggregate each side in one branch of a UNION ALL
/// and add the branches up (sums and counts only — what either-side plans use).
fn render_sides_union(plan: &Plan, sides: &[Expr; 2], prune: bool) -> String {
    let branch = |side: &Expr| {
        let sql = select_block(
            plan,
            Ctx {
                dialect: Dialect::Local,
                side: Some(side),
            },
            prune,
        );
        sql.lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut sql = String::from("SELECT\n");
    let selects: Vec<String> = plan
        .outputs
        .iter()
        .map(|o| {
            let alias = ident(&o.alias);
            match &o.value {
                OutputValue::Group(_) | OutputValue::Row(_) => format!("  {alias}"),
                OutputValue::Aggregate(
                    Aggregate::Sum(_) | Aggregate::Count | Aggregate::CountWhere(_),
                ) => {
                    format!("  SUM({alias}) AS {alias}")
                }
                OutputValue::Aggregate(Aggregate::Min(_)) => format!("  MIN({alias}) AS {alias}"),
                OutputValue::Aggregate(Aggregate::Max(_)) => format!("  MAX({alias}) AS {alias}"),
                OutputValue::Aggregate(Aggregate::CountDistinct(_)) => {
                    unreachable!("distinct counts cannot be added across sides")
                }
            }
        })
        .collect();
    sql.push_str(&selects.join(",\n"));
    let _ = write!(
        sql,
        "\nFROM (\n{}\n  UNION ALL\n{}\n) AS {}",
        branch(&sides[0]),
        branch(&sides[1]),
        ident("sides")
    );
    let groups: Vec<String> = plan
        .outputs
        .iter()
        .filter(|o| matches!(o.value, OutputValue::Group(_)))
        .map(|o| ident(&o.alias))
        .collect();
    if !groups.is_empty() {
        let _ = write!(sql, "\nGROUP BY {}", groups.join(", "));
    }
    finish(&mut sql, plan);
    sql
}

fn select_list(outputs: &[crate::plan::Output], ctx: Ctx<'_>) -> Vec<String> {
    outputs
        .iter()
        .map(|o| {
            let value = match &o.value {
                // An input column passed through under its own name.
                OutputValue::Row(Expr::Alias(name)) if *name == o.alias => {
                    return format!("  {}", ident(name))
                }
                OutputValue::Group(e) | OutputValue::Row(e) => ctx.expr(e),
                OutputValue::Aggregate(a) => ctx.aggregate(a),
            };
            format!("  {value} AS {}", ident(&o.alias))
        })
        .collect()
}

/// `GROUP BY` of the group outputs, when there are aggregates too.
fn group_by(outputs: &[crate::plan::Output], ctx: Ctx<'_>) -> Option<String> {
    let has_aggregates = outputs
        .iter()
        .any(|o| matches!(o.value, OutputValue::Aggregate(_)));
    let groups: Vec<String> = outputs
        .iter()
        .filter_map(|o| match &o.value {
            OutputValue::Group(e) => Some(ctx.expr(e)),
            _ => None,
        })
        .collect();
    (has_aggregates && !groups.is_empty()).then(|| format!("\nGROUP BY {}", groups.join(", ")))
}

/// `SELECT … FROM … WHERE … GROUP BY … HAVING …` of a plan.
fn select_block(plan: &Plan, ctx: Ctx<'_>, prune: bool) -> String {
    let mut sql = String::from("SELECT\n");
    sql.push_str(&select_list(&plan.outputs, ctx).join(",\n"));
    sql.push_str(&from_where(plan, ctx, prune));
    if let Some(groups) = group_by(&plan.outputs, ctx) {
        sql.push_str(&groups);
    }
    if !plan.having.is_empty() {
        let having: Vec<String> = plan
            .having
            .iter()
            .map(|h| {
                format!(
                    "{} {} {}",
                    ctx.aggregate(&h.aggregate),
                    comparison(h.op),
                    h.value
                )
            })
            .collect();
        let _ = write!(sql, "\nHAVING {}", having.join(" AND "));
    }
    sql
}

/// The columns every row of a history carries: the plan's outputs, its entity, time and state.
fn history_columns(plan: &Plan) -> impl Iterator<Item = &str> {
    plan.outputs
        .iter()
        .map(|o| o.alias.as_str())
        .chain([ENTITY, UPDATED, STATE])
}

/// A history plan: the rows with their entity, time, state and previous state (window
/// functions), reduced to the newest row per entity or to the state changes, then projected.
fn render_history(plan: &Plan, h: &History, dialect: Dialect, prune: bool) -> String {
    let ctx = Ctx {
        dialect,
        side: None,
    };
    let entity = ctx.expr(&h.entity);
    let time = ctx.expr(&h.time);
    let state = ctx.expr(&h.state);
    let mut inner = select_list(&plan.outputs, ctx);
    inner.push(format!("  {entity} AS {}", ident(ENTITY)));
    inner.push(format!("  {time} AS {}", ident(UPDATED)));
    inner.push(format!("  {state} AS {}", ident(STATE)));
    inner.push(format!(
        "  LAG({state}) OVER (PARTITION BY {entity} ORDER BY {time}, {state}) AS {}",
        ident(PREVIOUS_STATE)
    ));
    let inner = format!(
        "SELECT\n{}{}",
        inner.join(",\n"),
        from_where(plan, ctx, prune)
    );
    let indent = |sql: &str| {
        sql.lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let changed = format!(
        "({prev} IS NULL OR {prev} <> {state})",
        prev = ident(PREVIOUS_STATE),
        state = ident(STATE)
    );
    let (source, mut conditions) = match h.rows {
        HistoryRows::Changes => (
            format!("(\n{}\n) AS {}", indent(&inner), ident("history")),
            vec![changed],
        ),
        HistoryRows::Transitions => (
            format!("(\n{}\n) AS {}", indent(&inner), ident("history")),
            vec![format!(
                "{prev} IS NOT NULL\n  AND {prev} <> {state}",
                prev = ident(PREVIOUS_STATE),
                state = ident(STATE)
            )],
        ),
        HistoryRows::Newest | HistoryRows::Runs => {
            let runs = h.rows == HistoryRows::Runs;
            let mut middle: Vec<String> = history_columns(plan)
                .chain(runs.then_some(PREVIOUS_STATE))
                .map(|a| format!("  {}", ident(a)))
                .collect();
            middle.push(format!(
                "  ROW_NUMBER() OVER (PARTITION BY {e} ORDER BY {u} DESC, {s}) AS {}",
                ident(NEWEST),
                e = ident(ENTITY),
                u = ident(UPDATED),
                s = ident(STATE)
            ));
            if !runs {
                middle.push(format!(
                    "  MAX(CASE WHEN {changed} THEN {u} END) OVER (PARTITION BY {e}) AS {}",
                    ident(SINCE),
                    e = ident(ENTITY),
                    u = ident(UPDATED),
                ));
            }
            let middle = format!(
                "SELECT\n{}\nFROM (\n{}\n) AS {}",
                middle.join(",\n"),
                indent(&inner),
                ident("history")
            );
            let newest = format!("{} = 1", ident(NEWEST));
            (
                format!("(\n{}\n) AS {}", indent(&middle), ident("latest")),
                vec![if runs {
                    format!("({changed} OR {newest})")
                } else {
                    newest
                }],
            )
        }
    };
    conditions.extend(h.outer_filters.iter().map(|p| ctx.predicate(p)));
    let columns = if h.rows == HistoryRows::Runs {
        history_columns(plan)
            .map(|a| format!("  {}", ident(a)))
            .collect()
    } else {
        select_list(&h.outer, ctx)
    };
    let mut sql = format!(
        "SELECT\n{}\nFROM {source}\nWHERE {}",
        columns.join(",\n"),
        conditions.join("\n  AND ")
    );
    if let Some(groups) = group_by(&h.outer, ctx) {
        sql.push_str(&groups);
    }
    finish(&mut sql, plan);
    sql
}

/// A gaps plan: each row with its group keys, its time and the next row's time in its group
/// (`LEAD`), kept when the gap to the next row — or to the end for the group's last row — is
/// long enough and ends after the start.
fn render_gaps(plan: &Plan, g: &Gaps, dialect: Dialect, prune: bool) -> String {
    let ctx = Ctx {
        dialect,
        side: None,
    };
    let time = ctx.expr(&g.time);
    let keys: Vec<String> = plan
        .outputs
        .iter()
        .map(|o| match &o.value {
            OutputValue::Group(e) | OutputValue::Row(e) => ctx.expr(e),
            OutputValue::Aggregate(a) => ctx.aggregate(a),
        })
        .collect();
    let partition = if keys.is_empty() {
        String::new()
    } else {
        format!("PARTITION BY {} ", keys.join(", "))
    };
    let mut inner = select_list(&plan.outputs, ctx);
    inner.push(format!("  {time} AS {}", ident(GAP_START)));
    inner.push(format!(
        "  LEAD({time}) OVER ({partition}ORDER BY {time}) AS {}",
        ident(GAP_NEXT)
    ));
    let inner = format!(
        "SELECT\n{}{}",
        inner.join(",\n"),
        from_where(plan, ctx, prune)
    );
    let indented = inner
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    let outer: Vec<String> = plan
        .outputs
        .iter()
        .map(|o| o.alias.as_str())
        .chain([GAP_START, GAP_NEXT])
        .map(|a| format!("  {}", ident(a)))
        .collect();
    let gap_end = format!("COALESCE({}, {})", ident(GAP_NEXT), g.until_ms);
    let mut sql = format!(
        "SELECT\n{}\nFROM (\n{indented}\n) AS {}\nWHERE {gap_end} - {} >= {}\n  AND {gap_end} > {}",
        outer.join(",\n"),
        ident("records"),
        ident(GAP_START),
        g.min_gap_ms,
        g.ends_after_ms
    );
    finish(&mut sql, plan);
    sql
}

/// A regular-contacts plan in three steps: the contacts (each distinct row time of a group,
/// its aggregates added up), the interval from each contact to the one before in its group
/// (`LAG`), and per group the contacts, first and last, mean interval and its relative
/// standard deviation, kept when there are enough contacts and the intervals vary little.
fn render_intervals(plan: &Plan, iv: &Intervals, dialect: Dialect, prune: bool) -> String {
    let ctx = Ctx {
        dialect,
        side: None,
    };
    let time = ctx.expr(&iv.time);
    let (keys, sums): (Vec<&Output>, Vec<&Output>) = plan
        .outputs
        .iter()
        .partition(|o| matches!(o.value, OutputValue::Group(_)));
    let key_aliases: Vec<String> = keys.iter().map(|o| ident(&o.alias)).collect();
    let mut contact = select_list(&plan.outputs, ctx);
    contact.push(format!("  {time} AS {}", ident(CONTACT)));
    let groups: Vec<String> = keys
        .iter()
        .filter_map(|o| match &o.value {
            OutputValue::Group(e) => Some(ctx.expr(e)),
            _ => None,
        })
        .chain([time.clone()])
        .collect();
    let contacts = format!(
        "SELECT\n{}{}\nGROUP BY {}",
        contact.join(",\n"),
        from_where(plan, ctx, prune),
        groups.join(", ")
    );
    let contact_col = ident(CONTACT);
    let mut middle: Vec<String> = plan
        .outputs
        .iter()
        .map(|o| format!("  {}", ident(&o.alias)))
        .collect();
    middle.push(format!("  {contact_col}"));
    middle.push(format!(
        "  {contact_col} - LAG({contact_col}) OVER (PARTITION BY {} ORDER BY {contact_col}) AS {}",
        key_aliases.join(", "),
        ident(INTERVAL)
    ));
    let middle = format!(
        "SELECT\n{}\nFROM (\n{}\n) AS {}",
        middle.join(",\n"),
        indent(&contacts),
        ident("contact_times")
    );
    let interval = ident(INTERVAL);
    let mut outer: Vec<String> = key_aliases.iter().map(|k| format!("  {k}")).collect();
    outer.extend(sums.iter().map(|o| {
        let alias = ident(&o.alias);
        format!("  SUM({alias}) AS {alias}")
    }));
    outer.push(format!("  COUNT(*) AS {}", ident(CONTACTS)));
    outer.push(format!("  MIN({contact_col}) AS {}", ident(FIRST_SEEN)));
    outer.push(format!("  MAX({contact_col}) AS {}", ident(LAST_SEEN)));
    outer.push(format!("  AVG({interval}) AS {}", ident(INTERVAL_MS)));
    outer.push(format!(
        "  100 * STDDEV_POP({interval}) / AVG({interval}) AS {}",
        ident(JITTER_PERCENT)
    ));
    let mut sql = format!(
        "SELECT\n{}\nFROM (\n{}\n) AS {}\nGROUP BY {}\nHAVING COUNT(*) >= {}\n  AND 100 * STDDEV_POP({interval}) <= {} * AVG({interval})",
        outer.join(",\n"),
        indent(&middle),
        ident("intervals"),
        key_aliases.join(", "),
        iv.min_contacts,
        iv.max_jitter_percent
    );
    finish(&mut sql, plan);
    sql
}

/// Each line of `sql` indented by two spaces (a subquery).
fn indent(sql: &str) -> String {
    sql.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A comparison operator's SQL.
fn comparison(op: Comparison) -> &'static str {
    match op {
        Comparison::Greater => ">",
        Comparison::Less => "<",
        Comparison::AtLeast => ">=",
    }
}

/// Alias of a history row's rank, newest first.
const NEWEST: &str = "newest";

/// `FROM … [CROSS JOIN UNNEST …] WHERE …` of a plan: partition, time and row filters.
fn from_where(plan: &Plan, ctx: Ctx<'_>, prune: bool) -> String {
    let dialect = ctx.dialect;
    let mut sql = String::new();
    let _ = write!(
        sql,
        "\nFROM {}.{}",
        ident(&plan.table.database()),
        ident(&plan.table.table())
    );
    if let (Some([src, dst]), Dialect::Athena) = (&plan.sides, dialect) {
        let _ = write!(
            sql,
            "\nCROSS JOIN UNNEST(ARRAY[{}, {}]) AS {}({})",
            ctx.expr(src),
            ctx.expr(dst),
            ident(SIDE_RELATION),
            ident(SIDE_IP)
        );
    }
    let mut conditions = if prune {
        partition_predicates(dialect, plan.table.version, &plan.partitions, &plan.time)
    } else {
        // Peers filter accounts and regions on the record's own columns, which prunes nothing.
        let record = plan.table.source.record(plan.table.version);
        let (account_uid, region) = (record.account_uid, record.region);
        let mut out = vec![format!(
            "{} BETWEEN {} AND {}",
            column(dialect, plan.time.time_ms),
            plan.time.from.timestamp_millis(),
            plan.time.to.timestamp_millis()
        )];
        let record_filter = |path: &[&str], values: Vec<String>| {
            (!values.is_empty()).then(|| in_list(column(dialect, path), &values))
        };
        out.extend(record_filter(
            region,
            plan.partitions
                .regions
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        ));
        out.extend(record_filter(
            account_uid,
            plan.partitions
                .accounts
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
        ));
        out
    };
    conditions.extend(plan.filters.iter().map(|p| ctx.predicate(p)));
    let _ = write!(sql, "\nWHERE {}", conditions.join("\n  AND "));
    sql
}

/// `ORDER BY … LIMIT …`.
fn finish(sql: &mut String, plan: &Plan) {
    if !plan.order_by.is_empty() {
        let order: Vec<String> = plan
            .order_by
            .iter()
            .map(|k| {
                if k.descending {
                    format!("{} DESC", ident(&k.alias))
                } else {
                    ident(&k.alias)
                }
            })
            .collect();
        let _ = write!(sql, "\nORDER BY {}", order.join(", "));
    }
    let _ = write!(sql, "\nLIMIT {}", plan.limit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_identifiers_are_escaped() {
        assert_eq!(string_literal("it's"), "'it''s'");
        assert_eq!(string_literal("a\0b\nc"), "'abc'");
        assert_eq!(
            string_literal("\\'; DROP TABLE x; --"),
            "'\\''; DROP TABLE x; --'"
        );
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn athena_cidr_tests_drop_host_bits_guard_the_family_and_never_fail_on_non_addresses() {
        let athena = Ctx {
            dialect: Dialect::Athena,
            side: None,
        };
        let dst = Expr::Column(&["dst_endpoint", "ip"]);
        let block = |t: &str| crate::net::Cidr::parse(t).unwrap();
        assert_eq!(
            athena.cidr(&dst, &block("10.0.1.5/16")),
            "COALESCE(CASE WHEN strpos(\"dst_endpoint\".\"ip\", ':') = 0 THEN contains('10.0.0.0/16', TRY_CAST(\"dst_endpoint\".\"ip\" AS IPADDRESS)) END, FALSE)"
        );
        assert_eq!(
            athena.cidr(&dst, &block("fe80::1/10")),
            "COALESCE(CASE WHEN strpos(\"dst_endpoint\".\"ip\", ':') > 0 THEN contains('fe80::/10', TRY_CAST(\"dst_endpoint\".\"ip\" AS IPADDRESS)) END, FALSE)"
        );
        let local = Ctx {
            dialect: Dialect::Local,
            side: None,
        };
        assert_eq!(
            local.cidr(&dst, &block("10.0.1.5/16")),
            "cidr_contains('10.0.0.0/16', get_field(\"dst_endpoint\", 'ip'))"
        );
    }
}
