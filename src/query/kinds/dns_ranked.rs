//! The shape of the kinds that rank groups of resolver queries (`top_domains`, `nxdomain`,
//! `new_domains`): each is a [`DnsRanked`] value naming its default groups and limit, and
//! whether it keeps failed lookups only or groups unseen in the baseline days only.

use super::super::cloudtrail::{parse_limit, parse_trail_format};
use super::super::dns::{
    parse_dns_filters, parse_dns_group_by, parse_dns_measure, DnsDimension, DnsMeasure, DnsQuery,
    DomainRanking, DNS_FILTERS,
};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

/// What ranks the rows, the default first.
const MEASURES: [DnsMeasure; 2] = [DnsMeasure::Queries, DnsMeasure::Sources];

/// A kind that ranks `group_by` groups (these by default) of resolver queries.
pub struct DnsRanked {
    /// The name in query JSON.
    pub kind: &'static str,
    /// Menu label.
    pub label: &'static str,
    /// One line on what it shows.
    pub description: &'static str,
    /// The groups when the query names none.
    pub group_by: &'static [DnsDimension],
    /// Rows when the query sets no `limit`.
    pub limit: u32,
    /// Only lookups that failed (a response code other than NOERROR).
    pub failed_only: bool,
    /// Only groups absent from the `baseline_days` whole days before the range.
    pub baseline: bool,
}

impl Kind for DnsRanked {
    fn spec(&self) -> KindSpec {
        let mut fields = vec!["measure", "group_by", "limit", "format"];
        if self.baseline {
            fields.insert(0, "baseline_days");
        }
        KindSpec {
            description: self.description,
            fields,
            measures: MEASURES.iter().map(|m| m.name()).collect(),
            dimensions: DnsDimension::names(),
            default_group_by: Some(self.group_by.iter().map(|d| d.name()).collect()),
            formats: Some(vec!["table", "series"]),
            filters: DNS_FILTERS.to_vec(),
            default_limit: Some(self.limit),
            ..KindSpec::new(self.kind, self.label, Group::Dns, Answer::TableOrSeries)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        let group_by = super::super::nonempty(parse_dns_group_by(obj, self.group_by)?, self.kind)?;
        let baseline_days = if self.baseline {
            Some(query.baseline_days()?)
        } else {
            None
        };
        Ok(panel(PanelQuery::Dns(DnsQuery::Ranking(DomainRanking {
            kind: self.kind,
            group_by,
            measure: parse_dns_measure(obj, &MEASURES)?,
            filters: parse_dns_filters(obj, self.kind)?,
            failed_only: self.failed_only,
            baseline_days,
            limit: parse_limit(obj, self.limit)?,
            format: parse_trail_format(obj)?,
        }))))
    }
}
