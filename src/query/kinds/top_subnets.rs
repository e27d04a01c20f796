//! `top_subnets`: subnets ranked by traffic (a subnet that suddenly carries most of a VPC's bytes,
//! or one that should be quiet and is not).

use super::ranked::Ranked;
use super::{Dimension, Measure};

/// `top_subnets`.
pub const TOP_SUBNETS: Ranked = Ranked {
    kind: "top_subnets",
    label: "Top subnets",
    description: "Subnets ranked, with their VPC",
    measure: Measure::Bytes,
    group_by: &[Dimension::Vpc, Dimension::Subnet],
};
