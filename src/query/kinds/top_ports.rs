//! `top_ports`: destination ports and protocols ranked.

use super::ranked::Ranked;
use super::{Dimension, Measure};

/// `top_ports`.
pub const TOP_PORTS: Ranked = Ranked {
    kind: "top_ports",
    label: "Top ports",
    description: "Destination ports and protocols ranked",
    measure: Measure::Flows,
    group_by: &[Dimension::DstPort, Dimension::Protocol],
};
