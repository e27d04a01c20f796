//! Properties of the query envelope parser, the macro expander and the literal/identifier
//! renderers: no panic on any input, and every rendered literal parses back to its value.

use crate::lake::SourceVersion;
use crate::query::{parse_value, AnyQuery, TimeWindow, VariableType, VariableValue};
use crate::sql::macros::{expand, literal_list, MacroContext};
use crate::sql::{ident, string_literal, Dialect};
use chrono::{DateTime, Utc};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Reads one SQL string literal (`'…'`, quotes doubled) from the start of `text`; returns the
/// value and the rest.
fn parse_string_literal(text: &str) -> Option<(String, &str)> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut value = String::new();
    let mut pending_quote = false;
    for (i, c) in chars {
        if pending_quote {
            if c == '\'' {
                value.push('\'');
                pending_quote = false;
                continue;
            }
            return Some((value, &text[i..]));
        }
        if c == '\'' {
            pending_quote = true;
        } else {
            value.push(c);
        }
    }
    pending_quote.then_some((value, ""))
}

/// Reads one quoted identifier (`"…"`, quotes doubled).
fn parse_ident(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' && chars.next() != Some('"') {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "sql",
            "flow_volume",
            "top_talkers",
            "compliance_status",
            "$__all",
            "All",
            "111122223333",
            "us-east-1",
            "time_series",
            "table",
            "rawSql",
            "variables",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "kind",
                    "rawSql",
                    "sql",
                    "format",
                    "filters",
                    "variables",
                    "variableTypes",
                    "accounts",
                    "regions",
                    "measure",
                    "group_by",
                    "limit",
                    "account",
                    "region",
                    "port",
                    "v",
                ])
                .prop_map(str::to_string),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn sql_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("SELECT ".to_string()),
        Just("$__timeFilter(".to_string()),
        Just("$__timeGroup(time_dt, ".to_string()),
        Just("$__partitionFilter".to_string()),
        Just("$__table(".to_string()),
        Just("$__in(x, ".to_string()),
        Just("$v".to_string()),
        Just("${v}".to_string()),
        Just("[[v".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just(";".to_string()),
        Just(")".to_string()),
        Just(",".to_string()),
        Just("\n".to_string()),
        ".{0,8}",
    ];
    prop::collection::vec(piece, 0..16).prop_map(|p| p.concat())
}

/// SQL around variables, with the comment and quote openers and the line ends the engines
/// tokenize differently.
fn hostile_sql() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(" $v ".to_string()),
        Just("${v}".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just(";".to_string()),
        Just(" AND x = ".to_string()),
        Just(" OR ".to_string()),
    ];
    prop::collection::vec(piece, 0..12)
        .prop_map(|p| format!("SELECT 1 AS a FROM t WHERE b = 1{}", p.concat()))
}

/// Variable values that try to close what they are put in.
fn hostile_value() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("*/".to_string()),
            Just("/*".to_string()),
            Just("'".to_string()),
            Just("--".to_string()),
            Just(" OR TRUE".to_string()),
            Just(";".to_string()),
            Just("\"".to_string()),
        ],
        1..4,
    )
    .prop_map(|p| format!("MARK{}", p.concat()))
}

fn window() -> TimeWindow {
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let from: DateTime<Utc> = t("2024-06-01T00:00:00Z");
    TimeWindow::new(from, t("2024-06-03T00:00:00Z"), 60_000, 1000).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn string_literals_parse_back(text in any::<String>()) {
        let lit = string_literal(&text);
        let (value, rest) = parse_string_literal(&lit).expect("a whole literal");
        prop_assert_eq!(rest, "");
        // Control characters are never valid values; the renderer drops them.
        let expected: String = text.chars().filter(|c| !c.is_control()).collect();
        prop_assert_eq!(value, expected);
    }

    #[test]
    fn identifiers_parse_back(text in any::<String>()) {
        prop_assert_eq!(parse_ident(&ident(&text)), Some(text));
    }

    #[test]
    fn variable_literal_lists_parse_back(values in prop::collection::vec(any::<String>(), 1..5)) {
        let parsed: Vec<VariableValue> = values
            .iter()
            .filter_map(|v| parse_value(VariableType::Text, v).ok())
            .collect();
        prop_assume!(!parsed.is_empty());
        let list = literal_list(&parsed);
        let mut rest = list.as_str();
        for value in &parsed {
            let VariableValue::Text(want) = value else { unreachable!("text") };
            let (got, after) = parse_string_literal(rest).expect("a literal");
            prop_assert_eq!(&got, want);
            rest = after.strip_prefix(", ").unwrap_or(after);
        }
        prop_assert_eq!(rest, "");
    }

    #[test]
    fn the_envelope_parser_never_panics(value in json_value(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = AnyQuery::from_json(&value);
        let _ = AnyQuery::from_json_bytes(&bytes);
        let _ = AnyQuery::from_json_bytes(value.to_string().as_bytes());
    }

    #[test]
    fn expansion_never_panics_and_keeps_variables_literal(sql in sql_text(), v in ".{0,12}") {
        let query = json!({"kind": "sql", "rawSql": sql, "variables": {"v": v}});
        let Ok(AnyQuery::Sql(raw)) = AnyQuery::from_json(&query) else { return Ok(()); };
        for dialect in [Dialect::Athena, Dialect::Local] {
            for version in [SourceVersion::V1, SourceVersion::V2] {
                let ctx = MacroContext { dialect, version, home_region: "us-east-1", names: &Default::default(), window: window() };
                let _ = expand(&raw, &ctx);
            }
        }
    }

    /// Read by a real SQL tokenizer and parser (sqlparser, as DataFusion reads SQL): a variable's
    /// value is only ever inside a string literal, never in a comment, identifier or keyword,
    /// and an accepted statement is one statement.
    #[test]
    fn expanded_variables_are_single_literals_to_a_real_parser(sql in hostile_sql(), v in hostile_value()) {
        let query = json!({"kind": "sql", "rawSql": sql, "variables": {"v": v}});
        let Ok(AnyQuery::Sql(raw)) = AnyQuery::from_json(&query) else { return Ok(()); };
        let ctx = MacroContext { dialect: Dialect::Local, version: SourceVersion::V2, home_region: "us-east-1", names: &Default::default(), window: window() };
        let Ok(expanded) = expand(&raw, &ctx) else { return Ok(()); };
        let dialect = GenericDialect {};
        let tokens = Tokenizer::new(&dialect, &expanded.sql).tokenize();
        let tokens = tokens.map_err(|e| TestCaseError::fail(format!("{e}: {}", expanded.sql)))?;
        for token in &tokens {
            let outside_a_literal = match token {
                Token::SingleQuotedString(_) => false,
                Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => comment.contains("MARK"),
                Token::Whitespace(Whitespace::MultiLineComment(text)) => text.contains("MARK"),
                other => other.to_string().contains("MARK"),
            };
            prop_assert!(!outside_a_literal, "{:?} in {:?}", token, expanded.sql);
        }
        if let Ok(statements) = Parser::parse_sql(&dialect, &expanded.sql) {
            prop_assert_eq!(statements.len(), 1, "{}", expanded.sql);
        }
    }
}
