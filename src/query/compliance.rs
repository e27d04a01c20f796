//! The compliance query kinds over Security Hub findings: the latest state of each resource for
//! a control (`compliance_status`) and the pass rate over time (`compliance_over_time`).

use serde_json::{Map, Value};

use super::flow::parse_filters_field;
use super::values::{AccountId, Region, ResourceId};
use super::{number, quoted, snippet, string_list, QueryError};
use crate::lake::source::SH_FINDINGS;

/// A Security Hub control id (`EC2.6`) or a Config rule name (`vpc-flow-logs-enabled`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ControlId(String);

impl ControlId {
    /// Accepts 1 to 128 characters: letters, digits and `. _ - : /`, starting with a letter or
    /// digit.
    pub fn parse(text: &str) -> Result<Self, String> {
        let ok = !text.is_empty()
            && text.len() <= 128
            && text
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/'));
        if ok {
            Ok(ControlId(text.to_string()))
        } else {
            Err("expected a control id such as EC2.6 or a Config rule name such as vpc-flow-logs-enabled (letters, digits and . _ - : /, up to 128 characters)".to_string())
        }
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A compliance status as Security Hub reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComplianceState {
    /// The resource passes the control.
    Passed,
    /// The resource fails the control.
    Failed,
    /// The check returned a warning.
    Warning,
    /// The check could not run.
    NotAvailable,
}

impl ComplianceState {
    /// Every status, in display order.
    pub const ALL: [ComplianceState; 4] = [
        ComplianceState::Passed,
        ComplianceState::Failed,
        ComplianceState::Warning,
        ComplianceState::NotAvailable,
    ];

    /// The status as stored (`PASSED`, `FAILED`, `WARNING`, `NOT_AVAILABLE`).
    pub fn name(self) -> &'static str {
        match self {
            ComplianceState::Passed => "PASSED",
            ComplianceState::Failed => "FAILED",
            ComplianceState::Warning => "WARNING",
            ComplianceState::NotAvailable => "NOT_AVAILABLE",
        }
    }

    /// Accepts the stored names in any case, and `-`/space for `_`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let norm = text.trim().to_ascii_uppercase().replace(['-', ' '], "_");
        ComplianceState::ALL
            .into_iter()
            .find(|s| s.name() == norm)
            .ok_or_else(|| "expected PASSED, FAILED, WARNING or NOT_AVAILABLE".to_string())
    }
}

/// Which findings a compliance query reads. Empty lists mean "no restriction".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceScope {
    /// Controls or Config rules (never empty: `EC2.6` by default).
    pub controls: Vec<ControlId>,
    /// Accounts.
    pub accounts: Vec<AccountId>,
    /// Regions.
    pub regions: Vec<Region>,
    /// VPC ids: findings whose resource is one of these VPCs.
    pub vpcs: Vec<ResourceId>,
    /// Look back this many days before the time that matters (default: the `lookbackDays`
    /// setting): findings not updated within it are not known.
    pub lookback_days: Option<u32>,
}

/// What `compliance_status` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusView {
    /// One row per finding (resource × control): account, region, control, resource, status,
    /// since when, last update.
    Table,
    /// One row of counts per status, for stat panels.
    Counts,
}

/// `compliance_status`: the latest state of each resource at the end of the time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceStatus {
    /// Which findings.
    pub scope: ComplianceScope,
    /// Keep only resources whose latest status is one of these (empty: all).
    pub statuses: Vec<ComplianceState>,
    /// Table or counts.
    pub view: StatusView,
    /// Most rows returned.
    pub limit: u32,
}

/// A dimension that splits compliance series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComplianceDimension {
    /// AWS account.
    Account,
    /// AWS region.
    Region,
    /// Control id or Config rule.
    Control,
}

impl ComplianceDimension {
    /// Every compliance dimension, in the order the findings source describes them.
    pub const ALL: [ComplianceDimension; 3] = [
        ComplianceDimension::Account,
        ComplianceDimension::Region,
        ComplianceDimension::Control,
    ];

    /// The dimension a query names (a name or an alias the findings source gives it).
    pub(super) fn parse(text: &str) -> Option<Self> {
        let spec = SH_FINDINGS.dimension(text)?;
        Self::ALL.into_iter().find(|d| d.name() == spec.name)
    }

    /// The name used in JSON, labels and result columns.
    pub fn name(self) -> &'static str {
        match self {
            ComplianceDimension::Account => "account",
            ComplianceDimension::Region => "region",
            ComplianceDimension::Control => "control",
        }
    }
}

/// The numbers `compliance_over_time` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplianceMeasure {
    /// `pass_rate` (percent of PASSED among PASSED and FAILED) and `failing` together.
    PassRateAndFailing,
    /// Percent of PASSED among PASSED and FAILED resources.
    PassRate,
    /// Resources whose state in force is FAILED.
    Failing,
    /// Resources whose state in force is PASSED.
    Passing,
}

impl ComplianceMeasure {
    /// The value fields this measure produces, in order.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            ComplianceMeasure::PassRateAndFailing => &["pass_rate", "failing"],
            ComplianceMeasure::PassRate => &["pass_rate"],
            ComplianceMeasure::Failing => &["failing"],
            ComplianceMeasure::Passing => &["passing"],
        }
    }
}

/// `compliance_over_time`: per time bucket, the pass rate and failing-resource count computed
/// from the state in force at the end of each bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceOverTime {
    /// Which findings.
    pub scope: ComplianceScope,
    /// Series split.
    pub group_by: Vec<ComplianceDimension>,
    /// Which numbers.
    pub measure: ComplianceMeasure,
}

/// The query fields the compliance kinds read (besides the shared ones).
const COMPLIANCE_FIELDS: [&str; 7] = [
    "controls",
    "control",
    "config_rule",
    "config_rules",
    "statuses",
    "status",
    "view",
];

/// The filters the compliance kinds apply.
const COMPLIANCE_FILTERS: [&str; 3] = ["accounts", "regions", "vpcs"];

/// The default control: "VPC flow logging should be enabled in all VPCs".
pub const DEFAULT_CONTROL: &str = "EC2.6";

/// The findings a compliance query (or a status-change annotation query) reads: controls,
/// accounts, regions, VPCs, look-back; other filters refused.
pub(super) fn parse_scope(obj: &Map<String, Value>) -> Result<ComplianceScope, QueryError> {
    if let Some(Value::Object(f)) = obj.get("filters") {
        for (key, value) in f {
            if COMPLIANCE_FILTERS.contains(&key.as_str()) {
                continue;
            }
            let field = format!("filters.{key}");
            if !string_list(Some(value), &field)?.is_empty() {
                return Err(QueryError::new(
                    field,
                    snippet(&value.to_string()),
                    "compliance queries filter by accounts, regions and vpcs only; remove this filter",
                ));
            }
        }
    }
    let filters = parse_filters_field(obj)?;
    let mut controls = Vec::new();
    for key in COMPLIANCE_FIELDS[..4].iter() {
        for (i, text) in string_list(obj.get(*key), key)?.iter().enumerate() {
            let id = ControlId::parse(text).map_err(|reason| {
                let field = if matches!(obj.get(*key), Some(Value::Array(_))) {
                    format!("{key}[{i}]")
                } else {
                    key.to_string()
                };
                QueryError::new(field, quoted(text), reason)
            })?;
            if !controls.contains(&id) {
                controls.push(id);
            }
        }
    }
    if controls.is_empty() {
        controls.push(ControlId(DEFAULT_CONTROL.to_string()));
    }
    Ok(ComplianceScope {
        controls,
        accounts: filters.accounts,
        regions: filters.regions,
        vpcs: filters.vpcs,
        lookback_days: number(obj, "lookback_days", 1..=90)?,
    })
}

/// Parses `compliance_status`.
pub(super) fn parse_status(obj: &Map<String, Value>) -> Result<ComplianceStatus, QueryError> {
    let scope = parse_scope(obj)?;
    let mut statuses = Vec::new();
    for key in ["statuses", "status"] {
        for (i, text) in string_list(obj.get(key), key)?.iter().enumerate() {
            let state = ComplianceState::parse(text).map_err(|reason| {
                let field = if matches!(obj.get(key), Some(Value::Array(_))) {
                    format!("{key}[{i}]")
                } else {
                    key.to_string()
                };
                QueryError::new(field, quoted(text), reason)
            })?;
            if !statuses.contains(&state) {
                statuses.push(state);
            }
        }
    }
    let view = match string_list(obj.get("view"), "view")?.as_slice() {
        [] => StatusView::Table,
        [v] if v == "table" => StatusView::Table,
        [v] if v == "counts" => StatusView::Counts,
        [v] => {
            return Err(QueryError::new(
                "view",
                quoted(v),
                "expected table or counts",
            ))
        }
        many => {
            return Err(QueryError::new(
                "view",
                format!("{many:?}"),
                "expected a single value: table or counts",
            ))
        }
    };
    Ok(ComplianceStatus {
        scope,
        statuses,
        view,
        limit: number(obj, "limit", 1..=10_000)?.unwrap_or(1_000),
    })
}

/// Parses `compliance_over_time`.
pub(super) fn parse_over_time(obj: &Map<String, Value>) -> Result<ComplianceOverTime, QueryError> {
    let scope = parse_scope(obj)?;
    let mut group_by = Vec::new();
    for (i, text) in string_list(obj.get("group_by"), "group_by")?
        .iter()
        .enumerate()
    {
        let dim = ComplianceDimension::parse(text).ok_or_else(|| {
            QueryError::new(
                format!("group_by[{i}]"),
                quoted(text),
                "compliance series split by account, region or control",
            )
        })?;
        if !group_by.contains(&dim) {
            group_by.push(dim);
        }
    }
    let measure = match string_list(obj.get("measure"), "measure")?.as_slice() {
        [] => ComplianceMeasure::PassRateAndFailing,
        [m] if m == "pass_rate" => ComplianceMeasure::PassRate,
        [m] if m == "failing" => ComplianceMeasure::Failing,
        [m] if m == "passing" => ComplianceMeasure::Passing,
        [m] => return Err(QueryError::new(
            "measure",
            quoted(m),
            "expected pass_rate, failing or passing (or leave it out for pass_rate and failing)",
        )),
        many => {
            return Err(QueryError::new(
                "measure",
                format!("{many:?}"),
                "expected a single value: pass_rate, failing or passing",
            ))
        }
    };
    Ok(ComplianceOverTime {
        scope,
        group_by,
        measure,
    })
}
