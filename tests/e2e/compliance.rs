//! End-to-end: the compliance kinds through the real plugin binary on both source versions, each
//! result checked against a brute-force computation over the generated Security Hub findings.

use crate::common;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use crate::common::{ask, plugin, query, rows, settings, t};
use lakewatch::demo::{self, FindingRecord, CENTRAL_BUCKET_RULE};
use lakewatch::frame::{bucket_instant, bucket_starts, pass_rate, DecodedFrame};
use serde_json::{json, Value};

fn findings() -> &'static [FindingRecord] {
    static ALL: OnceLock<Vec<FindingRecord>> = OnceLock::new();
    ALL.get_or_init(|| demo::all_findings(&common::config()))
}

fn ms(s: &str) -> i64 {
    t(s).timestamp_millis()
}

fn state(f: &FindingRecord) -> &str {
    if f.record_state == "ARCHIVED" {
        "ARCHIVED"
    } else {
        f.status
    }
}

/// The rows of each finding in `[from, to]` for the controls, oldest first.
fn histories(
    from: i64,
    to: i64,
    controls: &[&str],
) -> BTreeMap<String, Vec<&'static FindingRecord>> {
    let mut out: BTreeMap<String, Vec<&FindingRecord>> = BTreeMap::new();
    for f in findings() {
        if (from..=to).contains(&f.time_ms) && controls.contains(&f.control_name()) {
            out.entry(f.finding_uid.clone()).or_default().push(f);
        }
    }
    for rows in out.values_mut() {
        rows.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then(state(a).cmp(state(b))));
    }
    out
}

/// One row of the status table, as compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct StatusRow {
    status: String,
    account: String,
    region: String,
    control: String,
    resource: String,
    finding: String,
    since: i64,
    updated: i64,
    arn: String,
}

/// Brute force: the newest row of each finding updated within `days` before `to`, archived ones
/// left out, with the time its state began; sorted as the query sorts.
fn brute_status(to: &str, days: i64, controls: &[&str], statuses: &[&str]) -> Vec<StatusRow> {
    let to = ms(to);
    let mut out = Vec::new();
    for (uid, rows) in histories(to - days * 86_400_000, to, controls) {
        let newest = rows[rows.len() - 1];
        let mut since = rows[0].time_ms;
        for pair in rows.windows(2) {
            if state(pair[0]) != state(pair[1]) {
                since = pair[1].time_ms;
            }
        }
        if state(newest) == "ARCHIVED"
            || (!statuses.is_empty() && !statuses.contains(&newest.status))
        {
            continue;
        }
        out.push(StatusRow {
            status: newest.status.to_string(),
            account: newest.account_id.clone(),
            region: newest.region.clone(),
            control: newest.control_name().to_string(),
            resource: newest.vpc_id.clone(),
            finding: uid,
            since,
            updated: newest.time_ms,
            arn: newest.resource_uid.clone(),
        });
    }
    out.sort();
    out
}

fn status_rows(frame: &DecodedFrame) -> Vec<StatusRow> {
    let names: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "account",
            "region",
            "control",
            "resource",
            "status",
            "since",
            "updated",
            "resource_type",
            "resource_arn",
            "finding"
        ]
    );
    assert_eq!(frame.fields[5].type_name, "time");
    assert_eq!(frame.fields[6].type_name, "time");
    rows(frame)
        .iter()
        .map(|r| {
            let s = |c: &str| r[c].as_str().unwrap().to_string();
            assert_eq!(s("resource_type"), "AwsEc2Vpc");
            StatusRow {
                status: s("status"),
                account: s("account"),
                region: s("region"),
                control: s("control"),
                resource: s("resource"),
                finding: s("finding"),
                since: ms(&s("since")),
                updated: ms(&s("updated")),
                arn: s("resource_arn"),
            }
        })
        .collect()
}

const END: &str = "2024-06-15T12:00:00Z";
/// A quarter of the way through the fixture lake: the flapping VPC fails, the retired VPC is
/// not archived yet.
const EARLY: &str = "2024-06-05T00:00:00Z";

#[tokio::test]
async fn ec2_6_status_is_the_newest_state_of_each_vpc() {
    let p = plugin().await;
    let cfg = common::config();
    let (silent_account, silent_region, silent_vpc, _) = demo::silent_vpc(&cfg);
    let (flap_account, flap_region, flap_vpc) = demo::flapping_vpc(&cfg);
    let (_, _, retired, _) = demo::retired_vpc(&cfg);
    let (_, _, unlogged, _) = demo::unlogged_vpc(&cfg);
    for version in ["1", "2"] {
        for (to, failing) in [
            (
                END,
                vec![silent_vpc.clone(), flap_vpc.clone(), unlogged.clone()],
            ),
            (EARLY, vec![flap_vpc.clone(), retired.clone()]),
        ] {
            let frame = ask(
                &p,
                version,
                json!({"kind": "compliance_status"}),
                "2024-06-01T00:00:00Z",
                to,
            )
            .await;
            let got = status_rows(&frame);
            assert_eq!(got, brute_status(to, 7, &["EC2.6"], &[]), "v{version} {to}");
            let mut failed: Vec<String> = got
                .iter()
                .filter(|r| r.status == "FAILED")
                .map(|r| r.resource.clone())
                .collect();
            failed.sort();
            let mut want = failing.clone();
            want.sort();
            assert_eq!(failed, want, "v{version} failing VPCs at {to}");
            assert_eq!(
                frame.meta["notices"][0]["text"],
                "Latest state of each finding updated in the 7 days before the end of the time range (newest update wins, archived findings left out); set lookback_days or the lookbackDays setting to look further."
            );
        }
        // The silent VPC's failure is where the flow data says it is.
        let frame = ask(
            &p,
            version,
            json!({"kind": "compliance_status", "statuses": "FAILED",
                   "filters": {"accounts": [silent_account.clone()], "regions": silent_region.clone()}}),
            "2024-06-14T00:00:00Z",
            END,
        )
        .await;
        // In the fixture the late VPC without flow logs is in the same account and region.
        let got: Vec<(String, String)> = status_rows(&frame)
            .into_iter()
            .map(|r| (r.resource, r.arn))
            .collect();
        let mut want = vec![silent_vpc.clone(), unlogged.clone()];
        want.sort();
        let arns: Vec<String> = want
            .iter()
            .map(|v| format!("arn:aws:ec2:{silent_region}:{silent_account}:vpc/{v}"))
            .collect();
        assert_eq!(
            got,
            want.into_iter().zip(arns).collect::<Vec<_>>(),
            "v{version}"
        );
        assert_ne!(
            (flap_account.as_str(), flap_region.as_str()),
            (silent_account.as_str(), silent_region.as_str())
        );
    }
}

#[tokio::test]
async fn any_control_or_config_rule_with_status_and_vpc_filters_and_counts() {
    let p = plugin().await;
    let controls = ["EC2.6", "EC2.10", CENTRAL_BUCKET_RULE];
    let cfg = common::config();
    let (_, _, silent_vpc, _) = demo::silent_vpc(&cfg);
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "compliance_status", "controls": ["EC2.6", "EC2.10"],
                   "config_rule": CENTRAL_BUCKET_RULE, "statuses": ["failed", "NOT_AVAILABLE"],
                   "lookback_days": 3}),
            "2024-06-14T00:00:00Z",
            END,
        )
        .await;
        let want = brute_status(END, 3, &controls, &["FAILED", "NOT_AVAILABLE"]);
        assert!(want
            .iter()
            .any(|r| r.control == CENTRAL_BUCKET_RULE && r.resource == silent_vpc));
        assert_eq!(status_rows(&frame), want, "v{version}");
        // Pruned to the look-back: 4 UTC days (12th to 15th) × 2 accounts × 2 regions.
        assert_eq!(frame.meta["custom"]["partitionsRead"], 16, "v{version}");

        let frame = ask(
            &p,
            version,
            json!({"kind": "compliance_status", "controls": controls, "filters": {"vpcs": [silent_vpc.clone()]}}),
            "2024-06-14T00:00:00Z",
            END,
        )
        .await;
        let got = status_rows(&frame);
        assert_eq!(
            got.len(),
            3,
            "v{version}: one finding per control for the VPC"
        );
        assert!(got.iter().all(|r| r.resource == silent_vpc));

        let frame = ask(
            &p,
            version,
            json!({"kind": "compliance_status", "view": "counts", "controls": controls}),
            "2024-06-14T00:00:00Z",
            END,
        )
        .await;
        let all = brute_status(END, 7, &controls, &[]);
        let count = |s: &str| all.iter().filter(|r| r.status == s).count() as i64;
        let got = rows(&frame);
        assert_eq!(got.len(), 1);
        for s in ["PASSED", "FAILED", "WARNING", "NOT_AVAILABLE"] {
            assert_eq!(got[0][s], json!(count(s)), "v{version} {s}");
        }
        assert_eq!(got[0]["total"], json!(all.len() as i64));
        assert!(count("NOT_AVAILABLE") > 0 && count("FAILED") > 0 && count("PASSED") > 0);
    }
}

/// Per group (label values): (passed, failed) per bucket.
type GroupCounts = BTreeMap<Vec<String>, Vec<(i64, i64)>>;

/// Brute force: per bucket, per group, (passed, failed) of the state in force at the bucket's
/// last millisecond.
fn brute_over_time(
    from: &str,
    to: &str,
    bucket_ms: i64,
    controls: &[&str],
    group: impl Fn(&FindingRecord) -> Vec<String>,
) -> (Vec<i64>, GroupCounts) {
    let (from, to) = (ms(from), ms(to));
    let starts = bucket_starts(from, to, bucket_ms);
    let mut out = GroupCounts::new();
    for rows in histories(from - 7 * 86_400_000, to, controls).values() {
        let counts = out
            .entry(group(rows[0]))
            .or_insert_with(|| vec![(0, 0); starts.len()]);
        for (b, start) in starts.iter().enumerate() {
            let at = bucket_instant(*start, bucket_ms, to);
            match rows
                .iter()
                .rev()
                .find(|r| r.time_ms <= at)
                .map(|r| state(r))
            {
                Some("PASSED") => counts[b].0 += 1,
                Some("FAILED") => counts[b].1 += 1,
                _ => {}
            }
        }
    }
    (starts, out)
}

fn labelled(frame: &DecodedFrame, name: &str, keys: &[&str]) -> HashMap<Vec<String>, Vec<Value>> {
    frame
        .fields
        .iter()
        .filter(|f| f.name == name)
        .map(|f| {
            assert_eq!(f.type_name, "number");
            (
                keys.iter().map(|k| f.labels[*k].clone()).collect(),
                f.values.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn pass_rate_over_time_counts_the_state_in_force_per_bucket() {
    let p = plugin().await;
    let (from, to) = ("2024-06-02T00:00:00Z", "2024-06-15T12:00:00Z");
    let controls = ["EC2.6", "EC2.10"];
    for version in ["1", "2"] {
        let answer = p
            .query(
                &settings(version),
                &[lakewatch::grafana_host::HostQuery {
                    max_data_points: 60,
                    ..query(
                        "A",
                        json!({"kind": "compliance_over_time", "controls": controls,
                               "group_by": ["account", "control"]}),
                        from,
                        to,
                        60_000,
                    )
                }],
                &[],
            )
            .await
            .unwrap();
        assert_eq!(answer["A"].error, "");
        let frame = &answer["A"].frames[0];
        assert_eq!(frame.meta["type"], "timeseries-wide");
        let bucket = frame.meta["custom"]["bucketMs"].as_i64().unwrap();
        assert_eq!(bucket, 21_600_000, "13.5 days in at most 60 points: 6 h");
        let (starts, want) = brute_over_time(from, to, bucket, &controls, |r| {
            vec![r.account_id.clone(), r.control_name().to_string()]
        });
        let times: Vec<i64> = frame.fields[0]
            .values
            .iter()
            .map(|v| ms(v.as_str().unwrap()))
            .collect();
        assert_eq!(times, starts);
        let rates = labelled(frame, "pass_rate", &["account", "control"]);
        let failing = labelled(frame, "failing", &["account", "control"]);
        assert_eq!(rates.len(), want.len(), "v{version}");
        for (key, counts) in &want {
            let rate: Vec<Value> = counts
                .iter()
                .map(|(p, f)| pass_rate(*p, *f).map_or(Value::Null, |r| json!(r)))
                .collect();
            assert_eq!(rates[key], rate, "v{version} {key:?}");
            let failed: Vec<Value> = counts.iter().map(|(_, f)| json!(f)).collect();
            assert_eq!(failing[key], failed, "v{version} {key:?}");
        }
        // The flapping VPC's account shows EC2.6 failing, fixed, failing again.
        let (flap_account, _, _) = demo::flapping_vpc(&common::config());
        let series: Vec<i64> = failing[&vec![flap_account.clone(), "EC2.6".to_string()]]
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let mut runs = series.clone();
        runs.dedup();
        assert!(runs.len() >= 3, "fail, fix, regress: {runs:?}");

        // The alert rule's form: one measure, labelled fields; labels arrive with the config.
        let frame = ask(
            &p,
            version,
            json!({"kind": "compliance_over_time", "measure": "failing", "group_by": ["region"]}),
            "2024-06-15T00:00:00Z",
            to,
        )
        .await;
        let names: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["time", "failing", "failing"]);
        for f in &frame.fields[1..] {
            assert!(f.labels.contains_key("region"), "{f:?}");
            assert_eq!(f.config.as_ref().unwrap()["unit"], "short");
        }
    }
}

#[tokio::test]
async fn bad_compliance_input_is_refused_word_for_word() {
    let p = plugin().await;
    // The list of kinds is the registry's: a new kind joins it without editing this test.
    let unknown_kind = format!(
        "query field `kind` has the value \"compliance_trend\": unknown query kind; supported kinds: {}",
        lakewatch::query::kinds::names()
    );
    let cases = [
        (
            json!({"kind": "compliance_status", "controls": ["EC2.6", "EC2.6'; DROP TABLE x; --"]}),
            "query field `controls[1]` has the value \"EC2.6'; DROP TABLE x; --\": expected a control id such as EC2.6 or a Config rule name such as vpc-flow-logs-enabled (letters, digits and . _ - : /, up to 128 characters)",
        ),
        (
            json!({"kind": "compliance_status", "statuses": "BROKEN"}),
            "query field `statuses` has the value \"BROKEN\": expected PASSED, FAILED, WARNING or NOT_AVAILABLE",
        ),
        (
            json!({"kind": "compliance_status", "filters": {"ports": [22]}}),
            "query field `filters.ports` has the value [22]: compliance queries filter by accounts, regions and vpcs only; remove this filter",
        ),
        (
            json!({"kind": "compliance_over_time", "group_by": ["vpc"]}),
            "query field `group_by[0]` has the value \"vpc\": compliance series split by account, region or control",
        ),
        (
            json!({"kind": "compliance_status", "view": "pie"}),
            "query field `view` has the value \"pie\": expected table or counts",
        ),
        (
            json!({"kind": "compliance_trend"}),
            unknown_kind.as_str(),
        ),
    ];
    let queries: Vec<_> = cases
        .iter()
        .enumerate()
        .map(|(i, (q, _))| {
            query(
                &format!("Q{i}"),
                q.clone(),
                "2024-06-14T00:00:00Z",
                END,
                60_000,
            )
        })
        .collect();
    let answer = p.query(&settings("2"), &queries, &[]).await.unwrap();
    for (i, (_, message)) in cases.iter().enumerate() {
        assert_eq!(answer[&format!("Q{i}")].error, *message);
    }
}
