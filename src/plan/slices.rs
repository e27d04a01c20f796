//! Day slices of a plan: one plan per closed UTC day, one for the settled hours of the open day
//! and one for the rest, so a cache keeps what no longer changes and a dashboard whose "now"
//! moves re-runs only the last hour or two.
//!
//! Which plans split, and how their slices' rows are put back together ([`Merge`]):
//! - a time series whose buckets tile a day, and a coverage plan (last record and count per
//!   group, merged per group by the frame): the slices' rows side by side;
//! - a table of plain rows newest first (flow search): re-sorted and cut at the limit;
//! - a table grouped by a time window that tiles a day (port scans per 10 minutes): every group
//!   lies in one slice, so its distinct counts and conditions hold; re-sorted and cut;
//! - a table of sums, counts, minima, maxima and distinct counts (top-N tables, totals, variable
//!   values, host sweeps): groups added up across slices (a distinct count's values returned by
//!   the slices and counted once), their conditions checked, then re-sorted and cut.
//!
//! - a per-finding history (compliance status, state over time, status changes): each slice
//!   returns the rows that begin a run of one state in it and every finding's newest row; the
//!   merge walks them in time order to the changes, the newest rows and the time their state
//!   began, then applies the plan's outer part ([`Merge::History`]). Its first slice starts at
//!   the range start itself (a history cannot be trimmed afterwards).
//!
//! None may have gaps or intervals (beaconing). Otherwise the range's first day
//! runs whole so that its query stays the same while the range moves, and the rows before the
//! range start are dropped ([`Slice::keep_from_ms`] on [`Sliced::trim_column`]): time buckets,
//! windows, row times, or — for added-up tables — an extra hour group (a minute for a plain
//! total: 1,440 rows a day at most) ([`SLICE_TIME`]). What lies
//! before the first whole bucket of that column (a window or hour cut by the range start) runs
//! as a small head slice of its own.

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};

use super::{
    partitions, Aggregate, Expr, HistoryRows, Output, OutputValue, Plan, Shape, DAY_MS,
    TIME_BUCKET, UPDATED,
};

/// A day counts as closed this long after it ended: records of the day still arriving (Security
/// Lake delivers flow logs minutes to an hour late) are not cached away. The same holds for the
/// whole hours of the open day.
pub const SETTLE: Duration = Duration::hours(1);

/// Most days a range may touch to be run in day slices; longer ranges run as one query (so a
/// panel never starts more than this many engine queries, plus a head and an open tail). A
/// compliance history of a week reads two weeks (its look-back before the range).
pub const MAX_SLICES: usize = 16;

/// Most slices of one plan that run at the same time (a first load of a two-week history
/// starts up to 16; an engine such as Athena limits the queries an account runs at once).
pub const PARALLEL_SLICES: usize = 6;

/// Most rows a slice of an added-up table may return; a slice that returns more is incomplete
/// and the plan runs whole instead (a top-10 table reads every group of every slice).
pub const REGROUP_ROWS: u64 = 20_000;

/// Alias of the hour (or minute) group added to the trimmed slice of an added-up table.
pub const SLICE_TIME: &str = "slice_time";

const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;

/// One slice of a split plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// The plan restricted to the slice.
    pub plan: Plan,
    /// Whether the slice's result no longer changes (it ended at least [`SETTLE`] ago).
    pub closed: bool,
    /// Rows whose [`Sliced::trim_column`] is before this (epoch ms) lie before the range's
    /// start: drop them.
    pub keep_from_ms: Option<i64>,
    /// The slice asks for every group, up to [`REGROUP_ROWS`] + 1 rows: more than
    /// [`REGROUP_ROWS`] means some are missing, and the plan runs whole.
    pub every_group: bool,
}

/// How the slices' rows are put back together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Side by side (series buckets; coverage groups, merged by the frame).
    Concat,
    /// Side by side, then sorted by the plan's order and cut at its limit.
    Rerank,
    /// Rows of one group added up (sums and counts added, minima and maxima kept, distinct
    /// values counted), group conditions checked, then sorted and cut. A slice returning its
    /// whole limit ([`REGROUP_ROWS`] + 1) makes the plan run whole.
    Regroup,
    /// Per-finding runs of one state ([`HistoryRows::Runs`]) walked in time order to what the
    /// plan's history keeps, then its outer filters and columns, sorted and cut. A slice
    /// returning its whole limit makes the plan run whole.
    History,
}

/// A plan split into slices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sliced {
    /// The slices, oldest first.
    pub slices: Vec<Slice>,
    /// How their rows go together.
    pub merge: Merge,
    /// The epoch-ms column [`Slice::keep_from_ms`] applies to.
    pub trim_column: String,
}

/// What a plan's kind means for slicing it.
struct Kind {
    merge: Merge,
    trim_column: String,
    /// The trimmed slice keeps whole units from the range start on (a window, an hour); the
    /// part of the range before the first whole unit is a head slice. None: trimmed at the
    /// range start itself.
    unit_ms: Option<i64>,
    /// Slices may be cut at whole hours (the open day's settled hours).
    hourly: bool,
    /// The first slice starts at the range start (not at its day's start, trimmed afterwards).
    exact_start: bool,
}

fn kind(plan: &Plan) -> Option<Kind> {
    if plan.gaps.is_some() || plan.intervals.is_some() {
        return None;
    }
    if let Some(h) = &plan.history {
        // A history counted per group (findings per bucket or severity) runs whole: the merge
        // computes only plain counts and rows.
        if h.outer
            .iter()
            .any(|o| matches!(o.value, OutputValue::Group(_)))
        {
            return None;
        }
        return Some(Kind {
            merge: Merge::History,
            trim_column: UPDATED.to_string(),
            unit_ms: None,
            hourly: true,
            exact_start: true,
        });
    }
    let plain = plan.sides.is_none() && plan.having.is_empty();
    let kind = |merge, trim_column: &str, unit_ms, hourly| {
        Some(Kind {
            merge,
            trim_column: trim_column.to_string(),
            unit_ms,
            hourly,
            exact_start: false,
        })
    };
    match &plan.shape {
        Shape::TimeSeries { bucket_ms, .. } if plain && DAY_MS % bucket_ms == 0 => {
            kind(Merge::Concat, TIME_BUCKET, None, HOUR_MS % bucket_ms == 0)
        }
        Shape::Coverage { .. } | Shape::EgressAnomaly(_) if plain => {
            kind(Merge::Concat, TIME_BUCKET, None, true)
        }
        Shape::Table { .. } => table_kind(plan, plain),
        _ => None,
    }
}

fn table_kind(plan: &Plan, plain: bool) -> Option<Kind> {
    let time = Expr::Column(plan.time.time_ms);
    let rows_only = plan
        .outputs
        .iter()
        .all(|o| matches!(o.value, OutputValue::Row(_)));
    if rows_only {
        // Newest first: the newest rows of a whole day from the range start on are the newest
        // rows of the range's part of that day.
        let first = plan.order_by.first().filter(|k| k.descending)?;
        let column = plan
            .outputs
            .iter()
            .find(|o| o.alias == first.alias && o.value == OutputValue::Row(time.clone()))?;
        return plain.then(|| Kind {
            merge: Merge::Rerank,
            trim_column: column.alias.clone(),
            unit_ms: None,
            hourly: true,
            exact_start: false,
        });
    }
    let window = plan.outputs.iter().find_map(|o| match &o.value {
        OutputValue::Group(Expr::BucketMs { expr, width_ms })
            if **expr == time && DAY_MS % width_ms == 0 =>
        {
            Some((o.alias.clone(), *width_ms))
        }
        _ => None,
    });
    if let Some((alias, width_ms)) = window {
        return plan.sides.is_none().then(|| Kind {
            merge: Merge::Rerank,
            trim_column: alias,
            unit_ms: Some(width_ms),
            hourly: HOUR_MS % width_ms == 0,
            exact_start: false,
        });
    }
    // Sums, counts, minima and maxima add up; distinct counts do when the slices return the
    // distinct values (not across either-side rows, which are added up in SQL).
    let distinct = |a: &Aggregate| matches!(a, Aggregate::CountDistinct(_));
    let additive = plan.outputs.iter().all(|o| match &o.value {
        OutputValue::Group(_) => true,
        OutputValue::Aggregate(a) => !distinct(a) || plan.sides.is_none(),
        OutputValue::Row(_) => false,
    });
    // Group conditions are checked after the merge, on an output column.
    let conditions = plan.having.iter().all(|h| {
        plan.outputs
            .iter()
            .any(|o| o.value == OutputValue::Aggregate(h.aggregate.clone()))
    });
    // A plain total (a search's count) has one row per minute of a day at most: its trimmed
    // slice is cut at the range start's minute rather than hour, so the head is short.
    let total = plan
        .outputs
        .iter()
        .all(|o| matches!(&o.value, OutputValue::Aggregate(a) if !distinct(a)));
    (additive && conditions).then(|| Kind {
        merge: Merge::Regroup,
        trim_column: SLICE_TIME.to_string(),
        unit_ms: Some(if total { MINUTE_MS } else { HOUR_MS }),
        hourly: true,
        exact_start: false,
    })
}

/// The first multiple of `unit_ms` at or after `t`.
fn ceil_to(t: DateTime<Utc>, unit_ms: i64) -> DateTime<Utc> {
    let ms = t.timestamp_millis();
    let up = ms + (unit_ms - ms.rem_euclid(unit_ms)) % unit_ms;
    DateTime::from_timestamp_millis(up).unwrap_or(t)
}

/// The slices of `plan` at wall-clock time `now`, or None when it runs best as one query: a
/// kind that does not split, more than [`MAX_SLICES`] days, a single slice, or nothing settled
/// in the range.
pub fn slice_plan(plan: &Plan, now: DateTime<Utc>) -> Option<Sliced> {
    let kind = kind(plan)?;
    if plan.partitions.days.len() > MAX_SLICES {
        return None;
    }
    let (from, to) = (plan.time.from, plan.time.to);
    let settled = now - SETTLE;
    let last_ms = Duration::milliseconds(1);
    let trim_from = kind.unit_ms.map_or(from, |u| ceil_to(from, u));
    if trim_from > to {
        return None;
    }
    let mut slices = Vec::new();
    if trim_from > from {
        let head_to = trim_from - last_ms;
        slices.push(Slice {
            plan: restrict(plan, partitions::utc_days(from, head_to), from, head_to),
            closed: head_to < settled,
            keep_from_ms: None,
            every_group: false,
        });
    }
    let days = partitions::utc_days(trim_from, to);
    for (i, day) in days.iter().enumerate() {
        let midnight = partitions::day_start(*day);
        let end = midnight + Duration::days(1);
        let start = if kind.exact_start {
            midnight.max(from)
        } else {
            midnight
        };
        let keep = (i == 0 && trim_from > start).then_some(trim_from);
        let mut push = |days: &[NaiveDate], from, to, closed, keep: Option<DateTime<Utc>>| {
            slices.push(Slice {
                plan: restrict(plan, days.to_vec(), from, to),
                closed,
                keep_from_ms: keep.map(|k| k.timestamp_millis()),
                every_group: false,
            })
        };
        if end - last_ms <= to && end <= settled {
            push(&days[i..=i], start, end - last_ms, true, keep);
            continue;
        }
        // The rest of the range, from this day on.
        let cut = settled
            .duration_trunc(Duration::hours(1))
            .unwrap_or(settled);
        if to < settled {
            push(&days[i..], start, to, true, keep);
        } else if kind.hourly && cut > start && keep.is_none_or(|k| k < cut) {
            push(&days[i..=i], start, cut - last_ms, true, keep);
            push(&days[i..], cut, to, false, None);
        } else if kind.hourly && keep.is_some_and(|k| k >= cut) {
            push(&days[i..], trim_from, to, false, None);
        } else {
            push(&days[i..], start, to, false, keep);
        }
        break;
    }
    if slices.len() < 2 || !slices.iter().any(|s| s.closed) {
        return None;
    }
    for s in &mut slices {
        match kind.merge {
            Merge::Regroup => regroup_slice(s, kind.unit_ms.unwrap_or(HOUR_MS)),
            Merge::History => history_slice(s),
            // Trimmed windows: the top rows must be picked after the trim.
            Merge::Rerank if kind.unit_ms.is_some() && s.keep_from_ms.is_some() => {
                s.plan.limit = REGROUP_ROWS + 1;
                s.every_group = true;
            }
            _ => {}
        }
    }
    Some(Sliced {
        slices,
        merge: kind.merge,
        trim_column: kind.trim_column,
    })
}

/// A slice of an added-up table returns every group (up to [`REGROUP_ROWS`] + 1), per
/// `unit_ms` of time when it is trimmed.
///
/// A distinct count's value becomes a group of the slice under the count's alias (the merge
/// counts the distinct values of a group across slices), and group conditions wait for the
/// merge.
fn regroup_slice(slice: &mut Slice, unit_ms: i64) {
    slice.every_group = true;
    let plan = &mut slice.plan;
    plan.order_by.clear();
    plan.having.clear();
    plan.limit = REGROUP_ROWS + 1;
    let (mut groups, aggregates): (Vec<Output>, Vec<Output>) = std::mem::take(&mut plan.outputs)
        .into_iter()
        .map(|o| match o.value {
            OutputValue::Aggregate(Aggregate::CountDistinct(e)) => Output {
                alias: o.alias,
                value: OutputValue::Group(e),
            },
            _ => o,
        })
        .partition(|o| matches!(o.value, OutputValue::Group(_)));
    if slice.keep_from_ms.is_some() {
        groups.push(Output {
            alias: SLICE_TIME.to_string(),
            value: OutputValue::Group(Expr::BucketMs {
                expr: Box::new(Expr::Column(plan.time.time_ms)),
                width_ms: unit_ms,
            }),
        });
    }
    plan.outputs = groups.into_iter().chain(aggregates).collect();
}

/// A slice of a history returns the runs of one state in it and every entity's newest row, all
/// of them (up to [`REGROUP_ROWS`] + 1), unfiltered: the outer part waits for the merge.
fn history_slice(slice: &mut Slice) {
    slice.every_group = true;
    let plan = &mut slice.plan;
    plan.order_by.clear();
    plan.limit = REGROUP_ROWS + 1;
    if let Some(h) = plan.history.as_mut() {
        h.rows = HistoryRows::Runs;
        h.outer_filters.clear();
        h.outer.clear();
    }
}

fn restrict(plan: &Plan, days: Vec<NaiveDate>, from: DateTime<Utc>, to: DateTime<Utc>) -> Plan {
    let mut p = plan.clone();
    p.partitions.days = days;
    p.time.from = from;
    p.time.to = to;
    p
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lake::SourceVersion;
    use crate::plan::{plan, PlanOptions};
    use crate::query::{PanelQuery, TimeWindow};

    /// Parses RFC 3339.
    pub(crate) fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// The v2 plan of a query over a range (5-minute interval, 1,000 rows, 7 look-back days).
    pub(crate) fn planned(from: &str, to: &str, query: serde_json::Value) -> Plan {
        let q = PanelQuery::from_json_bytes(query.to_string().as_bytes()).unwrap();
        let window = TimeWindow::new(t(from), t(to), 300_000, 1000).unwrap();
        plan(
            &q,
            &window,
            &PlanOptions {
                version: SourceVersion::V2,
                home_region: "us-east-1".into(),
                names: Default::default(),
                max_rows: 1000,
                lookback_days: 7,
            },
        )
    }

    type Range = (String, String, bool, Option<String>);

    fn ranges(sliced: &Sliced) -> Vec<Range> {
        let iso = |t: DateTime<Utc>| t.format("%d %H:%M:%S%.3f").to_string();
        sliced
            .slices
            .iter()
            .map(|s| {
                (
                    iso(s.plan.time.from),
                    iso(s.plan.time.to),
                    s.closed,
                    s.keep_from_ms
                        .map(|ms| iso(DateTime::from_timestamp_millis(ms).unwrap())),
                )
            })
            .collect()
    }

    fn r(from: &str, to: &str, closed: bool, keep: Option<&str>) -> Range {
        (from.into(), to.into(), closed, keep.map(String::from))
    }

    #[test]
    fn a_day_range_ending_now_runs_the_closed_day_whole_the_settled_hours_and_the_last_hour() {
        let p = planned(
            "2024-06-14T12:03:00Z",
            "2024-06-15T12:03:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        // Whole buckets: the range starts at its first bucket's start.
        assert_eq!(p.time.from, t("2024-06-14T12:00:00Z"));
        let sliced = slice_plan(&p, t("2024-06-15T12:03:00Z")).unwrap();
        assert_eq!(sliced.merge, Merge::Concat);
        assert_eq!(
            ranges(&sliced),
            vec![
                r(
                    "14 00:00:00.000",
                    "14 23:59:59.999",
                    true,
                    Some("14 12:00:00.000")
                ),
                r("15 00:00:00.000", "15 10:59:59.999", true, None),
                r("15 11:00:00.000", "15 12:03:00.000", false, None),
            ]
        );
        // A minute later only the last slice differs.
        let later = planned(
            "2024-06-14T12:04:00Z",
            "2024-06-15T12:04:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        let again = slice_plan(&later, t("2024-06-15T12:04:00Z")).unwrap();
        assert_eq!(again.slices[..2], sliced.slices[..2]);
        assert_ne!(again.slices[2], sliced.slices[2]);
    }

    #[test]
    fn the_hours_of_a_day_that_ended_less_than_the_settling_time_ago_stay_open() {
        let p = planned(
            "2024-06-14T12:00:00Z",
            "2024-06-15T00:30:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        let sliced = slice_plan(&p, t("2024-06-15T00:30:00Z")).unwrap();
        assert_eq!(
            ranges(&sliced),
            vec![
                r(
                    "14 00:00:00.000",
                    "14 22:59:59.999",
                    true,
                    Some("14 12:00:00.000")
                ),
                r("14 23:00:00.000", "15 00:30:00.000", false, None),
            ]
        );
        let sliced = slice_plan(&p, t("2024-06-15T01:00:00Z")).unwrap();
        assert_eq!(
            ranges(&sliced),
            vec![
                r(
                    "14 00:00:00.000",
                    "14 23:59:59.999",
                    true,
                    Some("14 12:00:00.000")
                ),
                r("15 00:00:00.000", "15 00:30:00.000", false, None),
            ]
        );
    }

    #[test]
    fn a_past_range_is_all_closed() {
        let p = planned(
            "2024-06-10T00:00:00Z",
            "2024-06-12T06:00:00Z",
            serde_json::json!({"kind": "flow_volume", "group_by": ["account"]}),
        );
        let sliced = slice_plan(&p, t("2024-07-01T00:00:00Z")).unwrap();
        assert_eq!(
            ranges(&sliced),
            vec![
                r("10 00:00:00.000", "10 23:59:59.999", true, None),
                r("11 00:00:00.000", "11 23:59:59.999", true, None),
                r("12 00:00:00.000", "12 06:00:00.000", true, None),
            ]
        );
    }

    #[test]
    fn coverage_looks_back_whole_days_and_runs_them_as_slices() {
        let p = planned(
            "2024-06-15T11:00:00Z",
            "2024-06-15T12:03:00Z",
            serde_json::json!({"kind": "coverage"}),
        );
        assert_eq!(p.time.from, t("2024-06-08T00:00:00Z"));
        let sliced = slice_plan(&p, t("2024-06-15T12:03:00Z")).unwrap();
        assert_eq!(sliced.slices.len(), 9);
        assert!(sliced.slices[..8]
            .iter()
            .all(|s| s.closed && s.keep_from_ms.is_none()));
        assert_eq!(sliced.slices[8].plan.time.from, t("2024-06-15T11:00:00Z"));
        assert!(!sliced.slices[8].closed);
    }

    #[test]
    fn a_top_table_adds_up_hours_of_the_first_day_after_a_head_up_to_the_next_whole_hour() {
        let p = planned(
            "2024-06-14T12:04:30Z",
            "2024-06-15T12:04:30Z",
            serde_json::json!({"kind": "top_talkers", "limit": 10}),
        );
        let sliced = slice_plan(&p, t("2024-06-15T12:04:30Z")).unwrap();
        assert_eq!(sliced.merge, Merge::Regroup);
        assert_eq!(sliced.trim_column, SLICE_TIME);
        assert_eq!(
            ranges(&sliced),
            vec![
                r("14 12:04:30.000", "14 12:59:59.999", true, None),
                r(
                    "14 00:00:00.000",
                    "14 23:59:59.999",
                    true,
                    Some("14 13:00:00.000")
                ),
                r("15 00:00:00.000", "15 10:59:59.999", true, None),
                r("15 11:00:00.000", "15 12:04:30.000", false, None),
            ]
        );
        // Every group of every slice, the trimmed one per hour.
        let hourly: Vec<bool> = sliced
            .slices
            .iter()
            .map(|s| s.plan.outputs.iter().any(|o| o.alias == SLICE_TIME))
            .collect();
        assert_eq!(hourly, vec![false, true, false, false]);
        assert!(sliced
            .slices
            .iter()
            .all(|s| s.plan.limit == REGROUP_ROWS + 1 && s.plan.order_by.is_empty()));
    }

    #[test]
    fn a_windowed_scan_cuts_its_first_window_and_a_search_trims_row_times() {
        let scan = planned(
            "2024-06-14T12:04:30Z",
            "2024-06-15T12:04:30Z",
            serde_json::json!({"kind": "port_scan", "window_minutes": 10}),
        );
        let sliced = slice_plan(&scan, t("2024-06-15T12:04:30Z")).unwrap();
        assert_eq!(
            (sliced.merge, sliced.trim_column.as_str()),
            (Merge::Rerank, "window_start")
        );
        assert_eq!(
            ranges(&sliced)[..2],
            [
                r("14 12:04:30.000", "14 12:09:59.999", true, None),
                r(
                    "14 00:00:00.000",
                    "14 23:59:59.999",
                    true,
                    Some("14 12:10:00.000")
                ),
            ]
        );
        let search = planned(
            "2024-06-15T06:04:30Z",
            "2024-06-15T12:04:30Z",
            serde_json::json!({"kind": "flow_search"}),
        );
        let sliced = slice_plan(&search, t("2024-06-15T12:04:30Z")).unwrap();
        assert_eq!(
            (sliced.merge, sliced.trim_column.as_str()),
            (Merge::Rerank, "start")
        );
        assert_eq!(
            ranges(&sliced),
            vec![
                r(
                    "15 00:00:00.000",
                    "15 10:59:59.999",
                    true,
                    Some("15 06:04:30.000")
                ),
                r("15 11:00:00.000", "15 12:04:30.000", false, None),
            ]
        );
        // Its count adds up, per minute of the first day: only the half minute before the
        // range's first whole minute is a head.
        let count = slice_plan(&search.counting(), t("2024-06-15T12:04:30Z")).unwrap();
        assert_eq!(count.merge, Merge::Regroup);
        assert_eq!(
            ranges(&count),
            vec![
                r("15 06:04:30.000", "15 06:04:59.999", true, None),
                r(
                    "15 00:00:00.000",
                    "15 10:59:59.999",
                    true,
                    Some("15 06:05:00.000")
                ),
                r("15 11:00:00.000", "15 12:04:30.000", false, None),
            ]
        );
        let minute = count.slices[1]
            .plan
            .outputs
            .iter()
            .find(|o| o.alias == SLICE_TIME);
        assert_eq!(
            minute.map(|o| &o.value),
            Some(&OutputValue::Group(Expr::BucketMs {
                expr: Box::new(Expr::Column(search.time.time_ms)),
                width_ms: MINUTE_MS,
            }))
        );
    }

    #[test]
    fn a_distinct_count_slices_return_the_values_and_conditions_wait_for_the_merge() {
        let sweep = planned(
            "2024-06-10T00:00:00Z",
            "2024-06-12T00:00:00Z",
            serde_json::json!({"kind": "port_scan", "scan_by": "hosts"}),
        );
        let sliced = slice_plan(&sweep, t("2024-07-01T00:00:00Z")).unwrap();
        assert_eq!(sliced.merge, Merge::Regroup);
        let slice = &sliced.slices[0].plan;
        let groups: Vec<&str> = slice
            .outputs
            .iter()
            .filter(|o| matches!(o.value, OutputValue::Group(_)))
            .map(|o| o.alias.as_str())
            .collect();
        assert_eq!(groups, ["src_ip", "ports", "hosts"]);
        assert!(slice.having.is_empty() && !sweep.having.is_empty());
    }

    #[test]
    fn a_history_starts_at_the_range_start_and_its_slices_return_runs_for_the_merge() {
        let p = planned(
            "2024-06-14T12:03:00Z",
            "2024-06-15T12:03:00Z",
            serde_json::json!({"kind": "compliance_status", "controls": ["EC2.6"], "statuses": ["FAILED"]}),
        );
        let sliced = slice_plan(&p, t("2024-06-15T12:03:00Z")).unwrap();
        assert_eq!(sliced.merge, Merge::History);
        // Seven look-back days before the range end, the first one from the range start on.
        let mut want = vec![r("08 12:03:00.000", "08 23:59:59.999", true, None)];
        want.extend((9..=14).map(|d| {
            r(
                &format!("{d:02} 00:00:00.000"),
                &format!("{d:02} 23:59:59.999"),
                true,
                None,
            )
        }));
        want.push(r("15 00:00:00.000", "15 10:59:59.999", true, None));
        want.push(r("15 11:00:00.000", "15 12:03:00.000", false, None));
        assert_eq!(ranges(&sliced), want);
        let slice = &sliced.slices[1];
        assert!(slice.every_group);
        let h = slice.plan.history.as_ref().unwrap();
        assert_eq!(h.rows, HistoryRows::Runs);
        assert!(h.outer_filters.is_empty() && slice.plan.order_by.is_empty());
        insta::assert_snapshot!(crate::sql::render(&slice.plan, crate::sql::Dialect::Athena));
    }

    #[test]
    fn single_slices_and_long_ranges_run_whole() {
        let now = t("2024-07-01T00:00:00Z");
        let one_day = planned(
            "2024-06-10T01:00:00Z",
            "2024-06-10T23:00:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        assert_eq!(slice_plan(&one_day, now), None);
        let month = planned(
            "2024-06-01T00:00:00Z",
            "2024-06-30T00:00:00Z",
            serde_json::json!({"kind": "flow_volume"}),
        );
        assert_eq!(slice_plan(&month, now), None);
    }
}
