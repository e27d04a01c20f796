//! Amazon EKS audit logs (`EKS_AUDIT`, table `…_eks_audit_2_0`): every request to a cluster's
//! Kubernetes API server, OCSF API Activity (6003) in OCSF 1.1.0. Security Lake collects them in
//! source version 2 only. Lakewatch reads them through raw SQL (`$__table(eks_audit)`, pruned by
//! `$__partitionFilter`): the description names the table, its partitions and its record
//! columns, and no dimensions or measures, so no panel kind reads it.

use super::{
    DemoGenerator, RecordColumns, Source, SourceSpec, SourceVersion, Versioned, LAKE_PARTITIONS,
};

/// The EKS audit logs source.
pub static EKS_AUDIT: SourceSpec = SourceSpec {
    source: Source::EksAudit,
    api_name: "EKS_AUDIT",
    table_part: "eks_audit",
    partitions: LAKE_PARTITIONS,
    // One map for both versions because every description has one; `versions` keeps v1 unread.
    record: Versioned::same(RecordColumns {
        time_ms: &["time"],
        time_dt: Some(&["time_dt"]),
        account_uid: &["cloud", "account", "uid"],
        region: &["cloud", "region"],
    }),
    dimensions: &[],
    measures: &[],
    demo: DemoGenerator::Absent,
    optional: true,
    versions: &[SourceVersion::V2],
};
