//! Plans of the AWS WAF kinds over the web ACL logs: requests over time and groups ranked
//! (blocked requests, rate-based hits). Every plan reads the partitions of its accounts, regions
//! and days only; user values reach the plan as typed literals only.

use super::{
    bucket_ms, bucketed_series, group_outputs, list_filters, output, sql_aggregate, table_limit,
    whole_buckets, Aggregate, Expr, Literal, OrderKey, OutputValue, Plan, PlanOptions, Predicate,
    Scope, Shape, FIRST_SEEN, LAST_SEEN,
};
use crate::lake::source::{BLOCKED, RATE_BASED, WAF};
use crate::lake::{Source, SourceVersion, WafColumns};
use crate::query::{
    TimeWindow, WafDimension, WafFilters, WafMeasure, WafQuery, WafRanking, WafRequests,
};

/// The table, partitions, exact time filter and row filters of a WAF plan.
type WafScope = Scope<WafColumns>;

/// The plan of a WAF query.
pub(super) fn plan(query: &WafQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    match query {
        WafQuery::Requests(q) => plan_requests(q, window, options),
        WafQuery::Ranking(q) => plan_ranking(q, window, options),
    }
}

/// The expression of a WAF dimension, as the source describes it.
pub fn waf_dimension_expr(dim: WafDimension, version: SourceVersion) -> Expr {
    WAF.dimension_expr(dim.name(), version).into()
}

fn measure_aggregate(measure: WafMeasure, version: SourceVersion) -> Aggregate {
    WAF.measure(measure.name())
        .and_then(|m| sql_aggregate(m.aggregate.of(version)))
        .expect("every WAF measure is described as a SQL aggregate")
}

/// The row filters of the WAF kinds.
fn waf_filters(f: &WafFilters, cols: &WafColumns) -> Vec<Predicate> {
    let strs = |items: &[String]| items.iter().cloned().map(Literal::Str).collect::<Vec<_>>();
    let statics = |items: &[&str]| items.iter().map(|s| Literal::Str(s.to_string())).collect();
    let lists = [
        (cols.web_acl, strs(&f.web_acls)),
        (
            cols.disposition_id,
            f.actions.iter().map(|id| Literal::Int(*id)).collect(),
        ),
        (cols.rule, strs(&f.rules)),
        (cols.rule_type, statics(&f.rule_types)),
        (cols.country, strs(&f.countries)),
        (cols.host, strs(&f.hosts)),
        (cols.path, strs(&f.paths)),
        (cols.method, statics(&f.methods)),
    ];
    list_filters(
        lists.map(|(column, values)| (Expr::Column(column), values)),
        Expr::Column(cols.src_ip),
        &f.src_ips,
        &f.exclude_ips,
    )
}

/// The scope of a WAF plan over `window`.
pub(super) fn waf_scope(
    filters: &WafFilters,
    window: &TimeWindow,
    options: &PlanOptions,
) -> WafScope {
    let cols = crate::lake::source::WAF_COLUMNS;
    Scope::over(
        Source::Waf,
        cols,
        (window.from, window.to),
        (&filters.accounts, &filters.regions),
        waf_filters(filters, &cols),
        options,
    )
}

/// `waf_requests`: a measure per time bucket and group; newest buckets first.
fn plan_requests(q: &WafRequests, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let width = bucket_ms(window);
    let scope = waf_scope(&q.filters, &whole_buckets(window, width), options);
    let time_ms = Expr::Column(scope.cols.time_ms);
    let groups = q
        .group_by
        .iter()
        .map(|d| (d.name(), waf_dimension_expr(*d, options.version)))
        .collect();
    let measure = (
        q.measure.name(),
        measure_aggregate(q.measure, options.version),
        q.measure.unit(),
    );
    bucketed_series(scope, time_ms, width, groups, measure, q.limit, options)
}

/// A ranking of groups: per group its requests and distinct clients, its first and last request;
/// blocked requests only, or those a rate-based rule ended.
fn plan_ranking(q: &WafRanking, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let mut scope = waf_scope(&q.filters, window, options);
    let cols = scope.cols;
    if q.rate_based_only {
        let rate = Literal::Str(RATE_BASED.to_string());
        scope
            .filters
            .insert(0, Predicate::In(Expr::Column(cols.rule_type), vec![rate]));
    }
    if q.blocked_only {
        let blocked = Literal::Int(BLOCKED);
        scope.filters.insert(
            0,
            Predicate::In(Expr::Column(cols.disposition_id), vec![blocked]),
        );
    }
    let time = Expr::Column(cols.time_ms);
    let counts = [WafMeasure::Requests, WafMeasure::Clients];
    let mut outputs = group_outputs(&q.group_by, WafDimension::name, |d| {
        waf_dimension_expr(d, options.version)
    });
    for measure in counts {
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
            units: counts.iter().map(|c| (c.name(), "short")).collect(),
            protocol_columns: Vec::new(),
            count_total: false,
        },
    )
}
