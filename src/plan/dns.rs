//! Plans of the Route 53 kinds over the resolver query logs: queries over time, domains ranked
//! (failed lookups, new domains) and tunnelling suspects. Every plan reads the partitions of its
//! accounts, regions and days only (new domains also its baseline days).

use super::baseline::with_baseline;
use super::{
    bucket_ms, bucketed_series, group_outputs, list_filters, output, sql_aggregate, table_limit,
    whole_buckets, Aggregate, Comparison, Expr, Having, Literal, OrderKey, OutputValue, Plan,
    PlanOptions, Predicate, Scope, Shape, FIRST_SEEN, LAST_SEEN,
};
use crate::lake::source::ROUTE53;
use crate::lake::{DnsColumns, Source, SourceVersion};
use crate::query::{
    DnsDimension, DnsFilters, DnsMeasure, DnsQueries, DnsQuery, DnsTunneling, DomainRanking,
    TimeWindow,
};

/// The table, partitions, exact time filter and row filters of a Route 53 plan.
type DnsScope = Scope<DnsColumns>;

/// Alias of a tunnelling suspect's parent domain (the name less its leftmost label).
pub const PARENT_DOMAIN: &str = "parent_domain";
/// Alias of a suspect's distinct long leftmost labels.
pub const SUBDOMAINS: &str = "subdomains";
/// Alias of a suspect's longest leftmost label.
pub const LONGEST_LABEL: &str = "longest_label";

/// What a tunnelling suspect is keyed by: the asking address in its VPC, and the parent domain.
pub const TUNNEL_KEYS: [&str; 3] = ["vpc", "src_ip", PARENT_DOMAIN];

/// The plan of a Route 53 query.
pub(super) fn plan(query: &DnsQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    match query {
        DnsQuery::Queries(q) => plan_queries(q, window, options),
        DnsQuery::Ranking(q) => plan_ranking(q, window, options),
        DnsQuery::Tunneling(q) => plan_tunneling(q, window, options),
    }
}

/// The expression of a Route 53 dimension in a version's columns, as the source describes it.
pub fn dns_dimension_expr(dim: DnsDimension, version: SourceVersion) -> Expr {
    ROUTE53.dimension_expr(dim.name(), version).into()
}

fn measure_aggregate(measure: DnsMeasure, version: SourceVersion) -> Aggregate {
    ROUTE53
        .measure(measure.name())
        .and_then(|m| sql_aggregate(m.aggregate.of(version)))
        .expect("every Route 53 measure is described as a SQL aggregate")
}

/// The row filters of the Route 53 kinds in a version's columns.
fn dns_filters(f: &DnsFilters, version: SourceVersion) -> Vec<Predicate> {
    let cols = DnsColumns::of(version);
    let strs = |items: Vec<String>| items.into_iter().map(Literal::Str).collect::<Vec<_>>();
    let lists = [
        (Expr::Column(cols.hostname), strs(f.domains.clone())),
        (
            Expr::Column(cols.query_type),
            strs(f.query_types.iter().map(|t| t.to_string()).collect()),
        ),
        (
            Expr::Column(cols.rcode_id),
            f.rcodes.iter().map(|id| Literal::Int(*id)).collect(),
        ),
        (
            Expr::Column(cols.vpc),
            strs(f.vpcs.iter().map(|v| v.as_str().to_string()).collect()),
        ),
    ];
    list_filters(lists, Expr::Column(cols.src_ip), &f.src_ips, &f.exclude_ips)
}

/// The scope of a Route 53 plan over `window`.
pub(super) fn dns_scope(
    filters: &DnsFilters,
    window: &TimeWindow,
    options: &PlanOptions,
) -> DnsScope {
    Scope::over(
        Source::Route53,
        DnsColumns::of(options.version),
        (window.from, window.to),
        (&filters.accounts, &filters.regions),
        dns_filters(filters, options.version),
        options,
    )
}

/// `dns_queries`: a measure per time bucket and group; newest buckets first.
fn plan_queries(q: &DnsQueries, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let width = bucket_ms(window);
    let scope = dns_scope(&q.filters, &whole_buckets(window, width), options);
    let time_ms = Expr::Column(scope.cols.time_ms);
    let groups = q
        .group_by
        .iter()
        .map(|d| (d.name(), dns_dimension_expr(*d, options.version)))
        .collect();
    let measure = (
        q.measure.name(),
        measure_aggregate(q.measure, options.version),
        q.measure.unit(),
    );
    bucketed_series(scope, time_ms, width, groups, measure, q.limit, options)
}

/// A ranking of groups: per group its queries and distinct sources, its first and last query;
/// failed lookups only, or (new domains) the baseline days read too and the groups first seen in
/// the range kept.
fn plan_ranking(q: &DomainRanking, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let read = q
        .baseline_days
        .map_or(*window, |days| with_baseline(window, days));
    let mut scope = dns_scope(&q.filters, &read, options);
    if q.failed_only {
        scope.filters.insert(
            0,
            Predicate::Compare(Expr::Column(scope.cols.rcode_id), Comparison::Greater, 0),
        );
    }
    let time = Expr::Column(scope.cols.time_ms);
    let mut outputs = group_outputs(&q.group_by, DnsDimension::name, |d| {
        dns_dimension_expr(d, options.version)
    });
    for measure in [DnsMeasure::Queries, DnsMeasure::Sources] {
        outputs.push(output(
            measure.name(),
            OutputValue::Aggregate(measure_aggregate(measure, options.version)),
        ));
    }
    let first = Aggregate::Min(time.clone());
    outputs.push(output(FIRST_SEEN, OutputValue::Aggregate(first.clone())));
    outputs.push(output(
        LAST_SEEN,
        OutputValue::Aggregate(Aggregate::Max(time)),
    ));
    let mut plan = scope.into_plan(
        outputs,
        std::iter::once(OrderKey::desc(q.measure.name()))
            .chain(q.group_by.iter().map(|d| OrderKey::asc(d.name())))
            .collect(),
        table_limit(q.limit, options),
        ranking_shape(&[DnsMeasure::Queries.name(), DnsMeasure::Sources.name()]),
    );
    if q.baseline_days.is_some() {
        plan.having.push(Having {
            aggregate: first,
            op: Comparison::AtLeast,
            value: window.from.timestamp_millis(),
        });
    }
    plan
}

fn ranking_shape(counts: &[&'static str]) -> Shape {
    Shape::Table {
        time_columns: vec![FIRST_SEEN, LAST_SEEN],
        units: counts.iter().map(|c| (*c, "short")).collect(),
        protocol_columns: Vec::new(),
        count_total: false,
    }
}

/// `dns_tunneling`: the queries whose leftmost label is long, per source and parent domain, with
/// the distinct labels, the longest, and the first and last; kept from `min_subdomains`
/// distinct labels on, the most first.
fn plan_tunneling(q: &DnsTunneling, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let version = options.version;
    let mut scope = dns_scope(&q.filters, window, options);
    let name = || Box::new(Expr::Column(scope.cols.hostname));
    let label = Expr::Segment {
        expr: name(),
        separator: ".",
        last: false,
    };
    let length = Expr::Length(Box::new(label.clone()));
    let parent = dns_dimension_expr(DnsDimension::ParentDomain, version);
    let time = Expr::Column(scope.cols.time_ms);
    scope.filters.push(Predicate::Compare(
        length.clone(),
        Comparison::AtLeast,
        i64::from(q.min_label_length),
    ));
    let distinct = Aggregate::CountDistinct(label);
    let mut outputs = group_outputs(
        &[DnsDimension::Vpc, DnsDimension::SrcIp],
        DnsDimension::name,
        |d| dns_dimension_expr(d, version),
    );
    outputs.extend([
        output(PARENT_DOMAIN, OutputValue::Group(parent)),
        output(
            DnsMeasure::Queries.name(),
            OutputValue::Aggregate(Aggregate::Count),
        ),
        output(SUBDOMAINS, OutputValue::Aggregate(distinct.clone())),
        output(
            LONGEST_LABEL,
            OutputValue::Aggregate(Aggregate::Max(length)),
        ),
        output(
            FIRST_SEEN,
            OutputValue::Aggregate(Aggregate::Min(time.clone())),
        ),
        output(LAST_SEEN, OutputValue::Aggregate(Aggregate::Max(time))),
    ]);
    let mut plan = scope.into_plan(
        outputs,
        std::iter::once(OrderKey::desc(SUBDOMAINS))
            .chain(TUNNEL_KEYS.iter().map(|k| OrderKey::asc(k)))
            .collect(),
        table_limit(q.limit, options),
        ranking_shape(&[DnsMeasure::Queries.name(), SUBDOMAINS, LONGEST_LABEL]),
    );
    plan.having.push(Having {
        aggregate: distinct,
        op: Comparison::AtLeast,
        value: i64::from(q.min_subdomains),
    });
    plan
}
