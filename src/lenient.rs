//! Lenient reading of JSON objects, shared by the datasource settings and the panel queries.
//!
//! Both arrive from forms, provisioning files and template variables rather than from a typed
//! client, so the same value comes in several shapes: a cleared field is absent, `null` or `""`
//! (all mean "not set"), a number typed into a text box is a string (`"300"`), and a list is a
//! JSON array or the comma-separated text a viewer types (`"a, b"`). The readers here accept
//! those shapes and answer a [`Problem`] naming the key and the value as written; the settings
//! and the queries turn it into their own error type.

use std::ops::RangeInclusive;

use serde_json::{Map, Value};

/// A value that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key (or path, e.g. `filters.ports[1]`) holding the value.
    pub key: String,
    /// The value as JSON text, as it was written.
    pub value: String,
    /// What is wrong and what is accepted.
    pub reason: String,
}

impl Problem {
    /// A problem with the JSON value `value` of `key`.
    pub fn new(key: impl Into<String>, value: &Value, reason: impl Into<String>) -> Self {
        Problem {
            key: key.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// A problem with a text read from `key`, echoed as a JSON string.
    pub fn text(key: impl Into<String>, text: &str, reason: impl Into<String>) -> Self {
        Problem::new(key, &Value::String(text.to_string()), reason)
    }

    /// The same key and value with a reason of the caller's (a setting that says what it means,
    /// e.g. "seconds", where the reader only knows "a whole number").
    pub fn because(self, reason: impl Into<String>) -> Self {
        Problem {
            reason: reason.into(),
            ..self
        }
    }
}

/// Whether a value means "not set": absent, `null`, or text that is empty or only spaces.
pub fn is_unset(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(t)) => t.trim().is_empty(),
        Some(_) => false,
    }
}

/// The value when it is set (see [`is_unset`]).
fn set(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !is_unset(Some(v)))
}

/// Text, trimmed; a number is taken as its decimal text.
pub fn text(key: &str, value: Option<&Value>) -> Result<Option<String>, Problem> {
    match set(value) {
        None => Ok(None),
        Some(Value::String(t)) => Ok(Some(t.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(v) => Err(Problem::new(key, v, "expected a string")),
    }
}

/// A whole number within `range`, as a JSON number or as text (text boxes send strings).
pub fn whole_number(
    key: &str,
    value: Option<&Value>,
    range: RangeInclusive<u64>,
) -> Result<Option<u64>, Problem> {
    let Some(v) = set(value) else {
        return Ok(None);
    };
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(t) => t.trim().parse().ok(),
        _ => None,
    };
    match n {
        Some(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(Problem::new(
            key,
            v,
            format!(
                "expected a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// A finite decimal within `range`, as a JSON number or as text.
pub fn decimal(
    key: &str,
    value: Option<&Value>,
    range: RangeInclusive<f64>,
) -> Result<Option<f64>, Problem> {
    let Some(v) = set(value) else {
        return Ok(None);
    };
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(t) => t.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n.is_finite() && range.contains(&n) => Ok(Some(n)),
        _ => Err(Problem::new(
            key,
            v,
            format!(
                "expected a number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// `true` or `false`, as a JSON boolean or as text.
pub fn flag(key: &str, value: Option<&Value>) -> Result<Option<bool>, Problem> {
    match set(value) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(t)) if matches!(t.trim(), "true" | "false") => {
            Ok(Some(t.trim() == "true"))
        }
        Some(v) => Err(Problem::new(key, v, "expected true or false")),
    }
}

/// How [`list`] reads the items of a JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    /// Each item like the field itself: text split at commas, a number as its text, `null` and
    /// empty entries skipped; a bad item is named `key[i]`. For query fields, where a
    /// multi-value template variable arrives as an array of such values.
    Values,
    /// Each item one string, trimmed and kept even when empty so that the caller refuses it; a
    /// bad item is named by the key. For settings that restrict what is read
    /// (`allowedAccounts`): an empty entry, such as an unset provisioning variable, must fail
    /// rather than leave the list empty, which would mean "everything".
    Strings,
}

impl Items {
    /// What a list of this kind accepts, for problems.
    fn expected(self) -> &'static str {
        match self {
            Items::Values => "expected a string, a number or a list of them",
            Items::Strings => "expected a list of strings",
        }
    }
}

/// A list: a JSON array, or text of values separated by commas (trimmed, empty ones skipped).
pub fn list(key: &str, value: Option<&Value>, items: Items) -> Result<Vec<String>, Problem> {
    let mut out = Vec::new();
    match (value, items) {
        (None | Some(Value::Null), _) => {}
        (Some(Value::Array(all)), Items::Values) => {
            for (i, item) in all.iter().enumerate() {
                scalar(&format!("{key}[{i}]"), item, &mut out)?;
            }
        }
        (Some(Value::Array(all)), Items::Strings) => {
            for item in all {
                match item {
                    Value::String(t) => out.push(t.trim().to_string()),
                    other => return Err(Problem::new(key, other, items.expected())),
                }
            }
        }
        (Some(v @ Value::String(_)), _) | (Some(v @ Value::Number(_)), Items::Values) => {
            scalar(key, v, &mut out)?
        }
        (Some(v), _) => return Err(Problem::new(key, v, items.expected())),
    }
    Ok(out)
}

/// One value of a [`list`]: text split at commas, a number as its text, `null` nothing.
fn scalar(key: &str, value: &Value, out: &mut Vec<String>) -> Result<(), Problem> {
    match value {
        Value::String(t) => out.extend(
            t.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string),
        ),
        Value::Number(n) => out.push(n.to_string()),
        Value::Null => {}
        other => return Err(Problem::new(key, other, Items::Values.expected())),
    }
    Ok(())
}

/// A JSON object read with the lenient readers above, by key.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// The fields of `obj`.
    pub fn new(obj: &'a Map<String, Value>) -> Self {
        Fields { obj }
    }

    /// The raw value of `key`, for readers of other shapes.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key)
    }

    /// [`text`] of `key`.
    pub fn text(&self, key: &str) -> Result<Option<String>, Problem> {
        text(key, self.get(key))
    }

    /// [`whole_number`] of `key`.
    pub fn whole_number(
        &self,
        key: &str,
        range: RangeInclusive<u64>,
    ) -> Result<Option<u64>, Problem> {
        whole_number(key, self.get(key), range)
    }

    /// [`decimal`] of `key`.
    pub fn decimal(&self, key: &str, range: RangeInclusive<f64>) -> Result<Option<f64>, Problem> {
        decimal(key, self.get(key), range)
    }

    /// [`flag`] of `key`.
    pub fn flag(&self, key: &str) -> Result<Option<bool>, Problem> {
        flag(key, self.get(key))
    }

    /// [`list`] of `key`.
    pub fn list(&self, key: &str, items: Items) -> Result<Vec<String>, Problem> {
        list(key, self.get(key), items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn absent_null_and_empty_text_are_unset() {
        let o = obj(json!({"a": null, "b": "", "c": "  "}));
        let f = Fields::new(&o);
        for key in ["a", "b", "c", "missing"] {
            assert_eq!(f.text(key), Ok(None));
            assert_eq!(f.whole_number(key, 0..=9), Ok(None));
            assert_eq!(f.decimal(key, 0.0..=9.0), Ok(None));
            assert_eq!(f.flag(key), Ok(None));
            assert_eq!(f.list(key, Items::Values), Ok(vec![]));
        }
    }

    #[test]
    fn numbers_may_be_text_and_problems_echo_the_json() {
        let o = obj(json!({"n": " 42 ", "m": 7, "x": "4x", "f": 1.5, "d": "0.25", "b": "true"}));
        let f = Fields::new(&o);
        assert_eq!(f.whole_number("n", 1..=100), Ok(Some(42)));
        assert_eq!(f.whole_number("m", 1..=100), Ok(Some(7)));
        assert_eq!(f.text("m"), Ok(Some("7".into())));
        assert_eq!(f.decimal("d", 0.0..=1.0), Ok(Some(0.25)));
        assert_eq!(f.flag("b"), Ok(Some(true)));
        let p = f.whole_number("x", 1..=100).unwrap_err();
        assert_eq!(
            (p.key.as_str(), p.value.as_str(), p.reason.as_str()),
            ("x", "\"4x\"", "expected a whole number from 1 to 100")
        );
        assert_eq!(f.whole_number("f", 1..=100).unwrap_err().value, "1.5");
        assert_eq!(f.whole_number("m", 8..=9).unwrap_err().value, "7");
        assert_eq!(
            f.flag("m").unwrap_err().because("on or off").reason,
            "on or off"
        );
    }

    #[test]
    fn lists_read_items_as_values_or_as_strings() {
        let v = json!(["a, b", 5, null, "", " c "]);
        assert_eq!(
            list("k", Some(&v), Items::Values),
            Ok(vec!["a".into(), "b".into(), "5".into(), "c".into()])
        );
        assert_eq!(
            list("k", Some(&json!(" a,,b ")), Items::Strings),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            list("k", Some(&json!([" a ", ""])), Items::Strings),
            Ok(vec!["a".into(), String::new()])
        );
        let p = list("k", Some(&json!(["a", [1]])), Items::Values).unwrap_err();
        assert_eq!((p.key.as_str(), p.value.as_str()), ("k[1]", "[1]"));
        let p = list("k", Some(&json!(["a", 5])), Items::Strings).unwrap_err();
        assert_eq!(
            (p.key.as_str(), p.value.as_str(), p.reason.as_str()),
            ("k", "5", "expected a list of strings")
        );
        assert!(list("k", Some(&json!(5)), Items::Strings).is_err());
        assert!(list("k", Some(&json!(true)), Items::Values).is_err());
    }
}
