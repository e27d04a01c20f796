//! Day slices of a time-series plan: one plan per closed UTC day and one for the open rest, so a
//! cache keeps the closed days and a dashboard whose "now" moves re-runs only the open day.
//!
//! A series is split only when its buckets tile a day (every bucket lies in one day), a coverage
//! plan (last record and count per group) always; neither may have either-side rows, group
//! conditions or history — then the slices' rows, put together (a coverage group's rows merged),
//! are exactly the rows of the whole plan.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{Plan, Shape, DAY_MS};

/// A day counts as closed this long after it ended: records of the day still arriving (Security
/// Lake delivers flow logs minutes to an hour late) are not cached away.
pub const SETTLE: Duration = Duration::hours(1);

/// Most days a range may touch to be run in day slices; longer ranges run as one query (so a
/// panel never starts more than this many engine queries).
pub const MAX_SLICES: usize = 8;

/// One slice of a split plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// The plan restricted to the slice.
    pub plan: Plan,
    /// Whether the slice covers whole closed days only (its result does not change any more).
    pub closed: bool,
    /// Rows whose bucket starts before this (epoch ms) belong to the range's first day before the
    /// range's start: drop them. The first day runs whole so that its query stays the same while
    /// the range moves.
    pub keep_from_ms: Option<i64>,
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

/// The slices of `plan` at wall-clock time `now`, or None when it runs best as one query: not a
/// plain time series or coverage plan, buckets that do not tile a day, one day only, more than
/// [`MAX_SLICES`] days, or no closed day in the range.
pub fn day_slices(plan: &Plan, now: DateTime<Utc>) -> Option<Vec<Slice>> {
    let tiles = match plan.shape {
        Shape::TimeSeries { bucket_ms, .. } => DAY_MS % bucket_ms == 0,
        // Groups' last records and counts: merged per group (`frame::coverage_frame`).
        Shape::Coverage { .. } => true,
        _ => false,
    };
    let plain = plan.sides.is_none() && plan.having.is_empty() && plan.history.is_none();
    let days = &plan.partitions.days;
    if !tiles || !plain || days.len() < 2 || days.len() > MAX_SLICES {
        return None;
    }
    let last_ms = Duration::milliseconds(1);
    let mut slices = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let start = day_start(*day);
        let end = start + Duration::days(1);
        let closed = end - last_ms <= plan.time.to && end + SETTLE <= now;
        if !closed {
            // The open rest: from this day's start (the range's start on the first day) to `to`.
            let from = if i == 0 { plan.time.from } else { start };
            slices.push(slice(plan, &days[i..], from, plan.time.to, false, None));
            break;
        }
        let keep_from_ms =
            (i == 0 && plan.time.from > start).then(|| plan.time.from.timestamp_millis());
        slices.push(slice(
            plan,
            &days[i..=i],
            start,
            end - last_ms,
            true,
            keep_from_ms,
        ));
    }
    slices.iter().any(|s| s.closed).then_some(slices)
}

fn slice(
    plan: &Plan,
    days: &[NaiveDate],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    closed: bool,
    keep_from_ms: Option<i64>,
) -> Slice {
    let mut p = plan.clone();
    p.partitions.days = days.to_vec();
    p.time.from = from;
    p.time.to = to;
    Slice {
        plan: p,
        closed,
        keep_from_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::SourceVersion;
    use crate::plan::{plan, PlanOptions};
    use crate::query::{PanelQuery, TimeWindow};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn series(from: &str, to: &str, query: serde_json::Value) -> Plan {
        let q = PanelQuery::from_json_bytes(query.to_string().as_bytes()).unwrap();
        let window = TimeWindow::new(t(from), t(to), 300_000, 1000).unwrap();
        plan(
            &q,
            &window,
            &PlanOptions {
                version: SourceVersion::V2,
                home_region: "us-east-1".into(),
                max_rows: 1000,
                lookback_days: 7,
            },
        )
    }

    fn ranges(slices: &[Slice]) -> Vec<(String, String, bool, Option<i64>)> {
        slices
            .iter()
            .map(|s| {
                (
                    s.plan.time.from.to_rfc3339(),
                    s.plan.time.to.to_rfc3339(),
                    s.closed,
                    s.keep_from_ms,
                )
            })
            .collect()
    }

    #[test]
    fn a_day_range_ending_now_runs_the_closed_day_whole_and_the_open_day_alone() {
        let p = series(
            "2024-06-14T12:03:00Z",
            "2024-06-15T12:03:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        // Whole buckets: the range starts at its first bucket's start.
        assert_eq!(p.time.from, t("2024-06-14T12:00:00Z"));
        let slices = day_slices(&p, t("2024-06-15T12:03:00Z")).unwrap();
        assert_eq!(
            ranges(&slices),
            vec![
                (
                    "2024-06-14T00:00:00+00:00".to_string(),
                    "2024-06-14T23:59:59.999+00:00".to_string(),
                    true,
                    Some(t("2024-06-14T12:00:00Z").timestamp_millis())
                ),
                (
                    "2024-06-15T00:00:00+00:00".to_string(),
                    "2024-06-15T12:03:00+00:00".to_string(),
                    false,
                    None
                ),
            ]
        );
        // A minute later the closed day's plan is the same.
        let later = series(
            "2024-06-14T12:04:00Z",
            "2024-06-15T12:04:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        let again = day_slices(&later, t("2024-06-15T12:04:00Z")).unwrap();
        assert_eq!(again[0].plan, slices[0].plan);
        assert_ne!(again[1].plan, slices[1].plan);
    }

    #[test]
    fn a_day_that_ended_less_than_the_settling_time_ago_stays_open() {
        let p = series(
            "2024-06-14T12:00:00Z",
            "2024-06-15T00:30:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        assert_eq!(day_slices(&p, t("2024-06-15T00:30:00Z")), None);
        let slices = day_slices(&p, t("2024-06-15T01:00:00Z")).unwrap();
        assert_eq!(slices.len(), 2);
        assert!(slices[0].closed && !slices[1].closed);
    }

    #[test]
    fn a_past_range_is_all_closed_days_and_its_last_partial_day() {
        let p = series(
            "2024-06-10T00:00:00Z",
            "2024-06-12T06:00:00Z",
            serde_json::json!({"kind": "flow_volume", "group_by": ["account"]}),
        );
        let slices = day_slices(&p, t("2024-07-01T00:00:00Z")).unwrap();
        let closed: Vec<bool> = slices.iter().map(|s| s.closed).collect();
        assert_eq!(closed, vec![true, true, false]);
        assert_eq!(slices[0].keep_from_ms, None);
        assert_eq!(slices[2].plan.partitions.days.len(), 1);
    }

    #[test]
    fn coverage_looks_back_whole_days_and_runs_them_as_slices() {
        let p = series(
            "2024-06-15T11:00:00Z",
            "2024-06-15T12:03:00Z",
            serde_json::json!({"kind": "coverage"}),
        );
        assert_eq!(p.time.from, t("2024-06-08T00:00:00Z"));
        let slices = day_slices(&p, t("2024-06-15T12:03:00Z")).unwrap();
        assert_eq!(slices.len(), 8);
        assert!(slices[..7]
            .iter()
            .all(|s| s.closed && s.keep_from_ms.is_none()));
        assert_eq!(slices[7].plan.time.from, t("2024-06-15T00:00:00Z"));
        assert!(!slices[7].closed);
    }

    #[test]
    fn tables_single_days_and_long_ranges_run_whole() {
        let now = t("2024-07-01T00:00:00Z");
        let top = series(
            "2024-06-10T00:00:00Z",
            "2024-06-12T00:00:00Z",
            serde_json::json!({"kind": "top_talkers"}),
        );
        assert_eq!(day_slices(&top, now), None);
        let one_day = series(
            "2024-06-10T01:00:00Z",
            "2024-06-10T23:00:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        assert_eq!(day_slices(&one_day, now), None);
        let month = series(
            "2024-06-01T00:00:00Z",
            "2024-06-30T00:00:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        assert_eq!(day_slices(&month, now), None);
    }
}
