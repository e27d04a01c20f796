//! The data links of the shipped dashboards, read the way Grafana resolves them, so that a test
//! can follow each one from a row or series of its panel to the queries it opens.

use serde_json::Value;

use crate::dashboards::{PanelTarget, DASHBOARDS};

/// Where a link's variable value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkValue {
    /// `${__value.raw}`: the value of the field the link sits on.
    Value,
    /// `${__data.fields.NAME}`: another column of the same row.
    Column(String),
    /// `${__field.labels.NAME}`: a label of the series.
    Label(String),
    /// Fixed text.
    Text(String),
}

/// One data link of one panel.
#[derive(Debug, Clone)]
pub struct DataLink {
    /// The panel's first query, as Grafana sends it with the saved variable values.
    pub source: PanelTarget,
    /// The link's title.
    pub title: String,
    /// The table field the link is set on; `None` for a link on every series of the panel.
    pub field: Option<String>,
    /// The uid of the shipped dashboard it opens; `None` for a page outside Grafana.
    pub dashboard: Option<String>,
    /// The dashboard variables the link sets (`var-NAME=…`), or the values an outside URL uses.
    pub values: Vec<(String, LinkValue)>,
    /// The time range the link sets (`from`, `to`, e.g. `now-7d`, `now`); `None`: the panel's.
    pub time: Option<(String, String)>,
}

/// Every data link of every shipped dashboard, in dashboard and panel order.
pub fn data_links() -> Result<Vec<DataLink>, String> {
    let mut out = Vec::new();
    for (file, text) in DASHBOARDS {
        let dash: Value = serde_json::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let targets = crate::dashboards::targets_with(dash["uid"].as_str().unwrap_or(""), &[])?;
        for panel in dash["panels"].as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or_default();
            let Some(source) = targets.iter().find(|t| t.panel == title) else {
                continue;
            };
            for (field, link) in panel_links(panel) {
                out.push(read_link(source, field, link)?);
            }
        }
    }
    Ok(out)
}

/// The links of a panel: `(field, link)`, the field `None` for the defaults (every series).
fn panel_links(panel: &Value) -> Vec<(Option<String>, &Value)> {
    let config = &panel["fieldConfig"];
    let mut out: Vec<(Option<String>, &Value)> = config["defaults"]["links"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| (None, l))
        .collect();
    for o in config["overrides"].as_array().into_iter().flatten() {
        let field = o["matcher"]["options"].as_str().map(str::to_string);
        for p in o["properties"].as_array().into_iter().flatten() {
            if p["id"] == "links" {
                for l in p["value"].as_array().into_iter().flatten() {
                    out.push((field.clone(), l));
                }
            }
        }
    }
    out
}

fn read_link(
    source: &PanelTarget,
    field: Option<String>,
    link: &Value,
) -> Result<DataLink, String> {
    let title = link["title"].as_str().unwrap_or_default().to_string();
    let url = link["url"]
        .as_str()
        .ok_or_else(|| format!("{}: link {title:?} has no url", source.panel))?;
    let mut time = None;
    let (dashboard, values) = match url.strip_prefix("/d/") {
        Some(rest) => {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let uid = path.split('/').next().unwrap_or_default().to_string();
            let param = |key: &str| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                    .map(str::to_string)
            };
            if let (Some(from), Some(to)) = (param("from"), param("to")) {
                time = Some((from, to));
            }
            let values = query
                .split('&')
                .filter_map(|kv| kv.strip_prefix("var-"))
                .filter_map(|kv| kv.split_once('='))
                .map(|(name, value)| (name.to_string(), link_value(value)))
                .collect();
            (Some(uid), values)
        }
        None => (None, references(url)),
    };
    Ok(DataLink {
        source: source.clone(),
        title,
        field,
        dashboard,
        values,
        time,
    })
}

/// What a link value template stands for.
fn link_value(text: &str) -> LinkValue {
    let inner = text.strip_prefix("${").and_then(|t| t.strip_suffix('}'));
    match inner {
        Some("__value.raw") => LinkValue::Value,
        Some(t) if t.starts_with("__data.fields.") => {
            LinkValue::Column(t["__data.fields.".len()..].to_string())
        }
        Some(t) if t.starts_with("__field.labels.") => {
            LinkValue::Label(t["__field.labels.".len()..].to_string())
        }
        _ => LinkValue::Text(text.to_string()),
    }
}

/// The row and series values an outside URL refers to.
fn references(url: &str) -> Vec<(String, LinkValue)> {
    url.split("${")
        .skip(1)
        .filter_map(|part| part.split_once('}'))
        .map(|(inner, _)| format!("${{{inner}}}"))
        .map(|t| (t.clone(), link_value(&t)))
        .filter(|(_, v)| !matches!(v, LinkValue::Text(_)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_opens_a_shipped_dashboard_with_variables_it_has() {
        let links = data_links().unwrap();
        assert!(links.len() >= 15, "{} links", links.len());
        for link in &links {
            let Some(uid) = &link.dashboard else {
                continue;
            };
            let targets = crate::dashboards::targets_with(uid, &[]).unwrap();
            assert!(!targets.is_empty(), "{uid}");
            let (_, text) = DASHBOARDS
                .iter()
                .find(|(_, t)| t.contains(&format!("\"uid\": \"{uid}\"")))
                .unwrap();
            let dash: Value = serde_json::from_str(text).unwrap();
            let names: Vec<&str> = dash["templating"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v["name"].as_str())
                .collect();
            for (name, _) in &link.values {
                assert!(names.contains(&name.as_str()), "{}: var-{name}", link.title);
            }
            assert_eq!(
                link.field.is_some(),
                !link
                    .values
                    .iter()
                    .any(|(_, v)| matches!(v, LinkValue::Label(_))),
                "{}: table links read columns, series links labels",
                link.title
            );
        }
    }
}
