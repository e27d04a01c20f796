//! The shape of the demo traffic: accounts, VPCs, subnets and ENIs, and a traffic mix with heavy
//! talkers, internet egress, scans from outside, a diurnal cycle and one VPC that goes silent.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};

use super::{DemoConfig, FlowAction, FlowDirection, FlowRecord, PartitionKey};

/// SplitMix64: small, fast, deterministic (also what tests draw reproducible cases from).
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Heavy-tailed positive value around `median` (log-normal-ish).
    pub(super) fn heavy(&mut self, median: f64, spread: f64) -> i64 {
        let normal = self.unit() + self.unit() + self.unit() - 1.5;
        (median * (normal * spread * 2.0).exp()).max(1.0) as i64
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A hash of the parts. Every part goes through the full SplitMix finaliser, so lists that differ
/// anywhere give unrelated values (folding parts into the state alone made `[1, a, r, v]` collide
/// across accounts).
pub(super) fn mix(parts: &[u64]) -> u64 {
    let mut h = 0x5EED;
    for p in parts {
        h = Rng::new(h ^ p).next();
    }
    Rng::new(h).next()
}

pub(super) fn hex17(parts: &[u64]) -> String {
    format!("{:017x}", mix(parts))
}

/// Deterministic account id of an index.
pub(super) fn account_id(index: u32) -> String {
    match index {
        0 => "111122223333".to_string(),
        1 => "444455556666".to_string(),
        2 => "777788889999".to_string(),
        n => format!(
            "{:012}",
            100_000_000_000 + mix(&[u64::from(n)]) % 899_999_999_999
        ),
    }
}

/// One network interface of the demo topology.
#[derive(Debug, Clone)]
pub(super) struct Eni {
    pub(super) vpc: usize,
    pub(super) vpc_id: String,
    pub(super) subnet_id: String,
    pub(super) eni_id: String,
    pub(super) instance_id: Option<String>,
    pub(super) ip: String,
    /// The interface's IPv6 address (unique local, fd00::/8): dual-stack VPCs.
    pub(super) ip6: String,
    pub(super) zone: String,
}

/// Roles of ENIs in every account × region (indices into the ENI list).
const WEB: usize = 0; // public web server: ingress 443, target of scans
const DB: usize = 4; // database replicator: heavy east-west talker
const BACKUP: usize = 7; // backup host: heavy internet egress
/// The NAT gateway's interface (no instance): private hosts reach the internet through it.
pub(super) const NAT: usize = 11;
const ENIS_PER_SUBNET: usize = 3;

pub(super) fn topology(account: u32, region_idx: usize, region: &str) -> Vec<Eni> {
    let mut out = Vec::new();
    let (a, r) = (u64::from(account), region_idx as u64);
    for v in 0..2u64 {
        let vpc_id = format!("vpc-{}", hex17(&[1, a, r, v]));
        for s in 0..2u64 {
            let subnet_id = format!("subnet-{}", hex17(&[2, a, r, v, s]));
            let zone = format!("{region}{}", if s == 0 { 'a' } else { 'b' });
            for e in 0..ENIS_PER_SUBNET as u64 {
                let nat = v == 1 && s == 1 && e == 2;
                out.push(Eni {
                    vpc: v as usize,
                    vpc_id: vpc_id.clone(),
                    subnet_id: subnet_id.clone(),
                    eni_id: format!("eni-{}", hex17(&[3, a, r, v, s, e])),
                    instance_id: (!nat).then(|| format!("i-{}", hex17(&[4, a, r, v, s, e]))),
                    ip: format!("10.{}.{}.{}", (a * 4 + r) % 256, v * 16 + s, 10 + e),
                    ip6: format!(
                        "fd00:{:x}:{:x}::{:x}",
                        (a * 4 + r) % 65_536,
                        v * 16 + s,
                        10 + e
                    ),
                    zone: zone.clone(),
                });
            }
        }
    }
    out
}

pub(super) const PUBLIC_DESTS: [&str; 8] = [
    "52.216.8.21",
    "52.217.44.7",
    "142.250.72.14",
    "151.101.1.69",
    "104.16.132.229",
    "13.107.42.14",
    "3.5.140.2",
    "54.239.28.85",
];
const SCANNERS: [&str; 4] = [
    "45.155.205.17",
    "45.155.205.233",
    "185.220.101.4",
    "185.220.101.46",
];

/// The VPC ids of an account × region, in topology order.
pub(super) fn vpc_ids(account: u32, region_idx: usize, region: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for eni in topology(account, region_idx, region) {
        if !out.contains(&eni.vpc_id) {
            out.push(eni.vpc_id);
        }
    }
    out
}

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

/// The records of one partition, sorted by start time.
pub fn partition_records(cfg: &DemoConfig, key: &PartitionKey) -> Vec<FlowRecord> {
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
        let mut hour_records: Vec<FlowRecord> = background.collect::<Vec<_>>();
        hour_records.extend(scans);
        if cfg.messy {
            super::messy::roughen(cfg.seed, &enis, key, hour_ms, &mut hour_records);
        }
        for record in hour_records {
            let start = record.start_ms;
            if start < start_ms || start >= end_ms {
                continue;
            }
            if silent && record.vpc_id == silent_vpc_id && start >= stop.timestamp_millis() {
                continue;
            }
            out.push(record);
        }
    }
    out.sort_by_key(|r| r.start_ms);
    out
}

/// All records of the lake, in partition-key order.
pub fn all_records(cfg: &DemoConfig) -> Vec<FlowRecord> {
    partition_keys(cfg)
        .iter()
        .flat_map(|k| partition_records(cfg, k))
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn record(
    eni: &Eni,
    account: &str,
    region: &str,
    start: i64,
    (src, dst): (&str, &str),
    (src_port, dst_port, protocol): (i32, i32, i32),
    (packets, bytes): (i64, i64),
    action: FlowAction,
    direction: FlowDirection,
    boundary_id: i32,
) -> FlowRecord {
    let tcp_flags = match (protocol, action) {
        (6, FlowAction::Reject) => 2,
        (6, FlowAction::Accept) => 19,
        _ => 0,
    };
    FlowRecord {
        account_id: account.to_string(),
        region: region.to_string(),
        zone: eni.zone.clone(),
        vpc_id: eni.vpc_id.clone(),
        subnet_id: eni.subnet_id.clone(),
        eni_id: eni.eni_id.clone(),
        instance_id: eni.instance_id.clone(),
        src_addr: Some(src.to_string()),
        dst_addr: Some(dst.to_string()),
        src_port: Some(src_port),
        dst_port: Some(dst_port),
        protocol,
        packets,
        bytes,
        start_ms: start,
        end_ms: start + 60_000,
        delivered_ms: start,
        action,
        tcp_flags,
        direction,
        boundary_id,
    }
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

/// Another ENI of `eni`'s VPC, drawn at random.
pub(super) fn peer_in_vpc<'a>(rng: &mut Rng, enis: &'a [Eni], eni: &Eni) -> &'a Eni {
    let peers: Vec<&Eni> = enis
        .iter()
        .filter(|e| e.vpc == eni.vpc && e.ip != eni.ip)
        .collect();
    let peer: &&'a Eni = rng.pick(&peers);
    peer
}

pub(super) fn ephemeral(rng: &mut Rng) -> i32 {
    32_768 + rng.below(28_000) as i32
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
