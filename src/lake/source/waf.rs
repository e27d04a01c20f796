//! AWS WAF web ACL logs (`WAF`, table `…_waf_2_0`): every web request a web ACL inspected, OCSF
//! HTTP Activity (4002) in OCSF 1.1.0. Security Lake collects WAF logs in source version 2 only:
//! there is no `waf_1_0` table, so the description places nothing in v1 (its v1 map repeats v2's
//! only because every description has one; [`SourceSpec::versions`] keeps v1 from being read).
//!
//! Where every path comes from (WAF's log fields, AWS's sample queries, the OCSF 1.1.0 schema and
//! the published WAF→OCSF mapping) and what is uncertain is in `docs/sources.md`.

use super::{
    ColumnExpr, ColumnPath, DemoGenerator, DimensionSpec, MeasureAggregate, MeasureSpec,
    PartitionColumn, RecordColumns, Source, SourceSpec, SourceVersion, Versioned, LAKE_PARTITIONS,
};

/// The AWS WAF source.
pub static WAF: SourceSpec = SourceSpec {
    source: Source::Waf,
    api_name: "WAF",
    table_part: "waf",
    partitions: LAKE_PARTITIONS,
    record: Versioned::same(COLUMNS.record()),
    dimensions: &DIMENSIONS,
    measures: &MEASURES,
    demo: DemoGenerator::Waf,
    optional: true,
    versions: &[SourceVersion::V2],
};

/// Where the WAF log concepts live in the `waf_2_0` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WafColumns {
    /// Request time as bigint epoch milliseconds (`timestamp`).
    pub time_ms: ColumnPath,
    /// Request time as a timestamp (the Iceberg partition source).
    pub time_dt: ColumnPath,
    /// The web ACL's account.
    pub account_uid: ColumnPath,
    /// The web ACL's region.
    pub region: ColumnPath,
    /// What WAF did, as OCSF's disposition id (`action`: 1 ALLOW, 2 BLOCK, 20 COUNT, …).
    pub disposition_id: ColumnPath,
    /// The terminating rule (`terminatingRuleId`; `Default_Action` when no rule ended it).
    pub rule: ColumnPath,
    /// Its type (`terminatingRuleType`: REGULAR, RATE_BASED, MANAGED_RULE_GROUP, GROUP).
    pub rule_type: ColumnPath,
    /// The web ACL (`webaclId`, an ARN).
    pub web_acl: ColumnPath,
    /// The client address (`httpRequest.clientIp`).
    pub src_ip: ColumnPath,
    /// Its country, ISO 3166 alpha-2 (`httpRequest.country`).
    pub country: ColumnPath,
    /// The path asked for (`httpRequest.uri`).
    pub path: ColumnPath,
    /// The host asked for (`httpRequest.headers` Host).
    pub host: ColumnPath,
    /// The method (`httpRequest.httpMethod`).
    pub method: ColumnPath,
    /// The client's user agent (`httpRequest.headers` User-Agent).
    pub user_agent: ColumnPath,
    /// The status code WAF sent for a custom response (`responseCodeSent`).
    pub response_code: ColumnPath,
}

impl WafColumns {
    const fn record(&self) -> RecordColumns {
        RecordColumns {
            time_ms: self.time_ms,
            time_dt: Some(self.time_dt),
            account_uid: self.account_uid,
            region: self.region,
        }
    }
}

/// The `waf_2_0` columns (OCSF 1.1.0).
pub const COLUMNS: WafColumns = WafColumns {
    time_ms: &["time"],
    time_dt: &["time_dt"],
    account_uid: &["cloud", "account", "uid"],
    region: &["cloud", "region"],
    disposition_id: &["disposition_id"],
    rule: &["firewall_rule", "uid"],
    rule_type: &["firewall_rule", "type"],
    web_acl: &["metadata", "product", "feature", "uid"],
    src_ip: &["src_endpoint", "ip"],
    country: &["src_endpoint", "location", "country"],
    path: &["http_request", "url", "path"],
    host: &["http_request", "url", "hostname"],
    method: &["http_request", "http_method"],
    user_agent: &["http_request", "user_agent"],
    response_code: &["http_response", "code"],
};

/// WAF's actions with OCSF 1.1.0's disposition ids (`action_id` keeps only Allowed 1 and
/// Denied 2, every other action Other 99; the disposition tells COUNT, CAPTCHA and CHALLENGE
/// apart).
pub const WAF_ACTIONS: [(i64, &str); 5] = [
    (1, "ALLOW"),
    (2, "BLOCK"),
    (20, "COUNT"),
    (22, "CAPTCHA"),
    (23, "CHALLENGE"),
];

/// The disposition id of a blocked request.
pub const BLOCKED: i64 = 2;

/// The terminating-rule type of rate-based rules.
pub const RATE_BASED: &str = "RATE_BASED";

/// The terminating-rule types WAF logs.
pub const RULE_TYPES: [&str; 4] = ["REGULAR", RATE_BASED, "MANAGED_RULE_GROUP", "GROUP"];

/// A dimension, its column in the v2 table.
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

/// The WAF dimensions, in documentation order.
static DIMENSIONS: [DimensionSpec; 11] = [
    dimension(
        "account",
        &[],
        "AWS account id (the web ACL's account)",
        ColumnExpr::Partition(PartitionColumn::AccountId),
    ),
    dimension(
        "region",
        &[],
        "AWS region",
        ColumnExpr::Partition(PartitionColumn::Region),
    ),
    dimension(
        "action",
        &["actions"],
        "what WAF did: ALLOW, BLOCK, COUNT, CAPTCHA or CHALLENGE",
        ColumnExpr::Labels {
            column: COLUMNS.disposition_id,
            cases: &WAF_ACTIONS,
            default: "OTHER",
        },
    ),
    dimension(
        "rule",
        &["terminating_rule"],
        "the terminating rule (Default_Action when none matched)",
        ColumnExpr::Column(COLUMNS.rule),
    ),
    dimension(
        "rule_type",
        &[],
        "the terminating rule's type (REGULAR, RATE_BASED, MANAGED_RULE_GROUP, GROUP)",
        ColumnExpr::Column(COLUMNS.rule_type),
    ),
    dimension(
        "web_acl",
        &["webacl"],
        "the web ACL (its ARN)",
        ColumnExpr::Column(COLUMNS.web_acl),
    ),
    dimension(
        "country",
        &[],
        "the client's country (ISO 3166 alpha-2)",
        ColumnExpr::Column(COLUMNS.country),
    ),
    dimension(
        "src_ip",
        &["client_ip", "ip"],
        "the client address",
        ColumnExpr::Column(COLUMNS.src_ip),
    ),
    dimension(
        "path",
        &["uri"],
        "the URI path asked for",
        ColumnExpr::Column(COLUMNS.path),
    ),
    dimension(
        "host",
        &["hostname"],
        "the host asked for",
        ColumnExpr::Column(COLUMNS.host),
    ),
    dimension(
        "method",
        &["http_method"],
        "the HTTP method",
        ColumnExpr::Column(COLUMNS.method),
    ),
];

/// The WAF measures, in documentation order.
static MEASURES: [MeasureSpec; 2] = [
    MeasureSpec {
        name: "requests",
        about: "the number of requests logged",
        aggregate: Versioned::same(MeasureAggregate::Count),
        unit: "short",
    },
    MeasureSpec {
        name: "clients",
        about: "distinct client addresses",
        aggregate: Versioned::same(MeasureAggregate::CountDistinct(ColumnExpr::Column(
            COLUMNS.src_ip,
        ))),
        unit: "short",
    },
];
