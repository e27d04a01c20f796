//! The Security Lake catalogue: database and table names per region and source version, the
//! tables a lake holds, and the sources Lakewatch reads, each described once ([`source`]).

pub mod catalog;
pub mod discovery;
pub mod estimate;
pub mod listing;
pub mod source;

pub use source::{
    ColumnPath, DataColumns, DnsColumns, FindingColumns, FlowColumns, PartitionColumn, Source,
    SourceVersion, TrailColumns, WafColumns, SOURCES,
};

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
    /// The CloudTrail management events table (`tables.cloud_trail_mgmt`).
    pub cloud_trail_mgmt: Option<String>,
    /// The Route 53 Resolver query logs table (`tables.route53`).
    pub route53: Option<String>,
    /// The AWS WAF logs table (`tables.waf`).
    pub waf: Option<String>,
    /// The S3 data events table (`tables.s3_data`).
    pub s3_data: Option<String>,
    /// The Lambda data events table (`tables.lambda_execution`).
    pub lambda_execution: Option<String>,
    /// The EKS audit logs table (`tables.eks_audit`).
    pub eks_audit: Option<String>,
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
            Source::CloudTrailMgmt => self.cloud_trail_mgmt.as_deref(),
            Source::Route53 => self.route53.as_deref(),
            Source::Waf => self.waf.as_deref(),
            Source::S3Data => self.s3_data.as_deref(),
            Source::LambdaExecution => self.lambda_execution.as_deref(),
            Source::EksAudit => self.eks_audit.as_deref(),
        }
    }

    /// Names a source's table.
    pub fn set_table(&mut self, source: Source, name: Option<String>) {
        match source {
            Source::VpcFlow => self.vpc_flow = name,
            Source::ShFindings => self.sh_findings = name,
            Source::CloudTrailMgmt => self.cloud_trail_mgmt = name,
            Source::Route53 => self.route53 = name,
            Source::Waf => self.waf = name,
            Source::S3Data => self.s3_data = name,
            Source::LambdaExecution => self.lambda_execution = name,
            Source::EksAudit => self.eks_audit = name,
        }
    }

    /// Whether nothing is named (Security Lake's own names throughout).
    pub fn is_default(&self) -> bool {
        *self == LakeNames::default()
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
