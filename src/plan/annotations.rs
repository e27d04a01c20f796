//! Plans of the `annotations` kind: compliance status changes (a findings history, in
//! `compliance.rs`), silences in the flow logs (gaps between consecutive records per group), and
//! single events — IAM changes, sign-ins, new findings — read by their kinds' own event plans.

use super::{
    cloudtrail, compliance, dimension_expr, findings, flow_scope, output, AnnotationShape,
    EventAnnotation, Expr, Gaps, OrderKey, OutputValue, Plan, PlanOptions, Shape, GAP_START,
};
use crate::query::{
    Annotations, AuthEvents, FlowSilence, IamChanges, TimeWindow, TrailFilters, TrailFormat,
};

/// The plan of an `annotations` query.
pub(super) fn plan(q: &Annotations, window: &TimeWindow, options: &PlanOptions) -> Plan {
    match q {
        Annotations::StatusChanges(q) => compliance::plan_status_changes(q, window, options),
        Annotations::FlowSilence(q) => plan_silence(q, window, options),
        Annotations::IamChanges(filters) => {
            let q = IamChanges {
                filters: filters.clone(),
                limit: EVERY_ROW,
            };
            as_events(
                cloudtrail::plan_iam_changes(&q, window, options),
                EventAnnotation::IamChanges,
            )
        }
        Annotations::SignIns(filters) => as_events(
            cloudtrail::plan_auth_events(&sign_ins(filters), window, options),
            EventAnnotation::SignIns,
        ),
        Annotations::NewFindings(q) => findings::plan_new_findings(q, window, options),
    }
}

/// A limit above any row cap: the plan reads one row past `maxRows`, which then fails the query
/// with a worded error rather than marking some of the events.
const EVERY_ROW: u32 = u32::MAX;

fn sign_ins(filters: &TrailFilters) -> AuthEvents {
    AuthEvents {
        filters: filters.clone(),
        limit: EVERY_ROW,
        format: TrailFormat::Table,
        group_by: Vec::new(),
    }
}

/// An event table's plan answering as annotations.
fn as_events(mut plan: Plan, event: EventAnnotation) -> Plan {
    plan.shape = Shape::Annotations(AnnotationShape::Events(event));
    plan
}

/// `flow_logs_silent`: per group, each record with the time of the group's next record, read
/// from the look-back window before the range start (so a silence that began before the range
/// is seen whole) to the range end; kept when the gap to the next record — or, after the last
/// record, to the range end — is at least `silent_for_minutes` and ends after the range start.
fn plan_silence(q: &FlowSilence, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let days = q.lookback_days.unwrap_or(options.lookback_days);
    let read = TimeWindow {
        from: window.from - chrono::Duration::days(i64::from(days)),
        ..*window
    };
    let scope = flow_scope(&q.filters, &read, options);
    let outputs = q
        .group_by
        .iter()
        .map(|d| {
            output(
                d.name(),
                OutputValue::Row(dimension_expr(*d, options.version)),
            )
        })
        .collect();
    let time = Expr::Column(scope.cols.time_ms);
    let mut plan = scope.into_plan(
        outputs,
        std::iter::once(OrderKey::asc(GAP_START))
            .chain(q.group_by.iter().map(|d| OrderKey::asc(d.name())))
            .collect(),
        options.max_rows + 1,
        Shape::Annotations(AnnotationShape::FlowSilence {
            keys: q.group_by.clone(),
            to_ms: window.to.timestamp_millis(),
            silent_for_minutes: q.silent_for_minutes,
            lookback_days: days,
        }),
    );
    plan.gaps = Some(Gaps {
        time,
        until_ms: window.to.timestamp_millis(),
        ends_after_ms: window.from.timestamp_millis(),
        min_gap_ms: i64::from(q.silent_for_minutes) * 60_000,
    });
    plan
}
