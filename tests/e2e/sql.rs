//! End-to-end: the `sql` kind through the real plugin binary on the fixture lake, both source
//! versions; results checked against a brute-force computation over the generated records.

use std::collections::BTreeMap;

use crate::common::{ask, plugin, query, records, rows, settings, t};
use lakewatch::demo::FlowRecord;
use serde_json::{json, Value};

const FROM: &str = "2024-06-13T22:30:00Z";
const TO: &str = "2024-06-14T03:29:59.999Z";

fn in_range(r: &FlowRecord, from: &str, to: &str) -> bool {
    (t(from).timestamp_millis()..=t(to).timestamp_millis()).contains(&r.start_ms)
}

/// A time value as the frame carries it (RFC 3339) → epoch ms.
fn ms(v: &Value) -> i64 {
    t(v.as_str().unwrap()).timestamp_millis()
}

fn first_account() -> String {
    let mut accounts: Vec<&str> = records().iter().map(|r| r.account_id.as_str()).collect();
    accounts.sort();
    accounts[0].to_string()
}

fn notices(frame: &lakewatch::frame::DecodedFrame) -> Vec<String> {
    frame.meta["notices"]
        .as_array()
        .map(|n| {
            n.iter()
                .map(|n| {
                    format!(
                        "{}: {}",
                        n["severity"].as_str().unwrap(),
                        n["text"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn time_series_with_macros_and_variables_matches_brute_force() {
    let p = plugin().await;
    let account = first_account();
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "sql", "format": "time_series",
                   "rawSql": "SELECT $__timeGroupAlias(time, 1h, 0), region, count(*) AS flows\nFROM $__table(vpc_flow)\nWHERE $__partitionFilter AND region IN ($region)\nGROUP BY 1, 2\nORDER BY 1",
                   "filters": {"accounts": [account]},
                   "variables": {"region": ["us-east-1"]}}),
            FROM,
            TO,
        )
        .await;
        assert_eq!(frame.meta["type"], "timeseries-wide");
        assert!(notices(&frame).is_empty(), "{:?}", notices(&frame));
        let sql = frame.meta["executedQueryString"].as_str().unwrap();
        assert!(
            sql.contains("\"eventday\" IN ('20240613', '20240614')")
                && sql.contains("IN ('us-east-1')"),
            "{sql}"
        );
        let mut want: BTreeMap<i64, i64> = BTreeMap::new();
        let hour = 3_600_000;
        let first = t(FROM).timestamp_millis() / hour * hour;
        let last = t(TO).timestamp_millis() / hour * hour;
        for b in (first..=last).step_by(hour as usize) {
            want.insert(b, 0);
        }
        for r in records() {
            if in_range(r, FROM, TO) && r.account_id == account && r.region == "us-east-1" {
                *want.get_mut(&(r.start_ms / hour * hour)).unwrap() += 1;
            }
        }
        assert!(want.values().sum::<i64>() > 0);
        assert_eq!(frame.fields.len(), 2, "v{version}");
        let time = &frame.fields[0];
        assert_eq!(time.type_name, "time");
        let flows = &frame.fields[1];
        assert_eq!(flows.name, "flows");
        assert_eq!(
            flows.labels,
            BTreeMap::from([("region".to_string(), "us-east-1".to_string())])
        );
        let got: BTreeMap<i64, i64> = time
            .values
            .iter()
            .zip(&flows.values)
            .map(|(time, v)| (ms(time), v.as_f64().unwrap() as i64))
            .collect();
        assert_eq!(got, want, "v{version}");
    }
    p.stop().await;
}

#[tokio::test]
async fn table_rows_and_the_unpruned_warning() {
    let p = plugin().await;
    for version in ["1", "2"] {
        // Pruned: per-region byte totals over a range with edge days.
        let frame = ask(
            &p,
            version,
            json!({"kind": "sql", "rawSql": "SELECT region, count(*) AS flows, min(time) AS time FROM $__table WHERE $__partitionFilter GROUP BY region ORDER BY region"}),
            FROM,
            TO,
        )
        .await;
        assert!(notices(&frame).is_empty(), "{:?}", notices(&frame));
        assert_eq!(
            frame.fields[2].type_name, "time",
            "an integer time column is a time field"
        );
        let mut want: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for r in records().iter().filter(|r| in_range(r, FROM, TO)) {
            let e = want.entry(r.region.clone()).or_insert((0, i64::MAX));
            e.0 += 1;
            e.1 = e.1.min(r.start_ms);
        }
        let got: BTreeMap<String, (i64, i64)> = rows(&frame)
            .into_iter()
            .map(|row| {
                (
                    row["region"].as_str().unwrap().to_string(),
                    (row["flows"].as_f64().unwrap() as i64, ms(&row["time"])),
                )
            })
            .collect();
        assert_eq!(got, want, "v{version}");
        assert_eq!(frame.meta["custom"]["partitionPruned"], true);

        // Unpruned: same count through $__timeFilter alone, with a warning.
        let frame = ask(
            &p,
            version,
            json!({"kind": "sql", "rawSql": "SELECT count(*) AS flows FROM $__table(vpc_flow) WHERE $__timeFilter(time)"}),
            FROM,
            TO,
        )
        .await;
        assert_eq!(
            notices(&frame),
            vec!["warning: This query reads a Security Lake table without a partition predicate, so every day of every account and region is scanned (Athena bills by the byte). Add `AND $__partitionFilter` to its WHERE clause (or a condition on eventday).".to_string()]
        );
        let total: i64 = want.values().map(|v| v.0).sum();
        assert_eq!(
            rows(&frame)[0]["flows"].as_f64(),
            Some(total as f64),
            "v{version}"
        );
        assert_eq!(frame.meta["custom"]["partitionPruned"], false);
    }
    p.stop().await;
}

#[tokio::test]
async fn bad_sql_fails_that_query_alone_with_a_clear_message() {
    let p = plugin().await;
    let sql = |ref_id: &str, raw: &str, vars: Value| {
        query(
            ref_id,
            json!({"kind": "sql", "rawSql": raw, "variables": vars}),
            FROM,
            TO,
            60_000,
        )
    };
    let answer = p
        .query(
            &settings("2"),
            &[
                sql(
                    "A",
                    "SELECT count(*) AS n FROM $__table WHERE $__partitionFilter",
                    json!({}),
                ),
                sql(
                    "B",
                    "SELECT 1 FROM $__table WHERE region IN ($region)",
                    json!({"region": "us-east-1' OR '1'='1"}),
                ),
                sql("C", "SELECT $__timeGroup(time_dt, 5 minutes)", json!({})),
                sql(
                    "D",
                    "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
                    json!({}),
                ),
                sql("E", "SELECT 1; SELECT * FROM x", json!({})),
                sql(
                    "F",
                    "SELECT no_such_column FROM $__table WHERE $__partitionFilter",
                    json!({}),
                ),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(answer["A"].error, "");
    let expect = [
        ("B", "query field `variables.region` has the value \"us-east-1' OR '1'='1\": an AWS region looks like us-east-1"),
        ("C", "macro `$__timeGroup` has a bad argument `5 minutes`: expected an interval of whole seconds from 1s to 366d such as 30s, 5m, 1h, 1d or 1w, or $__interval"),
        ("D", "only a SELECT (or WITH … SELECT) statement can run here; the SQL starts with `CREATE`"),
        ("E", "the SQL holds more than one statement (text follows a `;`); run one SELECT statement per query"),
    ];
    for (ref_id, message) in expect {
        assert_eq!(answer[ref_id].error, message, "{ref_id}");
        assert_eq!(answer[ref_id].status, 400, "{ref_id}");
    }
    assert!(
        answer["F"].error.starts_with(
            "the local engine failed the query: Schema error: No field named no_such_column"
        ),
        "{}",
        answer["F"].error
    );
    assert_eq!(
        answer["F"].status, 400,
        "the user's SQL is the user's to fix"
    );
    p.stop().await;
}

#[tokio::test]
async fn variable_queries_list_values_seen_in_the_range() {
    let p = plugin().await;
    let account = first_account();
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "variable", "values": "vpcs", "filters": {"accounts": [account]}}),
            FROM,
            TO,
        )
        .await;
        let mut want: BTreeMap<String, i64> = BTreeMap::new();
        for r in records() {
            if in_range(r, FROM, TO) && r.account_id == account {
                *want.entry(r.vpc_id.clone()).or_default() += 1;
            }
        }
        let got: BTreeMap<String, i64> = rows(&frame)
            .into_iter()
            .map(|row| {
                (
                    row["value"].as_str().unwrap().to_string(),
                    row["records"].as_f64().unwrap() as i64,
                )
            })
            .collect();
        assert_eq!(got, want, "v{version}");
        assert_eq!(frame.fields[0].name, "value");

        let frame = ask(
            &p,
            version,
            json!({"kind": "variable", "values": "controls"}),
            "2024-06-01T00:00:00Z",
            "2024-06-15T12:00:00Z",
        )
        .await;
        let controls: Vec<String> = rows(&frame)
            .into_iter()
            .map(|row| row["value"].as_str().unwrap().to_string())
            .collect();
        assert!(
            controls.contains(&"EC2.6".to_string()),
            "v{version} {controls:?}"
        );
        let mut sorted = controls.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(controls, sorted, "distinct and ordered");
    }
    p.stop().await;
}

#[tokio::test]
async fn the_raw_sql_setting_bounds_what_sql_may_read() {
    let p = plugin().await;
    let (from, to) = ("2024-06-15T00:00:00Z", "2024-06-15T01:00:00Z");
    let ask_with = |reach: Option<&'static str>, sql: &'static str| {
        let mut s = settings("2");
        if let Some(r) = reach {
            s["rawSql"] = json!(r);
        }
        let p = &p;
        async move {
            let answer = p
                .query(
                    &s,
                    &[query(
                        "A",
                        json!({"kind": "sql", "rawSql": sql}),
                        from,
                        to,
                        60_000,
                    )],
                    &[],
                )
                .await
                .unwrap();
            answer["A"].error.clone()
        }
    };
    let lake = "SELECT count(*) AS n FROM $__table WHERE $__partitionFilter";
    let other =
        "SELECT count(*) AS n FROM (SELECT 1 AS x) a JOIN some_db.some_table b ON a.x = b.x";
    // Default (securityLake): the lake and computed rows, nothing else.
    assert_eq!(ask_with(None, lake).await, "");
    assert_eq!(
        ask_with(None, "SELECT value FROM generate_series(1, 3)").await,
        ""
    );
    assert_eq!(
        ask_with(None, other).await,
        "the SQL reads some_db.some_table, which this datasource does not allow (setting `rawSql` is `securityLake`: only the Security Lake tables of amazon_security_lake_glue_db_us_east_1); read the lake through $__table, or ask an admin to set `rawSql` to `any`"
    );
    // any: the check is off (the local engine then says the table does not exist).
    let error = ask_with(Some("any"), other).await;
    assert!(
        error.starts_with("the local engine failed the query"),
        "{error}"
    );
    assert!(error.contains("some_db.some_table"), "{error}");
    // off: no SQL at all, however harmless.
    assert_eq!(
        ask_with(Some("off"), "SELECT 1 AS one").await,
        "this datasource does not run SQL written in a panel (setting `rawSql` is `off`); use one of the query kinds (docs/queries.md), or ask an admin to set `rawSql` to `securityLake`"
    );
    assert_eq!(
        ask_with(Some("everything"), "SELECT 1 AS one").await,
        "datasource setting `rawSql` has the value \"everything\": expected off, securityLake or any"
    );
}

#[tokio::test]
async fn sql_written_for_athena_runs_on_the_local_lake() {
    // Athena lowercases unquoted names and its partition columns are accountid and eventday; the
    // local lake answers to the same names, so one SQL text runs on both engines.
    let p = plugin().await;
    let (from, to) = ("2024-06-14T00:00:00Z", "2024-06-14T06:00:00Z");
    let account = first_account();
    let sql = format!(
        "SELECT accountid, eventday, count(*) AS flows FROM $__table \
         WHERE eventday = '20240614' AND accountId = '{account}' AND $__timeFilter(time) GROUP BY 1, 2"
    );
    let want = records()
        .iter()
        .filter(|r| r.account_id == account && in_range(r, from, to))
        .count() as i64;
    for version in ["1", "2"] {
        let frame = ask(&p, version, json!({"kind": "sql", "rawSql": sql}), from, to).await;
        let rows = rows(&frame);
        assert_eq!(rows.len(), 1, "v{version}");
        assert_eq!(rows[0]["accountid"], json!(account), "v{version}");
        assert_eq!(rows[0]["eventday"], json!("20240614"), "v{version}");
        assert_eq!(rows[0]["flows"], json!(want), "v{version}");
    }
}
