//! Events planted in the demo lake for the detections to find, each on its own random stream so
//! the rest of the traffic stays the same:
//!
//! - **an exposed service**: from the middle of the lake's span on, a forgotten jump host in the
//!   first account and region accepts SSH from internet addresses that try their luck every few
//!   hours (what `exposed_services` and its alert rule report).

use super::parts::{ephemeral, mix, record, Eni, Rng};
use super::{DemoConfig, FlowAction, FlowDirection, FlowRecord, PartitionKey};

const HOUR_MS: i64 = 3_600_000;

/// The ENI of the jump host (an application host of the first VPC, first subnet).
const JUMP_HOST: usize = 2;

/// Internet addresses that log in to the jump host over SSH.
pub const SSH_CALLERS: [&str; 3] = ["193.32.162.41", "80.94.95.115", "141.98.11.20"];

/// The account, region and address of the exposed jump host, and when it starts to accept.
pub fn exposed_service(cfg: &DemoConfig) -> (String, String, String, i64) {
    let account = cfg.account_ids()[0].clone();
    let region = cfg.regions[0].clone();
    let enis = super::parts::topology(0, 0, &region);
    let span_ms = cfg.end.timestamp_millis() - cfg.start().timestamp_millis();
    let from_ms = cfg.start().timestamp_millis() + span_ms / 2;
    (account, region, enis[JUMP_HOST].ip.clone(), from_ms)
}

/// Adds this hour's planted events of one partition to its records.
pub(super) fn plant(
    cfg: &DemoConfig,
    enis: &[Eni],
    key: &PartitionKey,
    hour_ms: i64,
    records: &mut Vec<FlowRecord>,
) {
    let (account, region, _, from_ms) = exposed_service(cfg);
    if key.account_id != account || key.region != region || hour_ms + HOUR_MS <= from_ms {
        return;
    }
    let mut rng = Rng::new(mix(&[cfg.seed, 29, hour_ms as u64]));
    if rng.below(2) == 0 {
        return;
    }
    let host = &enis[JUMP_HOST];
    for _ in 0..1 + rng.below(4) {
        let caller = *rng.pick(&SSH_CALLERS);
        let start = (hour_ms + rng.below(3600) as i64 * 1000).max(from_ms);
        let packets = 12 + rng.below(40) as i64;
        records.push(record(
            host,
            &key.account_id,
            &key.region,
            start,
            (caller, &host.ip),
            (ephemeral(&mut rng), 22, 6),
            (packets, packets * 90),
            FlowAction::Accept,
            FlowDirection::Ingress,
            0,
        ));
    }
}
