//! The Security Lake catalogue: database and table names per region and source version, and
//! where each flow-log concept lives in the OCSF columns of each version.

pub mod catalog;
pub mod discovery;
pub mod estimate;
pub mod listing;

use std::fmt;

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

/// A Security Lake log source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Amazon VPC flow logs (`VPC_FLOW`, OCSF Network Activity 4001).
    VpcFlow,
    /// Security Hub findings (`SH_FINDINGS`; v1 Security Finding 2001, v2 Compliance Finding 2003
    /// and its siblings).
    ShFindings,
}

impl Source {
    /// The table-name part (`vpc_flow`).
    pub fn table_part(self) -> &'static str {
        match self {
            Source::VpcFlow => "vpc_flow",
            Source::ShFindings => "sh_findings",
        }
    }

    /// The record's own account-id and region columns in a version (what queries that ignore
    /// partitions filter on).
    pub fn account_and_region(self, version: SourceVersion) -> (ColumnPath, ColumnPath) {
        match self {
            Source::VpcFlow => {
                let cols = FlowColumns::of(version);
                (cols.account_uid, cols.region)
            }
            Source::ShFindings => {
                let cols = FindingColumns::of(version);
                (cols.account_uid, cols.region)
            }
        }
    }

    /// The API source name, which is also the S3 folder (`VPC_FLOW`).
    pub fn api_name(self) -> &'static str {
        match self {
            Source::VpcFlow => "VPC_FLOW",
            Source::ShFindings => "SH_FINDINGS",
        }
    }
}

/// Glue database name for a region: `amazon_security_lake_glue_db_us_east_1`.
pub fn database_name(region: &str) -> String {
    format!("amazon_security_lake_glue_db_{}", region.replace('-', "_"))
}

/// Table name: `amazon_security_lake_table_us_east_1_vpc_flow_2_0`.
pub fn table_name(region: &str, source: Source, version: SourceVersion) -> String {
    format!(
        "amazon_security_lake_table_{}_{}_{}",
        region.replace('-', "_"),
        source.table_part(),
        version.suffix()
    )
}

/// Where a datasource's Security Lake tables are in Glue: a database and a table per source,
/// each `None` for Security Lake's own name. The settings fill in what the admin names; the
/// discovery ([`discovery`]) fills in what it found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LakeNames {
    /// The Glue database (`database`).
    pub database: Option<String>,
    /// The VPC flow table (`tables.vpc_flow`).
    pub vpc_flow: Option<String>,
    /// The Security Hub findings table (`tables.sh_findings`).
    pub sh_findings: Option<String>,
}

impl LakeNames {
    /// The database: the named one, else Security Lake's for the region.
    pub fn database(&self, region: &str) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| database_name(region))
    }

    /// A source's table: the named one, else Security Lake's for the region and version.
    pub fn table(&self, region: &str, source: Source, version: SourceVersion) -> String {
        self.named_table(source)
            .map_or_else(|| table_name(region, source, version), str::to_string)
    }

    /// The table named for a source, if any.
    pub fn named_table(&self, source: Source) -> Option<&str> {
        match source {
            Source::VpcFlow => self.vpc_flow.as_deref(),
            Source::ShFindings => self.sh_findings.as_deref(),
        }
    }

    /// Names a source's table.
    pub fn set_table(&mut self, source: Source, name: Option<String>) {
        match source {
            Source::VpcFlow => self.vpc_flow = name,
            Source::ShFindings => self.sh_findings = name,
        }
    }

    /// Whether nothing is named (Security Lake's own names throughout).
    pub fn is_default(&self) -> bool {
        *self == LakeNames::default()
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

/// Where the flow-log concepts live in the `vpc_flow` columns of a source version.
#[derive(Debug, Clone, Copy)]
pub struct FlowColumns {
    /// Event time as bigint epoch milliseconds (flow start).
    pub time_ms: ColumnPath,
    /// Event time as a timestamp column (v2 only; the Iceberg partition source).
    pub time_dt: Option<ColumnPath>,
    /// Account id inside the record.
    pub account_uid: ColumnPath,
    /// Region inside the record.
    pub region: ColumnPath,
    /// Flow end: bigint epoch ms in v1, a timestamp in v2.
    pub end_time: ColumnPath,
    /// Accept/reject as an id: 1 allowed, 2 denied/blocked.
    pub action_id: ColumnPath,
}

impl FlowColumns {
    /// The column map of a version.
    pub fn of(version: SourceVersion) -> Self {
        match version {
            SourceVersion::V1 => FlowColumns {
                time_ms: &["time"],
                time_dt: None,
                account_uid: &["cloud", "account_uid"],
                region: &["cloud", "region"],
                end_time: &["end_time"],
                action_id: &["disposition_id"],
            },
            SourceVersion::V2 => FlowColumns {
                time_ms: &["time"],
                time_dt: Some(&["time_dt"]),
                account_uid: &["cloud", "account", "uid"],
                region: &["cloud", "region"],
                end_time: &["end_time_dt"],
                action_id: &["action_id"],
            },
        }
    }
}

/// Where the finding concepts live in the `sh_findings` columns of a source version.
#[derive(Debug, Clone, Copy)]
pub struct FindingColumns {
    /// Update time as bigint epoch milliseconds (`UpdatedAt`).
    pub time_ms: ColumnPath,
    /// Update time as a timestamp column (v2 only; the Iceberg partition source).
    pub time_dt: Option<ColumnPath>,
    /// Account id inside the record.
    pub account_uid: ColumnPath,
    /// Region inside the record.
    pub region: ColumnPath,
    /// Finding id: every update of a finding is a new row with the same id.
    pub finding_uid: ColumnPath,
    /// The control id column (v2 only; v1 derives it from the generator id or the title).
    pub control: Option<ColumnPath>,
    /// Generator id, e.g. `security-control/EC2.6` (both versions).
    pub generator: ColumnPath,
    /// Finding title (first word is the control id in v1 titles).
    pub title: ColumnPath,
    /// PASSED / FAILED / WARNING / NOT_AVAILABLE.
    pub status: ColumnPath,
    /// The resource: a struct column in v2 (`resource`), the first element of a list in v1
    /// (`resources[1]`).
    pub resource: ResourceColumn,
    /// The map column holding Security Hub's `RecordState` (ACTIVE / ARCHIVED).
    pub unmapped: ColumnPath,
}

/// Where a finding's resource lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceColumn {
    /// A struct column: the paths of its `uid` and `type` fields.
    Struct {
        /// The resource id (an ARN).
        uid: ColumnPath,
        /// The Security Hub resource type (`AwsEc2Vpc`).
        kind: ColumnPath,
    },
    /// The first element of a list of structs with `type` and `uid` fields.
    FirstOf(ColumnPath),
}

impl FindingColumns {
    /// The column map of a version.
    pub fn of(version: SourceVersion) -> Self {
        match version {
            SourceVersion::V1 => FindingColumns {
                time_ms: &["time"],
                time_dt: None,
                account_uid: &["cloud", "account_uid"],
                region: &["cloud", "region"],
                finding_uid: &["finding", "uid"],
                control: None,
                generator: &["metadata", "product", "feature", "uid"],
                title: &["finding", "title"],
                status: &["compliance", "status"],
                resource: ResourceColumn::FirstOf(&["resources"]),
                unmapped: &["unmapped"],
            },
            SourceVersion::V2 => FindingColumns {
                time_ms: &["time"],
                time_dt: Some(&["time_dt"]),
                account_uid: &["cloud", "account", "uid"],
                region: &["cloud", "region"],
                finding_uid: &["finding_info", "uid"],
                control: Some(&["compliance", "control"]),
                generator: &["metadata", "product", "feature", "uid"],
                title: &["finding_info", "title"],
                status: &["compliance", "status"],
                resource: ResourceColumn::Struct {
                    uid: &["resource", "uid"],
                    kind: &["resource", "type"],
                },
                unmapped: &["unmapped"],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_security_lake_conventions() {
        assert_eq!(
            database_name("us-east-1"),
            "amazon_security_lake_glue_db_us_east_1"
        );
        assert_eq!(
            table_name("eu-west-1", Source::VpcFlow, SourceVersion::V1),
            "amazon_security_lake_table_eu_west_1_vpc_flow_1_0"
        );
    }
}
