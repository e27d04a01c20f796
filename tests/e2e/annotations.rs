//! End-to-end: the `annotations` kind through the real plugin binary on both source versions —
//! compliance status changes checked against a brute-force walk over the generated findings,
//! flow-log silences against a brute-force walk over the generated flow records, IAM changes,
//! sign-ins and new findings against the generated events — and its errors word for word.

use crate::common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::common::{ask, plugin, query, records, rows, settings, t};
use lakewatch::demo::{self, FindingRecord, FlowRecord, CENTRAL_BUCKET_RULE};
use lakewatch::frame::{duration_text, DecodedFrame};
use serde_json::{json, Value};

fn findings() -> &'static [FindingRecord] {
    static ALL: OnceLock<Vec<FindingRecord>> = OnceLock::new();
    ALL.get_or_init(|| demo::all_findings(&common::config()))
}

fn ms(s: &str) -> i64 {
    t(s).timestamp_millis()
}

const DAY_MS: i64 = 86_400_000;

fn state(f: &FindingRecord) -> &str {
    if f.record_state == "ARCHIVED" {
        "ARCHIVED"
    } else {
        f.status
    }
}

/// One annotation as compared: time, time end, text, tags, and the typed columns.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Annotation {
    time: i64,
    time_end: Option<i64>,
    text: String,
    tags: String,
    columns: Vec<Value>,
}

/// The frame's annotations: Grafana's four fields first, then `typed` columns.
fn annotations(frame: &DecodedFrame, typed: &[&str]) -> Vec<Annotation> {
    let names: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names[..4], ["time", "timeEnd", "text", "tags"]);
    let types: Vec<&str> = frame.fields[..4]
        .iter()
        .map(|f| f.type_name.as_str())
        .collect();
    assert_eq!(types, ["time", "time", "string", "string"]);
    assert_eq!(names[4..], *typed);
    rows(frame)
        .iter()
        .map(|r| Annotation {
            time: ms(r["time"].as_str().unwrap()),
            time_end: r["timeEnd"].as_str().map(ms),
            text: r["text"].as_str().unwrap().to_string(),
            tags: r["tags"].as_str().unwrap().to_string(),
            columns: typed.iter().map(|c| r[*c].clone()).collect(),
        })
        .collect()
}

const CHANGE_COLUMNS: [&str; 8] = [
    "account",
    "region",
    "control",
    "resource",
    "previous_status",
    "status",
    "resource_arn",
    "finding",
];

/// Brute force: every transition of a finding's state (archived included) at a time in
/// `[from, to]`, its previous state taken from the rows since `from - days`.
fn brute_changes(
    from: i64,
    to: i64,
    days: i64,
    controls: &[&str],
    keep: impl Fn(&FindingRecord) -> bool,
) -> Vec<Annotation> {
    let mut histories: BTreeMap<&str, Vec<&FindingRecord>> = BTreeMap::new();
    for f in findings() {
        if (from - days * DAY_MS..=to).contains(&f.time_ms)
            && controls.contains(&f.control_name())
            && keep(f)
        {
            histories.entry(&f.finding_uid).or_default().push(f);
        }
    }
    let mut out = Vec::new();
    for rows in histories.values_mut() {
        rows.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then(state(a).cmp(state(b))));
        for pair in rows.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            if state(before) == state(after) || after.time_ms < from {
                continue;
            }
            let (c, v, a, r) = (
                after.control_name(),
                &after.vpc_id,
                &after.account_id,
                &after.region,
            );
            let (p, s) = (state(before), state(after));
            out.push(Annotation {
                time: after.time_ms,
                time_end: None,
                text: format!("{c} {v} ({a} {r}): {p} → {s}"),
                tags: format!("{c},{s},{a},{r}"),
                columns: [a, r, c, v, p, s, &after.resource_uid, &after.finding_uid]
                    .iter()
                    .map(|x| json!(x))
                    .collect(),
            });
        }
    }
    out.sort_by_key(|a| {
        let text = |k: usize| a.columns[k].as_str().unwrap_or_default().to_string();
        (a.time, text(0), text(1), text(2), text(3), text(7))
    });
    out
}

const END: &str = "2024-06-15T12:00:00Z";

#[tokio::test]
async fn control_status_changes_are_every_transition_in_the_range() {
    let p = plugin().await;
    let cfg = common::config();
    let (silent_account, silent_region, silent_vpc, stop) = demo::silent_vpc(&cfg);
    let (_, _, flap_vpc) = demo::flapping_vpc(&cfg);
    let (_, _, retired_vpc, archived) = demo::retired_vpc(&cfg);
    let from = "2024-06-05T00:00:00Z";
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "annotations", "event": "control_status_changes"}),
            from,
            END,
        )
        .await;
        let got = annotations(&frame, &CHANGE_COLUMNS);
        let want = brute_changes(ms(from), ms(END), 7, &["EC2.6"], |_| true);
        assert_eq!(got, want, "v{version}");
        // The story of the demo: the flapping VPC is fixed and regresses, the silent VPC fails
        // two hours after its flow logs stop (first update 5 minutes later), the retired VPC
        // is archived.
        let texts: Vec<(i64, &str)> = got.iter().map(|a| (a.time, a.text.as_str())).collect();
        let silent_text =
            format!("EC2.6 {silent_vpc} ({silent_account} {silent_region}): PASSED → FAILED");
        let failed_at = stop.timestamp_millis() + 2 * 3_600_000 + 300_000;
        assert!(
            texts.contains(&(failed_at, silent_text.as_str())),
            "v{version}: {texts:?}"
        );
        let flap: Vec<&str> = got
            .iter()
            .filter(|a| a.text.contains(&flap_vpc))
            .map(|a| a.tags.split(',').nth(1).unwrap())
            .collect();
        assert_eq!(flap, ["PASSED", "FAILED"], "v{version}");
        assert!(got.iter().any(|a| a.text.contains(&retired_vpc)
            && a.text.ends_with("FAILED → ARCHIVED")
            && a.time == archived.timestamp_millis()));
        assert_eq!(
            frame.meta["notices"][0]["text"],
            "One annotation per status change of a finding (resource × control) in the time range, at the first update with the new status; updates up to 7 days before the range start are read to know each finding's status before the range (set lookback_days or the lookbackDays setting to look further)."
        );
        // Read from 7 days before the range start (the lake begins on June 1st) to the end.
        assert_eq!(frame.meta["custom"]["partitionsRead"], 15 * 4, "v{version}");

        // Several controls, account and region filters, a short look-back.
        let (short_from, short_to) = ("2024-06-12T00:00:00Z", END);
        let frame = ask(
            &p,
            version,
            json!({"kind": "annotations", "event": "control_status_changes",
                   "controls": ["EC2.6", "EC2.10"], "config_rule": CENTRAL_BUCKET_RULE,
                   "lookback_days": 1,
                   "filters": {"accounts": [silent_account.clone()], "regions": silent_region.clone()}}),
            short_from,
            short_to,
        )
        .await;
        let want = brute_changes(
            ms(short_from),
            ms(short_to),
            1,
            &["EC2.6", "EC2.10", CENTRAL_BUCKET_RULE],
            |f| f.account_id == silent_account && f.region == silent_region,
        );
        assert_eq!(annotations(&frame, &CHANGE_COLUMNS), want, "v{version}");
        let controls: Vec<&Value> = want.iter().map(|a| &a.columns[2]).collect();
        assert!(
            controls.contains(&&json!(CENTRAL_BUCKET_RULE)) && controls.contains(&&json!("EC2.6"))
        );

        // One VPC; a range with no change.
        let frame = ask(
            &p,
            version,
            json!({"kind": "annotations", "event": "control_status_changes", "control": "EC2.6",
                   "filters": {"vpcs": [silent_vpc.clone()]}}),
            "2024-06-13T00:00:00Z",
            END,
        )
        .await;
        assert_eq!(
            annotations(&frame, &CHANGE_COLUMNS),
            Vec::new(),
            "v{version}"
        );
    }
    p.stop().await;
}

/// The key values of a record for a `group_by`.
fn key(r: &FlowRecord, group_by: &[&str]) -> Vec<String> {
    group_by
        .iter()
        .map(|k| match *k {
            "account" => r.account_id.clone(),
            "region" => r.region.clone(),
            "vpc" => r.vpc_id.clone(),
            "subnet" => r.subnet_id.clone(),
            other => panic!("no brute force for {other}"),
        })
        .collect()
}

/// Brute force: per group, the gaps of at least `minutes` between consecutive record start
/// times in `[from - days, to]`, and from the last record to `to`, that end after `from`.
fn brute_silences(
    from: i64,
    to: i64,
    days: i64,
    minutes: i64,
    group_by: &[&str],
    keep: impl Fn(&FlowRecord) -> bool,
) -> Vec<Annotation> {
    let mut groups: BTreeMap<Vec<String>, Vec<i64>> = BTreeMap::new();
    for r in records() {
        if (from - days * DAY_MS..=to).contains(&r.start_ms) && keep(r) {
            groups.entry(key(r, group_by)).or_default().push(r.start_ms);
        }
    }
    let mut out = Vec::new();
    for (keys, mut times) in groups {
        times.sort_unstable();
        let ends: Vec<Option<i64>> = times[1..].iter().map(|t| Some(*t)).chain([None]).collect();
        for (start, next) in times.iter().zip(ends) {
            let end = next.unwrap_or(to);
            if end - start < minutes * 60_000 || end <= from {
                continue;
            }
            let gap = (end - start) / 60_000;
            let what: Vec<&str> = group_by
                .iter()
                .zip(&keys)
                .filter(|(k, _)| !matches!(**k, "account" | "region"))
                .map(|(_, v)| v.as_str())
                .collect();
            let place: Vec<&str> = group_by
                .iter()
                .zip(&keys)
                .filter(|(k, _)| matches!(**k, "account" | "region"))
                .map(|(_, v)| v.as_str())
                .collect();
            let text = format!(
                "No flow logs from {} ({}) for {}{}",
                what.join(" / "),
                place.join(" "),
                duration_text(gap),
                if next.is_none() {
                    " (still silent at the end of the range)"
                } else {
                    ""
                }
            );
            let mut tags = vec!["silent".to_string()];
            tags.extend(keys.iter().cloned());
            if next.is_none() {
                tags.push("ongoing".to_string());
            }
            let mut columns: Vec<Value> = keys.iter().map(|k| json!(k)).collect();
            columns.push(json!(gap));
            columns.push(json!(next.is_none()));
            out.push(Annotation {
                time: *start,
                time_end: Some(end),
                text,
                tags: tags.join(","),
                columns,
            });
        }
    }
    out.sort_by_key(|a| {
        (
            a.time,
            a.columns.iter().map(Value::to_string).collect::<Vec<_>>(),
        )
    });
    out
}

#[tokio::test]
async fn flow_logs_silent_marks_every_gap_of_each_group() {
    let p = plugin().await;
    let cfg = common::config();
    let (silent_account, silent_region, silent_vpc, stop) = demo::silent_vpc(&cfg);
    let typed = ["account", "region", "vpc", "silent_minutes", "ongoing"];
    for version in ["1", "2"] {
        // The fixture lake is sparse (a dozen flows an hour at the peak): quiet hours leave
        // gaps in the subnets, and the silent VPC's last one runs to the end of the range.
        let (from, to) = ("2024-06-12T06:00:00Z", "2024-06-13T06:00:00Z");
        let frame = ask(
            &p,
            version,
            json!({"kind": "annotations", "event": "flow_logs_silent", "silent_for_minutes": 50,
                   "group_by": ["account", "region", "vpc"], "lookback_days": 1}),
            from,
            to,
        )
        .await;
        let got = annotations(&frame, &typed);
        let want = brute_silences(
            ms(from),
            ms(to),
            1,
            50,
            &["account", "region", "vpc"],
            |_| true,
        );
        assert_eq!(got, want, "v{version}");
        assert!(got.len() > 1, "v{version}: {} silences", got.len());
        let ongoing: Vec<&Annotation> =
            got.iter().filter(|a| a.columns[4] == json!(true)).collect();
        assert_eq!(ongoing.len(), 1, "v{version}: only the silent VPC");
        let last = ongoing[0];
        assert!(last.time < stop.timestamp_millis() && last.time_end == Some(ms(to)));
        assert_eq!(
            last.text,
            format!(
                "No flow logs from {silent_vpc} ({silent_account} {silent_region}) for {} (still silent at the end of the range)",
                duration_text((ms(to) - last.time) / 60_000)
            )
        );
        assert_eq!(
            last.tags,
            format!("silent,{silent_account},{silent_region},{silent_vpc},ongoing")
        );
        assert_eq!(frame.fields[7].config.as_ref().unwrap()["unit"], "m");
        // Pruned to the look-back and the range: June 11th to 13th, 2 accounts × 2 regions.
        assert_eq!(frame.meta["custom"]["partitionsRead"], 3 * 4, "v{version}");

        // The defaults (60 minutes, account × region × VPC, 7 days back), with filters: a
        // silence that began before the range is marked from its true start.
        let (from, to) = ("2024-06-14T12:00:00Z", END);
        let frame = ask(
            &p,
            version,
            json!({"kind": "annotations", "event": "flow_logs_silent",
                   "filters": {"accounts": [silent_account.clone()], "regions": [silent_region.clone()],
                               "vpcs": [silent_vpc.clone()]}}),
            from,
            to,
        )
        .await;
        let got = annotations(&frame, &typed);
        let want = brute_silences(
            ms(from),
            ms(to),
            7,
            60,
            &["account", "region", "vpc"],
            |r| {
                r.account_id == silent_account
                    && r.region == silent_region
                    && r.vpc_id == silent_vpc
            },
        );
        assert_eq!(got, want, "v{version}");
        assert_eq!(got.len(), 1);
        assert!(got[0].time < stop.timestamp_millis() && got[0].time < ms(from));

        // Another grouping, and flow filters.
        let frame = ask(
            &p,
            version,
            json!({"kind": "annotations", "event": "flow_logs_silent", "silent_for_minutes": "45",
                   "group_by": ["region", "subnet"], "lookback_days": 1,
                   "filters": {"action": "ACCEPT"}}),
            "2024-06-10T00:00:00Z",
            "2024-06-10T12:00:00Z",
        )
        .await;
        let got = annotations(&frame, &["region", "subnet", "silent_minutes", "ongoing"]);
        let want = brute_silences(
            ms("2024-06-10T00:00:00Z"),
            ms("2024-06-10T12:00:00Z"),
            1,
            45,
            &["region", "subnet"],
            |r| r.action == demo::FlowAction::Accept,
        );
        assert_eq!(got, want, "v{version}");
        assert!(!got.is_empty());
    }
    p.stop().await;
}

#[tokio::test]
async fn bad_annotation_queries_are_refused_word_for_word() {
    let p = plugin().await;
    let cases = [
        (
            json!({"kind": "annotations", "event": "deployments"}),
            "query field `event` has the value \"deployments\": unknown annotation event; supported events: control_status_changes, flow_logs_silent, iam_changes, sign_ins, new_findings",
        ),
        (
            json!({"kind": "annotations"}),
            "query field `event` has the value (missing): an annotations query names the event it marks; supported events: control_status_changes, flow_logs_silent, iam_changes, sign_ins, new_findings",
        ),
        (
            json!({"kind": "annotations", "event": ["flow_logs_silent"]}),
            "query field `event` has the value [\"flow_logs_silent\"]: expected a string; supported events: control_status_changes, flow_logs_silent, iam_changes, sign_ins, new_findings",
        ),
        (
            json!({"kind": "annotations", "event": "control_status_changes", "control": "EC2.6' OR 1=1 --"}),
            "query field `control` has the value \"EC2.6' OR 1=1 --\": expected a control id such as EC2.6 or a Config rule name such as vpc-flow-logs-enabled (letters, digits and . _ - : /, up to 128 characters)",
        ),
        (
            json!({"kind": "annotations", "event": "control_status_changes", "filters": {"ports": [22]}}),
            "query field `filters.ports` has the value [22]: compliance queries filter by accounts, regions and vpcs only; remove this filter",
        ),
        (
            json!({"kind": "annotations", "event": "flow_logs_silent", "silent_for_minutes": 0}),
            "query field `silent_for_minutes` has the value 0: expected a whole number from 1 to 129600",
        ),
        (
            json!({"kind": "annotations", "event": "flow_logs_silent", "group_by": ["vpc", "colour"]}),
            "query field `group_by[1]` has the value \"colour\": unknown dimension; expected one of account, region, vpc, subnet, eni, src_ip, dst_ip, dst_port, protocol, action, direction, boundary, src_aws_service, dst_aws_service",
        ),
        (
            json!({"kind": "annotations", "event": "flow_logs_silent", "filters": {"vpcs": ["vpc-0abc'; DROP TABLE x"]}}),
            "query field `filters.vpcs[0]` has the value \"vpc-0abc'; DROP TABLE x\": expected a vpc id: vpc- and 8 to 17 hex digits, e.g. vpc-0a1b2c3d4e5f60718",
        ),
        (
            json!({"kind": "annotations", "event": "sign_ins", "filters": {"vpcs": ["vpc-0a1b2c3d"]}}),
            "query field `filters.vpcs` has the value [\"vpc-0a1b2c3d\"]: the sign_ins annotation filters by accounts, regions, principals, principal_names, principal_types, src_ip, exclude_ip, outcome, mfa; remove this filter",
        ),
        (
            json!({"kind": "annotations", "event": "iam_changes", "filters": {"principals": ["arn:aws:iam::1:user/a' OR 1=1"]}}),
            "query field `filters.principals[0]` has the value \"arn:aws:iam::1:user/a' OR 1=1\": expected a principal ARN such as arn:aws:iam::111122223333:user/alice, or an AWS service such as ec2.amazonaws.com",
        ),
        (
            json!({"kind": "annotations", "event": "new_findings", "min_severity": "Severe"}),
            "query field `min_severity` has the value \"Severe\": expected a severity: Informational, Low, Medium, High, Critical, Fatal",
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
    for (i, (q, message)) in cases.iter().enumerate() {
        let r = &answer[&format!("Q{i}")];
        assert_eq!(r.error, *message, "{q}");
        assert_eq!(r.status, 400, "{q}");
    }
    p.stop().await;
}

/// The single-event annotations (IAM changes, console sign-ins, new findings) on both source
/// versions: one annotation per event of a brute-force walk over the generated records, at its
/// time, worded from its own columns.
#[tokio::test]
async fn event_annotations_mark_every_event_of_the_brute_force_walk() {
    use crate::cloudtrail::{dim, in_range};
    use crate::common::trail_events;
    use lakewatch::demo::{TrailClass, TrailEvent};
    const FROM: &str = "2024-06-13T12:00:00Z";
    const TO: &str = "2024-06-15T11:59:59.999Z";
    let p = plugin().await;
    let is_change = |e: &TrailEvent| {
        e.service == "iam.amazonaws.com"
            && (e.class == TrailClass::AccountChange
                || lakewatch::query::IAM_CHANGES.contains(&e.operation))
    };
    let events = |keep: &dyn Fn(&TrailEvent) -> bool| -> Vec<(i64, String)> {
        let mut out: Vec<(i64, String)> = trail_events()
            .iter()
            .filter(|e| in_range(e, FROM, TO) && keep(e))
            .map(|e| (e.time_ms, e.event_id.clone()))
            .collect();
        out.sort();
        out
    };
    let marked = |frame: &DecodedFrame, id: &str| -> Vec<(i64, String)> {
        let mut out: Vec<(i64, String)> = rows(frame)
            .iter()
            .map(|r| {
                (
                    ms(r["time"].as_str().unwrap()),
                    r[id].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    };
    for version in ["1", "2"] {
        let ask_event = |q: Value| {
            let p = &p;
            async move {
                let answer = p
                    .query(&settings(version), &[query("A", q, FROM, TO, 60_000)], &[])
                    .await
                    .unwrap();
                let a = &answer["A"];
                assert_eq!(a.error, "", "v{version}");
                a.frames[0].clone()
            }
        };
        // Every IAM change.
        let frame = ask_event(json!({"kind": "annotations", "event": "iam_changes"})).await;
        let want = events(&is_change);
        assert!(!want.is_empty());
        assert_eq!(marked(&frame, "event_id"), want, "v{version} IAM changes");
        println!("figures: v{version} iam_changes annotations {}", want.len());
        // The story's stolen key attaching a policy to its own user, word for word.
        let texts: Vec<(String, String)> = rows(&frame)
            .iter()
            .map(|r| {
                (
                    r["text"].as_str().unwrap().into(),
                    r["tags"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert!(texts.contains(&(
            "IAM AttachUserPolicy by arn:aws:iam::111122223333:user/carol on carol (111122223333)".into(),
            "iam,AttachUserPolicy,Success,111122223333".into()
        )), "{texts:?}");
        for r in rows(&frame) {
            let v = |c: &str| r[c].as_str().unwrap_or_default().to_string();
            let tags = r["tags"].as_str().unwrap();
            assert!(
                tags.starts_with(&format!("iam,{}", v("operation"))),
                "{tags}"
            );
            assert!(r["text"].as_str().unwrap().starts_with(&format!(
                "IAM {} by {}",
                v("operation"),
                v("principal")
            )));
        }
        // Past the row cap the newest events are marked, with a warning.
        let mut capped = settings(version);
        capped["maxRows"] = json!(2);
        let answer = p
            .query(
                &capped,
                &[query(
                    "A",
                    json!({"kind": "annotations", "event": "iam_changes"}),
                    FROM,
                    TO,
                    60_000,
                )],
                &[],
            )
            .await
            .unwrap();
        let cut = &answer["A"].frames[0];
        assert_eq!(marked(cut, "event_id"), want[want.len() - 2..].to_vec());
        assert!(
            cut.meta["notices"]
                .to_string()
                .contains("The result was cut at 2 rows (the datasource's row cap)"),
            "{}",
            cut.meta
        );
        // Console sign-ins without MFA, and the root's.
        let frame = ask_event(
            json!({"kind": "annotations", "event": "sign_ins", "filters": {"mfa": "false"}}),
        )
        .await;
        let want = events(&|e| e.class == TrailClass::Authentication && e.mfa_used == Some(false));
        assert!(!want.is_empty());
        assert_eq!(marked(&frame, "event_id"), want, "v{version} sign-ins");
        println!("figures: v{version} sign-ins without MFA {}", want.len());
        // Its console sign-in from outside, word for word.
        let texts: Vec<String> = rows(&frame)
            .iter()
            .map(|r| r["text"].as_str().unwrap().to_string())
            .collect();
        assert!(texts.iter().any(|t| t == "Console sign-in by arn:aws:iam::111122223333:user/carol from 5.188.62.140 without MFA (111122223333 us-east-1)"), "{texts:?}");
        for r in rows(&frame) {
            assert!(r["tags"].as_str().unwrap().contains("no-mfa"));
            assert!(r["text"].as_str().unwrap().contains(" without MFA ("));
        }
        let frame = ask_event(json!({"kind": "annotations", "event": "sign_ins",
            "filters": {"principal_types": ["Root"]}}))
        .await;
        let want = events(&|e| {
            e.class == TrailClass::Authentication && dim(e, "principal_type").unwrap() == "Root"
        });
        assert_eq!(marked(&frame, "event_id"), want, "v{version} root sign-ins");
        for r in rows(&frame) {
            assert!(r["tags"].as_str().unwrap().contains(",root"));
            assert!(r["text"].as_str().unwrap().contains(" by root ("));
        }
        // Findings first observed in the range, High and up by default, then every severity.
        for (q, min) in [
            (json!({"kind": "annotations", "event": "new_findings"}), 4),
            (
                json!({"kind": "annotations", "event": "new_findings", "min_severity": "Informational"}),
                1,
            ),
        ] {
            let frame = ask_event(q).await;
            let mut want: Vec<(i64, String)> = crate::findings::newest(FROM, TO)
                .into_iter()
                .filter(|f| f.severity_id >= min)
                .filter_map(|f| {
                    let (first, _) = f.seen_ms?;
                    (first >= ms(FROM)).then(|| (first, f.finding_uid.clone()))
                })
                .collect();
            want.sort();
            assert!(!want.is_empty());
            assert_eq!(
                marked(&frame, "finding"),
                want,
                "v{version} new findings {min}"
            );
            println!(
                "figures: v{version} new findings at severity {min}+: {}",
                want.len()
            );
            for r in rows(&frame) {
                let sev = r["severity"].as_str().unwrap();
                assert!(r["text"].as_str().unwrap().starts_with(&format!(
                    "{sev} {} finding: ",
                    r["product"].as_str().unwrap()
                )));
            }
        }
    }
    p.stop().await;
}
