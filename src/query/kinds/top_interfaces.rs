//! `top_interfaces`: network interfaces (ENIs) ranked.

use super::ranked::Ranked;
use super::{Dimension, Measure};

/// `top_interfaces`.
pub const TOP_INTERFACES: Ranked = Ranked {
    kind: "top_interfaces",
    label: "Top interfaces",
    description: "Network interfaces (ENIs) ranked",
    measure: Measure::Bytes,
    group_by: &[Dimension::Eni],
};
