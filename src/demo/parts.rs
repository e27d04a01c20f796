//! The building blocks shared by the clean traffic (`model.rs`), the mess on top of it
//! (`messy.rs`) and the findings (`findings.rs`): the random streams, the ids, the topology of
//! an account × region and the constructor of a flow record. Imports nothing of its siblings, so
//! they all build on it without importing each other.

use super::{FlowAction, FlowDirection, FlowRecord};

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
    pub(super) fn unit(&mut self) -> f64 {
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
pub(super) const WEB: usize = 0; // public web server: ingress 443, target of scans
pub(super) const DB: usize = 4; // database replicator: heavy east-west talker
pub(super) const BACKUP: usize = 7; // backup host: heavy internet egress
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
        src_interface_addr: None,
        dst_interface_addr: None,
        src_aws_service: aws_service(src),
        dst_aws_service: aws_service(dst),
    }
}

/// The AWS services of the demo's public addresses, by address prefix, as AWS's published
/// address ranges name them (what flow logs write as pkt-src/dst-aws-service).
const AWS_RANGES: [(&str, &str); 4] = [
    ("52.216.", "S3"),
    ("52.217.", "S3"),
    ("3.5.", "S3"),
    ("54.239.", "AMAZON"),
];

/// The AWS service whose range holds an address, if any.
fn aws_service(addr: &str) -> Option<&'static str> {
    AWS_RANGES
        .iter()
        .find(|(prefix, _)| addr.starts_with(prefix))
        .map(|(_, service)| *service)
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
