//! The shape of the kinds that rank groups of WAF requests (`top_blocked`, `rate_limited`): each
//! is a [`WafRanked`] value naming the groupings `by` chooses between, its default limit, and
//! which requests it keeps (blocked ones, or those a rate-based rule ended).

use serde_json::Value;

use super::super::cloudtrail::{parse_limit, parse_trail_format};
use super::super::waf::{
    parse_waf_filters, parse_waf_group_by, parse_waf_measure, WafMeasure, WafQuery, WafRanking,
    WAF_FILTERS,
};
use super::super::{nonempty, quoted, WafDimension};
use super::{panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, PanelQuery, QueryError};

/// What ranks the rows, the default first.
const MEASURES: [WafMeasure; 2] = [WafMeasure::Requests, WafMeasure::Clients];

/// A kind that ranks groups of WAF requests.
pub struct WafRanked {
    /// The name in query JSON.
    pub kind: &'static str,
    /// Menu label.
    pub label: &'static str,
    /// One line on what it shows.
    pub description: &'static str,
    /// `by` choices and the groups each stands for, the default first; `group_by` overrides.
    pub by: &'static [(&'static str, &'static [WafDimension])],
    /// Rows when the query sets no `limit`.
    pub limit: u32,
    /// Only blocked requests.
    pub blocked_only: bool,
    /// Only requests a rate-based rule ended.
    pub rate_based_only: bool,
}

impl WafRanked {
    /// The groups of `by` (the first choice when absent).
    fn by(&self, value: Option<&Value>) -> Result<&'static [WafDimension], QueryError> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(self.by[0].1);
        };
        let text = value.as_str();
        self.by
            .iter()
            .find(|(name, _)| Some(*name) == text)
            .map(|(_, dims)| *dims)
            .ok_or_else(|| {
                let names: Vec<&str> = self.by.iter().map(|(n, _)| *n).collect();
                let shown = text.map_or_else(|| value.to_string(), quoted);
                QueryError::new("by", shown, format!("expected one of {}", names.join(", ")))
            })
    }
}

impl Kind for WafRanked {
    fn spec(&self) -> KindSpec {
        let mut fields = vec!["measure", "group_by", "limit", "format"];
        if self.by.len() > 1 {
            fields.insert(0, "by");
        }
        KindSpec {
            description: self.description,
            fields,
            measures: MEASURES.iter().map(|m| m.name()).collect(),
            dimensions: WafDimension::names(),
            default_group_by: Some(self.by[0].1.iter().map(|d| d.name()).collect()),
            formats: Some(vec!["table", "series"]),
            filters: WAF_FILTERS.to_vec(),
            default_limit: Some(self.limit),
            ..KindSpec::new(self.kind, self.label, Group::Waf, Answer::TableOrSeries)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let obj = query.object();
        let default = self.by(obj.get("by"))?;
        let group_by = nonempty(parse_waf_group_by(obj, default)?, self.kind)?;
        Ok(panel(PanelQuery::Waf(WafQuery::Ranking(WafRanking {
            kind: self.kind,
            group_by,
            measure: parse_waf_measure(obj, &MEASURES)?,
            filters: parse_waf_filters(obj, self.kind)?,
            blocked_only: self.blocked_only,
            rate_based_only: self.rate_based_only,
            limit: parse_limit(obj, self.limit)?,
            format: parse_trail_format(obj)?,
        }))))
    }
}
