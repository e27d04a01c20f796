//! `Plan`: one query against one Security Lake table — table, partitions, filters, group-by, time
//! bucket, order and limit — with no SQL text in it. `sql/` renders it per dialect.

mod annotations;
mod baseline;
mod data_events;
mod dns;
mod timeline;
mod waf;

pub use baseline::beacon_keys;
mod cloudtrail;

pub use cloudtrail::{trail_dimension_expr, AUTH_COLUMNS, IAM_CHANGE_COLUMNS, SIGN_INS};
pub use data_events::data_dimension_expr;
pub use dns::{dns_dimension_expr, LONGEST_LABEL, PARENT_DOMAIN, SUBDOMAINS, TUNNEL_KEYS};
pub use timeline::{
    COMPLIANCE_STATUS, DNS_GROUPS, FINDING_GROUPS, FINDING_ID, FINDING_STATE, FINDING_TITLE,
    FLOW_GROUPS, FLOW_INTERFACE_GROUPS, FLOW_MEASURES, HOUR_MS, RECORDS, TRAIL_GROUPS,
};
pub use waf::waf_dimension_expr;
mod compliance;
mod findings;

pub use findings::{finding_dimension_expr, ACTIVE_COLUMNS, FINDINGS, OPEN_STATES};
pub mod partitions;
pub mod slices;

use chrono::{DateTime, NaiveDate, Utc};

use crate::lake::source::{ColumnExpr, MeasureAggregate, VPC_FLOW};
use crate::lake::{self, ColumnPath, FlowColumns, PartitionColumn, Source, SourceVersion};
use crate::net::{Cidr, NON_PUBLIC_BLOCKS};
use crate::query::{
    AccountId, AnomalyFormat, Coverage, CoverageFormat, Dimension, FlowFilters, FlowSearch,
    FlowVolume, InternetPeer, Measure, PanelQuery, PeerSide, PortScan, Region, ScanTarget,
    TimeWindow, TopKeys, TopQuery, VariableQuery, VariableTarget,
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
    /// The database and table names the settings or the discovery chose.
    pub names: lake::LakeNames,
}

impl TableRef {
    /// Glue database name.
    pub fn database(&self) -> String {
        self.names.database(&self.home_region)
    }

    /// Table name.
    pub fn table(&self) -> String {
        self.names
            .table(&self.home_region, self.source, self.version)
    }

    /// Security Lake's own name for the table (what discovery looks for).
    pub fn conventional_table(&self) -> String {
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
    /// A boolean shown as labels: `CASE WHEN e THEN 'yes' WHEN NOT e THEN 'no' ELSE 'unknown' END`.
    Flag {
        /// The boolean expression.
        expr: Box<Expr>,
        /// The label of true.
        yes: &'static str,
        /// The label of false.
        no: &'static str,
        /// The label of NULL.
        unknown: &'static str,
    },
    /// Epoch-millisecond bucket start: `(e / width) * width`.
    BucketMs {
        /// Epoch-ms expression.
        expr: Box<Expr>,
        /// Bucket width in milliseconds.
        width_ms: i64,
    },
    /// The address on either side of a flow, one row per side ([`Plan::sides`]).
    SideIp,
    /// The value of a key in a `map<string,string>` column (NULL when absent).
    MapValue {
        /// The map column.
        map: ColumnPath,
        /// The key.
        key: &'static str,
    },
    /// The first element of a list-of-strings column (NULL when the list is NULL or empty).
    FirstItem(ColumnPath),
    /// A field of the first element of a list-of-structs column (NULL when the list is empty).
    FirstOf {
        /// The list column.
        list: ColumnPath,
        /// The struct field.
        field: &'static str,
    },
    /// The first or last piece of a string split at a separator.
    Segment {
        /// The string.
        expr: Box<Expr>,
        /// The separator.
        separator: &'static str,
        /// The last piece (else the first).
        last: bool,
    },
    /// The number of characters of a string.
    Length(Box<Expr>),
    /// What follows the first separator in a string (empty when it has none): a DNS name's
    /// parent, `b.example.com.` of `a.b.example.com.`.
    AfterFirst {
        /// The string.
        expr: Box<Expr>,
        /// The separator.
        separator: &'static str,
    },
    /// A column of the enclosing query's input by its alias (outer parts of history plans).
    Alias(&'static str),
    /// A constant.
    Literal(Literal),
    /// The number of rows the query matched, before its limit, on every row (a window count:
    /// a search's open slice counts its rows in the same query). A select-list value only.
    MatchedRows,
    /// `CASE WHEN condition THEN value ELSE otherwise END`.
    When {
        /// The condition.
        condition: Box<Predicate>,
        /// The value when it holds.
        then: Literal,
        /// The value otherwise.
        otherwise: Box<Expr>,
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
    /// The predicate does not hold.
    Not(Box<Predicate>),
    /// The address expression lies in the CIDR block (a single address: equality).
    InCidr(Expr, Cidr),
    /// `e <op> value` for an integer expression.
    Compare(Expr, Comparison, i64),
}

/// An aggregate value column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aggregate {
    /// `SUM(e)`.
    Sum(Expr),
    /// `COUNT(*)`.
    Count,
    /// `COUNT(DISTINCT e)`.
    CountDistinct(Expr),
    /// `MIN(e)`.
    Min(Expr),
    /// `MAX(e)`.
    Max(Expr),
    /// The number of rows for which the predicate holds.
    CountWhere(Box<Predicate>),
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
        /// Label columns (dimension names) in order.
        labels: Vec<&'static str>,
        /// Label columns of IANA protocol numbers (shown by name).
        protocol_labels: Vec<&'static str>,
        /// The value column (the measure's name).
        value: &'static str,
        /// The value's Grafana unit.
        unit: &'static str,
        /// Bucket width, ms (the frame fills empty buckets with 0).
        bucket_ms: i64,
        /// Keep the top N series and fold the rest into `other`.
        top: Option<u32>,
    },
    /// Rows as they come, one field per column.
    Table {
        /// Epoch-ms columns to show as time fields.
        time_columns: Vec<&'static str>,
        /// Grafana units per column.
        units: Vec<(&'static str, &'static str)>,
        /// Protocol-number columns to show by name (TCP, UDP, …).
        protocol_columns: Vec<&'static str>,
        /// Also count every matching row ([`Plan::counting`]) and report the total.
        count_total: bool,
    },
    /// State changes of entities → per-bucket counts of the state in force
    /// (`frame::state_series_frame`).
    StateOverTime {
        /// Label columns in order.
        labels: Vec<&'static str>,
        /// Value fields to produce.
        fields: &'static [&'static str],
        /// Bucket width, ms.
        bucket_ms: i64,
        /// How far back before the range start the plan looked, days.
        lookback_days: u32,
    },
    /// Grafana annotations (`frame::annotation_frame`).
    Annotations(AnnotationShape),
    /// Hourly volumes per group over the baseline days and the range, scored in `frame/`.
    EgressAnomaly(AnomalyShape),
    /// Last-record times per group, measured against a reference time.
    Coverage {
        /// Key columns, in order.
        keys: Vec<Dimension>,
        /// "Now": the end of the panel's range, epoch ms.
        reference_ms: i64,
        /// Start of the look-back window (a UTC midnight), epoch ms.
        since_ms: i64,
        /// How far back the plan looked, days.
        lookback_days: u32,
        /// Table or alertable series.
        format: CoverageFormat,
        /// Keep only groups silent for more than this many minutes.
        silent_for_minutes: Option<u32>,
    },
}

/// How `frame/` scores hourly egress against its baseline (`frame::egress_anomaly_frames`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnomalyShape {
    /// Key columns, in order.
    pub keys: Vec<Dimension>,
    /// The first baseline day's midnight, epoch ms.
    pub baseline_from_ms: i64,
    /// Baseline days.
    pub baseline_days: u32,
    /// The first hour scored (the range start's hour), epoch ms.
    pub range_from_ms: i64,
    /// The range end, epoch ms (the last hour scored is the one holding it).
    pub to_ms: i64,
    /// The score from which an hour is anomalous.
    pub min_score: u32,
    /// The least egress of an anomalous hour, bytes.
    pub min_bytes: u64,
    /// Most anomalous hours listed.
    pub limit: u32,
    /// Table, band series or score series.
    pub format: AnomalyFormat,
}

/// How `frame/` turns annotation rows into Grafana's annotation fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnotationShape {
    /// Status-change rows (account, region, control, resource, previous and new status, time).
    StatusChanges {
        /// How far back before the range start the plan read findings, days.
        lookback_days: u32,
    },
    /// Single events, one point annotation each: the rows of a kind's event table.
    Events(EventAnnotation),
    /// Gap rows (keys, [`GAP_START`], [`GAP_NEXT`]).
    FlowSilence {
        /// Key columns, in order.
        keys: Vec<Dimension>,
        /// The range end, epoch ms: where a silence still going on ends.
        to_ms: i64,
        /// The shortest silence marked, minutes.
        silent_for_minutes: u32,
        /// How far back before the range start the plan read records, days.
        lookback_days: u32,
    },
}

/// Which event table an [`AnnotationShape::Events`] plan reads, for its annotations' wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventAnnotation {
    /// IAM change calls ([`cloudtrail::IAM_CHANGE_COLUMNS`]).
    IamChanges,
    /// Console sign-ins ([`cloudtrail::AUTH_COLUMNS`]).
    SignIns,
    /// Findings first observed in the range ([`findings::ACTIVE_COLUMNS`]), marked at their
    /// first observation.
    NewFindings,
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
    /// A plain per-row expression (plans without aggregates).
    Row(Expr),
}

/// A condition on a group's aggregate: `aggregate <op> value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Having {
    /// The aggregate compared.
    pub aggregate: Aggregate,
    /// The comparison.
    pub op: Comparison,
    /// The number compared with.
    pub value: i64,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `>`.
    Greater,
    /// `<`.
    Less,
    /// `>=`.
    AtLeast,
}

impl Comparison {
    /// Whether `left <op> right` holds.
    pub fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Comparison::Greater => left > right,
            Comparison::Less => left < right,
            Comparison::AtLeast => left >= right,
        }
    }
}

/// One ORDER BY key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    /// Output alias.
    pub alias: String,
    /// Largest first.
    pub descending: bool,
}

impl OrderKey {
    /// Ascending by `alias`.
    pub fn asc(alias: &str) -> Self {
        OrderKey {
            alias: alias.to_string(),
            descending: false,
        }
    }

    /// Descending by `alias`.
    pub fn desc(alias: &str) -> Self {
        OrderKey {
            alias: alias.to_string(),
            descending: true,
        }
    }
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
    /// Output columns; groups first, then aggregates (or plain rows only).
    pub outputs: Vec<Output>,
    /// One row per side of each flow, [`Expr::SideIp`] standing for the side's address:
    /// `[source, destination]` expressions.
    pub sides: Option<[Expr; 2]>,
    /// Groups are kept when every condition holds (`HAVING`).
    pub having: Vec<Having>,
    /// Per-entity history: the outputs become the inner rows of a windowed query.
    pub history: Option<History>,
    /// Gaps between consecutive rows of each group: the outputs become the inner rows of a
    /// windowed query.
    pub gaps: Option<Gaps>,
    /// Regular contacts per group: the outputs become the contacts of a windowed query.
    pub intervals: Option<Intervals>,
    /// Order by these output aliases.
    pub order_by: Vec<OrderKey>,
    /// Row limit (the row cap plus one, so a cut can be detected).
    pub limit: u64,
    /// How to shape the result.
    pub shape: Shape,
}

/// Which rows of each entity's history a [`History`] plan keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryRows {
    /// The newest row of each entity, with the time its current state began ([`SINCE`]).
    Newest,
    /// The rows where an entity's state differs from its previous row (and its first row).
    Changes,
    /// The rows where an entity's state differs from its previous row, the first row left out:
    /// transitions from one state to another, with the previous state as [`PREVIOUS_STATE`].
    Transitions,
    /// What a day slice of a history returns for the merge ([`crate::plan::slices`]): the rows
    /// that begin a run of one state within the slice (an entity's first row in it, or one whose
    /// state differs from the row before) and every entity's newest row: the plan's outputs,
    /// [`ENTITY`], [`UPDATED`] and [`STATE`] (the history's outer part is left to the merge).
    Runs,
}

/// A gaps query: per group of rows (the plan's outputs, all per-row), each row's time as
/// [`GAP_START`] and the next row's time as [`GAP_NEXT`] (NULL for the group's last row), kept
/// when the gap — to the next row, or to `until_ms` after the last row — is at least
/// `min_gap_ms` long and ends after `ends_after_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gaps {
    /// The row time (epoch ms).
    pub time: Expr,
    /// Where the last row's gap ends (the range end), epoch ms.
    pub until_ms: i64,
    /// Gaps ending at or before this time (the range start) are left out, epoch ms.
    pub ends_after_ms: i64,
    /// The shortest gap kept, ms.
    pub min_gap_ms: i64,
}

/// A regular-contacts query (beaconing): the plan's group outputs are the keys and its
/// aggregates are added up per contact — each distinct row time of a group ([`CONTACT`]);
/// the interval from each contact to the one before ([`INTERVAL`], window `LAG`) is measured,
/// and the groups are kept that have at least `min_contacts` contacts and whose intervals'
/// standard deviation is at most `max_jitter_percent` of their mean. Each group answers its
/// keys, its aggregates added up, [`CONTACTS`], [`FIRST_SEEN`], [`LAST_SEEN`], the mean
/// interval ([`INTERVAL_MS`]) and the standard deviation in percent of it ([`JITTER_PERCENT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervals {
    /// The row time (epoch ms).
    pub time: Expr,
    /// The fewest contacts kept.
    pub min_contacts: u32,
    /// The most the intervals may vary, percent of their mean.
    pub max_jitter_percent: u32,
}

/// Alias of a contact's time.
pub const CONTACT: &str = "contact";
/// Alias of the interval from the contact before.
pub const INTERVAL: &str = "interval_from_previous";
/// Alias of a group's number of contacts.
pub const CONTACTS: &str = "contacts";
/// Alias of a group's mean interval, ms.
pub const INTERVAL_MS: &str = "interval_ms";
/// Alias of a group's interval standard deviation, percent of the mean.
pub const JITTER_PERCENT: &str = "jitter_percent";

/// Alias of the row that starts a gap (its time).
pub const GAP_START: &str = "last_record";
/// Alias of the next row's time after a gap (NULL when none followed).
pub const GAP_NEXT: &str = "next_record";

/// A per-entity history query (findings: every update of a finding is a new row): the plan's
/// outputs plus [`ENTITY`], [`UPDATED`], [`STATE`] and the previous state are computed per row
/// with window functions, then filtered and projected by `outer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The entity key (finding id), as [`ENTITY`].
    pub entity: Expr,
    /// The row time (epoch ms), as [`UPDATED`].
    pub time: Expr,
    /// The state whose changes matter, as [`STATE`].
    pub state: Expr,
    /// Which rows are kept.
    pub rows: HistoryRows,
    /// Conditions on the kept rows, over inner aliases (one-segment column paths).
    pub outer_filters: Vec<Predicate>,
    /// The final columns, over inner aliases; groups and aggregates allowed.
    pub outer: Vec<Output>,
}

/// Alias of a history's entity key.
pub const ENTITY: &str = "finding";
/// Alias of a history row's time.
pub const UPDATED: &str = "updated";
/// Alias of a history row's state.
pub const STATE: &str = "state";
/// Alias of the time the newest row's state began.
pub const SINCE: &str = "since";
/// Alias of a history row's previous state.
pub const PREVIOUS_STATE: &str = "previous_state";

/// Plan-wide choices that come from the datasource settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Source version of the tables.
    pub version: SourceVersion,
    /// Region whose database holds the tables (rollup region).
    pub home_region: String,
    /// The database and table names (settings or discovery).
    pub names: lake::LakeNames,
    /// Most rows a result may carry.
    pub max_rows: u64,
    /// Default look-back of coverage and freshness queries, days.
    pub lookback_days: u32,
}

/// Builds the plan of a panel query.
pub fn plan(query: &PanelQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    match query {
        PanelQuery::Series { query, .. } => plan_flow_volume(query, window, options),
        PanelQuery::Top { query, .. } => plan_top(query, window, options),
        PanelQuery::PortScan(q) => plan_port_scan(q, window, options),
        PanelQuery::EgressAnomaly(q) => baseline::plan_egress_anomaly(q, window, options),
        PanelQuery::Beaconing(q) => baseline::plan_beaconing(q, window, options),
        PanelQuery::FlowSearch(q) => plan_flow_search(q, window, options),
        PanelQuery::Coverage { query, .. } => plan_coverage(query, window, options),
        PanelQuery::ComplianceStatus(q) => compliance::plan_status(q, window, options),
        PanelQuery::ComplianceOverTime(q) => compliance::plan_over_time(q, window, options),
        PanelQuery::Variable(q) => plan_variable(q, window, options),
        PanelQuery::Annotations(q) => annotations::plan(q, window, options),
        PanelQuery::Trail(q) => cloudtrail::plan(q, window, options),
        PanelQuery::Dns(q) => dns::plan(q, window, options),
        PanelQuery::Findings(q) => findings::plan(q, window, options),
        PanelQuery::Waf(q) => waf::plan(q, window, options),
        PanelQuery::DataEvents(q) => data_events::plan(q, window, options),
        PanelQuery::Timeline(part) => timeline::plan(part, window, options),
    }
}

impl Plan {
    /// The plan that counts every row this plan's filters match (`COUNT(*) AS total`), for
    /// tables that show a limited page of a larger result.
    pub fn counting(&self) -> Plan {
        Plan {
            outputs: vec![Output {
                alias: "total".to_string(),
                value: OutputValue::Aggregate(Aggregate::Count),
            }],
            sides: None,
            having: Vec::new(),
            history: None,
            gaps: None,
            intervals: None,
            order_by: Vec::new(),
            limit: 1,
            shape: Shape::Table {
                time_columns: Vec::new(),
                units: Vec::new(),
                protocol_columns: Vec::new(),
                count_total: false,
            },
            ..self.clone()
        }
    }
}

/// One UTC day, ms.
pub const DAY_MS: i64 = 86_400_000;

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

/// The window of a series of buckets `width` wide: whole buckets, the first counting from its
/// own start, not from the range's start, so a series reads the same rows whether it runs in one
/// query or in day slices ([`slices::slice_plan`]), and its first point is not a partial, falsely
/// low one.
fn whole_buckets(window: &TimeWindow, width: i64) -> TimeWindow {
    if DAY_MS % width == 0 {
        let from_ms = window.from.timestamp_millis();
        TimeWindow {
            from: DateTime::from_timestamp_millis(from_ms - from_ms.rem_euclid(width))
                .unwrap_or(window.from),
            ..*window
        }
    } else {
        *window
    }
}

fn plan_flow_volume(fv: &FlowVolume, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let width = bucket_ms(window);
    let aligned = whole_buckets(window, width);
    let scope = flow_scope(&fv.filters, &aligned, options);
    let cols = scope.cols;
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
            value: OutputValue::Group(dimension_expr(*dim, options.version)),
        });
    }
    outputs.push(Output {
        alias: fv.measure.name().to_string(),
        value: OutputValue::Aggregate(measure_aggregate(fv.measure, options.version)),
    });
    // Newest buckets first: when the row cap cuts, it cuts the oldest end of the graph, and the
    // frame leaves those buckets empty instead of showing the newest hours as 0.
    scope.into_plan(
        outputs,
        std::iter::once(OrderKey::desc(TIME_BUCKET))
            .chain(fv.group_by.iter().map(|d| OrderKey::asc(d.name())))
            .collect(),
        options.max_rows + 1,
        Shape::TimeSeries {
            labels: fv.group_by.iter().map(|d| d.name()).collect(),
            protocol_labels: protocol_columns(&fv.group_by),
            value: fv.measure.name(),
            unit: fv.measure.unit(),
            bucket_ms: width,
            top: fv.limit,
        },
    )
}

/// The table, partitions, exact time filter and row filters a plan starts from, with the column
/// map of its source (`FlowColumns`, `FindingColumns`).
struct Scope<C> {
    table: TableRef,
    partitions: PartitionFilter,
    time: TimeFilter,
    filters: Vec<Predicate>,
    cols: C,
}

/// The scope of every flow plan.
type FlowScope = Scope<FlowColumns>;

impl<C> Scope<C> {
    /// What a plan over `source` reads from `from` to `to`: its table, the partitions of those
    /// UTC days in `accounts` and `regions` (empty: all), the exact time filter on the record's
    /// time columns, and the row `filters`.
    fn over(
        source: Source,
        cols: C,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        (accounts, regions): (&[AccountId], &[Region]),
        filters: Vec<Predicate>,
        options: &PlanOptions,
    ) -> Self {
        let record = source.record(options.version);
        Scope {
            table: TableRef {
                source,
                version: options.version,
                home_region: options.home_region.clone(),
                names: options.names.clone(),
            },
            partitions: PartitionFilter {
                days: partitions::utc_days(from, to),
                accounts: accounts.to_vec(),
                regions: regions.to_vec(),
            },
            time: TimeFilter {
                from,
                to,
                time_ms: record.time_ms,
                time_dt: record.time_dt,
            },
            filters,
            cols,
        }
    }

    /// A plan over this scope with no either-side rows, group conditions or history.
    fn into_plan(
        self,
        outputs: Vec<Output>,
        order_by: Vec<OrderKey>,
        limit: u64,
        shape: Shape,
    ) -> Plan {
        Plan {
            table: self.table,
            partitions: self.partitions,
            time: self.time,
            filters: self.filters,
            outputs,
            sides: None,
            having: Vec::new(),
            history: None,
            gaps: None,
            intervals: None,
            order_by,
            limit,
            shape,
        }
    }
}

fn flow_scope(filters: &FlowFilters, window: &TimeWindow, options: &PlanOptions) -> FlowScope {
    Scope::over(
        Source::VpcFlow,
        FlowColumns::of(options.version),
        (window.from, window.to),
        (&filters.accounts, &filters.regions),
        flow_filters(filters, options.version),
        options,
    )
}

/// The alias of a `variable` plan's value column.
pub const VARIABLE_VALUE: &str = "value";

/// Distinct values of one dimension in the range, with their record counts.
fn plan_variable(q: &VariableQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let shape = Shape::Table {
        time_columns: Vec::new(),
        units: Vec::new(),
        protocol_columns: Vec::new(),
        count_total: false,
    };
    let limit = table_limit(q.limit, options);
    let outputs = |value: Expr| {
        vec![
            output(VARIABLE_VALUE, OutputValue::Group(value)),
            output("records", OutputValue::Aggregate(Aggregate::Count)),
        ]
    };
    let order = vec![OrderKey::asc(VARIABLE_VALUE)];
    match q.target {
        VariableTarget::Flow(dim) => {
            let scope = flow_scope(&q.filters, window, options);
            let value = dimension_expr(dim, options.version);
            scope.into_plan(outputs(value), order, limit, shape)
        }
        VariableTarget::Controls => {
            let scope = compliance::control_scope(&q.filters, window, options);
            let value = compliance::control_expr(options.version);
            scope.into_plan(outputs(value), order, limit, shape)
        }
        VariableTarget::Trail(dim) => {
            let filters = crate::query::TrailFilters {
                accounts: q.filters.accounts.clone(),
                regions: q.filters.regions.clone(),
                ..Default::default()
            };
            let scope = cloudtrail::trail_scope(&filters, window, options);
            let value = cloudtrail::trail_dimension_expr(dim, options.version);
            scope.into_plan(outputs(value), order, limit, shape)
        }
        VariableTarget::Dns(dim) => {
            let filters = crate::query::DnsFilters {
                accounts: q.filters.accounts.clone(),
                regions: q.filters.regions.clone(),
                ..Default::default()
            };
            let scope = dns::dns_scope(&filters, window, options);
            let value = dns::dns_dimension_expr(dim, options.version);
            scope.into_plan(outputs(value), order, limit, shape)
        }
        VariableTarget::Finding(dim) => {
            let filters = crate::query::FindingFilters {
                accounts: q.filters.accounts.clone(),
                regions: q.filters.regions.clone(),
                ..Default::default()
            };
            let scope = findings::finding_scope(&filters, window, options);
            let value = findings::finding_dimension_expr(dim, options.version);
            scope.into_plan(outputs(value), order, limit, shape)
        }
        VariableTarget::Waf(dim) => {
            let filters = crate::query::WafFilters {
                accounts: q.filters.accounts.clone(),
                regions: q.filters.regions.clone(),
                ..Default::default()
            };
            let scope = waf::waf_scope(&filters, window, options);
            let value = waf::waf_dimension_expr(dim, options.version);
            scope.into_plan(outputs(value), order, limit, shape)
        }
        VariableTarget::Data(source, dim) => {
            let filters = crate::query::DataFilters {
                accounts: q.filters.accounts.clone(),
                regions: q.filters.regions.clone(),
                ..Default::default()
            };
            let scope = data_events::data_scope(source, &filters, window, options);
            let value = data_events::data_dimension_expr(source, dim, options.version);
            scope.into_plan(outputs(value), order, limit, shape)
        }
    }
}

/// A measure per time bucket and group of one source over `scope` (built over whole buckets of
/// `width_ms`), newest buckets first: a cut by the row cap leaves the oldest end of the graph empty.
/// `groups` are the dimensions' names and expressions, `measure` its name, aggregate and unit.
fn bucketed_series<C>(
    scope: Scope<C>,
    time_ms: Expr,
    width_ms: i64,
    groups: Vec<(&'static str, Expr)>,
    (value, aggregate, unit): (&'static str, Aggregate, &'static str),
    top: Option<u32>,
    options: &PlanOptions,
) -> Plan {
    let bucket = Expr::BucketMs {
        expr: Box::new(time_ms),
        width_ms,
    };
    let labels: Vec<&'static str> = groups.iter().map(|(name, _)| *name).collect();
    let mut outputs = vec![output(TIME_BUCKET, OutputValue::Group(bucket))];
    outputs.extend(
        groups
            .into_iter()
            .map(|(name, expr)| output(name, OutputValue::Group(expr))),
    );
    outputs.push(output(value, OutputValue::Aggregate(aggregate)));
    scope.into_plan(
        outputs,
        std::iter::once(OrderKey::desc(TIME_BUCKET))
            .chain(labels.iter().map(|l| OrderKey::asc(l)))
            .collect(),
        options.max_rows + 1,
        Shape::TimeSeries {
            labels,
            protocol_labels: Vec::new(),
            value,
            unit,
            bucket_ms: width_ms,
            top,
        },
    )
}

/// A user's row limit, capped by the row cap; one more row than the cap is asked for so that
/// a cut can be detected and reported.
pub(super) fn table_limit(limit: u32, options: &PlanOptions) -> u64 {
    let limit = u64::from(limit);
    if limit > options.max_rows {
        options.max_rows + 1
    } else {
        limit
    }
}

pub(crate) fn output(alias: &str, value: OutputValue) -> Output {
    Output {
        alias: alias.to_string(),
        value,
    }
}

/// Every flow measure as an aggregate output, in the order the source describes them.
fn measure_outputs(version: SourceVersion) -> Vec<Output> {
    VPC_FLOW
        .measures
        .iter()
        .map(|m| {
            let aggregate =
                sql_aggregate(m.aggregate.of(version)).expect("flow measures are SQL aggregates");
            output(m.name, OutputValue::Aggregate(aggregate))
        })
        .collect()
}

fn measure_units() -> Vec<(&'static str, &'static str)> {
    VPC_FLOW.measures.iter().map(|m| (m.name, m.unit)).collect()
}

fn protocol_columns(dims: &[Dimension]) -> Vec<&'static str> {
    dims.iter()
        .filter(|d| **d == Dimension::Protocol)
        .map(|d| d.name())
        .collect()
}

/// The alias of the address column of an either-side top-talkers table.
pub const SIDE_IP: &str = "ip";

fn plan_top(q: &TopQuery, window: &TimeWindow, options: &PlanOptions) -> Plan {
    // New groups: read the baseline days too, and keep the groups first seen in the range.
    let read = q
        .baseline_days
        .map_or(*window, |days| baseline::with_baseline(window, days));
    let mut scope = flow_scope(&q.filters, &read, options);
    if let Some(internet) = &q.internet {
        scope
            .filters
            .extend(internet_filters(&scope.cols, internet));
    }
    let time_ms = scope.cols.time_ms;
    let (mut outputs, sides, key_names, dims): (Vec<Output>, _, Vec<&str>, Vec<Dimension>) =
        match &q.keys {
            TopKeys::Dimensions(dims) => (
                dims.iter()
                    .map(|d| {
                        output(
                            d.name(),
                            OutputValue::Group(dimension_expr(*d, options.version)),
                        )
                    })
                    .collect(),
                None,
                dims.iter().map(|d| d.name()).collect(),
                dims.clone(),
            ),
            TopKeys::EitherIp => (
                vec![output(SIDE_IP, OutputValue::Group(Expr::SideIp))],
                Some([
                    Expr::Column(scope.cols.src_ip),
                    Expr::Column(scope.cols.dst_ip),
                ]),
                vec![SIDE_IP],
                Vec::new(),
            ),
        };
    outputs.extend(measure_outputs(options.version));
    let mut time_columns = Vec::new();
    let mut having = Vec::new();
    if q.baseline_days.is_some() {
        let first = Aggregate::Min(Expr::Column(time_ms));
        outputs.push(output(FIRST_SEEN, OutputValue::Aggregate(first.clone())));
        outputs.push(output(
            LAST_SEEN,
            OutputValue::Aggregate(Aggregate::Max(Expr::Column(time_ms))),
        ));
        time_columns = vec![FIRST_SEEN, LAST_SEEN];
        having.push(Having {
            aggregate: first,
            op: Comparison::AtLeast,
            value: window.from.timestamp_millis(),
        });
    }
    let mut plan = scope.into_plan(
        outputs,
        std::iter::once(OrderKey::desc(q.measure.name()))
            .chain(key_names.iter().map(|k| OrderKey::asc(k)))
            .collect(),
        table_limit(q.limit, options),
        Shape::Table {
            time_columns,
            units: measure_units(),
            protocol_columns: protocol_columns(&dims),
            count_total: false,
        },
    );
    plan.sides = sides;
    plan.having = having;
    plan
}

/// The alias of a group's first record time (new groups).
pub const FIRST_SEEN: &str = "first_seen";

/// Flows whose peer on one side is an internet address: a real address (not NULL or `-`)
/// outside the special-purpose blocks and the user's own.
fn internet_filters(cols: &FlowColumns, internet: &InternetPeer) -> Vec<Predicate> {
    let peer = match internet.side {
        PeerSide::Source => cols.src_ip,
        PeerSide::Destination => cols.dst_ip,
    };
    vec![
        in_blocks(Expr::Column(peer), &any_address()),
        not_in_blocks(Expr::Column(peer), &internet_excluded(&internet.own)),
    ]
}

fn plan_port_scan(q: &PortScan, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let scope = flow_scope(&q.filters, window, options);
    let mut outputs = Vec::new();
    let mut order_by = Vec::new();
    let mut time_columns = vec!["first_seen", "last_seen"];
    if let Some(minutes) = q.window_minutes {
        outputs.push(output(
            "window_start",
            OutputValue::Group(Expr::BucketMs {
                expr: Box::new(Expr::Column(scope.cols.time_ms)),
                width_ms: i64::from(minutes) * 60_000,
            }),
        ));
        time_columns.insert(0, "window_start");
    }
    let cols = scope.cols;
    outputs.push(output(
        "src_ip",
        OutputValue::Group(Expr::Column(cols.src_ip)),
    ));
    let ports = Aggregate::CountDistinct(Expr::Column(cols.dst_port));
    let hosts = Aggregate::CountDistinct(Expr::Column(cols.dst_ip));
    outputs.push(output("ports", OutputValue::Aggregate(ports.clone())));
    outputs.push(output("hosts", OutputValue::Aggregate(hosts.clone())));
    outputs.push(output("flows", OutputValue::Aggregate(Aggregate::Count)));
    outputs.push(output(
        "first_seen",
        OutputValue::Aggregate(Aggregate::Min(Expr::Column(scope.cols.time_ms))),
    ));
    outputs.push(output(
        "last_seen",
        OutputValue::Aggregate(Aggregate::Max(Expr::Column(scope.cols.time_ms))),
    ));
    let (counted, alias) = match q.target {
        ScanTarget::Ports => (ports, "ports"),
        ScanTarget::Hosts => (hosts, "hosts"),
    };
    order_by.push(OrderKey::desc(alias));
    if q.window_minutes.is_some() {
        order_by.push(OrderKey::asc("window_start"));
    }
    order_by.push(OrderKey::asc("src_ip"));
    let mut plan = scope.into_plan(
        outputs,
        order_by,
        table_limit(q.limit, options),
        Shape::Table {
            time_columns,
            units: vec![("flows", "short"), ("ports", "short"), ("hosts", "short")],
            protocol_columns: Vec::new(),
            count_total: false,
        },
    );
    plan.having = vec![Having {
        aggregate: counted,
        op: Comparison::Greater,
        value: i64::from(q.threshold),
    }];
    plan
}

/// The columns of a flow search, named as in the VPC flow-log format.
pub fn flow_search_columns(version: SourceVersion) -> Vec<(&'static str, Expr)> {
    lake::source::flow_log_fields(version)
        .into_iter()
        .map(|(name, value)| (name, Expr::from(value)))
        .collect()
}

fn plan_flow_search(q: &FlowSearch, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let scope = flow_scope(&q.filters, window, options);
    let outputs = flow_search_columns(options.version)
        .into_iter()
        .map(|(alias, e)| output(alias, OutputValue::Row(e)))
        .collect();
    scope.into_plan(
        outputs,
        // Newest first; the rest only makes ties come out the same on every engine.
        vec![
            OrderKey::desc("start"),
            OrderKey::asc("srcaddr"),
            OrderKey::asc("srcport"),
            OrderKey::asc("dstaddr"),
            OrderKey::asc("dstport"),
            OrderKey::desc("bytes"),
        ],
        table_limit(q.limit, options),
        Shape::Table {
            time_columns: vec!["start", "end"],
            units: vec![("bytes", "decbytes"), ("packets", "short")],
            protocol_columns: Vec::new(),
            count_total: true,
        },
    )
}

/// The alias of the last-record time in coverage results.
pub const LAST_SEEN: &str = "last_seen";

fn plan_coverage(q: &Coverage, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let days = q.lookback_days.unwrap_or(options.lookback_days);
    let reference = window.to;
    // Whole UTC days: from the start of the day `days` before the reference, so the look-back's
    // closed days stay the same while "now" moves (and run as cached day slices).
    let since =
        partitions::day_start((reference - chrono::Duration::days(i64::from(days))).date_naive());
    let lookback = TimeWindow {
        from: since,
        ..*window
    };
    let scope = flow_scope(&q.filters, &lookback, options);
    let mut outputs: Vec<Output> = q
        .group_by
        .iter()
        .map(|d| {
            output(
                d.name(),
                OutputValue::Group(dimension_expr(*d, options.version)),
            )
        })
        .collect();
    let last = Aggregate::Max(Expr::Column(scope.cols.time_ms));
    outputs.push(output(LAST_SEEN, OutputValue::Aggregate(last)));
    outputs.push(output("flows", OutputValue::Aggregate(Aggregate::Count)));
    // The silent filter is applied to the groups in `frame/`, where groups known only from
    // findings (no flow record at all) are added: the engine returns every group (few rows).
    scope.into_plan(
        outputs,
        // The longest-silent first.
        std::iter::once(OrderKey::asc(LAST_SEEN))
            .chain(q.group_by.iter().map(|d| OrderKey::asc(d.name())))
            .collect(),
        options.max_rows + 1,
        Shape::Coverage {
            keys: q.group_by.clone(),
            reference_ms: reference.timestamp_millis(),
            since_ms: since.timestamp_millis(),
            lookback_days: days,
            format: q.format,
            silent_for_minutes: q.silent_for_minutes,
        },
    )
}

/// Every IPv4 and every IPv6 address: what a real address lies in.
fn any_address() -> [Cidr; 2] {
    ["0.0.0.0/0", "::/0"].map(|b| Cidr::parse(b).expect("built-in blocks parse"))
}

/// Blocks that are never internet destinations: the special-purpose ranges plus the user's own.
fn internet_excluded(own: &[Cidr]) -> Vec<Cidr> {
    NON_PUBLIC_BLOCKS
        .iter()
        .map(|b| Cidr::parse(b).expect("built-in blocks parse"))
        .chain(own.iter().copied())
        .collect()
}

/// The row filters of a source's value lists and its address column: one `IN` per list that holds
/// values (an empty list filters nothing), then the address inside `within` and outside
/// `excluded` where those are given.
pub(super) fn list_filters(
    lists: impl IntoIterator<Item = (Expr, Vec<Literal>)>,
    address: Expr,
    within: &[Cidr],
    excluded: &[Cidr],
) -> Vec<Predicate> {
    let mut out: Vec<Predicate> = lists
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(expr, values)| Predicate::In(expr, values))
        .collect();
    if !within.is_empty() {
        out.push(in_blocks(address.clone(), within));
    }
    if !excluded.is_empty() {
        out.push(not_in_blocks(address, excluded));
    }
    out
}

/// One group output per dimension, named as the dimension is named in queries.
pub(super) fn group_outputs<D: Copy>(
    dims: &[D],
    name: impl Fn(D) -> &'static str,
    expr: impl Fn(D) -> Expr,
) -> Vec<Output> {
    dims.iter()
        .map(|d| output(name(*d), OutputValue::Group(expr(*d))))
        .collect()
}

pub(super) fn not_in_blocks(e: Expr, blocks: &[Cidr]) -> Predicate {
    Predicate::Not(Box::new(in_blocks(e, blocks)))
}

/// The address lies in any of the blocks: single addresses as one `IN` list, blocks each by
/// CIDR matching.
pub(super) fn in_blocks(e: Expr, blocks: &[Cidr]) -> Predicate {
    let singles: Vec<Literal> = blocks
        .iter()
        .filter(|b| b.is_single_address())
        .map(|b| Literal::Str(b.addr.to_string()))
        .collect();
    let mut any: Vec<Predicate> = Vec::new();
    if !singles.is_empty() {
        any.push(Predicate::In(e.clone(), singles));
    }
    any.extend(
        blocks
            .iter()
            .filter(|b| !b.is_single_address())
            .map(|b| Predicate::InCidr(e.clone(), *b)),
    );
    if any.len() == 1 {
        any.remove(0)
    } else {
        Predicate::Or(any)
    }
}

/// The aggregate of a flow measure in a version's columns.
fn measure_aggregate(measure: Measure, version: SourceVersion) -> Aggregate {
    let spec = VPC_FLOW.measure(measure.name());
    spec.and_then(|m| sql_aggregate(m.aggregate.of(version)))
        .expect("every flow measure is described as a SQL aggregate")
}

/// A described aggregate as SQL computes it; None for measures `frame/` computes.
pub(crate) fn sql_aggregate(aggregate: MeasureAggregate) -> Option<Aggregate> {
    match aggregate {
        MeasureAggregate::Sum(path) => Some(Aggregate::Sum(Expr::Column(path))),
        MeasureAggregate::Count => Some(Aggregate::Count),
        MeasureAggregate::CountWhere { column, value } => Some(Aggregate::CountWhere(Box::new(
            Predicate::In(Expr::Column(column), vec![Literal::Int(value)]),
        ))),
        MeasureAggregate::CountDistinct(expr) => Some(Aggregate::CountDistinct(expr.into())),
        MeasureAggregate::PercentInState { .. } | MeasureAggregate::CountInState(_) => None,
    }
}

/// The expression of a flow dimension in a version's columns, as the flow source describes it.
pub fn dimension_expr(dim: Dimension, version: SourceVersion) -> Expr {
    VPC_FLOW.dimension_expr(dim.name(), version).into()
}

impl From<ColumnExpr> for Expr {
    /// A source description's expression, one for one.
    fn from(value: ColumnExpr) -> Self {
        match value {
            ColumnExpr::Column(path) => Expr::Column(path),
            ColumnExpr::Partition(column) => Expr::Partition(column),
            ColumnExpr::Coalesce(any) => Expr::Coalesce(any.iter().map(|e| (*e).into()).collect()),
            ColumnExpr::FirstOf { list, field } => Expr::FirstOf { list, field },
            ColumnExpr::FirstItem(list) => Expr::FirstItem(list),
            ColumnExpr::MapValue { map, key } => Expr::MapValue { map, key },
            ColumnExpr::Labels {
                column,
                cases,
                default,
            } => Expr::Labels {
                expr: Box::new(Expr::Column(column)),
                cases: cases.to_vec(),
                default,
            },
            ColumnExpr::Flag {
                column,
                yes,
                no,
                unknown,
            } => Expr::Flag {
                expr: Box::new(Expr::Column(column)),
                yes,
                no,
                unknown,
            },
            ColumnExpr::Segment {
                column,
                separator,
                last,
            } => Expr::Segment {
                expr: Box::new(Expr::Column(column)),
                separator,
                last,
            },
            ColumnExpr::AfterFirst { column, separator } => Expr::AfterFirst {
                expr: Box::new(Expr::Column(column)),
                separator,
            },
            ColumnExpr::ArnPart {
                list,
                field,
                after,
                before,
            } => Expr::Segment {
                expr: Box::new(Expr::Segment {
                    expr: Box::new(Expr::FirstOf { list, field }),
                    separator: after,
                    last: true,
                }),
                separator: before,
                last: false,
            },
        }
    }
}

fn strs<T>(items: &[T], text: impl Fn(&T) -> String) -> Vec<Literal> {
    items.iter().map(|i| Literal::Str(text(i))).collect()
}

fn ints<T>(items: &[T], id: impl Fn(&T) -> i64) -> Vec<Literal> {
    items.iter().map(|i| Literal::Int(id(i))).collect()
}

/// The row filters of the flow kinds in a version's columns.
fn flow_filters(f: &FlowFilters, version: SourceVersion) -> Vec<Predicate> {
    let cols = FlowColumns::of(version);
    let lists = [
        (
            dimension_expr(Dimension::Vpc, version),
            strs(&f.vpcs, |v| v.as_str().to_string()),
        ),
        (
            dimension_expr(Dimension::Subnet, version),
            strs(&f.subnets, |v| v.as_str().to_string()),
        ),
        (
            dimension_expr(Dimension::Eni, version),
            strs(&f.enis, |v| v.as_str().to_string()),
        ),
        (
            Expr::Column(cols.src_port),
            ints(&f.src_ports, |p| i64::from(*p)),
        ),
        (
            Expr::Column(cols.dst_port),
            ints(&f.dst_ports, |p| i64::from(*p)),
        ),
        (
            Expr::Column(cols.protocol),
            ints(&f.protocols, |p| i64::from(p.0)),
        ),
        (
            Expr::Column(cols.action_id),
            ints(f.action.as_slice(), |a| i64::from(a.id())),
        ),
        (
            Expr::Column(cols.direction_id),
            ints(f.direction.as_slice(), |d| i64::from(d.id())),
        ),
        (
            Expr::Column(cols.boundary_id),
            ints(&f.boundaries, |b| i64::from(*b)),
        ),
        (
            dimension_expr(Dimension::SrcAwsService, version),
            strs(&f.src_aws_services, String::clone),
        ),
        (
            dimension_expr(Dimension::DstAwsService, version),
            strs(&f.dst_aws_services, String::clone),
        ),
    ];
    let mut out: Vec<Predicate> = lists
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(expr, values)| Predicate::In(expr, values))
        .collect();
    out.extend(either_side_filters(f, &cols));
    out
}

/// The filters on ports and addresses of either side of a flow, and on addresses of one side.
fn either_side_filters(f: &FlowFilters, cols: &FlowColumns) -> Vec<Predicate> {
    let (src_ip, dst_ip) = (Expr::Column(cols.src_ip), Expr::Column(cols.dst_ip));
    let mut out = Vec::new();
    if !f.ports.is_empty() {
        let ports = ints(&f.ports, |p| i64::from(*p));
        out.push(Predicate::Or(vec![
            Predicate::In(Expr::Column(cols.src_port), ports.clone()),
            Predicate::In(Expr::Column(cols.dst_port), ports),
        ]));
    }
    if !f.src_ips.is_empty() {
        out.push(in_blocks(src_ip.clone(), &f.src_ips));
    }
    if !f.dst_ips.is_empty() {
        out.push(in_blocks(dst_ip.clone(), &f.dst_ips));
    }
    if !f.ips.is_empty() {
        out.push(Predicate::Or(vec![
            in_blocks(src_ip.clone(), &f.ips),
            in_blocks(dst_ip.clone(), &f.ips),
        ]));
    }
    if !f.exclude_ips.is_empty() {
        out.push(not_in_blocks(src_ip, &f.exclude_ips));
        out.push(not_in_blocks(dst_ip, &f.exclude_ips));
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
