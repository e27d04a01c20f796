//! Amazon Route 53 Resolver query logs (`ROUTE53`, tables `…_route53_1_0` / `_2_0`): every DNS
//! query the VPC Resolver answered for a VPC's instances, OCSF DNS Activity (4003) in both
//! versions, and where each concept lives in the columns of each version.
//!
//! Where every path comes from (Route 53's log fields, AWS's OCSF mapping, the OCSF schema of
//! each version) is in `docs/sources.md`.

use super::{
    ColumnExpr, ColumnPath, DemoGenerator, DimensionSpec, MeasureAggregate, MeasureSpec,
    PartitionColumn, RecordColumns, Source, SourceSpec, SourceVersion, Versioned, BOTH_VERSIONS,
    LAKE_PARTITIONS,
};

/// The Route 53 Resolver query logs source.
pub static ROUTE53: SourceSpec = SourceSpec {
    source: Source::Route53,
    api_name: "ROUTE53",
    table_part: "route53",
    partitions: LAKE_PARTITIONS,
    record: Versioned {
        v1: V1.record(),
        v2: V2.record(),
    },
    dimensions: &DIMENSIONS,
    measures: &MEASURES,
    demo: DemoGenerator::Dns,
    optional: true,
    versions: BOTH_VERSIONS,
};

/// Where the resolver-log concepts live in the `route53` columns of a source version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsColumns {
    /// Query time as bigint epoch milliseconds (`query_timestamp`).
    pub time_ms: ColumnPath,
    /// Query time as a timestamp column (v2 only; the Iceberg partition source).
    pub time_dt: Option<ColumnPath>,
    /// The VPC's account (`account_id`).
    pub account_uid: ColumnPath,
    /// The VPC's region (`region`).
    pub region: ColumnPath,
    /// The name queried, with Route 53's trailing dot (`query_name`, `example.com.`).
    pub hostname: ColumnPath,
    /// The record type asked for (`query_type`, `A`).
    pub query_type: ColumnPath,
    /// The response code as Route 53 writes it (`rcode`, `NOERROR`).
    pub rcode: ColumnPath,
    /// The response code as OCSF's id (0 NoError, 2 ServFail, 3 NXDomain, …).
    pub rcode_id: ColumnPath,
    /// The asking address (`srcaddr`).
    pub src_ip: ColumnPath,
    /// The VPC the query came from (`vpc_id`).
    pub vpc: ColumnPath,
    /// The instance that asked (`srcids.instance`).
    pub instance: ColumnPath,
    /// The answers (`answers`: a list of structs with `rdata`, `type`, `class`).
    pub answers: ColumnPath,
}

impl DnsColumns {
    /// The column map of a version.
    pub fn of(version: SourceVersion) -> Self {
        match version {
            SourceVersion::V1 => V1,
            SourceVersion::V2 => V2,
        }
    }

    const fn record(&self) -> RecordColumns {
        RecordColumns {
            time_ms: self.time_ms,
            time_dt: self.time_dt,
            account_uid: self.account_uid,
            region: self.region,
        }
    }
}

/// v1 (OCSF 1.0.0-rc.2): the account id flat in `cloud.account_uid`.
const V1: DnsColumns = DnsColumns {
    time_ms: &["time"],
    time_dt: None,
    account_uid: &["cloud", "account_uid"],
    region: &["cloud", "region"],
    hostname: &["query", "hostname"],
    query_type: &["query", "type"],
    rcode: &["rcode"],
    rcode_id: &["rcode_id"],
    src_ip: &["src_endpoint", "ip"],
    vpc: &["src_endpoint", "vpc_uid"],
    instance: &["src_endpoint", "instance_uid"],
    answers: &["answers"],
};

/// v2 (OCSF 1.1.0): what differs — `time_dt`, the account as an object (`cloud.account.uid`).
const V2: DnsColumns = DnsColumns {
    time_dt: Some(&["time_dt"]),
    account_uid: &["cloud", "account", "uid"],
    ..V1
};

/// OCSF's response-code ids (RFC 6895 numbers) with the names Route 53 writes.
pub const RCODES: [(i64, &str); 10] = [
    (0, "NOERROR"),
    (1, "FORMERR"),
    (2, "SERVFAIL"),
    (3, "NXDOMAIN"),
    (4, "NOTIMP"),
    (5, "REFUSED"),
    (6, "YXDOMAIN"),
    (7, "YXRRSET"),
    (8, "NXRRSET"),
    (9, "NOTAUTH"),
];

/// The response code as a name, from the id both versions keep (the text column's spelling is
/// the producer's: `NXDOMAIN`, `NXDomain`).
const RCODE: ColumnExpr = ColumnExpr::Labels {
    column: V1.rcode_id,
    cases: &RCODES,
    default: "OTHER",
};

/// A dimension that lives in the same place in both versions.
const fn dimension(name: &'static str, about: &'static str, expr: ColumnExpr) -> DimensionSpec {
    DimensionSpec {
        name,
        aliases: &[],
        about,
        expr: Versioned::same(expr),
    }
}

/// The Route 53 dimensions, in documentation order.
static DIMENSIONS: [DimensionSpec; 9] = [
    dimension(
        "account",
        "AWS account id (the VPC's account)",
        ColumnExpr::Partition(PartitionColumn::AccountId),
    ),
    dimension(
        "region",
        "AWS region",
        ColumnExpr::Partition(PartitionColumn::Region),
    ),
    DimensionSpec {
        aliases: &["hostname", "query_name"],
        ..dimension(
            "domain",
            "the name queried, with its trailing dot (api.example.com.)",
            ColumnExpr::Column(V1.hostname),
        )
    },
    DimensionSpec {
        aliases: &["parent"],
        ..dimension(
            "parent_domain",
            "the name less its leftmost label (example.com. of api.example.com.)",
            ColumnExpr::AfterFirst {
                column: V1.hostname,
                separator: ".",
            },
        )
    },
    dimension(
        "query_type",
        "the record type asked for (A, AAAA, TXT, …)",
        ColumnExpr::Column(V1.query_type),
    ),
    DimensionSpec {
        aliases: &["response_code"],
        ..dimension(
            "rcode",
            "the response code (NOERROR, NXDOMAIN, SERVFAIL, …)",
            RCODE,
        )
    },
    DimensionSpec {
        aliases: &["vpc_id"],
        ..dimension(
            "vpc",
            "the VPC the query came from",
            ColumnExpr::Column(V1.vpc),
        )
    },
    DimensionSpec {
        aliases: &["ip", "srcaddr"],
        ..dimension(
            "src_ip",
            "the address that asked",
            ColumnExpr::Column(V1.src_ip),
        )
    },
    DimensionSpec {
        aliases: &["instance_id"],
        ..dimension(
            "instance",
            "the instance that asked",
            ColumnExpr::Column(V1.instance),
        )
    },
];

/// The Route 53 measures, in documentation order.
static MEASURES: [MeasureSpec; 3] = [
    MeasureSpec {
        name: "queries",
        about: "the number of queries logged",
        aggregate: Versioned::same(MeasureAggregate::Count),
        unit: "short",
    },
    MeasureSpec {
        name: "sources",
        about: "distinct asking addresses",
        aggregate: Versioned::same(MeasureAggregate::CountDistinct(ColumnExpr::Column(
            V1.src_ip,
        ))),
        unit: "short",
    },
    MeasureSpec {
        name: "domains",
        about: "distinct names queried",
        aggregate: Versioned::same(MeasureAggregate::CountDistinct(ColumnExpr::Column(
            V1.hostname,
        ))),
        unit: "short",
    },
];
