//! End-to-end: the AWS WAF kinds through the real plugin binary on source version 2, each answer
//! checked against a brute-force computation over the generated requests of the fixture lake;
//! version 1 refuses them, saying WAF logs exist only in version 2; the partitions each kind
//! reads are exactly those its accounts, regions and days need; bad values fail word for word;
//! top_blocked runs on Athena (moto).

use std::collections::{BTreeMap, BTreeSet};

use crate::cloudtrail::{ask, ms, series, sql_order, text, Key, HOUR};
use crate::common::{
    assert_refused_word_for_word, config, hourly_series, partition_of, plugin, query, rows,
    settings, t, waf_requests, BruteSeries,
};
use lakewatch::demo::{trail_story, WafRequest, RATE_LIMITED_CLIENT, RATE_RULE};
use lakewatch::frame::DecodedFrame;
use lakewatch::net::Cidr;
use lakewatch::plan::partitions::{event_day, utc_days};
use serde_json::{json, Value};

/// The last two days of the fixture lake, around the story (the probes of the stolen key's
/// address on 14 June, the rate-limited client's afternoons).
const FROM: &str = "2024-06-13T12:00:00Z";
const TO: &str = "2024-06-15T11:59:59.999Z";

/// What version 1 answers every WAF query.
const V1_ERROR: &str = "WAF logs exist only in source version 2: Security Lake has no waf_1_0 table, and this datasource reads source version 1; use a datasource set to source version 2";

fn in_range(r: &WafRequest) -> bool {
    (t(FROM).timestamp_millis()..=t(TO).timestamp_millis()).contains(&r.time_ms)
}

/// A dimension of a request, as the kinds compute it.
fn dim(r: &WafRequest, name: &str) -> String {
    match name {
        "account" => r.account_id.clone(),
        "region" => r.region.clone(),
        "action" => r.action().to_string(),
        "rule" => r.rule.to_string(),
        "rule_type" => r.rule_type.to_string(),
        "web_acl" => r.web_acl.clone(),
        "country" => r.country.to_string(),
        "src_ip" => r.src_ip.clone(),
        "path" => r.path.to_string(),
        "host" => r.host.to_string(),
        "method" => r.method.to_string(),
        other => panic!("no dimension {other}"),
    }
}

fn within(block: &str, ip: &str) -> bool {
    Cidr::parse(block).unwrap().contains(ip.parse().unwrap())
}

fn clients(requests: &[&WafRequest]) -> i64 {
    requests
        .iter()
        .map(|r| &r.src_ip)
        .collect::<BTreeSet<_>>()
        .len() as i64
}

/// Prints a kind's answer size beside the brute force's (the figures of the test log).
fn figure(what: &str, plugin: usize, brute: usize) {
    let n = waf_requests().iter().filter(|r| in_range(r)).count();
    println!(
        "figures: v2 {what}: plugin {plugin} rows/series, brute force {brute}, over {n} requests"
    );
}

/// The brute-force series: per group, `measure` of each hourly bucket's requests; the top `limit`
/// groups by total kept, the rest added up as `other`.
fn brute_series(
    labels: &[&str],
    keep: impl Fn(&WafRequest) -> bool,
    measure: impl Fn(&[&WafRequest]) -> i64,
    limit: Option<usize>,
) -> BruteSeries {
    hourly_series(
        waf_requests().iter().filter(|r| in_range(r) && keep(r)),
        |r| r.time_ms,
        dim,
        labels,
        measure,
        (FROM, TO),
        limit,
    )
}

#[tokio::test]
async fn waf_requests_match_brute_force() {
    let p = plugin().await;
    let range = (FROM, TO);
    let q = json!({"kind": "waf_requests", "group_by": ["action"]});
    let frame = ask(&p, "2", q, range, HOUR).await;
    let want = brute_series(&["action"], |_| true, |rs| rs.len() as i64, None);
    let actions: BTreeSet<&str> = want.keys().map(|l| l["action"].as_str()).collect();
    assert_eq!(actions, BTreeSet::from(["ALLOW", "BLOCK", "CAPTCHA"]));
    assert_eq!(series(&frame), want, "by action");
    figure("waf_requests by action", series(&frame).len(), want.len());

    let q = json!({"kind": "waf_requests", "measure": "clients", "group_by": ["country", "method"],
                   "filters": {"hosts": ["Shop.Example.com"], "exclude_ip": "203.0.113.0/24", "regions": ["us-east-1"]}});
    let frame = ask(&p, "2", q, range, HOUR).await;
    let want = brute_series(
        &["country", "method"],
        |r| r.region == "us-east-1" && !within("203.0.113.0/24", &r.src_ip),
        clients,
        None,
    );
    assert!(!want
        .keys()
        .any(|l| l["country"] == "US" && l["method"] == "POST"));
    assert_eq!(series(&frame), want, "clients by country and method");
    figure(
        "waf_requests clients by country, method",
        series(&frame).len(),
        want.len(),
    );

    let q = json!({"kind": "waf_requests", "group_by": ["src_ip"], "limit": 3,
                   "filters": {"actions": ["block"], "rule_types": ["MANAGED_RULE_GROUP"]}});
    let frame = ask(&p, "2", q, range, HOUR).await;
    let want = brute_series(
        &["src_ip"],
        |r| r.action() == "BLOCK" && r.rule_type == "MANAGED_RULE_GROUP",
        |rs| rs.len() as i64,
        Some(3),
    );
    assert_eq!(
        want.len(),
        4,
        "three scanners kept, the story's prober folded: {want:?}"
    );
    assert_eq!(series(&frame), want, "blocked by managed rules per client");
    figure(
        "waf_requests blocked per client, limit 3",
        series(&frame).len(),
        want.len(),
    );
    p.stop().await;
}

/// A ranking row: keys, then requests, clients, first and last request.
type RankRow = (Vec<Key>, [i64; 4]);

fn brute_rank(group_by: &[&str], keep: impl Fn(&WafRequest) -> bool, limit: usize) -> Vec<RankRow> {
    let mut groups: BTreeMap<Vec<Key>, Vec<&WafRequest>> = BTreeMap::new();
    for r in waf_requests().iter().filter(|r| in_range(r) && keep(r)) {
        let key = group_by.iter().map(|g| Some(dim(r, g))).collect();
        groups.entry(key).or_default().push(r);
    }
    let mut out: Vec<RankRow> = groups
        .into_iter()
        .map(|(k, rs)| {
            let first = rs.iter().map(|r| r.time_ms).min().unwrap();
            let last = rs.iter().map(|r| r.time_ms).max().unwrap();
            (k, [rs.len() as i64, clients(&rs), first, last])
        })
        .collect();
    out.sort_by(|a, b| b.1[0].cmp(&a.1[0]).then(sql_order(&a.0, &b.0)));
    out.truncate(limit);
    out
}

fn table_rank(frame: &DecodedFrame, group_by: &[&str]) -> Vec<RankRow> {
    rows(frame)
        .into_iter()
        .map(|row| {
            let n = |c: &str| row[c].as_i64().unwrap();
            let keys = group_by.iter().map(|c| text(&row[*c])).collect();
            let counts = [n("requests"), n("clients")];
            let times = [ms(&row["first_seen"]), ms(&row["last_seen"])];
            (keys, [counts[0], counts[1], times[0], times[1]])
        })
        .collect()
}

#[tokio::test]
async fn rankings_match_brute_force() {
    let p = plugin().await;
    let range = (FROM, TO);
    let blocked = |r: &WafRequest| r.action() == "BLOCK";
    let cases: [(Value, &[&str], bool); 4] = [
        (
            json!({"kind": "top_blocked"}),
            &["src_ip", "country"],
            false,
        ),
        (
            json!({"kind": "top_blocked", "by": "uris"}),
            &["host", "path"],
            false,
        ),
        (
            json!({"kind": "top_blocked", "by": "rules", "limit": 3}),
            &["rule", "rule_type"],
            false,
        ),
        (json!({"kind": "rate_limited"}), &["src_ip", "rule"], true),
    ];
    for (q, group_by, rate) in cases {
        let limit = q["limit"].as_u64().unwrap_or(20) as usize;
        let frame = ask(&p, "2", q.clone(), range, HOUR).await;
        let want = if rate {
            brute_rank(group_by, |r| r.rule_type == "RATE_BASED", limit)
        } else {
            brute_rank(group_by, blocked, limit)
        };
        assert!(!want.is_empty(), "{q}");
        assert_eq!(table_rank(&frame, group_by), want, "{q}");
        figure(&q.to_string(), rows(&frame).len(), want.len());
    }
    let story = trail_story(&config());
    let frame = ask(
        &p,
        "2",
        json!({"kind": "top_blocked", "filters": {"src_ip": story.address}}),
        range,
        HOUR,
    )
    .await;
    let prober = table_rank(&frame, &["src_ip", "country"]);
    assert_eq!(prober.len(), 1, "the stolen key's address probed first");
    assert!(
        prober[0].1[3] < story.from_ms,
        "blocked before it used the key"
    );

    let q = json!({"kind": "rate_limited", "format": "series"});
    let frame = ask(&p, "2", q, range, HOUR).await;
    assert_eq!(frame.meta["type"], "timeseries-wide");
    let labels: Vec<_> = frame.fields[1..].iter().map(|f| f.labels.clone()).collect();
    let want = BTreeMap::from([
        ("rule".to_string(), RATE_RULE.to_string()),
        ("src_ip".to_string(), RATE_LIMITED_CLIENT.to_string()),
    ]);
    assert_eq!(labels, vec![want]);
    let total = brute_rank(&["src_ip", "rule"], |r| r.rule_type == "RATE_BASED", 1)[0].1[0];
    assert_eq!(frame.fields[1].values[0].as_f64(), Some(total as f64));
    p.stop().await;
}

#[tokio::test]
async fn version_1_answers_that_waf_logs_exist_only_in_version_2() {
    let p = plugin().await;
    let queries = [
        json!({"kind": "waf_requests"}),
        json!({"kind": "top_blocked", "by": "rules"}),
        json!({"kind": "rate_limited", "format": "series"}),
        json!({"kind": "variable", "values": "web_acls"}),
    ];
    for q in queries {
        let answer = p
            .query(
                &settings("1"),
                &[query("A", q.clone(), FROM, TO, HOUR)],
                &[],
            )
            .await
            .unwrap();
        assert_eq!(answer["A"].status, 400, "{q}");
        assert_eq!(answer["A"].error, V1_ERROR, "{q}");
    }
    let sql = json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(waf) WHERE $__partitionFilter"});
    let answer = p
        .query(&settings("1"), &[query("A", sql, FROM, TO, HOUR)], &[])
        .await
        .unwrap();
    assert_eq!(
        answer["A"].error,
        format!("macro `$__table` has a bad argument `waf`: {V1_ERROR}")
    );
    p.stop().await;
}

fn waf_partitions() -> BTreeSet<String> {
    waf_requests()
        .iter()
        .map(|r| partition_of(r.time_ms, &r.region, &r.account_id))
        .collect()
}

#[tokio::test]
async fn each_kind_reads_only_the_partitions_it_needs() {
    let p = plugin().await;
    let account = config().account_ids()[1].clone();
    let (from, to) = ("2024-06-12T22:30:00Z", "2024-06-14T03:15:00Z");
    let days: Vec<String> = utc_days(t(from), t(to))
        .into_iter()
        .map(event_day)
        .collect();
    for narrowed in [true, false] {
        let needed: BTreeSet<String> = waf_partitions()
            .into_iter()
            .filter(|p| days.iter().any(|d| p.ends_with(&format!("eventDay={d}"))))
            .filter(|p| {
                !narrowed
                    || (p.starts_with("region=eu-west-1/")
                        && p.contains(&format!("accountId={account}/")))
            })
            .collect();
        assert_eq!(needed.len(), if narrowed { 3 } else { 12 });
        let filters = if narrowed {
            json!({"accounts": [account], "regions": ["eu-west-1"]})
        } else {
            json!({})
        };
        let queries = [
            json!({"kind": "waf_requests", "group_by": ["action"], "filters": filters}),
            json!({"kind": "top_blocked", "filters": filters}),
            json!({"kind": "rate_limited", "format": "series", "filters": filters}),
            json!({"kind": "variable", "values": "rules", "filters": filters}),
            json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(waf) WHERE $__partitionFilter", "filters": filters}),
        ];
        for q in queries {
            let frame = ask(&p, "2", q.clone(), (from, to), HOUR).await;
            let read: BTreeSet<String> = frame.meta["custom"]["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect();
            assert_eq!(read, needed, "{q}");
            println!(
                "pruning: v2 {} {}: partitions read {} of {} needed = {:.2}",
                q["kind"],
                q["filters"],
                read.len(),
                needed.len(),
                read.len() as f64 / needed.len() as f64
            );
        }
    }
    p.stop().await;
}

#[tokio::test]
async fn bad_values_and_foreign_filters_fail_word_for_word() {
    let p = plugin().await;
    let cases = [
        (
            json!({"kind": "top_blocked", "filters": {"paths": ["/a' OR '1'='1"]}}),
            "query field `filters.paths[0]` has the value \"/a' OR '1'='1\": expected a URI path such as /login: '/' then letters, digits and / - _ . ~ % + : @ ; = ! $ *, up to 512 characters",
        ),
        (
            json!({"kind": "waf_requests", "filters": {"countries": ["U'S"]}}),
            "query field `filters.countries[0]` has the value \"U'S\": expected a country as an ISO 3166 alpha-2 code such as US or DE",
        ),
        (
            json!({"kind": "rate_limited", "filters": {"actions": ["DROP"]}}),
            "query field `filters.actions[0]` has the value \"DROP\": expected a WAF action: ALLOW, BLOCK, COUNT, CAPTCHA, CHALLENGE",
        ),
        (
            json!({"kind": "top_blocked", "filters": {"hosts": ["shop.example.com;--"]}}),
            "query field `filters.hosts[0]` has the value \"shop.example.com;--\": expected a host name such as shop.example.com: letters, digits, '-' and '.', up to 253 characters",
        ),
        (
            json!({"kind": "waf_requests", "filters": {"client_ip": ["1.2.3.4/40"]}}),
            "query field `filters.client_ip[0]` has the value \"1.2.3.4/40\": the prefix length must be a whole number from 0 to 32 for this address family",
        ),
        (
            json!({"kind": "top_blocked", "filters": {"vpcs": ["vpc-0a1b2c3d"]}}),
            "query field `filters.vpcs` has the value [\"vpc-0a1b2c3d\"]: top_blocked filters by accounts, regions, web_acls, actions, rules, rule_types, countries, hosts, paths, methods, src_ip, exclude_ip; remove this filter",
        ),
    ];
    assert_refused_word_for_word(&p, &cases, FROM, TO).await;
    p.stop().await;
}

/// On Athena (moto in server mode as the AWS peer): a top_blocked panel gets typed frames from
/// the partition-pruned SQL of its plan, which reached Athena once.
#[tokio::test]
async fn top_blocked_runs_on_athena_with_typed_frames_from_the_pruned_sql() {
    use crate::common::moto::{
        assert_planned_sql_ran_once, athena_v2_settings, cells, hour, Moto, DEFAULT_ACCOUNT, FROM,
        REGION, TO,
    };
    let moto = Moto::start();
    let columns = vec![
        ("src_ip", "varchar"),
        ("country", "varchar"),
        ("requests", "bigint"),
        ("clients", "bigint"),
        ("first_seen", "bigint"),
        ("last_seen", "bigint"),
    ];
    let rows_in = [
        ("45.155.205.17", "NL", "42", 0, 2),
        ("5.188.62.140", "RU", "6", 1, 1),
    ];
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(
            columns,
            rows_in
                .iter()
                .map(|(ip, c, n, f, l)| cells(&[ip, c, n, "1", &hour(*f), &hour(*l)]))
                .collect(),
        )],
    );
    let p = plugin().await;
    let q = json!({"kind": "top_blocked", "filters": {"accounts": ["111122223333"], "countries": ["nl", "RU"]}});
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
    let key = |ip: &str, c: &str| vec![Some(ip.to_string()), Some(c.to_string())];
    assert_eq!(
        table_rank(frame, &["src_ip", "country"]),
        vec![
            (key("45.155.205.17", "NL"), [42, 1, at(0), at(2)]),
            (key("5.188.62.140", "RU"), [6, 1, at(1), at(1)]),
        ]
    );
    // Exactly the partition-pruned SQL of the plan reached Athena, once.
    let want = assert_planned_sql_ran_once(
        &moto,
        frame,
        &q,
        "amazon_security_lake_table_us_east_1_waf_2_0",
    )
    .await;
    assert!(want.contains("IN ('NL', 'RU')"));
    p.stop().await;
}
