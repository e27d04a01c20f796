//! `annotations`: events to mark on the time axis (control status changes, flow logs going
//! silent).

use std::collections::BTreeMap;

use super::super::annotations::parse;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError, COMPLIANCE_FILTERS};

/// `annotations`.
pub struct AnnotationsKind;

impl Kind for AnnotationsKind {
    fn spec(&self) -> KindSpec {
        let events = BTreeMap::from([
            ("control_status_changes", vec!["control"]),
            ("flow_logs_silent", vec!["silent_for_minutes", "group_by"]),
        ]);
        KindSpec {
            description:
                "Events to mark on the time axis: control status changes, flow logs going silent",
            fields: vec!["event"],
            event_fields: Some(events),
            dimensions: vec!["account", "region", "vpc"],
            default_group_by: Some(vec!["account", "region", "vpc"]),
            filters: COMPLIANCE_FILTERS.to_vec(),
            ..KindSpec::new(
                "annotations",
                "Annotations",
                Group::Annotations,
                Answer::Annotations,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        Ok(panel(PanelQuery::Annotations(parse(query.object())?)))
    }
}
