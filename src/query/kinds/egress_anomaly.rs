//! `egress_anomaly`: bytes leaving each VPC (or ENI) for the internet, hour by hour, far above
//! what the same hour of day sent over the whole days before the range — a robust score
//! against the baseline's median and median absolute deviation.

use super::super::flow::parse_own_cidrs;
use super::super::{AnomalyFormat, AnomalyKeys, EgressAnomaly, FlowDirectionFilter, FlowFilters};
use super::super::{InternetPeer, PeerSide};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError, FLOW_FILTERS};

/// Anomalous hours listed when the query names no `limit`.
const LIMIT: u32 = 50;
/// The score from which an hour is anomalous when the query names no `min_score`.
pub const MIN_SCORE: u32 = 4;
/// The least egress of an anomalous hour when the query names no `min_bytes`: 100 MB, so that
/// a quiet VPC's few extra megabytes do not alarm.
pub const MIN_BYTES: u64 = 100_000_000;
const FORMATS: [(&str, AnomalyFormat); 3] = [
    ("table", AnomalyFormat::Table),
    ("series", AnomalyFormat::Series),
    ("score", AnomalyFormat::Score),
];
const BY: [(&str, AnomalyKeys); 2] = [("vpc", AnomalyKeys::Vpc), ("eni", AnomalyKeys::Eni)];

/// `egress_anomaly`.
pub struct EgressAnomalyKind;

impl Kind for EgressAnomalyKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Hourly internet egress per VPC or ENI far above the same hour's baseline",
            fields: vec![
                "by",
                "baseline_days",
                "min_score",
                "min_bytes",
                "own_cidrs",
                "limit",
                "format",
            ],
            formats: Some(FORMATS.iter().map(|(name, _)| *name).collect()),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new(
                "egress_anomaly",
                "Egress anomalies",
                Group::Flow,
                Answer::TableOrSeries,
            )
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = FlowFilters {
            direction: Some(FlowDirectionFilter::Egress),
            ..query.filters()?
        };
        let internet = InternetPeer {
            side: PeerSide::Destination,
            own: parse_own_cidrs(query.object())?,
        };
        Ok(panel(PanelQuery::EgressAnomaly(EgressAnomaly {
            keys: by(query)?,
            baseline_days: query.baseline_days()?,
            min_score: query.number("min_score", 1..=1000)?.unwrap_or(MIN_SCORE),
            min_bytes: query
                .wide_number("min_bytes", 0..=1_000_000_000_000)?
                .unwrap_or(MIN_BYTES),
            filters,
            internet,
            limit: query.limit(LIMIT)?,
            format: query.format(&FORMATS)?,
        })))
    }
}

/// `by`: what the score is per (`vpc`, the default, or `eni`).
fn by(query: &Envelope) -> Result<AnomalyKeys, QueryError> {
    query.choice("by", &BY)
}
