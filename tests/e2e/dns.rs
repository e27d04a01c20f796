//! End-to-end: the Route 53 kinds through the real plugin binary, on both source versions, each
//! answer checked against a brute-force computation over the generated resolver queries of the
//! fixture lake; the partitions each kind reads are exactly those its accounts, regions and days
//! (and baseline days) need; bad values fail word for word; top_domains runs on Athena (moto).

use std::collections::{BTreeMap, BTreeSet};

use crate::cloudtrail::{ask, ms, series, sql_order, text, Key, HOUR};
use crate::common::{
    assert_refused_word_for_word, config, dns_queries, hourly_series, partition_of, plugin, query,
    rows, t, BruteSeries,
};
use lakewatch::demo::{dns_story, DnsQuery, RARE_DOMAIN, TUNNEL_DOMAIN};
use lakewatch::frame::DecodedFrame;
use lakewatch::net::Cidr;
use lakewatch::plan::partitions::{event_day, utc_days};
use serde_json::{json, Value};

/// The last two days of the fixture lake, around the story (the rare domain and the tunnel are
/// on 15 June).
const FROM: &str = "2024-06-13T12:00:00Z";
const TO: &str = "2024-06-15T11:59:59.999Z";

fn in_range(q: &DnsQuery, from: &str, to: &str) -> bool {
    (t(from).timestamp_millis()..=t(to).timestamp_millis()).contains(&q.time_ms)
}

/// Prints a kind's answer size beside the brute force's (the figures of the test log).
fn figure(version: &str, what: &str, plugin: usize, brute: usize, queries: i64) {
    println!("figures: v{version} {what}: plugin {plugin} rows/series, brute force {brute}, over {queries} queries");
}

/// A dimension of a query, as the kinds compute it.
fn dim(q: &DnsQuery, name: &str) -> Key {
    match name {
        "account" => Some(q.account_id.clone()),
        "region" => Some(q.region.clone()),
        "domain" => Some(q.hostname.clone()),
        "query_type" => Some(q.query_type.to_string()),
        "rcode" => Some(q.rcode().to_string()),
        "vpc" => Some(q.vpc_id.clone()),
        "src_ip" => Some(q.src_ip.clone()),
        "instance" => q.instance_id.clone(),
        "parent_domain" => q.hostname.split_once('.').map(|(_, p)| p.to_string()),
        other => panic!("no dimension {other}"),
    }
}

fn keys(q: &DnsQuery, names: &[&str]) -> Vec<Key> {
    names.iter().map(|n| dim(q, n)).collect()
}

fn within(block: &str, ip: &str) -> bool {
    Cidr::parse(block).unwrap().contains(ip.parse().unwrap())
}

/// Distinct values of a dimension.
fn distinct(queries: &[&DnsQuery], name: &str) -> i64 {
    queries
        .iter()
        .filter_map(|q| dim(q, name))
        .collect::<BTreeSet<_>>()
        .len() as i64
}

/// The brute-force series: per group, `measure` of each hourly bucket's queries; the top `limit`
/// groups by total kept, the rest added up as `other`.
fn brute_series(
    labels: &[&str],
    keep: impl Fn(&DnsQuery) -> bool,
    measure: impl Fn(&[&DnsQuery]) -> i64,
    limit: Option<usize>,
) -> BruteSeries {
    hourly_series(
        dns_queries()
            .iter()
            .filter(|q| in_range(q, FROM, TO) && keep(q)),
        |q| q.time_ms,
        |q, l| dim(q, l).unwrap_or_default(),
        labels,
        measure,
        (FROM, TO),
        limit,
    )
}

#[tokio::test]
async fn dns_queries_match_brute_force() {
    let p = plugin().await;
    let range = (FROM, TO);
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "dns_queries", "group_by": ["rcode"]}),
            range,
            HOUR,
        )
        .await;
        let want = brute_series(&["rcode"], |_| true, |q| q.len() as i64, None);
        let codes: BTreeSet<&str> = want.keys().map(|l| l["rcode"].as_str()).collect();
        assert_eq!(codes, BTreeSet::from(["NOERROR", "NXDOMAIN", "SERVFAIL"]));
        assert_eq!(series(&frame), want, "v{version} by response code");
        let total: i64 = want.values().flatten().sum();
        figure(
            version,
            "dns_queries by rcode",
            series(&frame).len(),
            want.len(),
            total,
        );

        let frame = ask(
            &p,
            version,
            json!({"kind": "dns_queries", "measure": "sources", "group_by": ["query_type", "account"],
                   "filters": {"regions": ["us-east-1"], "exclude_ip": "10.0.0.0/24"}}),
            range,
            HOUR,
        )
        .await;
        let want = brute_series(
            &["query_type", "account"],
            |q| q.region == "us-east-1" && !within("10.0.0.0/24", &q.src_ip),
            |qs| distinct(qs, "src_ip"),
            None,
        );
        assert!(
            want.keys().any(|l| l["query_type"] == "TXT"),
            "the tunnel's lookups"
        );
        assert_eq!(series(&frame), want, "v{version} sources by type");

        let frame = ask(
            &p,
            version,
            json!({"kind": "dns_queries", "measure": "domains", "group_by": ["vpc"], "limit": 2,
                   "filters": {"query_types": ["a"], "domains": ["API.github.com", "pypi.org."]}}),
            range,
            HOUR,
        )
        .await;
        let want = brute_series(
            &["vpc"],
            |q| {
                q.query_type == "A"
                    && ["api.github.com.", "pypi.org."].contains(&q.hostname.as_str())
            },
            |qs| distinct(qs, "domain"),
            Some(2),
        );
        assert_eq!(want.len(), 3, "{want:?}");
        assert_eq!(series(&frame), want, "v{version} domains per VPC");
    }
    p.stop().await;
}

/// A ranking row: keys, then queries, sources, first and last query.
type RankRow = (Vec<Key>, [i64; 4]);

/// The brute-force ranking over `[read_from, to]`, kept when the group's first query is at or
/// after `first_from` (new domains), ranked by column `rank`.
fn brute_rank(
    group_by: &[&str],
    keep: impl Fn(&DnsQuery) -> bool,
    (read_from, first_from, to): (&str, &str, &str),
    rank: usize,
    limit: usize,
) -> Vec<RankRow> {
    let mut groups: BTreeMap<Vec<Key>, Vec<&DnsQuery>> = BTreeMap::new();
    for q in dns_queries()
        .iter()
        .filter(|q| in_range(q, read_from, to) && keep(q))
    {
        groups.entry(keys(q, group_by)).or_default().push(q);
    }
    let mut out: Vec<RankRow> = groups
        .into_iter()
        .map(|(k, qs)| {
            let first = qs.iter().map(|q| q.time_ms).min().unwrap();
            let last = qs.iter().map(|q| q.time_ms).max().unwrap();
            (k, [qs.len() as i64, distinct(&qs, "src_ip"), first, last])
        })
        .filter(|(_, v)| v[2] >= t(first_from).timestamp_millis())
        .collect();
    out.sort_by(|a, b| b.1[rank].cmp(&a.1[rank]).then(sql_order(&a.0, &b.0)));
    out.truncate(limit);
    out
}

fn table_rank(frame: &DecodedFrame, group_by: &[&str]) -> Vec<RankRow> {
    rows(frame)
        .into_iter()
        .map(|row| {
            let n = |c: &str| row[c].as_i64().unwrap();
            let keys = group_by.iter().map(|c| text(&row[*c])).collect();
            (
                keys,
                [
                    n("queries"),
                    n("sources"),
                    ms(&row["first_seen"]),
                    ms(&row["last_seen"]),
                ],
            )
        })
        .collect()
}

/// One labelled number per row of a ranking as series: (labels, value).
fn series_rows(frame: &DecodedFrame) -> Vec<(BTreeMap<String, String>, Value)> {
    assert_eq!(frame.meta["type"], "timeseries-wide");
    frame.fields[1..]
        .iter()
        .map(|f| (f.labels.clone(), f.values[0].clone()))
        .collect()
}

#[tokio::test]
async fn domain_rankings_match_brute_force() {
    let p = plugin().await;
    let range = (FROM, TO);
    let whole = (FROM, FROM, TO);
    for version in ["1", "2"] {
        let frame = ask(&p, version, json!({"kind": "top_domains"}), range, HOUR).await;
        let want = brute_rank(&["domain"], |_| true, whole, 0, 20);
        assert_eq!(want.len(), 20);
        assert_eq!(
            table_rank(&frame, &["domain"]),
            want,
            "v{version} top domains"
        );
        let total: i64 = want.iter().map(|(_, v)| v[0]).sum();
        figure(
            version,
            "top_domains",
            rows(&frame).len(),
            want.len(),
            total,
        );

        let groups = ["account", "domain"];
        let frame = ask(
            &p,
            version,
            json!({"kind": "top_domains", "measure": "sources", "group_by": groups, "limit": 7,
                   "filters": {"rcodes": ["noerror"], "ips": ["10.0.0.0/8"]}}),
            range,
            HOUR,
        )
        .await;
        let want = brute_rank(
            &groups,
            |q| q.rcode_id == 0 && within("10.0.0.0/8", &q.src_ip),
            whole,
            1,
            7,
        );
        assert_eq!(table_rank(&frame, &groups), want, "v{version} by sources");

        // Parent domains: the tunnel's random names are one group.
        let frame = ask(
            &p,
            version,
            json!({"kind": "top_domains", "group_by": ["parent_domain", "region"], "limit": 10}),
            range,
            HOUR,
        )
        .await;
        let want = brute_rank(&["parent_domain", "region"], |_| true, whole, 0, 10);
        assert!(want
            .iter()
            .any(|(k, _)| k[0].as_deref() == Some(TUNNEL_DOMAIN)));
        assert_eq!(
            table_rank(&frame, &["parent_domain", "region"]),
            want,
            "v{version} parents"
        );

        let groups = ["vpc", "src_ip", "domain", "rcode"];
        let frame = ask(&p, version, json!({"kind": "nxdomain"}), range, HOUR).await;
        let want = brute_rank(&groups, |q| q.rcode_id != 0, whole, 0, 50);
        assert!(want
            .iter()
            .any(|(k, _)| k[3].as_deref() == Some("SERVFAIL")));
        assert_eq!(
            table_rank(&frame, &groups),
            want,
            "v{version} failed lookups"
        );
        let total: i64 = want.iter().map(|(_, v)| v[0]).sum();
        figure(version, "nxdomain", rows(&frame).len(), want.len(), total);

        let frame = ask(
            &p,
            version,
            json!({"kind": "nxdomain", "group_by": ["src_ip"], "format": "series",
                   "filters": {"rcodes": "NXDOMAIN", "accounts": [config().account_ids()[0]]}}),
            range,
            HOUR,
        )
        .await;
        let account = config().account_ids()[0].clone();
        let want = brute_rank(
            &["src_ip"],
            |q| q.rcode_id == 3 && q.account_id == account,
            whole,
            0,
            50,
        );
        let got: Vec<(Key, i64)> = series_rows(&frame)
            .into_iter()
            .map(|(l, v)| (Some(l["src_ip"].clone()), v.as_f64().unwrap() as i64))
            .collect();
        let mut want: Vec<(Key, i64)> = want
            .into_iter()
            .map(|(k, v)| (k[0].clone(), v[0]))
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        want.sort();
        assert_eq!(got_sorted, want, "v{version} NXDOMAIN per source as series");
    }
    p.stop().await;
}

#[tokio::test]
async fn new_domains_are_absent_from_the_baseline_days() {
    let p = plugin().await;
    // The last day: the tunnel's names and the rare domain are new; the everyday names are not.
    let (from, to) = ("2024-06-15T00:00:00Z", "2024-06-15T11:59:59.999Z");
    for version in ["1", "2"] {
        for days in [3, 7] {
            let frame = ask(
                &p,
                version,
                json!({"kind": "new_domains", "baseline_days": days, "limit": 500}),
                (from, to),
                HOUR,
            )
            .await;
            let read_from = t(from) - chrono::Duration::days(days);
            let read_from = read_from.to_rfc3339();
            let want = brute_rank(&["domain"], |_| true, (&read_from, from, to), 0, 500);
            assert_eq!(
                table_rank(&frame, &["domain"]),
                want,
                "v{version} {days} days"
            );
            let total: i64 = want.iter().map(|(_, v)| v[0]).sum();
            let what = format!("new_domains {days} days");
            figure(version, &what, rows(&frame).len(), want.len(), total);
            let names: BTreeSet<String> = want.iter().filter_map(|(k, _)| k[0].clone()).collect();
            assert!(names.contains(RARE_DOMAIN), "{names:?}");
            assert!(
                names
                    .iter()
                    .all(|n| n == RARE_DOMAIN || n.ends_with(TUNNEL_DOMAIN)),
                "{names:?}"
            );
        }
        // As the alert rule reads it: one series per new domain.
        let frame = ask(
            &p,
            version,
            json!({"kind": "new_domains", "format": "series", "filters": {"query_types": ["A"]}}),
            (from, to),
            HOUR,
        )
        .await;
        let got = series_rows(&frame);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0["domain"], RARE_DOMAIN);
        assert_eq!(got[0].1, json!(1.0));
    }
    p.stop().await;
}

#[tokio::test]
async fn dns_tunneling_matches_brute_force() {
    let p = plugin().await;
    let story = dns_story(&config());
    for version in ["1", "2"] {
        for (min_len, min_subs) in [(30, 20), (45, 2), (10, 2)] {
            let frame = ask(
                &p,
                version,
                json!({"kind": "dns_tunneling", "min_label_length": min_len, "min_subdomains": min_subs, "limit": 100}),
                (FROM, TO),
                HOUR,
            )
            .await;
            let label = |q: &DnsQuery| q.hostname.split('.').next().unwrap_or("").to_string();
            let mut groups: BTreeMap<Vec<Key>, Vec<&DnsQuery>> = BTreeMap::new();
            for q in dns_queries().iter().filter(|q| in_range(q, FROM, TO)) {
                if label(q).chars().count() >= min_len {
                    groups
                        .entry(keys(q, &["vpc", "src_ip", "parent_domain"]))
                        .or_default()
                        .push(q);
                }
            }
            let mut want: Vec<(Vec<Key>, [i64; 5])> = groups
                .into_iter()
                .map(|(k, qs)| {
                    let labels: BTreeSet<String> = qs.iter().map(|q| label(q)).collect();
                    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap() as i64;
                    let first = qs.iter().map(|q| q.time_ms).min().unwrap();
                    let last = qs.iter().map(|q| q.time_ms).max().unwrap();
                    (
                        k,
                        [qs.len() as i64, labels.len() as i64, longest, first, last],
                    )
                })
                .filter(|(_, v)| v[1] >= min_subs)
                .collect();
            want.sort_by(|a, b| b.1[1].cmp(&a.1[1]).then(sql_order(&a.0, &b.0)));
            let got: Vec<(Vec<Key>, [i64; 5])> = rows(&frame)
                .into_iter()
                .map(|row| {
                    let n = |c: &str| row[c].as_i64().unwrap();
                    let keys = ["vpc", "src_ip", "parent_domain"]
                        .iter()
                        .map(|c| text(&row[*c]))
                        .collect();
                    (
                        keys,
                        [
                            n("queries"),
                            n("subdomains"),
                            n("longest_label"),
                            ms(&row["first_seen"]),
                            ms(&row["last_seen"]),
                        ],
                    )
                })
                .collect();
            assert_eq!(got, want, "v{version} {min_len}/{min_subs}");
            let total: i64 = want.iter().map(|(_, v)| v[0]).sum();
            figure(
                version,
                &format!("dns_tunneling {min_len}/{min_subs}"),
                got.len(),
                want.len(),
                total,
            );
            if min_len == 30 {
                assert_eq!(want[0].0[1].as_deref(), Some(story.tunnel_source.as_str()));
                assert_eq!(want[0].0[2].as_deref(), Some(TUNNEL_DOMAIN));
            }
            // Everyday names have short labels and few per parent: only the tunnel is caught,
            // however low the thresholds go.
            assert_eq!(want.len(), 1, "v{version} {min_len}/{min_subs}");
        }
    }
    p.stop().await;
}

/// The partitions of the Route 53 table the fixture lake holds.
fn dns_partitions() -> BTreeSet<String> {
    dns_queries()
        .iter()
        .map(|q| partition_of(q.time_ms, &q.region, &q.account_id))
        .collect()
}

#[tokio::test]
async fn each_kind_reads_only_the_partitions_it_needs() {
    let p = plugin().await;
    let account = config().account_ids()[1].clone();
    let (from, to) = ("2024-06-12T22:30:00Z", "2024-06-14T03:15:00Z");
    let needed_of = |from: &str, narrowed: bool| -> BTreeSet<String> {
        let days: Vec<String> = utc_days(t(from), t(to))
            .into_iter()
            .map(event_day)
            .collect();
        dns_partitions()
            .into_iter()
            .filter(|p| days.iter().any(|d| p.ends_with(&format!("eventDay={d}"))))
            .filter(|p| {
                !narrowed
                    || (p.starts_with("region=eu-west-1/")
                        && p.contains(&format!("accountId={account}/")))
            })
            .collect()
    };
    let baseline_from = "2024-06-09T00:00:00Z";
    for narrowed in [true, false] {
        let filters = if narrowed {
            json!({"accounts": [account], "regions": ["eu-west-1"]})
        } else {
            json!({})
        };
        let queries = [
            (
                json!({"kind": "dns_queries", "group_by": ["rcode"], "filters": filters}),
                from,
            ),
            (json!({"kind": "top_domains", "filters": filters}), from),
            (json!({"kind": "nxdomain", "filters": filters}), from),
            (
                json!({"kind": "new_domains", "baseline_days": 3, "filters": filters}),
                baseline_from,
            ),
            (json!({"kind": "dns_tunneling", "filters": filters}), from),
            (
                json!({"kind": "variable", "values": "rcodes", "filters": filters}),
                from,
            ),
            (
                json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(route53) WHERE $__partitionFilter", "filters": filters}),
                from,
            ),
        ];
        for version in ["1", "2"] {
            for (q, read_from) in &queries {
                let needed = needed_of(read_from, narrowed);
                assert_eq!(
                    needed.len(),
                    if narrowed { 3 } else { 12 }
                        + if *read_from == from {
                            0
                        } else if narrowed {
                            3
                        } else {
                            12
                        }
                );
                let frame = ask(&p, version, q.clone(), (from, to), HOUR).await;
                let read: BTreeSet<String> = frame.meta["custom"]["partitions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect();
                assert_eq!(read, needed, "v{version} {q}");
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
async fn bad_domains_and_foreign_filters_fail_word_for_word() {
    let p = plugin().await;
    let cases = [
        (
            json!({"kind": "top_domains", "filters": {"domains": ["x.com' OR '1'='1"]}}),
            "query field `filters.domains[0]` has the value \"x.com' OR '1'='1\": expected a domain name such as api.example.com: letters, digits, '-', '_' and '.', up to 253 characters",
        ),
        (
            json!({"kind": "dns_tunneling", "filters": {"principals": ["arn:aws:iam::1:user/a"]}}),
            "query field `filters.principals` has the value [\"arn:aws:iam::1:user/a\"]: dns_tunneling filters by accounts, regions, domains, query_types, rcodes, vpcs, src_ip, exclude_ip; remove this filter",
        ),
    ];
    assert_refused_word_for_word(&p, &cases, FROM, TO).await;
    p.stop().await;
}

/// On Athena (moto in server mode as the AWS peer): a top_domains panel gets typed frames from
/// the partition-pruned SQL of its plan, which reached Athena once.
#[tokio::test]
async fn top_domains_run_on_athena_with_typed_frames_from_the_pruned_sql() {
    use crate::common::moto::{
        assert_planned_sql_ran_once, athena_v2_settings, cells, hour, Moto, DEFAULT_ACCOUNT, FROM,
        REGION, TO,
    };
    let moto = Moto::start();
    let columns = vec![
        ("domain", "varchar"),
        ("queries", "bigint"),
        ("sources", "bigint"),
        ("first_seen", "bigint"),
        ("last_seen", "bigint"),
    ];
    let rows_in = [
        ("api.github.com.", "42", "3", 0, 2),
        ("wpad.ec2.internal.", "7", "1", 1, 1),
    ];
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(
            columns,
            rows_in
                .iter()
                .map(|(d, q, s, f, l)| cells(&[d, q, s, &hour(*f), &hour(*l)]))
                .collect(),
        )],
    );
    let p = plugin().await;
    let q = json!({"kind": "top_domains", "filters": {"accounts": ["111122223333"], "query_types": ["A"]}});
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
    let at = |h: i64| t(FROM).timestamp_millis() + h * HOUR;
    assert_eq!(
        table_rank(frame, &["domain"]),
        vec![
            (
                vec![Some("api.github.com.".to_string())],
                [42, 3, at(0), at(2)]
            ),
            (
                vec![Some("wpad.ec2.internal.".to_string())],
                [7, 1, at(1), at(1)]
            ),
        ]
    );
    // Exactly the partition-pruned SQL of the plan reached Athena, once.
    assert_planned_sql_ran_once(
        &moto,
        frame,
        &q,
        "amazon_security_lake_table_us_east_1_route53_2_0",
    )
    .await;
    p.stop().await;
}
