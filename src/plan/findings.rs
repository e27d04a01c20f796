//! Plans of the kinds over every Security Hub finding: a finding is re-delivered on every
//! update, so each plan reduces the updates in the range to the newest one per finding id (a
//! window function, as the compliance plans do) before counting or listing.

use super::{
    bucket_ms, output, table_limit, Aggregate, AnnotationShape, Comparison, EventAnnotation, Expr,
    History, HistoryRows, Literal, OrderKey, Output, OutputValue, Plan, PlanOptions, Predicate,
    Scope, Shape, ENTITY, FIRST_SEEN, LAST_SEEN, STATE, TIME_BUCKET, UPDATED,
};
use crate::lake::source::FINDING_DIMENSIONS;
use crate::lake::{FindingColumns, Source, SourceVersion};
use crate::query::{
    ActiveFindings, FindingCounts, FindingDimension, FindingFilters, FindingsQuery, NewFindings,
    Severity, TimeWindow, TrailFormat,
};

/// Alias of a finding count.
pub const FINDINGS: &str = "findings";
/// Alias of the OCSF severity id, compared with a threshold.
const SEVERITY_ID: &str = "severity_id";
/// Alias of the compliance status (empty when the finding has none).
const COMPLIANCE: &str = "compliance_status";
/// The workflow states of an open finding (OCSF captions of Security Hub's NEW and NOTIFIED).
pub const OPEN_STATES: [&str; 2] = ["New", "In Progress"];
/// The columns of the active findings table, in order.
pub const ACTIVE_COLUMNS: [&str; 12] = [
    UPDATED,
    "severity",
    "title",
    "product",
    "type",
    "resource",
    "resource_type",
    "account",
    "region",
    FIRST_SEEN,
    LAST_SEEN,
    ENTITY,
];

/// The plan of a finding query.
pub(super) fn plan(query: &FindingsQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    match query {
        FindingsQuery::Counts(q) => plan_counts(q, window, options),
        FindingsQuery::Active(q) => plan_active(q, window, options),
    }
}

/// The expression of a finding dimension in a version's columns, as the source describes it.
pub fn finding_dimension_expr(dim: FindingDimension, version: SourceVersion) -> Expr {
    FINDING_DIMENSIONS[dim as usize].expr.of(version).into()
}

/// The row filters of the finding kinds: products, types and resources (an ARN or its last
/// part).
fn finding_filters(f: &FindingFilters, version: SourceVersion) -> Vec<Predicate> {
    let strs = |items: &[String]| items.iter().cloned().map(Literal::Str).collect::<Vec<_>>();
    let dim = |d| finding_dimension_expr(d, version);
    let mut out: Vec<Predicate> = [
        (dim(FindingDimension::Product), strs(&f.products)),
        (dim(FindingDimension::Type), strs(&f.types)),
    ]
    .into_iter()
    .filter(|(_, values)| !values.is_empty())
    .map(|(expr, values)| Predicate::In(expr, values))
    .collect();
    if !f.resources.is_empty() {
        let uid = dim(FindingDimension::Resource);
        let id = Expr::Segment {
            expr: Box::new(uid.clone()),
            separator: "/",
            last: true,
        };
        out.push(Predicate::Or(vec![
            Predicate::In(uid, strs(&f.resources)),
            Predicate::In(id, strs(&f.resources)),
        ]));
    }
    out
}

/// The scope of a finding plan over `window`.
pub(super) fn finding_scope(
    f: &FindingFilters,
    window: &TimeWindow,
    options: &PlanOptions,
) -> Scope<FindingColumns> {
    Scope::over(
        Source::ShFindings,
        FindingColumns::of(options.version),
        (window.from, window.to),
        (&f.accounts, &f.regions),
        finding_filters(f, options.version),
        options,
    )
}

/// What each update carries into the window: the dimensions, the severity id and the
/// compliance status.
fn update_rows(cols: &FindingColumns, version: SourceVersion) -> Vec<Output> {
    let mut rows: Vec<Output> = FindingDimension::ALL
        .iter()
        .map(|d| {
            output(
                d.name(),
                OutputValue::Row(finding_dimension_expr(*d, version)),
            )
        })
        .collect();
    rows.push(output(
        SEVERITY_ID,
        OutputValue::Row(Expr::Column(cols.severity_id)),
    ));
    rows.push(output(
        COMPLIANCE,
        OutputValue::Row(Expr::Coalesce(vec![
            Expr::Column(cols.status),
            Expr::Literal(Literal::Str(String::new())),
        ])),
    ));
    rows
}

/// A finding's update as the finding tables list it: [`update_rows`], its title and when the
/// finding was first and last observed.
fn listed_rows(cols: &FindingColumns, version: SourceVersion) -> Vec<Output> {
    let mut rows = update_rows(cols, version);
    rows.extend([
        output("title", OutputValue::Row(Expr::Column(cols.title))),
        output(FIRST_SEEN, OutputValue::Row(Expr::Column(cols.first_seen))),
        output(LAST_SEEN, OutputValue::Row(Expr::Column(cols.last_seen))),
    ]);
    rows
}

/// A finding's state: `ARCHIVED` when Security Hub archived it, else its workflow caption.
pub(super) fn state_expr(cols: &FindingColumns) -> Expr {
    Expr::When {
        condition: Box::new(Predicate::In(
            cols.record_state.into(),
            vec![Literal::Str(super::compliance::ARCHIVED.to_string())],
        )),
        then: Literal::Str(super::compliance::ARCHIVED.to_string()),
        otherwise: Box::new(Expr::Coalesce(vec![
            Expr::Column(cols.workflow),
            Expr::Literal(Literal::Str(super::compliance::UNKNOWN.to_string())),
        ])),
    }
}

/// The newest update of every finding in the scope, at or above `min` severity.
fn newest(cols: &FindingColumns, min: Option<Severity>) -> History {
    History {
        entity: Expr::Column(cols.finding_uid),
        time: Expr::Column(cols.time_ms),
        state: state_expr(cols),
        rows: HistoryRows::Newest,
        outer_filters: min
            .map(|s| Predicate::Compare(Expr::Alias(SEVERITY_ID), Comparison::AtLeast, s.0))
            .into_iter()
            .collect(),
        outer: Vec::new(),
    }
}

fn alias(name: &'static str) -> Output {
    output(name, OutputValue::Row(Expr::Alias(name)))
}

/// `findings`: per time bucket (of each finding's newest update in the range) and group, the
/// findings counted.
fn plan_counts(q: &FindingCounts, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let width = bucket_ms(window);
    let scope = finding_scope(&q.filters, window, options);
    let cols = scope.cols;
    let mut h = newest(&cols, q.min_severity);
    h.outer = std::iter::once(output(
        TIME_BUCKET,
        OutputValue::Group(Expr::BucketMs {
            expr: Box::new(Expr::Alias(UPDATED)),
            width_ms: width,
        }),
    ))
    .chain(
        q.group_by
            .iter()
            .map(|d| output(d.name(), OutputValue::Group(Expr::Alias(d.name())))),
    )
    .chain(std::iter::once(output(
        FINDINGS,
        OutputValue::Aggregate(Aggregate::Count),
    )))
    .collect();
    let mut plan = scope.into_plan(
        update_rows(&cols, options.version),
        std::iter::once(OrderKey::desc(TIME_BUCKET))
            .chain(q.group_by.iter().map(|d| OrderKey::asc(d.name())))
            .collect(),
        options.max_rows + 1,
        Shape::TimeSeries {
            labels: q.group_by.iter().map(|d| d.name()).collect(),
            protocol_labels: Vec::new(),
            value: FINDINGS,
            unit: "short",
            bucket_ms: width,
            top: q.limit,
        },
    );
    plan.history = Some(h);
    plan
}

/// `active_findings`: the findings whose newest update in the range is open — workflow New or
/// In Progress, not archived, and not a control that passed (Security Hub resolves those) — at
/// or above the severity; newest first, or counted per severity.
fn plan_active(q: &ActiveFindings, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let scope = finding_scope(&q.filters, window, options);
    let cols = scope.cols;
    let mut h = newest(&cols, Some(q.min_severity));
    let strs = |items: &[&str]| items.iter().map(|s| Literal::Str(s.to_string())).collect();
    h.outer_filters
        .push(Predicate::In(Expr::Alias(STATE), strs(&OPEN_STATES)));
    h.outer_filters.push(Predicate::Not(Box::new(Predicate::In(
        Expr::Alias(COMPLIANCE),
        strs(&["PASSED"]),
    ))));
    let rows = listed_rows(&cols, options.version);
    let (order_by, shape) = if q.format == TrailFormat::Series {
        h.outer = vec![
            output("severity", OutputValue::Group(Expr::Alias("severity"))),
            output(FINDINGS, OutputValue::Aggregate(Aggregate::Count)),
        ];
        (
            vec![OrderKey::asc("severity")],
            Shape::Table {
                time_columns: Vec::new(),
                units: vec![(FINDINGS, "short")],
                protocol_columns: Vec::new(),
                count_total: false,
            },
        )
    } else {
        h.outer = ACTIVE_COLUMNS.into_iter().map(alias).collect();
        (
            vec![OrderKey::desc(UPDATED), OrderKey::asc(ENTITY)],
            Shape::Table {
                time_columns: vec![UPDATED, FIRST_SEEN, LAST_SEEN],
                units: Vec::new(),
                protocol_columns: Vec::new(),
                count_total: false,
            },
        )
    };
    let mut plan = scope.into_plan(rows, order_by, table_limit(q.limit, options), shape);
    plan.history = Some(h);
    plan
}

/// `new_findings` annotations: the findings whose newest update in the range is at or above the
/// severity and whose first observation lies in the range, newest first (a cut at the row cap
/// keeps the newest, as for the other event annotations).
pub(super) fn plan_new_findings(
    q: &NewFindings,
    window: &TimeWindow,
    options: &PlanOptions,
) -> Plan {
    let scope = finding_scope(&q.filters, window, options);
    let cols = scope.cols;
    let mut h = newest(&cols, Some(q.min_severity));
    h.outer_filters.push(Predicate::Compare(
        Expr::Alias(FIRST_SEEN),
        Comparison::AtLeast,
        window.from.timestamp_millis(),
    ));
    h.outer = ACTIVE_COLUMNS.into_iter().map(alias).collect();
    let rows = listed_rows(&cols, options.version);
    let mut plan = scope.into_plan(
        rows,
        vec![OrderKey::desc(FIRST_SEEN), OrderKey::asc(ENTITY)],
        options.max_rows + 1,
        Shape::Annotations(AnnotationShape::Events(EventAnnotation::NewFindings)),
    );
    plan.history = Some(h);
    plan
}
