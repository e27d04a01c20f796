//! AWS CloudTrail data events (tables `…_s3_data_1_0` / `_2_0` and `…_lambda_execution_1_0` /
//! `_2_0`): object-level S3 calls (`GetObject`, `PutObject`, `DeleteObject`, …) and Lambda
//! `Invoke` calls. Security Lake writes them with the mapping of the management events — the same
//! OCSF API Activity class (v1 3005, v2 6003) and the same caller, operation, address and outcome
//! columns ([`TrailColumns`]) — plus the resources a call touched, whose first ARN names the
//! bucket (or object) and the function.
//!
//! Where every path comes from and which are uncertain is in `docs/sources.md`.

use super::cloud_trail_mgmt::{OUTCOME, PRINCIPAL, V1, V2};
use super::{
    ColumnExpr, ColumnPath, DemoGenerator, DimensionSpec, MeasureAggregate, MeasureSpec,
    PartitionColumn, RecordColumns, Source, SourceSpec, SourceVersion, TrailColumns, Versioned,
    BOTH_VERSIONS, FAILURE, LAKE_PARTITIONS,
};

/// The CloudTrail data events of S3 objects.
pub static S3_DATA: SourceSpec = SourceSpec {
    source: Source::S3Data,
    api_name: "S3_DATA",
    table_part: "s3_data",
    partitions: LAKE_PARTITIONS,
    record: RECORD,
    dimensions: &S3_DIMENSIONS,
    measures: &S3_MEASURES,
    demo: DemoGenerator::S3Data,
    optional: true,
    versions: BOTH_VERSIONS,
};

/// The CloudTrail data events of Lambda functions.
pub static LAMBDA_EXECUTION: SourceSpec = SourceSpec {
    source: Source::LambdaExecution,
    api_name: "LAMBDA_EXECUTION",
    table_part: "lambda_execution",
    partitions: LAKE_PARTITIONS,
    record: RECORD,
    dimensions: &LAMBDA_DIMENSIONS,
    measures: &LAMBDA_MEASURES,
    demo: DemoGenerator::Lambda,
    optional: true,
    versions: BOTH_VERSIONS,
};

/// Where the data-event concepts live in a version's columns: the management events' columns,
/// the resources list and the activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataColumns {
    /// The caller, operation, address and outcome, as in the management events.
    pub trail: TrailColumns,
    /// The resources the call touched (`resources`: CloudTrail's `resources`, each `uid` an ARN,
    /// `type` such as `AWS::S3::Object`).
    pub resources: ColumnPath,
    /// The OCSF activity id (Create 1, Read 2, Update 3, Delete 4).
    pub activity_id: ColumnPath,
}

impl DataColumns {
    /// The column map of a version.
    pub fn of(version: SourceVersion) -> Self {
        DataColumns {
            trail: TrailColumns::of(version),
            resources: RESOURCES,
            activity_id: ACTIVITY_ID,
        }
    }
}

const RESOURCES: ColumnPath = &["resources"];
const ACTIVITY_ID: ColumnPath = &["activity_id"];

/// The OCSF activity id of a read (`GetObject`, `HeadObject`).
pub const S3_READ: i64 = 2;

const RECORD: Versioned<RecordColumns> = Versioned {
    v1: RecordColumns {
        time_ms: V1.time_ms,
        time_dt: V1.time_dt,
        account_uid: V1.account_uid,
        region: V1.region,
    },
    v2: RecordColumns {
        time_ms: V2.time_ms,
        time_dt: V2.time_dt,
        account_uid: V2.account_uid,
        region: V2.region,
    },
};

/// The bucket: the first resource's ARN (`arn:aws:s3:::bucket/key` or `arn:aws:s3:::bucket`)
/// after `:::`, up to the key.
const BUCKET: ColumnExpr = ColumnExpr::ArnPart {
    list: RESOURCES,
    field: "uid",
    after: ":::",
    before: "/",
};

/// The function: the first resource's ARN (`arn:aws:lambda:…:function:name[:qualifier]`) after
/// `:function:`, without a version or alias.
const FUNCTION: ColumnExpr = ColumnExpr::ArnPart {
    list: RESOURCES,
    field: "uid",
    after: ":function:",
    before: ":",
};

/// `read` / `write`, from the activity (reads are Read 2; Create, Update and Delete write).
const ACCESS: ColumnExpr = ColumnExpr::Labels {
    column: ACTIVITY_ID,
    cases: &[(1, "write"), (S3_READ, "read"), (3, "write"), (4, "write")],
    default: "other",
};

/// A dimension in the same place in both versions.
const fn same(
    name: &'static str,
    aliases: &'static [&'static str],
    about: &'static str,
    expr: ColumnExpr,
) -> DimensionSpec {
    DimensionSpec {
        name,
        aliases,
        about,
        expr: Versioned::same(expr),
    }
}

/// A dimension that is one column of each version's [`TrailColumns`].
macro_rules! column_dimension {
    ($name:literal, $aliases:expr, $about:literal, $field:ident) => {
        DimensionSpec {
            name: $name,
            aliases: $aliases,
            about: $about,
            expr: Versioned {
                v1: ColumnExpr::Column(V1.$field),
                v2: ColumnExpr::Column(V2.$field),
            },
        }
    };
}

const ACCOUNT: DimensionSpec = same(
    "account",
    &[],
    "AWS account id (the account whose trail recorded the call)",
    ColumnExpr::Partition(PartitionColumn::AccountId),
);
const REGION: DimensionSpec = same(
    "region",
    &[],
    "AWS region",
    ColumnExpr::Partition(PartitionColumn::Region),
);
const CALLER: DimensionSpec = DimensionSpec {
    name: "principal",
    aliases: &["arn"],
    about: "the caller's ARN, or the AWS service that called (invokedBy)",
    expr: PRINCIPAL,
};
const PRINCIPAL_TYPE: DimensionSpec = column_dimension!(
    "principal_type",
    &["identity_type"],
    "IAMUser, AssumedRole, Root, AWSService, …",
    principal_type
);
const ACCESS_KEY: DimensionSpec = column_dimension!(
    "access_key",
    &["credential"],
    "the access key the call was signed with",
    access_key
);
const SRC_IP: DimensionSpec = column_dimension!("src_ip", &[], "the caller's address", src_ip);
const USER_AGENT: DimensionSpec =
    column_dimension!("user_agent", &[], "the caller's user agent", user_agent);
const OUTCOME_DIMENSION: DimensionSpec = same("outcome", &["status"], "Success / Failure", OUTCOME);
const ERROR_CODE: DimensionSpec = column_dimension!(
    "error_code",
    &["error"],
    "the error of a failed call (AccessDenied)",
    error_code
);

/// The S3 data-event dimensions, in documentation order.
static S3_DIMENSIONS: [DimensionSpec; 12] = [
    ACCOUNT,
    REGION,
    same(
        "bucket",
        &["bucket_name"],
        "the bucket (from the first resource's ARN)",
        BUCKET,
    ),
    column_dimension!(
        "operation",
        &["event_name"],
        "the S3 operation (GetObject, PutObject, DeleteObject, …)",
        operation
    ),
    same("access", &["read_write"], "read or write", ACCESS),
    CALLER,
    PRINCIPAL_TYPE,
    ACCESS_KEY,
    SRC_IP,
    USER_AGENT,
    OUTCOME_DIMENSION,
    ERROR_CODE,
];

/// The Lambda data-event dimensions, in documentation order.
static LAMBDA_DIMENSIONS: [DimensionSpec; 11] = [
    ACCOUNT,
    REGION,
    same(
        "function",
        &["function_name"],
        "the function invoked (from the first resource's ARN, without a version or alias)",
        FUNCTION,
    ),
    column_dimension!(
        "operation",
        &["event_name"],
        "the Lambda operation (Invoke)",
        operation
    ),
    CALLER,
    PRINCIPAL_TYPE,
    ACCESS_KEY,
    SRC_IP,
    USER_AGENT,
    OUTCOME_DIMENSION,
    ERROR_CODE,
];

/// The measures both sources count, the first named per source.
const fn measures(events: &'static str, about: &'static str) -> [MeasureSpec; 4] {
    [
        MeasureSpec {
            name: events,
            about,
            aggregate: Versioned::same(MeasureAggregate::Count),
            unit: "short",
        },
        MeasureSpec {
            name: "failures",
            about: "the calls that failed (an error code)",
            aggregate: Versioned::same(MeasureAggregate::CountWhere {
                column: &["status_id"],
                value: FAILURE,
            }),
            unit: "short",
        },
        MeasureSpec {
            name: "principals",
            about: "distinct callers (principals)",
            aggregate: Versioned {
                v1: MeasureAggregate::CountDistinct(PRINCIPAL.v1),
                v2: MeasureAggregate::CountDistinct(PRINCIPAL.v2),
            },
            unit: "short",
        },
        MeasureSpec {
            name: "source_ips",
            about: "distinct caller addresses",
            aggregate: Versioned::same(MeasureAggregate::CountDistinct(ColumnExpr::Column(
                V1.src_ip,
            ))),
            unit: "short",
        },
    ]
}

/// The S3 data-event measures, in documentation order.
static S3_MEASURES: [MeasureSpec; 4] = measures("requests", "the number of object calls");

/// The Lambda data-event measures, in documentation order.
static LAMBDA_MEASURES: [MeasureSpec; 4] = measures("invocations", "the number of invocations");
