//! The Security Lake sources Lakewatch reads, each described once, as data, in a file of its own:
//! its API name and table part, its partition columns, where its records keep their time, account
//! and region in each source version, the dimensions and measures a panel can ask of it (with
//! where each lives per version), and which part of the demo generator writes it. [`SOURCES`]
//! lists the descriptions; adding a source is a file here and a line there.
//!
//! This is the lowest layer of column knowledge: `query/`, `plan/` and `sql/` read it, and it
//! imports none of them. It names the demo generator ([`DemoGenerator`]) instead of importing it,
//! since the generator sits above the lake.

mod cloud_trail_data;
mod cloud_trail_mgmt;
mod eks_audit;
mod route53;
mod sh_findings;
mod vpc_flow;
mod waf;

use std::fmt;

pub use cloud_trail_data::{DataColumns, LAMBDA_EXECUTION, S3_DATA, S3_READ};
pub use cloud_trail_mgmt::{
    TrailColumns, ACCOUNT_CHANGE, API_ACTIVITY, AUTHENTICATION, AUTHENTICATION_CLASS, CLASSES,
    CLOUD_TRAIL_MGMT, FAILURE, PRINCIPAL,
};
pub use eks_audit::EKS_AUDIT;
pub use route53::{DnsColumns, RCODES, ROUTE53};
pub use sh_findings::{
    FindingColumns, FINDING_CLASSES, FINDING_DIMENSIONS, SEVERITIES, SH_FINDINGS,
};
pub use vpc_flow::{flow_log_fields, FlowColumns, VPC_FLOW};
pub use waf::{
    WafColumns, BLOCKED, COLUMNS as WAF_COLUMNS, RATE_BASED, RULE_TYPES, WAF, WAF_ACTIONS,
};

/// Every source Lakewatch reads, in the order lists and messages name them.
pub static SOURCES: [&SourceSpec; 8] = [
    &VPC_FLOW,
    &SH_FINDINGS,
    &CLOUD_TRAIL_MGMT,
    &ROUTE53,
    &WAF,
    &S3_DATA,
    &LAMBDA_EXECUTION,
    &EKS_AUDIT,
];

/// Security Lake source version (the `_1_0` / `_2_0` suffix of a table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceVersion {
    /// OCSF 1.0.0-rc.2 tables (`_1_0`): Hive partitions `region`, `accountid`, `eventday`.
    V1,
    /// OCSF 1.1.0 tables (`_2_0`): Iceberg, partitioned by `time_dt` (day), `region`, `accountid`.
    V2,
}

impl SourceVersion {
    /// The version folder in the S3 layout (`1.0` / `2.0`).
    pub fn dir(self) -> &'static str {
        match self {
            SourceVersion::V1 => "1.0",
            SourceVersion::V2 => "2.0",
        }
    }

    /// The table-name suffix (`1_0` / `2_0`).
    pub fn suffix(self) -> &'static str {
        match self {
            SourceVersion::V1 => "1_0",
            SourceVersion::V2 => "2_0",
        }
    }

    /// Parses `1`, `2`, `1.0`, `2.0`, `v1`, `v2`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "1.0" | "v1" => Some(SourceVersion::V1),
            "2" | "2.0" | "v2" => Some(SourceVersion::V2),
            _ => None,
        }
    }
}

impl fmt::Display for SourceVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceVersion::V1 => "1",
            SourceVersion::V2 => "2",
        })
    }
}

/// A Security Lake log source: the typed key of a description ([`Source::spec`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Amazon VPC flow logs (`VPC_FLOW`, OCSF Network Activity 4001).
    VpcFlow,
    /// Security Hub findings (`SH_FINDINGS`; v1 Security Finding 2001, v2 Compliance Finding 2003
    /// and its siblings).
    ShFindings,
    /// CloudTrail management events (`CLOUD_TRAIL_MGMT`; API Activity, Authentication, Account
    /// Change).
    CloudTrailMgmt,
    /// Route 53 Resolver query logs (`ROUTE53`; DNS Activity 4003).
    Route53,
    /// AWS WAF web ACL logs (`WAF`; HTTP Activity 4002; source version 2 only).
    Waf,
    /// CloudTrail data events of S3 objects (`S3_DATA`; API Activity).
    S3Data,
    /// CloudTrail data events of Lambda functions (`LAMBDA_EXECUTION`; API Activity).
    LambdaExecution,
    /// Amazon EKS audit logs (`EKS_AUDIT`; source version 2 only; raw SQL only).
    EksAudit,
}

impl Source {
    /// The source's description.
    pub fn spec(self) -> &'static SourceSpec {
        match self {
            Source::VpcFlow => &VPC_FLOW,
            Source::ShFindings => &SH_FINDINGS,
            Source::CloudTrailMgmt => &CLOUD_TRAIL_MGMT,
            Source::Route53 => &ROUTE53,
            Source::Waf => &WAF,
            Source::S3Data => &S3_DATA,
            Source::LambdaExecution => &LAMBDA_EXECUTION,
            Source::EksAudit => &EKS_AUDIT,
        }
    }

    /// The table-name part (`vpc_flow`).
    pub fn table_part(self) -> &'static str {
        self.spec().table_part
    }

    /// The API source name, which is also the S3 folder (`VPC_FLOW`).
    pub fn api_name(self) -> &'static str {
        self.spec().api_name
    }

    /// The record's own time, account-id and region columns in a version (what queries that
    /// ignore partitions filter on).
    pub fn record(self, version: SourceVersion) -> RecordColumns {
        self.spec().record.of(version)
    }

    /// Whether Security Lake has a table of this source in `version`.
    pub fn has_version(self, version: SourceVersion) -> bool {
        self.spec().versions.contains(&version)
    }

    /// Ok when the source has a table in `version`; else what the user can do (WAF logs exist
    /// only in source version 2).
    pub fn check_version(self, version: SourceVersion) -> Result<(), String> {
        if self.has_version(version) {
            return Ok(());
        }
        let spec = self.spec();
        let have: Vec<String> = spec.versions.iter().map(|v| v.to_string()).collect();
        Err(format!(
            "{} logs exist only in source version {}: Security Lake has no {}_{} table, and this datasource reads source version {version}; use a datasource set to source version {}",
            spec.api_name,
            have.join(" and "),
            spec.table_part,
            version.suffix(),
            have.join(" or "),
        ))
    }
}

/// Parses a source name (`$__table(…)`, the `allowedSources` and `tables` settings): a table part
/// such as `vpc_flow`, or an API name such as `VPC_FLOW`, in any case, optionally single-quoted.
pub fn parse_source(text: &str) -> Result<Source, String> {
    let text = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(text);
    let lower = text.to_ascii_lowercase();
    SOURCES
        .iter()
        .find(|s| s.table_part == lower || s.api_name.eq_ignore_ascii_case(&lower))
        .map(|s| s.source)
        .ok_or_else(|| format!("expected a Security Lake source: {}", source_names(" or ")))
}

/// The table parts of every source, the last two joined by `last` (`vpc_flow, sh_findings,
/// cloud_trail_mgmt or route53`).
pub fn source_names(last: &str) -> String {
    let names: Vec<&str> = SOURCES.iter().map(|s| s.table_part).collect();
    match names.split_last() {
        Some((tail, [])) => tail.to_string(),
        Some((tail, head)) => format!("{}{last}{tail}", head.join(", ")),
        None => String::new(),
    }
}

/// A column path inside an OCSF table, e.g. `["src_endpoint", "ip"]`.
pub type ColumnPath = &'static [&'static str];

/// The partition columns of a Security Lake table (the same names in v1 and v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartitionColumn {
    /// `region` (string).
    Region,
    /// `accountid` (string); the folder key is `accountId`.
    AccountId,
    /// `eventday` (`'YYYYMMDD'` string); v1 only in Athena, the folder key `eventDay` everywhere.
    EventDay,
}

impl PartitionColumn {
    /// The column name as Glue (and the local engine) names it.
    pub const fn name(self) -> &'static str {
        match self {
            PartitionColumn::Region => "region",
            PartitionColumn::AccountId => "accountid",
            PartitionColumn::EventDay => "eventday",
        }
    }
}

/// A value per source version: each version's tables keep things in other columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versioned<T> {
    /// In the `_1_0` tables (OCSF 1.0.0-rc.2).
    pub v1: T,
    /// In the `_2_0` tables (OCSF 1.1.0).
    pub v2: T,
}

impl<T: Copy> Versioned<T> {
    /// The same value in both versions.
    pub const fn same(value: T) -> Self {
        Versioned {
            v1: value,
            v2: value,
        }
    }

    /// The value of a version.
    pub fn of(&self, version: SourceVersion) -> T {
        match version {
            SourceVersion::V1 => self.v1,
            SourceVersion::V2 => self.v2,
        }
    }
}

/// The columns every source's records have: the event time, the account and the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordColumns {
    /// Event time as bigint epoch milliseconds.
    pub time_ms: ColumnPath,
    /// Event time as a timestamp column (v2 only; the Iceberg partition source).
    pub time_dt: Option<ColumnPath>,
    /// Account id inside the record.
    pub account_uid: ColumnPath,
    /// Region inside the record.
    pub region: ColumnPath,
}

/// Where a value lives in a source's rows: a column, a partition, or a small expression over
/// columns. `plan/` turns it into its own expression one for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnExpr {
    /// A (possibly nested) column.
    Column(ColumnPath),
    /// A partition column (prunes when filtered on).
    Partition(PartitionColumn),
    /// The first of the values that is not NULL (a flow's ENI-side fields are on the source
    /// endpoint for egress, on the destination for ingress).
    Coalesce(&'static [ColumnExpr]),
    /// A field of the first element of a list-of-structs column (NULL when the list is empty).
    FirstOf {
        /// The list column.
        list: ColumnPath,
        /// The struct field.
        field: &'static str,
    },
    /// The first element of a list-of-strings column (NULL when the list is NULL or empty).
    FirstItem(ColumnPath),
    /// The value of a key in a `map<string,string>` column (NULL when absent).
    MapValue {
        /// The map column.
        map: ColumnPath,
        /// The key.
        key: &'static str,
    },
    /// A boolean column shown as labels: `yes` when true, `no` when false, `unknown` when NULL.
    Flag {
        /// The boolean column.
        column: ColumnPath,
        /// The label of true.
        yes: &'static str,
        /// The label of false.
        no: &'static str,
        /// The label of NULL.
        unknown: &'static str,
    },
    /// Integer ids of a column shown as labels, any other id as `default`.
    Labels {
        /// The id column.
        column: ColumnPath,
        /// `(id, label)` pairs.
        cases: &'static [(i64, &'static str)],
        /// The label of any other id.
        default: &'static str,
    },
    /// The first or last piece of a string column split at a separator.
    Segment {
        /// The string column.
        column: ColumnPath,
        /// The separator.
        separator: &'static str,
        /// The last piece (else the first).
        last: bool,
    },
    /// What follows the first separator in a string column (empty when it has none): a DNS
    /// name's parent.
    AfterFirst {
        /// The string column.
        column: ColumnPath,
        /// The separator.
        separator: &'static str,
    },
    /// A piece of the ARN in a field of the first element of a list-of-structs column: what
    /// follows the last `after` up to the first `before` (a bucket of `arn:aws:s3:::bucket/key`,
    /// after `:::` and before `/`).
    ArnPart {
        /// The list column (`resources`).
        list: ColumnPath,
        /// The struct field holding the ARN (`uid`).
        field: &'static str,
        /// What precedes the piece.
        after: &'static str,
        /// What ends the piece.
        before: &'static str,
    },
}

impl ColumnExpr {
    /// Every column path the expression reads (partitions left out).
    pub fn columns(&self) -> Vec<ColumnPath> {
        match self {
            ColumnExpr::Column(path)
            | ColumnExpr::Labels { column: path, .. }
            | ColumnExpr::Flag { column: path, .. }
            | ColumnExpr::Segment { column: path, .. }
            | ColumnExpr::AfterFirst { column: path, .. }
            | ColumnExpr::FirstOf { list: path, .. }
            | ColumnExpr::ArnPart { list: path, .. }
            | ColumnExpr::FirstItem(path)
            | ColumnExpr::MapValue { map: path, .. } => vec![*path],
            ColumnExpr::Partition(_) => Vec::new(),
            ColumnExpr::Coalesce(any) => any.iter().flat_map(ColumnExpr::columns).collect(),
        }
    }
}

/// A dimension of a source: what panels group by, label series with and filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DimensionSpec {
    /// The name in query JSON, in labels and as the result column alias.
    pub name: &'static str,
    /// Other names the query JSON accepts for it.
    pub aliases: &'static [&'static str],
    /// What it is, for people.
    pub about: &'static str,
    /// Where it lives in each version.
    pub expr: Versioned<ColumnExpr>,
}

impl DimensionSpec {
    /// Whether `text` names this dimension (its name or an alias).
    pub fn is_named(&self, text: &str) -> bool {
        self.name == text || self.aliases.contains(&text)
    }
}

/// How a measure adds rows up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasureAggregate {
    /// `SUM` of a column over the matching rows.
    Sum(ColumnPath),
    /// The number of matching rows.
    Count,
    /// The number of matching rows whose integer column holds `value`.
    CountWhere {
        /// The column.
        column: ColumnPath,
        /// The value counted.
        value: i64,
    },
    /// The number of distinct non-NULL values of an expression.
    CountDistinct(ColumnExpr),
    /// Not a SQL aggregate: of the entities (findings) whose state in force is one of `among`,
    /// the percent in `state`, counted by `frame/` from the state histories a plan returns.
    PercentInState {
        /// The state counted.
        state: &'static str,
        /// The states of the entities counted at all.
        among: &'static [&'static str],
    },
    /// Not a SQL aggregate: the entities whose state in force is this one, counted by `frame/`.
    CountInState(&'static str),
}

/// A measure of a source: a number per group or time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasureSpec {
    /// The name in query JSON and of the value column.
    pub name: &'static str,
    /// What it is, for people.
    pub about: &'static str,
    /// How it adds rows up, per version.
    pub aggregate: Versioned<MeasureAggregate>,
    /// Its Grafana unit.
    pub unit: &'static str,
}

/// Which part of the demo generator (`src/demo`) writes a source's records. Named, not imported:
/// the generator imports the lake, so the lake must not import it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoGenerator {
    /// The flow records of the demo topology (`demo::all_records`, written by
    /// `demo::flow_batch`).
    Flows,
    /// The Security Hub findings that go with them (`demo::all_findings`, written by
    /// `demo::findings_batch`).
    Findings,
    /// The CloudTrail management events of the demo accounts (`demo::all_trail_events`, written
    /// by `demo::trail_batch`).
    Trail,
    /// The Route 53 Resolver queries of the demo VPCs (`demo::all_dns_queries`, written by
    /// `demo::dns_batch`).
    Dns,
    /// The WAF requests of the demo accounts' web ACLs (`demo::all_waf_requests`, written by
    /// `demo::waf_batch`).
    Waf,
    /// The CloudTrail data events of the demo buckets (`demo::all_s3_events`, written by
    /// `demo::data_event_batch`).
    S3Data,
    /// The CloudTrail data events of the demo functions (`demo::all_lambda_events`, written by
    /// `demo::data_event_batch`).
    Lambda,
    /// No demo data: the source is described for raw SQL only.
    Absent,
}

/// One Security Lake source, described.
#[derive(Debug)]
pub struct SourceSpec {
    /// Its typed key.
    pub source: Source,
    /// The API source name, also the S3 folder (`VPC_FLOW`).
    pub api_name: &'static str,
    /// The table-name part (`vpc_flow`), also its name in `$__table(…)` and the settings.
    pub table_part: &'static str,
    /// Its partition columns.
    pub partitions: &'static [PartitionColumn],
    /// Where its records keep their time, account and region.
    pub record: Versioned<RecordColumns>,
    /// What panels can group it by, in documentation order.
    pub dimensions: &'static [DimensionSpec],
    /// What panels can count of it, in documentation order.
    pub measures: &'static [MeasureSpec],
    /// Which part of the demo generator writes it.
    pub demo: DemoGenerator,
    /// A lake may lack it: Security Lake collects each source only where an admin enabled it.
    /// The health check requires the tables of the sources that are not optional (VPC flow logs
    /// and Security Hub findings, which every dashboard reads) and reports the others it finds;
    /// a query of a missing optional source fails alone, saying what to enable.
    pub optional: bool,
    /// The source versions Security Lake has a table of it in (WAF: 2 only).
    pub versions: &'static [SourceVersion],
}

/// Both source versions: most sources have a table in each.
const BOTH_VERSIONS: &[SourceVersion] = &[SourceVersion::V1, SourceVersion::V2];

impl SourceSpec {
    /// The dimension of that name or alias.
    pub fn dimension(&self, text: &str) -> Option<&'static DimensionSpec> {
        self.dimensions.iter().find(|d| d.is_named(text))
    }

    /// The measure of that name.
    pub fn measure(&self, name: &str) -> Option<&'static MeasureSpec> {
        self.measures.iter().find(|m| m.name == name)
    }

    /// Where a dimension lives in a version. A dimension the description lacks is a programming
    /// error (the typed keys of `query/` are checked against the descriptions by tests).
    pub fn dimension_expr(&self, name: &str, version: SourceVersion) -> ColumnExpr {
        self.dimension(name)
            .unwrap_or_else(|| panic!("{} describes no dimension {name}", self.table_part))
            .expr
            .of(version)
    }
}

/// The partition columns of every Security Lake table.
const LAKE_PARTITIONS: &[PartitionColumn] = &[
    PartitionColumn::Region,
    PartitionColumn::AccountId,
    PartitionColumn::EventDay,
];

#[cfg(test)]
mod tests;
