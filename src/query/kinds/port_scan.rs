//! `port_scan`: sources that touched more distinct ports (or hosts) than a threshold.

use super::super::flow::parse_scan_target;
use super::super::PortScan;
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError, FLOW_FILTERS};

const THRESHOLD: u32 = 20;
const LIMIT: u32 = 100;

/// `port_scan`.
pub struct PortScanKind;

impl Kind for PortScanKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Sources that touched more distinct ports (or hosts) than the threshold",
            fields: vec!["scan_by", "threshold", "window_minutes", "limit"],
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new("port_scan", "Port scans", Group::Flow, Answer::Table)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        Ok(panel(PanelQuery::PortScan(PortScan {
            target: parse_scan_target(query.object())?,
            threshold: query.number("threshold", 1..=65_535)?.unwrap_or(THRESHOLD),
            window_minutes: query.number("window_minutes", 1..=10_080)?,
            filters,
            limit: query.limit(LIMIT)?,
        })))
    }
}
