//! End-to-end: the detections against a baseline through the real plugin binary, on both source
//! versions, checked against a brute-force computation over the generated records in which the
//! demo story planted what each should find.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::common::{ask, plugin, records, rows, t};
use crate::flow_kinds::{field, port_key, protocol_name, sql_order, table_top, Key, Totals};
use lakewatch::demo::{FlowDirection, FlowRecord};
use lakewatch::net::{is_public, Cidr};
use serde_json::{json, Value};

/// The last day and a half of the fixture lake (it ends 2024-06-15 12:00).
const FROM: &str = "2024-06-14T00:00:00Z";
const TO: &str = "2024-06-15T11:59:59.999Z";
/// Seven whole days before the range's first day.
const BASELINE_FROM: &str = "2024-06-07T00:00:00Z";
const OWN: &str = "52.0.0.0/8";
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Egress to an internet address outside [`OWN`], from the baseline's start to the range end.
fn internet_egress(r: &FlowRecord) -> bool {
    let own = Cidr::parse(OWN).unwrap();
    (t(BASELINE_FROM).timestamp_millis()..=t(TO).timestamp_millis()).contains(&r.start_ms)
        && r.direction == FlowDirection::Egress
        && r.dst_ip().is_some_and(|a| is_public(a) && !own.contains(a))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The brute-force score of `value` against `baseline` as docs/queries.md defines it.
fn score(value: f64, baseline: &[f64]) -> (f64, f64) {
    let m = median(baseline.to_vec());
    let mad = median(baseline.iter().map(|b| (b - m).abs()).collect());
    let mean_ad = baseline.iter().map(|b| (b - m).abs()).sum::<f64>() / baseline.len() as f64;
    let scale = if mad > 0.0 {
        1.4826 * mad
    } else if mean_ad > 0.0 {
        1.2533 * mean_ad
    } else {
        1.0
    };
    ((value - m) / scale, m)
}

/// An hour of a group: its start and the group's key.
type GroupHour = (i64, Vec<Key>);
/// What an hour scored: bytes, score and baseline median.
type HourScore = (i64, f64, f64);
/// Every scored hour.
type Scored = BTreeMap<GroupHour, HourScore>;

/// Every range hour of every group with internet egress in the read window, scored.
fn brute_scores(key: impl Fn(&FlowRecord) -> Vec<Key>) -> Scored {
    let mut hourly: HashMap<Vec<Key>, HashMap<i64, i64>> = HashMap::new();
    for r in records().iter().filter(|r| internet_egress(r)) {
        let hour = r.start_ms - r.start_ms.rem_euclid(HOUR_MS);
        *hourly.entry(key(r)).or_default().entry(hour).or_default() += r.bytes;
    }
    let base = t(BASELINE_FROM).timestamp_millis();
    let mut out = Scored::new();
    for (k, bytes) in &hourly {
        let at = |h: i64| bytes.get(&h).copied().unwrap_or(0);
        let last = t(TO).timestamp_millis() / HOUR_MS * HOUR_MS;
        for hour in (t(FROM).timestamp_millis()..=last).step_by(HOUR_MS as usize) {
            let baseline: Vec<f64> = (0..7)
                .map(|d| at(base + d * DAY_MS + hour.rem_euclid(DAY_MS)) as f64)
                .collect();
            let (s, m) = score(at(hour) as f64, &baseline);
            out.insert((hour, k.clone()), (at(hour), s, m));
        }
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// A decoded time value (RFC 3339 text) as epoch ms.
fn ms(v: &Value) -> i64 {
    t(v.as_str().expect("a time")).timestamp_millis()
}

/// A key cell as SQL gives it: NULL is None, numbers as their text.
fn text(v: &Value) -> Key {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[tokio::test]
async fn egress_anomaly_flags_the_planted_burst_as_brute_force_does() {
    let cfg = crate::common::config();
    let (_, _, burst_vpc, burst_ms) = lakewatch::demo::egress_burst(&cfg);
    let p = plugin().await;
    for (by, keys) in [("vpc", vec!["vpc"]), ("eni", vec!["vpc", "eni"])] {
        let scores = brute_scores(|r| {
            let mut k = vec![Some(r.vpc_id.clone())];
            if by == "eni" {
                k.push(Some(r.eni_id.clone()));
            }
            k
        });
        let mut want: Vec<_> = scores
            .iter()
            .filter(|(_, (bytes, s, _))| *bytes >= 100_000_000 && *s >= 4.0)
            .collect();
        want.sort_by(|a, b| {
            b.1 .1
                .total_cmp(&a.1 .1)
                .then(a.0 .0.cmp(&b.0 .0))
                .then(sql_order(&a.0 .1, &b.0 .1))
        });
        assert!(
            want.iter()
                .any(|((h, k), _)| *h == burst_ms && k[0].as_deref() == Some(&burst_vpc)),
            "by {by}: brute force finds the planted burst in {want:?}"
        );
        for version in ["1", "2"] {
            let q = json!({"kind": "egress_anomaly", "by": by, "own_cidrs": [OWN]});
            let frame = ask(&p, version, q, FROM, TO).await;
            let got: Vec<(GroupHour, HourScore)> = rows(&frame)
                .iter()
                .map(|row| {
                    let k = keys.iter().map(|c| text(&row[*c])).collect();
                    let n = |c: &str| row[c].as_f64().unwrap();
                    (
                        (ms(&row["time"]), k),
                        (
                            row["bytes"].as_i64().unwrap(),
                            n("score"),
                            n("baseline_median"),
                        ),
                    )
                })
                .collect();
            assert_eq!(
                got.len(),
                want.len(),
                "v{version} by {by}: {got:?} vs {want:?}"
            );
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(&g.0, w.0, "v{version} by {by}");
                assert_eq!(g.1 .0, w.1 .0, "v{version} by {by} bytes");
                assert!(
                    close(g.1 .1, w.1 .1) && close(g.1 .2, w.1 .2),
                    "v{version} {g:?} vs {w:?}"
                );
            }
            println!(
                "egress_anomaly v{version} by {by}: plugin flags {} hours, brute force {} (of {} scored)",
                got.len(),
                want.len(),
                scores.len()
            );
        }
    }
}

#[tokio::test]
async fn egress_anomaly_series_draw_the_band_and_scores_alert_per_vpc() {
    let cfg = crate::common::config();
    let (_, _, burst_vpc, burst_ms) = lakewatch::demo::egress_burst(&cfg);
    let scores = brute_scores(|r| vec![Some(r.vpc_id.clone())]);
    let vpcs: BTreeSet<String> = scores.keys().filter_map(|(_, k)| k[0].clone()).collect();
    let p = plugin().await;
    for version in ["1", "2"] {
        let q = json!({"kind": "egress_anomaly", "format": "series", "own_cidrs": [OWN]});
        let frame = ask(&p, version, q, FROM, TO).await;
        let times: Vec<i64> = frame.fields[0].values.iter().map(ms).collect();
        assert_eq!(times.first(), Some(&t(FROM).timestamp_millis()));
        let slot = times
            .iter()
            .position(|h| *h == burst_ms)
            .expect("the burst hour is drawn");
        let series = |name: &str| {
            frame
                .fields
                .iter()
                .find(|f| f.name == name && f.labels["vpc"] == burst_vpc)
                .unwrap_or_else(|| panic!("{name} of {burst_vpc}"))
        };
        let (bytes, s, m) = scores[&(burst_ms, vec![Some(burst_vpc.clone())])];
        assert_eq!(series("egress").values[slot].as_f64(), Some(bytes as f64));
        assert!(close(
            series("baseline_median").values[slot].as_f64().unwrap(),
            m
        ));
        let upper = series("baseline_upper").values[slot].as_f64().unwrap();
        assert!(
            upper > m && (bytes as f64) > upper,
            "v{version}: {m} < {upper} < {bytes} ({s})"
        );
        assert_eq!(frame.fields.len(), 1 + 3 * vpcs.len(), "v{version}");

        let q = json!({"kind": "egress_anomaly", "format": "score", "own_cidrs": [OWN]});
        let frame = ask(&p, version, q, FROM, TO).await;
        let labelled: Vec<&str> = frame.fields[1..]
            .iter()
            .map(|f| f.labels["vpc"].as_str())
            .collect();
        assert_eq!(
            labelled,
            vpcs.iter().map(String::as_str).collect::<Vec<_>>(),
            "v{version}"
        );
        for f in &frame.fields[1..] {
            assert_eq!(f.name, "score");
            let key = vec![Some(f.labels["vpc"].clone())];
            for (i, h) in times.iter().enumerate() {
                let (bytes, s, _) = scores[&(*h, key.clone())];
                let want = if bytes >= 100_000_000 { s } else { 0.0 };
                assert!(
                    close(f.values[i].as_f64().unwrap(), want),
                    "v{version} {key:?} {h}"
                );
            }
        }
    }
}

#[tokio::test]
async fn egress_anomaly_bounds_are_named_and_the_baseline_is_never_cut() {
    let p = plugin().await;
    let answer = p
        .query(
            &crate::common::settings("2"),
            &[
                crate::common::query(
                    "A",
                    json!({"kind": "egress_anomaly", "baseline_days": 30}),
                    FROM,
                    TO,
                    60_000,
                ),
                crate::common::query(
                    "B",
                    json!({"kind": "egress_anomaly", "by": "eni"}),
                    FROM,
                    TO,
                    60_000,
                ),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        answer["A"].error,
        "query field `baseline_days` has the value 30: expected a whole number from 3 to 28"
    );
    assert_eq!(answer["B"].error, "");
    let small = json!({"engine": "local", "lakePath": crate::common::lake().display().to_string(),
        "sourceVersion": "2", "maxRows": 100});
    let answer = p
        .query(
            &small,
            &[crate::common::query(
                "A",
                json!({"kind": "egress_anomaly"}),
                FROM,
                TO,
                60_000,
            )],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        answer["A"].error,
        "the baseline of 7 days and the time range hold more than 100 group-hours (the datasource's row cap, maxRows): narrow the filters or the time range, score per VPC rather than per ENI, or lower baseline_days"
    );
}

#[tokio::test]
async fn new_external_peers_finds_the_planted_peer_as_brute_force_does() {
    let cfg = crate::common::config();
    let (_, _, peer_vpc, _) = lakewatch::demo::new_peer(&cfg);
    let (peer, port) = lakewatch::demo::NEW_PEER;
    let from_ms = t(FROM).timestamp_millis();
    let mut groups: HashMap<Vec<Key>, (Totals, i64)> = HashMap::new();
    for r in records().iter().filter(|r| internet_egress(r)) {
        let key = vec![
            Some(r.vpc_id.clone()),
            r.dst_addr.clone(),
            port_key(r.dst_port),
            protocol_name(r.protocol),
        ];
        let g = groups.entry(key).or_insert((Totals::default(), i64::MAX));
        g.0.add(r);
        g.1 = g.1.min(r.start_ms);
    }
    let mut want: Vec<(Vec<Key>, Totals)> = groups
        .into_iter()
        .filter(|(_, (_, first))| *first >= from_ms)
        .map(|(k, (totals, _))| (k, totals))
        .collect();
    want.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(sql_order(&a.0, &b.0)));
    want.truncate(50);
    let planted = vec![
        Some(peer_vpc.clone()),
        Some(peer.to_string()),
        Some(port.to_string()),
        Some("TCP".to_string()),
    ];
    assert!(
        want.iter().any(|(k, _)| *k == planted),
        "brute force finds the planted peer: {want:?}"
    );
    let p = plugin().await;
    for version in ["1", "2"] {
        let q = json!({"kind": "new_external_peers", "own_cidrs": [OWN]});
        let frame = ask(&p, version, q.clone(), FROM, TO).await;
        assert_eq!(field(&frame, "first_seen").type_name, "time");
        let got = table_top(&frame, &["vpc", "dst_ip", "dst_port", "protocol"]);
        assert_eq!(got, want, "v{version} new external peers");
        println!(
            "new_external_peers v{version}: plugin lists {} new peers, brute force {}",
            got.len(),
            want.len()
        );
        let mut series = q;
        series["format"] = json!("series");
        let frame = ask(&p, version, series, FROM, TO).await;
        assert_eq!(
            frame.fields.len(),
            1 + want.len(),
            "v{version}: one series per new peer"
        );
    }
}

/// A brute-force beacon: its key, contacts, bytes, first and last contact, mean interval and
/// jitter (interval standard deviation in percent of the mean).
type Beacon = (Vec<Key>, i64, i64, i64, i64, f64, f64);

/// Groups of internet egress in the range with at least `min` distinct start times whose
/// intervals vary by at most `max_jitter` percent, the most regular first.
fn brute_beacons(min: usize, max_jitter: f64) -> Vec<Beacon> {
    let (from, to) = (t(FROM).timestamp_millis(), t(TO).timestamp_millis());
    let mut groups: HashMap<Vec<Key>, (BTreeSet<i64>, i64)> = HashMap::new();
    for r in records()
        .iter()
        .filter(|r| internet_egress(r) && (from..=to).contains(&r.start_ms))
    {
        let key = vec![
            Some(r.vpc_id.clone()),
            r.src_addr.clone(),
            r.dst_addr.clone(),
            port_key(r.dst_port),
            protocol_name(r.protocol),
        ];
        let g = groups.entry(key).or_default();
        g.0.insert(r.start_ms);
        g.1 += r.bytes;
    }
    let mut out: Vec<Beacon> = groups
        .into_iter()
        .filter(|(_, (times, _))| times.len() >= min)
        .map(|(key, (times, bytes))| {
            let times: Vec<i64> = times.into_iter().collect();
            let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
            let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
            let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
            let jitter = 100.0 * var.sqrt() / mean;
            let n = times.len() as i64;
            (
                key,
                n,
                bytes,
                times[0],
                times[times.len() - 1],
                mean,
                jitter,
            )
        })
        .filter(|b| b.6 <= max_jitter)
        .collect();
    out.sort_by(|a, b| {
        a.6.total_cmp(&b.6)
            .then(b.1.cmp(&a.1))
            .then(sql_order(&a.0, &b.0))
    });
    out
}

#[tokio::test]
async fn beaconing_finds_the_planted_beacon_as_brute_force_does() {
    let cfg = crate::common::config();
    let (_, _, vpc, host, _) = lakewatch::demo::beacon(&cfg);
    let want = brute_beacons(8, 20.0);
    let planted = vec![
        Some(vpc.clone()),
        Some(host.clone()),
        Some(lakewatch::demo::BEACON_DEST.to_string()),
        Some("443".to_string()),
        Some("TCP".to_string()),
    ];
    assert!(
        want.iter().any(|b| b.0 == planted),
        "brute force finds the beacon: {want:?}"
    );
    let p = plugin().await;
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "beaconing", "own_cidrs": [OWN]}),
            FROM,
            TO,
        )
        .await;
        let keys = ["vpc", "src_ip", "dst_ip", "dst_port", "protocol"];
        let got: Vec<Beacon> = rows(&frame)
            .iter()
            .map(|row| {
                let n = |c: &str| row[c].as_i64().unwrap();
                (
                    keys.iter().map(|c| text(&row[*c])).collect(),
                    n("contacts"),
                    n("bytes"),
                    ms(&row["first_seen"]),
                    ms(&row["last_seen"]),
                    row["interval_ms"].as_f64().unwrap(),
                    row["jitter_percent"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got.len(), want.len(), "v{version}: {got:?} vs {want:?}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(
                (&g.0, g.1, g.2, g.3, g.4),
                (&w.0, w.1, w.2, w.3, w.4),
                "v{version}"
            );
            assert!(
                close(g.5, w.5) && (g.6 - w.6).abs() < 1e-6,
                "v{version}: {g:?} vs {w:?}"
            );
        }
        println!(
            "beaconing v{version}: plugin lists {} beacons, brute force {}",
            got.len(),
            want.len()
        );
    }
}
