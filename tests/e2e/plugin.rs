//! End-to-end: the real `gpx_lakewatch` binary, launched as Grafana launches it, answers
//! QueryData and CheckHealth over gRPC; every value is checked against a brute-force computation
//! over the generated records.

use std::collections::BTreeMap;

use crate::common::{self, lake, plugin, query, records, settings, t, without_ms};
use lakewatch::demo::{FlowAction, FlowDirection, FlowRecord};
use lakewatch::frame::DecodedFrame;
use serde_json::{json, Value};

type Series = BTreeMap<Vec<String>, BTreeMap<i64, i64>>;

/// Brute force: sum `measure` per (labels, bucket) over records in `[from, to]` that `keep`.
fn brute(
    from: &str,
    to: &str,
    width: i64,
    labels: impl Fn(&FlowRecord) -> Vec<String>,
    keep: impl Fn(&FlowRecord) -> bool,
    measure: impl Fn(&FlowRecord) -> i64,
) -> Series {
    // Whole buckets: the first bucket counts from its own start.
    let from = t(from).timestamp_millis().div_euclid(width) * width;
    let to = t(to).timestamp_millis();
    let mut out = Series::new();
    for r in records() {
        if r.start_ms < from || r.start_ms > to || !keep(r) {
            continue;
        }
        *out.entry(labels(r))
            .or_default()
            .entry(r.start_ms.div_euclid(width) * width)
            .or_default() += measure(r);
    }
    out
}

/// The frame's series as (labels in `dims` order) → bucket → value; checks the time axis.
fn frame_series(frame: &DecodedFrame, dims: &[&str], from: &str, to: &str, width: i64) -> Series {
    let time = &frame.fields[0];
    assert_eq!(time.type_name, "time");
    let first = t(from).timestamp_millis().div_euclid(width) * width;
    let last = t(to).timestamp_millis().div_euclid(width) * width;
    let times: Vec<i64> = time
        .values
        .iter()
        .map(|v| t(v.as_str().unwrap()).timestamp_millis())
        .collect();
    assert_eq!(times.first(), Some(&first));
    assert_eq!(times.last(), Some(&last));
    assert_eq!(times.len() as i64, (last - first) / width + 1);
    let mut out = Series::new();
    for f in &frame.fields[1..] {
        assert_eq!(f.type_name, "number", "values stay numbers");
        let key: Vec<String> = dims.iter().map(|d| f.labels[*d].clone()).collect();
        assert_eq!(f.labels.len(), dims.len(), "labels arrive: {:?}", f.labels);
        let points = out.entry(key).or_default();
        for (t, v) in times.iter().zip(&f.values) {
            let v = v.as_i64().unwrap();
            if v != 0 {
                points.insert(*t, v);
            }
        }
    }
    out.retain(|_, p| !p.is_empty());
    out
}

fn action(r: &FlowRecord) -> String {
    match r.action {
        FlowAction::Accept => "ACCEPT".into(),
        FlowAction::Reject => "REJECT".into(),
    }
}

#[tokio::test]
async fn flow_volume_matches_brute_force_on_both_source_versions() {
    let p = plugin().await;
    assert!(p.handshake.starts_with("1|2|tcp|127.0.0.1:") && p.handshake.ends_with("|grpc"));
    let (from, to) = ("2024-06-10T05:17:00Z", "2024-06-12T18:42:00Z");
    let hour = 3_600_000;
    for version in ["1", "2"] {
        // Bytes by account: every value of every series and bucket.
        let q = query(
            "A",
            json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"]}),
            from,
            to,
            hour,
        );
        let answer = p.query(&settings(version), &[q], &[]).await.unwrap();
        let a = &answer["A"];
        assert_eq!(a.error, "", "v{version}");
        let frame = &a.frames[0];
        assert_eq!(frame.meta["type"], "timeseries-wide");
        assert!(frame.meta["executedQueryString"]
            .as_str()
            .unwrap()
            .contains("SUM("));
        let want = brute(
            from,
            to,
            hour,
            |r| vec![r.account_id.clone()],
            |_| true,
            |r| r.bytes,
        );
        assert_eq!(want.len(), 2);
        assert_eq!(
            frame_series(frame, &["account"], from, to, hour),
            want,
            "v{version}"
        );
        // With the cache on, the closed days run as day slices: the same series.
        let mut cached = settings(version);
        cached["cacheTtlSeconds"] = json!(300);
        let q = query(
            "A",
            json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"]}),
            from,
            to,
            hour,
        );
        let answer = p.query(&cached, &[q], &[]).await.unwrap();
        let sliced = &answer["A"].frames[0];
        assert_eq!(
            sliced.meta["custom"]["daySlices"],
            json!({"slices": 3, "reused": 0, "closed": 3}),
            "v{version}"
        );
        assert_eq!(
            frame_series(sliced, &["account"], from, to, hour),
            want,
            "v{version} in day slices"
        );

        // Packets by VPC and action, filtered to egress on 443.
        let q = query(
            "B",
            json!({"kind": "flow_volume", "measure": "packets", "group_by": ["vpc", "action"],
                   "filters": {"direction": "egress", "dst_ports": [443]}}),
            from,
            to,
            hour,
        );
        let answer = p.query(&settings(version), &[q], &[]).await.unwrap();
        let b = &answer["B"];
        assert_eq!(b.error, "", "v{version}");
        let want = brute(
            from,
            to,
            hour,
            |r| vec![r.vpc_id.clone(), action(r)],
            |r| r.direction == FlowDirection::Egress && r.dst_port == Some(443),
            |r| r.packets,
        );
        assert!(!want.is_empty());
        assert_eq!(
            frame_series(&b.frames[0], &["vpc", "action"], from, to, hour),
            want,
            "v{version}"
        );

        // Flows by protocol for one account and region, in 15-minute buckets.
        let acct = records()[0].account_id.clone();
        let q = query(
            "C",
            json!({"kind": "flow_volume", "measure": "flows", "group_by": ["protocol"],
                   "filters": {"accounts": [acct.clone()], "regions": ["eu-west-1"]}}),
            from,
            to,
            900_000,
        );
        let answer = p.query(&settings(version), &[q], &[]).await.unwrap();
        let c = &answer["C"];
        assert_eq!(c.error, "", "v{version}");
        let want = brute(
            from,
            to,
            900_000,
            |r| {
                vec![match r.protocol {
                    6 => "TCP".to_string(),
                    17 => "UDP".to_string(),
                    1 => "ICMP".to_string(),
                    n => n.to_string(),
                }]
            },
            |r| r.account_id == acct && r.region == "eu-west-1",
            |_| 1,
        );
        assert_eq!(
            frame_series(&c.frames[0], &["protocol"], from, to, 900_000),
            want,
            "v{version}"
        );
    }
    p.stop().await;
}

#[tokio::test]
async fn top_n_folds_the_rest_into_other() {
    let p = plugin().await;
    let (from, to) = ("2024-06-11T00:00:00Z", "2024-06-11T23:59:59.999Z");
    let q = query(
        "A",
        json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["src_ip"], "limit": 3}),
        from,
        to,
        3_600_000,
    );
    let answer = p.query(&settings("2"), &[q], &[]).await.unwrap();
    let frame = &answer["A"].frames[0];
    let all = brute(
        from,
        to,
        3_600_000,
        |r| vec![r.src_addr.clone().unwrap_or_default()],
        |_| true,
        |r| r.bytes,
    );
    let mut totals: Vec<(i64, String)> = all
        .iter()
        .map(|(k, v)| (v.values().sum::<i64>(), k[0].clone()))
        .collect();
    totals.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut want: Vec<String> = totals.iter().take(3).map(|x| x.1.clone()).collect();
    want.sort();
    want.push("other".into());
    let got: Vec<String> = frame.fields[1..]
        .iter()
        .map(|f| f.labels["src_ip"].clone())
        .collect();
    assert_eq!(got, want);
    let other_total: i64 = totals.iter().skip(3).map(|x| x.0).sum();
    let got_other: i64 = frame
        .fields
        .last()
        .unwrap()
        .values
        .iter()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(got_other, other_total);
    assert_eq!(
        frame.meta["notices"][0]["text"],
        format!(
            "{} of {} series are folded into \"other\" (top 3 series shown).",
            totals.len() - 3,
            totals.len()
        )
    );
    p.stop().await;
}

#[tokio::test]
async fn a_bad_query_fails_alone_with_a_message_naming_field_and_value() {
    let p = plugin().await;
    let (from, to) = ("2024-06-11T00:00:00Z", "2024-06-11T06:00:00Z");
    let good = query(
        "A",
        json!({"kind": "flow_volume", "measure": "flows"}),
        from,
        to,
        0,
    );
    let unknown_kind = query("B", json!({"kind": "flow_sum"}), from, to, 0);
    let bad_dim = query(
        "C",
        json!({"kind": "flow_volume", "group_by": ["account", "colour"]}),
        from,
        to,
        0,
    );
    let reversed = query("D", json!({"kind": "flow_volume"}), to, from, 0);
    let mut malformed = query("E", json!({}), from, to, 0);
    malformed.json = br#"{"kind": "flow_volume", "measure": "#.to_vec();
    let bad_value = query(
        "F",
        json!({"filters": {"accounts": ["1111'; DROP TABLE x; --"]}}),
        from,
        to,
        0,
    );
    let answer = p
        .query(
            &settings("2"),
            &[good, unknown_kind, bad_dim, reversed, malformed, bad_value],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(answer["A"].error, "");
    assert_eq!(answer["A"].status, 200);
    assert!(!answer["A"].frames[0].fields.is_empty());
    // The list of kinds is the registry's: a new kind joins it without editing this test.
    let unknown_kind = format!(
        "query field `kind` has the value \"flow_sum\": unknown query kind; supported kinds: {}",
        lakewatch::query::kinds::names()
    );
    let expect = [
        ("B", unknown_kind.as_str()),
        ("C", "query field `group_by[1]` has the value \"colour\": unknown dimension; expected one of account, region, vpc, subnet, eni, src_ip, dst_ip, dst_port, protocol, action, direction, boundary, src_aws_service, dst_aws_service"),
        ("D", "query field `timeRange` has the value 2024-06-11T06:00:00+00:00 .. 2024-06-11T00:00:00+00:00: the start is after the end; pick a range whose start comes first"),
        ("F", "query field `filters.accounts[0]` has the value \"1111'; DROP TABLE x; --\": an AWS account id is 12 digits, e.g. 111122223333"),
    ];
    for (ref_id, message) in expect {
        assert_eq!(answer[ref_id].error, message, "{ref_id}");
        assert_eq!(answer[ref_id].status, 400, "{ref_id}");
        assert!(answer[ref_id].frames.is_empty());
    }
    assert!(
        answer["E"].error.starts_with(
            "query field `(query JSON)` has the value {\"kind\": \"flow_volume\", \"measure\": : it is not valid JSON (EOF while parsing a value"
        ),
        "{}",
        answer["E"].error
    );
    p.stop().await;
}

fn custom(frame: &DecodedFrame) -> &Value {
    &frame.meta["custom"]
}

/// The flow files of the given days in every account and region of the fixture lake.
fn day_files(version: &str, days: &[&str]) -> usize {
    let cfg = common::config();
    let mut files = 0;
    for account in cfg.account_ids() {
        for region in &cfg.regions {
            for day in days {
                files += common::parquet_files(&format!(
                    "aws/VPC_FLOW/{version}.0/region={region}/accountId={account}/eventDay={day}"
                ));
            }
        }
    }
    files
}

#[tokio::test]
async fn a_one_day_panel_reads_exactly_that_days_files() {
    let p = plugin().await;
    let acct = records()[0].account_id.clone();
    for version in ["1", "2"] {
        // One UTC day, one account, one region: that partition's files (a messy partition has
        // several), nothing else.
        let q = query(
            "A",
            json!({"kind": "flow_volume", "filters": {"accounts": [acct.clone()], "regions": ["us-east-1"]}}),
            "2024-06-11T00:00:00Z",
            "2024-06-11T23:59:59.999Z",
            0,
        );
        let answer = p.query(&settings(version), &[q], &[]).await.unwrap();
        let c = custom(&answer["A"].frames[0]);
        let folder =
            format!("aws/VPC_FLOW/{version}.0/region=us-east-1/accountId={acct}/eventDay=20240611");
        let files = common::parquet_files(&folder);
        assert!(files > 1, "{folder}");
        assert_eq!(c["filesRead"], files, "v{version}: {c}");
        assert_eq!(
            c["partitions"],
            json!([format!(
                "region=us-east-1/accountId={acct}/eventDay=20240611"
            )])
        );
        assert!(c["bytesRead"].as_u64().unwrap() > 0);
        assert!(c["bytesRead"].as_u64().unwrap() <= c["fileBytes"].as_u64().unwrap());

        // The same day for every account and region: the files of 2 x 2 partitions.
        let q = query(
            "A",
            json!({"kind": "flow_volume"}),
            "2024-06-11T00:00:00Z",
            "2024-06-11T23:59:59.999Z",
            0,
        );
        let answer = p.query(&settings(version), &[q], &[]).await.unwrap();
        assert_eq!(
            custom(&answer["A"].frames[0])["filesRead"],
            day_files(version, &["20240611"]),
            "v{version}"
        );

        // Two hours across midnight touch both days' partitions.
        let q = query(
            "A",
            json!({"kind": "flow_volume"}),
            "2024-06-11T23:00:00Z",
            "2024-06-12T01:00:00Z",
            0,
        );
        let answer = p.query(&settings(version), &[q], &[]).await.unwrap();
        assert_eq!(
            custom(&answer["A"].frames[0])["filesRead"],
            day_files(version, &["20240611", "20240612"]),
            "v{version}"
        );
    }
    // The whole lake, for comparison: 15 touched days x 4.
    let q = query(
        "A",
        json!({"kind": "flow_volume"}),
        "2024-06-01T12:00:00Z",
        "2024-06-15T12:00:00Z",
        0,
    );
    let answer = p.query(&settings("2"), &[q], &[]).await.unwrap();
    assert_eq!(
        custom(&answer["A"].frames[0])["filesRead"],
        common::parquet_files("aws/VPC_FLOW/2.0")
    );
    p.stop().await;
}

#[tokio::test]
async fn check_health_says_what_to_do() {
    let p = plugin().await;
    let (status, message) = p.check_health(&settings("2")).await.unwrap();
    assert_eq!(status, 1, "{message}");
    assert_eq!(
        without_ms(&message),
        format!(
            "Lakewatch is ready: local lake {}: CLOUD_TRAIL_MGMT 1.0 ({} files), CLOUD_TRAIL_MGMT 2.0 ({} files), LAMBDA_EXECUTION 1.0 ({} files), LAMBDA_EXECUTION 2.0 ({} files), ROUTE53 1.0 ({} files), ROUTE53 2.0 ({} files), S3_DATA 1.0 ({} files), S3_DATA 2.0 ({} files), SH_FINDINGS 1.0 (60 files), SH_FINDINGS 2.0 (60 files), VPC_FLOW 1.0 ({} files), VPC_FLOW 2.0 ({} files), WAF 2.0 ({} files); a one-row flow search over the last hour took N ms; source version 2, tables in us-east-1",
            lake().display(),
            common::parquet_files("aws/CLOUD_TRAIL_MGMT/1.0"),
            common::parquet_files("aws/CLOUD_TRAIL_MGMT/2.0"),
            common::parquet_files("aws/LAMBDA_EXECUTION/1.0"),
            common::parquet_files("aws/LAMBDA_EXECUTION/2.0"),
            common::parquet_files("aws/ROUTE53/1.0"),
            common::parquet_files("aws/ROUTE53/2.0"),
            common::parquet_files("aws/S3_DATA/1.0"),
            common::parquet_files("aws/S3_DATA/2.0"),
            common::parquet_files("aws/VPC_FLOW/1.0"),
            common::parquet_files("aws/VPC_FLOW/2.0"),
            common::parquet_files("aws/WAF/2.0"),
        )
    );
    let (status, message) = p
        .check_health(&json!({"lakePath": "/nonexistent/lake"}))
        .await
        .unwrap();
    assert_eq!(status, 2);
    assert_eq!(
        message,
        "the local lake folder /nonexistent/lake does not exist; generate it with `lakewatch demo-lake --out /nonexistent/lake` or set the datasource's lake path"
    );
    let (status, message) = p
        .check_health(&json!({"sourceVersion": "3"}))
        .await
        .unwrap();
    assert_eq!(status, 2);
    assert_eq!(
        message,
        "datasource setting `sourceVersion` has the value \"3\": expected 1 or 2"
    );
    p.stop().await;
}

#[tokio::test]
async fn every_shipped_dashboard_panel_answers_with_data() {
    let p = plugin().await;
    for target in lakewatch::dashboards::panel_targets().unwrap() {
        let q = lakewatch::grafana_host::HostQuery {
            ref_id: target.ref_id.clone(),
            json: serde_json::to_vec(&target.query).unwrap(),
            from_ms: t("2024-06-14T12:00:00Z").timestamp_millis(),
            to_ms: t("2024-06-15T12:00:00Z").timestamp_millis(),
            interval_ms: 60_000,
            max_data_points: 500,
        };
        let answer = p
            .query(&settings("2"), &[q], &[("FromAlert", "true")])
            .await
            .unwrap();
        let r = &answer[&target.ref_id];
        assert_eq!(r.error, "", "{}", target.panel);
        let frame = &r.frames[0];
        if frame.meta["preferredVisualisationType"] == "table" {
            assert!(
                !frame.fields[0].values.is_empty(),
                "table panel {:?} is empty",
                target.panel
            );
        } else {
            let total: f64 = frame.fields[1..]
                .iter()
                .flat_map(|f| f.values.iter().filter_map(Value::as_f64))
                .sum();
            assert!(total > 0.0, "panel {:?} is empty", target.panel);
        }
    }
    p.stop().await;
}

/// Alert rules send `FromAlert: true`: the same pruned SQL runs, and the frames are wide numeric
/// time series whose value fields carry their labels (next to their config) for Grafana's
/// alerting to evaluate per series.
#[tokio::test]
async fn alert_rule_queries_run_the_same_pruned_sql_as_wide_labelled_series() {
    let p = plugin().await;
    let (from, to) = ("2024-06-14T12:00:00Z", "2024-06-15T12:00:00Z");
    let cases = [
        (
            json!({"kind": "coverage", "format": "series", "filters": {"accounts": ["$__all"]}}),
            vec!["account", "region", "vpc"],
            "minutes_since",
        ),
        (
            json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account", "region"]}),
            vec!["account", "region"],
            "bytes",
        ),
    ];
    for version in ["1", "2"] {
        for (q, labels, value) in &cases {
            let ask = |headers: &'static [(&'static str, &'static str)]| {
                let p = &p;
                let q = q.clone();
                async move {
                    let answer = p
                        .query(
                            &settings(version),
                            &[query("A", q, from, to, 60_000)],
                            headers,
                        )
                        .await
                        .unwrap();
                    assert_eq!(answer["A"].error, "");
                    answer["A"].frames.clone()
                }
            };
            let plain = ask(&[]).await;
            let alert = ask(&[("FromAlert", "true")]).await;
            assert_eq!(alert.len(), 1, "v{version} {q}: one wide frame");
            let sql = alert[0].meta["executedQueryString"].as_str().unwrap();
            assert_eq!(
                sql,
                plain[0].meta["executedQueryString"].as_str().unwrap(),
                "v{version} {q}"
            );
            assert!(sql.contains("\"eventday\" IN ('"), "pruned: {sql}");
            let frame = &alert[0];
            assert_eq!(frame.meta["type"], "timeseries-wide", "v{version} {q}");
            assert_eq!(frame.fields[0].type_name, "time");
            let values = &frame.fields[1..];
            assert!(values.len() > 1, "v{version} {q}: several series");
            let mut seen = std::collections::BTreeSet::new();
            for f in values {
                assert_eq!(f.name, *value);
                assert_eq!(f.type_name, "number", "{f:?}");
                assert!(f.config.is_some(), "{f:?}");
                let keys: Vec<&str> = f.labels.keys().map(String::as_str).collect();
                let mut want = labels.clone();
                want.sort_unstable();
                assert_eq!(keys, want, "v{version} {q}: labels arrive with the config");
                assert!(f.labels.values().all(|v| !v.is_empty()));
                assert!(seen.insert(f.labels.clone()), "distinct labels per series");
                assert!(f.values.iter().all(|v| v.is_number()), "{f:?}");
            }
        }
    }
    p.stop().await;
}

/// Every annotation query of the shipped dashboards runs through the plugin over the
/// dashboard's default time range (ending where the fixture lake ends) and marks something.
#[tokio::test]
async fn every_shipped_dashboard_annotation_query_answers_with_annotations() {
    let p = plugin().await;
    let end = t("2024-06-15T12:00:00Z");
    let targets = lakewatch::dashboards::annotation_targets().unwrap();
    assert_eq!(targets.len(), 6);
    for target in targets {
        let from = lakewatch::dashboards::parse_time(&target.time.0, end).unwrap();
        let to = lakewatch::dashboards::parse_time(&target.time.1, end).unwrap();
        for version in ["1", "2"] {
            let q = lakewatch::grafana_host::HostQuery {
                ref_id: target.ref_id.clone(),
                json: serde_json::to_vec(&target.query).unwrap(),
                from_ms: from.timestamp_millis(),
                to_ms: to.timestamp_millis(),
                interval_ms: 60_000,
                max_data_points: 500,
            };
            let answer = p.query(&settings(version), &[q], &[]).await.unwrap();
            let r = &answer[&target.ref_id];
            assert_eq!(r.error, "", "{} / {}", target.dashboard, target.panel);
            let frame = &r.frames[0];
            let names: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(names[..4], ["time", "timeEnd", "text", "tags"]);
            let rows = frame.fields[0].values.len();
            eprintln!(
                "{} / {} (v{version}, {} .. {}): {rows} annotations",
                target.dashboard, target.panel, target.time.0, target.time.1
            );
            assert!(
                rows > 0,
                "{} / {} marks nothing",
                target.dashboard,
                target.panel
            );
        }
    }
    p.stop().await;
}

#[tokio::test]
async fn a_series_cut_by_the_row_cap_keeps_its_newest_buckets_whole() {
    let p = plugin().await;
    let (from, to) = ("2024-06-14T00:00:00Z", "2024-06-14T23:59:59Z");
    let hour = 3_600_000;
    let q = json!({"kind": "flow_volume", "measure": "flows", "group_by": ["account", "src_ip"]});
    let want = brute(
        from,
        to,
        hour,
        |r| vec![r.account_id.clone(), r.src_addr.clone().unwrap_or_default()],
        |_| true,
        |_| 1,
    );
    let rows: usize = want.values().map(BTreeMap::len).sum();
    for version in ["1", "2"] {
        let mut s = settings(version);
        s["maxRows"] = json!(rows / 3);
        // Only the row cap is under test: every series of the range fits the series cap.
        s["maxSeries"] = json!(1000);
        let answer = p
            .query(&s, &[query("A", q.clone(), from, to, hour)], &[])
            .await
            .unwrap();
        let frame = &answer["A"].frames[0];
        let notice = frame.meta["notices"][0]["text"].as_str().unwrap();
        let complete = notice
            .split_once("the graph is complete from ")
            .and_then(|(_, rest)| rest.split_once(" UTC on"))
            .map(|(t, _)| {
                chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M")
                    .unwrap()
                    .and_utc()
                    .timestamp_millis()
            })
            .unwrap_or_else(|| panic!("v{version}: {notice}"));
        assert!(
            complete > t(from).timestamp_millis(),
            "v{version}: something was cut"
        );
        let times: Vec<i64> = frame.fields[0]
            .values
            .iter()
            .map(|v| t(v.as_str().unwrap()).timestamp_millis())
            .collect();
        let mut checked = 0;
        for f in &frame.fields[1..] {
            let key = vec![f.labels["account"].clone(), f.labels["src_ip"].clone()];
            for (at, v) in times.iter().zip(&f.values) {
                if *at < complete {
                    assert_eq!(
                        v,
                        &Value::Null,
                        "v{version}: cut bucket {at} is empty, not 0"
                    );
                } else {
                    let expected = want.get(&key).and_then(|p| p.get(at)).copied().unwrap_or(0);
                    assert_eq!(v.as_i64(), Some(expected), "v{version} {key:?} at {at}");
                    checked += 1;
                }
            }
        }
        // The newest hours are all there: every series of the last hour, as brute force says.
        let last = *times.last().unwrap();
        let newest: i64 = want.values().filter_map(|p| p.get(&last)).sum();
        let got: i64 = frame.fields[1..]
            .iter()
            .map(|f| f.values.last().unwrap().as_i64().unwrap())
            .sum();
        assert_eq!(got, newest, "v{version}");
        assert!(checked > 0);
    }
}
