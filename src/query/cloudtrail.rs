//! The CloudTrail query kinds over the management events (`cloud_trail_mgmt`): API calls over
//! time (`api_activity`), principals ranked by their calls (`top_principals`) and console
//! sign-ins (`auth_events`), with the filters they share.

use serde_json::{Map, Value};

use super::flow::{each, one, parse_cidr};
use super::values::{AccountId, Region};
use super::{
    filters_object, number, parse_dimensions, parse_measure, quoted, refuse_unread_filters,
    string_list, QueryError,
};
use crate::lake::source::CLOUD_TRAIL_MGMT;
use crate::net::Cidr;

/// A CloudTrail dimension a panel can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrailDimension {
    /// AWS account id (the partition).
    Account,
    /// AWS region (the partition).
    Region,
    /// The service called.
    Service,
    /// The operation called.
    Operation,
    /// The caller's ARN (or the AWS service that called).
    Principal,
    /// The caller's user name.
    PrincipalName,
    /// The caller's identity type.
    PrincipalType,
    /// The access key the call was signed with.
    AccessKey,
    /// The role whose session the caller used.
    SessionIssuer,
    /// The caller's address.
    SrcIp,
    /// The caller's user agent.
    UserAgent,
    /// Success / Failure.
    Outcome,
    /// The error code of a failed call.
    ErrorCode,
    /// The OCSF class.
    Class,
    /// Whether a sign-in used MFA.
    Mfa,
}

impl TrailDimension {
    /// Every CloudTrail dimension, in the order the source describes them.
    pub const ALL: [TrailDimension; 15] = [
        TrailDimension::Account,
        TrailDimension::Region,
        TrailDimension::Service,
        TrailDimension::Operation,
        TrailDimension::Principal,
        TrailDimension::PrincipalName,
        TrailDimension::PrincipalType,
        TrailDimension::AccessKey,
        TrailDimension::SessionIssuer,
        TrailDimension::SrcIp,
        TrailDimension::UserAgent,
        TrailDimension::Outcome,
        TrailDimension::ErrorCode,
        TrailDimension::Class,
        TrailDimension::Mfa,
    ];

    /// The name used in JSON, labels and result columns.
    pub fn name(self) -> &'static str {
        match self {
            TrailDimension::Account => "account",
            TrailDimension::Region => "region",
            TrailDimension::Service => "service",
            TrailDimension::Operation => "operation",
            TrailDimension::Principal => "principal",
            TrailDimension::PrincipalName => "principal_name",
            TrailDimension::PrincipalType => "principal_type",
            TrailDimension::AccessKey => "access_key",
            TrailDimension::SessionIssuer => "session_issuer",
            TrailDimension::SrcIp => "src_ip",
            TrailDimension::UserAgent => "user_agent",
            TrailDimension::Outcome => "outcome",
            TrailDimension::ErrorCode => "error_code",
            TrailDimension::Class => "class",
            TrailDimension::Mfa => "mfa",
        }
    }

    /// The dimension a query names (a name or an alias the CloudTrail source gives it).
    pub(super) fn parse(text: &str) -> Option<Self> {
        let spec = CLOUD_TRAIL_MGMT.dimension(text)?;
        Self::ALL.into_iter().find(|d| d.name() == spec.name)
    }

    /// Every dimension's name, comma separated.
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

/// What a CloudTrail measure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrailMeasure {
    /// Events.
    Calls,
    /// Failed events.
    Failures,
    /// Distinct principals.
    Principals,
    /// Distinct caller addresses.
    SourceIps,
}

impl TrailMeasure {
    /// Every measure, in the order the source describes them.
    pub const ALL: [TrailMeasure; 4] = [
        TrailMeasure::Calls,
        TrailMeasure::Failures,
        TrailMeasure::Principals,
        TrailMeasure::SourceIps,
    ];

    /// The name used in JSON and as the value column name.
    pub fn name(self) -> &'static str {
        match self {
            TrailMeasure::Calls => "calls",
            TrailMeasure::Failures => "failures",
            TrailMeasure::Principals => "principals",
            TrailMeasure::SourceIps => "source_ips",
        }
    }

    /// The Grafana unit, as the source describes it.
    pub fn unit(self) -> &'static str {
        CLOUD_TRAIL_MGMT
            .measure(self.name())
            .expect("every CloudTrail measure is described")
            .unit
    }
}

/// Succeeded or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `status_id` 1.
    Success,
    /// `status_id` 2.
    Failure,
}

impl Outcome {
    /// The OCSF status id.
    pub fn id(self) -> i64 {
        match self {
            Outcome::Success => 1,
            Outcome::Failure => 2,
        }
    }

    pub(super) fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "success" | "succeeded" | "ok" => Ok(Outcome::Success),
            "failure" | "failed" | "fail" => Ok(Outcome::Failure),
            _ => Err("expected success or failure".to_string()),
        }
    }
}

/// Filters shared by the CloudTrail kinds. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailFilters {
    /// Accounts (partitions).
    pub accounts: Vec<AccountId>,
    /// Regions (partitions).
    pub regions: Vec<Region>,
    /// Services called (`iam.amazonaws.com`).
    pub services: Vec<String>,
    /// Operations called (`CreateAccessKey`).
    pub operations: Vec<String>,
    /// Principals (ARNs, or the services that called).
    pub principals: Vec<String>,
    /// Callers' user names.
    pub principal_names: Vec<String>,
    /// Callers' identity types (`Root`).
    pub principal_types: Vec<&'static str>,
    /// Access keys.
    pub access_keys: Vec<String>,
    /// Callers' addresses or blocks.
    pub src_ips: Vec<Cidr>,
    /// Addresses or blocks left out.
    pub exclude_ips: Vec<Cidr>,
    /// Succeeded or failed.
    pub outcome: Option<Outcome>,
    /// Error codes.
    pub error_codes: Vec<String>,
    /// Sign-ins with (true) or without (false) MFA.
    pub mfa: Option<bool>,
}

/// Every CloudTrail filter, in the editor's order.
pub const TRAIL_FILTERS: [&str; 13] = [
    "accounts",
    "regions",
    "services",
    "operations",
    "principals",
    "principal_names",
    "principal_types",
    "access_keys",
    "src_ip",
    "exclude_ip",
    "outcome",
    "error_codes",
    "mfa",
];

/// The filters of `api_activity` and `top_principals`: every CloudTrail filter but the
/// sign-ins' MFA.
pub const CALL_FILTERS: [&str; 12] = [
    "accounts",
    "regions",
    "services",
    "operations",
    "principals",
    "principal_names",
    "principal_types",
    "access_keys",
    "src_ip",
    "exclude_ip",
    "outcome",
    "error_codes",
];

/// The filters `auth_events` reads.
pub const AUTH_FILTERS: [&str; 9] = [
    "accounts",
    "regions",
    "principals",
    "principal_names",
    "principal_types",
    "src_ip",
    "exclude_ip",
    "outcome",
    "mfa",
];

/// Other spellings of the CloudTrail filters (plurals and singulars).
pub(super) const TRAIL_FILTER_ALIASES: [&str; 11] = [
    "service",
    "operation",
    "principal",
    "principal_name",
    "principal_type",
    "access_key",
    "src_ips",
    "ip",
    "ips",
    "exclude_ips",
    "error_code",
];

/// The identity types CloudTrail writes in `userIdentity.type`.
const PRINCIPAL_TYPES: [&str; 7] = [
    "IAMUser",
    "AssumedRole",
    "Root",
    "AWSService",
    "FederatedUser",
    "AWSAccount",
    "IdentityCenterUser",
];

/// A service as CloudTrail names it (`iam.amazonaws.com`); a bare name (`iam`) gets the
/// `.amazonaws.com` suffix.
fn parse_service(text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    let ok = (1..=128).contains(&lower.len())
        && lower.starts_with(|c: char| c.is_ascii_alphanumeric())
        && lower
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !ok {
        return Err(
            "expected an AWS service as CloudTrail names it, e.g. iam.amazonaws.com (or iam)"
                .to_string(),
        );
    }
    Ok(if lower.contains('.') {
        lower
    } else {
        format!("{lower}.amazonaws.com")
    })
}

/// An operation (`eventName`): a letter, then letters and digits.
pub(super) fn parse_operation(text: &str) -> Result<String, String> {
    let ok = (1..=128).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(text.to_string())
    } else {
        Err("expected an API operation as CloudTrail names it, e.g. CreateAccessKey (letters and digits)".to_string())
    }
}

/// A principal: an ARN, or the AWS service that called.
pub(super) fn parse_principal(text: &str) -> Result<String, String> {
    let ok = (1..=2048).contains(&text.len())
        && (text.starts_with("arn:") || text.ends_with(".amazonaws.com"))
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_/:-".contains(c));
    if ok {
        Ok(text.to_string())
    } else {
        Err("expected a principal ARN such as arn:aws:iam::111122223333:user/alice, or an AWS service such as ec2.amazonaws.com".to_string())
    }
}

/// An IAM user name.
fn parse_principal_name(text: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(text.to_string())
    } else {
        Err(
            "expected an IAM user name (letters, digits and + = , . @ _ -, up to 64 characters)"
                .to_string(),
        )
    }
}

/// An identity type, in any case.
fn parse_principal_type(text: &str) -> Result<&'static str, String> {
    PRINCIPAL_TYPES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("expected an identity type: {}", PRINCIPAL_TYPES.join(", ")))
}

/// An access key id.
fn parse_access_key(text: &str) -> Result<String, String> {
    let ok = (16..=128).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(text.to_string())
    } else {
        Err("expected an access key id such as AKIAIOSFODNN7EXAMPLE (16 to 128 capital letters and digits)".to_string())
    }
}

/// An error code (`AccessDenied`, `Client.UnauthorizedOperation`).
fn parse_error_code(text: &str) -> Result<String, String> {
    let ok = (1..=128).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:_-".contains(c));
    if ok {
        Ok(text.to_string())
    } else {
        Err(
            "expected an error code such as AccessDenied or Client.UnauthorizedOperation"
                .to_string(),
        )
    }
}

/// `mfa`: a JSON boolean, or `true`/`false`/`yes`/`no` as text.
fn parse_mfa(f: &Map<String, Value>) -> Result<Option<bool>, QueryError> {
    if let Some(Value::Bool(b)) = f.get("mfa") {
        return Ok(Some(*b));
    }
    one(f, "mfa", |text| match text.to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err("expected true (sign-ins with MFA) or false (without)".to_string()),
    })
}

/// Reads the CloudTrail filters of a query for `kind`, which accepts `accepted` of them; a
/// filter it does not read with a value is refused, naming the ones it reads.
pub(super) fn parse_trail_filters(
    obj: &Map<String, Value>,
    kind: &str,
    accepted: &[&str],
) -> Result<TrailFilters, QueryError> {
    let Some(f) = filters_object(obj, "{\"services\":[\"iam.amazonaws.com\"]}")? else {
        return Ok(TrailFilters::default());
    };
    refuse_unread_filters(f, kind, accepted, canonical_filter)?;
    let list = |key: &str| format!("filters.{key}");
    let both = |keys: &[&str], parse: &dyn Fn(&str) -> Result<String, String>| {
        let mut out = Vec::new();
        for key in keys {
            for item in each(f, key, &list(key), parse)? {
                if !out.contains(&item) {
                    out.push(item);
                }
            }
        }
        Ok::<_, QueryError>(out)
    };
    let cidrs = |keys: &[&str]| -> Result<Vec<Cidr>, QueryError> {
        let mut out = Vec::new();
        for key in keys {
            out.extend(each(f, key, &list(key), parse_cidr)?);
        }
        Ok(out)
    };
    let mut principal_types = Vec::new();
    for key in ["principal_types", "principal_type"] {
        for t in each(f, key, &list(key), parse_principal_type)? {
            if !principal_types.contains(&t) {
                principal_types.push(t);
            }
        }
    }
    Ok(TrailFilters {
        accounts: each(f, "accounts", &list("accounts"), AccountId::parse)?,
        regions: each(f, "regions", &list("regions"), Region::parse)?,
        services: both(&["services", "service"], &parse_service)?,
        operations: both(&["operations", "operation"], &parse_operation)?,
        principals: both(&["principals", "principal"], &parse_principal)?,
        principal_names: both(
            &["principal_names", "principal_name"],
            &parse_principal_name,
        )?,
        principal_types,
        access_keys: both(&["access_keys", "access_key"], &parse_access_key)?,
        src_ips: cidrs(&["src_ip", "src_ips", "ip", "ips"])?,
        exclude_ips: cidrs(&["exclude_ip", "exclude_ips"])?,
        outcome: one(f, "outcome", Outcome::parse)?,
        error_codes: both(&["error_codes", "error_code"], &parse_error_code)?,
        mfa: parse_mfa(f)?,
    })
}

/// The filter a key (or another spelling of it) names.
fn canonical_filter(key: &str) -> Option<&'static str> {
    let canonical = match key {
        "service" => "services",
        "operation" => "operations",
        "principal" => "principals",
        "principal_name" => "principal_names",
        "principal_type" => "principal_types",
        "access_key" => "access_keys",
        "src_ips" | "ip" | "ips" => "src_ip",
        "exclude_ips" => "exclude_ip",
        "error_code" => "error_codes",
        other => other,
    };
    TRAIL_FILTERS.into_iter().find(|f| *f == canonical)
}

/// `group_by` of a CloudTrail kind, or `default` when it is absent.
pub(super) fn parse_trail_group_by(
    obj: &Map<String, Value>,
    default: &[TrailDimension],
) -> Result<Vec<TrailDimension>, QueryError> {
    let unknown = format!(
        "unknown CloudTrail dimension; expected one of {}",
        TrailDimension::names()
    );
    parse_dimensions(obj, default, TrailDimension::parse, &unknown)
}

/// `measure` of a CloudTrail kind: one of `accepted`, the first when absent.
pub(super) fn parse_trail_measure(
    obj: &Map<String, Value>,
    accepted: &[TrailMeasure],
) -> Result<TrailMeasure, QueryError> {
    parse_measure(obj, accepted, TrailMeasure::name)
}

/// `api_activity`: a measure of the calls over time, one series per group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiActivity {
    /// What to count.
    pub measure: TrailMeasure,
    /// Dimensions that split the series (none: one series).
    pub group_by: Vec<TrailDimension>,
    /// Which events count.
    pub filters: TrailFilters,
    /// Keep the top `limit` series by total and fold the rest into `other`.
    pub limit: Option<u32>,
}

/// How a ranking of CloudTrail or Route 53 groups is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailFormat {
    /// One row per group (per event for `auth_events`).
    Table,
    /// One series per group at the end of the range, labelled by its keys (alert rules).
    Series,
}

/// `top_principals`: groups (principals by default) ranked by their calls, with their failures,
/// distinct source addresses and first and last call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopPrincipals {
    /// The kind name as written (`top_principals`, `access_denied`).
    pub kind: &'static str,
    /// The groups.
    pub group_by: Vec<TrailDimension>,
    /// What ranks them.
    pub measure: TrailMeasure,
    /// Which events count.
    pub filters: TrailFilters,
    /// Most rows.
    pub limit: u32,
    /// Table or alertable series.
    pub format: TrailFormat,
}

/// `auth_events`: console sign-ins, newest first (or counted per group as series).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEvents {
    /// Which sign-ins.
    pub filters: TrailFilters,
    /// Most rows (sign-ins, or groups as series).
    pub limit: u32,
    /// Table of sign-ins, or sign-ins per group as series.
    pub format: TrailFormat,
    /// The groups of the series format.
    pub group_by: Vec<TrailDimension>,
}

/// `iam_changes`: the calls that change IAM — users, access keys, login profiles, roles, groups
/// and policies created, deleted, attached, detached — newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamChanges {
    /// Which changes.
    pub filters: TrailFilters,
    /// Most rows.
    pub limit: u32,
}

/// A CloudTrail panel query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailQuery {
    /// `api_activity`.
    Activity(ApiActivity),
    /// `top_principals` and `access_denied`.
    TopPrincipals(TopPrincipals),
    /// `auth_events`.
    AuthEvents(AuthEvents),
    /// `iam_changes`.
    IamChanges(IamChanges),
}

impl TrailQuery {
    /// The kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            TrailQuery::Activity(_) => "api_activity",
            TrailQuery::TopPrincipals(q) => q.kind,
            TrailQuery::AuthEvents(_) => "auth_events",
            TrailQuery::IamChanges(_) => "iam_changes",
        }
    }

    /// The filters.
    pub fn filters(&self) -> &TrailFilters {
        match self {
            TrailQuery::Activity(q) => &q.filters,
            TrailQuery::TopPrincipals(q) => &q.filters,
            TrailQuery::AuthEvents(q) => &q.filters,
            TrailQuery::IamChanges(q) => &q.filters,
        }
    }
}

/// The error codes of a call refused for lack of permission (AWS's sample query of unauthorized
/// attempts, and the `…Exception` spelling of the JSON services such as KMS, Lambda and SSM).
pub const DENIED_CODES: [&str; 6] = [
    "AccessDenied",
    "AccessDeniedException",
    "Client.UnauthorizedOperation",
    "UnauthorizedOperation",
    "Client.OperationNotPermitted",
    "Client.InvalidPermission.NotFound",
];

/// The IAM operations that change who may do what (besides every Account Change row).
pub const IAM_CHANGES: [&str; 34] = [
    "CreateUser",
    "DeleteUser",
    "UpdateUser",
    "CreateAccessKey",
    "DeleteAccessKey",
    "UpdateAccessKey",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "DeleteLoginProfile",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "PutUserPolicy",
    "DeleteUserPolicy",
    "CreateRole",
    "DeleteRole",
    "UpdateRole",
    "UpdateAssumeRolePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "CreateGroup",
    "DeleteGroup",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
    "PutGroupPolicy",
    "DeleteGroupPolicy",
    "CreatePolicy",
    "DeletePolicy",
    "CreatePolicyVersion",
    "SetDefaultPolicyVersion",
    "DeactivateMFADevice",
];

/// `format`: table or series.
pub(super) fn parse_trail_format(obj: &Map<String, Value>) -> Result<TrailFormat, QueryError> {
    match string_list(obj.get("format"), "format")?.as_slice() {
        [] => Ok(TrailFormat::Table),
        [one] if one == "table" => Ok(TrailFormat::Table),
        [one] if one == "series" || one == "time_series" || one == "timeseries" => {
            Ok(TrailFormat::Series)
        }
        [one] => Err(QueryError::new(
            "format",
            quoted(one),
            "expected table or series",
        )),
        many => Err(QueryError::new(
            "format",
            format!("{many:?}"),
            "expected a single value: table or series",
        )),
    }
}

/// `limit` within 1–10,000, or `default`.
pub(super) fn parse_limit(obj: &Map<String, Value>, default: u32) -> Result<u32, QueryError> {
    Ok(number(obj, "limit", 1..=10_000)?.unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{PanelQuery, TRAIL_FILTERS};
    use serde_json::json;

    fn parse(v: Value) -> TrailQuery {
        match PanelQuery::from_json(&v) {
            Ok(PanelQuery::Trail(q)) => q,
            other => panic!("{v}: {other:?}"),
        }
    }

    fn err(v: Value) -> String {
        PanelQuery::from_json(&v).unwrap_err().to_string()
    }

    #[test]
    fn typed_keys_are_the_described_dimensions_and_measures() {
        let names: Vec<&str> = CLOUD_TRAIL_MGMT.dimensions.iter().map(|d| d.name).collect();
        assert_eq!(
            TrailDimension::ALL.map(TrailDimension::name).to_vec(),
            names
        );
        let measures: Vec<&str> = CLOUD_TRAIL_MGMT.measures.iter().map(|m| m.name).collect();
        assert_eq!(TrailMeasure::ALL.map(TrailMeasure::name).to_vec(), measures);
        assert_eq!(
            TrailDimension::parse("event_source"),
            Some(TrailDimension::Service)
        );
        assert_eq!(
            TrailDimension::parse("arn"),
            Some(TrailDimension::Principal)
        );
        for alias in TRAIL_FILTER_ALIASES {
            assert!(canonical_filter(alias).is_some(), "{alias}");
        }
        assert_eq!(TRAIL_FILTERS.len(), 13);
    }

    #[test]
    fn filters_are_read_in_every_spelling_and_normalised() {
        let TrailQuery::Activity(q) = parse(json!({
            "kind": "api_activity", "measure": "source_ips", "group_by": ["event_source", "arn", "service"],
            "filters": {"accounts": "111122223333", "services": ["iam", "STS.amazonaws.com"], "service": "iam",
                        "operation": "CreateAccessKey", "principal": "ec2.amazonaws.com",
                        "principal_types": ["root", "IAMUSER"], "principal_type": "Root",
                        "access_key": "AKIAIOSFODNN7EXAMPLE", "ip": "203.0.113.0/24", "src_ips": ["2001:db8::1"],
                        "exclude_ips": "10.0.0.0/8", "outcome": "Failed", "error_code": "Client.UnauthorizedOperation"},
            "limit": "3"}))
        else {
            panic!("api_activity")
        };
        assert_eq!(q.measure, TrailMeasure::SourceIps);
        assert_eq!(
            q.group_by,
            vec![TrailDimension::Service, TrailDimension::Principal]
        );
        assert_eq!(q.limit, Some(3));
        let f = &q.filters;
        assert_eq!(f.services, vec!["iam.amazonaws.com", "sts.amazonaws.com"]);
        assert_eq!(f.operations, vec!["CreateAccessKey"]);
        assert_eq!(f.principals, vec!["ec2.amazonaws.com"]);
        assert_eq!(f.principal_types, vec!["Root", "IAMUser"]);
        assert_eq!(f.access_keys, vec!["AKIAIOSFODNN7EXAMPLE"]);
        assert_eq!(f.src_ips.len(), 2);
        assert_eq!(f.exclude_ips.len(), 1);
        assert_eq!(f.outcome, Some(Outcome::Failure));
        assert_eq!(f.error_codes, vec!["Client.UnauthorizedOperation"]);
        let TrailQuery::AuthEvents(q) =
            parse(json!({"kind": "auth_events", "filters": {"mfa": false, "regions": ["$__all"]}}))
        else {
            panic!("auth_events")
        };
        assert_eq!(q.filters.mfa, Some(false));
        assert_eq!(q.limit, 100);
        assert_eq!(q.format, TrailFormat::Table);
        assert_eq!(
            q.group_by,
            vec![TrailDimension::Account, TrailDimension::Principal]
        );
        let TrailQuery::AuthEvents(q) = parse(
            json!({"kind": "auth_events", "format": "series", "filters": {"mfa": "Yes", "services": []}}),
        ) else {
            panic!("auth_events")
        };
        assert_eq!((q.filters.mfa, q.format), (Some(true), TrailFormat::Series));
        let TrailQuery::TopPrincipals(q) = parse(json!({"kind": "top_principals"})) else {
            panic!("top_principals")
        };
        assert_eq!((q.measure, q.limit), (TrailMeasure::Calls, 20));
        assert!(
            crate::query::unknown_fields(&json!({"kind": "auth_events",
            "filters": {"principal_type": "Root", "mfa": true, "src_ips": "10.0.0.1", "acounts": "x"}}))
                == vec!["filters.acounts".to_string()]
        );
    }

    #[test]
    fn bad_values_and_foreign_filters_are_refused_word_for_word() {
        let calls = "accounts, regions, services, operations, principals, principal_names, principal_types, access_keys, src_ip, exclude_ip, outcome, error_codes";
        let cases = [
            (
                json!({"kind": "api_activity", "filters": {"vpcs": ["vpc-0a1b2c3d"]}}),
                format!("query field `filters.vpcs` has the value [\"vpc-0a1b2c3d\"]: api_activity filters by {calls}; remove this filter"),
            ),
            (
                json!({"kind": "top_principals", "filters": {"mfa": false}}),
                format!("query field `filters.mfa` has the value false: top_principals filters by {calls}; remove this filter"),
            ),
            (
                json!({"kind": "auth_events", "filters": {"services": "iam"}}),
                "query field `filters.services` has the value \"iam\": auth_events filters by accounts, regions, principals, principal_names, principal_types, src_ip, exclude_ip, outcome, mfa; remove this filter".to_string(),
            ),
            (
                json!({"kind": "api_activity", "group_by": ["vpc"]}),
                "query field `group_by[0]` has the value \"vpc\": unknown CloudTrail dimension; expected one of account, region, service, operation, principal, principal_name, principal_type, access_key, session_issuer, src_ip, user_agent, outcome, error_code, class, mfa".to_string(),
            ),
            (
                json!({"kind": "api_activity", "measure": "bytes"}),
                "query field `measure` has the value \"bytes\": unknown measure; expected one of calls, failures, principals, source_ips".to_string(),
            ),
            (
                json!({"kind": "top_principals", "measure": "principals"}),
                "query field `measure` has the value \"principals\": unknown measure; expected one of calls, failures, source_ips".to_string(),
            ),
            (
                json!({"kind": "top_principals", "group_by": []}),
                "query field `group_by` has the value []: top_principals ranks groups; name at least one dimension or leave group_by out".to_string(),
            ),
            (
                json!({"kind": "top_principals", "format": "graph"}),
                "query field `format` has the value \"graph\": expected table or series".to_string(),
            ),
            (
                json!({"kind": "api_activity", "filters": {"services": ["IAM service"]}}),
                "query field `filters.services[0]` has the value \"IAM service\": expected an AWS service as CloudTrail names it, e.g. iam.amazonaws.com (or iam)".to_string(),
            ),
            (
                json!({"kind": "api_activity", "filters": {"operations": "Create-Key"}}),
                "query field `filters.operations[0]` has the value \"Create-Key\": expected an API operation as CloudTrail names it, e.g. CreateAccessKey (letters and digits)".to_string(),
            ),
            (
                json!({"kind": "api_activity", "filters": {"principals": ["alice"]}}),
                "query field `filters.principals[0]` has the value \"alice\": expected a principal ARN such as arn:aws:iam::111122223333:user/alice, or an AWS service such as ec2.amazonaws.com".to_string(),
            ),
            (
                json!({"kind": "auth_events", "filters": {"principal_names": ["a b"]}}),
                "query field `filters.principal_names[0]` has the value \"a b\": expected an IAM user name (letters, digits and + = , . @ _ -, up to 64 characters)".to_string(),
            ),
            (
                json!({"kind": "auth_events", "filters": {"principal_types": "admin"}}),
                "query field `filters.principal_types[0]` has the value \"admin\": expected an identity type: IAMUser, AssumedRole, Root, AWSService, FederatedUser, AWSAccount, IdentityCenterUser".to_string(),
            ),
            (
                json!({"kind": "api_activity", "filters": {"access_keys": "akia1234"}}),
                "query field `filters.access_keys[0]` has the value \"akia1234\": expected an access key id such as AKIAIOSFODNN7EXAMPLE (16 to 128 capital letters and digits)".to_string(),
            ),
            (
                json!({"kind": "api_activity", "filters": {"outcome": "maybe"}}),
                "query field `filters.outcome` has the value \"maybe\": expected success or failure".to_string(),
            ),
            (
                json!({"kind": "auth_events", "filters": {"mfa": "sometimes"}}),
                "query field `filters.mfa` has the value \"sometimes\": expected true (sign-ins with MFA) or false (without)".to_string(),
            ),
            (
                json!({"kind": "api_activity", "filters": {"error_codes": ["Access Denied"]}}),
                "query field `filters.error_codes[0]` has the value \"Access Denied\": expected an error code such as AccessDenied or Client.UnauthorizedOperation".to_string(),
            ),
            (
                json!({"kind": "auth_events", "filters": {"src_ip": "10.1"}}),
                "query field `filters.src_ip[0]` has the value \"10.1\": not an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32".to_string(),
            ),
            (
                json!({"kind": "auth_events", "filters": "root"}),
                "query field `filters` has the value \"root\": expected an object such as {\"services\":[\"iam.amazonaws.com\"]}".to_string(),
            ),
        ];
        for (query, want) in cases {
            assert_eq!(err(query.clone()), want, "{query}");
        }
    }
}
