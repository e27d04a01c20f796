//! End-to-end: the kinds over every Security Hub finding through the real plugin binary, on
//! both source versions, each answer checked against a brute-force computation over the
//! generated finding rows of the fixture lake (controls, GuardDuty, Inspector, Macie): each
//! finding counted once at its newest update in the range; the compliance kinds still read the
//! control findings only; partitions read are those needed; bad values fail word for word.

use std::collections::{BTreeMap, BTreeSet};

use crate::cloudtrail::{ask, ms, text, HOUR};
use crate::common::{config, plugin, rows, t};
use lakewatch::demo::{self, FindingRecord, C2_TYPE, KEY_TYPE};
use lakewatch::plan::partitions::{event_day, utc_days};
use serde_json::{json, Value};

const FROM: &str = "2024-06-13T12:00:00Z";
const TO: &str = "2024-06-15T11:59:59.999Z";

/// Every finding row of the lake: the controls' and the other products'.
pub(crate) fn every_finding() -> &'static [FindingRecord] {
    static ALL: std::sync::OnceLock<Vec<FindingRecord>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let cfg = config();
        let mut all = demo::all_findings(&cfg);
        all.extend(demo::all_detections(&cfg));
        all
    })
}

fn severity(id: i32) -> &'static str {
    [
        "Unknown",
        "Informational",
        "Low",
        "Medium",
        "High",
        "Critical",
        "Fatal",
    ][id as usize]
}

fn class(f: &FindingRecord, version: &str) -> &'static str {
    let v = if version == "1" {
        lakewatch::lake::SourceVersion::V1
    } else {
        lakewatch::lake::SourceVersion::V2
    };
    match f.class.uid(v) {
        2001 => "Security Finding",
        2002 => "Vulnerability Finding",
        2003 => "Compliance Finding",
        _ => "Detection Finding",
    }
}

/// The newest update of every finding in the range.
fn newest(from: &str, to: &str) -> Vec<&'static FindingRecord> {
    let range = t(from).timestamp_millis()..=t(to).timestamp_millis();
    let mut by_id: BTreeMap<&str, &FindingRecord> = BTreeMap::new();
    for f in every_finding()
        .iter()
        .filter(|f| range.contains(&f.time_ms))
    {
        let e = by_id.entry(f.finding_uid.as_str()).or_insert(f);
        if f.time_ms > e.time_ms {
            *e = f;
        }
    }
    by_id.into_values().collect()
}

/// Open at its newest update: workflow New or In Progress, not archived, not a passed control.
fn open(f: &FindingRecord) -> bool {
    ["New", "In Progress"].contains(&f.workflow)
        && f.record_state != "ARCHIVED"
        && f.status != "PASSED"
}

fn figure(version: &str, what: &str, plugin: usize, brute: usize) {
    println!(
        "figures: v{version} {what}: plugin {plugin}, brute force {brute}, over {} finding rows",
        every_finding().len()
    );
}

#[tokio::test]
async fn findings_over_time_count_each_finding_once_at_its_newest_update() {
    let p = plugin().await;
    let first = t(FROM).timestamp_millis();
    let buckets = ((t(TO).timestamp_millis() - first) / HOUR + 1) as usize;
    for version in ["1", "2"] {
        for (labels, min) in [
            (vec!["severity", "product"], None),
            (vec!["class"], None),
            (vec!["type", "resource_type"], Some(4)),
        ] {
            let mut q = json!({"kind": "findings", "group_by": labels});
            if let Some(m) = min {
                q["min_severity"] = json!(severity(m));
            }
            let frame = ask(&p, version, q.clone(), (FROM, TO), HOUR).await;
            let got = crate::cloudtrail::series(&frame);
            let mut want: BTreeMap<BTreeMap<String, String>, Vec<i64>> = BTreeMap::new();
            for f in newest(FROM, TO)
                .into_iter()
                .filter(|f| min.is_none_or(|m| f.severity_id >= m))
            {
                let key = labels
                    .iter()
                    .map(|l| {
                        let v = match *l {
                            "severity" => severity(f.severity_id).to_string(),
                            "product" => f.product.to_string(),
                            "class" => class(f, version).to_string(),
                            "type" => f.finding_type.to_string(),
                            "resource_type" => f.resource_type.to_string(),
                            other => panic!("{other}"),
                        };
                        (l.to_string(), v)
                    })
                    .collect();
                let slot = ((f.time_ms - first) / HOUR) as usize;
                want.entry(key).or_insert_with(|| vec![0; buckets])[slot] += 1;
            }
            assert_eq!(got, want, "v{version} {q}");
            figure(
                version,
                &format!("findings by {labels:?}"),
                got.len(),
                want.len(),
            );
        }
    }
    p.stop().await;
}

fn active_brute(min: i32) -> Vec<&'static FindingRecord> {
    let mut out: Vec<_> = newest(FROM, TO)
        .into_iter()
        .filter(|f| open(f) && f.severity_id >= min)
        .collect();
    out.sort_by(|a, b| {
        b.time_ms
            .cmp(&a.time_ms)
            .then(a.finding_uid.cmp(&b.finding_uid))
    });
    out
}

#[tokio::test]
async fn active_findings_list_the_open_findings_newest_first_and_count_them_per_severity() {
    let p = plugin().await;
    for version in ["1", "2"] {
        for (min, q) in [
            (3, json!({"kind": "active_findings", "limit": 10000})),
            (
                4,
                json!({"kind": "active_findings", "min_severity": "high", "limit": 10000}),
            ),
        ] {
            let frame = ask(&p, version, q.clone(), (FROM, TO), HOUR).await;
            let got: Vec<_> = rows(&frame)
                .iter()
                .map(|r| {
                    (
                        text(&r["finding"]),
                        text(&r["severity"]),
                        text(&r["product"]),
                    )
                })
                .collect();
            let want: Vec<_> = active_brute(min)
                .iter()
                .map(|f| {
                    (
                        Some(f.finding_uid.clone()),
                        Some(severity(f.severity_id).to_string()),
                        Some(f.product.to_string()),
                    )
                })
                .collect();
            assert_eq!(got, want, "v{version} {q}");
            figure(
                version,
                &format!("active_findings {q}"),
                got.len(),
                want.len(),
            );
        }
        // The story: both High GuardDuty findings are open at the end of the range.
        let frame = ask(
            &p,
            version,
            json!({"kind": "active_findings", "min_severity": "High"}),
            (FROM, TO),
            HOUR,
        )
        .await;
        let types: BTreeSet<_> = rows(&frame).iter().map(|r| text(&r["type"])).collect();
        assert!(types.contains(&Some(C2_TYPE.to_string())), "{types:?}");
        assert!(types.contains(&Some(KEY_TYPE.to_string())), "{types:?}");
        // Alert rules: one series per severity, valued by its open findings.
        let frame = ask(
            &p,
            version,
            json!({"kind": "active_findings", "format": "series"}),
            (FROM, TO),
            HOUR,
        )
        .await;
        let mut got: BTreeMap<String, i64> = BTreeMap::new();
        for f in frame.fields.iter().filter(|f| f.type_name == "number") {
            let last = f.values.iter().rev().find_map(Value::as_f64).unwrap();
            got.insert(f.labels["severity"].clone(), last as i64);
        }
        let mut want: BTreeMap<String, i64> = BTreeMap::new();
        for f in active_brute(3) {
            *want.entry(severity(f.severity_id).to_string()).or_default() += 1;
        }
        assert_eq!(got, want, "v{version} series");
        figure(version, "active_findings series", got.len(), want.len());
    }
    p.stop().await;
}

#[tokio::test]
async fn the_compliance_kinds_read_control_findings_only() {
    let p = plugin().await;
    let controls: BTreeSet<String> = demo::all_findings(&config())
        .iter()
        .map(|f| f.control_name().to_string())
        .collect();
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "variable", "values": "controls"}),
            (FROM, TO),
            HOUR,
        )
        .await;
        let got: BTreeSet<String> = rows(&frame)
            .iter()
            .filter_map(|r| text(&r["value"]).or_else(|| text(&r["text"])))
            .collect();
        assert!(
            !got.is_empty() && got.is_subset(&controls),
            "v{version} {got:?}"
        );
        // compliance_status counts: every control finding's newest row, none of the others.
        let frame = ask(
            &p,
            version,
            json!({"kind": "compliance_status", "controls": ["EC2.6", "EC2.10", "flow-logs-central-bucket"], "view": "counts"}),
            (FROM, TO),
            HOUR,
        )
        .await;
        let total = rows(&frame)[0]["total"].as_i64().unwrap();
        let lookback = t(TO) - chrono::Duration::days(7);
        let mut ids = BTreeMap::new();
        for f in demo::all_findings(&config()).iter().filter(|f| {
            (lookback.timestamp_millis()..=t(TO).timestamp_millis()).contains(&f.time_ms)
        }) {
            ids.insert(f.finding_uid.clone(), f.record_state);
        }
        let want = ids.values().filter(|s| **s != "ARCHIVED").count() as i64;
        assert_eq!(total, want, "v{version}");
        figure(
            version,
            "compliance_status total",
            total as usize,
            want as usize,
        );
        let frame = ask(
            &p,
            version,
            json!({"kind": "variable", "values": "products"}),
            (FROM, TO),
            HOUR,
        )
        .await;
        let products: BTreeSet<String> = rows(&frame)
            .iter()
            .filter_map(|r| text(&r["value"]).or_else(|| text(&r["text"])))
            .collect();
        for want in ["GuardDuty", "Inspector", "Macie", "Security Hub", "Config"] {
            assert!(products.contains(want), "v{version} {products:?}");
        }
    }
    p.stop().await;
}

#[tokio::test]
async fn each_finding_kind_reads_only_the_partitions_it_needs() {
    let p = plugin().await;
    let account = config().account_ids()[1].clone();
    let (from, to) = ("2024-06-12T22:30:00Z", "2024-06-14T03:15:00Z");
    let days: Vec<String> = utc_days(t(from), t(to))
        .into_iter()
        .map(event_day)
        .collect();
    let held: BTreeSet<String> = every_finding()
        .iter()
        .map(|f| {
            let day = chrono::DateTime::from_timestamp_millis(f.time_ms)
                .unwrap()
                .date_naive();
            format!(
                "region={}/accountId={}/eventDay={}",
                f.region,
                f.account_id,
                event_day(day)
            )
        })
        .collect();
    for narrowed in [true, false] {
        let filters: Value = if narrowed {
            json!({"accounts": [account], "regions": ["eu-west-1"]})
        } else {
            json!({})
        };
        let needed: BTreeSet<String> = held
            .iter()
            .filter(|p| days.iter().any(|d| p.ends_with(&format!("eventDay={d}"))))
            .filter(|p| !narrowed || (p.starts_with("region=eu-west-1/") && p.contains(&account)))
            .cloned()
            .collect();
        for version in ["1", "2"] {
            for q in [
                json!({"kind": "findings", "group_by": ["severity"], "filters": filters}),
                json!({"kind": "active_findings", "filters": filters}),
                json!({"kind": "active_findings", "format": "series", "filters": filters}),
                json!({"kind": "variable", "values": "products", "filters": filters}),
            ] {
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

/// On Athena (moto in server mode as the AWS peer): an active findings panel gets typed frames
/// from the partition-pruned SQL of its plan, which reached Athena once.
#[tokio::test]
async fn active_findings_run_on_athena_with_typed_frames_from_the_pruned_sql() {
    use crate::common::moto::{
        athena_v2_settings, cells, hour, Moto, DEFAULT_ACCOUNT, FROM, KEY, REGION, TO,
    };
    use crate::common::query;
    let moto = Moto::start();
    let columns = vec![
        ("updated", "bigint"),
        ("severity", "varchar"),
        ("title", "varchar"),
        ("product", "varchar"),
        ("type", "varchar"),
        ("resource", "varchar"),
        ("resource_type", "varchar"),
        ("account", "varchar"),
        ("region", "varchar"),
        ("first_seen", "bigint"),
        ("last_seen", "bigint"),
        ("finding", "varchar"),
    ];
    let rows_in = [
        (2, "High", "GuardDuty", C2_TYPE, "AwsEc2Instance", "f-2"),
        (
            1,
            "Medium",
            "Macie",
            "Policy:IAMUser-S3BlockPublicAccessDisabled",
            "AwsS3Bucket",
            "f-1",
        ),
    ];
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[(
            columns,
            rows_in
                .iter()
                .map(|(h, sev, product, ty, rt, id)| {
                    cells(&[
                        &hour(*h),
                        sev,
                        "a title",
                        product,
                        ty,
                        "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
                        rt,
                        "111122223333",
                        "us-east-1",
                        &hour(0),
                        &hour(*h),
                        id,
                    ])
                })
                .collect(),
        )],
    );
    let p = plugin().await;
    let q = json!({"kind": "active_findings", "filters": {"accounts": ["111122223333"], "products": ["GuardDuty", "Macie"]}});
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
    let got: Vec<_> = rows(frame)
        .iter()
        .map(|r| (ms(&r["updated"]), text(&r["severity"]), text(&r["finding"])))
        .collect();
    let at = |h: i64| t(FROM).timestamp_millis() + h * HOUR;
    assert_eq!(
        got,
        vec![
            (at(2), Some("High".to_string()), Some("f-2".to_string())),
            (at(1), Some("Medium".to_string()), Some("f-1".to_string())),
        ]
    );
    let settings =
        lakewatch::settings::Settings::from_json(&json!({"sourceVersion": "2"})).unwrap();
    let bytes = serde_json::to_vec(&q).unwrap();
    let want = lakewatch::pipeline::prepare(
        &settings,
        lakewatch::sql::Dialect::Athena,
        &lakewatch::pipeline::PanelRequest {
            ref_id: "A",
            json: &bytes,
            from: t(FROM),
            to: t(TO),
            interval_ms: HOUR,
            max_data_points: 100_000,
        },
    )
    .unwrap()
    .sql;
    assert!(want.contains("\"amazon_security_lake_table_us_east_1_sh_findings_2_0\""));
    assert!(want.contains("\"accountid\" = '111122223333'"));
    assert_eq!(frame.meta["executedQueryString"], json!(want));
    assert_eq!(
        moto.athena_executions(KEY).await,
        vec![(want, "SUCCEEDED".to_string())]
    );
    p.stop().await;
}

/// The finding rows of the fixture lake per product and class, and what generating the other
/// products' findings costs (the figures of the test log).
#[test]
fn the_demo_lake_holds_findings_of_every_product() {
    let cfg = config();
    let started = std::time::Instant::now();
    let detections = demo::all_detections(&cfg);
    let took = started.elapsed();
    let started = std::time::Instant::now();
    let controls = demo::all_findings(&cfg);
    let controls_took = started.elapsed();
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for f in controls.iter().chain(&detections) {
        *per.entry(f.product).or_default() += 1;
    }
    println!(
        "figures: finding rows {per:?}; other products' rows {} in {took:?}, control rows {} in {controls_took:?}",
        detections.len(),
        controls.len()
    );
    for product in ["GuardDuty", "Inspector", "Macie", "Security Hub", "Config"] {
        assert!(per.get(product).is_some_and(|n| *n > 0), "{product}");
    }
    assert!(detections
        .iter()
        .all(|f| f.status.is_empty() && f.control.is_none()));
    assert_eq!(
        detections
            .iter()
            .filter(|f| [C2_TYPE, KEY_TYPE].contains(&f.finding_type))
            .map(|f| f.finding_uid.as_str())
            .collect::<BTreeSet<_>>()
            .len(),
        2
    );
}
