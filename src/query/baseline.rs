//! Detections against a baseline: a range compared with the whole UTC days before it.

use super::{FlowFilters, InternetPeer, TopFormat};

/// The fewest and most baseline days a detection reads before its range (`baseline_days`):
/// fewer than 3 values make no median worth the name; more than 28 read a month of records for
/// every panel refresh.
pub const BASELINE_DAYS: std::ops::RangeInclusive<u64> = 3..=28;

/// Baseline days when the query names none: the same weekday once, every hour of a week.
pub const DEFAULT_BASELINE_DAYS: u32 = 7;

/// What an egress anomaly is scored per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKeys {
    /// Per VPC.
    Vpc,
    /// Per network interface (with its VPC).
    Eni,
}

/// How an egress anomaly answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyFormat {
    /// The anomalous hours, highest score first.
    Table,
    /// Per group, the egress with its baseline band (median and upper bound) hour by hour, told
    /// apart by the label `band`.
    Series,
    /// Per group, the robust score hour by hour (what alert rules threshold).
    Score,
}

/// `egress_anomaly`: bytes sent to internet addresses per VPC (or ENI) and hour, scored against
/// the same hour of day over the `baseline_days` whole UTC days before the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressAnomaly {
    /// What is scored per.
    pub keys: AnomalyKeys,
    /// Whole days of baseline before the range's first day.
    pub baseline_days: u32,
    /// The score from which an hour is anomalous.
    pub min_score: u32,
    /// The least egress an hour must have to be anomalous, bytes.
    pub min_bytes: u64,
    /// Which flows count (direction egress).
    pub filters: FlowFilters,
    /// The destination must be an internet address.
    pub internet: InternetPeer,
    /// Most anomalous hours listed (table).
    pub limit: u32,
    /// How the result is shown.
    pub format: AnomalyFormat,
}

/// `beaconing`: a source reaching one internet destination (address, port, protocol) at regular
/// intervals: at least `min_contacts` distinct record start times whose intervals vary by at
/// most `max_jitter_percent` (their coefficient of variation, standard deviation over mean).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beaconing {
    /// The fewest contacts (distinct start times) a beacon has.
    pub min_contacts: u32,
    /// The most its intervals may vary, percent of their mean.
    pub max_jitter_percent: u32,
    /// Which flows count (direction egress).
    pub filters: FlowFilters,
    /// The destination must be an internet address.
    pub internet: InternetPeer,
    /// Most rows.
    pub limit: u32,
    /// A table, or one series per beacon (its contacts) for alert rules.
    pub format: TopFormat,
}
