//! Macro expansion for the user's own SQL (`kind: "sql"`), per [`Dialect`].
//!
//! The SQL is scanned once, aware of string literals, quoted identifiers and comments (nothing
//! inside them is expanded). Macros (`$__name(args)`) become SQL built from validated arguments;
//! template variables (`$name`, `${name}`, `[[name]]`) become escaped literals or literal lists.
//! No user text is ever pasted into the SQL except the user's own statement around them.
//!
//! | macro | expands to |
//! |---|---|
//! | `$__timeFilter(col)` | `col BETWEEN <from> AND <to>`: timestamps for `*_dt` columns, epoch ms otherwise |
//! | `$__timeFrom()`, `$__timeTo()` | `TIMESTAMP '…'` (UTC) |
//! | `$__unixEpochFilter(col)` | `col BETWEEN <from s> AND <to s>` |
//! | `$__unixEpochFrom()`, `$__unixEpochTo()` | epoch seconds |
//! | `$__timeGroup(col, interval[, fill])` | the epoch-ms start of the interval holding `col` |
//! | `$__timeGroupAlias(col, interval[, fill])` | the same `AS "time"` |
//! | `$__table`, `$__table(source)` | `"<database>"."<table>"` of `vpc_flow` (default) or `sh_findings` |
//! | `$__database` | `"<database>"` |
//! | `$__partitionFilter` | the partition predicates of the range, accounts and regions, and the exact time filter |
//! | `$__in(col, variable)` | `col IN (<values>)`, or `TRUE` when the variable is All |
//! | `$__interval_ms` | the bucket width Grafana's interval and `maxDataPoints` call for, ms |

/// Parses a source for `$__table` (and the settings that name sources): a table part such as
/// `vpc_flow`, or an API name.
pub use crate::lake::source::parse_source;
use crate::lake::{self, Source, SourceVersion, SOURCES};
use crate::plan::{self, partitions, PartitionFilter, TableRef, TimeFilter};
use crate::query::{RawSql, TimeWindow, VariableValue, VariableValues};

use super::{column, ident, partition_predicates, string_literal, timestamp_literal, Dialect};

/// What the expansion needs to know besides the query.
#[derive(Debug, Clone, Copy)]
pub struct MacroContext<'a> {
    /// The engine's dialect.
    pub dialect: Dialect,
    /// The datasource's source version.
    pub version: SourceVersion,
    /// The region whose Glue database holds the tables.
    pub home_region: &'a str,
    /// The database and table names (settings or discovery).
    pub names: &'a lake::LakeNames,
    /// The panel's time range.
    pub window: TimeWindow,
}

/// How `$__timeGroup` fills buckets without rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fill {
    /// A fixed value.
    Value(f64),
    /// An explicit null.
    Null,
    /// The previous bucket's value.
    Previous,
}

/// The time bucketing a query asked for with `$__timeGroup`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeGroup {
    /// Bucket width, ms.
    pub interval_ms: i64,
    /// How to fill empty buckets (None: leave them out).
    pub fill: Option<Fill>,
}

/// The user's SQL after expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct Expanded {
    /// The SQL for the engine.
    pub sql: String,
    /// Security Lake tables it names (the local engine registers them).
    pub tables: Vec<TableRef>,
    /// Whether it reads a Security Lake table.
    pub reads_lake: bool,
    /// Whether every SELECT reading a lake table bounds the day partition in its WHERE clause
    /// ([`super::pruning::prunes_days`]).
    pub pruned: bool,
    /// The `$__timeGroup` bucketing, if any.
    pub time_group: Option<TimeGroup>,
    /// Security Lake tables it names that are not the datasource's VPC flow or findings table
    /// (another source, region or version): the scan estimate cannot size them.
    pub unsized_tables: Vec<String>,
    /// `sql` parsed once ([`super::parse_statements`]) for the checks of its structure (pruning,
    /// what it reads, account scoping); the parser's message when it does not parse.
    pub statements: Result<Vec<datafusion::sql::sqlparser::ast::Statement>, String>,
    /// The datasource's VPC flow and findings table names (settings or discovery): besides
    /// Security Lake's own names, what those checks count as a lake table.
    pub lake_names: Vec<String>,
}

/// Why the SQL text could not be expanded. Always the user's to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlTextError {
    /// A macro argument (or the argument list) is wrong.
    #[error("macro `{name}` has a bad argument {argument}: {reason}")]
    Macro {
        /// The macro, e.g. `$__timeGroup`.
        name: String,
        /// The argument as written, quoted, or `(none)`.
        argument: String,
        /// What is wrong and what to write.
        reason: String,
    },
    /// A macro name Lakewatch does not know.
    #[error("unknown macro `{name}`; Lakewatch knows {}", MACROS.join(", "))]
    UnknownMacro {
        /// The name as written.
        name: String,
    },
    /// A template variable reference that cannot be rendered.
    #[error("template variable `${name}`: {reason}")]
    Variable {
        /// The variable name.
        name: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The statement as a whole is not acceptable.
    #[error("{0}")]
    Statement(String),
}

/// Every macro name.
pub const MACROS: [&str; 13] = [
    "$__timeFilter",
    "$__timeFrom",
    "$__timeTo",
    "$__unixEpochFilter",
    "$__unixEpochFrom",
    "$__unixEpochTo",
    "$__timeGroup",
    "$__timeGroupAlias",
    "$__table",
    "$__database",
    "$__partitionFilter",
    "$__in",
    "$__interval_ms",
];

/// Expands macros and variables of a `sql` query for one engine.
pub fn expand(query: &RawSql, ctx: &MacroContext<'_>) -> Result<Expanded, SqlTextError> {
    let mut x = Expander {
        query,
        ctx,
        chars: query.sql.chars().collect(),
        pos: 0,
        out: String::with_capacity(query.sql.len() + 256),
        first_word: None,
        expanded: Expanded {
            sql: String::new(),
            tables: Vec::new(),
            reads_lake: false,
            pruned: false,
            time_group: None,
            unsized_tables: Vec::new(),
            statements: Ok(Vec::new()),
            lake_names: Vec::new(),
        },
    };
    x.expanded.lake_names = SOURCES
        .iter()
        .map(|spec| x.lake_table(spec.source))
        .collect();
    x.run()?;
    match x.first_word.as_deref() {
        Some(w) if w.eq_ignore_ascii_case("select") || w.eq_ignore_ascii_case("with") => {}
        Some(w) => {
            return Err(SqlTextError::Statement(format!(
                "only a SELECT (or WITH … SELECT) statement can run here; the SQL starts with `{}`",
                snippet(w)
            )))
        }
        None => {
            return Err(SqlTextError::Statement(
                "the SQL has no statement; write a SELECT".to_string(),
            ))
        }
    }
    let day_column = x.day_partition();
    let mut expanded = x.expanded;
    expanded.sql = x.out.trim_end().to_string();
    expanded.statements = super::parse_statements(&expanded.sql);
    // Decided on the parsed statement, never on words: a partition column named in the SELECT
    // list or an OR branch prunes nothing.
    expanded.pruned = expanded.reads_lake
        && expanded
            .statements
            .as_ref()
            .is_ok_and(|s| super::pruning::prunes_days(s, day_column, &expanded.lake_names));
    Ok(expanded)
}

fn snippet(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(37).collect::<String>())
    }
}

struct Expander<'a> {
    query: &'a RawSql,
    ctx: &'a MacroContext<'a>,
    chars: Vec<char>,
    pos: usize,
    out: String,
    /// The statement's first word (`Some("")` when something else came first).
    first_word: Option<String>,
    expanded: Expanded,
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Expander<'_> {
    fn peek(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn note_start(&mut self, word: Option<&str>) {
        if self.first_word.is_none() {
            self.first_word = Some(word.unwrap_or("").to_string());
        }
    }

    fn run(&mut self) -> Result<(), SqlTextError> {
        while let Some(c) = self.peek(0) {
            match c {
                '\'' => self.quoted('\'', "a string literal ('…')")?,
                '"' => {
                    self.note_start(None);
                    let start = self.out.len();
                    self.quoted('"', "a quoted identifier (\"…\")")?;
                    let inner = self.out[start + 1..self.out.len() - 1].replace("\"\"", "\"");
                    self.word(&inner);
                }
                '-' if self.peek(1) == Some('-') => self.line_comment(true)?,
                '/' if self.peek(1) == Some('*') => self.block_comment(true)?,
                // The local engine reads `//` as one operator (integer division), Athena as `/`
                // and whatever follows, so `//*` opens a comment for one of them only.
                '/' if self.peek(1) == Some('/') => return Err(SqlTextError::Statement(
                    "the SQL has `//` outside a string; the local engine reads it as integer division and Athena as two divisions or the start of a /* comment: put a space between the slashes".to_string(),
                )),
                ';' => {
                    self.pos += 1;
                    self.rest_is_empty()?;
                }
                '$' if self.peek(1) == Some('_') && self.peek(2) == Some('_') => {
                    self.note_start(None);
                    self.pos += 3;
                    let name = self.take_word();
                    self.macro_call(&name)?;
                }
                '$' if self.peek(1) == Some('{') => {
                    self.note_start(None);
                    self.pos += 2;
                    let name = self.take_word();
                    if self.peek(0) != Some('}') {
                        return Err(SqlTextError::Variable {
                            name,
                            reason: "write ${name} with a plain name; formats such as ${name:csv} are not applied, values are always rendered as SQL literals".to_string(),
                        });
                    }
                    self.pos += 1;
                    self.variable(&name)?;
                }
                '$' if self
                    .peek(1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_') =>
                {
                    self.note_start(None);
                    self.pos += 1;
                    let name = self.take_word();
                    self.variable(&name)?;
                }
                '[' if self.peek(1) == Some('[') => {
                    self.note_start(None);
                    self.pos += 2;
                    let name = self.take_word();
                    if self.peek(0) != Some(']') || self.peek(1) != Some(']') {
                        return Err(SqlTextError::Variable {
                            name,
                            reason: "write [[name]] with a plain name".to_string(),
                        });
                    }
                    self.pos += 2;
                    self.variable(&name)?;
                }
                c if is_word(c) => {
                    let word = self.take_word();
                    self.note_start(Some(&word));
                    self.word(&word);
                    self.out.push_str(&word);
                }
                c => {
                    if !c.is_whitespace() && c != '(' {
                        self.note_start(None);
                    }
                    self.out.push(c);
                    self.pos += 1;
                }
            }
        }
        Ok(())
    }

    fn take_word(&mut self) -> String {
        let mut word = String::new();
        while let Some(c) = self.peek(0).filter(|c| is_word(*c)) {
            word.push(c);
            self.pos += 1;
        }
        word
    }

    /// Copies a quoted string or identifier (the quote doubled inside) to the output.
    fn quoted(&mut self, quote: char, what: &str) -> Result<(), SqlTextError> {
        self.out.push(quote);
        self.pos += 1;
        loop {
            match self.peek(0) {
                None => {
                    return Err(SqlTextError::Statement(format!(
                        "the SQL has {what} that is never closed; close it with {quote}"
                    )))
                }
                Some(c) if c == quote && self.peek(1) == Some(quote) => {
                    self.out.push(quote);
                    self.out.push(quote);
                    self.pos += 2;
                }
                Some(c) if c == quote => {
                    self.out.push(quote);
                    self.pos += 1;
                    return Ok(());
                }
                Some(c) => {
                    self.out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// After a `;`: only whitespace and comments may follow.
    fn rest_is_empty(&mut self) -> Result<(), SqlTextError> {
        loop {
            match self.peek(0) {
                Some(c) if c.is_whitespace() => self.pos += 1,
                Some('-') if self.peek(1) == Some('-') => self.line_comment(false)?,
                Some('/') if self.peek(1) == Some('*') => self.block_comment(false)?,
                None => return Ok(()),
                Some(_) => return Err(SqlTextError::Statement(
                    "the SQL holds more than one statement (text follows a `;`); run one SELECT statement per query".to_string(),
                )),
            }
        }
    }

    /// A `--` comment, copied when `copy`. Athena (Trino) ends it at a line feed or a carriage
    /// return, the local engine (DataFusion) at a line feed only: a carriage return without a
    /// line feed after it would end the comment for one engine and not the other, so it is
    /// refused rather than guessed.
    fn line_comment(&mut self, copy: bool) -> Result<(), SqlTextError> {
        while let Some(c) = self.peek(0) {
            match c {
                '\n' => break,
                '\r' if self.peek(1) == Some('\n') => break,
                '\r' => return Err(SqlTextError::Statement(
                    "the SQL has a carriage return in a -- comment with no line feed after it; Athena ends the comment there and the local engine does not, so what follows is ambiguous: end the line with a line feed".to_string(),
                )),
                _ => {
                    if copy {
                        self.out.push(c);
                    }
                    self.pos += 1;
                }
            }
        }
        Ok(())
    }

    /// A `/* */` comment, copied when `copy`. The local engine (DataFusion) nests these
    /// comments and Athena does not: a `/*` inside one would make the engines end it at
    /// different places (and a variable expanded there could close it), so it is refused.
    fn block_comment(&mut self, copy: bool) -> Result<(), SqlTextError> {
        if copy {
            self.out.push_str("/*");
        }
        self.pos += 2;
        loop {
            match self.peek(0) {
                None => return Err(SqlTextError::Statement(
                    "the SQL has a /* comment that is never closed; close it with */".to_string(),
                )),
                Some('/') if self.peek(1) == Some('*') => return Err(SqlTextError::Statement(
                    "the SQL has a /* inside a /* comment; the local engine nests such comments and Athena does not, so where it ends is ambiguous: remove the inner /*".to_string(),
                )),
                Some('*') if self.peek(1) == Some('/') => {
                    if copy {
                        self.out.push_str("*/");
                    }
                    self.pos += 2;
                    return Ok(());
                }
                Some(c) => {
                    if copy {
                        self.out.push(c);
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// Notes partition columns and Security Lake tables named in the user's own SQL: Security
    /// Lake's names, and the datasource's own table names (settings or discovery).
    fn word(&mut self, word: &str) {
        let lower = word.to_ascii_lowercase();
        let known = SOURCES
            .iter()
            .map(|spec| spec.source)
            .find(|source| lower == self.lake_table(*source));
        if known.is_some() || lower.starts_with("amazon_security_lake_table_") {
            self.expanded.reads_lake = true;
            match known {
                Some(source) => self.add_table(source),
                None if !self.expanded.unsized_tables.contains(&lower) => {
                    self.expanded.unsized_tables.push(lower)
                }
                None => {}
            }
        }
    }

    /// The partition column whose predicate bounds the days read on this engine and version.
    fn day_partition(&self) -> &'static str {
        match (self.ctx.dialect, self.ctx.version) {
            (Dialect::Athena, SourceVersion::V2) => "time_dt",
            _ => "eventday",
        }
    }

    /// The datasource's table of a source.
    fn lake_table(&self, source: Source) -> String {
        self.ctx
            .names
            .table(self.ctx.home_region, source, self.ctx.version)
    }

    fn add_table(&mut self, source: Source) {
        let table = TableRef {
            source,
            version: self.ctx.version,
            home_region: self.ctx.home_region.to_string(),
            names: self.ctx.names.clone(),
        };
        if !self.expanded.tables.contains(&table) {
            self.expanded.tables.push(table);
        }
    }

    /// The argument list after a macro name: None when there is no `(`.
    fn arguments(&mut self, name: &str) -> Result<Option<Vec<String>>, SqlTextError> {
        // Grafana allows no space between the name and `(`.
        if self.peek(0) != Some('(') {
            return Ok(None);
        }
        self.pos += 1;
        let mut args = vec![String::new()];
        let mut depth = 0;
        let mut quote: Option<char> = None;
        loop {
            let Some(c) = self.peek(0) else {
                return Err(SqlTextError::Macro {
                    name: name.to_string(),
                    argument: "(none)".to_string(),
                    reason: "the argument list is never closed; end it with )".to_string(),
                });
            };
            self.pos += 1;
            match (quote, c) {
                (Some(q), c) if c == q => {
                    quote = None;
                    args.last_mut().expect("one").push(c);
                }
                (Some(_), c) => args.last_mut().expect("one").push(c),
                (None, '\'' | '"') => {
                    quote = Some(c);
                    args.last_mut().expect("one").push(c);
                }
                (None, '(') => {
                    depth += 1;
                    args.last_mut().expect("one").push(c);
                }
                (None, ')') if depth == 0 => break,
                (None, ')') => {
                    depth -= 1;
                    args.last_mut().expect("one").push(c);
                }
                (None, ',') if depth == 0 => args.push(String::new()),
                (None, c) => args.last_mut().expect("one").push(c),
            }
        }
        let args: Vec<String> = args.into_iter().map(|a| a.trim().to_string()).collect();
        if args.len() == 1 && args[0].is_empty() {
            return Ok(Some(Vec::new()));
        }
        Ok(Some(args))
    }

    fn macro_call(&mut self, word: &str) -> Result<(), SqlTextError> {
        let name = format!("$__{word}");
        if !MACROS.contains(&name.as_str()) {
            return Err(SqlTextError::UnknownMacro { name });
        }
        let args = self.arguments(&name)?;
        let ctx = self.ctx;
        let dialect = ctx.dialect;
        let from = ctx.window.from;
        let to = ctx.window.to;
        let bad = |argument: &str, reason: &str| SqlTextError::Macro {
            name: name.clone(),
            argument: format!("`{}`", snippet(argument)),
            reason: reason.to_string(),
        };
        let count = |want: std::ops::RangeInclusive<usize>, usage: &str| {
            let n = args.as_ref().map_or(0, Vec::len);
            if want.contains(&n) {
                Ok(())
            } else {
                Err(SqlTextError::Macro {
                    name: name.clone(),
                    argument: args.as_ref().map_or_else(
                        || "(none)".to_string(),
                        |a| format!("`({})`", snippet(&a.join(", "))),
                    ),
                    reason: format!(
                        "it takes {}; write {usage}",
                        match (want.start(), want.end()) {
                            (0, 0) => "no arguments".to_string(),
                            (a, b) if a == b =>
                                format!("{a} argument{}", if *a == 1 { "" } else { "s" }),
                            (a, b) => format!("{a} to {b} arguments"),
                        }
                    ),
                })
            }
        };
        let a = |i: usize| args.as_ref().map_or("", |a| a[i].as_str());
        let text = match word {
            "timeFilter" => {
                count(1..=1, &format!("{name}(time_dt)"))?;
                let col = ColumnArg::parse(a(0)).map_err(|r| bad(a(0), &r))?;
                if col.is_timestamp() {
                    format!(
                        "{} BETWEEN {} AND {}",
                        col.render(dialect),
                        timestamp_literal(from),
                        timestamp_literal(to)
                    )
                } else {
                    format!(
                        "{} BETWEEN {} AND {}",
                        col.render(dialect),
                        from.timestamp_millis(),
                        to.timestamp_millis()
                    )
                }
            }
            "timeFrom" | "timeTo" => {
                count(0..=0, &format!("{name}()"))?;
                timestamp_literal(if word == "timeFrom" { from } else { to })
            }
            "unixEpochFilter" => {
                count(1..=1, &format!("{name}(column)"))?;
                let col = ColumnArg::parse(a(0)).map_err(|r| bad(a(0), &r))?;
                format!(
                    "{} BETWEEN {} AND {}",
                    col.render(dialect),
                    from.timestamp(),
                    to.timestamp()
                )
            }
            "unixEpochFrom" | "unixEpochTo" => {
                count(0..=0, &format!("{name}()"))?;
                (if word == "unixEpochFrom" { from } else { to })
                    .timestamp()
                    .to_string()
            }
            "timeGroup" | "timeGroupAlias" => {
                count(
                    2..=3,
                    &format!("{name}(time_dt, 5m) or {name}(time_dt, 5m, 0)"),
                )?;
                let col = ColumnArg::parse(a(0)).map_err(|r| bad(a(0), &r))?;
                let interval_ms = parse_interval(a(1), &ctx.window).map_err(|r| bad(a(1), &r))?;
                let fill = match args.as_ref().and_then(|a| a.get(2)) {
                    Some(f) => Some(parse_fill(f).map_err(|r| bad(f, &r))?),
                    None => None,
                };
                if self
                    .expanded
                    .time_group
                    .is_some_and(|g| g.interval_ms != interval_ms)
                {
                    return Err(bad(a(1), "another $__timeGroup of this query has a different interval; use one interval per query"));
                }
                self.expanded.time_group = Some(TimeGroup { interval_ms, fill });
                let expr = time_group(dialect, &col, interval_ms);
                if word == "timeGroupAlias" {
                    format!("{expr} AS {}", ident("time"))
                } else {
                    expr
                }
            }
            "table" => {
                count(0..=1, &table_usage())?;
                let source = match args.as_deref() {
                    None | Some([]) => Source::VpcFlow,
                    Some([s]) => parse_source(s)
                        .and_then(|source| source.check_version(ctx.version).map(|()| source))
                        .map_err(|r| bad(s, &r))?,
                    Some(_) => unreachable!("counted"),
                };
                self.add_table(source);
                self.expanded.reads_lake = true;
                format!(
                    "{}.{}",
                    ident(&ctx.names.database(ctx.home_region)),
                    ident(&self.lake_table(source))
                )
            }
            "database" => {
                count(0..=0, "$__database")?;
                ident(&ctx.names.database(ctx.home_region))
            }
            "partitionFilter" => {
                count(0..=0, "$__partitionFilter")?;
                // The flow table's time columns: the same in every source's table.
                let cols = Source::VpcFlow.record(ctx.version);
                let parts = PartitionFilter {
                    days: partitions::utc_days(from, to),
                    accounts: self.query.accounts.clone(),
                    regions: self.query.regions.clone(),
                };
                let time = TimeFilter {
                    from,
                    to,
                    time_ms: cols.time_ms,
                    time_dt: cols.time_dt,
                };
                format!(
                    "({})",
                    partition_predicates(dialect, ctx.version, &parts, &time).join(" AND ")
                )
            }
            "in" => {
                count(2..=2, "$__in(column, variable)")?;
                let col = ColumnArg::parse(a(0)).map_err(|r| bad(a(0), &r))?;
                let var = a(1).trim_start_matches('$');
                let variable = self.query.variable(var).ok_or_else(|| {
                    bad(
                        a(1),
                        "no template variable of that name came with the query; name one of its variables",
                    )
                })?;
                match &variable.values {
                    VariableValues::All => "TRUE".to_string(),
                    VariableValues::Values(values) => {
                        format!("{} IN ({})", col.render(dialect), literal_list(values))
                    }
                }
            }
            "interval_ms" => {
                count(0..=0, "$__interval_ms")?;
                plan::bucket_ms(&ctx.window).to_string()
            }
            _ => unreachable!("listed in MACROS"),
        };
        self.out.push_str(&text);
        Ok(())
    }

    fn variable(&mut self, name: &str) -> Result<(), SqlTextError> {
        let variable = self
            .query
            .variable(name)
            .ok_or_else(|| SqlTextError::Variable {
                name: name.to_string(),
                reason: "no value came with the query; add it to the query's variables (the query editor sends the dashboard's variables there), or remove the reference".to_string(),
            })?;
        match &variable.values {
            VariableValues::All => Err(SqlTextError::Variable {
                name: name.to_string(),
                reason: format!("All selected; a literal cannot stand for every value, so write the condition as $__in(column, {name}), which becomes TRUE for All"),
            }),
            VariableValues::Values(values) => {
                self.out.push_str(&literal_list(values));
                Ok(())
            }
        }
    }
}

/// Values as a comma-separated list of SQL literals (`'a', 'b'`, `443, 80`).
pub fn literal_list(values: &[VariableValue]) -> String {
    values
        .iter()
        .map(|v| match v {
            VariableValue::Text(s) => string_literal(s),
            VariableValue::Number(n) => n.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column argument: dotted lower-case identifiers (`time_dt`, `src_endpoint.port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnArg(Vec<String>);

impl ColumnArg {
    /// Accepts `name(.name)*`, each a letter or `_` then letters, digits and `_`; an optional
    /// pair of double quotes around each part. At most 128 characters.
    pub fn parse(text: &str) -> Result<Self, String> {
        const WHAT: &str = "expected a column name such as time_dt or src_endpoint.port (letters, digits and _, parts joined by dots)";
        if text.is_empty() || text.len() > 128 {
            return Err(WHAT.to_string());
        }
        let mut parts = Vec::new();
        for part in text.split('.') {
            let part = part
                .strip_prefix('"')
                .and_then(|p| p.strip_suffix('"'))
                .unwrap_or(part);
            let ok = part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(is_word);
            if !ok {
                return Err(WHAT.to_string());
            }
            parts.push(part.to_ascii_lowercase());
        }
        Ok(ColumnArg(parts))
    }

    fn last(&self) -> &str {
        self.0.last().map_or("", String::as_str)
    }

    /// Whether the column is a timestamp (Security Lake names them `*_dt`); others are
    /// epoch milliseconds.
    pub fn is_timestamp(&self) -> bool {
        self.last().ends_with("_dt")
    }

    /// The column in a dialect.
    pub fn render(&self, dialect: Dialect) -> String {
        let path: Vec<&str> = self.0.iter().map(String::as_str).collect();
        column(dialect, &path)
    }
}

/// `$__timeGroup`'s expression: the bucket start as epoch milliseconds.
fn time_group(dialect: Dialect, col: &ColumnArg, interval_ms: i64) -> String {
    let c = col.render(dialect);
    let seconds = interval_ms / 1000;
    match (col.is_timestamp(), dialect) {
        (false, _) => format!("({c} / {interval_ms}) * {interval_ms}"),
        (true, Dialect::Athena) => {
            format!("CAST(floor(to_unixtime({c}) / {seconds}) AS BIGINT) * {interval_ms}")
        }
        (true, Dialect::Local) => format!("(to_unixtime({c}) / {seconds}) * {interval_ms}"),
    }
}

/// Largest bucket accepted: 366 days.
const MAX_INTERVAL_MS: i64 = 366 * 86_400_000;

/// Parses `30s`, `5m`, `1h`, `1d`, `1w` (optionally single-quoted) or `$__interval`.
pub fn parse_interval(text: &str, window: &TimeWindow) -> Result<i64, String> {
    const WHAT: &str = "expected an interval of whole seconds from 1s to 366d such as 30s, 5m, 1h, 1d or 1w, or $__interval";
    let text = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(text);
    if text == "$__interval" {
        return Ok(plan::bucket_ms(window));
    }
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let unit = &text[digits.len()..];
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return Err(WHAT.to_string()),
    };
    let n: i64 = digits.parse().map_err(|_| WHAT.to_string())?;
    match n.checked_mul(unit_ms) {
        Some(ms) if (1_000..=MAX_INTERVAL_MS).contains(&ms) => Ok(ms),
        _ => Err(WHAT.to_string()),
    }
}

/// Parses a fill: `0` or another number, `NULL`, `previous`.
pub fn parse_fill(text: &str) -> Result<Fill, String> {
    match text.to_ascii_lowercase().as_str() {
        "null" => Ok(Fill::Null),
        "previous" => Ok(Fill::Previous),
        other => other
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Fill::Value)
            .ok_or_else(|| "expected a fill of a number such as 0, NULL or previous".to_string()),
    }
}

/// How `$__table` is written: `$__table(vpc_flow) or $__table(sh_findings)`, one per source.
fn table_usage() -> String {
    SOURCES
        .iter()
        .map(|s| format!("$__table({})", s.table_part))
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::AnyQuery;
    use chrono::{DateTime, Utc};
    use serde_json::{json, Value};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn raw(v: Value) -> RawSql {
        match AnyQuery::from_json(&v).unwrap() {
            AnyQuery::Sql(q) => q,
            _ => panic!("sql"),
        }
    }

    fn expand_at(
        sql: &str,
        vars: Value,
        dialect: Dialect,
        version: SourceVersion,
        from: &str,
        to: &str,
    ) -> Result<Expanded, String> {
        let q = raw(json!({"kind": "sql", "rawSql": sql, "variables": vars,
            "filters": {"accounts": ["111122223333"], "regions": ["us-east-1"]}}));
        let ctx = MacroContext {
            dialect,
            version,
            home_region: "us-east-1",
            names: &Default::default(),
            window: TimeWindow::new(t(from), t(to), 60_000, 1000).unwrap(),
        };
        expand(&q, &ctx).map_err(|e| e.to_string())
    }

    fn x(sql: &str, dialect: Dialect, version: SourceVersion) -> String {
        expand_at(
            sql,
            json!({}),
            dialect,
            version,
            "2024-06-01T22:30:00Z",
            "2024-06-02T00:00:00Z",
        )
        .unwrap()
        .sql
    }

    #[test]
    fn macro_table() {
        use Dialect::{Athena, Local};
        use SourceVersion::{V1, V2};
        let cases: &[(&str, Dialect, SourceVersion, &str)] = &[
            ("SELECT $__timeFilter(time_dt)", Athena, V2, "SELECT \"time_dt\" BETWEEN TIMESTAMP '2024-06-01 22:30:00.000' AND TIMESTAMP '2024-06-02 00:00:00.000'"),
            ("SELECT $__timeFilter(time_dt)", Local, V2, "SELECT \"time_dt\" BETWEEN TIMESTAMP '2024-06-01 22:30:00.000' AND TIMESTAMP '2024-06-02 00:00:00.000'"),
            ("SELECT $__timeFilter(time)", Athena, V1, "SELECT \"time\" BETWEEN 1717281000000 AND 1717286400000"),
            ("SELECT $__timeFilter(src_endpoint.port)", Local, V1, "SELECT get_field(\"src_endpoint\", 'port') BETWEEN 1717281000000 AND 1717286400000"),
            ("SELECT $__timeFrom(), $__timeTo()", Athena, V2, "SELECT TIMESTAMP '2024-06-01 22:30:00.000', TIMESTAMP '2024-06-02 00:00:00.000'"),
            ("SELECT $__unixEpochFilter(t), $__unixEpochFrom(), $__unixEpochTo()", Athena, V1, "SELECT \"t\" BETWEEN 1717281000 AND 1717286400, 1717281000, 1717286400"),
            ("SELECT $__timeGroup(time_dt, 5m)", Athena, V2, "SELECT CAST(floor(to_unixtime(\"time_dt\") / 300) AS BIGINT) * 300000"),
            ("SELECT $__timeGroup(time_dt, '1h', 0)", Local, V2, "SELECT (to_unixtime(\"time_dt\") / 3600) * 3600000"),
            ("SELECT $__timeGroupAlias(time, 1d)", Athena, V1, "SELECT (\"time\" / 86400000) * 86400000 AS \"time\""),
            ("SELECT * FROM $__table", Athena, V2, "SELECT * FROM \"amazon_security_lake_glue_db_us_east_1\".\"amazon_security_lake_table_us_east_1_vpc_flow_2_0\""),
            ("SELECT * FROM $__table(sh_findings)", Local, V1, "SELECT * FROM \"amazon_security_lake_glue_db_us_east_1\".\"amazon_security_lake_table_us_east_1_sh_findings_1_0\""),
            ("SELECT $__database", Local, V1, "SELECT \"amazon_security_lake_glue_db_us_east_1\""),
            ("SELECT 1 WHERE $__partitionFilter", Athena, V1, "SELECT 1 WHERE (\"eventday\" IN ('20240601', '20240602') AND \"region\" = 'us-east-1' AND \"accountid\" = '111122223333' AND \"time\" BETWEEN 1717281000000 AND 1717286400000)"),
            ("SELECT 1 WHERE $__partitionFilter", Athena, V2, "SELECT 1 WHERE (\"region\" = 'us-east-1' AND \"accountid\" = '111122223333' AND \"time_dt\" BETWEEN TIMESTAMP '2024-06-01 22:30:00.000' AND TIMESTAMP '2024-06-02 00:00:00.000')"),
            ("SELECT 1 WHERE $__partitionFilter", Local, V2, "SELECT 1 WHERE (\"eventday\" IN ('20240601', '20240602') AND \"region\" = 'us-east-1' AND \"accountid\" = '111122223333' AND \"time\" BETWEEN 1717281000000 AND 1717286400000)"),
            ("SELECT $__interval_ms", Local, V1, "SELECT 60000"),
            ("SELECT '$__timeFrom()' -- $__table\n, \"$x\" /* $y */", Local, V1, "SELECT '$__timeFrom()' -- $__table\n, \"$x\" /* $y */"),
            ("SELECT 1;  -- done", Local, V1, "SELECT 1"),
        ];
        for (sql, dialect, version, want) in cases {
            assert_eq!(
                &x(sql, *dialect, *version),
                want,
                "{sql} {dialect:?} {version:?}"
            );
        }
    }

    #[test]
    fn utc_and_edge_days() {
        // 23:00-01:00 in UTC+02:00 is 21:00-23:00 UTC the previous day: one day, no edge.
        let from = DateTime::parse_from_rfc3339("2024-06-02T00:00:00+02:00")
            .unwrap()
            .to_utc();
        let e = expand_at(
            "SELECT 1 WHERE $__partitionFilter",
            json!({}),
            Dialect::Athena,
            SourceVersion::V1,
            &from.to_rfc3339(),
            "2024-06-01T23:59:59.999Z",
        )
        .unwrap();
        assert_eq!(e.sql, "SELECT 1 WHERE (\"eventday\" = '20240601' AND \"region\" = 'us-east-1' AND \"accountid\" = '111122223333' AND \"time\" BETWEEN 1717279200000 AND 1717286399999)");
        // A range ending exactly at midnight includes the next day's partition.
        let e = expand_at(
            "SELECT 1 WHERE $__partitionFilter",
            json!({}),
            Dialect::Local,
            SourceVersion::V1,
            "2024-06-30T12:00:00Z",
            "2024-07-01T00:00:00Z",
        )
        .unwrap();
        assert!(
            e.sql.contains("\"eventday\" IN ('20240630', '20240701')"),
            "{}",
            e.sql
        );
    }

    #[test]
    fn variables_become_literals() {
        let e = expand_at(
            "SELECT 1 WHERE region IN ($region) AND accountid = ${account} AND port IN ([[port]]) AND $__in(vpc, vpc) AND $__in(x, region)",
            json!({"region": ["us-east-1", "eu-west-1"], "account": "111122223333", "port": [443, 80], "vpc": "$__all"}),
            Dialect::Athena,
            SourceVersion::V2,
            "2024-06-01T00:00:00Z",
            "2024-06-01T01:00:00Z",
        )
        .unwrap();
        assert_eq!(e.sql, "SELECT 1 WHERE region IN ('us-east-1', 'eu-west-1') AND accountid = '111122223333' AND port IN (443, 80) AND TRUE AND \"x\" IN ('us-east-1', 'eu-west-1')");
    }

    #[test]
    fn partition_detection_and_tables() {
        let e = |sql: &str, d, v| {
            expand_at(
                sql,
                json!({}),
                d,
                v,
                "2024-06-01T00:00:00Z",
                "2024-06-01T01:00:00Z",
            )
            .unwrap()
        };
        let a = e(
            "SELECT * FROM $__table WHERE $__timeFilter(time)",
            Dialect::Athena,
            SourceVersion::V2,
        );
        assert!(a.reads_lake && !a.pruned);
        let a = e(
            "SELECT * FROM $__table WHERE $__timeFilter(time_dt)",
            Dialect::Athena,
            SourceVersion::V2,
        );
        assert!(a.reads_lake && a.pruned);
        let a = e("SELECT * FROM amazon_security_lake_glue_db_us_east_1.amazon_security_lake_table_us_east_1_sh_findings_1_0 WHERE eventday = '20240601'", Dialect::Athena, SourceVersion::V1);
        assert!(a.reads_lake && a.pruned);
        assert_eq!(a.tables[0].source, Source::ShFindings);
        let a = e("SELECT 1", Dialect::Local, SourceVersion::V1);
        assert!(!a.reads_lake && a.tables.is_empty());
    }

    #[test]
    fn errors_say_what_to_do() {
        let err = |sql: &str, vars: Value| {
            expand_at(
                sql,
                vars,
                Dialect::Athena,
                SourceVersion::V2,
                "2024-06-01T00:00:00Z",
                "2024-06-01T01:00:00Z",
            )
            .unwrap_err()
        };
        assert_eq!(err("SELECT $__timeGroup(time_dt, 5x)", json!({})), "macro `$__timeGroup` has a bad argument `5x`: expected an interval of whole seconds from 1s to 366d such as 30s, 5m, 1h, 1d or 1w, or $__interval");
        assert_eq!(err("SELECT $__timeFilter(time_dt; DROP TABLE x)", json!({})), "macro `$__timeFilter` has a bad argument `time_dt; DROP TABLE x`: expected a column name such as time_dt or src_endpoint.port (letters, digits and _, parts joined by dots)");
        assert_eq!(err("SELECT $__timeFilter()", json!({})), "macro `$__timeFilter` has a bad argument `()`: it takes 1 argument; write $__timeFilter(time_dt)");
        assert_eq!(err("SELECT $__timeFilter", json!({})), "macro `$__timeFilter` has a bad argument (none): it takes 1 argument; write $__timeFilter(time_dt)");
        assert_eq!(err("SELECT $__timeGroup(time_dt, 5m, sideways)", json!({})), "macro `$__timeGroup` has a bad argument `sideways`: expected a fill of a number such as 0, NULL or previous");
        assert_eq!(err("SELECT * FROM $__table(cloud_trail)", json!({})), "macro `$__table` has a bad argument `cloud_trail`: expected a Security Lake source: vpc_flow, sh_findings, cloud_trail_mgmt, route53, waf, s3_data, lambda_execution or eks_audit");
        assert_eq!(err("SELECT $__timeFilters(x)", json!({})), "unknown macro `$__timeFilters`; Lakewatch knows $__timeFilter, $__timeFrom, $__timeTo, $__unixEpochFilter, $__unixEpochFrom, $__unixEpochTo, $__timeGroup, $__timeGroupAlias, $__table, $__database, $__partitionFilter, $__in, $__interval_ms");
        assert_eq!(err("SELECT $region", json!({})), "template variable `$region`: no value came with the query; add it to the query's variables (the query editor sends the dashboard's variables there), or remove the reference");
        assert_eq!(err("SELECT $region", json!({"region": "All"})), "template variable `$region`: All selected; a literal cannot stand for every value, so write the condition as $__in(column, region), which becomes TRUE for All");
        assert_eq!(err("SELECT ${region:csv}", json!({})), "template variable `$region`: write ${name} with a plain name; formats such as ${name:csv} are not applied, values are always rendered as SQL literals");
        assert_eq!(err("SELECT 1; DROP TABLE x", json!({})), "the SQL holds more than one statement (text follows a `;`); run one SELECT statement per query");
        // Comments are read the way both engines read them, or refused where they disagree.
        assert_eq!(
            err("SELECT count(*) AS n FROM $__table WHERE $__partitionFilter /* off: /* per team */ AND team = $team */", json!({"team": "*/ OR TRUE --"})),
            "the SQL has a /* inside a /* comment; the local engine nests such comments and Athena does not, so where it ends is ambiguous: remove the inner /*"
        );
        assert_eq!(
            err("SELECT 4 //* $v */ 2", json!({})),
            "the SQL has `//` outside a string; the local engine reads it as integer division and Athena as two divisions or the start of a /* comment: put a space between the slashes"
        );
        assert_eq!(
            err("SELECT 1 AS a --\r; DROP TABLE x", json!({})),
            "the SQL has a carriage return in a -- comment with no line feed after it; Athena ends the comment there and the local engine does not, so what follows is ambiguous: end the line with a line feed"
        );
        assert_eq!(
            err("SELECT 1 AS a; -- done\r /* x /* y */", json!({})),
            "the SQL has a carriage return in a -- comment with no line feed after it; Athena ends the comment there and the local engine does not, so what follows is ambiguous: end the line with a line feed"
        );
        assert_eq!(
            err("DROP TABLE x", json!({})),
            "only a SELECT (or WITH … SELECT) statement can run here; the SQL starts with `DROP`"
        );
        assert_eq!(
            err("SELECT 'abc", json!({})),
            "the SQL has a string literal ('…') that is never closed; close it with '"
        );
        assert_eq!(err("SELECT $__in(x, nope)", json!({})), "macro `$__in` has a bad argument `nope`: no template variable of that name came with the query; name one of its variables");
    }
}
