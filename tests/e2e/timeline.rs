//! End-to-end: `resource_timeline` through the real plugin binary on both source versions, its
//! flow, DNS, CloudTrail and finding rows checked against brute force over the fixture lake's
//! generated records for the demo story's resources (a VPC's flows with the host inside it and
//! the far end told apart); each source's part reads exactly the partitions it needs; bad
//! resources and sources fail word for word; a long timeline is cut with a notice.

use std::collections::{BTreeMap, BTreeSet};

use crate::cloudtrail::text;
use crate::common::{
    ask, config, dns_queries, plugin, query, records, rows, settings, t, trail_events,
};
use crate::findings::every_finding;
use lakewatch::demo::{egress_burst, trail_story, FlowDirection, FlowRecord, C2_TYPE, RARE_DOMAIN};
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
    let host = burst_host();
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

/// The address that resolves the story's rare domain: the egress burst's host.
fn burst_host() -> String {
    dns_queries()
        .iter()
        .find(|q| q.hostname == RARE_DOMAIN)
        .map(|q| q.src_ip.clone())
        .expect("the story resolves its rare domain")
}

/// The burst host's instance id, as the story's command-and-control finding names it.
fn burst_instance() -> String {
    every_finding()
        .iter()
        .find(|f| f.finding_type == C2_TYPE)
        .and_then(|f| f.resource_uid.rsplit('/').next())
        .expect("the story's C2 finding names an instance")
        .to_string()
}

/// A flow row's resource side and peer.
type Ends = (Option<String>, Option<String>);

/// Flows and bytes per hour × resource side × peer of one source's rows of the plugin's frame.
fn flows_by_ends(frame: &[BTreeMap<String, Value>]) -> BTreeMap<(i64, Ends), (i64, i64)> {
    let mut out: BTreeMap<(i64, Ends), (i64, i64)> = BTreeMap::new();
    for row in frame.iter().filter(|r| r["source"] == "flows") {
        let key = (
            crate::cloudtrail::ms(&row["time"]),
            (text(&row["resource"]), text(&row["peer"])),
        );
        let e = out.entry(key).or_default();
        e.0 += row["count"].as_i64().expect("a count");
        e.1 += row["bytes"].as_i64().expect("bytes");
    }
    out
}

/// Brute force: the records in range `matched` picks, by hour and the ends `ends` tells.
fn brute_flows(
    matched: impl Fn(&FlowRecord) -> bool,
    ends: impl Fn(&FlowRecord) -> Ends,
) -> BTreeMap<(i64, Ends), (i64, i64)> {
    let mut out: BTreeMap<(i64, Ends), (i64, i64)> = BTreeMap::new();
    for r in records()
        .iter()
        .filter(|r| in_range(r.start_ms) && matched(r))
    {
        let e = out.entry((hour_of(r.start_ms), ends(r))).or_default();
        e.0 += 1;
        e.1 += r.bytes;
    }
    out
}

/// The flows of the burst host's address and of the stolen key's address, hour by hour, with
/// the address as the resource side and the other end as the peer.
#[tokio::test]
async fn flows_of_an_address_match_brute_force() {
    let p = plugin().await;
    let stolen = trail_story(&config()).address.to_string();
    // The stolen key is used from outside AWS: its address has no flow in the lake, and none is
    // invented.
    for (address, any) in [(burst_host(), true), (stolen, false)] {
        let of = |a: &Option<String>| a.as_deref() == Some(address.as_str());
        let brute = brute_flows(
            |r| of(&r.src_addr) || of(&r.dst_addr),
            |r| {
                let local = Some(address.clone());
                if of(&r.src_addr) {
                    (local, r.dst_addr.clone())
                } else {
                    (local, r.src_addr.clone())
                }
            },
        );
        assert_eq!(!brute.is_empty(), any, "{address}");
        for version in ["1", "2"] {
            let q = json!({"kind": "resource_timeline", "resource": address, "sources": ["flows"], "limit": 10000});
            let frame = rows(&ask(&p, version, q, FROM, TO).await);
            let plugin = flows_by_ends(&frame);
            println!(
                "figures: v{version} flows of {address}: plugin {} rows, {} hour × peer groups, brute force {} groups of {} flows",
                frame.len(),
                plugin.len(),
                brute.len(),
                brute.values().map(|v| v.0).sum::<i64>()
            );
            assert_eq!(plugin, brute, "v{version} {address}");
        }
    }
}

/// A VPC's flows: the resource side is the host inside the VPC — the side the logging interface
/// is on, or, where a NAT gateway's interface forwarded a host's packet, that host — and the peer
/// the other end; checked against the addresses the VPC's interfaces log as their own, for the
/// burst host's VPC and for the VPC of the same account and region with the NAT gateway.
#[tokio::test]
async fn flows_of_a_vpc_name_the_host_inside_and_the_far_end() {
    let p = plugin().await;
    let (account, region, burst_vpc, _) = egress_burst(&config());
    let nat_vpc = records()
        .iter()
        .find(|r| r.account_id == account && r.region == region && r.dst_interface_addr.is_some())
        .map(|r| r.vpc_id.clone())
        .expect("a NAT gateway forwards packets in every account and region");
    for vpc in [burst_vpc, nat_vpc] {
        let brute = brute_flows(|r| r.vpc_id == vpc, |r| vpc_ends(&vpc, r));
        let forwarded = brute_flows(
            |r| {
                r.vpc_id == vpc
                    && (r.src_interface_addr.is_some() || r.dst_interface_addr.is_some())
            },
            |r| (r.src_addr.clone(), r.dst_addr.clone()),
        );
        for version in ["1", "2"] {
            let q = json!({"kind": "resource_timeline", "resource": vpc, "sources": ["flows"], "limit": 10000});
            let frame = rows(&ask(&p, version, q, FROM, TO).await);
            let plugin = flows_by_ends(&frame);
            println!(
                "figures: v{version} flows of {vpc}: plugin {} rows, {} hour × host × peer groups, brute force {} groups of {} flows ({} forwarded by a NAT gateway)",
                frame.len(),
                plugin.len(),
                brute.len(),
                brute.values().map(|v| v.0).sum::<i64>(),
                forwarded.values().map(|v| v.0).sum::<i64>(),
            );
            assert_eq!(plugin, brute, "v{version} {vpc}");
        }
    }
}

/// The ends of a VPC's flow by what the lake says of the VPC's addresses: every address an
/// interface of the VPC logs as its own (srcaddr of egress, dstaddr of ingress) is inside; the
/// side inside is the resource's, the logging interface's side where both or neither are.
fn vpc_ends(vpc: &str, r: &FlowRecord) -> Ends {
    static INSIDE: std::sync::OnceLock<BTreeMap<String, BTreeSet<String>>> =
        std::sync::OnceLock::new();
    let inside = INSIDE.get_or_init(|| {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in records() {
            let own = match r.direction {
                FlowDirection::Egress => r.interface_src_addr(),
                FlowDirection::Ingress => r.interface_dst_addr(),
            };
            if let Some(own) = own {
                out.entry(r.vpc_id.clone())
                    .or_default()
                    .insert(own.to_string());
            }
        }
        out
    });
    let is_inside = |a: &Option<String>| a.as_ref().is_some_and(|a| inside[vpc].contains(a));
    let (src, dst) = (r.src_addr.clone(), r.dst_addr.clone());
    let src_is_local = match (is_inside(&src), is_inside(&dst)) {
        (true, false) => true,
        (false, true) => false,
        _ => r.direction == FlowDirection::Egress,
    };
    if src_is_local {
        (src, dst)
    } else {
        (dst, src)
    }
}

/// The findings of the burst host's instance and of its VPC: every update, by hour, finding,
/// severity and status, with the finding's resource and id in their columns.
#[tokio::test]
async fn findings_of_an_instance_and_a_vpc_match_brute_force() {
    let p = plugin().await;
    let (_, _, vpc, _) = egress_burst(&config());
    for id in [burst_instance(), vpc] {
        let mut brute: BTreeMap<(i64, String, String, String, String), i64> = BTreeMap::new();
        for f in every_finding().iter().filter(|f| {
            in_range(f.time_ms) && f.resource_uid.rsplit('/').next() == Some(id.as_str())
        }) {
            let status = if !f.status.is_empty() {
                f.status
            } else if f.record_state == "ARCHIVED" {
                "ARCHIVED"
            } else {
                f.workflow
            };
            let severity = [
                "Unknown",
                "Informational",
                "Low",
                "Medium",
                "High",
                "Critical",
            ][f.severity_id as usize];
            let key = (
                hour_of(f.time_ms),
                f.finding_uid.clone(),
                f.resource_uid.clone(),
                severity.to_string(),
                status.to_string(),
            );
            *brute.entry(key).or_default() += 1;
        }
        for version in ["1", "2"] {
            let q = json!({"kind": "resource_timeline", "resource": id, "sources": ["findings"], "limit": 10000});
            let frame = rows(&ask(&p, version, q, FROM, TO).await);
            let mut plugin: BTreeMap<(i64, String, String, String, String), i64> = BTreeMap::new();
            for row in frame.iter().filter(|r| r["source"] == "findings") {
                let summary = row["summary"].as_str().unwrap();
                let key = (
                    crate::cloudtrail::ms(&row["time"]),
                    row["finding_id"].as_str().unwrap().to_string(),
                    row["resource"].as_str().unwrap().to_string(),
                    row["severity"].as_str().unwrap().to_string(),
                    summary.rsplit(' ').next().unwrap().to_string(),
                );
                *plugin.entry(key).or_default() += row["count"].as_i64().unwrap();
            }
            println!(
                "figures: v{version} findings of {id}: plugin {} rows, brute force {} hour × finding groups of {} updates",
                frame.len(),
                brute.len(),
                brute.values().sum::<i64>()
            );
            assert!(!brute.is_empty(), "{id}");
            assert_eq!(plugin, brute, "v{version} {id}");
        }
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
    let q = json!({"kind": "resource_timeline", "resource": "10.0.1.5", "sources": ["flows", "guardduty"]});
    let answer = p
        .query(&settings("2"), &[query("A", q, FROM, TO, 60_000)], &[])
        .await
        .unwrap();
    assert_eq!(
        answer["A"].error,
        "query field `sources` has the value \"guardduty\": expected flows, dns, cloudtrail or findings"
    );
    let host = dns_queries()[0].src_ip.clone();
    let q = json!({"kind": "resource_timeline", "resource": host, "limit": 3});
    let frame = ask(&p, "2", q, FROM, TO).await;
    assert_eq!(rows(&frame).len(), 3);
    let notices = notices(&frame);
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("Showing the first 3 of ")),
        "{notices:?}"
    );
    let skipped = format!("The timeline leaves out findings: its records cannot name {host}.");
    assert!(notices.contains(&skipped), "{notices:?}");
}

/// The notices of a frame, as text.
fn notices(frame: &lakewatch::frame::DecodedFrame) -> Vec<String> {
    frame.meta["notices"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A datasource that may not read the findings answers an instance's timeline without them,
/// saying why in a notice.
#[tokio::test]
async fn a_datasource_that_may_not_read_findings_leaves_them_out_with_a_notice() {
    let p = plugin().await;
    let mut flows_only = settings("2");
    flows_only["allowedSources"] = json!(["vpc_flow"]);
    let instance = burst_instance();
    let q = json!({"kind": "resource_timeline", "resource": instance, "sources": ["flows", "findings"]});
    let answer = p
        .query(&flows_only, &[query("A", q, FROM, TO, 60_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["A"].error, "");
    let frame = &answer["A"].frames[0];
    assert!(
        notices(frame).contains(&"The timeline leaves out findings: this datasource does not read sh_findings (setting `allowedSources`: vpc_flow); use a datasource that may, or ask an admin.".to_string()),
        "{:?}",
        notices(frame)
    );
    let frame = rows(frame);
    assert!(!frame.is_empty());
    assert!(frame.iter().all(|r| r["source"] == "flows"));
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
        (
            "findings",
            every_finding()
                .iter()
                .map(|f| partition(&f.region, &f.account_id, day_of(f.time_ms)))
                .collect(),
        ),
    ]);
    // An address has no findings part; an instance has all four.
    let resources = [(burst_host(), 3), (burst_instance(), 4)];
    for ((resource, sources), narrowed) in resources.iter().flat_map(|r| [(r, true), (r, false)]) {
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
            let q = json!({"kind": "resource_timeline", "resource": resource, "filters": filters});
            let frame = ask(&p, version, q, FROM, TO).await;
            let parts = frame.meta["custom"]["parts"]
                .as_array()
                .expect("parts in the meta");
            assert_eq!(
                parts.len(),
                *sources,
                "v{version} {resource}: a part per source"
            );
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
                    "pruning: v{version} resource_timeline {resource} {source} {filters}: partitions read {} of {} needed = {:.2}",
                    read.len(),
                    needed.len(),
                    read.len() as f64 / needed.len() as f64
                );
            }
        }
    }
    p.stop().await;
}
