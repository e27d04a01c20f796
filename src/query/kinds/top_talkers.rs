//! `top_talkers`: the addresses that send or receive the most.

use super::super::flow::{parse_talker_side, TalkerSide};
use super::{measures_from, top_panel, Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, Dimension, Measure, QueryError, TopKeys, FLOW_FILTERS};

const MEASURE: Measure = Measure::Bytes;
const LIMIT: u32 = 10;

/// `top_talkers`.
pub struct TopTalkers;

impl Kind for TopTalkers {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Addresses that send or receive the most",
            fields: vec!["by", "measure", "limit"],
            measures: measures_from(MEASURE),
            filters: FLOW_FILTERS.to_vec(),
            default_limit: Some(LIMIT),
            ..KindSpec::new("top_talkers", "Top talkers", Group::Flow, Answer::Table)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        let filters = query.filters()?;
        let keys = match parse_talker_side(query.object())? {
            TalkerSide::Src => TopKeys::Dimensions(vec![Dimension::SrcIp]),
            TalkerSide::Dst => TopKeys::Dimensions(vec![Dimension::DstIp]),
            TalkerSide::Either => TopKeys::EitherIp,
        };
        Ok(top_panel("top_talkers", query.top(keys, MEASURE, filters)?))
    }
}
