//! Plans of the compliance kinds: Security Hub findings, one row per update, reduced per finding
//! with window functions to the newest state or to the state changes.

use super::{
    bucket_ms, output, Aggregate, AnnotationShape, Comparison, Expr, History, HistoryRows, Literal,
    OrderKey, Output, OutputValue, Plan, PlanOptions, Predicate, Scope, Shape, ENTITY,
    PREVIOUS_STATE, SINCE, STATE, UPDATED,
};
use crate::lake::source::SH_FINDINGS;
use crate::lake::{FindingColumns, Source, SourceVersion};
use crate::query::{
    ComplianceDimension, ComplianceOverTime, ComplianceScope, ComplianceState, ComplianceStatus,
    StatusChanges, StatusView, TimeWindow,
};

/// The value of `unmapped['RecordState']` of a finding that Security Hub archived.
pub const ARCHIVED: &str = "ARCHIVED";

/// The state of a finding without a compliance status.
pub const UNKNOWN: &str = "UNKNOWN";

/// The expression of a compliance dimension in a version's columns, as the findings source
/// describes it.
fn dimension_expr(dim: ComplianceDimension, version: SourceVersion) -> Expr {
    SH_FINDINGS.dimension_expr(dim.name(), version).into()
}

/// The control of a finding: the control column (v2), else the last part of the generator id
/// (`security-control/EC2.6`, or a Config rule's name), else the title's first word.
pub fn control_expr(version: SourceVersion) -> Expr {
    dimension_expr(ComplianceDimension::Control, version)
}

/// The resource id: the last part of the resource ARN (`vpc-…` for a VPC).
fn resource_id(cols: &FindingColumns) -> Expr {
    Expr::Segment {
        expr: Box::new(cols.resource_uid.into()),
        separator: "/",
        last: true,
    }
}

/// A finding's state: `ARCHIVED` when Security Hub archived it, else its compliance status
/// (`UNKNOWN` when it has none: a state is never NULL, so a change is a difference of values).
fn state_expr(cols: &FindingColumns) -> Expr {
    Expr::When {
        condition: Box::new(Predicate::In(
            cols.record_state.into(),
            vec![Literal::Str(ARCHIVED.to_string())],
        )),
        then: Literal::Str(ARCHIVED.to_string()),
        otherwise: Box::new(Expr::Coalesce(vec![
            Expr::Column(cols.status),
            Expr::Literal(Literal::Str(UNKNOWN.to_string())),
        ])),
    }
}

/// Only the findings with a compliance status: the table also holds GuardDuty, Inspector, Macie
/// and other findings, which are no control's resources.
fn compliance_only(cols: &FindingColumns) -> Predicate {
    Predicate::Not(Box::new(Predicate::In(
        Expr::Coalesce(vec![
            Expr::Column(cols.status),
            Expr::Literal(Literal::Str(String::new())),
        ]),
        vec![Literal::Str(String::new())],
    )))
}

fn strs(values: impl IntoIterator<Item = String>) -> Vec<Literal> {
    values.into_iter().map(Literal::Str).collect()
}

/// The table, partitions and filters of a compliance plan over `[from, to]`.
type FindingScope = Scope<FindingColumns>;

fn finding_scope(
    scope: &ComplianceScope,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    options: &PlanOptions,
) -> FindingScope {
    let cols = FindingColumns::of(options.version);
    let mut filters = vec![
        compliance_only(&cols),
        Predicate::In(
            control_expr(options.version),
            strs(scope.controls.iter().map(|c| c.as_str().to_string())),
        ),
    ];
    if !scope.vpcs.is_empty() {
        filters.push(Predicate::In(
            resource_id(&cols),
            strs(scope.vpcs.iter().map(|v| v.as_str().to_string())),
        ));
    }
    Scope::over(
        Source::ShFindings,
        cols,
        (from, to),
        (&scope.accounts, &scope.regions),
        filters,
        options,
    )
}

/// Every finding updated in the window, in the accounts and regions asked for (other flow
/// filters do not apply to findings).
pub(super) fn control_scope(
    filters: &crate::query::FlowFilters,
    window: &TimeWindow,
    options: &PlanOptions,
) -> FindingScope {
    let cols = FindingColumns::of(options.version);
    Scope::over(
        Source::ShFindings,
        cols,
        (window.from, window.to),
        (&filters.accounts, &filters.regions),
        vec![compliance_only(&cols)],
        options,
    )
}

fn lookback(scope: &ComplianceScope, options: &PlanOptions) -> u32 {
    scope.lookback_days.unwrap_or(options.lookback_days)
}

/// The per-row columns every compliance plan computes before reducing per finding.
fn finding_rows(version: SourceVersion, dims: &[ComplianceDimension]) -> Vec<Output> {
    dims.iter()
        .map(|d| output(d.name(), OutputValue::Row(dimension_expr(*d, version))))
        .collect()
}

fn history(cols: &FindingColumns, rows: HistoryRows) -> History {
    History {
        entity: Expr::Column(cols.finding_uid),
        time: Expr::Column(cols.time_ms),
        state: state_expr(cols),
        rows,
        outer_filters: Vec::new(),
        outer: Vec::new(),
    }
}

/// `compliance_status`: the newest row of every finding updated within the look-back window
/// before the end of the range; archived findings left out.
pub(super) fn plan_status(
    q: &ComplianceStatus,
    window: &TimeWindow,
    options: &PlanOptions,
) -> Plan {
    let days = lookback(&q.scope, options);
    let from = window.to - chrono::Duration::days(i64::from(days));
    let scope = finding_scope(&q.scope, from, window.to, options);
    let cols = scope.cols;
    let mut outputs = finding_rows(options.version, &ComplianceDimension::ALL);
    outputs.push(output("resource", OutputValue::Row(resource_id(&cols))));
    outputs.push(output(
        "resource_type",
        OutputValue::Row(cols.resource_type.into()),
    ));
    outputs.push(output(
        "resource_arn",
        OutputValue::Row(cols.resource_uid.into()),
    ));
    outputs.push(output(
        "status",
        OutputValue::Row(Expr::Column(cols.status)),
    ));
    let mut h = history(&cols, HistoryRows::Newest);
    h.outer_filters.push(Predicate::Not(Box::new(Predicate::In(
        Expr::Alias(STATE),
        vec![Literal::Str(ARCHIVED.to_string())],
    ))));
    if !q.statuses.is_empty() {
        h.outer_filters.push(Predicate::In(
            Expr::Alias("status"),
            strs(q.statuses.iter().map(|s| s.name().to_string())),
        ));
    }
    let (order_by, limit, shape) = match q.view {
        StatusView::Table => {
            h.outer = [
                "account",
                "region",
                "control",
                "resource",
                "status",
                SINCE,
                UPDATED,
                "resource_type",
                "resource_arn",
                ENTITY,
            ]
            .into_iter()
            .map(|a| output(a, OutputValue::Row(Expr::Alias(a))))
            .collect();
            (
                ["status", "account", "region", "control", "resource", ENTITY]
                    .into_iter()
                    .map(OrderKey::asc)
                    .collect(),
                super::table_limit(q.limit, options),
                Shape::Table {
                    time_columns: vec![SINCE, UPDATED],
                    units: Vec::new(),
                    protocol_columns: Vec::new(),
                    count_total: false,
                },
            )
        }
        StatusView::Counts => {
            h.outer = ComplianceState::ALL
                .into_iter()
                .map(|s| {
                    output(
                        s.name(),
                        OutputValue::Aggregate(Aggregate::CountWhere(Box::new(Predicate::In(
                            Expr::Alias("status"),
                            vec![Literal::Str(s.name().to_string())],
                        )))),
                    )
                })
                .chain(std::iter::once(output(
                    "total",
                    OutputValue::Aggregate(Aggregate::Count),
                )))
                .collect();
            (
                Vec::new(),
                1,
                Shape::Table {
                    time_columns: Vec::new(),
                    units: ComplianceState::ALL
                        .into_iter()
                        .map(|s| (s.name(), "short"))
                        .chain(std::iter::once(("total", "short")))
                        .collect(),
                    protocol_columns: Vec::new(),
                    count_total: false,
                },
            )
        }
    };
    let mut plan = scope.into_plan(outputs, order_by, limit, shape);
    plan.history = Some(h);
    plan
}

/// `compliance_over_time`: every state change of every finding from the look-back window before
/// the range start to the range end; `frame/` folds them into the state in force per bucket.
pub(super) fn plan_over_time(
    q: &ComplianceOverTime,
    window: &TimeWindow,
    options: &PlanOptions,
) -> Plan {
    let days = lookback(&q.scope, options);
    let from = window.from - chrono::Duration::days(i64::from(days));
    let scope = finding_scope(&q.scope, from, window.to, options);
    let cols = scope.cols;
    let outputs = finding_rows(options.version, &q.group_by);
    let mut h = history(&cols, HistoryRows::Changes);
    h.outer = q
        .group_by
        .iter()
        .map(|d| d.name())
        .chain([ENTITY, UPDATED, STATE])
        .map(|a| output(a, OutputValue::Row(Expr::Alias(a))))
        .collect();
    let mut plan = scope.into_plan(
        outputs,
        vec![OrderKey::asc(ENTITY), OrderKey::asc(UPDATED)],
        options.max_rows + 1,
        Shape::StateOverTime {
            labels: q.group_by.iter().map(|d| d.name()).collect(),
            fields: q.measure.fields(),
            bucket_ms: bucket_ms(window),
            lookback_days: days,
        },
    );
    plan.history = Some(h);
    plan
}

/// `annotations` of `control_status_changes`: every transition of a finding from one state to
/// another (archived included) at a time within the range; findings are read from the look-back
/// window before the range start so that a finding's state before the range is known.
pub(super) fn plan_status_changes(
    q: &StatusChanges,
    window: &TimeWindow,
    options: &PlanOptions,
) -> Plan {
    let days = lookback(&q.scope, options);
    let from = window.from - chrono::Duration::days(i64::from(days));
    let scope = finding_scope(&q.scope, from, window.to, options);
    let cols = scope.cols;
    let mut outputs = finding_rows(options.version, &ComplianceDimension::ALL);
    outputs.push(output("resource", OutputValue::Row(resource_id(&cols))));
    outputs.push(output(
        "resource_arn",
        OutputValue::Row(cols.resource_uid.into()),
    ));
    let mut h = history(&cols, HistoryRows::Transitions);
    h.outer_filters.push(Predicate::Compare(
        Expr::Alias(UPDATED),
        Comparison::AtLeast,
        window.from.timestamp_millis(),
    ));
    h.outer = ["account", "region", "control", "resource"]
        .into_iter()
        .map(|a| output(a, OutputValue::Row(Expr::Alias(a))))
        .chain([
            output(
                PREVIOUS_STATUS,
                OutputValue::Row(Expr::Alias(PREVIOUS_STATE)),
            ),
            output(NEW_STATUS, OutputValue::Row(Expr::Alias(STATE))),
            output(UPDATED, OutputValue::Row(Expr::Alias(UPDATED))),
            output(
                "resource_arn",
                OutputValue::Row(Expr::Alias("resource_arn")),
            ),
            output(ENTITY, OutputValue::Row(Expr::Alias(ENTITY))),
        ])
        .collect();
    let mut plan = scope.into_plan(
        outputs,
        [UPDATED, "account", "region", "control", "resource", ENTITY]
            .into_iter()
            .map(OrderKey::asc)
            .collect(),
        options.max_rows + 1,
        Shape::Annotations(AnnotationShape::StatusChanges {
            lookback_days: days,
        }),
    );
    plan.history = Some(h);
    plan
}

/// Alias of a status change's previous status.
pub const PREVIOUS_STATUS: &str = "previous_status";
/// Alias of a status change's new status.
pub const NEW_STATUS: &str = "status";
