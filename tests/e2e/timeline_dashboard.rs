//! The shipped Resource timeline dashboard through the real plugin binary: at its saved values
//! every panel answers on the fixture lake and the timeline holds all three sources of its
//! default address; a resource the kind refuses reaches the viewer as the kind's own words on
//! the timeline panel.

use std::collections::BTreeSet;

use lakewatch::dashboards::{parse_time, targets_with};
use serde_json::{json, Value};

use crate::common::{ask, plugin, query, rows, settings, t};

const UID: &str = "lakewatch-resource-timeline";

/// The end of the fixture lake: the dashboard's relative range ends here.
const TO: &str = "2024-06-15T11:59:59.999Z";

/// The start of the dashboard's saved range, relative to [`TO`].
fn from(relative: &str) -> String {
    parse_time(relative, t(TO)).unwrap().to_rfc3339()
}

#[tokio::test]
async fn saved_values_answer_every_panel_and_the_timeline_has_every_source() {
    let p = plugin().await;
    let targets = targets_with(UID, &[]).unwrap();
    assert_eq!(targets.len(), 6);
    for target in &targets {
        let frame = ask(&p, "2", target.query.clone(), &from(&target.time.0), TO).await;
        if target.query["kind"] != "resource_timeline" {
            continue;
        }
        let timeline = rows(&frame);
        let sources: BTreeSet<&str> = timeline
            .iter()
            .filter_map(|r| r["source"].as_str())
            .collect();
        println!(
            "figures: resource timeline of {}: {} rows, sources {sources:?}",
            target.query["resource"],
            timeline.len()
        );
        assert_eq!(
            sources,
            BTreeSet::from(["cloudtrail", "dns", "flows"]),
            "{}",
            target.query["resource"]
        );
        // The drill-down columns hold what the links out of the panel open (the fixture lake's
        // flows without an address leave some peers empty).
        for (source, column) in [
            ("flows", "peer"),
            ("dns", "domain"),
            ("cloudtrail", "principal"),
        ] {
            assert!(
                timeline
                    .iter()
                    .filter(|r| r["source"] == source)
                    .any(|r| r[column].as_str().is_some_and(|v| !v.is_empty())),
                "no {source} row with a {column}"
            );
        }
    }
    p.stop().await;
}

#[tokio::test]
async fn a_refused_resource_shows_the_kinds_words_on_the_timeline_panel() {
    let p = plugin().await;
    let accepted = "expected an IPv4 or IPv6 address, or an ENI (eni-…), instance (i-…) or VPC (vpc-…) id of 8 or 17 lower-case hex digits";
    for bad in [
        "10.0.0.0/16",
        "subnet-0a1b2c3d",
        "i-12345",
        "host.example.com",
        "",
    ] {
        let targets = targets_with(UID, &[("resource".to_string(), json!(bad))]).unwrap();
        let timeline = targets
            .iter()
            .find(|t| t.query["kind"] == "resource_timeline")
            .unwrap();
        assert_eq!(timeline.query["resource"], Value::from(bad));
        let answer = p
            .query(
                &settings("2"),
                &[query(
                    "A",
                    timeline.query.clone(),
                    &from(&timeline.time.0),
                    TO,
                    60_000,
                )],
                &[],
            )
            .await
            .unwrap();
        let shown = if bad.is_empty() {
            "(missing)".to_string()
        } else {
            format!("{bad:?}")
        };
        assert_eq!(
            answer["A"].error,
            format!("query field `resource` has the value {shown}: {accepted}"),
            "{bad:?}"
        );
    }
    p.stop().await;
}

#[tokio::test]
async fn an_instance_id_answers_on_the_timeline_and_the_address_panels_name_their_filter() {
    let p = plugin().await;
    // The demo topology's instance ids do not depend on the seed: this one runs as app-server.
    let instance = "i-0e97a2cb0599674e5";
    let not_an_address = format!(
        "has the value \"{instance}\": not an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32"
    );
    let targets = targets_with(UID, &[("resource".to_string(), json!(instance))]).unwrap();
    for target in &targets {
        let answer = p
            .query(
                &settings("2"),
                &[query(
                    "A",
                    target.query.clone(),
                    &from(&target.time.0),
                    TO,
                    60_000,
                )],
                &[],
            )
            .await
            .unwrap();
        let error = &answer["A"].error;
        if target.query["kind"] == "resource_timeline" {
            assert_eq!(error, "", "{}", target.panel);
            let timeline = rows(&answer["A"].frames[0]);
            println!(
                "figures: resource timeline of {instance}: {} rows",
                timeline.len()
            );
            assert!(!timeline.is_empty());
        } else {
            assert!(
                error.starts_with("query field `filters.") && error.ends_with(&not_an_address),
                "{}: {error}",
                target.panel
            );
        }
    }
    p.stop().await;
}
