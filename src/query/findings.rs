//! The kinds over every Security Hub finding (`sh_findings`, not only compliance): finding
//! counts over time (`findings`) and the findings still open (`active_findings`), with the
//! filters they share.

use serde_json::{Map, Value};

use super::flow::each;
use super::values::{AccountId, Region};
use super::{filters_object, parse_dimensions, quoted, refuse_unread_filters, string_list};
use super::{QueryError, TrailFormat};
use crate::lake::source::{FINDING_DIMENSIONS, SEVERITIES};

/// A finding dimension a panel can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingDimension {
    /// AWS account id (the partition).
    Account,
    /// AWS region (the partition).
    Region,
    /// Severity caption.
    Severity,
    /// The product that raised the finding.
    Product,
    /// The finding's first type.
    Type,
    /// The affected resource's id.
    Resource,
    /// The affected resource's type.
    ResourceType,
    /// The OCSF class.
    Class,
}

impl FindingDimension {
    /// Every finding dimension, in the order the source describes them.
    pub const ALL: [FindingDimension; 8] = [
        FindingDimension::Account,
        FindingDimension::Region,
        FindingDimension::Severity,
        FindingDimension::Product,
        FindingDimension::Type,
        FindingDimension::Resource,
        FindingDimension::ResourceType,
        FindingDimension::Class,
    ];

    /// The name used in JSON, labels and result columns.
    pub fn name(self) -> &'static str {
        FINDING_DIMENSIONS[self as usize].name
    }

    fn parse(text: &str) -> Option<Self> {
        let at = FINDING_DIMENSIONS.iter().position(|d| d.is_named(text))?;
        Self::ALL.get(at).copied()
    }

    /// Every dimension's names, for the editor.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.map(Self::name).to_vec()
    }
}

/// A severity threshold: an OCSF severity id from Informational (1) to Fatal (6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Severity(pub i64);

impl Severity {
    /// `active_findings`' threshold when the query sets none.
    pub const MEDIUM: Severity = Severity(3);
    /// The `new_findings` annotation's threshold when the query sets none.
    pub const HIGH: Severity = Severity(4);

    /// The OCSF caption.
    pub fn name(self) -> &'static str {
        SEVERITIES
            .iter()
            .find(|(id, _)| *id == self.0)
            .map_or("Unknown", |(_, n)| n)
    }

    /// A caption of the closed list, in any case.
    fn parse(text: &str) -> Result<Self, String> {
        SEVERITIES[1..]
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(text.trim()))
            .map(|(id, _)| Severity(*id))
            .ok_or_else(|| format!("expected a severity: {}", severity_names().join(", ")))
    }
}

/// The severities a threshold may name, lowest first.
pub fn severity_names() -> Vec<&'static str> {
    SEVERITIES[1..].iter().map(|(_, n)| *n).collect()
}

/// Filters shared by the finding kinds. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilters {
    /// Accounts (partitions).
    pub accounts: Vec<AccountId>,
    /// Regions (partitions).
    pub regions: Vec<Region>,
    /// Products (`GuardDuty`).
    pub products: Vec<String>,
    /// Finding types, whole (`TTPs/Command and Control/Backdoor:EC2-C&CActivity.B`).
    pub types: Vec<String>,
    /// Resources: an ARN, or the id it ends in (`i-0abc…`).
    pub resources: Vec<String>,
}

/// Every finding filter, in the editor's order.
pub const FINDING_FILTERS: [&str; 5] = ["accounts", "regions", "products", "types", "resources"];

/// Other spellings of the finding filters.
pub(super) const FINDING_FILTER_ALIASES: [&str; 3] = ["product", "type", "resource"];

fn canonical_filter(key: &str) -> Option<&'static str> {
    let canonical = match key {
        "product" => "products",
        "type" => "types",
        "resource" => "resources",
        other => other,
    };
    FINDING_FILTERS.into_iter().find(|f| *f == canonical)
}

/// A value of a restricted character set and length: what a name from Security Hub looks like,
/// never a quote or a backslash.
fn restricted(
    text: &str,
    max: usize,
    extra: &str,
    expected: &'static str,
) -> Result<String, String> {
    let ok = (1..=max).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
    if ok {
        Ok(text.to_string())
    } else {
        Err(expected.to_string())
    }
}

fn parse_product(text: &str) -> Result<String, String> {
    restricted(
        text,
        64,
        " -_.&",
        "expected a product name such as GuardDuty: letters, digits, spaces and -_.&, up to 64 characters",
    )
}

fn parse_type(text: &str) -> Result<String, String> {
    restricted(
        text,
        256,
        " /:-_.&(),+",
        "expected a finding type such as TTPs/Command and Control/Backdoor:EC2-C&CActivity.B: letters, digits, spaces and /:-_.&(),+, up to 256 characters",
    )
}

fn parse_resource(text: &str) -> Result<String, String> {
    restricted(
        text,
        256,
        ":/-_.",
        "expected a resource ARN or id such as i-0abc123: letters, digits and :/-_., up to 256 characters",
    )
}

/// Reads the finding filters of a query for `kind`; a filter of another source with a value
/// is refused, naming the ones it reads.
pub(super) fn parse_finding_filters(
    obj: &Map<String, Value>,
    kind: &str,
) -> Result<FindingFilters, QueryError> {
    let Some(f) = filters_object(obj, "{\"products\":[\"GuardDuty\"]}")? else {
        return Ok(FindingFilters::default());
    };
    refuse_unread_filters(f, kind, &FINDING_FILTERS, canonical_filter)?;
    let both = |keys: [&str; 2], parse: fn(&str) -> Result<String, String>| {
        let mut out: Vec<String> = Vec::new();
        for key in keys {
            for item in each(f, key, &format!("filters.{key}"), parse)? {
                if !out.contains(&item) {
                    out.push(item);
                }
            }
        }
        Ok::<_, QueryError>(out)
    };
    Ok(FindingFilters {
        accounts: each(f, "accounts", "filters.accounts", AccountId::parse)?,
        regions: each(f, "regions", "filters.regions", Region::parse)?,
        products: both(["products", "product"], parse_product)?,
        types: both(["types", "type"], parse_type)?,
        resources: both(["resources", "resource"], parse_resource)?,
    })
}

/// `min_severity`: a severity caption, `default` when absent (none: every severity).
pub(super) fn parse_min_severity(
    obj: &Map<String, Value>,
    default: Option<Severity>,
) -> Result<Option<Severity>, QueryError> {
    match string_list(obj.get("min_severity"), "min_severity")?.as_slice() {
        [] => Ok(default),
        [one] => Severity::parse(one)
            .map(Some)
            .map_err(|why| QueryError::new("min_severity", quoted(one), why)),
        many => Err(QueryError::new(
            "min_severity",
            format!("{many:?}"),
            "expected one severity",
        )),
    }
}

/// `group_by` of a finding kind, or `default` when it is absent.
pub(super) fn parse_finding_group_by(
    obj: &Map<String, Value>,
    default: &[FindingDimension],
) -> Result<Vec<FindingDimension>, QueryError> {
    let unknown = format!(
        "unknown finding dimension; expected one of {}",
        FindingDimension::names().join(", ")
    );
    parse_dimensions(obj, default, FindingDimension::parse, &unknown)
}

/// `findings`: distinct findings over time, each counted once at its newest update in the
/// range with that update's values, one series per group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingCounts {
    /// Dimensions that split the series (none: one series).
    pub group_by: Vec<FindingDimension>,
    /// Which findings count.
    pub filters: FindingFilters,
    /// The lowest severity counted (none: all).
    pub min_severity: Option<Severity>,
    /// Keep the top `limit` series by total and fold the rest into `other`.
    pub limit: Option<u32>,
}

/// `active_findings`: the findings whose newest update in the range leaves them open (workflow
/// New or In Progress, not archived, not a passed control), at or above a severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveFindings {
    /// Which findings count.
    pub filters: FindingFilters,
    /// The lowest severity listed.
    pub min_severity: Severity,
    /// Most rows.
    pub limit: u32,
    /// A table newest first, or one series per severity (alert rules).
    pub format: TrailFormat,
}

/// A finding panel query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingsQuery {
    /// `findings`.
    Counts(FindingCounts),
    /// `active_findings`.
    Active(ActiveFindings),
}

impl FindingsQuery {
    /// The kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            FindingsQuery::Counts(_) => "findings",
            FindingsQuery::Active(_) => "active_findings",
        }
    }

    /// The filters.
    pub fn filters(&self) -> &FindingFilters {
        match self {
            FindingsQuery::Counts(q) => &q.filters,
            FindingsQuery::Active(q) => &q.filters,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::PanelQuery;
    use serde_json::json;

    fn parse(v: Value) -> FindingsQuery {
        match PanelQuery::from_json(&v) {
            Ok(PanelQuery::Findings(q)) => q,
            other => panic!("{v}: {other:?}"),
        }
    }

    fn err(v: Value) -> String {
        PanelQuery::from_json(&v).unwrap_err().to_string()
    }

    #[test]
    fn filters_thresholds_and_defaults_are_read_in_every_spelling() {
        let FindingsQuery::Active(q) = parse(json!({"kind": "active_findings",
            "filters": {"product": "GuardDuty", "products": ["Inspector", "GuardDuty"],
                        "type": "TTPs/Command and Control/Backdoor:EC2-C&CActivity.B",
                        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0abc", "i-0abc"]}}))
        else {
            panic!("active_findings")
        };
        assert_eq!(
            (q.min_severity, q.limit, q.format),
            (Severity::MEDIUM, 100, TrailFormat::Table)
        );
        assert_eq!(q.filters.products, vec!["Inspector", "GuardDuty"]);
        assert_eq!((q.filters.types.len(), q.filters.resources.len()), (1, 2));
        let FindingsQuery::Counts(q) = parse(
            json!({"kind": "findings", "group_by": ["severity", "product_name", "finding_type"], "min_severity": "critical"}),
        ) else {
            panic!("findings")
        };
        assert_eq!(q.min_severity, Some(Severity(5)));
        assert_eq!(
            q.group_by,
            vec![
                FindingDimension::Severity,
                FindingDimension::Product,
                FindingDimension::Type
            ]
        );
        let names: Vec<&str> = FINDING_DIMENSIONS.iter().map(|d| d.name).collect();
        assert_eq!(FindingDimension::names(), names);
    }

    #[test]
    fn bad_values_are_refused_word_for_word() {
        let cases = [
            (
                json!({"kind": "active_findings", "min_severity": "severe"}),
                "query field `min_severity` has the value \"severe\": expected a severity: Informational, Low, Medium, High, Critical, Fatal",
            ),
            (
                json!({"kind": "findings", "min_severity": ["Low", "High"]}),
                "query field `min_severity` has the value [\"Low\", \"High\"]: expected one severity",
            ),
            (
                json!({"kind": "findings", "filters": {"products": ["Guard'Duty"]}}),
                "query field `filters.products[0]` has the value \"Guard'Duty\": expected a product name such as GuardDuty: letters, digits, spaces and -_.&, up to 64 characters",
            ),
            (
                json!({"kind": "active_findings", "filters": {"type": "TTPs/x'; DROP TABLE y"}}),
                "query field `filters.type[0]` has the value \"TTPs/x'; DROP TABLE y\": expected a finding type such as TTPs/Command and Control/Backdoor:EC2-C&CActivity.B: letters, digits, spaces and /:-_.&(),+, up to 256 characters",
            ),
            (
                json!({"kind": "active_findings", "filters": {"resources": ["i-0abc 1"]}}),
                "query field `filters.resources[0]` has the value \"i-0abc 1\": expected a resource ARN or id such as i-0abc123: letters, digits and :/-_., up to 256 characters",
            ),
            (
                json!({"kind": "findings", "filters": {"domains": ["example.com"]}}),
                "query field `filters.domains` has the value [\"example.com\"]: findings filters by accounts, regions, products, types, resources; remove this filter",
            ),
            (
                json!({"kind": "findings", "group_by": ["control"]}),
                "query field `group_by[0]` has the value \"control\": unknown finding dimension; expected one of account, region, severity, product, type, resource, resource_type, class",
            ),
            (
                json!({"kind": "active_findings", "format": "graph"}),
                "query field `format` has the value \"graph\": expected table or series",
            ),
            (
                json!({"kind": "active_findings", "filters": "GuardDuty"}),
                "query field `filters` has the value \"GuardDuty\": expected an object such as {\"products\":[\"GuardDuty\"]}",
            ),
        ];
        for (query, want) in cases {
            assert_eq!(err(query.clone()), want, "{query}");
        }
    }
}
