//! End-to-end: `resource_timeline` through the real plugin binary on both source versions, its
//! DNS and CloudTrail rows checked against brute force over the fixture lake's generated records
//! for the demo story's resources; bad resources fail word for word; a long timeline is cut
//! with a notice.

use std::collections::BTreeMap;

use crate::common::{ask, config, dns_queries, plugin, query, rows, settings, t, trail_events};
use lakewatch::demo::{trail_story, RARE_DOMAIN};
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
