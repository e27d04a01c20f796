//! `coverage`: when each account, region and VPC last sent flow records; the silent ones.

use super::super::flow::parse_coverage_format;
use super::super::{Coverage, CoverageFormat};
use super::{dimension_names, flow_dimensions, panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, PanelQuery, QueryError, FLOW_FILTERS};

const GROUP_BY: [Dimension; 3] = [Dimension::Account, Dimension::Region, Dimension::Vpc];

/// `coverage`.
pub struct CoverageKind;

impl Kind for CoverageKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "When each account, region and VPC last sent flow records; silent ones",
            ..coverage_spec("coverage", "Flow-log coverage", &GROUP_BY)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        parse_coverage("coverage", &GROUP_BY, query)
    }
}

/// The spec shared by `coverage` and `freshness`, which differ in their default groups.
pub(super) fn coverage_spec(
    kind: &'static str,
    label: &'static str,
    group_by: &[Dimension],
) -> KindSpec {
    KindSpec {
        fields: vec!["group_by", "silent_for_minutes", "lookback_days", "format"],
        dimensions: flow_dimensions(),
        default_group_by: Some(dimension_names(group_by)),
        formats: Some(vec!["table", "series"]),
        filters: FLOW_FILTERS.to_vec(),
        ..KindSpec::new(kind, label, Group::Coverage, Answer::TableOrSeries)
    }
}

/// The query shared by `coverage` and `freshness`.
pub(super) fn parse_coverage(
    kind: &'static str,
    group_by: &[Dimension],
    query: &Envelope,
) -> Result<AnyQuery, QueryError> {
    let filters = query.filters()?;
    Ok(panel(PanelQuery::Coverage {
        kind,
        query: Coverage {
            group_by: query.nonempty_group_by(group_by, kind)?,
            silent_for_minutes: query.number("silent_for_minutes", 1..=129_600)?,
            lookback_days: query.number("lookback_days", 1..=90)?,
            filters,
            format: parse_coverage_format(query.object(), CoverageFormat::Table)?,
        },
    }))
}
