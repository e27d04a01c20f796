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

use super::model::{ephemeral, mix, record, Eni, Rng, NAT, PUBLIC_DESTS};
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
            let peers: Vec<&Eni> = enis
                .iter()
                .filter(|e| e.vpc == src.vpc && e.ip != src.ip)
                .collect();
            let dst = *rng.pick(&peers);
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
        use FlowDirection::Egress;
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
        let to_nat = self.flow(
            host,
            start,
            (&host.ip, &nat.ip),
            (ephemeral(rng), 443, 6),
            (Accept, Egress, 1),
            bytes,
        );
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
