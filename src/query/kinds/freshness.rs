//! `freshness`: minutes since the last flow record per account and region.

use super::coverage::{coverage_spec, parse_coverage};
use super::{AnyQuery, Dimension, Envelope, Kind, KindSpec, QueryError};

const GROUP_BY: [Dimension; 2] = [Dimension::Account, Dimension::Region];

/// `freshness`.
pub struct Freshness;

impl Kind for Freshness {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Minutes since the last flow record per account and region",
            ..coverage_spec("freshness", "Freshness", &GROUP_BY)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        parse_coverage("freshness", &GROUP_BY, query)
    }
}
