//! `flow_search`: the matching flow records, newest first, every field.

use super::super::{FlowSearch, SearchFormat};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError, FLOW_FILTERS};

const LIMIT: u32 = 100;
const FORMATS: [(&str, SearchFormat); 2] = [("table", SearchFormat::Table), ("logs", SearchFormat::Logs)];

/// `flow_search`.
pub struct FlowSearchKind;

impl Kind for FlowSearchKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Matching flow records, newest first, every field",
            fields: vec!["limit", "format"],
            formats: Some(FORMATS.iter().map(|(name, _)| *name).collect()),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new("flow_search", "Flow search", Group::Flow, Answer::TableOrLogs)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        Ok(panel(PanelQuery::FlowSearch(FlowSearch {
            filters,
            limit: query.limit(LIMIT)?,
            format: query.format(&FORMATS)?,
        })))
    }
}
