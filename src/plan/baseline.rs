//! Plans of the detections against a baseline: they read whole UTC days before the range (so
//! the day-slice cache keeps them, closed, while the range moves) as well as the range.

use chrono::Duration;

use super::{dimension_expr, flow_scope, internet_filters, measure_aggregate, output, partitions};
use super::{protocol_columns, table_limit, Intervals, CONTACTS, FIRST_SEEN, LAST_SEEN};
use super::{AnomalyShape, Expr, OrderKey, OutputValue, Plan, PlanOptions, Shape, TIME_BUCKET};
use super::{INTERVAL_MS, JITTER_PERCENT};
use crate::query::{AnomalyKeys, Beaconing, Dimension, EgressAnomaly, Measure, TimeWindow};

/// One hour, ms: the unit an egress anomaly is scored in.
pub const HOUR_MS: i64 = 3_600_000;

/// The window from the midnight `days` whole days before the range's first day to the range
/// end: the baseline days, then the range's first day from its start.
pub fn with_baseline(window: &TimeWindow, days: u32) -> TimeWindow {
    TimeWindow {
        from: baseline_start(window, days),
        ..*window
    }
}

fn baseline_start(window: &TimeWindow, days: u32) -> chrono::DateTime<chrono::Utc> {
    partitions::day_start(window.from.date_naive()) - Duration::days(i64::from(days))
}

/// Hourly bytes to internet addresses per group, from the first baseline day to the range end:
/// the rows `frame/` scores each range hour with (long rows, newest first, as a series).
pub(super) fn plan_egress_anomaly(
    q: &EgressAnomaly,
    window: &TimeWindow,
    options: &PlanOptions,
) -> Plan {
    let read = with_baseline(window, q.baseline_days);
    let mut scope = flow_scope(&q.filters, &read, options);
    scope
        .filters
        .extend(internet_filters(&scope.cols, &q.internet));
    let keys = match q.keys {
        AnomalyKeys::Vpc => vec![Dimension::Vpc],
        AnomalyKeys::Eni => vec![Dimension::Vpc, Dimension::Eni],
    };
    let mut outputs = vec![output(
        TIME_BUCKET,
        OutputValue::Group(Expr::BucketMs {
            expr: Box::new(Expr::Column(scope.cols.time_ms)),
            width_ms: HOUR_MS,
        }),
    )];
    outputs.extend(keys.iter().map(|d| {
        output(
            d.name(),
            OutputValue::Group(dimension_expr(*d, options.version)),
        )
    }));
    let bytes = measure_aggregate(Measure::Bytes, options.version);
    outputs.push(output(Measure::Bytes.name(), OutputValue::Aggregate(bytes)));
    let from_ms = window.from.timestamp_millis();
    let shape = AnomalyShape {
        keys: keys.clone(),
        baseline_from_ms: read.from.timestamp_millis(),
        baseline_days: q.baseline_days,
        range_from_ms: from_ms - from_ms.rem_euclid(HOUR_MS),
        to_ms: window.to.timestamp_millis(),
        min_score: q.min_score,
        min_bytes: q.min_bytes,
        limit: q.limit,
        format: q.format,
    };
    scope.into_plan(
        outputs,
        std::iter::once(OrderKey::desc(TIME_BUCKET))
            .chain(keys.iter().map(|d| OrderKey::asc(d.name())))
            .collect(),
        options.max_rows + 1,
        Shape::EgressAnomaly(shape),
    )
}

/// What a beacon is keyed by: the calling address in its VPC, and the destination it calls.
pub fn beacon_keys() -> [Dimension; 5] {
    BEACON_KEYS
}

const BEACON_KEYS: [Dimension; 5] = [
    Dimension::Vpc,
    Dimension::SrcIp,
    Dimension::DstIp,
    Dimension::DstPort,
    Dimension::Protocol,
];

/// Sources calling one internet destination at regular intervals, the most regular first.
pub(super) fn plan_beaconing(q: &Beaconing, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let mut scope = flow_scope(&q.filters, window, options);
    scope
        .filters
        .extend(internet_filters(&scope.cols, &q.internet));
    let time = Expr::Column(scope.cols.time_ms);
    let mut outputs: Vec<_> = BEACON_KEYS
        .iter()
        .map(|d| {
            output(
                d.name(),
                OutputValue::Group(dimension_expr(*d, options.version)),
            )
        })
        .collect();
    outputs.push(output(
        Measure::Bytes.name(),
        OutputValue::Aggregate(measure_aggregate(Measure::Bytes, options.version)),
    ));
    let order = [OrderKey::asc(JITTER_PERCENT), OrderKey::desc(CONTACTS)]
        .into_iter()
        .chain(BEACON_KEYS.iter().map(|d| OrderKey::asc(d.name())))
        .collect();
    let mut plan = scope.into_plan(
        outputs,
        order,
        table_limit(q.limit, options),
        Shape::Table {
            time_columns: vec![FIRST_SEEN, LAST_SEEN],
            units: vec![
                (Measure::Bytes.name(), Measure::Bytes.unit()),
                (CONTACTS, "short"),
                (INTERVAL_MS, "ms"),
                (JITTER_PERCENT, "percent"),
            ],
            protocol_columns: protocol_columns(&BEACON_KEYS),
            count_total: false,
        },
    );
    plan.intervals = Some(Intervals {
        time,
        min_contacts: q.min_contacts,
        max_jitter_percent: q.max_jitter_percent,
    });
    plan
}
