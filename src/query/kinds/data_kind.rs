//! What the two CloudTrail data-event kinds share: their spec's shape (series or table over one
//! source's dimensions, measures and filters) and their parse.

use super::super::data_events::{parse_data_events, DataDimension, DataMeasure, DataSource};
use super::{panel, Answer, Envelope, Group, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

/// The spec of the kind over `source`.
pub(super) fn data_spec(
    source: DataSource,
    label: &'static str,
    description: &'static str,
) -> KindSpec {
    KindSpec {
        description,
        fields: vec!["measure", "group_by", "limit", "format"],
        measures: DataMeasure::ALL.iter().map(|m| m.name(source)).collect(),
        dimensions: DataDimension::of(source).iter().map(|d| d.name()).collect(),
        formats: Some(vec!["series", "table"]),
        filters: source.filters().to_vec(),
        ..KindSpec::new(
            source.kind(),
            label,
            Group::CloudTrail,
            Answer::TableOrSeries,
        )
    }
}

/// The typed query of the kind over `source`.
pub(super) fn data_parse(source: DataSource, query: &Envelope) -> Result<AnyQuery, QueryError> {
    let limit = query.number("limit", 1..=10_000)?;
    let q = parse_data_events(query.object(), source, limit)?;
    Ok(panel(PanelQuery::DataEvents(q)))
}
