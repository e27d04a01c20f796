//! Datasource settings: Grafana's `jsonData` / `secureJsonData` → typed [`Settings`].

use std::path::PathBuf;

use serde_json::Value;

use crate::lake::SourceVersion;
use crate::query::Region;

/// Which engine runs the SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineChoice {
    /// The embedded local lake at this folder.
    Local {
        /// Lake root (the folder holding `aws/`).
        lake_path: PathBuf,
    },
}

/// Typed datasource settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Engine.
    pub engine: EngineChoice,
    /// Source version of the Security Lake tables.
    pub source_version: SourceVersion,
    /// Region whose Glue database holds the tables (the rollup region).
    pub home_region: String,
    /// Most rows a query may return.
    pub max_rows: u64,
    /// Most series a time-series frame may carry.
    pub max_series: usize,
    /// How far back coverage and freshness queries look for the last record, in days.
    pub lookback_days: u32,
}

/// Default lake folder when none is configured: `$LAKEWATCH_LAKE`, else `./demo-lake`.
pub fn default_lake_path() -> PathBuf {
    std::env::var_os("LAKEWATCH_LAKE").map_or_else(|| PathBuf::from("demo-lake"), PathBuf::from)
}

/// A setting that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("datasource setting `{key}` has the value {value}: {reason}")]
pub struct SettingsError {
    /// The jsonData key.
    pub key: String,
    /// The value as JSON text.
    pub value: String,
    /// What is wrong and what to do.
    pub reason: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            engine: EngineChoice::Local {
                lake_path: default_lake_path(),
            },
            source_version: SourceVersion::V2,
            home_region: "us-east-1".to_string(),
            max_rows: 100_000,
            max_series: 100,
            lookback_days: 7,
        }
    }
}

impl Settings {
    /// Parses `jsonData` bytes (empty means defaults).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, SettingsError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Settings::default());
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| SettingsError {
            key: "(jsonData)".into(),
            value: String::from_utf8_lossy(bytes).chars().take(80).collect(),
            reason: format!("not valid JSON ({e}); save the datasource settings again"),
        })?;
        Self::from_json(&value)
    }

    /// Parses a `jsonData` value. Unknown keys are ignored.
    pub fn from_json(json: &Value) -> Result<Self, SettingsError> {
        let mut s = Settings::default();
        let Some(obj) = json.as_object() else {
            return Ok(s);
        };
        let err = |key: &str, v: &Value, reason: &str| SettingsError {
            key: key.into(),
            value: v.to_string(),
            reason: reason.into(),
        };
        let text = |key: &str| -> Result<Option<String>, SettingsError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(t)) if t.trim().is_empty() => Ok(None),
                Some(Value::String(t)) => Ok(Some(t.trim().to_string())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(v) => Err(err(key, v, "expected a string")),
            }
        };
        match text("engine")?.as_deref() {
            None | Some("local") => {
                if let Some(path) = text("lakePath")? {
                    s.engine = EngineChoice::Local {
                        lake_path: PathBuf::from(path),
                    };
                }
            }
            Some(other) => {
                return Err(err(
                    "engine",
                    &Value::String(other.into()),
                    "this build runs the local lake only; set engine to \"local\"",
                ))
            }
        }
        if let Some(v) = text("sourceVersion")? {
            s.source_version = SourceVersion::parse(&v).ok_or_else(|| {
                err(
                    "sourceVersion",
                    &Value::String(v.clone()),
                    "expected 1 or 2",
                )
            })?;
        }
        for key in ["rollupRegion", "defaultRegion"] {
            if let Some(v) = text(key)? {
                Region::parse(&v).map_err(|r| err(key, &Value::String(v.clone()), &r))?;
                s.home_region = v;
                break;
            }
        }
        let number = |key: &str, max: u64| -> Result<Option<u64>, SettingsError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => {
                    let n = match v {
                        Value::Number(n) => n.as_u64(),
                        Value::String(t) => t.trim().parse().ok(),
                        _ => None,
                    };
                    match n {
                        Some(n) if (1..=max).contains(&n) => Ok(Some(n)),
                        _ => Err(err(
                            key,
                            v,
                            &format!("expected a whole number from 1 to {max}"),
                        )),
                    }
                }
            }
        };
        if let Some(n) = number("maxRows", 10_000_000)? {
            s.max_rows = n;
        }
        if let Some(n) = number("maxSeries", 10_000)? {
            s.max_series = n as usize;
        }
        if let Some(n) = number("lookbackDays", 90)? {
            s.lookback_days = n as u32;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_reports_bad_values() {
        let s = Settings::from_json(&json!({"lakePath": "/x", "sourceVersion": "1", "rollupRegion": "eu-west-1", "maxRows": 10})).unwrap();
        assert_eq!(
            s.engine,
            EngineChoice::Local {
                lake_path: "/x".into()
            }
        );
        assert_eq!(s.source_version, SourceVersion::V1);
        assert_eq!(s.home_region, "eu-west-1");
        assert_eq!(s.max_rows, 10);
        assert_eq!(
            Settings::from_json(&json!({"sourceVersion": "3"}))
                .unwrap_err()
                .to_string(),
            "datasource setting `sourceVersion` has the value \"3\": expected 1 or 2"
        );
        assert_eq!(Settings::from_json_bytes(b"").unwrap(), Settings::default());
    }
}
