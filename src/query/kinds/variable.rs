//! `variable`: the values of one dimension seen in the time range (template variables).

use serde_json::Value;

use super::super::{quoted, snippet, VariableQuery, VariableTarget};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError, FLOW_FILTERS};

const LIMIT: u32 = 1000;

/// `variable`.
pub struct VariableKind;

impl Kind for VariableKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Values of one dimension seen in the time range, for template variables",
            fields: vec!["values", "limit"],
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "variable",
                "Variable values",
                Group::Variable,
                Answer::Values,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        let target = target(query.object().get("values"))?;
        Ok(panel(PanelQuery::Variable(VariableQuery {
            target,
            filters,
            limit: query.limit(LIMIT)?,
        })))
    }
}

/// What the query lists (`values`), which it must name.
fn target(values: Option<&Value>) -> Result<VariableTarget, QueryError> {
    match values {
        Some(Value::String(v)) => VariableTarget::parse(v).ok_or_else(|| {
            QueryError::new(
                "values",
                quoted(v),
                format!("expected one of {}", VariableTarget::NAMES),
            )
        }),
        other => Err(QueryError::new(
            "values",
            other.map_or_else(|| "(missing)".to_string(), |v| snippet(&v.to_string())),
            format!(
                "a variable query names what to list: one of {}",
                VariableTarget::NAMES
            ),
        )),
    }
}
