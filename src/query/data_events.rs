//! The query kinds over CloudTrail data events: S3 object calls (`s3_data_access`, over
//! `s3_data`) and Lambda invocations (`lambda_invocations`, over `lambda_execution`), each over
//! time or as a ranked table ("who read this bucket"), with the filters they read. Every value a
//! user gives is checked here, before any plan sees it.

use serde_json::{Map, Value};

use super::cloudtrail::{parse_operation, parse_principal, Outcome};
use super::flow::{each, one, parse_cidr};
use super::values::{AccountId, Region};
use super::{
    filters_object, merged, parse_dimensions, parse_measure, quoted, refuse_unread_filters,
    string_list, QueryError,
};
use crate::lake::source::{SourceSpec, LAMBDA_EXECUTION, S3_DATA};
use crate::lake::Source;
use crate::net::Cidr;

/// Which data-event table a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataSource {
    /// S3 object calls (`s3_data`).
    S3,
    /// Lambda invocations (`lambda_execution`).
    Lambda,
}

impl DataSource {
    /// The source's description.
    pub fn spec(self) -> &'static SourceSpec {
        match self {
            DataSource::S3 => &S3_DATA,
            DataSource::Lambda => &LAMBDA_EXECUTION,
        }
    }

    /// The lake's key of the source.
    pub fn source(self) -> Source {
        self.spec().source
    }

    /// The kind that reads it.
    pub fn kind(self) -> &'static str {
        match self {
            DataSource::S3 => "s3_data_access",
            DataSource::Lambda => "lambda_invocations",
        }
    }

    /// The filters its kind reads, in the editor's order.
    pub fn filters(self) -> &'static [&'static str] {
        match self {
            DataSource::S3 => &S3_FILTERS,
            DataSource::Lambda => &LAMBDA_FILTERS,
        }
    }
}

/// A data-event dimension a panel can group by (each source describes the ones it has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataDimension {
    /// AWS account id (the partition).
    Account,
    /// AWS region (the partition).
    Region,
    /// The bucket (S3).
    Bucket,
    /// The function (Lambda).
    Function,
    /// The operation called.
    Operation,
    /// Read or write (S3).
    Access,
    /// The caller's ARN (or the AWS service that called).
    Principal,
    /// The caller's identity type.
    PrincipalType,
    /// The access key the call was signed with.
    AccessKey,
    /// The caller's address.
    SrcIp,
    /// The caller's user agent.
    UserAgent,
    /// Success / Failure.
    Outcome,
    /// The error code of a failed call.
    ErrorCode,
}

impl DataDimension {
    /// Every data-event dimension.
    pub const ALL: [DataDimension; 13] = [
        DataDimension::Account,
        DataDimension::Region,
        DataDimension::Bucket,
        DataDimension::Function,
        DataDimension::Operation,
        DataDimension::Access,
        DataDimension::Principal,
        DataDimension::PrincipalType,
        DataDimension::AccessKey,
        DataDimension::SrcIp,
        DataDimension::UserAgent,
        DataDimension::Outcome,
        DataDimension::ErrorCode,
    ];

    /// The name used in JSON, labels and result columns.
    pub fn name(self) -> &'static str {
        match self {
            DataDimension::Account => "account",
            DataDimension::Region => "region",
            DataDimension::Bucket => "bucket",
            DataDimension::Function => "function",
            DataDimension::Operation => "operation",
            DataDimension::Access => "access",
            DataDimension::Principal => "principal",
            DataDimension::PrincipalType => "principal_type",
            DataDimension::AccessKey => "access_key",
            DataDimension::SrcIp => "src_ip",
            DataDimension::UserAgent => "user_agent",
            DataDimension::Outcome => "outcome",
            DataDimension::ErrorCode => "error_code",
        }
    }

    /// The dimension a query names for a source (a name or an alias it describes).
    pub fn parse(source: DataSource, text: &str) -> Option<Self> {
        let spec = source.spec().dimension(text)?;
        Self::ALL.into_iter().find(|d| d.name() == spec.name)
    }

    /// The dimensions a source describes, in its order.
    pub fn of(source: DataSource) -> Vec<DataDimension> {
        source
            .spec()
            .dimensions
            .iter()
            .filter_map(|d| Self::ALL.into_iter().find(|k| k.name() == d.name))
            .collect()
    }
}

/// What a data-event measure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataMeasure {
    /// Calls (`requests` of S3, `invocations` of Lambda).
    Events,
    /// Failed calls.
    Failures,
    /// Distinct principals.
    Principals,
    /// Distinct caller addresses.
    SourceIps,
}

impl DataMeasure {
    /// Every measure, in the order the sources describe them.
    pub const ALL: [DataMeasure; 4] = [
        DataMeasure::Events,
        DataMeasure::Failures,
        DataMeasure::Principals,
        DataMeasure::SourceIps,
    ];

    /// The name of the measure in a source, as its description names it.
    pub fn name(self, source: DataSource) -> &'static str {
        let index = Self::ALL.iter().position(|m| *m == self).unwrap_or(0);
        source.spec().measures[index].name
    }

    /// The Grafana unit, as the source describes it.
    pub fn unit(self, source: DataSource) -> &'static str {
        let index = Self::ALL.iter().position(|m| *m == self).unwrap_or(0);
        source.spec().measures[index].unit
    }
}

/// Reads or writes (S3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Read activity (`GetObject`, `ListObjects`).
    Read,
    /// Create, update or delete activity (`PutObject`, `DeleteObject`).
    Write,
}

impl Access {
    /// The label the `access` dimension gives it.
    pub fn label(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "read" | "reads" => Ok(Access::Read),
            "write" | "writes" => Ok(Access::Write),
            _ => Err("expected read or write".to_string()),
        }
    }
}

/// Filters of the data-event kinds. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataFilters {
    /// Accounts (partitions).
    pub accounts: Vec<AccountId>,
    /// Regions (partitions).
    pub regions: Vec<Region>,
    /// Buckets (S3).
    pub buckets: Vec<String>,
    /// Functions (Lambda).
    pub functions: Vec<String>,
    /// Operations called (`GetObject`).
    pub operations: Vec<String>,
    /// Principals (ARNs, or the services that called).
    pub principals: Vec<String>,
    /// Callers' addresses or blocks.
    pub src_ips: Vec<Cidr>,
    /// Addresses or blocks left out.
    pub exclude_ips: Vec<Cidr>,
    /// Reads or writes (S3).
    pub access: Option<Access>,
    /// Succeeded or failed.
    pub outcome: Option<Outcome>,
}

/// The filters of `s3_data_access`, in the editor's order.
pub const S3_FILTERS: [&str; 9] = [
    "accounts",
    "regions",
    "buckets",
    "operations",
    "principals",
    "src_ip",
    "exclude_ip",
    "access",
    "outcome",
];

/// The filters of `lambda_invocations`, in the editor's order.
pub const LAMBDA_FILTERS: [&str; 7] = [
    "accounts",
    "regions",
    "functions",
    "principals",
    "src_ip",
    "exclude_ip",
    "outcome",
];

/// Other spellings of the data-event filters.
pub(super) const DATA_FILTER_ALIASES: [&str; 2] = ["bucket", "function"];

/// The filter a key (or another spelling of it) names.
fn canonical_filter(key: &str) -> Option<&'static str> {
    let canonical = match key {
        "bucket" => "buckets",
        "function" => "functions",
        "operation" => "operations",
        "principal" => "principals",
        "src_ips" | "ip" | "ips" => "src_ip",
        "exclude_ips" => "exclude_ip",
        other => other,
    };
    S3_FILTERS
        .into_iter()
        .chain(LAMBDA_FILTERS)
        .find(|f| *f == canonical)
}

/// A bucket name by S3's naming rules: 3 to 63 lowercase letters, digits, `.` and `-`, starting
/// and ending with a letter or digit, no `..`, not an IPv4 address.
fn parse_bucket(text: &str) -> Result<String, String> {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok = (3..=63).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(text.chars().next())
        && edge(text.chars().last())
        && !text.contains("..")
        && text.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        Ok(text.to_string())
    } else {
        Err("expected an S3 bucket name such as reports-111122223333: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address".to_string())
    }
}

/// A Lambda function name: 1 to 64 letters, digits, `-` and `_`.
fn parse_function(text: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(text.to_string())
    } else {
        Err("expected a Lambda function name such as orders-api: 1 to 64 letters, digits, '-' and '_' (the name, not its ARN)".to_string())
    }
}

/// Reads the filters of a data-event query; a filter the kind does not read is refused, naming
/// the ones it reads.
fn parse_data_filters(
    obj: &Map<String, Value>,
    source: DataSource,
) -> Result<DataFilters, QueryError> {
    let Some(f) = filters_object(obj, "{\"buckets\":[\"reports-111122223333\"]}")? else {
        return Ok(DataFilters::default());
    };
    refuse_unread_filters(f, source.kind(), source.filters(), canonical_filter)?;
    let blocks = |keys: &[&str]| {
        let mut out = Vec::new();
        for key in keys {
            out.extend(each(f, key, &format!("filters.{key}"), parse_cidr)?);
        }
        Ok::<_, QueryError>(out)
    };
    Ok(DataFilters {
        accounts: each(f, "accounts", "filters.accounts", AccountId::parse)?,
        regions: each(f, "regions", "filters.regions", Region::parse)?,
        buckets: merged(f, ["buckets", "bucket"], parse_bucket)?,
        functions: merged(f, ["functions", "function"], parse_function)?,
        operations: merged(f, ["operations", "operation"], parse_operation)?,
        principals: merged(f, ["principals", "principal"], parse_principal)?,
        src_ips: blocks(&["src_ip", "src_ips", "ip", "ips"])?,
        exclude_ips: blocks(&["exclude_ip", "exclude_ips"])?,
        access: one(f, "access", Access::parse)?,
        outcome: one(f, "outcome", Outcome::parse)?,
    })
}

/// How a data-event query answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// A measure per time bucket, one series per group.
    Series,
    /// Groups ranked by their calls, with failures and first and last call.
    Table,
}

/// `format`: series (the default) or table.
fn parse_format(obj: &Map<String, Value>) -> Result<DataFormat, QueryError> {
    match string_list(obj.get("format"), "format")?.as_slice() {
        [] => Ok(DataFormat::Series),
        [one] if one == "series" || one == "time_series" || one == "timeseries" => {
            Ok(DataFormat::Series)
        }
        [one] if one == "table" => Ok(DataFormat::Table),
        [one] => Err(QueryError::new(
            "format",
            quoted(one),
            "expected series or table",
        )),
        many => Err(QueryError::new(
            "format",
            format!("{many:?}"),
            "expected a single value: series or table",
        )),
    }
}

/// `s3_data_access` or `lambda_invocations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataEventsQuery {
    /// The table read.
    pub source: DataSource,
    /// What to count (series), or what ranks the rows (table).
    pub measure: DataMeasure,
    /// Series: the dimensions that split them (none: one series). Table: the groups ranked.
    pub group_by: Vec<DataDimension>,
    /// Which calls count.
    pub filters: DataFilters,
    /// Series or table.
    pub format: DataFormat,
    /// Series: keep the top `limit` by total and fold the rest into `other`. Table: most rows.
    pub limit: Option<u32>,
}

impl DataEventsQuery {
    /// The kind name.
    pub fn kind(&self) -> &'static str {
        self.source.kind()
    }

    /// The rows of the table format (its `limit`, else the default).
    pub fn table_limit(&self) -> u32 {
        self.limit.unwrap_or(TABLE_LIMIT)
    }
}

/// The rows of a table when `limit` is left out.
pub const TABLE_LIMIT: u32 = 100;

/// What a table ranks by: the calls or the failures.
const TABLE_MEASURES: [DataMeasure; 2] = [DataMeasure::Events, DataMeasure::Failures];

/// The groups of a table when `group_by` is left out: who touched what from where, how.
pub fn table_groups(source: DataSource) -> Vec<DataDimension> {
    match source {
        DataSource::S3 => vec![
            DataDimension::Principal,
            DataDimension::Bucket,
            DataDimension::SrcIp,
            DataDimension::Operation,
        ],
        DataSource::Lambda => vec![
            DataDimension::Function,
            DataDimension::Principal,
            DataDimension::SrcIp,
        ],
    }
}

/// Parses a data-event query of `source`'s kind.
pub(super) fn parse_data_events(
    obj: &Map<String, Value>,
    source: DataSource,
    limit: Option<u32>,
) -> Result<DataEventsQuery, QueryError> {
    let format = parse_format(obj)?;
    let names: Vec<&str> = DataDimension::of(source).iter().map(|d| d.name()).collect();
    let unknown = format!(
        "unknown {} dimension; expected one of {}",
        source.spec().table_part,
        names.join(", ")
    );
    let parse = |text: &str| DataDimension::parse(source, text);
    let (group_by, measure) = match format {
        DataFormat::Series => (
            parse_dimensions(obj, &[], parse, &unknown)?,
            parse_measure(obj, &DataMeasure::ALL, |m| m.name(source))?,
        ),
        DataFormat::Table => (
            super::nonempty(
                parse_dimensions(obj, &table_groups(source), parse, &unknown)?,
                source.kind(),
            )?,
            parse_measure(obj, &TABLE_MEASURES, |m| m.name(source))?,
        ),
    };
    Ok(DataEventsQuery {
        source,
        measure,
        group_by,
        filters: parse_data_filters(obj, source)?,
        format,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::PanelQuery;
    use serde_json::json;

    fn parse(v: Value) -> DataEventsQuery {
        match PanelQuery::from_json(&v) {
            Ok(PanelQuery::DataEvents(q)) => q,
            other => panic!("{v}: {other:?}"),
        }
    }

    fn err(v: Value) -> String {
        PanelQuery::from_json(&v).unwrap_err().to_string()
    }

    #[test]
    fn typed_keys_are_the_described_dimensions_and_measures() {
        for source in [DataSource::S3, DataSource::Lambda] {
            let names: Vec<&str> = source.spec().dimensions.iter().map(|d| d.name).collect();
            let typed: Vec<&str> = DataDimension::of(source).iter().map(|d| d.name()).collect();
            assert_eq!(typed, names);
            assert_eq!(source.spec().measures.len(), DataMeasure::ALL.len());
        }
        assert_eq!(DataMeasure::Events.name(DataSource::S3), "requests");
        assert_eq!(DataMeasure::Events.name(DataSource::Lambda), "invocations");
        assert_eq!(
            DataDimension::parse(DataSource::S3, "bucket_name"),
            Some(DataDimension::Bucket)
        );
        assert_eq!(DataDimension::parse(DataSource::Lambda, "bucket"), None);
        for alias in DATA_FILTER_ALIASES {
            assert!(canonical_filter(alias).is_some(), "{alias}");
        }
    }

    #[test]
    fn filters_are_read_in_every_spelling() {
        let q = parse(json!({"kind": "s3_data_access", "format": "table",
            "filters": {"bucket": "reports-111122223333", "buckets": ["a.b-c", "reports-111122223333"],
                        "operation": "GetObject", "principal": "arn:aws:iam::111122223333:user/carol",
                        "ip": "5.188.62.0/24", "exclude_ips": "10.0.0.0/8", "access": "Read", "outcome": "failed"}}));
        assert_eq!(q.format, DataFormat::Table);
        assert_eq!(q.group_by, table_groups(DataSource::S3));
        assert_eq!(q.measure, DataMeasure::Events);
        assert_eq!(q.table_limit(), TABLE_LIMIT);
        let f = &q.filters;
        assert_eq!(f.buckets, vec!["a.b-c", "reports-111122223333"]);
        assert_eq!(f.operations, vec!["GetObject"]);
        assert_eq!((f.src_ips.len(), f.exclude_ips.len()), (1, 1));
        assert_eq!(
            (f.access, f.outcome),
            (Some(Access::Read), Some(Outcome::Failure))
        );
        let q = parse(
            json!({"kind": "lambda_invocations", "measure": "principals",
            "group_by": ["function_name", "arn"], "filters": {"function": "orders-api"}, "limit": 5}),
        );
        assert_eq!(q.format, DataFormat::Series);
        assert_eq!(q.measure, DataMeasure::Principals);
        assert_eq!(
            q.group_by,
            vec![DataDimension::Function, DataDimension::Principal]
        );
        assert_eq!(
            (q.filters.functions.clone(), q.limit),
            (vec!["orders-api".to_string()], Some(5))
        );
    }

    #[test]
    fn bad_values_and_foreign_filters_are_refused_word_for_word() {
        let cases = [
            (
                json!({"kind": "s3_data_access", "filters": {"buckets": ["My_Bucket"]}}),
                "query field `filters.buckets[0]` has the value \"My_Bucket\": expected an S3 bucket name such as reports-111122223333: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address",
            ),
            (
                json!({"kind": "s3_data_access", "filters": {"bucket": "192.168.1.10"}}),
                "query field `filters.bucket[0]` has the value \"192.168.1.10\": expected an S3 bucket name such as reports-111122223333: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address",
            ),
            (
                json!({"kind": "s3_data_access", "filters": {"buckets": "a..b"}}),
                "query field `filters.buckets[0]` has the value \"a..b\": expected an S3 bucket name such as reports-111122223333: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address",
            ),
            (
                json!({"kind": "s3_data_access", "filters": {"operations": "Get Object"}}),
                "query field `filters.operations[0]` has the value \"Get Object\": expected an API operation as CloudTrail names it, e.g. CreateAccessKey (letters and digits)",
            ),
            (
                json!({"kind": "s3_data_access", "filters": {"principals": "carol"}}),
                "query field `filters.principals[0]` has the value \"carol\": expected a principal ARN such as arn:aws:iam::111122223333:user/alice, or an AWS service such as ec2.amazonaws.com",
            ),
            (
                json!({"kind": "s3_data_access", "filters": {"src_ip": "5.188"}}),
                "query field `filters.src_ip[0]` has the value \"5.188\": not an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32",
            ),
            (
                json!({"kind": "s3_data_access", "filters": {"access": "list"}}),
                "query field `filters.access` has the value \"list\": expected read or write",
            ),
            (
                json!({"kind": "s3_data_access", "filters": {"functions": "orders-api"}}),
                "query field `filters.functions` has the value \"orders-api\": s3_data_access filters by accounts, regions, buckets, operations, principals, src_ip, exclude_ip, access, outcome; remove this filter",
            ),
            (
                json!({"kind": "lambda_invocations", "filters": {"buckets": "reports"}}),
                "query field `filters.buckets` has the value \"reports\": lambda_invocations filters by accounts, regions, functions, principals, src_ip, exclude_ip, outcome; remove this filter",
            ),
            (
                json!({"kind": "lambda_invocations", "filters": {"functions": "arn:aws:lambda:us-east-1:111122223333:function:x"}}),
                "query field `filters.functions[0]` has the value \"arn:aws:lambda:us-east-1:111122223333:function:x\": expected a Lambda function name such as orders-api: 1 to 64 letters, digits, '-' and '_' (the name, not its ARN)",
            ),
            (
                json!({"kind": "lambda_invocations", "group_by": ["bucket"]}),
                "query field `group_by[0]` has the value \"bucket\": unknown lambda_execution dimension; expected one of account, region, function, operation, principal, principal_type, access_key, src_ip, user_agent, outcome, error_code",
            ),
            (
                json!({"kind": "s3_data_access", "format": "table", "measure": "principals"}),
                "query field `measure` has the value \"principals\": unknown measure; expected one of requests, failures",
            ),
            (
                json!({"kind": "s3_data_access", "format": "table", "group_by": []}),
                "query field `group_by` has the value []: s3_data_access ranks groups; name at least one dimension or leave group_by out",
            ),
            (
                json!({"kind": "lambda_invocations", "format": "graph"}),
                "query field `format` has the value \"graph\": expected series or table",
            ),
            (
                json!({"kind": "lambda_invocations", "measure": "requests"}),
                "query field `measure` has the value \"requests\": unknown measure; expected one of invocations, failures, principals, source_ips",
            ),
        ];
        for (query, want) in cases {
            assert_eq!(err(query.clone()), want, "{query}");
        }
    }
}
