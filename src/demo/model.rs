//! The shape of the demo traffic on the topology of `parts.rs`: a traffic mix with heavy
//! talkers, internet egress, scans from outside, a diurnal cycle and one VPC that goes silent.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};

use super::parts::{
    account_id, ephemeral, mix, peer_in_vpc, record, topology, Eni, Rng, BACKUP, DB, PUBLIC_DESTS,
    WEB,
};
use super::{DemoConfig, FlowAction, FlowDirection, FlowRecord, PartitionKey};

const SCANNERS: [&str; 4] = [
    "45.155.205.17",
    "45.155.205.233",
    "185.220.101.4",
    "185.220.101.46",
];

/// The VPC whose flow logs stop: (account, region, vpc id, stopped at).
pub fn silent_vpc(cfg: &DemoConfig) -> (String, String, String, DateTime<Utc>) {
    let account = if cfg.accounts > 1 { 1 } else { 0 };
    let region = cfg.regions.first().cloned().unwrap_or_default();
    let vpc = topology(account, 0, &region)[0].vpc_id.clone();
    let span = cfg.end - cfg.start();
    let stop = cfg.start() + span * 3 / 4;
    let stop = stop
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(stop);
    (account_id(account), region, vpc, stop)
}

/// Every (account, region, UTC day) the span `[start, end)` touches, sorted.
pub fn partition_keys(cfg: &DemoConfig) -> Vec<PartitionKey> {
    let first = cfg.start().date_naive();
    let last = (cfg.end - Duration::milliseconds(1)).date_naive();
    let mut keys = Vec::new();
    for account in cfg.account_ids() {
        for region in &cfg.regions {
            for day in first.iter_days().take_while(|d| *d <= last) {
                keys.push(PartitionKey {
                    account_id: account.clone(),
                    region: region.clone(),
                    day,
                });
            }
        }
    }
    keys.sort();
    keys
}

/// Daily curve: 0.35 at 03:00 UTC, 1.0 at 15:00 UTC.
fn diurnal(hour: u32) -> f64 {
    let phase = (f64::from(hour) - 3.0) / 24.0 * std::f64::consts::TAU;
    0.35 + 0.65 * (0.5 - 0.5 * phase.cos())
}

/// The records of one partition, sorted by start time. `each_hour` sees every hour's records
/// (with the hour's ENIs and start) before they are filtered to the lake's span: the messy lake
/// adds and roughens records there, so the clean model need not know of the mess.
pub(super) fn partition_records_with(
    cfg: &DemoConfig,
    key: &PartitionKey,
    mut each_hour: impl FnMut(&[Eni], i64, &mut Vec<FlowRecord>),
) -> Vec<FlowRecord> {
    let Some(account) = cfg.account_ids().iter().position(|a| *a == key.account_id) else {
        return Vec::new();
    };
    let Some(region_idx) = cfg.regions.iter().position(|r| *r == key.region) else {
        return Vec::new();
    };
    let enis = topology(account as u32, region_idx, &key.region);
    let (silent_account, silent_region, silent_vpc_id, stop) = silent_vpc(cfg);
    let silent = key.account_id == silent_account && key.region == silent_region;
    let (start_ms, end_ms) = (cfg.start().timestamp_millis(), cfg.end.timestamp_millis());
    let day_start = key
        .day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0);
    let day_factor = {
        let mut r = Rng::new(mix(&[
            cfg.seed,
            9,
            account as u64,
            region_idx as u64,
            day_start as u64,
        ]));
        0.9 + 0.2 * r.unit()
    };
    let mut out = Vec::new();
    for hour in 0..24u32 {
        let hour_ms = day_start + i64::from(hour) * 3_600_000;
        if hour_ms + 3_600_000 <= start_ms || hour_ms >= end_ms {
            continue;
        }
        let mut rng = Rng::new(mix(&[
            cfg.seed,
            account as u64,
            region_idx as u64,
            hour_ms as u64,
        ]));
        let count = (f64::from(cfg.flows_per_hour) * diurnal(hour) * day_factor).round() as u64;
        let mut burst_rng = Rng::new(mix(&[
            cfg.seed,
            17,
            account as u64,
            region_idx as u64,
            hour_ms as u64,
        ]));
        let scans = bursts(&mut burst_rng, &enis, &key.account_id, &key.region, hour_ms);
        let background = (0..count).map(|_| {
            let start = hour_ms + rng.below(3600) as i64 * 1000;
            flow(&mut rng, &enis, &key.account_id, &key.region, start)
        });
        let mut hour_records: Vec<FlowRecord> = Vec::with_capacity(count as usize + scans.len());
        hour_records.extend(background);
        hour_records.extend(scans);
        each_hour(&enis, hour_ms, &mut hour_records);
        let stop_ms = stop.timestamp_millis();
        hour_records.retain(|r| {
            let start = r.start_ms;
            (start_ms..end_ms).contains(&start)
                && !(silent && start >= stop_ms && r.vpc_id == silent_vpc_id)
        });
        // One block copy of the hour instead of a push per record.
        out.append(&mut hour_records);
    }
    // Stable, as sorting by key: the permutation is worked out on (key, index) pairs, so the
    // records (a few hundred bytes each) move once instead of at every step of the sort.
    out.sort_by_cached_key(|r| r.start_ms);
    out
}

/// Scan bursts, independent of the background rate so that small lakes have them too: about one
/// port scan every 8 hours per account and region (one scanner, 30–120 distinct ports of one
/// host within a few minutes) and one host sweep every 12 hours (port 22 on every ENI).
fn bursts(
    rng: &mut Rng,
    enis: &[Eni],
    account: &str,
    region: &str,
    hour_ms: i64,
) -> Vec<FlowRecord> {
    let mut out = Vec::new();
    let scan = |target: &Eni, scanner: &str, start: i64, port: i32, packets: i64| {
        record(
            target,
            account,
            region,
            start,
            (scanner, &target.ip),
            (40_000 + port % 20_000, port, 6),
            (packets, packets * 44),
            FlowAction::Reject,
            FlowDirection::Ingress,
            0,
        )
    };
    if rng.below(8) == 0 {
        let scanner = *rng.pick(&SCANNERS);
        let target = if rng.below(10) < 7 {
            &enis[WEB]
        } else {
            rng.pick(enis)
        };
        let begin = hour_ms + rng.below(50) as i64 * 60_000;
        let ports = 30 + rng.below(91) as i32;
        let first = 1 + rng.below(60_000) as i32;
        for i in 0..ports {
            let start = begin + i64::from(i) * 2_000;
            out.push(scan(
                target,
                scanner,
                start,
                first + i,
                1 + rng.below(2) as i64,
            ));
        }
    }
    if rng.below(12) == 0 {
        let scanner = *rng.pick(&SCANNERS);
        let begin = hour_ms + rng.below(55) as i64 * 60_000;
        for (i, target) in enis.iter().enumerate() {
            out.push(scan(target, scanner, begin + i as i64 * 5_000, 22, 1));
        }
    }
    out
}

fn flow(rng: &mut Rng, enis: &[Eni], account: &str, region: &str, start: i64) -> FlowRecord {
    use FlowAction::{Accept, Reject};
    use FlowDirection::{Egress, Ingress};
    let roll = rng.below(100);
    match roll {
        // East-west inside a VPC, from the source ENI's point of view.
        0..=44 => {
            let src = rng.pick(enis);
            let dst = peer_in_vpc(rng, enis, src);
            let (port, proto) = *rng.pick(&[(443, 6), (5432, 6), (6379, 6), (8080, 6), (53, 17)]);
            let bytes = rng.heavy(20_000.0, 0.8);
            record(
                src,
                account,
                region,
                start,
                (&src.ip, &dst.ip),
                (ephemeral(rng), port, proto),
                (bytes / 900 + 1, bytes),
                Accept,
                Egress,
                1,
            )
        }
        // Internet egress; the backup host carries most of it.
        45..=64 => {
            let src = if rng.below(10) < 4 {
                &enis[BACKUP]
            } else {
                rng.pick(enis)
            };
            let dst = *rng.pick(&PUBLIC_DESTS);
            let port = if rng.below(10) < 8 { 443 } else { 80 };
            let median = if src.ip == enis[BACKUP].ip {
                4_000_000.0
            } else {
                60_000.0
            };
            let bytes = rng.heavy(median, 0.9);
            record(
                src,
                account,
                region,
                start,
                (&src.ip, dst),
                (ephemeral(rng), port, 6),
                (bytes / 1_200 + 1, bytes),
                Accept,
                Egress,
                5,
            )
        }
        // Clients from the internet to the public web server.
        65..=79 => {
            let web = &enis[WEB];
            let client = format!(
                "{}.{}.{}.{}",
                23 + rng.below(180),
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            );
            let bytes = rng.heavy(8_000.0, 0.6);
            record(
                web,
                account,
                region,
                start,
                (&client, &web.ip),
                (ephemeral(rng), 443, 6),
                (bytes / 700 + 1, bytes),
                Accept,
                Ingress,
                0,
            )
        }
        // Scans from outside: many ports, rejected.
        80..=89 => {
            let target = if rng.below(10) < 7 {
                &enis[WEB]
            } else {
                rng.pick(enis)
            };
            let scanner = *rng.pick(&SCANNERS);
            let port = 1 + rng.below(65_535) as i32;
            let packets = 1 + rng.below(2) as i64;
            record(
                target,
                account,
                region,
                start,
                (scanner, &target.ip),
                (ephemeral(rng), port, 6),
                (packets, packets * 44),
                Reject,
                Ingress,
                0,
            )
        }
        // The database replicator: the heaviest talker.
        90..=96 => {
            let db = &enis[DB];
            let dst = peer_in_vpc(rng, enis, db);
            let bytes = rng.heavy(40_000_000.0, 0.5);
            record(
                db,
                account,
                region,
                start,
                (&db.ip, &dst.ip),
                (5432, ephemeral(rng), 6),
                (bytes / 8_500 + 1, bytes),
                Accept,
                Egress,
                1,
            )
        }
        // ICMP and DNS to the VPC resolver.
        _ => {
            let src = rng.pick(enis);
            if rng.below(2) == 0 {
                let dst = *rng.pick(&PUBLIC_DESTS);
                record(
                    src,
                    account,
                    region,
                    start,
                    (&src.ip, dst),
                    (0, 0, 1),
                    (4, 336),
                    Accept,
                    Egress,
                    5,
                )
            } else {
                let resolver = format!("{}.2", src.ip.rsplit_once('.').map_or("10.0.0", |x| x.0));
                record(
                    src,
                    account,
                    region,
                    start,
                    (&src.ip, &resolver),
                    (ephemeral(rng), 53, 17),
                    (2, 180),
                    Accept,
                    Egress,
                    1,
                )
            }
        }
    }
}

/// The first UTC day of the lake (for tests).
#[allow(dead_code)]
pub(super) fn first_day(cfg: &DemoConfig) -> NaiveDate {
    cfg.start().date_naive()
}
