//! The shipped dashboards (`dashboards/*.json`, embedded at build time) and the panel queries in
//! them, so the demo and the tests send exactly what Grafana would.

use serde_json::Value;

/// The shipped dashboards: (file name, JSON text).
pub const DASHBOARDS: [(&str, &str); 10] = [
    (
        "vpc-flow-overview.json",
        include_str!("../dashboards/vpc-flow-overview.json"),
    ),
    (
        "threats-and-rejects.json",
        include_str!("../dashboards/threats-and-rejects.json"),
    ),
    (
        "flow-search.json",
        include_str!("../dashboards/flow-search.json"),
    ),
    (
        "flow-log-coverage.json",
        include_str!("../dashboards/flow-log-coverage.json"),
    ),
    (
        "compliance.json",
        include_str!("../dashboards/compliance.json"),
    ),
    (
        "identity-and-api-activity.json",
        include_str!("../dashboards/identity-and-api-activity.json"),
    ),
    ("dns.json", include_str!("../dashboards/dns.json")),
    ("findings.json", include_str!("../dashboards/findings.json")),
    (
        "web-application-firewall.json",
        include_str!("../dashboards/web-application-firewall.json"),
    ),
    (
        "resource-timeline.json",
        include_str!("../dashboards/resource-timeline.json"),
    ),
];

/// One query of one panel.
#[derive(Debug, Clone)]
pub struct PanelTarget {
    /// Dashboard title.
    pub dashboard: String,
    /// Panel title.
    pub panel: String,
    /// Where the panel is in the dashboard's `panels` (the annotation in `annotations.list`).
    pub index: usize,
    /// Target refId.
    pub ref_id: String,
    /// The query JSON as the dashboard stores it.
    pub query: Value,
    /// The dashboard's default time range, e.g. (`now-24h`, `now`).
    pub time: (String, String),
}

/// Every panel target of every shipped dashboard, in dashboard and panel order.
pub fn panel_targets() -> Result<Vec<PanelTarget>, serde_json::Error> {
    targets(false)
}

/// Every annotation query of every shipped dashboard (`annotations.list[].target` of the
/// entries on a Lakewatch datasource), in dashboard order; `panel` is the annotation's name.
pub fn annotation_targets() -> Result<Vec<PanelTarget>, serde_json::Error> {
    targets(true)
}

/// The Grafana plugin id of Lakewatch, as dashboards name its datasource type.
pub const DATASOURCE_TYPE: &str = "lakewatch-securitylake-datasource";

fn targets(annotations: bool) -> Result<Vec<PanelTarget>, serde_json::Error> {
    let mut out = Vec::new();
    for (_, text) in DASHBOARDS {
        let dash: Value = serde_json::from_str(text)?;
        out.extend(dashboard_targets(&dash, annotations, &[]));
    }
    Ok(out)
}

/// The panel targets of the shipped dashboard `uid` as Grafana sends them when its variables
/// hold `values` (the others their saved values): where a data link lands.
pub fn targets_with(uid: &str, values: &[(String, Value)]) -> Result<Vec<PanelTarget>, String> {
    for (_, text) in DASHBOARDS {
        let dash: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if dash["uid"] == uid {
            return Ok(dashboard_targets(&dash, false, values));
        }
    }
    Err(format!("no shipped dashboard has the uid {uid}"))
}

/// The panel targets (or, with `annotations`, the annotation queries) of one dashboard as
/// Grafana sends them when its variables hold `values` (the others their saved values).
pub fn dashboard_targets(
    dash: &Value,
    annotations: bool,
    values: &[(String, Value)],
) -> Vec<PanelTarget> {
    let mut out = Vec::new();
    {
        let title = dash["title"].as_str().unwrap_or_default().to_string();
        let time = (
            dash["time"]["from"]
                .as_str()
                .unwrap_or("now-24h")
                .to_string(),
            dash["time"]["to"].as_str().unwrap_or("now").to_string(),
        );
        let mut variables = variable_values(dash);
        for (name, value) in values {
            match variables.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = value.clone(),
                None => variables.push((name.clone(), value.clone())),
            }
        }
        if annotations {
            let entries = dash["annotations"]["list"].as_array().into_iter().flatten();
            for (index, entry) in entries.enumerate() {
                if entry["datasource"]["type"] != DATASOURCE_TYPE || entry["target"].is_null() {
                    continue;
                }
                let mut query = entry["target"].clone();
                apply_variables(&mut query, &variables);
                out.push(PanelTarget {
                    dashboard: title.clone(),
                    panel: entry["name"].as_str().unwrap_or_default().to_string(),
                    index,
                    ref_id: entry["target"]["refId"]
                        .as_str()
                        .unwrap_or("Anno")
                        .to_string(),
                    query,
                    time: time.clone(),
                });
            }
            return out;
        }
        for (index, panel) in dash["panels"].as_array().into_iter().flatten().enumerate() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let mut query = target.clone();
                apply_variables(&mut query, &variables);
                out.push(PanelTarget {
                    dashboard: title.clone(),
                    panel: panel["title"].as_str().unwrap_or_default().to_string(),
                    index,
                    ref_id: target["refId"].as_str().unwrap_or("A").to_string(),
                    query,
                    time: time.clone(),
                });
            }
        }
    }
    out
}

/// Each dashboard variable's name and current value (Grafana's "All" is `$__all`).
fn variable_values(dash: &Value) -> Vec<(String, Value)> {
    dash["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let name = v["name"].as_str()?;
            Some((name.to_string(), v["current"]["value"].clone()))
        })
        .collect()
}

/// Grafana's part for template variables: a string that is exactly `$name` or `${name}` of a
/// dashboard variable becomes the variable's current value, as the frontend sends it (a
/// multi-value variable inside a list adds its values to the list).
fn apply_variables(value: &mut Value, variables: &[(String, Value)]) {
    match value {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for mut item in std::mem::take(items) {
                match current_value(&item, variables) {
                    Some(Value::Array(values)) => out.extend(values),
                    Some(single) => out.push(single),
                    None => {
                        apply_variables(&mut item, variables);
                        out.push(item);
                    }
                }
            }
            *items = out;
        }
        Value::Object(map) => {
            for item in map.values_mut() {
                apply_variables(item, variables);
            }
        }
        other => {
            if let Some(current) = current_value(other, variables) {
                *other = current;
            }
        }
    }
}

/// The current value of the variable `value` names, when it is a `$name` / `${name}` string.
fn current_value(value: &Value, variables: &[(String, Value)]) -> Option<Value> {
    let text = value.as_str()?;
    variables
        .iter()
        .find(|(name, _)| text == format!("${name}") || text == format!("${{{name}}}"))
        .map(|(_, current)| current.clone())
}

/// Parses Grafana-style relative times (`now`, `now-24h`, `now-7d`, `now-30m`) or RFC 3339.
pub fn parse_time(
    text: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let text = text.trim();
    if text == "now" {
        return Ok(now);
    }
    if let Some(rest) = text.strip_prefix("now-") {
        let (num, unit) = rest.split_at(
            rest.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len()),
        );
        let n: i64 = num.parse().map_err(|_| {
            format!(
                "{text:?} is not a time; use RFC 3339 (2024-06-01T00:00:00Z) or now-<N><s|m|h|d|w>"
            )
        })?;
        let unit_secs = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return Err(format!("{text:?} has an unknown unit; use s, m, h, d or w")),
        };
        // Checked all the way: a huge N must be an error, not an overflow panic.
        return n
            .checked_mul(unit_secs)
            .and_then(chrono::Duration::try_seconds)
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or_else(|| {
                format!(
                    "{text:?} reaches before the earliest time this tool handles; use a smaller N"
                )
            });
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|_| {
            format!(
                "{text:?} is not a time; use RFC 3339 (2024-06-01T00:00:00Z) or now-<N><s|m|h|d|w>"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `datasource` object of Lakewatch's type in `value`, with its JSON path.
    fn lakewatch_datasources(value: &Value, path: &str, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) => {
                if let Some(ds) = map.get("datasource") {
                    if ds["type"] == DATASOURCE_TYPE {
                        out.push((path.to_string(), ds.clone()));
                    }
                }
                for (k, v) in map {
                    lakewatch_datasources(v, &format!("{path}.{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    lakewatch_datasources(v, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }

    /// Every `$name` / `${name}` a string in `value` names (Grafana's own `$__…` left out).
    fn references(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => {
                for part in text.split('$').skip(1) {
                    let name: String = part
                        .trim_start_matches('{')
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && !name.starts_with("__") {
                        out.push(name);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            Value::Object(map) => map.values().for_each(|v| references(v, out)),
            _ => {}
        }
    }

    #[test]
    fn dashboards_use_a_datasource_variable_and_every_variable_resolves() {
        for (file, text) in DASHBOARDS {
            let dash: Value = serde_json::from_str(text).unwrap();
            let vars = dash["templating"]["list"].as_array().unwrap();
            let ds = vars.iter().find(|v| v["type"] == "datasource").unwrap();
            assert_eq!(ds["name"], "datasource", "{file}");
            assert_eq!(ds["query"], DATASOURCE_TYPE, "{file}");
            assert!(
                ds["current"].as_object().is_none_or(|c| c.is_empty()),
                "{file}: no fixed uid"
            );
            let mut found = Vec::new();
            lakewatch_datasources(&dash, "", &mut found);
            assert!(found.len() > 3, "{file}");
            for (path, ds) in &found {
                assert_eq!(ds["uid"], "${datasource}", "{file}{path}");
            }
            let names: Vec<&str> = vars.iter().filter_map(|v| v["name"].as_str()).collect();
            let mut used = Vec::new();
            references(&dash["panels"], &mut used);
            references(&dash["annotations"], &mut used);
            references(&Value::Array(vars.clone()), &mut used);
            for name in used {
                assert!(
                    names.contains(&name.as_str()),
                    "{file}: ${name} is not a variable"
                );
            }
        }
    }

    #[test]
    fn huge_relative_times_are_errors_not_panics() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-06-15T12:00:00Z")
            .unwrap()
            .to_utc();
        for text in [
            "now-100000000000d",
            "now-99999999999999w",
            "now-9223372036854775807s",
        ] {
            assert_eq!(
                parse_time(text, now),
                Err(format!(
                    "{text:?} reaches before the earliest time this tool handles; use a smaller N"
                ))
            );
        }
        assert_eq!(
            parse_time("now-99999999999999999999d", now),
            Err("\"now-99999999999999999999d\" is not a time; use RFC 3339 (2024-06-01T00:00:00Z) or now-<N><s|m|h|d|w>".to_string())
        );
        assert_eq!(
            parse_time("now-1d", now).unwrap().to_rfc3339(),
            "2024-06-14T12:00:00+00:00"
        );
    }

    #[test]
    fn every_shipped_panel_has_a_lakewatch_query() {
        let targets = panel_targets().unwrap();
        assert!(targets.len() >= 8);
        for t in &targets {
            // Any query Lakewatch answers: the resource timeline is not a single planned panel query.
            crate::query::AnyQuery::from_json(&t.query)
                .unwrap_or_else(|e| panic!("{}: {e}", t.panel));
        }
    }

    #[test]
    fn shipped_annotations_are_lakewatch_annotation_queries() {
        let targets = annotation_targets().unwrap();
        let names: Vec<(&str, &str)> = targets
            .iter()
            .map(|t| {
                (
                    t.dashboard.as_str(),
                    t.query["event"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("Lakewatch · Threats and rejects", "new_findings"),
                ("Lakewatch · Flow-log coverage", "flow_logs_silent"),
                ("Lakewatch · Compliance", "control_status_changes"),
                ("Lakewatch · Identity & API activity", "iam_changes"),
                ("Lakewatch · Identity & API activity", "sign_ins"),
                ("Lakewatch · Findings", "new_findings"),
            ]
        );
        for t in &targets {
            match crate::query::PanelQuery::from_json(&t.query) {
                Ok(crate::query::PanelQuery::Annotations(_)) => {}
                other => panic!("{}: {other:?}", t.panel),
            }
        }
        // The compliance dashboard's control variable reaches the query.
        assert_eq!(targets[2].query["control"], "EC2.6");
    }

    #[test]
    fn dashboard_variables_are_applied_as_grafana_sends_them() {
        let vars = vec![
            ("account".to_string(), serde_json::json!(["$__all"])),
            ("region".to_string(), serde_json::json!("eu-west-1")),
        ];
        let mut q = serde_json::json!({"filters": {"accounts": "$account", "regions": "${region}", "vpcs": "$vpc", "ip": ["$account"]}});
        apply_variables(&mut q, &vars);
        assert_eq!(
            q,
            serde_json::json!({"filters": {"accounts": ["$__all"], "regions": "eu-west-1", "vpcs": "$vpc", "ip": ["$__all"]}})
        );
        for t in panel_targets().unwrap() {
            assert!(!t.query.to_string().contains("\"$account\""), "{}", t.panel);
        }
    }

    #[test]
    fn relative_times() {
        let now = parse_time("2024-06-10T12:00:00Z", chrono::Utc::now()).unwrap();
        assert_eq!(
            parse_time("now-24h", now).unwrap().to_rfc3339(),
            "2024-06-09T12:00:00+00:00"
        );
        assert_eq!(
            parse_time("now-7d", now).unwrap().to_rfc3339(),
            "2024-06-03T12:00:00+00:00"
        );
        assert!(parse_time("yesterday", now).is_err());
    }
}
