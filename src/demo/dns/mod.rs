//! Route 53 Resolver queries of the demo VPCs, in Route 53 terms (version independent): what
//! `batch.rs` writes into the `route53` tables.
//!
//! Every instance of the flow model's topology resolves what it talks to: its region's AWS
//! service endpoints, package registries and SaaS APIs, now and then a name that does not exist
//! (a search-domain miss, a typo) or a lookup that fails upstream. On its own random stream, the
//! story: the database host that later bursts egress (`story::egress_burst`) resolves a rare
//! domain a quarter of an hour before, and one host tunnels data out through TXT lookups of long
//! random names under one domain. Every query is drawn from streams of its own (seed, account,
//! region, hour), so the flows, findings and CloudTrail events of the lake are unchanged.

mod batch;

pub use batch::dns_batch;

use super::parts::{mix, topology, Rng, DB};
use super::{DemoConfig, PartitionKey};

const HOUR_MS: i64 = 3_600_000;

/// One logged resolver query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuery {
    /// The VPC's account (`account_id`, the partition's account).
    pub account_id: String,
    /// The VPC's region.
    pub region: String,
    /// `vpc_id`.
    pub vpc_id: String,
    /// `srcaddr`.
    pub src_ip: String,
    /// `srcport`.
    pub src_port: i32,
    /// `srcids.instance`.
    pub instance_id: Option<String>,
    /// `query_timestamp`, epoch ms UTC.
    pub time_ms: i64,
    /// `query_name`, with the trailing dot.
    pub hostname: String,
    /// `query_type`.
    pub query_type: &'static str,
    /// The response code as OCSF's id (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN).
    pub rcode_id: i32,
    /// The answers' `Rdata` (none when the name does not resolve).
    pub answers: Vec<String>,
}

impl DnsQuery {
    /// The response code as Route 53 writes it.
    pub fn rcode(&self) -> &'static str {
        crate::lake::source::RCODES
            .iter()
            .find(|(id, _)| *id == i64::from(self.rcode_id))
            .map_or("OTHER", |(_, name)| *name)
    }
}

/// What the story plants: the rare domain and when the burst host resolves it, and the
/// tunnelling host with the domain it tunnels through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsStory {
    /// The account and region of the egress-burst host.
    pub rare_at: (String, String),
    /// The burst host's address.
    pub rare_source: String,
    /// When it resolves the rare domain, epoch ms.
    pub rare_ms: i64,
    /// The account and region of the tunnelling host.
    pub tunnel_at: (String, String),
    /// The tunnelling host's address.
    pub tunnel_source: String,
    /// When the tunnel opens and closes, epoch ms.
    pub tunnel_ms: (i64, i64),
}

/// The rare domain the burst host resolves before it sends.
pub const RARE_DOMAIN: &str = "drop.paste-bucket.top.";

/// The domain whose random subdomains carry the tunnel (the registered part after the labels).
pub const TUNNEL_DOMAIN: &str = "q.cdn-telemetry.net.";

/// Tunnel lookups per hour.
const TUNNEL_PER_HOUR: u64 = 60;

/// The tunnelling host: the first instance of the second VPC (last account, first region).
const TUNNEL_HOST: usize = 6;

/// Names every instance resolves; `{r}` stands for its region.
const REGIONAL: [&str; 6] = [
    "sts.{r}.amazonaws.com.",
    "s3.{r}.amazonaws.com.",
    "ec2.{r}.amazonaws.com.",
    "ssm.{r}.amazonaws.com.",
    "dynamodb.{r}.amazonaws.com.",
    "logs.{r}.amazonaws.com.",
];

const GLOBAL: [&str; 10] = [
    "api.github.com.",
    "registry.npmjs.org.",
    "pypi.org.",
    "files.pythonhosted.org.",
    "api.datadoghq.com.",
    "hooks.slack.com.",
    "login.microsoftonline.com.",
    "ntp.ubuntu.com.",
    "security.ubuntu.com.",
    "o123456.ingest.sentry.io.",
];

/// Names that do not exist: search-domain misses and typos.
const MISSES: [&str; 4] = [
    "wpad.ec2.internal.",
    "metadata.google.internal.",
    "api.githb.com.",
    "registry.npmjs.or.",
];

/// A name whose authoritative servers fail now and then.
const FLAKY: &str = "feed.partner-rates.example.";

/// Resolver queries per account × region × hour at the daily peak: a tenth of the flow records,
/// from 12 to 120.
pub fn queries_per_hour(cfg: &DemoConfig) -> u32 {
    (cfg.flows_per_hour / 10).clamp(12, 120)
}

/// The story of a lake.
pub fn dns_story(cfg: &DemoConfig) -> DnsStory {
    let (account, region, _, burst_ms) = super::egress_burst(cfg);
    let last_region = cfg.regions.len().saturating_sub(1);
    let burst_host = &topology(0, last_region, &region)[DB];
    let tunnel_account = cfg.accounts.saturating_sub(1);
    let tunnel_region = cfg.regions[0].clone();
    let tunnel_host = &topology(tunnel_account, 0, &tunnel_region)[TUNNEL_HOST];
    let end_ms = cfg.end.timestamp_millis();
    let opens = end_ms - end_ms.rem_euclid(HOUR_MS) - 6 * HOUR_MS;
    DnsStory {
        rare_at: (account, region),
        rare_source: burst_host.ip.clone(),
        rare_ms: burst_ms - 15 * 60_000,
        tunnel_at: (
            cfg.account_ids()[tunnel_account as usize].clone(),
            tunnel_region,
        ),
        tunnel_source: tunnel_host.ip.clone(),
        tunnel_ms: (opens, opens + 3 * HOUR_MS),
    }
}

/// The queries of one partition within the lake's span, sorted by time.
pub fn partition_dns_queries(cfg: &DemoConfig, key: &PartitionKey) -> Vec<DnsQuery> {
    let Some(account) = cfg.account_ids().iter().position(|a| *a == key.account_id) else {
        return Vec::new();
    };
    let Some(region_idx) = cfg.regions.iter().position(|r| *r == key.region) else {
        return Vec::new();
    };
    let day = key
        .day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis());
    let mut out = Vec::new();
    for hour in 0..24 {
        hour_queries(
            cfg,
            key,
            (account as u32, region_idx),
            day + hour * HOUR_MS,
            &mut out,
        );
    }
    story_queries(cfg, key, day, &mut out);
    let (start, end) = (cfg.start().timestamp_millis(), cfg.end.timestamp_millis());
    out.retain(|q| (start..end).contains(&q.time_ms));
    out.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then(a.src_ip.cmp(&b.src_ip)));
    out
}

/// Every query of the lake, in partition-key order.
pub fn all_dns_queries(cfg: &DemoConfig) -> Vec<DnsQuery> {
    super::partition_keys(cfg)
        .iter()
        .flat_map(|k| partition_dns_queries(cfg, k))
        .collect()
}

/// The share of the peak an hour has (quietest at 02:00 UTC), as the flows have it.
fn activity(hour: i64) -> f64 {
    let phase = (hour as f64 - 2.0) / 24.0 * std::f64::consts::TAU;
    0.3 + 0.7 * (0.5 - 0.5 * phase.cos())
}

/// One hour's everyday lookups of an account × region.
fn hour_queries(
    cfg: &DemoConfig,
    key: &PartitionKey,
    (account, region_idx): (u32, usize),
    hour_ms: i64,
    out: &mut Vec<DnsQuery>,
) {
    let (a, r) = (u64::from(account), region_idx as u64);
    let mut rng = Rng::new(mix(&[cfg.seed, 53, a, r, hour_ms as u64]));
    let count = (f64::from(queries_per_hour(cfg))
        * activity((hour_ms / HOUR_MS) % 24)
        * (0.85 + 0.3 * rng.unit()))
    .round() as u64;
    let enis: Vec<_> = topology(account, region_idx, &key.region)
        .into_iter()
        .filter(|e| e.instance_id.is_some())
        .collect();
    for _ in 0..count {
        let eni = rng.pick(&enis);
        let roll = rng.below(1000);
        let (hostname, rcode_id) = match roll {
            0..=39 => (rng.pick(&MISSES).to_string(), 3),
            40..=44 => (FLAKY.to_string(), 2),
            45..=99 => (FLAKY.to_string(), 0),
            100..=549 => (rng.pick(&REGIONAL).replace("{r}", &key.region), 0),
            _ => (rng.pick(&GLOBAL).to_string(), 0),
        };
        let query_type = if rng.below(4) == 0 { "AAAA" } else { "A" };
        out.push(DnsQuery {
            account_id: key.account_id.clone(),
            region: key.region.clone(),
            vpc_id: eni.vpc_id.clone(),
            src_ip: eni.ip.clone(),
            src_port: 1024 + rng.below(64_000) as i32,
            instance_id: eni.instance_id.clone(),
            time_ms: hour_ms + rng.below(3_600_000) as i64,
            answers: answers(&hostname, query_type, rcode_id),
            hostname,
            query_type,
            rcode_id,
        });
    }
}

/// The addresses a name resolves to: a stable one per name and type, none when it failed.
fn answers(hostname: &str, query_type: &str, rcode_id: i32) -> Vec<String> {
    if rcode_id != 0 {
        return Vec::new();
    }
    let h = hostname
        .bytes()
        .fold(0x0D15_u64, |h, b| mix(&[h, u64::from(b)]));
    match query_type {
        "AAAA" => vec![format!(
            "2600:1f18:{:x}::{:x}",
            h % 65_536,
            (h >> 16) % 65_536
        )],
        "TXT" => vec!["\"ok\"".to_string()],
        _ => vec![format!(
            "{}.{}.{}.{}",
            3 + h % 50,
            (h >> 8) % 256,
            (h >> 16) % 256,
            1 + (h >> 24) % 254
        )],
    }
}

/// The story's lookups that fall in this partition (its own random stream).
fn story_queries(cfg: &DemoConfig, key: &PartitionKey, day: i64, out: &mut Vec<DnsQuery>) {
    let story = dns_story(cfg);
    let in_day = |t: i64| (day..day + 24 * HOUR_MS).contains(&t);
    let here = |at: &(String, String)| at.0 == key.account_id && at.1 == key.region;
    let query = |src_ip: &str, time_ms: i64, hostname: String, query_type| {
        let (vpc_id, instance_id) = instance_of(cfg, key, src_ip);
        DnsQuery {
            account_id: key.account_id.clone(),
            region: key.region.clone(),
            vpc_id,
            src_ip: src_ip.to_string(),
            src_port: 53_000,
            instance_id,
            time_ms,
            answers: answers(&hostname, query_type, 0),
            hostname,
            query_type,
            rcode_id: 0,
        }
    };
    if here(&story.rare_at) && in_day(story.rare_ms) {
        out.push(query(
            &story.rare_source,
            story.rare_ms,
            RARE_DOMAIN.to_string(),
            "A",
        ));
    }
    if !here(&story.tunnel_at) {
        return;
    }
    let mut rng = Rng::new(mix(&[cfg.seed, 530, story.tunnel_ms.0 as u64]));
    let (opens, closes) = story.tunnel_ms;
    let lookups = (closes - opens) / HOUR_MS * TUNNEL_PER_HOUR as i64;
    for i in 0..lookups {
        let time = opens + i * (closes - opens) / lookups;
        let label: String = (0..40 + rng.below(12))
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz234567"[rng.below(32) as usize]))
            .collect();
        if in_day(time) {
            let name = format!("{label}.{TUNNEL_DOMAIN}");
            out.push(query(&story.tunnel_source, time, name, "TXT"));
        }
    }
}

/// The VPC and instance of an address of the partition's topology.
fn instance_of(cfg: &DemoConfig, key: &PartitionKey, ip: &str) -> (String, Option<String>) {
    let account = cfg
        .account_ids()
        .iter()
        .position(|a| *a == key.account_id)
        .unwrap_or(0) as u32;
    let region_idx = cfg
        .regions
        .iter()
        .position(|r| *r == key.region)
        .unwrap_or(0);
    topology(account, region_idx, &key.region)
        .into_iter()
        .find(|e| e.ip == ip)
        .map_or((String::new(), None), |e| (e.vpc_id, e.instance_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::SourceVersion;

    #[test]
    fn queries_are_deterministic_and_tell_the_story() {
        let c = DemoConfig {
            days: 4,
            accounts: 2,
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            seed: 5,
            end: chrono::DateTime::parse_from_rfc3339("2024-06-04T12:00:00Z")
                .unwrap()
                .to_utc(),
            versions: vec![SourceVersion::V1, SourceVersion::V2],
            flows_per_hour: 20,
            messy: false,
        };
        let all = all_dns_queries(&c);
        assert_eq!(all, all_dns_queries(&c));
        let story = dns_story(&c);
        let rare: Vec<_> = all.iter().filter(|q| q.hostname == RARE_DOMAIN).collect();
        assert_eq!(rare.len(), 1);
        assert_eq!(
            (rare[0].src_ip.as_str(), rare[0].time_ms),
            (story.rare_source.as_str(), story.rare_ms)
        );
        let tunnel: Vec<_> = all
            .iter()
            .filter(|q| q.hostname.ends_with(TUNNEL_DOMAIN))
            .collect();
        assert_eq!(tunnel.len(), 3 * TUNNEL_PER_HOUR as usize);
        assert!(tunnel.iter().all(|q| q.src_ip == story.tunnel_source));
        assert!(all.iter().any(|q| q.rcode() == "NXDOMAIN"));
        assert!(all.iter().any(|q| q.rcode() == "SERVFAIL"));
        assert!(all.iter().all(|q| !q.vpc_id.is_empty()));
    }
}
