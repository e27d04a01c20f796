//! Events planted in the demo lake for the detections to find, each on its own random stream so
//! the rest of the traffic stays the same:
//!
//! - **an exposed service**: from the middle of the lake's span on, a forgotten jump host in the
//!   first account and region accepts SSH from internet addresses that try their luck every few
//!   hours (what `exposed_services` and its alert rule report);
//! - **an egress burst**: eight hours before the lake's end, the database host of the first VPC
//!   in the first account and last region sends about 2.5 GB to an internet address in one hour,
//!   far above what that VPC sends at that hour (what `egress_anomaly` reports);
//! - **a new external peer**: from twenty hours before the lake's end, an application host of
//!   the first VPC in the first account and region calls an internet address on port 8443 that
//!   no host reached before, every hour (what `new_external_peers` reports);
//! - **a beacon**: from a day and a half before the lake's end, a host of the first VPC in the
//!   last account and region checks in with an internet address on port 443 every five minutes,
//!   give or take ten seconds (what `beaconing` reports).

use super::parts::{ephemeral, mix, record, Eni, Rng, DB};
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

/// Where the egress burst goes.
pub const BURST_DEST: &str = "185.220.101.47";

/// The internet address and port the new peer is called on.
pub const NEW_PEER: (&str, i32) = ("91.215.85.12", 8443);

/// Where the beacon calls.
pub const BEACON_DEST: &str = "45.137.21.9";

/// The beacon's period, ms.
pub const BEACON_PERIOD_MS: i64 = 300_000;

/// The host that beacons (first VPC, second subnet).
const BEACON_HOST: usize = 3;

/// The account, region, VPC and address of the beaconing host, and when the beacon starts.
pub fn beacon(cfg: &DemoConfig) -> (String, String, String, String, i64) {
    let account = cfg.accounts.saturating_sub(1);
    let region_idx = cfg.regions.len().saturating_sub(1);
    let region = cfg.regions.last().cloned().unwrap_or_default();
    let enis = super::parts::topology(account, region_idx, &region);
    let host = &enis[BEACON_HOST];
    let id = cfg.account_ids()[account as usize].clone();
    (
        id,
        region,
        host.vpc_id.clone(),
        host.ip.clone(),
        hours_before_end(cfg, 36),
    )
}

/// The application host that calls the new peer (first VPC, first subnet).
const CALLER: usize = 1;

/// The last whole hour's start at or before the lake's end, less `hours`.
fn hours_before_end(cfg: &DemoConfig, hours: i64) -> i64 {
    let end_ms = cfg.end.timestamp_millis();
    end_ms - end_ms.rem_euclid(HOUR_MS) - hours * HOUR_MS
}

/// The account, region and VPC of the egress burst, and the start of its hour.
pub fn egress_burst(cfg: &DemoConfig) -> (String, String, String, i64) {
    let account = cfg.account_ids()[0].clone();
    let region = cfg.regions.last().cloned().unwrap_or_default();
    let enis = super::parts::topology(0, cfg.regions.len().saturating_sub(1), &region);
    (
        account,
        region,
        enis[DB].vpc_id.clone(),
        hours_before_end(cfg, 8),
    )
}

/// The account, region and VPC that call the new peer, and when the calls begin.
pub fn new_peer(cfg: &DemoConfig) -> (String, String, String, i64) {
    let account = cfg.account_ids()[0].clone();
    let region = cfg.regions[0].clone();
    let enis = super::parts::topology(0, 0, &region);
    (
        account,
        region,
        enis[CALLER].vpc_id.clone(),
        hours_before_end(cfg, 20),
    )
}

/// Adds this hour's planted events of one partition to its records.
pub(super) fn plant(
    cfg: &DemoConfig,
    enis: &[Eni],
    key: &PartitionKey,
    hour_ms: i64,
    records: &mut Vec<FlowRecord>,
) {
    plant_exposed_service(cfg, enis, key, hour_ms, records);
    plant_egress_burst(cfg, enis, key, hour_ms, records);
    plant_new_peer(cfg, enis, key, hour_ms, records);
    plant_beacon(cfg, enis, key, hour_ms, records);
}

/// Twelve check-ins an hour with [`BEACON_DEST`], every [`BEACON_PERIOD_MS`] ± 10 s.
fn plant_beacon(
    cfg: &DemoConfig,
    enis: &[Eni],
    key: &PartitionKey,
    hour_ms: i64,
    records: &mut Vec<FlowRecord>,
) {
    let (account, region, _, _, from_ms) = beacon(cfg);
    if key.account_id != account || key.region != region || hour_ms < from_ms {
        return;
    }
    let mut rng = Rng::new(mix(&[cfg.seed, 41, hour_ms as u64]));
    let host = &enis[BEACON_HOST];
    for slot in 0..HOUR_MS / BEACON_PERIOD_MS {
        let jitter = rng.below(21) as i64 * 1000 - 10_000;
        let start = hour_ms + slot * BEACON_PERIOD_MS + 30_000 + jitter;
        let packets = 6 + rng.below(4) as i64;
        records.push(record(
            host,
            &key.account_id,
            &key.region,
            start,
            (&host.ip, BEACON_DEST),
            (ephemeral(&mut rng), 443, 6),
            (packets, packets * 180),
            FlowAction::Accept,
            FlowDirection::Egress,
            0,
        ));
    }
}

/// Thirty transfers of 70–100 MB from the database host to [`BURST_DEST`] in the burst's hour.
fn plant_egress_burst(
    cfg: &DemoConfig,
    enis: &[Eni],
    key: &PartitionKey,
    hour_ms: i64,
    records: &mut Vec<FlowRecord>,
) {
    let (account, region, _, burst_ms) = egress_burst(cfg);
    if key.account_id != account || key.region != region || hour_ms != burst_ms {
        return;
    }
    let mut rng = Rng::new(mix(&[cfg.seed, 31, hour_ms as u64]));
    let host = &enis[DB];
    for _ in 0..30 {
        let start = hour_ms + rng.below(3600) as i64 * 1000;
        let bytes = 70_000_000 + rng.below(30_000_000) as i64;
        records.push(record(
            host,
            &key.account_id,
            &key.region,
            start,
            (&host.ip, BURST_DEST),
            (ephemeral(&mut rng), 443, 6),
            (bytes / 1400, bytes),
            FlowAction::Accept,
            FlowDirection::Egress,
            0,
        ));
    }
}

/// One to three small calls an hour from the application host to [`NEW_PEER`], from the
/// calls' start on.
fn plant_new_peer(
    cfg: &DemoConfig,
    enis: &[Eni],
    key: &PartitionKey,
    hour_ms: i64,
    records: &mut Vec<FlowRecord>,
) {
    let (account, region, _, from_ms) = new_peer(cfg);
    if key.account_id != account || key.region != region || hour_ms < from_ms {
        return;
    }
    let mut rng = Rng::new(mix(&[cfg.seed, 37, hour_ms as u64]));
    let host = &enis[CALLER];
    for _ in 0..1 + rng.below(3) {
        let start = hour_ms + rng.below(3600) as i64 * 1000;
        let packets = 8 + rng.below(20) as i64;
        records.push(record(
            host,
            &key.account_id,
            &key.region,
            start,
            (&host.ip, NEW_PEER.0),
            (ephemeral(&mut rng), NEW_PEER.1, 6),
            (packets, packets * 300),
            FlowAction::Accept,
            FlowDirection::Egress,
            0,
        ));
    }
}

/// From the middle of the span on, SSH logins from the internet to the jump host, in about
/// half the hours.
fn plant_exposed_service(
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
