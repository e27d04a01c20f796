//! Plans of the CloudTrail kinds over the management events: calls over time, principals ranked,
//! console sign-ins. Every plan reads the partitions of its accounts, regions and days only.

use super::{
    bucket_ms, bucketed_series, group_outputs, list_filters, output, table_limit, whole_buckets,
    Aggregate, Expr, Literal, OrderKey, Output, OutputValue, Plan, PlanOptions, Predicate, Scope,
    Shape, FIRST_SEEN, LAST_SEEN,
};
use crate::lake::source::{AUTHENTICATION_CLASS, CLOUD_TRAIL_MGMT, PRINCIPAL};

/// The OCSF class id of Account Change (users and roles created, deleted, policies attached).
const ACCOUNT_CHANGE_CLASS: i64 = 3001;

/// The service IAM changes are calls to.
const IAM: &str = "iam.amazonaws.com";
use crate::lake::{Source, SourceVersion, TrailColumns};
use crate::plan::sql_aggregate;
use crate::query::{
    ApiActivity, AuthEvents, IamChanges, TimeWindow, TopPrincipals, TrailDimension, TrailFilters,
    TrailFormat, TrailMeasure, TrailQuery, IAM_CHANGES,
};

/// The table, partitions, exact time filter and row filters of a CloudTrail plan.
type TrailScope = Scope<TrailColumns>;

/// The plan of a CloudTrail query.
pub(super) fn plan(query: &TrailQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    match query {
        TrailQuery::Activity(q) => plan_activity(q, window, options),
        TrailQuery::TopPrincipals(q) => plan_top_principals(q, window, options),
        TrailQuery::AuthEvents(q) => plan_auth_events(q, window, options),
        TrailQuery::IamChanges(q) => plan_iam_changes(q, window, options),
    }
}

/// The expression of a CloudTrail dimension in a version's columns, as the source describes it.
pub fn trail_dimension_expr(dim: TrailDimension, version: SourceVersion) -> Expr {
    CLOUD_TRAIL_MGMT.dimension_expr(dim.name(), version).into()
}

/// The aggregate of a CloudTrail measure in a version's columns.
fn measure_aggregate(measure: TrailMeasure, version: SourceVersion) -> Aggregate {
    CLOUD_TRAIL_MGMT
        .measure(measure.name())
        .and_then(|m| sql_aggregate(m.aggregate.of(version)))
        .expect("every CloudTrail measure is described as a SQL aggregate")
}

fn strs(items: &[String]) -> Vec<Literal> {
    items.iter().map(|s| Literal::Str(s.clone())).collect()
}

/// The row filters of the CloudTrail kinds in a version's columns.
fn trail_filters(f: &TrailFilters, version: SourceVersion) -> Vec<Predicate> {
    let cols = TrailColumns::of(version);
    let dim = |d: TrailDimension| trail_dimension_expr(d, version);
    let lists = [
        (Expr::Column(cols.service), strs(&f.services)),
        (Expr::Column(cols.operation), strs(&f.operations)),
        (Expr::from(PRINCIPAL.of(version)), strs(&f.principals)),
        (Expr::Column(cols.principal_name), strs(&f.principal_names)),
        (
            Expr::Column(cols.principal_type),
            f.principal_types
                .iter()
                .map(|t| Literal::Str((*t).to_string()))
                .collect(),
        ),
        (Expr::Column(cols.access_key), strs(&f.access_keys)),
        (Expr::Column(cols.error_code), strs(&f.error_codes)),
        (
            Expr::Column(cols.status_id),
            f.outcome.iter().map(|o| Literal::Int(o.id())).collect(),
        ),
        (
            dim(TrailDimension::Mfa),
            f.mfa
                .iter()
                .map(|m| Literal::Str(if *m { "yes" } else { "no" }.to_string()))
                .collect(),
        ),
    ];
    list_filters(lists, Expr::Column(cols.src_ip), &f.src_ips, &f.exclude_ips)
}

pub(super) fn trail_scope(
    filters: &TrailFilters,
    window: &TimeWindow,
    options: &PlanOptions,
) -> TrailScope {
    Scope::over(
        Source::CloudTrailMgmt,
        TrailColumns::of(options.version),
        (window.from, window.to),
        (&filters.accounts, &filters.regions),
        trail_filters(filters, options.version),
        options,
    )
}

/// `api_activity`: a measure per time bucket and group; newest buckets first (a cut by the row
/// cap leaves the oldest end of the graph empty).
fn plan_activity(q: &ApiActivity, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let width = bucket_ms(window);
    let scope = trail_scope(&q.filters, &whole_buckets(window, width), options);
    let time_ms = Expr::Column(scope.cols.time_ms);
    let groups = q
        .group_by
        .iter()
        .map(|d| (d.name(), trail_dimension_expr(*d, options.version)))
        .collect();
    let measure = (
        q.measure.name(),
        measure_aggregate(q.measure, options.version),
        q.measure.unit(),
    );
    bucketed_series(scope, time_ms, width, groups, measure, q.limit, options)
}

/// `top_principals`: per group, its calls, failures and distinct source addresses, its first and
/// last call; ranked by the measure, ties by the groups.
fn plan_top_principals(q: &TopPrincipals, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let scope = trail_scope(&q.filters, window, options);
    let time = Expr::Column(scope.cols.time_ms);
    let mut outputs = group_outputs(&q.group_by, TrailDimension::name, |d| {
        trail_dimension_expr(d, options.version)
    });
    for measure in [
        TrailMeasure::Calls,
        TrailMeasure::Failures,
        TrailMeasure::SourceIps,
    ] {
        outputs.push(output(
            measure.name(),
            OutputValue::Aggregate(measure_aggregate(measure, options.version)),
        ));
    }
    outputs.push(output(
        FIRST_SEEN,
        OutputValue::Aggregate(Aggregate::Min(time.clone())),
    ));
    outputs.push(output(
        LAST_SEEN,
        OutputValue::Aggregate(Aggregate::Max(time)),
    ));
    scope.into_plan(
        outputs,
        std::iter::once(OrderKey::desc(q.measure.name()))
            .chain(q.group_by.iter().map(|d| OrderKey::asc(d.name())))
            .collect(),
        table_limit(q.limit, options),
        Shape::Table {
            time_columns: vec![FIRST_SEEN, LAST_SEEN],
            units: [
                TrailMeasure::Calls,
                TrailMeasure::Failures,
                TrailMeasure::SourceIps,
            ]
            .map(|m| (m.name(), m.unit()))
            .to_vec(),
            protocol_columns: Vec::new(),
            count_total: false,
        },
    )
}

/// Alias of the number of sign-ins of a group (`auth_events` as series).
pub const SIGN_INS: &str = "sign_ins";

/// The columns of a sign-in row, in order.
pub const AUTH_COLUMNS: [&str; 11] = [
    "time",
    "account",
    "region",
    "principal",
    "principal_type",
    "src_ip",
    "outcome",
    "mfa",
    "message",
    "user_agent",
    "event_id",
];

/// `auth_events`: the Authentication rows (console sign-ins), newest first with the total count;
/// or, as series, the sign-ins and failures of each group with its last sign-in.
pub(super) fn plan_auth_events(q: &AuthEvents, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let version = options.version;
    let mut scope = trail_scope(&q.filters, window, options);
    scope.filters.insert(
        0,
        Predicate::In(
            Expr::Column(scope.cols.class_uid),
            vec![Literal::Int(AUTHENTICATION_CLASS)],
        ),
    );
    let cols = scope.cols;
    if q.format == TrailFormat::Series {
        let mut outputs = group_outputs(&q.group_by, TrailDimension::name, |d| {
            trail_dimension_expr(d, version)
        });
        outputs.push(output(SIGN_INS, OutputValue::Aggregate(Aggregate::Count)));
        outputs.push(output(
            TrailMeasure::Failures.name(),
            OutputValue::Aggregate(measure_aggregate(TrailMeasure::Failures, version)),
        ));
        outputs.push(output(
            LAST_SEEN,
            OutputValue::Aggregate(Aggregate::Max(Expr::Column(cols.time_ms))),
        ));
        return scope.into_plan(
            outputs,
            std::iter::once(OrderKey::desc(SIGN_INS))
                .chain(q.group_by.iter().map(|d| OrderKey::asc(d.name())))
                .collect(),
            table_limit(q.limit, options),
            Shape::Table {
                time_columns: vec![LAST_SEEN],
                units: vec![(SIGN_INS, "short"), ("failures", "short")],
                protocol_columns: Vec::new(),
                count_total: false,
            },
        );
    }
    let dim = |d: TrailDimension| OutputValue::Row(trail_dimension_expr(d, version));
    let outputs = vec![
        output("time", OutputValue::Row(Expr::Column(cols.time_ms))),
        output("account", dim(TrailDimension::Account)),
        output("region", dim(TrailDimension::Region)),
        output("principal", dim(TrailDimension::Principal)),
        output("principal_type", dim(TrailDimension::PrincipalType)),
        output("src_ip", dim(TrailDimension::SrcIp)),
        output("outcome", dim(TrailDimension::Outcome)),
        output("mfa", dim(TrailDimension::Mfa)),
        output(
            "message",
            OutputValue::Row(Expr::Column(cols.error_message)),
        ),
        output("user_agent", dim(TrailDimension::UserAgent)),
        output("event_id", OutputValue::Row(Expr::Column(cols.event_uid))),
    ];
    newest_events(scope, outputs, &AUTH_COLUMNS, q.limit, options)
}

/// The columns of an IAM change row, in order.
pub const IAM_CHANGE_COLUMNS: [&str; 11] = [
    "time",
    "account",
    "principal",
    "operation",
    "class",
    "target",
    "outcome",
    "error_code",
    "src_ip",
    "user_agent",
    "event_id",
];

/// `iam_changes`: the calls to IAM that are Account Change rows or change users, keys, roles,
/// groups and policies, newest first with the total count.
pub(super) fn plan_iam_changes(q: &IamChanges, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let version = options.version;
    let mut scope = trail_scope(&q.filters, window, options);
    let cols = scope.cols;
    scope.filters.insert(
        0,
        Predicate::In(
            Expr::Column(cols.service),
            vec![Literal::Str(IAM.to_string())],
        ),
    );
    scope.filters.insert(
        1,
        Predicate::Or(vec![
            Predicate::In(
                Expr::Column(cols.class_uid),
                vec![Literal::Int(ACCOUNT_CHANGE_CLASS)],
            ),
            Predicate::In(
                Expr::Column(cols.operation),
                IAM_CHANGES
                    .iter()
                    .map(|o| Literal::Str((*o).to_string()))
                    .collect(),
            ),
        ]),
    );
    let dim = |d: TrailDimension| OutputValue::Row(trail_dimension_expr(d, version));
    let outputs = vec![
        output("time", OutputValue::Row(Expr::Column(cols.time_ms))),
        output("account", dim(TrailDimension::Account)),
        output("principal", dim(TrailDimension::Principal)),
        output("operation", dim(TrailDimension::Operation)),
        output("class", dim(TrailDimension::Class)),
        output("target", OutputValue::Row(Expr::Column(cols.target_user))),
        output("outcome", dim(TrailDimension::Outcome)),
        output("error_code", dim(TrailDimension::ErrorCode)),
        output("src_ip", dim(TrailDimension::SrcIp)),
        output("user_agent", dim(TrailDimension::UserAgent)),
        output("event_id", OutputValue::Row(Expr::Column(cols.event_uid))),
    ];
    newest_events(scope, outputs, &IAM_CHANGE_COLUMNS, q.limit, options)
}

/// A table of single events (`columns`, in order; `time` and `event_id` among them), newest
/// first, with the total count of matches.
fn newest_events(
    scope: TrailScope,
    outputs: Vec<Output>,
    columns: &[&str],
    limit: u32,
    options: &PlanOptions,
) -> Plan {
    debug_assert!(outputs
        .iter()
        .map(|o| o.alias.as_str())
        .eq(columns.iter().copied()));
    scope.into_plan(
        outputs,
        // Newest first; the event id only makes ties come out the same on every engine.
        vec![OrderKey::desc("time"), OrderKey::asc("event_id")],
        table_limit(limit, options),
        Shape::Table {
            time_columns: vec!["time"],
            units: Vec::new(),
            protocol_columns: Vec::new(),
            count_total: true,
        },
    )
}
