//! `flow_volume`: bytes, packets or flows over time, one series per group.

use super::{
    flow_dimensions, measures_from, series_panel, Answer, Envelope, Group, Kind, KindSpec,
};
use super::{AnyQuery, Measure, QueryError, FLOW_FILTERS};

const MEASURE: Measure = Measure::Bytes;

/// `flow_volume`.
pub struct FlowVolumeKind;

impl Kind for FlowVolumeKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Bytes, packets or flows over time, one series per group",
            fields: vec!["measure", "group_by", "limit"],
            measures: measures_from(MEASURE),
            dimensions: flow_dimensions(),
            filters: FLOW_FILTERS.to_vec(),
            ..KindSpec::new(
                "flow_volume",
                "Flow volume",
                Group::Flow,
                Answer::TimeSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        Ok(series_panel("flow_volume", query.series(MEASURE, filters)?))
    }
}
