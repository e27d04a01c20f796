//! End-to-end: `resource_timeline` through the real plugin binary on both source versions, its
//! DNS and CloudTrail rows checked against brute force over the fixture lake's generated records
//! for the demo story's resources; each source's part reads exactly the partitions it needs; bad
//! resources fail word for word; a long timeline is cut with a notice.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{
    ask, config, dns_queries, plugin, query, records, rows, settings, t, trail_events,
};
use lakewatch::demo::{trail_story, RARE_DOMAIN};
use lakewatch::plan::partitions::{event_day, utc_days};
use serde_json::{json, Value};

const FROM: &str = "2024-06-12T12:00:00Z";
const TO: &str = "2024-06-15T11:59:59.999Z";
const HOUR: i64 = 3_600_000;

fn in_range(ms: i64) -> bool {
    (t(FROM).timestamp_millis()..=t(TO).timestamp_millis()).contains(&ms)
}

/// Records per hour of one source in the plugin's timeline.
fn per_hour(frame: &[BTreeMap<String, Value>], source: &str) -> BTreeMap<i64, i64> {
    let mut out = BTreeMap::new();
    for row in frame.iter().filter(|r| r["source"] == source) {
        let hour = crate::cloudtrail::ms(&row["time"]);
        *out.entry(hour).or_default() += row["count"].as_i64().expect("a count");
    }
    out
}

fn hour_of(ms: i64) -> i64 {
    ms - ms.rem_euclid(HOUR)
}

#[tokio::test]
async fn timelines_of_the_story_resources_match_brute_force() {
    let p = plugin().await;
    let host = dns_queries()
        .iter()
        .find(|q| q.hostname == RARE_DOMAIN)
        .map(|q| q.src_ip.clone())
        .expect("the story resolves its rare domain");
    let stolen = trail_story(&config()).address;
    for version in ["1", "2"] {
        let q = json!({"kind": "resource_timeline", "resource": host, "sources": ["dns"], "limit": 10000});
        let frame = rows(&ask(&p, version, q, FROM, TO).await);
        let mut brute: BTreeMap<i64, i64> = BTreeMap::new();
        for q in dns_queries()
            .iter()
            .filter(|q| q.src_ip == host && in_range(q.time_ms))
        {
            *brute.entry(hour_of(q.time_ms)).or_default() += 1;
        }
        println!(
            "figures: v{version} dns of {host}: plugin {} rows, {} hours, brute force {} hours",
            frame.len(),
            per_hour(&frame, "dns").len(),
            brute.len()
        );
        assert_eq!(per_hour(&frame, "dns"), brute, "v{version}");
        assert!(frame.iter().any(|r| r["domain"] == RARE_DOMAIN));

        let q = json!({"kind": "resource_timeline", "resource": stolen, "sources": ["cloudtrail"], "limit": 10000});
        let frame = rows(&ask(&p, version, q, FROM, TO).await);
        let mut brute: BTreeMap<i64, i64> = BTreeMap::new();
        for e in trail_events()
            .iter()
            .filter(|e| e.src_ip.as_deref() == Some(stolen) && in_range(e.time_ms))
        {
            *brute.entry(hour_of(e.time_ms)).or_default() += 1;
        }
        println!(
            "figures: v{version} cloudtrail of {stolen}: plugin {} rows, brute force {} calls",
            frame.len(),
            brute.values().sum::<i64>()
        );
        assert_eq!(per_hour(&frame, "cloudtrail"), brute, "v{version}");
    }
}

#[tokio::test]
async fn bad_resources_fail_word_for_word_and_long_timelines_are_cut() {
    let p = plugin().await;
    let accepted = "expected an IPv4 or IPv6 address, or an ENI (eni-…), instance (i-…) or VPC (vpc-…) id of 8 or 17 lower-case hex digits";
    for bad in ["10.0.0.0/16", "subnet-0a1b2c3d", "i-12345"] {
        let q = json!({"kind": "resource_timeline", "resource": bad});
        let answer = p
            .query(&settings("2"), &[query("A", q, FROM, TO, 60_000)], &[])
            .await
            .unwrap();
        assert_eq!(
            answer["A"].error,
            format!("query field `resource` has the value \"{bad}\": {accepted}")
        );
    }
    let host = dns_queries()[0].src_ip.clone();
    let q = json!({"kind": "resource_timeline", "resource": host, "limit": 3});
    let frame = ask(&p, "2", q, FROM, TO).await;
    assert_eq!(rows(&frame).len(), 3);
    let notices: Vec<String> = frame.meta["notices"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("Showing the first 3 of ")),
        "{notices:?}"
    );
}

/// A partition's folder name, as the answers' meta lists them.
fn partition(region: &str, account: &str, day: String) -> String {
    format!("region={region}/accountId={account}/eventDay={day}")
}

/// Each source's part reads exactly the partitions of its own table that hold the range's days in
/// the accounts and regions asked for, whole and narrowed, on both versions.
#[tokio::test]
async fn each_part_reads_only_the_partitions_it_needs() {
    let p = plugin().await;
    let account = config().account_ids()[1].clone();
    let days: Vec<String> = utc_days(t(FROM), t(TO))
        .into_iter()
        .map(event_day)
        .collect();
    let day_of = |ms: i64| {
        event_day(
            chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .date_naive(),
        )
    };
    let held: BTreeMap<&str, BTreeSet<String>> = BTreeMap::from([
        (
            "flows",
            records()
                .iter()
                .map(|r| partition(&r.region, &r.account_id, r.event_day()))
                .collect(),
        ),
        (
            "dns",
            dns_queries()
                .iter()
                .map(|q| partition(&q.region, &q.account_id, day_of(q.time_ms)))
                .collect(),
        ),
        (
            "cloudtrail",
            trail_events()
                .iter()
                .map(|e| partition(&e.region, &e.account_id, e.event_day()))
                .collect(),
        ),
    ]);
    let host = dns_queries()
        .iter()
        .find(|q| q.hostname == RARE_DOMAIN)
        .map(|q| q.src_ip.clone())
        .expect("the story resolves its rare domain");
    for narrowed in [true, false] {
        let filters = if narrowed {
            json!({"accounts": [account], "regions": ["eu-west-1"]})
        } else {
            json!({})
        };
        let wanted = |p: &String| {
            days.iter().any(|d| p.ends_with(&format!("eventDay={d}")))
                && (!narrowed
                    || (p.starts_with("region=eu-west-1/")
                        && p.contains(&format!("accountId={account}/"))))
        };
        for version in ["1", "2"] {
            let q = json!({"kind": "resource_timeline", "resource": host, "filters": filters});
            let frame = ask(&p, version, q, FROM, TO).await;
            let parts = frame.meta["custom"]["parts"]
                .as_array()
                .expect("parts in the meta");
            assert_eq!(parts.len(), 3, "v{version}: a part per source");
            for part in parts {
                let source = part["source"].as_str().unwrap();
                let needed: BTreeSet<String> =
                    held[source].iter().filter(|p| wanted(p)).cloned().collect();
                let read: BTreeSet<String> = part["partitions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect();
                assert!(!needed.is_empty(), "v{version} {source}");
                assert_eq!(read, needed, "v{version} {source} narrowed: {narrowed}");
                println!(
                    "pruning: v{version} resource_timeline {source} {filters}: partitions read {} of {} needed = {:.2}",
                    read.len(),
                    needed.len(),
                    read.len() as f64 / needed.len() as f64
                );
            }
        }
    }
    p.stop().await;
}
