//! `Plan`: one query against one Security Lake table — table, partitions, filters, group-by, time
//! bucket, order and limit — with no SQL text in it. `sql/` renders it per dialect.

pub mod partitions;

use chrono::{DateTime, NaiveDate, Utc};

use crate::lake::{self, ColumnPath, FlowColumns, PartitionColumn, Source, SourceVersion};
use crate::query::{
    AccountId, Dimension, FlowFilters, FlowVolume, Measure, PanelQuery, Region, TimeWindow,
};

/// Where the plan reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    /// The log source.
    pub source: Source,
    /// The source version (column set and partitioning).
    pub version: SourceVersion,
    /// Region whose Glue database holds the table (the rollup region when one is set).
    pub home_region: String,
}

impl TableRef {
    /// Glue database name.
    pub fn database(&self) -> String {
        lake::database_name(&self.home_region)
    }

    /// Table name.
    pub fn table(&self) -> String {
        lake::table_name(&self.home_region, self.source, self.version)
    }
}

/// A typed expression over table columns. Literals inside are validated values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A (possibly nested) column.
    Column(ColumnPath),
    /// A partition column.
    Partition(PartitionColumn),
    /// First non-null of the arguments.
    Coalesce(Vec<Expr>),
    /// Maps integer ids to labels: `CASE e WHEN id THEN 'label' … ELSE 'default' END`.
    Labels {
        /// The id expression.
        expr: Box<Expr>,
        /// `(id, label)` pairs.
        cases: Vec<(i64, &'static str)>,
        /// Label for any other value.
        default: &'static str,
    },
    /// Epoch-millisecond bucket start: `(e / width) * width`.
    BucketMs {
        /// Epoch-ms expression.
        expr: Box<Expr>,
        /// Bucket width in milliseconds.
        width_ms: i64,
    },
}

/// A literal value; strings are validated before they get here and escaped by the renderer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// A string literal.
    Str(String),
    /// An integer literal.
    Int(i64),
}

/// A boolean condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// `e IN (…)` (rendered `=` for one value).
    In(Expr, Vec<Literal>),
    /// Any of the predicates.
    Or(Vec<Predicate>),
}

/// An aggregate value column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aggregate {
    /// `SUM(e)`.
    Sum(Expr),
    /// `COUNT(*)`.
    Count,
}

/// The partition predicates of a plan: the pruning lever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFilter {
    /// Every UTC day the range touches, first and last included.
    pub days: Vec<NaiveDate>,
    /// Accounts asked for (empty: all).
    pub accounts: Vec<AccountId>,
    /// Regions asked for (empty: all).
    pub regions: Vec<Region>,
}

/// The exact event-time filter, inclusive at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeFilter {
    /// Start, UTC.
    pub from: DateTime<Utc>,
    /// End, UTC.
    pub to: DateTime<Utc>,
    /// Epoch-ms column.
    pub time_ms: ColumnPath,
    /// Timestamp column (v2): used on Athena, where it is also the Iceberg partition source.
    pub time_dt: Option<ColumnPath>,
}

/// How `frame/` should shape the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Long rows `(time_bucket, labels…, value)` → a wide time series.
    TimeSeries {
        /// Label columns in order.
        labels: Vec<Dimension>,
        /// The value column.
        measure: Measure,
        /// Bucket width, ms (the frame fills empty buckets with 0).
        bucket_ms: i64,
        /// Keep the top N series and fold the rest into `other`.
        top: Option<u32>,
    },
}

/// A named output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Column alias.
    pub alias: String,
    /// The value.
    pub value: OutputValue,
}

/// What an output column computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputValue {
    /// A grouped expression.
    Group(Expr),
    /// An aggregate.
    Aggregate(Aggregate),
}

/// Name of the bucket column in time-series results.
pub const TIME_BUCKET: &str = "time_bucket";

/// One query against one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The table read.
    pub table: TableRef,
    /// Partition predicates.
    pub partitions: PartitionFilter,
    /// Exact event-time filter.
    pub time: TimeFilter,
    /// Other filters (AND-ed).
    pub filters: Vec<Predicate>,
    /// Output columns; groups first, then aggregates.
    pub outputs: Vec<Output>,
    /// Order by these aliases, ascending.
    pub order_by: Vec<String>,
    /// Row limit (the row cap plus one, so a cut can be detected).
    pub limit: u64,
    /// How to shape the result.
    pub shape: Shape,
}

/// Plan-wide choices that come from the datasource settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Source version of the tables.
    pub version: SourceVersion,
    /// Region whose database holds the tables (rollup region).
    pub home_region: String,
    /// Most rows a result may carry.
    pub max_rows: u64,
}

/// Builds the plan of a panel query.
pub fn plan(query: &PanelQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    match query {
        PanelQuery::FlowVolume(fv) => plan_flow_volume(fv, window, options),
    }
}

/// Bucket widths offered, in seconds (flow logs aggregate over at least one minute).
const BUCKETS_S: [i64; 12] = [
    60, 300, 600, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800, 2_592_000,
];

/// The time bucket for a window: the smallest nice width that is at least Grafana's interval and
/// keeps the number of points within `maxDataPoints` (default 1000).
pub fn bucket_ms(window: &TimeWindow) -> i64 {
    let span_ms = (window.to - window.from).num_milliseconds().max(1);
    let points = if window.max_data_points > 0 {
        window.max_data_points
    } else {
        1000
    };
    let needed = window.interval_ms.max(span_ms / points).max(1);
    BUCKETS_S
        .iter()
        .map(|s| s * 1000)
        .find(|w| *w >= needed)
        .unwrap_or(BUCKETS_S[BUCKETS_S.len() - 1] * 1000)
}

fn plan_flow_volume(fv: &FlowVolume, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let cols = FlowColumns::of(options.version);
    let width = bucket_ms(window);
    let mut outputs = vec![Output {
        alias: TIME_BUCKET.to_string(),
        value: OutputValue::Group(Expr::BucketMs {
            expr: Box::new(Expr::Column(cols.time_ms)),
            width_ms: width,
        }),
    }];
    for dim in &fv.group_by {
        outputs.push(Output {
            alias: dim.name().to_string(),
            value: OutputValue::Group(dimension_expr(*dim, &cols)),
        });
    }
    outputs.push(Output {
        alias: fv.measure.name().to_string(),
        value: OutputValue::Aggregate(measure_aggregate(fv.measure)),
    });
    Plan {
        table: TableRef {
            source: Source::VpcFlow,
            version: options.version,
            home_region: options.home_region.clone(),
        },
        partitions: PartitionFilter {
            days: partitions::utc_days(window.from, window.to),
            accounts: fv.filters.accounts.clone(),
            regions: fv.filters.regions.clone(),
        },
        time: TimeFilter {
            from: window.from,
            to: window.to,
            time_ms: cols.time_ms,
            time_dt: cols.time_dt,
        },
        filters: flow_filters(&fv.filters, &cols),
        order_by: std::iter::once(TIME_BUCKET.to_string())
            .chain(fv.group_by.iter().map(|d| d.name().to_string()))
            .collect(),
        outputs,
        limit: options.max_rows + 1,
        shape: Shape::TimeSeries {
            labels: fv.group_by.clone(),
            measure: fv.measure,
            bucket_ms: width,
            top: fv.limit,
        },
    }
}

fn measure_aggregate(measure: Measure) -> Aggregate {
    match measure {
        Measure::Bytes => Aggregate::Sum(Expr::Column(&["traffic", "bytes"])),
        Measure::Packets => Aggregate::Sum(Expr::Column(&["traffic", "packets"])),
        Measure::Flows => Aggregate::Count,
    }
}

/// Either side's value of an ENI-side field (set on src for egress, dst for ingress).
fn eni_side(src: ColumnPath, dst: ColumnPath) -> Expr {
    Expr::Coalesce(vec![Expr::Column(src), Expr::Column(dst)])
}

/// The expression of a dimension in a version's columns.
pub fn dimension_expr(dim: Dimension, cols: &FlowColumns) -> Expr {
    match dim {
        Dimension::Account => Expr::Partition(PartitionColumn::AccountId),
        Dimension::Region => Expr::Partition(PartitionColumn::Region),
        Dimension::Vpc => eni_side(&["src_endpoint", "vpc_uid"], &["dst_endpoint", "vpc_uid"]),
        Dimension::Subnet => eni_side(
            &["src_endpoint", "subnet_uid"],
            &["dst_endpoint", "subnet_uid"],
        ),
        Dimension::Eni => eni_side(
            &["src_endpoint", "interface_uid"],
            &["dst_endpoint", "interface_uid"],
        ),
        Dimension::SrcIp => Expr::Column(&["src_endpoint", "ip"]),
        Dimension::DstIp => Expr::Column(&["dst_endpoint", "ip"]),
        Dimension::DstPort => Expr::Column(&["dst_endpoint", "port"]),
        Dimension::Protocol => Expr::Column(&["connection_info", "protocol_num"]),
        Dimension::Action => Expr::Labels {
            expr: Box::new(Expr::Column(cols.action_id)),
            cases: vec![(1, "ACCEPT"), (2, "REJECT")],
            default: "UNKNOWN",
        },
        Dimension::Direction => Expr::Labels {
            expr: Box::new(Expr::Column(&["connection_info", "direction_id"])),
            cases: vec![(1, "ingress"), (2, "egress")],
            default: "unknown",
        },
        Dimension::Boundary => Expr::Column(&["connection_info", "boundary"]),
    }
}

fn strs<T>(items: &[T], text: impl Fn(&T) -> String) -> Vec<Literal> {
    items.iter().map(|i| Literal::Str(text(i))).collect()
}

fn flow_filters(f: &FlowFilters, cols: &FlowColumns) -> Vec<Predicate> {
    let mut out = Vec::new();
    let mut push = |expr: Expr, values: Vec<Literal>| {
        if !values.is_empty() {
            out.push(Predicate::In(expr, values));
        }
    };
    push(
        dimension_expr(Dimension::Vpc, cols),
        strs(&f.vpcs, |v| v.as_str().to_string()),
    );
    push(
        dimension_expr(Dimension::Subnet, cols),
        strs(&f.subnets, |v| v.as_str().to_string()),
    );
    push(
        dimension_expr(Dimension::Eni, cols),
        strs(&f.enis, |v| v.as_str().to_string()),
    );
    push(
        Expr::Column(&["src_endpoint", "ip"]),
        strs(&f.src_ips, |v| v.to_string()),
    );
    push(
        Expr::Column(&["dst_endpoint", "ip"]),
        strs(&f.dst_ips, |v| v.to_string()),
    );
    push(
        Expr::Column(&["dst_endpoint", "port"]),
        f.dst_ports
            .iter()
            .map(|p| Literal::Int(i64::from(*p)))
            .collect(),
    );
    push(
        Expr::Column(&["connection_info", "protocol_num"]),
        f.protocols
            .iter()
            .map(|p| Literal::Int(i64::from(p.0)))
            .collect(),
    );
    push(
        Expr::Column(cols.action_id),
        f.action
            .iter()
            .map(|a| Literal::Int(i64::from(a.id())))
            .collect(),
    );
    push(
        Expr::Column(&["connection_info", "direction_id"]),
        f.direction
            .iter()
            .map(|d| Literal::Int(i64::from(d.id())))
            .collect(),
    );
    push(
        Expr::Column(&["connection_info", "boundary_id"]),
        f.boundaries
            .iter()
            .map(|b| Literal::Int(i64::from(*b)))
            .collect(),
    );
    if !f.ips.is_empty() {
        let values = strs(&f.ips, |v| v.to_string());
        out.push(Predicate::Or(vec![
            Predicate::In(Expr::Column(&["src_endpoint", "ip"]), values.clone()),
            Predicate::In(Expr::Column(&["dst_endpoint", "ip"]), values),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(from: &str, to: &str, interval_ms: i64, points: i64) -> TimeWindow {
        TimeWindow::new(
            DateTime::parse_from_rfc3339(from).unwrap().to_utc(),
            DateTime::parse_from_rfc3339(to).unwrap().to_utc(),
            interval_ms,
            points,
        )
        .unwrap()
    }

    #[test]
    fn buckets_follow_interval_and_max_data_points() {
        let cases = [
            (
                "2024-06-01T00:00:00Z",
                "2024-06-01T01:00:00Z",
                1_000,
                1_000,
                60_000,
            ),
            (
                "2024-06-01T00:00:00Z",
                "2024-06-02T00:00:00Z",
                60_000,
                1_000,
                300_000,
            ),
            (
                "2024-06-01T00:00:00Z",
                "2024-06-02T00:00:00Z",
                600_000,
                1_000,
                600_000,
            ),
            (
                "2024-06-01T00:00:00Z",
                "2024-06-08T00:00:00Z",
                0,
                0,
                900_000,
            ),
            (
                "2024-06-01T00:00:00Z",
                "2024-06-15T00:00:00Z",
                0,
                100,
                21_600_000,
            ),
        ];
        for (from, to, interval, points, want) in cases {
            assert_eq!(
                bucket_ms(&window(from, to, interval, points)),
                want,
                "{from}..{to}"
            );
        }
    }
}
