//! Security Hub findings (`SH_FINDINGS`, tables `…_sh_findings_1_0` / `_2_0`; v1 Security
//! Finding 2001, v2 Compliance Finding 2003 and its siblings): where each finding concept lives
//! in the OCSF columns of each version.

use super::{
    ColumnExpr, ColumnPath, DemoGenerator, DimensionSpec, MeasureAggregate, MeasureSpec,
    PartitionColumn, RecordColumns, Source, SourceSpec, SourceVersion, Versioned, BOTH_VERSIONS,
    LAKE_PARTITIONS,
};

/// The Security Hub findings source.
pub static SH_FINDINGS: SourceSpec = SourceSpec {
    source: Source::ShFindings,
    api_name: "SH_FINDINGS",
    table_part: "sh_findings",
    partitions: LAKE_PARTITIONS,
    record: Versioned {
        v1: V1.record(),
        v2: V2.record(),
    },
    dimensions: &DIMENSIONS,
    measures: &MEASURES,
    demo: DemoGenerator::Findings,
    optional: false,
    versions: BOTH_VERSIONS,
};

/// Where the finding concepts live in the `sh_findings` columns of a source version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// PASSED / FAILED / WARNING / NOT_AVAILABLE.
    pub status: ColumnPath,
    /// The resource id (an ARN): of the `resource` struct in v2, of the first element of the
    /// `resources` list in v1.
    pub resource_uid: ColumnExpr,
    /// The Security Hub resource type (`AwsEc2Vpc`), beside the resource id.
    pub resource_type: ColumnExpr,
    /// Security Hub's `RecordState` (ACTIVE / ARCHIVED), a key of the `unmapped` map.
    pub record_state: ColumnExpr,
    /// The finding's title.
    pub title: ColumnPath,
    /// The finding types (`Types`, a list of strings); the first is the one shown.
    pub types: ColumnPath,
    /// Security Hub's `ProductName` (GuardDuty, Inspector, Macie, Security Hub, Config).
    pub product: ColumnExpr,
    /// OCSF severity id: 1 Informational … 5 Critical, 6 Fatal.
    pub severity_id: ColumnPath,
    /// The workflow state caption (`Workflow.Status`): New, In Progress, Suppressed, Resolved;
    /// `state` in v1, `status` in v2.
    pub workflow: ColumnPath,
    /// When the finding was first seen, epoch ms (`FirstObservedAt`).
    pub first_seen: ColumnPath,
    /// When the finding was last seen, epoch ms (`LastObservedAt`).
    pub last_seen: ColumnPath,
    /// The OCSF class: 2001 (v1, every finding), 2002, 2003 or 2004 (v2).
    pub class_uid: ColumnPath,
}

impl FindingColumns {
    /// The column map of a version.
    pub fn of(version: SourceVersion) -> Self {
        match version {
            SourceVersion::V1 => V1,
            SourceVersion::V2 => V2,
        }
    }

    /// The record columns every source has.
    const fn record(&self) -> RecordColumns {
        RecordColumns {
            time_ms: self.time_ms,
            time_dt: self.time_dt,
            account_uid: self.account_uid,
            region: self.region,
        }
    }
}

/// v1 (OCSF 1.0.0-rc.2, Security Finding 2001): `finding.*`, a list of `resources`.
const V1: FindingColumns = FindingColumns {
    time_ms: &["time"],
    time_dt: None,
    account_uid: &["cloud", "account_uid"],
    region: &["cloud", "region"],
    finding_uid: &["finding", "uid"],
    status: &["compliance", "status"],
    resource_uid: ColumnExpr::FirstOf {
        list: &["resources"],
        field: "uid",
    },
    resource_type: ColumnExpr::FirstOf {
        list: &["resources"],
        field: "type",
    },
    record_state: RECORD_STATE,
    title: &["finding", "title"],
    types: &["finding", "types"],
    product: PRODUCT,
    severity_id: &["severity_id"],
    workflow: &["state"],
    first_seen: &["finding", "first_seen_time"],
    last_seen: &["finding", "last_seen_time"],
    class_uid: &["class_uid"],
};

/// v2 (OCSF 1.1.0, Compliance Finding 2003): `finding_info.*`, one `resource` struct.
const V2: FindingColumns = FindingColumns {
    time_ms: &["time"],
    time_dt: Some(&["time_dt"]),
    account_uid: &["cloud", "account", "uid"],
    region: &["cloud", "region"],
    finding_uid: &["finding_info", "uid"],
    status: &["compliance", "status"],
    resource_uid: ColumnExpr::Column(&["resource", "uid"]),
    resource_type: ColumnExpr::Column(&["resource", "type"]),
    record_state: RECORD_STATE,
    title: &["finding_info", "title"],
    types: &["finding_info", "types"],
    product: PRODUCT,
    severity_id: &["severity_id"],
    workflow: &["status"],
    first_seen: &["finding_info", "first_seen_time"],
    last_seen: &["finding_info", "last_seen_time"],
    class_uid: &["class_uid"],
};

/// Security Hub's `ProductName`: the product feature's name where the mapping writes it, else
/// the product's name (Security Lake's mapping is not documented field by field; see
/// docs/sources.md).
const PRODUCT: ColumnExpr = ColumnExpr::Coalesce(&[
    ColumnExpr::Column(&["metadata", "product", "feature", "name"]),
    ColumnExpr::Column(&["metadata", "product", "name"]),
]);

/// Where Security Hub's `RecordState` is, in both versions.
const RECORD_STATE: ColumnExpr = ColumnExpr::MapValue {
    map: &["unmapped"],
    key: "RecordState",
};

/// The control id hidden in the generator id: its last `/`-part (`security-control/EC2.6`, or a
/// Config rule's ARN ending in the rule's name).
const FROM_GENERATOR: ColumnExpr = ColumnExpr::Segment {
    column: &["metadata", "product", "feature", "uid"],
    separator: "/",
    last: true,
};

/// The finding's control: v2 has a column for it; both versions can fall back on the generator
/// id, then on the title's first word (v1 titles start with the control id).
const CONTROL: Versioned<ColumnExpr> = Versioned {
    v1: ColumnExpr::Coalesce(&[
        FROM_GENERATOR,
        ColumnExpr::Segment {
            column: &["finding", "title"],
            separator: " ",
            last: false,
        },
    ]),
    v2: ColumnExpr::Coalesce(&[
        ColumnExpr::Column(&["compliance", "control"]),
        FROM_GENERATOR,
        ColumnExpr::Segment {
            column: &["finding_info", "title"],
            separator: " ",
            last: false,
        },
    ]),
};

/// The finding dimensions, in documentation order.
static DIMENSIONS: [DimensionSpec; 3] = [
    DimensionSpec {
        name: "account",
        aliases: &[],
        about: "AWS account id",
        expr: Versioned::same(ColumnExpr::Partition(PartitionColumn::AccountId)),
    },
    DimensionSpec {
        name: "region",
        aliases: &[],
        about: "AWS region",
        expr: Versioned::same(ColumnExpr::Partition(PartitionColumn::Region)),
    },
    DimensionSpec {
        name: "control",
        aliases: &["config_rule"],
        about: "Security Hub control id or Config rule name",
        expr: CONTROL,
    },
];

/// The states a pass rate is a share of: the resources that were evaluated.
const EVALUATED: &[&str] = &["PASSED", "FAILED"];

/// The finding measures, counted over the state in force of every finding (the newest update
/// at or before a time), in documentation order.
static MEASURES: [MeasureSpec; 3] = [
    MeasureSpec {
        name: "pass_rate",
        about: "percent of PASSED among PASSED and FAILED resources",
        aggregate: Versioned::same(MeasureAggregate::PercentInState {
            state: "PASSED",
            among: EVALUATED,
        }),
        unit: "percent",
    },
    MeasureSpec {
        name: "failing",
        about: "resources whose state in force is FAILED",
        aggregate: Versioned::same(MeasureAggregate::CountInState("FAILED")),
        unit: "short",
    },
    MeasureSpec {
        name: "passing",
        about: "resources whose state in force is PASSED",
        aggregate: Versioned::same(MeasureAggregate::CountInState("PASSED")),
        unit: "short",
    },
];

/// OCSF severity ids and their captions (Security Hub's labels map onto 1 to 5).
pub const SEVERITIES: [(i64, &str); 7] = [
    (0, "Unknown"),
    (1, "Informational"),
    (2, "Low"),
    (3, "Medium"),
    (4, "High"),
    (5, "Critical"),
    (6, "Fatal"),
];

/// The OCSF finding classes Security Lake writes Security Hub findings as.
pub const FINDING_CLASSES: [(i64, &str); 4] = [
    (2001, "Security Finding"),
    (2002, "Vulnerability Finding"),
    (2003, "Compliance Finding"),
    (2004, "Detection Finding"),
];

/// The dimensions of the finding kinds (`findings`, `active_findings`) over every finding of
/// the table; the compliance kinds keep [`SH_FINDINGS`]'s own.
pub static FINDING_DIMENSIONS: [DimensionSpec; 8] = [
    DIMENSIONS[0],
    DIMENSIONS[1],
    DimensionSpec {
        name: "severity",
        aliases: &[],
        about: "severity caption of the OCSF severity id",
        expr: Versioned::same(ColumnExpr::Labels {
            column: &["severity_id"],
            cases: &SEVERITIES,
            default: "Unknown",
        }),
    },
    DimensionSpec {
        name: "product",
        aliases: &["product_name"],
        about: "the product that raised the finding (GuardDuty, Inspector, Macie, Security Hub)",
        expr: Versioned::same(PRODUCT),
    },
    DimensionSpec {
        name: "type",
        aliases: &["finding_type"],
        about: "the finding's first type (`TTPs/Command and Control/…`)",
        expr: Versioned {
            v1: ColumnExpr::FirstItem(V1.types),
            v2: ColumnExpr::FirstItem(V2.types),
        },
    },
    DimensionSpec {
        name: "resource",
        aliases: &[],
        about: "the affected resource's id (an ARN)",
        expr: Versioned {
            v1: V1.resource_uid,
            v2: V2.resource_uid,
        },
    },
    DimensionSpec {
        name: "resource_type",
        aliases: &[],
        about: "the affected resource's Security Hub type (AwsEc2Instance)",
        expr: Versioned {
            v1: V1.resource_type,
            v2: V2.resource_type,
        },
    },
    DimensionSpec {
        name: "class",
        aliases: &["class_name"],
        about: "the OCSF finding class",
        expr: Versioned::same(ColumnExpr::Labels {
            column: &["class_uid"],
            cases: &FINDING_CLASSES,
            default: "Other",
        }),
    },
];
