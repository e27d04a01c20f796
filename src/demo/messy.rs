//! What real lakes carry and the clean demo traffic does not: the mess every query kind must
//! survive. Added per account × region × hour on its own random stream, so the clean records stay
//! the same with or without it:
//!
//! - IPv6: dual-stack ENIs talking to each other over unique-local addresses (`fd00::/8`), to
//!   public IPv6 services, and scanned from a public IPv6 address;
//! - addresses that are not addresses: NODATA-like records with `-` for both addresses and no
//!   ports, and records whose destination the OCSF mapping left NULL;
//! - NAT-gateway traffic (host → NAT ENI, NAT ENI → internet; the NAT ENI has no instance) and
//!   interface-endpoint traffic (host → an endpoint address of its subnet);
//! - ICMP without ports (NULL, as OCSF maps it, instead of 0);
//! - a long-lived flow starting before midnight and ending after it;
//! - late deliveries: records that reach the lake hours after they started (`delivered_ms`),
//!   always inside the partition of their own UTC day, so files are not in time order.

use super::parts::{ephemeral, mix, peer_in_vpc, record, Eni, Rng, NAT, PUBLIC_DESTS};
use super::{FlowAction, FlowDirection, FlowRecord, PartitionKey};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Public IPv6 services the dual-stack hosts reach.
const PUBLIC_V6_DESTS: [&str; 3] = [
    "2600:1f18:4a3:6902::15",
    "2a00:1450:4001:82b::200e",
    "2606:4700::6810:84e5",
];

/// A public IPv6 address that probes the web server.
const V6_SCANNER: &str = "2a0e:97c0:3e3:1a::17";

/// FNV-1a of a text, to seed the mess of a partition from its account and region names.
fn text_seed(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Adds the mess of one hour to its clean records and roughens them (ICMP ports, late delivery).
pub(super) fn roughen(
    seed: u64,
    enis: &[Eni],
    key: &PartitionKey,
    hour_ms: i64,
    records: &mut Vec<FlowRecord>,
) {
    let mut rng = Rng::new(mix(&[
        seed,
        23,
        text_seed(&key.account_id),
        text_seed(&key.region),
        hour_ms as u64,
    ]));
    let ctx = Hour {
        enis,
        account: &key.account_id,
        region: &key.region,
        hour_ms,
    };
    records.extend(ctx.extras(&mut rng));
    let day_end = hour_ms.div_euclid(DAY_MS) * DAY_MS + DAY_MS;
    for r in records.iter_mut() {
        if r.protocol == 1 {
            r.src_port = None;
            r.dst_port = None;
        }
        if rng.below(25) == 0 {
            let late = r.start_ms + (1 + rng.below(5) as i64) * HOUR_MS;
            r.delivered_ms = late.min(day_end - 1);
        }
    }
}

/// The account × region × hour the mess is made for.
struct Hour<'a> {
    enis: &'a [Eni],
    account: &'a str,
    region: &'a str,
    hour_ms: i64,
}

impl Hour<'_> {
    fn start(&self, rng: &mut Rng) -> i64 {
        self.hour_ms + rng.below(3600) as i64 * 1000
    }

    /// A flow on `eni`'s log between two addresses.
    fn flow(
        &self,
        eni: &Eni,
        start: i64,
        addrs: (&str, &str),
        ports: (i32, i32, i32),
        (action, direction, boundary): (FlowAction, FlowDirection, i32),
        bytes: i64,
    ) -> FlowRecord {
        record(
            eni,
            self.account,
            self.region,
            start,
            addrs,
            ports,
            (bytes / 1_000 + 1, bytes),
            action,
            direction,
            boundary,
        )
    }

    fn extras(&self, rng: &mut Rng) -> Vec<FlowRecord> {
        use FlowAction::{Accept, Reject};
        use FlowDirection::{Egress, Ingress};
        let enis = self.enis;
        let mut out = Vec::new();
        // Dual-stack east-west over unique-local addresses.
        for _ in 0..2 {
            let src = rng.pick(enis);
            let dst = peer_in_vpc(rng, enis, src);
            let start = self.start(rng);
            let bytes = rng.heavy(30_000.0, 0.7);
            out.push(self.flow(
                src,
                start,
                (&src.ip6, &dst.ip6),
                (ephemeral(rng), 443, 6),
                (Accept, Egress, 1),
                bytes,
            ));
        }
        // Public IPv6 egress.
        let src = rng.pick(enis);
        let (start, dst) = (self.start(rng), *rng.pick(&PUBLIC_V6_DESTS));
        let bytes = rng.heavy(200_000.0, 0.8);
        out.push(self.flow(
            src,
            start,
            (&src.ip6, dst),
            (ephemeral(rng), 443, 6),
            (Accept, Egress, 5),
            bytes,
        ));
        // An IPv6 probe of the web server, refused.
        if rng.below(2) == 0 {
            let web = &enis[0];
            let start = self.start(rng);
            let port = 1 + rng.below(65_535) as i32;
            out.push(self.flow(
                web,
                start,
                (V6_SCANNER, &web.ip6),
                (ephemeral(rng), port, 6),
                (Reject, Ingress, 0),
                60,
            ));
        }
        out.extend(self.not_addresses(rng));
        out.extend(self.nat_and_endpoint(rng));
        if self.hour_ms.rem_euclid(DAY_MS) == 23 * HOUR_MS {
            out.push(self.across_midnight(rng));
        }
        out
    }

    /// A NODATA-like record (`-` for both addresses, no ports, nothing counted) and a record
    /// whose destination the OCSF mapping left NULL.
    fn not_addresses(&self, rng: &mut Rng) -> Vec<FlowRecord> {
        let mut out = Vec::new();
        if rng.below(2) == 0 {
            let eni = rng.pick(self.enis);
            let mut r = self.flow(
                eni,
                self.start(rng),
                ("-", "-"),
                (0, 0, 6),
                (FlowAction::Accept, FlowDirection::Ingress, 0),
                0,
            );
            (r.src_port, r.dst_port, r.packets, r.tcp_flags) = (None, None, 0, 0);
            out.push(r);
        }
        if rng.below(3) == 0 {
            let eni = rng.pick(self.enis);
            let mut r = self.flow(
                eni,
                self.start(rng),
                (&eni.ip, ""),
                (0, 0, 17),
                (FlowAction::Accept, FlowDirection::Egress, 0),
                76,
            );
            (r.dst_addr, r.src_port, r.dst_port) = (None, None, None);
            out.push(r);
        }
        out
    }

    /// A host's connection through the NAT gateway, seen on both ENIs, and a call to an
    /// interface endpoint of the host's subnet.
    fn nat_and_endpoint(&self, rng: &mut Rng) -> Vec<FlowRecord> {
        use FlowAction::Accept;
        use FlowDirection::{Egress, Ingress};
        let nat = &self.enis[NAT];
        let hosts: Vec<&Eni> = self
            .enis
            .iter()
            .filter(|e| e.vpc == nat.vpc && e.instance_id.is_some())
            .collect();
        let host = *rng.pick(&hosts);
        let start = self.start(rng);
        let bytes = rng.heavy(90_000.0, 0.8);
        let public = *rng.pick(&PUBLIC_DESTS);
        // The NAT gateway's interface receives the host's packet addressed to the internet host
        // (pkt-dstaddr) and logs its own address as dstaddr.
        let mut to_nat = self.flow(
            nat,
            start,
            (&host.ip, public),
            (ephemeral(rng), 443, 6),
            (Accept, Ingress, 1),
            bytes,
        );
        to_nat.dst_interface_addr = Some(nat.ip.clone());
        let from_nat = self.flow(
            nat,
            start + 1_000,
            (&nat.ip, public),
            (ephemeral(rng), 443, 6),
            (Accept, Egress, 5),
            bytes,
        );
        let caller = rng.pick(self.enis);
        let endpoint = format!(
            "{}.250",
            caller.ip.rsplit_once('.').map_or("10.0.0", |x| x.0)
        );
        let bytes = rng.heavy(15_000.0, 0.6);
        let to_endpoint = self.flow(
            caller,
            self.start(rng),
            (&caller.ip, &endpoint),
            (ephemeral(rng), 443, 6),
            (Accept, Egress, 1),
            bytes,
        );
        vec![to_nat, from_nat, to_endpoint]
    }

    /// A 90-minute transfer that starts in the day's last hour and ends in the next day.
    fn across_midnight(&self, rng: &mut Rng) -> FlowRecord {
        let src = &self.enis[7];
        let start = self.hour_ms + (20 + rng.below(20) as i64) * 60_000;
        let bytes = rng.heavy(50_000_000.0, 0.3);
        let mut r = self.flow(
            src,
            start,
            (&src.ip, PUBLIC_DESTS[0]),
            (ephemeral(rng), 443, 6),
            (FlowAction::Accept, FlowDirection::Egress, 5),
            bytes,
        );
        r.end_ms = start + 90 * 60_000;
        r
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use chrono::DateTime;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::statistics::Statistics;

    use crate::demo::{all_records, partition_keys, write_lake, DemoConfig};
    use crate::lake::SourceVersion;
    use crate::net::{is_public, Cidr};

    fn cfg(messy: bool) -> DemoConfig {
        DemoConfig {
            days: 2,
            accounts: 1,
            regions: vec!["us-east-1".into()],
            seed: 5,
            end: DateTime::parse_from_rfc3339("2024-06-03T00:00:00Z")
                .unwrap()
                .to_utc(),
            versions: vec![SourceVersion::V2],
            flows_per_hour: 10,
            messy,
        }
    }

    #[test]
    fn the_messy_lake_carries_every_kind_of_mess_and_keeps_the_clean_records() {
        let records = all_records(&cfg(true));
        let clean = all_records(&cfg(false));
        let ula = Cidr::parse("fc00::/7").unwrap();
        let v6: Vec<_> = records.iter().filter(|r| r.is_ipv6()).collect();
        assert!(v6
            .iter()
            .any(|r| r.dst_ip().is_some_and(|a| ula.contains(a))));
        assert!(v6.iter().any(|r| r.dst_ip().is_some_and(is_public)));
        assert!(records.iter().any(|r| r.src_addr.as_deref() == Some("-")));
        assert!(records.iter().any(|r| r.dst_addr.is_none()));
        assert!(records
            .iter()
            .filter(|r| r.protocol == 1)
            .all(|r| r.src_port.is_none() && r.dst_port.is_none()));
        assert!(records.iter().any(|r| r.instance_id.is_none()), "NAT ENI");
        let day = |ms: i64| ms.div_euclid(86_400_000);
        assert!(records.iter().any(|r| day(r.end_ms) > day(r.start_ms)));
        let late: Vec<_> = records
            .iter()
            .filter(|r| r.delivered_ms >= r.start_ms + 3_600_000)
            .collect();
        assert!(!late.is_empty());
        assert!(late.iter().all(|r| day(r.delivered_ms) == day(r.start_ms)));
        // The clean traffic is all there (ICMP aside, whose ports become NULL).
        for c in clean.iter().filter(|c| c.protocol != 1) {
            assert!(
                records.iter().any(|r| r.start_ms == c.start_ms
                    && r.src_addr == c.src_addr
                    && r.bytes == c.bytes),
                "{c:?}"
            );
        }
    }

    #[test]
    fn a_messy_partition_has_several_files_with_row_groups_out_of_time_order() {
        let dir = std::env::temp_dir().join(format!("lakewatch-messy-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        write_lake(&cfg(true), &dir, false).unwrap();
        let key = &partition_keys(&cfg(true))[1];
        let folder = dir.join(format!(
            "aws/VPC_FLOW/2.0/region={}/accountId={}/eventDay={}",
            key.region,
            key.account_id,
            key.day.format("%Y%m%d")
        ));
        let files: Vec<_> = fs::read_dir(&folder).unwrap().flatten().collect();
        assert!(files.len() > 1, "{}", folder.display());
        let mut out_of_order = false;
        for file in files {
            let reader = SerializedFileReader::new(fs::File::open(file.path()).unwrap()).unwrap();
            let meta = reader.metadata();
            let time = meta
                .file_metadata()
                .schema_descr()
                .columns()
                .iter()
                .position(|c| c.path().string() == "time")
                .unwrap();
            let mins: Vec<i64> = meta
                .row_groups()
                .iter()
                .filter_map(|g| match g.column(time).statistics() {
                    Some(Statistics::Int64(s)) => s.min_opt().copied(),
                    _ => None,
                })
                .collect();
            out_of_order |= mins.windows(2).any(|w| w[1] < w[0]);
        }
        assert!(out_of_order);
        fs::remove_dir_all(&dir).unwrap();
    }
}
