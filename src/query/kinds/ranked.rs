//! The shape of the kinds that rank groups of flows by a measure (`top_ports`, `top_interfaces`,
//! `top_subnets`): each is a [`Ranked`] value naming its default groups and measure.

use super::{dimension_names, flow_dimensions, measures_from, top_panel};
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

/// A kind that ranks `group_by` groups (these by default) by `measure` (this by default).
pub struct Ranked {
    /// The name in query JSON.
    pub kind: &'static str,
    /// Menu label.
    pub label: &'static str,
    /// One line on what it shows.
    pub description: &'static str,
    /// The measure when the query names none.
    pub measure: Measure,
    /// The groups when the query names none.
    pub group_by: &'static [Dimension],
}

/// Rows shown when the query sets no `limit`.
const LIMIT: u32 = 10;

impl Kind for Ranked {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: self.description,
            fields: vec!["measure", "group_by", "limit"],
            measures: measures_from(self.measure),
            dimensions: flow_dimensions(),
            default_group_by: Some(dimension_names(self.group_by)),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(self.kind, self.label, Group::Flow, Answer::Table)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        let keys = TopKeys::Dimensions(query.nonempty_group_by(self.group_by, self.kind)?);
        Ok(top_panel(
            self.kind,
            query.top(keys, self.measure, filters)?,
        ))
    }
}
