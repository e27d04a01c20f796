//! Injection corpus through every user-controlled path: typed filter values, template-variable
//! values and names, macro arguments, table/source names. Each attempt is rejected with an exact
//! message, or rendered as a harmless literal whose SQL is asserted.

use crate::pipeline::{prepare, prepare_sql, PanelRequest};
use crate::settings::Settings;
use crate::sql::{ident, string_literal, Dialect};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn request(json: &[u8]) -> PanelRequest<'_> {
    PanelRequest {
        ref_id: "A",
        json,
        from: t("2024-06-01T00:00:00Z"),
        to: t("2024-06-01T06:00:00Z"),
        interval_ms: 60_000,
        max_data_points: 1000,
    }
}

/// The SQL of a query on Athena v2, or its error message.
fn answer(query: Value) -> Result<String, String> {
    let settings = Settings::from_json(&json!({"sourceVersion": "2"})).unwrap();
    let bytes = serde_json::to_vec(&query).unwrap();
    if query["kind"] == "sql" {
        prepare_sql(&settings, Dialect::Athena, &request(&bytes))
            .map(|p| p.expanded.sql)
            .map_err(|e| e.message)
    } else {
        prepare(&settings, Dialect::Athena, &request(&bytes))
            .map(|p| p.sql)
            .map_err(|e| e.message)
    }
}

/// How error messages show a value: its JSON text, cut at 80 characters.
fn shown(text: &str) -> String {
    let json = Value::String(text.to_string()).to_string();
    if json.chars().count() <= 80 {
        json
    } else {
        format!("{}...", json.chars().take(77).collect::<String>())
    }
}

/// Attempts every path must survive.
fn corpus() -> Vec<String> {
    let mut out: Vec<String> = [
        "111122223333'",
        "' OR '1'='1",
        "111122223333' OR '1'='1",
        "us-east-1'; DROP TABLE x; --",
        "us-east-1 -- ",
        "us-east-1/* */",
        "x\\'; SELECT 1; --",
        "us\u{2010}east\u{2010}1",
        "\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff12}\u{ff12}\u{ff12}\u{ff12}\u{ff13}\u{ff13}\u{ff13}\u{ff13}",
        "vpc-0a1b2c3d\u{0}",
        "10.0.0.1\u{0}' OR 1=1",
        "10.0.0.0/8' --",
        "\"; DROP TABLE x; --",
        "443; DROP",
        "$__timeFrom()",
        "${region}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.push("1".repeat(10_000));
    out.push(format!("us-east-1{}", "'".repeat(500)));
    out
}

#[test]
fn typed_filter_values_are_rejected_word_for_word() {
    let places = [
        (
            "accounts",
            "an AWS account id is 12 digits, e.g. 111122223333",
        ),
        ("regions", "an AWS region looks like us-east-1"),
        (
            "vpcs",
            "expected a vpc id: vpc- and 8 to 17 hex digits, e.g. vpc-0a1b2c3d4e5f60718",
        ),
        (
            "ip",
            "not an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32",
        ),
        ("dst_ports", "expected a port number from 0 to 65535"),
    ];
    for (key, reason) in places {
        for bad in corpus() {
            let got = answer(json!({"kind": "flow_volume", "filters": {key: [bad]}}));
            let want = format!(
                "query field `filters.{key}[0]` has the value {}: {reason}",
                shown(bad.trim())
            );
            // A value the prefix check cuts earlier (a CIDR with a bad prefix) says so instead.
            match got {
                Err(message) if message == want => {}
                Err(message) if key == "ip" && message.contains("the prefix length") => {}
                other => panic!("{key} {bad:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn variable_values_are_rejected_or_rendered_as_literals() {
    let sql = "SELECT 1 FROM $__table WHERE $__partitionFilter AND x IN ($v)";
    let reasons = [
        (
            "account",
            "an AWS account id is 12 digits, e.g. 111122223333",
        ),
        ("region", "an AWS region looks like us-east-1"),
        (
            "vpc",
            "expected a vpc id: vpc- and 8 to 17 hex digits, e.g. vpc-0a1b2c3d4e5f60718",
        ),
        (
            "ip",
            "expected a single IPv4 or IPv6 address, e.g. 10.0.1.17 or 2001:db8::1",
        ),
        ("port", "expected a port number from 0 to 65535"),
        (
            "protocol",
            "expected a protocol number 0-255 or one of tcp, udp, icmp, icmpv6, gre, esp",
        ),
    ];
    for (kind, reason) in reasons {
        for bad in corpus() {
            let got = answer(json!({"kind": "sql", "rawSql": sql,
                "variables": {"v": [bad]}, "variableTypes": {"v": kind}}));
            assert_eq!(
                got,
                Err(format!(
                    "query field `variables.v[0]` has the value {}: {reason}",
                    shown(&bad)
                )),
                "{kind} {bad:?}"
            );
        }
    }
    // Free text: a literal, quotes doubled, nothing else changed; control characters and very
    // long values refused.
    let prefix = "SELECT 1 FROM \"amazon_security_lake_glue_db_us_east_1\".\"amazon_security_lake_table_us_east_1_vpc_flow_2_0\" WHERE (\"time_dt\" BETWEEN TIMESTAMP '2024-06-01 00:00:00.000' AND TIMESTAMP '2024-06-01 06:00:00.000') AND x IN (";
    for bad in corpus() {
        let got =
            answer(json!({"kind": "sql", "rawSql": sql, "variables": {"v": [bad.clone(), "ok"]}}));
        if bad.chars().any(char::is_control) {
            assert_eq!(got, Err(format!("query field `variables.v[0]` has the value {}: a text value may not contain control characters (NUL, line breaks, tabs…)", shown(&bad))));
        } else if bad.chars().count() > 256 {
            assert_eq!(got, Err(format!("query field `variables.v[0]` has the value {}: a text value may have at most 256 characters", shown(&bad))));
        } else {
            assert_eq!(
                got,
                Ok(format!("{prefix}'{}', 'ok')", bad.replace('\'', "''"))),
                "{bad:?}"
            );
        }
    }
    // Exact renderings of the classics.
    let render =
        |v: &str| answer(json!({"kind": "sql", "rawSql": "SELECT $v", "variables": {"v": v}}));
    assert_eq!(render("' OR '1'='1").unwrap(), "SELECT ''' OR ''1''=''1'");
    assert_eq!(
        render("x\\'; SELECT 1; --").unwrap(),
        "SELECT 'x\\''; SELECT 1; --'"
    );
    assert_eq!(render("$__timeFrom()").unwrap(), "SELECT '$__timeFrom()'");
    assert_eq!(
        render("us\u{2010}east\u{2010}1").unwrap(),
        "SELECT 'us\u{2010}east\u{2010}1'"
    );
    assert_eq!(render("*/ DROP /*").unwrap(), "SELECT '*/ DROP /*'");
}

#[test]
fn variable_names_and_types_are_checked() {
    for bad in ["a'b", "a b", "a;--", "__all", "région", ""] {
        assert_eq!(
            answer(json!({"kind": "sql", "rawSql": "SELECT 1", "variables": {bad: "x"}})),
            Err(format!("query field `variables.{bad}` has the value {}: a variable name is a letter or _ followed by letters, digits and _ (at most 64 characters, not starting with __)", shown(bad))),
        );
    }
    assert_eq!(
        answer(json!({"kind": "sql", "rawSql": "SELECT 1", "variables": {"v": {"a": 1}}})),
        Err(
            "query field `variables.v` has the value {\"a\":1}: expected a string or a number"
                .to_string()
        )
    );
}

#[test]
fn macro_arguments_and_source_names_are_rejected_word_for_word() {
    let column = "expected a column name such as time_dt or src_endpoint.port (letters, digits and _, parts joined by dots)";
    let source =
        "expected a Security Lake source: vpc_flow, sh_findings, cloud_trail_mgmt, route53, waf, s3_data, lambda_execution or eks_audit";
    let cases: Vec<(String, String)> = vec![
        ("SELECT $__timeFilter(time_dt')".into(), "macro `$__timeFilter` has a bad argument (none): the argument list is never closed; end it with )".into()),
        ("SELECT $__timeFilter(time_dt'') OR 1=1".into(), format!("macro `$__timeFilter` has a bad argument `time_dt''`: {column}")),
        ("SELECT $__timeFilter(time_dt --)".into(), format!("macro `$__timeFilter` has a bad argument `time_dt --`: {column}")),
        ("SELECT $__timeFilter(\"time_dt\"\"; DROP\")".into(), format!("macro `$__timeFilter` has a bad argument `\"time_dt\"\"; DROP\"`: {column}")),
        ("SELECT $__timeFilter(time\u{0}dt)".into(), "query field `rawSql` has the value \"SELECT $__timeFilter(time\\u0000dt)\": the SQL text contains a NUL character; remove it".into()),
        ("SELECT $__unixEpochFilter(t\\)".into(), format!("macro `$__unixEpochFilter` has a bad argument `t\\`: {column}")),
        ("SELECT $__timeGroup(tіme_dt, 5m)".into(), format!("macro `$__timeGroup` has a bad argument `tіme_dt`: {column}")),
        ("SELECT $__timeGroup(time_dt, 5m); DROP TABLE x)".into(), "the SQL holds more than one statement (text follows a `;`); run one SELECT statement per query".into()),
        ("SELECT $__timeGroup(time_dt, '5m'' OR 1=1')".into(), "macro `$__timeGroup` has a bad argument `'5m'' OR 1=1'`: expected an interval of whole seconds from 1s to 366d such as 30s, 5m, 1h, 1d or 1w, or $__interval".into()),
        ("SELECT $__timeGroup(time_dt, 99999999999999999999d)".into(), "macro `$__timeGroup` has a bad argument `99999999999999999999d`: expected an interval of whole seconds from 1s to 366d such as 30s, 5m, 1h, 1d or 1w, or $__interval".into()),
        ("SELECT * FROM $__table(vpc_flow\"; DROP TABLE x; --)".into(), "macro `$__table` has a bad argument (none): the argument list is never closed; end it with )".into()),
        ("SELECT * FROM $__table(vpc_ﬂow)".into(), format!("macro `$__table` has a bad argument `vpc_ﬂow`: {source}")),
        ("SELECT * FROM $__table('vpc_flow'' --')".into(), format!("macro `$__table` has a bad argument `'vpc_flow'' --'`: {source}")),
        ("SELECT * FROM $__table(../../etc/passwd)".into(), format!("macro `$__table` has a bad argument `../../etc/passwd`: {source}")),
        (format!("SELECT * FROM $__table({})", "a".repeat(5000)), format!("macro `$__table` has a bad argument `{}...`: {source}", "a".repeat(37))),
        ("SELECT $__in(x, v) FROM t".into(), "macro `$__in` has a bad argument `v`: no template variable of that name came with the query; name one of its variables".into()),
        ("SELECT $__partitionFilter(1=1)".into(), "macro `$__partitionFilter` has a bad argument `(1=1)`: it takes no arguments; write $__partitionFilter".into()),
    ];
    for (sql, want) in cases {
        assert_eq!(
            answer(json!({"kind": "sql", "rawSql": sql})),
            Err(want),
            "{sql:?}"
        );
    }
}

#[test]
fn statements_other_than_one_select_are_refused() {
    let cases = [
        ("DROP TABLE x", "only a SELECT (or WITH … SELECT) statement can run here; the SQL starts with `DROP`"),
        ("/* hi */ INSERT INTO x VALUES (1)", "only a SELECT (or WITH … SELECT) statement can run here; the SQL starts with `INSERT`"),
        ("SELECT 1; DROP TABLE x", "the SQL holds more than one statement (text follows a `;`); run one SELECT statement per query"),
        ("SELECT 1 -- ok\n; -- trailing\nSET x = 1", "the SQL holds more than one statement (text follows a `;`); run one SELECT statement per query"),
        ("SELECT 'unterminated", "the SQL has a string literal ('…') that is never closed; close it with '"),
        ("SELECT \"unterminated", "the SQL has a quoted identifier (\"…\") that is never closed; close it with \""),
        ("SELECT 1 /* open", "the SQL has a /* comment that is never closed; close it with */"),
        ("$__timeFrom()", "only a SELECT (or WITH … SELECT) statement can run here; the SQL starts with ``"),
    ];
    for (sql, want) in cases {
        assert_eq!(
            answer(json!({"kind": "sql", "rawSql": sql})),
            Err(want.to_string()),
            "{sql:?}"
        );
    }
    assert_eq!(
        answer(json!({"kind": "sql", "rawSql": "SELECT 'a\u{0}b'"})),
        Err("query field `rawSql` has the value \"SELECT 'a\\u0000b'\": the SQL text contains a NUL character; remove it".to_string())
    );
    // A `;` inside a literal or comment is text, and a trailing `;` is dropped.
    assert_eq!(
        answer(json!({"kind": "sql", "rawSql": "SELECT ';' -- ;\n;"})).unwrap(),
        "SELECT ';' -- ;"
    );
}

#[test]
fn renderers_escape_the_corpus() {
    for text in corpus() {
        let lit = string_literal(&text);
        assert!(lit.starts_with('\'') && lit.ends_with('\''));
        let inner = &lit[1..lit.len() - 1];
        assert!(!inner.replace("''", "").contains('\''), "{lit}");
        let id = ident(&text);
        assert!(
            !id[1..id.len() - 1].replace("\"\"", "").contains('"'),
            "{id}"
        );
    }
}
