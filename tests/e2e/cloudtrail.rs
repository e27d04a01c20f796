//! End-to-end: the CloudTrail kinds through the real plugin binary, on both source versions, each
//! answer checked against a brute-force computation over the generated CloudTrail events of the
//! fixture lake; the partitions each kind reads are exactly those its accounts, regions and days
//! need; a filter a kind does not read is refused word for word.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{
    config, hourly_series, partition_of, plugin, query, rows, settings, t, trail_events,
    BruteSeries,
};
use lakewatch::demo::{trail_story, TrailClass, TrailEvent};
use lakewatch::frame::DecodedFrame;
use lakewatch::grafana_host::PluginProcess;
use lakewatch::net::Cidr;
use lakewatch::plan::partitions::{event_day, utc_days};
use serde_json::{json, Value};

/// The last two days of the fixture lake, around the story (it starts at 94 % of the span, on
/// 14 June).
const FROM: &str = "2024-06-13T12:00:00Z";
const TO: &str = "2024-06-15T11:59:59.999Z";
pub(crate) const HOUR: i64 = 3_600_000;

/// A group key as SQL sees it: NULL is `None`.
pub(crate) type Key = Option<String>;

pub(crate) fn in_range(e: &TrailEvent, from: &str, to: &str) -> bool {
    (t(from).timestamp_millis()..=t(to).timestamp_millis()).contains(&e.time_ms)
}

/// A dimension of an event, as the kinds compute it.
pub(crate) fn dim(e: &TrailEvent, name: &str) -> Key {
    let id = &e.identity;
    match name {
        "account" => Some(e.account_id.clone()),
        "region" => Some(e.region.clone()),
        "service" => Some(e.service.to_string()),
        "operation" => Some(e.operation.to_string()),
        "principal" => id.arn.clone().or(id.invoked_by.map(str::to_string)),
        "principal_name" => id.name.clone(),
        "principal_type" => Some(id.kind.to_string()),
        "access_key" => id.access_key.clone(),
        "session_issuer" => id.session_issuer.clone(),
        "src_ip" => e.src_ip.clone(),
        "user_agent" => Some(e.user_agent.clone()),
        "outcome" => Some(if e.success { "Success" } else { "Failure" }.to_string()),
        "error_code" => e.error_code.map(str::to_string),
        "class" => Some(
            match e.class {
                TrailClass::ApiActivity => "API Activity",
                TrailClass::Authentication => "Authentication",
                TrailClass::AccountChange => "Account Change",
            }
            .to_string(),
        ),
        "mfa" => Some(
            match e.mfa_used {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            }
            .to_string(),
        ),
        other => panic!("no dimension {other}"),
    }
}

fn keys(e: &TrailEvent, names: &[&str]) -> Vec<Key> {
    names.iter().map(|n| dim(e, n)).collect()
}

/// An address column inside a block (NULL never is).
fn within(block: &str, ip: &Option<String>) -> bool {
    let block = Cidr::parse(block).unwrap();
    ip.as_deref()
        .and_then(|a| a.parse().ok())
        .is_some_and(|a| block.contains(a))
}

/// How SQL orders key columns ascending: text byte-wise, NULL last.
pub(crate) fn sql_order(a: &[Key], b: &[Key]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(_), None) => std::cmp::Ordering::Less,
            (Some(x), Some(y)) => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

/// A time value as the frame carries it (RFC 3339) → epoch ms.
pub(crate) fn ms(v: &Value) -> i64 {
    t(v.as_str().unwrap()).timestamp_millis()
}

pub(crate) fn text(v: &Value) -> Key {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// One query's single frame, after asserting it did not fail.
pub(crate) async fn ask(
    p: &PluginProcess,
    version: &str,
    q: Value,
    (from, to): (&str, &str),
    interval_ms: i64,
) -> DecodedFrame {
    let answer = p
        .query(
            &settings(version),
            &[query("A", q.clone(), from, to, interval_ms)],
            &[],
        )
        .await
        .unwrap();
    let a = &answer["A"];
    assert_eq!(a.error, "", "v{version} {q}");
    assert_eq!(a.frames.len(), 1);
    a.frames[0].clone()
}

/// A wide series frame as (labels → values per bucket).
pub(crate) fn series(frame: &DecodedFrame) -> BTreeMap<BTreeMap<String, String>, Vec<i64>> {
    assert_eq!(frame.meta["type"], "timeseries-wide");
    assert_eq!(frame.fields[0].type_name, "time");
    frame.fields[1..]
        .iter()
        .map(|f| {
            assert_eq!(f.type_name, "number", "{}", f.name);
            let values = f.values.iter().map(|v| v.as_i64().unwrap()).collect();
            (f.labels.clone(), values)
        })
        .collect()
}

/// The brute-force series: per group of `labels`, `measure` of each hourly bucket's events;
/// the top `limit` groups by total (ties by labels) kept, the rest added up as `other`.
fn brute_series(
    labels: &[&str],
    keep: impl Fn(&TrailEvent) -> bool,
    measure: impl Fn(&[&TrailEvent]) -> i64,
    limit: Option<usize>,
) -> BruteSeries {
    hourly_series(
        trail_events()
            .iter()
            .filter(|e| in_range(e, FROM, TO) && keep(e)),
        |e| e.time_ms,
        |e, l| dim(e, l).unwrap_or_default(),
        labels,
        measure,
        (FROM, TO),
        limit,
    )
}

fn count(events: &[&TrailEvent]) -> i64 {
    events.len() as i64
}

fn failures(events: &[&TrailEvent]) -> i64 {
    events.iter().filter(|e| !e.success).count() as i64
}

/// Distinct non-NULL values of a dimension (SQL's `COUNT(DISTINCT …)`).
fn distinct(name: &'static str) -> impl Fn(&[&TrailEvent]) -> i64 {
    move |events| {
        events
            .iter()
            .filter_map(|e| dim(e, name))
            .collect::<BTreeSet<_>>()
            .len() as i64
    }
}

#[tokio::test]
async fn api_activity_matches_brute_force() {
    let p = plugin().await;
    let range = (FROM, TO);
    for version in ["1", "2"] {
        // Calls per service.
        let frame = ask(
            &p,
            version,
            json!({"kind": "api_activity", "group_by": ["service"]}),
            range,
            HOUR,
        )
        .await;
        let want = brute_series(&["service"], |_| true, count, None);
        assert!(want.len() > 5, "{want:?}");
        assert_eq!(series(&frame), want, "v{version} calls by service");
        assert_eq!(frame.fields[1].config.as_ref().unwrap()["unit"], "short");

        // Failures of IAM and EC2 calls per principal and error code.
        let frame = ask(
            &p,
            version,
            json!({"kind": "api_activity", "measure": "failures", "group_by": ["principal", "error_code"],
                   "filters": {"services": ["iam", "ec2.amazonaws.com"], "outcome": "failure"}}),
            range,
            HOUR,
        )
        .await;
        let want = brute_series(
            &["principal", "error_code"],
            |e| {
                (e.service == "iam.amazonaws.com" || e.service == "ec2.amazonaws.com") && !e.success
            },
            failures,
            None,
        );
        assert!(!want.is_empty());
        assert_eq!(series(&frame), want, "v{version} failures");

        // Distinct source addresses of IAM users outside the office, per account.
        let frame = ask(
            &p,
            version,
            json!({"kind": "api_activity", "measure": "source_ips", "group_by": ["account"],
                   "filters": {"principal_types": ["iamuser"], "exclude_ip": ["198.51.100.0/24"]}}),
            range,
            HOUR,
        )
        .await;
        let want = brute_series(
            &["account"],
            |e| e.identity.kind == "IAMUser" && !within("198.51.100.0/24", &e.src_ip),
            distinct("src_ip"),
            None,
        );
        assert_eq!(series(&frame), want, "v{version} source ips");
        let story = trail_story(&config());
        assert!(
            want.values().flatten().any(|v| *v > 0),
            "the stolen key's address shows"
        );
        assert!(in_range(
            trail_events()
                .iter()
                .find(|e| e.time_ms == story.sign_in_ms)
                .unwrap(),
            FROM,
            TO
        ));

        // Distinct principals per class, the top two kept and the rest folded into `other`.
        let frame = ask(
            &p,
            version,
            json!({"kind": "api_activity", "measure": "principals", "group_by": ["class"], "limit": 2}),
            range,
            HOUR,
        )
        .await;
        let want = brute_series(&["class"], |_| true, distinct("principal"), Some(2));
        assert_eq!(want.len(), 3, "{want:?}");
        assert_eq!(series(&frame), want, "v{version} principals by class");

        // The stolen key: calls per source address and operation, on the story's days.
        let frame = ask(
            &p,
            version,
            json!({"kind": "api_activity", "group_by": ["src_ip", "user_agent"],
                   "filters": {"access_keys": story.stolen_key, "accounts": [story.account]}}),
            range,
            HOUR,
        )
        .await;
        let want = brute_series(
            &["src_ip", "user_agent"],
            |e| e.identity.access_key.as_deref() == Some(story.stolen_key.as_str()),
            count,
            None,
        );
        let addresses: BTreeSet<&str> = want.keys().map(|l| l["src_ip"].as_str()).collect();
        assert_eq!(addresses, BTreeSet::from(["198.51.100.23", story.address]));
        assert_eq!(series(&frame), want, "v{version} stolen key");
    }
    p.stop().await;
}

/// A top_principals row: keys, then calls, failures, source IPs, first and last call.
type PrincipalRow = (Vec<Key>, [i64; 5]);

fn brute_top(
    group_by: &[&str],
    keep: impl Fn(&TrailEvent) -> bool,
    rank: usize,
    limit: usize,
    (from, to): (&str, &str),
) -> Vec<PrincipalRow> {
    let mut groups: BTreeMap<Vec<Key>, Vec<&TrailEvent>> = BTreeMap::new();
    for e in trail_events()
        .iter()
        .filter(|e| in_range(e, from, to) && keep(e))
    {
        groups.entry(keys(e, group_by)).or_default().push(e);
    }
    let mut rows: Vec<PrincipalRow> = groups
        .into_iter()
        .map(|(k, events)| {
            let first = events.iter().map(|e| e.time_ms).min().unwrap();
            let last = events.iter().map(|e| e.time_ms).max().unwrap();
            let values = [
                count(&events),
                failures(&events),
                distinct("src_ip")(&events),
                first,
                last,
            ];
            (k, values)
        })
        .collect();
    rows.sort_by(|a, b| b.1[rank].cmp(&a.1[rank]).then(sql_order(&a.0, &b.0)));
    rows.truncate(limit);
    rows
}

fn table_top(frame: &DecodedFrame, group_by: &[&str]) -> Vec<PrincipalRow> {
    for m in ["calls", "failures", "source_ips"] {
        assert_eq!(frame.field(m).unwrap().type_name, "number", "{m}");
    }
    for m in ["first_seen", "last_seen"] {
        assert_eq!(frame.field(m).unwrap().type_name, "time", "{m}");
    }
    rows(frame)
        .into_iter()
        .map(|row| {
            let keys = group_by.iter().map(|c| text(&row[*c])).collect();
            let n = |c: &str| row[c].as_i64().unwrap();
            let values = [
                n("calls"),
                n("failures"),
                n("source_ips"),
                ms(&row["first_seen"]),
                ms(&row["last_seen"]),
            ];
            (keys, values)
        })
        .collect()
}

#[tokio::test]
async fn top_principals_match_brute_force() {
    let p = plugin().await;
    let range = (FROM, TO);
    let default_groups = ["account", "principal", "principal_type"];
    for version in ["1", "2"] {
        let frame = ask(&p, version, json!({"kind": "top_principals"}), range, HOUR).await;
        assert_eq!(frame.meta["preferredVisualisationType"], "table");
        let want = brute_top(&default_groups, |_| true, 0, 20, range);
        assert_eq!(want.len(), 20);
        assert_eq!(
            table_top(&frame, &default_groups),
            want,
            "v{version} default"
        );

        let groups = ["principal_name", "access_key"];
        let frame = ask(
            &p,
            version,
            json!({"kind": "top_principals", "measure": "source_ips", "group_by": groups,
                   "filters": {"principal_types": "IAMUser", "regions": ["us-east-1"]}, "limit": 5}),
            range,
            HOUR,
        )
        .await;
        let want = brute_top(
            &groups,
            |e| e.identity.kind == "IAMUser" && e.region == "us-east-1",
            2,
            5,
            range,
        );
        assert_eq!(table_top(&frame, &groups), want, "v{version} by key");

        let frame = ask(
            &p,
            version,
            json!({"kind": "top_principals", "measure": "failures", "group_by": ["session_issuer", "error_code"],
                   "filters": {"outcome": "failure", "principal_types": ["AssumedRole", "iamuser"]}}),
            range,
            HOUR,
        )
        .await;
        let want = brute_top(
            &["session_issuer", "error_code"],
            |e| !e.success && matches!(e.identity.kind, "AssumedRole" | "IAMUser"),
            1,
            20,
            range,
        );
        assert!(
            want.iter().any(|(k, _)| k[0].is_none()),
            "IAM users have no issuer"
        );
        assert_eq!(
            table_top(&frame, &["session_issuer", "error_code"]),
            want,
            "v{version} failures"
        );

        // Root use over the whole lake, as the alert rule reads it: one series per root user.
        let whole = ("2024-06-01T00:00:00Z", "2024-06-15T12:00:00Z");
        let frame = ask(
            &p,
            version,
            json!({"kind": "top_principals", "format": "series", "filters": {"principal_types": ["Root"]}}),
            whole,
            HOUR,
        )
        .await;
        let want = brute_top(&default_groups, |e| e.identity.kind == "Root", 0, 20, whole);
        assert_eq!(want.len(), 1, "one root visit");
        assert_eq!(frame.meta["type"], "timeseries-wide");
        assert_eq!(frame.fields.len(), 2);
        let f = &frame.fields[1];
        assert_eq!(f.name, "calls");
        assert_eq!(f.labels["principal_type"], "Root");
        assert_eq!(Some(f.labels["principal"].clone()), want[0].0[1]);
        assert_eq!(f.values, vec![json!(want[0].1[0] as f64)]);
    }
    p.stop().await;
}

/// The columns of a sign-in row as the brute force computes them.
fn sign_in_row(e: &TrailEvent) -> Vec<Key> {
    let mut row = vec![Some(e.time_ms.to_string())];
    row.extend(keys(
        e,
        &[
            "account",
            "region",
            "principal",
            "principal_type",
            "src_ip",
            "outcome",
            "mfa",
        ],
    ));
    row.push(e.error_message.map(str::to_string));
    row.push(Some(e.user_agent.clone()));
    row.push(Some(e.event_id.clone()));
    row
}

fn brute_sign_ins(keep: impl Fn(&TrailEvent) -> bool, range: (&str, &str)) -> Vec<Vec<Key>> {
    let mut events: Vec<&TrailEvent> = trail_events()
        .iter()
        .filter(|e| {
            e.class == TrailClass::Authentication && in_range(e, range.0, range.1) && keep(e)
        })
        .collect();
    events.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then(a.event_id.cmp(&b.event_id)));
    events.into_iter().map(sign_in_row).collect()
}

fn table_sign_ins(frame: &DecodedFrame) -> Vec<Vec<Key>> {
    let columns: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(columns, lakewatch::plan::AUTH_COLUMNS);
    assert_eq!(frame.field("time").unwrap().type_name, "time");
    rows(frame)
        .into_iter()
        .map(|row| {
            let mut out = vec![Some(ms(&row["time"]).to_string())];
            out.extend(
                lakewatch::plan::AUTH_COLUMNS[1..]
                    .iter()
                    .map(|c| text(&row[*c])),
            );
            out
        })
        .collect()
}

fn notices(frame: &DecodedFrame) -> Vec<String> {
    frame.meta["notices"]
        .as_array()
        .map(|n| {
            n.iter()
                .map(|n| n["text"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn auth_events_match_brute_force() {
    let p = plugin().await;
    let whole = ("2024-06-01T00:00:00Z", "2024-06-15T12:00:00Z");
    let story = trail_story(&config());
    for version in ["1", "2"] {
        // Every sign-in of the lake, newest first.
        let frame = ask(
            &p,
            version,
            json!({"kind": "auth_events", "limit": 1000}),
            whole,
            HOUR,
        )
        .await;
        let want = brute_sign_ins(|_| true, whole);
        assert!(want.len() > 30, "{}", want.len());
        assert_eq!(table_sign_ins(&frame), want, "v{version} sign-ins");
        assert_eq!(frame.meta["custom"]["totalMatches"], json!(want.len()));

        // Successful sign-ins without MFA: the story's, alone.
        let frame = ask(
            &p,
            version,
            json!({"kind": "auth_events", "filters": {"outcome": "success", "mfa": false}}),
            whole,
            HOUR,
        )
        .await;
        let want = brute_sign_ins(|e| e.success && e.mfa_used == Some(false), whole);
        assert_eq!(want.len(), 1);
        assert_eq!(want[0][0], Some(story.sign_in_ms.to_string()));
        assert_eq!(want[0][5], Some(story.address.to_string()));
        assert_eq!(table_sign_ins(&frame), want, "v{version} no MFA");

        // Root's sign-in, and the newest three failures of the lake with the total.
        let frame = ask(
            &p,
            version,
            json!({"kind": "auth_events", "filters": {"principal_types": "root"}}),
            whole,
            HOUR,
        )
        .await;
        let want = brute_sign_ins(|e| e.identity.kind == "Root", whole);
        assert_eq!(want.len(), 1);
        assert_eq!(table_sign_ins(&frame), want, "v{version} root");
        let frame = ask(
            &p,
            version,
            json!({"kind": "auth_events", "filters": {"outcome": "failure"}, "limit": 3}),
            whole,
            HOUR,
        )
        .await;
        let all = brute_sign_ins(|e| !e.success, whole);
        assert!(all.len() > 3, "{}", all.len());
        assert_eq!(
            table_sign_ins(&frame),
            all[..3].to_vec(),
            "v{version} failures"
        );
        assert!(
            notices(&frame).contains(&format!(
                "Showing the 3 newest of {} matching sign-ins; narrow the filters or raise the limit to see more.",
                all.len()
            )),
            "{:?}",
            notices(&frame)
        );

        // As the alert rule reads it: sign-ins without MFA per account and principal.
        let frame = ask(
            &p,
            version,
            json!({"kind": "auth_events", "format": "series", "filters": {"outcome": "success", "mfa": false}}),
            whole,
            HOUR,
        )
        .await;
        assert_eq!(frame.meta["type"], "timeseries-wide");
        let got: Vec<(BTreeMap<String, String>, Vec<Value>)> = frame.fields[1..]
            .iter()
            .map(|f| (f.labels.clone(), f.values.clone()))
            .collect();
        let labels = BTreeMap::from([
            ("account".to_string(), story.account.clone()),
            ("principal".to_string(), story.user_arn.clone()),
        ]);
        assert_eq!(got, vec![(labels, vec![json!(1.0)])], "v{version} series");
        assert_eq!(frame.fields[1].name, "sign_ins");
    }
    p.stop().await;
}

/// The partitions of the CloudTrail table the fixture lake holds.
fn trail_partitions() -> BTreeSet<String> {
    trail_events()
        .iter()
        .map(|e| partition_of(e.time_ms, &e.region, &e.account_id))
        .collect()
}

#[tokio::test]
async fn each_kind_reads_only_the_partitions_it_needs() {
    let p = plugin().await;
    let cfg = config();
    let account = cfg.account_ids()[1].clone();
    let (from, to) = ("2024-06-12T22:30:00Z", "2024-06-14T03:15:00Z");
    let days: Vec<String> = utc_days(t(from), t(to))
        .into_iter()
        .map(event_day)
        .collect();
    let of_days = |p: &String| days.iter().any(|d| p.ends_with(&format!("eventDay={d}")));
    let one: BTreeSet<String> = trail_partitions()
        .into_iter()
        .filter(|p| {
            p.starts_with("region=eu-west-1/")
                && p.contains(&format!("accountId={account}/"))
                && of_days(p)
        })
        .collect();
    let all: BTreeSet<String> = trail_partitions().into_iter().filter(of_days).collect();
    assert_eq!((one.len(), all.len()), (3, 12));
    let narrowed = json!({"accounts": [account], "regions": ["eu-west-1"]});
    for (filters, needed) in [(narrowed, &one), (json!({}), &all)] {
        let queries = [
            json!({"kind": "api_activity", "group_by": ["service"], "filters": filters}),
            json!({"kind": "top_principals", "filters": filters}),
            json!({"kind": "auth_events", "filters": filters}),
            json!({"kind": "auth_events", "format": "series", "filters": filters}),
            json!({"kind": "access_denied", "filters": filters}),
            json!({"kind": "iam_changes", "filters": filters}),
            json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(cloud_trail_mgmt) WHERE $__partitionFilter", "filters": filters}),
        ];
        for version in ["1", "2"] {
            for q in &queries {
                let frame = ask(&p, version, q.clone(), (from, to), HOUR).await;
                let read: BTreeSet<String> = frame.meta["custom"]["partitions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect();
                assert_eq!(&read, needed, "v{version} {q}");
                println!(
                    "pruning: v{version} {} {}: partitions read {} of {} needed = {:.2}",
                    q["kind"],
                    q["filters"],
                    read.len(),
                    needed.len(),
                    read.len() as f64 / needed.len() as f64
                );
            }
        }
    }
    p.stop().await;
}

#[tokio::test]
async fn a_filter_a_kind_does_not_read_fails_its_query_word_for_word() {
    let p = plugin().await;
    let q = json!({"kind": "auth_events", "filters": {"services": "iam"}});
    let answer = p
        .query(&settings("2"), &[query("A", q, FROM, TO, HOUR)], &[])
        .await
        .unwrap();
    assert_eq!(answer["A"].status, 400);
    assert_eq!(
        answer["A"].error,
        "query field `filters.services` has the value \"iam\": auth_events filters by accounts, regions, principals, principal_names, principal_types, src_ip, exclude_ip, outcome, mfa; remove this filter"
    );
    p.stop().await;
}

/// On Athena (moto in server mode as the AWS peer): a top_principals panel gets typed frames
/// from the partition-pruned SQL of its plan, which reached Athena once.
#[tokio::test]
async fn top_principals_run_on_athena_with_typed_frames_from_the_pruned_sql() {
    use crate::common::moto::{
        assert_planned_sql_ran_once, athena_v2_settings, cells, hour, Moto, DEFAULT_ACCOUNT, FROM,
        REGION, TO,
    };
    let moto = Moto::start();
    let columns = vec![
        ("account", "varchar"),
        ("principal", "varchar"),
        ("principal_type", "varchar"),
        ("calls", "bigint"),
        ("failures", "bigint"),
        ("source_ips", "bigint"),
        ("first_seen", "bigint"),
        ("last_seen", "bigint"),
    ];
    let carol = "arn:aws:iam::111122223333:user/carol";
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(
            columns,
            vec![
                cells(&[
                    "111122223333",
                    carol,
                    "IAMUser",
                    "42",
                    "3",
                    "2",
                    &hour(0),
                    &hour(2),
                ]),
                cells(&[
                    "111122223333",
                    "ec2.amazonaws.com",
                    "AWSService",
                    "7",
                    "0",
                    "0",
                    &hour(1),
                    &hour(1),
                ]),
            ],
        )],
    );
    let p = plugin().await;
    let q = json!({"kind": "top_principals",
                   "filters": {"accounts": ["111122223333"], "principal_types": ["IAMUser", "AWSService"]}});
    let answer = p
        .query(
            &athena_v2_settings(&moto, json!({})),
            &[query("A", q.clone(), FROM, TO, HOUR)],
            &[],
        )
        .await
        .unwrap();
    let a = &answer["A"];
    assert_eq!(a.error, "");
    let frame = &a.frames[0];
    assert_eq!(frame.meta["custom"]["engine"], "athena");
    assert_eq!(
        table_top(frame, &["account", "principal", "principal_type"]),
        vec![
            (
                vec![
                    Some("111122223333".to_string()),
                    Some(carol.to_string()),
                    Some("IAMUser".to_string())
                ],
                [
                    42,
                    3,
                    2,
                    t(FROM).timestamp_millis(),
                    t(FROM).timestamp_millis() + 2 * HOUR
                ]
            ),
            (
                vec![
                    Some("111122223333".to_string()),
                    Some("ec2.amazonaws.com".to_string()),
                    Some("AWSService".to_string())
                ],
                [
                    7,
                    0,
                    0,
                    t(FROM).timestamp_millis() + HOUR,
                    t(FROM).timestamp_millis() + HOUR
                ]
            ),
        ]
    );
    // Exactly the partition-pruned SQL of the plan reached Athena, once.
    let want = assert_planned_sql_ran_once(
        &moto,
        frame,
        &q,
        "amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0",
    )
    .await;
    assert!(want.contains(
        "\"time_dt\" BETWEEN TIMESTAMP '2024-06-10 00:00:00.000' AND TIMESTAMP '2024-06-10 03:00:00.000'"
    ));
    p.stop().await;
}

#[tokio::test]
async fn access_denied_and_iam_changes_match_brute_force() {
    let p = plugin().await;
    let range = (FROM, TO);
    let whole = ("2024-06-01T00:00:00Z", "2024-06-15T12:00:00Z");
    let denied_codes = lakewatch::query::DENIED_CODES;
    let story = trail_story(&config());
    for version in ["1", "2"] {
        // Denied calls by account, principal, operation and code.
        let groups = ["account", "principal", "operation", "error_code"];
        let frame = ask(&p, version, json!({"kind": "access_denied"}), range, HOUR).await;
        let denied =
            |e: &TrailEvent| !e.success && e.error_code.is_some_and(|c| denied_codes.contains(&c));
        let want = brute_top(&groups, denied, 0, 50, range);
        assert!(want.len() > 5, "{want:?}");
        assert!(
            want.iter().all(|(_, v)| v[0] == v[1]),
            "every call counted failed"
        );
        assert_eq!(table_top(&frame, &groups), want, "v{version} access denied");

        // Another error code replaces the denied ones; the story's EC2 denial by service.
        let frame = ask(
            &p,
            version,
            json!({"kind": "access_denied", "group_by": ["service"], "filters": {"error_codes": ["ThrottlingException"]}}),
            range,
            HOUR,
        )
        .await;
        let want = brute_top(
            &["service"],
            |e| !e.success && e.error_code == Some("ThrottlingException"),
            0,
            50,
            range,
        );
        assert_eq!(
            table_top(&frame, &["service"]),
            want,
            "v{version} throttled"
        );

        // Every IAM change of the lake, newest first, with the total.
        let is_change = |e: &TrailEvent| {
            e.service == "iam.amazonaws.com"
                && (e.class == TrailClass::AccountChange
                    || lakewatch::query::IAM_CHANGES.contains(&e.operation))
        };
        let brute = |keep: &dyn Fn(&TrailEvent) -> bool| {
            let mut events: Vec<&TrailEvent> = trail_events()
                .iter()
                .filter(|e| in_range(e, whole.0, whole.1) && is_change(e) && keep(e))
                .collect();
            events.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then(a.event_id.cmp(&b.event_id)));
            events
                .into_iter()
                .map(|e| {
                    let mut row = vec![Some(e.time_ms.to_string())];
                    row.extend(keys(e, &["account", "principal", "operation", "class"]));
                    row.push(e.target_user.clone());
                    row.extend(keys(e, &["outcome", "error_code", "src_ip", "user_agent"]));
                    row.push(Some(e.event_id.clone()));
                    row
                })
                .collect::<Vec<_>>()
        };
        let table = |frame: &DecodedFrame| -> Vec<Vec<Key>> {
            let columns: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(columns, lakewatch::plan::IAM_CHANGE_COLUMNS);
            rows(frame)
                .into_iter()
                .map(|row| {
                    let mut out = vec![Some(ms(&row["time"]).to_string())];
                    out.extend(
                        lakewatch::plan::IAM_CHANGE_COLUMNS[1..]
                            .iter()
                            .map(|c| text(&row[*c])),
                    );
                    out
                })
                .collect()
        };
        let frame = ask(
            &p,
            version,
            json!({"kind": "iam_changes", "limit": 500}),
            whole,
            HOUR,
        )
        .await;
        let want = brute(&|_| true);
        assert!(want.len() > 5, "{}", want.len());
        assert_eq!(table(&frame), want, "v{version} IAM changes");
        assert_eq!(frame.meta["custom"]["totalMatches"], json!(want.len()));
        // The story's: a new key and AdministratorAccess, from the new address.
        let frame = ask(
            &p,
            version,
            json!({"kind": "iam_changes", "filters": {"principals": [story.user_arn], "src_ip": story.address}}),
            whole,
            HOUR,
        )
        .await;
        let want = brute(&|e| {
            e.identity.arn.as_deref() == Some(story.user_arn.as_str())
                && e.src_ip.as_deref() == Some(story.address)
        });
        let operations: Vec<&str> = want.iter().map(|r| r[3].as_deref().unwrap()).collect();
        assert_eq!(operations, ["AttachUserPolicy", "CreateAccessKey"]);
        assert_eq!(table(&frame), want, "v{version} the story's changes");
    }
    p.stop().await;
}
