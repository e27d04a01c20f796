//! `resource_timeline`: everything the lake says about one resource (an address, ENI, instance
//! or VPC) in the panel's range, one typed sub-query per source ([`TimelinePart`]), merged into
//! one table in time order.

use serde_json::{Map, Value};

use super::flow::{each, parse_cidr};
use super::values::{AccountId, Region, ResourceId};
use super::{filters_object, refuse_unread_filters, string_list, QueryError};
use crate::net::Cidr;

/// The resource a timeline is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// One IPv4 or IPv6 address.
    Ip(Cidr),
    /// A network interface (`eni-…`).
    Eni(ResourceId),
    /// An EC2 instance (`i-…`).
    Instance(ResourceId),
    /// A VPC (`vpc-…`).
    Vpc(ResourceId),
}

/// What `resource` accepts, for the refusal of anything else.
const ACCEPTED: &str = "expected an IPv4 or IPv6 address, or an ENI (eni-…), instance (i-…) or VPC (vpc-…) id of 8 or 17 lower-case hex digits";

impl Resource {
    /// Classifies `text`: an id by its prefix, else a single address.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let id = |prefix: &str| match ResourceId::parse(text, prefix) {
            Ok(id) if matches!(id.as_str().len() - prefix.len() - 1, 8 | 17) => Ok(id),
            _ => Err(ACCEPTED.to_string()),
        };
        match text.split_once('-').map(|(prefix, _)| prefix) {
            Some("eni") => id("eni").map(Resource::Eni),
            Some("i") => id("i").map(Resource::Instance),
            Some("vpc") => id("vpc").map(Resource::Vpc),
            _ => match parse_cidr(text) {
                Ok(cidr) if cidr.is_single_address() && !text.contains('/') => {
                    Ok(Resource::Ip(cidr))
                }
                _ => Err(ACCEPTED.to_string()),
            },
        }
    }

    /// The resource as written in the lake (the address, or the id).
    pub fn text(&self) -> String {
        match self {
            Resource::Ip(cidr) => cidr.addr.to_string(),
            Resource::Eni(id) | Resource::Instance(id) | Resource::Vpc(id) => {
                id.as_str().to_string()
            }
        }
    }
}

/// A source of timeline rows. A further source is one more variant here, its plan in
/// `plan/timeline.rs` and its summary in `frame/timeline.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimelineSource {
    /// VPC flow records naming the resource.
    Flows,
    /// Route 53 Resolver queries from it.
    Dns,
    /// CloudTrail management calls naming it.
    CloudTrail,
    /// Security Hub findings (every product's) whose resource is it.
    Findings,
}

impl TimelineSource {
    /// Every source, in the order rows of the same time are listed.
    pub const ALL: [TimelineSource; 4] = [
        TimelineSource::Flows,
        TimelineSource::Dns,
        TimelineSource::CloudTrail,
        TimelineSource::Findings,
    ];

    /// The name in `sources` and in the frame's `source` column.
    pub fn name(self) -> &'static str {
        match self {
            TimelineSource::Flows => "flows",
            TimelineSource::Dns => "dns",
            TimelineSource::CloudTrail => "cloudtrail",
            TimelineSource::Findings => "findings",
        }
    }

    /// Whether the source's records can name `resource` (Route 53 logs no interface; CloudTrail
    /// names no interface or VPC; a finding's resource is an id or ARN, never an address).
    pub fn names(self, resource: &Resource) -> bool {
        !matches!(
            (self, resource),
            (TimelineSource::Dns, Resource::Eni(_))
                | (
                    TimelineSource::CloudTrail,
                    Resource::Eni(_) | Resource::Vpc(_)
                )
                | (TimelineSource::Findings, Resource::Ip(_))
        )
    }
}

/// `resource_timeline`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTimeline {
    /// The resource.
    pub resource: Resource,
    /// Accounts (partitions; empty: all).
    pub accounts: Vec<AccountId>,
    /// Regions (partitions; empty: all).
    pub regions: Vec<Region>,
    /// The sources asked for, in [`TimelineSource::ALL`] order.
    pub sources: Vec<TimelineSource>,
    /// Most rows shown.
    pub limit: u32,
}

/// One source's part of a timeline: a planned query of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePart {
    /// The source read.
    pub source: TimelineSource,
    /// The resource.
    pub resource: Resource,
    /// Accounts (partitions; empty: all).
    pub accounts: Vec<AccountId>,
    /// Regions (partitions; empty: all).
    pub regions: Vec<Region>,
}

impl ResourceTimeline {
    /// The part of each source asked for that can name the resource; the others, skipped.
    pub fn parts(&self) -> (Vec<TimelinePart>, Vec<TimelineSource>) {
        let (named, skipped): (Vec<_>, Vec<_>) =
            self.sources.iter().partition(|s| s.names(&self.resource));
        let part = |source: &TimelineSource| TimelinePart {
            source: *source,
            resource: self.resource.clone(),
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
        };
        (named.iter().map(part).collect(), skipped)
    }
}

/// The filters a timeline reads.
pub const TIMELINE_FILTERS: [&str; 2] = ["accounts", "regions"];

/// `resource`, required and classified.
pub(super) fn parse_resource(obj: &Map<String, Value>) -> Result<Resource, QueryError> {
    match string_list(obj.get("resource"), "resource")?.as_slice() {
        [one] => Resource::parse(one)
            .map_err(|reason| QueryError::new("resource", super::quoted(one), reason)),
        [] => Err(QueryError::new("resource", "(missing)", ACCEPTED)),
        many => Err(QueryError::new(
            "resource",
            format!("{many:?}"),
            format!("expected a single value: {ACCEPTED}"),
        )),
    }
}

/// `sources`: a subset of [`TimelineSource::ALL`] (all when absent or empty).
pub(super) fn parse_sources(obj: &Map<String, Value>) -> Result<Vec<TimelineSource>, QueryError> {
    let names = string_list(obj.get("sources"), "sources")?;
    let mut wanted = Vec::new();
    for name in &names {
        let source = TimelineSource::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                QueryError::new(
                    "sources",
                    super::quoted(name),
                    "expected flows, dns, cloudtrail or findings",
                )
            })?;
        wanted.push(source);
    }
    Ok(TimelineSource::ALL
        .into_iter()
        .filter(|s| wanted.is_empty() || wanted.contains(s))
        .collect())
}

/// `filters.accounts` and `filters.regions`; other filters with a value are refused.
pub(super) fn parse_scope(
    obj: &Map<String, Value>,
    kind: &str,
) -> Result<(Vec<AccountId>, Vec<Region>), QueryError> {
    let Some(f) = filters_object(obj, "{\"accounts\":[\"123456789012\"]}")? else {
        return Ok((Vec::new(), Vec::new()));
    };
    refuse_unread_filters(f, kind, &TIMELINE_FILTERS, |key| {
        TIMELINE_FILTERS.into_iter().find(|f| *f == key)
    })?;
    Ok((
        each(f, "accounts", "filters.accounts", AccountId::parse)?,
        each(f, "regions", "filters.regions", Region::parse)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_classified_and_anything_else_refused() {
        let ok = |t: &str| Resource::parse(t).unwrap();
        assert!(matches!(ok("10.0.1.5"), Resource::Ip(_)));
        assert!(matches!(ok("2001:db8::1"), Resource::Ip(_)));
        assert!(matches!(ok("eni-0a1b2c3d"), Resource::Eni(_)));
        assert!(matches!(ok("i-0123456789abcdef0"), Resource::Instance(_)));
        assert!(matches!(ok("vpc-0a1b2c3d"), Resource::Vpc(_)));
        for bad in [
            "10.0.0.0/16",
            "i-0123456789",
            "vpc-XYZ12345",
            "subnet-0a1b2c3d",
            "host",
        ] {
            assert_eq!(Resource::parse(bad), Err(ACCEPTED.to_string()), "{bad}");
        }
    }

    #[test]
    fn sources_are_named_in_any_case_and_anything_else_refused_word_for_word() {
        let obj = |sources: Value| match serde_json::json!({ "sources": sources }) {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        assert_eq!(
            parse_sources(&obj(serde_json::json!(["Findings", "flows"]))).unwrap(),
            vec![TimelineSource::Flows, TimelineSource::Findings]
        );
        assert_eq!(
            parse_sources(&obj(serde_json::json!([]))).unwrap(),
            TimelineSource::ALL.to_vec()
        );
        assert_eq!(
            parse_sources(&obj(serde_json::json!(["waf"])))
                .unwrap_err()
                .to_string(),
            "query field `sources` has the value \"waf\": expected flows, dns, cloudtrail or findings"
        );
    }

    #[test]
    fn findings_name_ids_and_never_an_address() {
        let named = |text: &str| TimelineSource::Findings.names(&Resource::parse(text).unwrap());
        assert!(!named("10.0.1.5"));
        for id in ["eni-0a1b2c3d", "i-0123456789abcdef0", "vpc-0a1b2c3d"] {
            assert!(named(id), "{id}");
        }
    }
}
