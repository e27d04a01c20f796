//! Every data link of every shipped dashboard, followed as a viewer would: its panel's query runs
//! on the fixture lake, the link takes its values from the first row (or series) of the answer,
//! and every panel of the dashboard it opens answers with those values, the flow search with the
//! flows behind the number that was clicked.

use std::collections::BTreeMap;

use lakewatch::dashboard_links::{data_links, DataLink, LinkValue};
use lakewatch::dashboards::targets_with;
use lakewatch::frame::DecodedFrame;
use serde_json::{json, Value};

use crate::common::{ask, plugin, rows, t};

/// Up to the fixture lake's end, so the detections of the demo story have rows to click.
const FROM: &str = "2024-06-13T00:00:00Z";
const TO: &str = "2024-06-15T11:59:59.999Z";

/// A frame value as the text a link would put into a URL.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The row of a table or the labels of a series that a viewer clicks: the first one that has a
/// value for every column or label the link uses (not the "other" series of a top-N graph) and
/// that counts flows (coverage also lists VPCs that never sent one: their search is empty).
fn clicked(link: &DataLink, frame: &DecodedFrame) -> Option<BTreeMap<String, String>> {
    let usable = |m: &BTreeMap<String, String>| {
        m.get("flows").is_none_or(|n| n != "0")
            && link.values.iter().all(|(_, v)| match v {
                LinkValue::Value => link.field.as_ref().is_some_and(|f| !m[f].is_empty()),
                LinkValue::Column(c) | LinkValue::Label(c) => {
                    m.get(c).is_some_and(|x| !x.is_empty() && x != "other")
                }
                LinkValue::Text(_) => true,
            })
    };
    if link.field.is_some() {
        rows(frame)
            .into_iter()
            .map(|r| r.iter().map(|(k, v)| (k.clone(), text(v))).collect())
            .find(usable)
    } else {
        frame
            .fields
            .iter()
            .map(|f| f.labels.clone().into_iter().collect())
            .find(usable)
    }
}

fn resolve(link: &DataLink, at: &BTreeMap<String, String>) -> Vec<(String, Value)> {
    link.values
        .iter()
        .map(|(name, v)| {
            let value = match v {
                LinkValue::Value => at[link.field.as_ref().unwrap()].clone(),
                LinkValue::Column(c) | LinkValue::Label(c) => at[c].clone(),
                LinkValue::Text(t) => t.clone(),
            };
            (name.clone(), json!(value))
        })
        .collect()
}

#[tokio::test]
async fn every_data_link_opens_panels_that_answer_with_the_clicked_values() {
    let p = plugin().await;
    let links = data_links().unwrap();
    let mut followed = 0;
    for link in &links {
        let what = format!(
            "{} / {}: {}",
            link.source.dashboard, link.source.panel, link.title
        );
        let frame = ask(&p, "2", link.source.query.clone(), FROM, TO).await;
        let at = clicked(link, &frame).unwrap_or_else(|| panic!("{what}: nothing to click"));
        let Some(uid) = &link.dashboard else {
            // A page outside Grafana: the row holds every value its URL uses.
            for (_, v) in &link.values {
                if let LinkValue::Column(c) = v {
                    assert!(at.contains_key(c), "{what}: no column {c}");
                }
            }
            continue;
        };
        let values = resolve(link, &at);
        // The link's own range, relative to the end of the range it was clicked in.
        let from = match &link.time {
            None => FROM.to_string(),
            Some((from, to)) => {
                assert_eq!(to, "now", "{what}");
                lakewatch::dashboards::parse_time(from, t(TO))
                    .unwrap()
                    .to_rfc3339()
            }
        };
        for target in targets_with(uid, &values).unwrap() {
            let answer = ask(&p, "2", target.query.clone(), &from, TO).await;
            if target.query["kind"] == "flow_search" {
                let total = answer.meta["custom"]["totalMatches"].as_u64().unwrap_or(0);
                assert!(
                    total > 0,
                    "{what} → {}: no flows for {values:?}",
                    target.panel
                );
            }
        }
        followed += 1;
    }
    assert!(followed >= 15, "{followed} links followed");
    p.stop().await;
}
