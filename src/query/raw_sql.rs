//! The `sql` kind: the user's own SQL with macros, plus template-variable values that are typed
//! and validated here, so that they reach the SQL only as escaped literals.

use serde_json::{Map, Value};

use super::values::{parse_port, AccountId, Protocol, Region, ResourceId};
use super::{flow, quoted, snippet, ControlId, FlowFilters, QueryError};
use crate::net::Cidr;

/// Longest SQL text accepted (characters).
pub const MAX_SQL_CHARS: usize = 100_000;
/// Longest free-text variable value accepted (characters).
pub const MAX_TEXT_VALUE_CHARS: usize = 256;
/// Most values one variable may carry.
pub const MAX_VARIABLE_VALUES: usize = 1_000;

/// How the rows of a `sql` query are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlFormat {
    /// One table frame, a field per column.
    Table,
    /// Long rows (time, labels…, values…) → one wide time-series frame.
    TimeSeries,
}

/// The type of a template variable's values: decides how each value is checked and rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableType {
    /// A 12-digit AWS account id (string literal).
    Account,
    /// An AWS region (string literal).
    Region,
    /// A VPC id (string literal).
    Vpc,
    /// A subnet id (string literal).
    Subnet,
    /// An ENI id (string literal).
    Eni,
    /// A single IPv4/IPv6 address (string literal).
    Ip,
    /// A CIDR block (string literal).
    Cidr,
    /// A port 0–65535 (number literal).
    Port,
    /// A protocol number or name (number literal).
    Protocol,
    /// A Security Hub control id (string literal).
    Control,
    /// Free text without control characters (string literal).
    Text,
}

impl VariableType {
    /// Every type name accepted in `variableTypes`.
    pub const NAMES: &'static str =
        "account, region, vpc, subnet, eni, ip, cidr, port, protocol, control, text";

    /// Parses a type name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "account" => VariableType::Account,
            "region" => VariableType::Region,
            "vpc" => VariableType::Vpc,
            "subnet" => VariableType::Subnet,
            "eni" => VariableType::Eni,
            "ip" => VariableType::Ip,
            "cidr" => VariableType::Cidr,
            "port" => VariableType::Port,
            "protocol" => VariableType::Protocol,
            "control" => VariableType::Control,
            "text" => VariableType::Text,
            _ => return None,
        })
    }

    /// The type a variable's name implies (`account`, `src_ip`, `dst_ports`, …); free text
    /// for names Lakewatch does not know.
    pub fn for_name(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        let base = lower
            .strip_prefix("src_")
            .or_else(|| lower.strip_prefix("dst_"))
            .unwrap_or(&lower);
        let base = base.strip_suffix('s').unwrap_or(base);
        match base {
            "account" | "account_id" | "accountid" => VariableType::Account,
            "region" => VariableType::Region,
            "vpc" | "vpc_id" => VariableType::Vpc,
            "subnet" | "subnet_id" => VariableType::Subnet,
            "eni" | "interface" | "interface_id" => VariableType::Eni,
            "ip" | "addr" | "addres" | "address" => VariableType::Ip,
            "cidr" | "network" | "block" => VariableType::Cidr,
            "port" => VariableType::Port,
            "protocol" => VariableType::Protocol,
            "control" | "control_id" => VariableType::Control,
            _ => VariableType::Text,
        }
    }
}

/// A validated variable value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableValue {
    /// Rendered as an escaped string literal.
    Text(String),
    /// Rendered as a number literal.
    Number(i64),
}

/// A template variable's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableValues {
    /// Grafana's "All" (`$__all`): no restriction.
    All,
    /// One or more checked values.
    Values(Vec<VariableValue>),
}

/// A template variable sent with the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The name, as used in the SQL (`$name`, `${name}`, `[[name]]`).
    pub name: String,
    /// Its type.
    pub kind: VariableType,
    /// Its values.
    pub values: VariableValues,
}

/// A `sql` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSql {
    /// The SQL text with macros and variable references.
    pub sql: String,
    /// How rows are shown.
    pub format: SqlFormat,
    /// Accounts `$__partitionFilter` restricts to (empty: all).
    pub accounts: Vec<AccountId>,
    /// Regions `$__partitionFilter` restricts to (empty: all).
    pub regions: Vec<Region>,
    /// Template variables, by name.
    pub variables: Vec<Variable>,
}

impl RawSql {
    /// A variable by name.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }
}

/// Checks one value of a variable of type `kind`.
pub fn parse_value(kind: VariableType, text: &str) -> Result<VariableValue, String> {
    let text_value = |s: &str| VariableValue::Text(s.to_string());
    match kind {
        VariableType::Account => AccountId::parse(text).map(|a| text_value(a.as_str())),
        VariableType::Region => Region::parse(text).map(|r| text_value(r.as_str())),
        VariableType::Vpc => ResourceId::parse(text, "vpc").map(|r| text_value(r.as_str())),
        VariableType::Subnet => ResourceId::parse(text, "subnet").map(|r| text_value(r.as_str())),
        VariableType::Eni => ResourceId::parse(text, "eni").map(|r| text_value(r.as_str())),
        VariableType::Ip => match Cidr::parse(text) {
            Ok(c) if c.is_single_address() && !text.contains('/') => {
                Ok(text_value(&c.addr.to_string()))
            }
            _ => Err(
                "expected a single IPv4 or IPv6 address, e.g. 10.0.1.17 or 2001:db8::1".to_string(),
            ),
        },
        VariableType::Cidr => Cidr::parse(text)
            .map(|c| text_value(&c.to_string()))
            .map_err(|e| e.to_string()),
        VariableType::Port => parse_port(text).map(|p| VariableValue::Number(i64::from(p))),
        VariableType::Protocol => {
            Protocol::parse(text).map(|p| VariableValue::Number(i64::from(p.0)))
        }
        VariableType::Control => ControlId::parse(text).map(|c| text_value(c.as_str())),
        VariableType::Text => {
            if text.chars().count() > MAX_TEXT_VALUE_CHARS {
                Err(format!(
                    "a text value may have at most {MAX_TEXT_VALUE_CHARS} characters"
                ))
            } else if text.chars().any(char::is_control) {
                Err(
                    "a text value may not contain control characters (NUL, line breaks, tabs…)"
                        .to_string(),
                )
            } else {
                Ok(text_value(text))
            }
        }
    }
}

/// Parses the `sql` kind's fields: `rawSql` (or `sql`), `format`, `filters.accounts`,
/// `filters.regions`, `variables` and `variableTypes`.
pub fn parse(obj: &Map<String, Value>) -> Result<RawSql, QueryError> {
    let (field, text) = match (obj.get("rawSql"), obj.get("sql")) {
        (Some(Value::String(s)), _) => ("rawSql", s),
        (None | Some(Value::Null), Some(Value::String(s))) => ("sql", s),
        (Some(other), _) | (None, Some(other)) if !other.is_null() => {
            return Err(QueryError::new(
                "rawSql",
                snippet(&other.to_string()),
                "expected the SQL text as a string",
            ))
        }
        _ => {
            return Err(QueryError::new(
                "rawSql",
                "(missing)",
                "a sql query needs its SQL text in rawSql, e.g. SELECT count(*) FROM $__table(vpc_flow) WHERE $__partitionFilter",
            ))
        }
    };
    if text.trim().is_empty() {
        return Err(QueryError::new(
            field,
            "\"\"",
            "the SQL text is empty; write a SELECT statement",
        ));
    }
    if text.chars().count() > MAX_SQL_CHARS {
        return Err(QueryError::new(
            field,
            quoted(text),
            format!("the SQL text is longer than {MAX_SQL_CHARS} characters"),
        ));
    }
    if text.contains('\0') {
        return Err(QueryError::new(
            field,
            quoted(text),
            "the SQL text contains a NUL character; remove it",
        ));
    }
    let format = match obj.get("format") {
        None | Some(Value::Null) => SqlFormat::Table,
        Some(Value::String(s)) if s == "table" => SqlFormat::Table,
        Some(Value::String(s)) if s == "time_series" || s == "timeseries" => SqlFormat::TimeSeries,
        Some(other) => {
            return Err(QueryError::new(
                "format",
                snippet(&other.to_string()),
                "expected table or time_series",
            ))
        }
    };
    let filters = flow::parse_filters_field(obj)?;
    let scope = FlowFilters {
        accounts: filters.accounts.clone(),
        regions: filters.regions.clone(),
        ..FlowFilters::default()
    };
    if scope != filters {
        return Err(QueryError::new(
            "filters",
            snippet(&obj.get("filters").map(Value::to_string).unwrap_or_default()),
            "a sql query takes only filters.accounts and filters.regions (they narrow $__partitionFilter); write other conditions in the SQL, with template variables for values",
        ));
    }
    let types = parse_types(obj.get("variableTypes"))?;
    let variables = parse_variables(obj.get("variables"), &types)?;
    Ok(RawSql {
        sql: text.clone(),
        format,
        accounts: filters.accounts,
        regions: filters.regions,
        variables,
    })
}

/// A variable name: a letter or `_`, then letters, digits and `_`, at most 64 characters.
pub fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with("__")
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_types(value: Option<&Value>) -> Result<Vec<(String, VariableType)>, QueryError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, t)| {
                let field = format!("variableTypes.{name}");
                t.as_str()
                    .and_then(VariableType::parse)
                    .map(|kind| (name.clone(), kind))
                    .ok_or_else(|| {
                        QueryError::new(
                            field,
                            snippet(&t.to_string()),
                            format!(
                                "unknown variable type; expected one of {}",
                                VariableType::NAMES
                            ),
                        )
                    })
            })
            .collect(),
        Some(other) => Err(QueryError::new(
            "variableTypes",
            snippet(&other.to_string()),
            "expected an object such as {\"site\":\"cidr\"}",
        )),
    }
}

fn parse_variables(
    value: Option<&Value>,
    types: &[(String, VariableType)],
) -> Result<Vec<Variable>, QueryError> {
    let map = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(QueryError::new(
                "variables",
                snippet(&other.to_string()),
                "expected an object of variable values such as {\"account\":[\"111122223333\"],\"region\":\"us-east-1\"}",
            ))
        }
    };
    let mut out = Vec::new();
    for (name, raw) in map {
        let field = format!("variables.{name}");
        if !is_variable_name(name) {
            return Err(QueryError::new(
                field,
                quoted(name),
                "a variable name is a letter or _ followed by letters, digits and _ (at most 64 characters, not starting with __)",
            ));
        }
        let kind = types
            .iter()
            .find(|(n, _)| n == name)
            .map_or_else(|| VariableType::for_name(name), |(_, k)| *k);
        let items: Vec<(String, &Value)> = match raw {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{field}[{i}]"), v))
                .collect(),
            one => vec![(field.clone(), one)],
        };
        if items.len() > MAX_VARIABLE_VALUES {
            return Err(QueryError::new(
                field,
                format!("({} values)", items.len()),
                format!("a variable may carry at most {MAX_VARIABLE_VALUES} values"),
            ));
        }
        let mut all = false;
        let mut values = Vec::new();
        for (item_field, item) in items {
            let text = match item {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(QueryError::new(
                        item_field,
                        snippet(&other.to_string()),
                        "expected a string or a number",
                    ))
                }
            };
            if text == "$__all" || text == "All" {
                all = true;
                continue;
            }
            let value = parse_value(kind, &text)
                .map_err(|reason| QueryError::new(item_field.clone(), quoted(&text), reason))?;
            values.push(value);
        }
        let values = if all {
            VariableValues::All
        } else if values.is_empty() {
            return Err(QueryError::new(
                field,
                snippet(&raw.to_string()),
                "the variable has no value; pick at least one, or All",
            ));
        } else {
            VariableValues::Values(values)
        };
        out.push(Variable {
            name: name.clone(),
            kind,
            values,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_json(v: Value) -> Result<RawSql, String> {
        parse(v.as_object().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn variable_types_follow_names() {
        assert_eq!(VariableType::for_name("accounts"), VariableType::Account);
        assert_eq!(VariableType::for_name("src_ip"), VariableType::Ip);
        assert_eq!(VariableType::for_name("dst_ports"), VariableType::Port);
        assert_eq!(VariableType::for_name("vpc"), VariableType::Vpc);
        assert_eq!(VariableType::for_name("team"), VariableType::Text);
    }

    #[test]
    fn parses_variables_single_multi_and_all() {
        let q = parse_json(json!({"rawSql": "SELECT 1", "format": "time_series",
            "variables": {"account": "111122223333", "region": ["us-east-1", "eu-west-1"], "vpc": "$__all", "port": [443, "80"]}}))
        .unwrap();
        assert_eq!(q.format, SqlFormat::TimeSeries);
        assert_eq!(
            q.variable("region").unwrap().values,
            VariableValues::Values(vec![
                VariableValue::Text("us-east-1".into()),
                VariableValue::Text("eu-west-1".into())
            ])
        );
        assert_eq!(q.variable("vpc").unwrap().values, VariableValues::All);
        assert_eq!(
            q.variable("port").unwrap().values,
            VariableValues::Values(vec![VariableValue::Number(443), VariableValue::Number(80)])
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(
            parse_json(json!({"rawSql": "SELECT 1", "variables": {"account": ["111122223333", "1' OR '1'='1"]}})).unwrap_err(),
            "query field `variables.account[1]` has the value \"1' OR '1'='1\": an AWS account id is 12 digits, e.g. 111122223333"
        );
        assert_eq!(
            parse_json(json!({"rawSql": "SELECT 1", "variables": {"site": "a"}, "variableTypes": {"site": "colour"}})).unwrap_err(),
            "query field `variableTypes.site` has the value \"colour\": unknown variable type; expected one of account, region, vpc, subnet, eni, ip, cidr, port, protocol, control, text"
        );
        assert_eq!(
            parse_json(json!({"sql": "SELECT 1", "filters": {"dst_ports": [22]}})).unwrap_err(),
            "query field `filters` has the value {\"dst_ports\":[22]}: a sql query takes only filters.accounts and filters.regions (they narrow $__partitionFilter); write other conditions in the SQL, with template variables for values"
        );
        assert_eq!(
            parse_json(json!({"kind": "sql"})).unwrap_err(),
            "query field `rawSql` has the value (missing): a sql query needs its SQL text in rawSql, e.g. SELECT count(*) FROM $__table(vpc_flow) WHERE $__partitionFilter"
        );
    }
}
