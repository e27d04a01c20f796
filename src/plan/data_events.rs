//! Plans of the CloudTrail data-event kinds (`s3_data_access`, `lambda_invocations`): a measure
//! over time per group, through the bucketed series the other sources' time-series kinds share,
//! or groups ranked by their calls with failures and first and last call. Every plan reads the
//! partitions of its accounts, regions and days only.

use super::{
    bucket_ms, bucketed_series, in_blocks, not_in_blocks, output, table_limit, whole_buckets,
    Aggregate, Expr, Literal, OrderKey, Output, OutputValue, Plan, PlanOptions, Predicate, Scope,
    Shape, FIRST_SEEN, LAST_SEEN,
};
use crate::lake::source::{DataColumns, PRINCIPAL};
use crate::lake::SourceVersion;
use crate::plan::sql_aggregate;
use crate::query::{
    DataDimension, DataEventsQuery, DataFilters, DataFormat, DataMeasure, DataSource, TimeWindow,
};

/// The table, partitions, exact time filter and row filters of a data-event plan.
pub(super) type DataScope = Scope<DataColumns>;

/// The plan of a data-event query.
pub(super) fn plan(q: &DataEventsQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    match q.format {
        DataFormat::Series => plan_series(q, window, options),
        DataFormat::Table => plan_table(q, window, options),
    }
}

/// The expression of a dimension in a version's columns, as the source describes it.
pub fn data_dimension_expr(source: DataSource, dim: DataDimension, version: SourceVersion) -> Expr {
    source.spec().dimension_expr(dim.name(), version).into()
}

/// The aggregate of a measure in a version's columns.
fn measure_aggregate(
    source: DataSource,
    measure: DataMeasure,
    version: SourceVersion,
) -> Aggregate {
    source
        .spec()
        .measure(measure.name(source))
        .and_then(|m| sql_aggregate(m.aggregate.of(version)))
        .expect("every data-event measure is described as a SQL aggregate")
}

fn strs(items: &[String]) -> Vec<Literal> {
    items.iter().map(|s| Literal::Str(s.clone())).collect()
}

/// The row filters of a data-event query in a version's columns.
fn data_filters(source: DataSource, f: &DataFilters, version: SourceVersion) -> Vec<Predicate> {
    let cols = DataColumns::of(version).trail;
    let dim = |d: DataDimension| data_dimension_expr(source, d, version);
    let lists = [
        (Expr::Column(cols.operation), strs(&f.operations)),
        (Expr::from(PRINCIPAL.of(version)), strs(&f.principals)),
        (
            Expr::Column(cols.status_id),
            f.outcome.iter().map(|o| Literal::Int(o.id())).collect(),
        ),
    ];
    let mut out: Vec<Predicate> = Vec::new();
    // The bucket or function first: the narrowest condition of a "who read this bucket" panel.
    if !f.buckets.is_empty() {
        out.push(Predicate::In(dim(DataDimension::Bucket), strs(&f.buckets)));
    }
    if !f.functions.is_empty() {
        out.push(Predicate::In(
            dim(DataDimension::Function),
            strs(&f.functions),
        ));
    }
    out.extend(
        lists
            .into_iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(expr, values)| Predicate::In(expr, values)),
    );
    if let Some(access) = f.access {
        out.push(Predicate::In(
            dim(DataDimension::Access),
            vec![Literal::Str(access.label().to_string())],
        ));
    }
    if !f.src_ips.is_empty() {
        out.push(in_blocks(Expr::Column(cols.src_ip), &f.src_ips));
    }
    if !f.exclude_ips.is_empty() {
        out.push(not_in_blocks(Expr::Column(cols.src_ip), &f.exclude_ips));
    }
    out
}

/// What a data-event plan of `source` reads.
pub(super) fn data_scope(
    source: DataSource,
    filters: &DataFilters,
    window: &TimeWindow,
    options: &PlanOptions,
) -> DataScope {
    Scope::over(
        source.source(),
        DataColumns::of(options.version),
        (window.from, window.to),
        (&filters.accounts, &filters.regions),
        data_filters(source, filters, options.version),
        options,
    )
}

/// A measure per time bucket and group, newest buckets first.
fn plan_series(q: &DataEventsQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let (source, version) = (q.source, options.version);
    let width = bucket_ms(window);
    let scope = data_scope(source, &q.filters, &whole_buckets(window, width), options);
    let time_ms = Expr::Column(scope.cols.trail.time_ms);
    let groups = q
        .group_by
        .iter()
        .map(|d| (d.name(), data_dimension_expr(source, *d, version)))
        .collect();
    let measure = (
        q.measure.name(source),
        measure_aggregate(source, q.measure, version),
        q.measure.unit(source),
    );
    bucketed_series(scope, time_ms, width, groups, measure, q.limit, options)
}

/// Per group, its calls, failures, first and last call; ranked by the measure, ties by the
/// groups.
fn plan_table(q: &DataEventsQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let (source, version) = (q.source, options.version);
    let scope = data_scope(source, &q.filters, window, options);
    let time = Expr::Column(scope.cols.trail.time_ms);
    let counted = [DataMeasure::Events, DataMeasure::Failures];
    let mut outputs: Vec<Output> = q
        .group_by
        .iter()
        .map(|d| {
            output(
                d.name(),
                OutputValue::Group(data_dimension_expr(source, *d, version)),
            )
        })
        .collect();
    for measure in counted {
        outputs.push(output(
            measure.name(source),
            OutputValue::Aggregate(measure_aggregate(source, measure, version)),
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
        std::iter::once(OrderKey::desc(q.measure.name(source)))
            .chain(q.group_by.iter().map(|d| OrderKey::asc(d.name())))
            .collect(),
        table_limit(q.table_limit(), options),
        Shape::Table {
            time_columns: vec![FIRST_SEEN, LAST_SEEN],
            units: counted.map(|m| (m.name(source), m.unit(source))).to_vec(),
            protocol_columns: Vec::new(),
            count_total: false,
        },
    )
}
