//! `rejected`: denied flows over time, or the top rejected sources (`view: top_sources`).

use super::super::{quoted, string_list, FlowActionFilter, FlowFilters};
use super::{flow_dimensions, measures_from, series_panel, top_panel};
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Flows;
const TOP_GROUP_BY: [Dimension; 1] = [Dimension::SrcIp];

/// `rejected`.
pub struct Rejected;

impl Kind for Rejected {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Denied flows over time, or the top rejected sources",
            fields: vec!["view", "measure", "group_by", "limit"],
            measures: measures_from(MEASURE),
            dimensions: flow_dimensions(),
            views: Some(vec!["over_time", "top_sources"]),
            filters: FLOW_FILTERS.to_vec(),
            ..KindSpec::new(
                "rejected",
                "Rejected traffic",
                Group::Flow,
                Answer::TimeSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = FlowFilters {
            action: Some(FlowActionFilter::Reject),
            ..query.filters()?
        };
        match string_list(query.object().get("view"), "view")?.as_slice() {
            [] => Ok(series_panel("rejected", query.series(MEASURE, filters)?)),
            [v] if v == "over_time" => {
                Ok(series_panel("rejected", query.series(MEASURE, filters)?))
            }
            [v] if v == "top_sources" => {
                let keys = TopKeys::Dimensions(query.group_by(&TOP_GROUP_BY)?);
                Ok(top_panel("rejected", query.top(keys, MEASURE, filters)?))
            }
            [v] => Err(QueryError::new(
                "view",
                quoted(v),
                "expected over_time or top_sources",
            )),
            many => Err(QueryError::new(
                "view",
                format!("{many:?}"),
                "expected a single value: over_time or top_sources",
            )),
        }
    }
}
