//! AWS CloudTrail management events (`CLOUD_TRAIL_MGMT`, tables `…_cloud_trail_mgmt_1_0` /
//! `_2_0`): every API call and console sign-in CloudTrail records, one table whose rows are of
//! three OCSF classes — API Activity (v1 3005, v2 6003), Authentication (3002: console sign-ins)
//! and Account Change (3001: users and roles created, deleted, policies attached) — and where each
//! concept lives in the columns of each version.
//!
//! Where every path comes from (AWS's mapping and sample queries, the OCSF schema of each
//! version) is in `docs/sources.md`.

use super::{
    ColumnExpr, ColumnPath, DemoGenerator, DimensionSpec, MeasureAggregate, MeasureSpec,
    PartitionColumn, RecordColumns, Source, SourceSpec, SourceVersion, Versioned, BOTH_VERSIONS,
    LAKE_PARTITIONS,
};

/// The CloudTrail management events source.
pub static CLOUD_TRAIL_MGMT: SourceSpec = SourceSpec {
    source: Source::CloudTrailMgmt,
    api_name: "CLOUD_TRAIL_MGMT",
    table_part: "cloud_trail_mgmt",
    partitions: LAKE_PARTITIONS,
    record: Versioned {
        v1: V1.record(),
        v2: V2.record(),
    },
    dimensions: &DIMENSIONS,
    measures: &MEASURES,
    demo: DemoGenerator::Trail,
    optional: true,
    versions: BOTH_VERSIONS,
};

/// Where the CloudTrail concepts live in the `cloud_trail_mgmt` columns of a source version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrailColumns {
    /// Event time as bigint epoch milliseconds (`eventTime`).
    pub time_ms: ColumnPath,
    /// Event time as a timestamp column (v2 only; the Iceberg partition source).
    pub time_dt: Option<ColumnPath>,
    /// The caller's account id (`userIdentity.accountId`).
    pub account_uid: ColumnPath,
    /// Region of the call (`awsRegion`).
    pub region: ColumnPath,
    /// OCSF class id: which of API Activity, Authentication and Account Change the row is.
    pub class_uid: ColumnPath,
    /// The service called (`eventSource`, `iam.amazonaws.com`).
    pub service: ColumnPath,
    /// The operation called (`eventName`, `CreateAccessKey`).
    pub operation: ColumnPath,
    /// The error code of a failed call (`errorCode`, `AccessDenied`); NULL when it succeeded.
    pub error_code: ColumnPath,
    /// The error message of a failed call (`errorMessage`).
    pub error_message: ColumnPath,
    /// The outcome as an id: 1 success, 2 failure.
    pub status_id: ColumnPath,
    /// The caller's ARN (`userIdentity.arn`): the principal.
    pub principal: ColumnPath,
    /// The caller's principal id (`userIdentity.principalId`, `AIDA…`).
    pub principal_id: ColumnPath,
    /// The caller's user name (`userIdentity.userName`; IAM users).
    pub principal_name: ColumnPath,
    /// The caller's identity type (`userIdentity.type`: `IAMUser`, `AssumedRole`, `Root`,
    /// `AWSService`, …).
    pub principal_type: ColumnPath,
    /// The access key the call was signed with (`userIdentity.accessKeyId`).
    pub access_key: ColumnPath,
    /// The role or user whose temporary credentials the caller used
    /// (`userIdentity.sessionContext.sessionIssuer.arn`).
    pub session_issuer: ColumnPath,
    /// Whether the caller's session was authenticated with MFA
    /// (`userIdentity.sessionContext.attributes.mfaAuthenticated`).
    pub session_mfa: ColumnPath,
    /// The AWS service that made the call on the caller's behalf (`userIdentity.invokedBy`).
    pub invoked_by: ColumnPath,
    /// The caller's address (`sourceIPAddress` when it is one).
    pub src_ip: ColumnPath,
    /// The calling service's name (`sourceIPAddress` when it is a service such as
    /// `ec2.amazonaws.com`).
    pub src_domain: ColumnPath,
    /// The caller's user agent (`userAgent`).
    pub user_agent: ColumnPath,
    /// Whether a console sign-in used MFA (`additionalEventData.MFAUsed`; Authentication rows).
    pub mfa: ColumnPath,
    /// The user (or role) a sign-in or an account change is about (`requestParameters.userName`,
    /// `roleName`, …; Authentication and Account Change rows).
    pub target_user: ColumnPath,
    /// The request id (`requestID`).
    pub request_uid: ColumnPath,
    /// The event id (`eventID`).
    pub event_uid: ColumnPath,
}

impl TrailColumns {
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

/// v1 (OCSF 1.0.0-rc.2): the user's ARN in `uuid` and its principal id in `uid`,
/// `account_uid`, the MFA flags named `mfa`.
pub(super) const V1: TrailColumns = TrailColumns {
    time_ms: &["time"],
    time_dt: None,
    account_uid: &["actor", "user", "account_uid"],
    region: &["cloud", "region"],
    class_uid: &["class_uid"],
    service: &["api", "service", "name"],
    operation: &["api", "operation"],
    error_code: &["api", "response", "error"],
    error_message: &["api", "response", "message"],
    status_id: &["status_id"],
    principal: &["actor", "user", "uuid"],
    principal_id: &["actor", "user", "uid"],
    principal_name: &["actor", "user", "name"],
    principal_type: &["actor", "user", "type"],
    access_key: &["actor", "user", "credential_uid"],
    session_issuer: &["actor", "session", "issuer"],
    session_mfa: &["actor", "session", "mfa"],
    invoked_by: &["actor", "invoked_by"],
    src_ip: &["src_endpoint", "ip"],
    src_domain: &["src_endpoint", "domain"],
    user_agent: &["http_request", "user_agent"],
    mfa: &["mfa"],
    target_user: &["user", "name"],
    request_uid: &["api", "request", "uid"],
    event_uid: &["metadata", "uid"],
};

/// v2 (OCSF 1.1.0): what differs from v1 — `time_dt`, the ARN in `uid` and the principal id in
/// `uid_alt`, the account as an object, the MFA flags named `is_mfa`.
pub(super) const V2: TrailColumns = TrailColumns {
    time_dt: Some(&["time_dt"]),
    account_uid: &["actor", "user", "account", "uid"],
    principal: &["actor", "user", "uid"],
    principal_id: &["actor", "user", "uid_alt"],
    session_mfa: &["actor", "session", "is_mfa"],
    mfa: &["is_mfa"],
    ..V1
};

/// The OCSF classes of the table's rows, by version: API Activity moved from the Audit
/// category (3005) to Application Activity (6003) in OCSF 1.0.
pub const CLASSES: Versioned<&[(i64, &str)]> = Versioned {
    v1: &[
        (3005, API_ACTIVITY),
        (3002, AUTHENTICATION),
        (3001, ACCOUNT_CHANGE),
    ],
    v2: &[
        (6003, API_ACTIVITY),
        (3002, AUTHENTICATION),
        (3001, ACCOUNT_CHANGE),
    ],
};

/// The class label of API calls.
pub const API_ACTIVITY: &str = "API Activity";
/// The class label of console sign-ins.
pub const AUTHENTICATION: &str = "Authentication";
/// The class label of user and role changes.
pub const ACCOUNT_CHANGE: &str = "Account Change";

/// The OCSF class id of Authentication (console sign-ins) in both versions.
pub const AUTHENTICATION_CLASS: i64 = 3002;

/// The outcome id of a failed call.
pub const FAILURE: i64 = 2;

/// Who called: the caller's ARN, or for calls an AWS service made on the account's behalf (they
/// have no ARN), the service (`invokedBy`).
pub const PRINCIPAL: Versioned<ColumnExpr> = Versioned {
    v1: ColumnExpr::Coalesce(&[
        ColumnExpr::Column(V1.principal),
        ColumnExpr::Column(V1.invoked_by),
    ]),
    v2: ColumnExpr::Coalesce(&[
        ColumnExpr::Column(V2.principal),
        ColumnExpr::Column(V2.invoked_by),
    ]),
};

/// `Success` / `Failure`, from a version's status id.
pub(super) const OUTCOME: ColumnExpr = ColumnExpr::Labels {
    column: &["status_id"],
    cases: &[(1, "Success"), (FAILURE, "Failure")],
    default: "Unknown",
};

/// `yes` / `no` (`unknown` when the record does not say), from a boolean column.
const fn yes_no(column: ColumnPath) -> ColumnExpr {
    ColumnExpr::Flag {
        column,
        yes: "yes",
        no: "no",
        unknown: "unknown",
    }
}

/// A dimension that lives in the same place in both versions.
const fn dimension(
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

/// The CloudTrail dimensions, in documentation order.
static DIMENSIONS: [DimensionSpec; 15] = [
    dimension(
        "account",
        &[],
        "AWS account id (the account whose trail recorded the call)",
        ColumnExpr::Partition(PartitionColumn::AccountId),
    ),
    dimension(
        "region",
        &[],
        "AWS region",
        ColumnExpr::Partition(PartitionColumn::Region),
    ),
    column_dimension!(
        "service",
        &["event_source"],
        "the service called (iam.amazonaws.com)",
        service
    ),
    column_dimension!(
        "operation",
        &["event_name"],
        "the operation called (CreateAccessKey)",
        operation
    ),
    DimensionSpec {
        name: "principal",
        aliases: &["arn"],
        about: "the caller's ARN, or the AWS service that called (invokedBy)",
        expr: PRINCIPAL,
    },
    column_dimension!(
        "principal_name",
        &["user_name"],
        "the caller's user name (IAM users)",
        principal_name
    ),
    column_dimension!(
        "principal_type",
        &["identity_type"],
        "IAMUser, AssumedRole, Root, AWSService, …",
        principal_type
    ),
    column_dimension!(
        "access_key",
        &["credential"],
        "the access key the call was signed with",
        access_key
    ),
    column_dimension!(
        "session_issuer",
        &["role"],
        "the role (or user) whose temporary credentials the caller used",
        session_issuer
    ),
    column_dimension!("src_ip", &[], "the caller's address", src_ip),
    column_dimension!("user_agent", &[], "the caller's user agent", user_agent),
    dimension("outcome", &["status"], "Success / Failure", OUTCOME),
    column_dimension!(
        "error_code",
        &["error"],
        "the error of a failed call (AccessDenied)",
        error_code
    ),
    DimensionSpec {
        name: "class",
        aliases: &[],
        about: "API Activity / Authentication / Account Change",
        expr: Versioned {
            v1: ColumnExpr::Labels {
                column: V1.class_uid,
                cases: CLASSES.v1,
                default: "Other",
            },
            v2: ColumnExpr::Labels {
                column: V2.class_uid,
                cases: CLASSES.v2,
                default: "Other",
            },
        },
    },
    DimensionSpec {
        name: "mfa",
        aliases: &[],
        about: "whether a console sign-in used MFA (yes / no)",
        expr: Versioned {
            v1: yes_no(V1.mfa),
            v2: yes_no(V2.mfa),
        },
    },
];

/// The CloudTrail measures, in documentation order.
static MEASURES: [MeasureSpec; 4] = [
    MeasureSpec {
        name: "calls",
        about: "the number of events (API calls and sign-ins)",
        aggregate: Versioned::same(MeasureAggregate::Count),
        unit: "short",
    },
    MeasureSpec {
        name: "failures",
        about: "the events that failed (an error code, or a failed sign-in)",
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
        aggregate: Versioned::same(MeasureAggregate::CountDistinct(ColumnExpr::Column(&[
            "src_endpoint",
            "ip",
        ]))),
        unit: "short",
    },
];
