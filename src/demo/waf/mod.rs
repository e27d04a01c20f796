//! AWS WAF requests of the demo accounts' web ACLs, in WAF terms: what `batch.rs` writes into the
//! `waf_2_0` tables (Security Lake collects WAF logs in source version 2 only).
//!
//! Each account has a regional web ACL in front of its shop's load balancer in every region, with
//! AWS managed rule groups and a rate-based rule on the search API. Customers from a few
//! countries browse and buy and are allowed; now and then a login gets a CAPTCHA; scanners probe
//! for well-known files and are blocked by the managed rules. On its own random stream, the
//! story: one client hammers the search API every afternoon in the first account and region and
//! hits the rate-based rule, and the address that later uses carol's stolen key
//! (`trail::NEW_ADDRESS`) probes the web ACL first and is blocked. Every request comes from
//! streams of its own (seed, account, region, hour), so the lake's other records are unchanged.

mod batch;

pub use batch::waf_batch;

use super::parts::{mix, Rng};
use super::story::SSH_CALLERS;
use super::trail::{trail_story, NEW_ADDRESS};
use super::{DemoConfig, PartitionKey};

const HOUR_MS: i64 = 3_600_000;

/// One logged web request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WafRequest {
    /// The web ACL's account (the partition's).
    pub account_id: String,
    /// Its region.
    pub region: String,
    /// `webaclId`.
    pub web_acl: String,
    /// `timestamp`, epoch ms UTC.
    pub time_ms: i64,
    /// `httpRequest.clientIp`.
    pub src_ip: String,
    /// `httpRequest.country`.
    pub country: &'static str,
    /// `httpRequest.uri`.
    pub path: &'static str,
    /// The Host header.
    pub host: &'static str,
    /// `httpRequest.httpMethod`.
    pub method: &'static str,
    /// The User-Agent header.
    pub user_agent: &'static str,
    /// `action` as OCSF's disposition id (1 ALLOW, 2 BLOCK, 22 CAPTCHA).
    pub disposition_id: i32,
    /// `terminatingRuleId`.
    pub rule: &'static str,
    /// `terminatingRuleType`.
    pub rule_type: &'static str,
}

impl WafRequest {
    /// WAF's action, as its log spells it.
    pub fn action(&self) -> &'static str {
        crate::lake::source::WAF_ACTIONS
            .iter()
            .find(|(id, _)| *id == i64::from(self.disposition_id))
            .map_or("OTHER", |(_, name)| *name)
    }
}

/// The client that hits the rate-based rule every afternoon (first account and region): one of
/// the internet scanners that later knock on the exposed jump host's SSH port, so its flows are
/// in the lake too (a client address drills down to them).
pub const RATE_LIMITED_CLIENT: &str = SSH_CALLERS[0];

/// The rate-based rule it hits.
pub const RATE_RULE: &str = "rate-limit-search";

/// The managed rule group that blocks the story address's probes.
pub const PROBE_RULE: &str = "AWS-AWSManagedRulesKnownBadInputsRuleSet";

/// What the story address asks for before it uses the stolen key.
const PROBES: [&str; 6] = [
    "/.env",
    "/.aws/credentials",
    "/.git/config",
    "/admin/config.php",
    "/api/v1/debug",
    "/actuator/env",
];

/// Customers: `(first octets, country)`; the last octet comes from the stream.
const CUSTOMERS: [(&str, &str); 6] = [
    ("203.0.113", "US"),
    ("192.0.2", "DE"),
    ("198.51.100", "GB"),
    ("100.64.12", "FR"),
    ("100.64.40", "JP"),
    ("100.64.77", "BR"),
];

/// Pages customers ask for, with their method.
const PAGES: [(&str, &str); 6] = [
    ("/", "GET"),
    ("/products", "GET"),
    ("/api/v1/search", "GET"),
    ("/static/app.js", "GET"),
    ("/cart", "POST"),
    ("/login", "POST"),
];

/// Scanners: address, country, and the managed rule group that blocks what they probe; two of
/// them are the SSH scanners of the flow story.
const SCANNERS: [(&str, &str, &str); 3] = [
    (SSH_CALLERS[1], "RO", "AWS-AWSManagedRulesCommonRuleSet"),
    (SSH_CALLERS[2], "LT", "AWS-AWSManagedRulesSQLiRuleSet"),
    ("45.155.205.17", "NL", PROBE_RULE),
];

const SCANNED: [&str; 5] = [
    "/wp-login.php",
    "/phpmyadmin/index.php",
    "/.env",
    "/cgi-bin/luci",
    "/index.php",
];

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";
const SCANNER_AGENT: &str = "Mozilla/5.0 zgrab/0.x";
const SCRIPT_AGENT: &str = "python-requests/2.31.0";

/// The host every web ACL protects.
pub const HOST: &str = "shop.example.com";

/// Requests per account × region × hour at the daily peak: a tenth of the flow records, from 12
/// to 120.
pub fn requests_per_hour(cfg: &DemoConfig) -> u32 {
    (cfg.flows_per_hour / 10).clamp(12, 120)
}

/// The web ACL of an account and region.
pub fn web_acl(account_id: &str, region: &str) -> String {
    let id = mix(&[account_id.parse().unwrap_or(0), region.len() as u64]) % 1_000_000_000;
    format!("arn:aws:wafv2:{region}:{account_id}:regional/webacl/shop-alb/{id:09}")
}

/// When the story address probes the web ACL: half an hour before it uses the stolen key, one
/// probe a minute.
pub fn probe_times(cfg: &DemoConfig) -> Vec<i64> {
    let from = trail_story(cfg).from_ms - 30 * 60_000;
    (0..PROBES.len() as i64)
        .map(|i| from + i * 60_000)
        .collect()
}

/// The requests of one partition within the lake's span, sorted by time.
pub fn partition_waf_requests(cfg: &DemoConfig, key: &PartitionKey) -> Vec<WafRequest> {
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
        hour_requests(
            cfg,
            key,
            (account, region_idx),
            day + hour * HOUR_MS,
            &mut out,
        );
    }
    if account == 0 && region_idx == 0 {
        story_requests(cfg, key, day, &mut out);
    }
    let (start, end) = (cfg.start().timestamp_millis(), cfg.end.timestamp_millis());
    out.retain(|r| (start..end).contains(&r.time_ms));
    out.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then(a.src_ip.cmp(&b.src_ip)));
    out
}

/// Every request of the lake, in partition-key order.
pub fn all_waf_requests(cfg: &DemoConfig) -> Vec<WafRequest> {
    super::partition_keys(cfg)
        .iter()
        .flat_map(|k| partition_waf_requests(cfg, k))
        .collect()
}

/// The share of the peak an hour has (quietest at 02:00 UTC).
fn activity(hour: i64) -> f64 {
    let phase = (hour as f64 - 2.0) / 24.0 * std::f64::consts::TAU;
    0.3 + 0.7 * (0.5 - 0.5 * phase.cos())
}

/// A request of the partition with the fields every request shares.
fn request(key: &PartitionKey, time_ms: i64, src_ip: String, country: &'static str) -> WafRequest {
    WafRequest {
        account_id: key.account_id.clone(),
        region: key.region.clone(),
        web_acl: web_acl(&key.account_id, &key.region),
        time_ms,
        src_ip,
        country,
        path: "/",
        host: HOST,
        method: "GET",
        user_agent: BROWSER,
        disposition_id: 1,
        rule: "Default_Action",
        rule_type: "REGULAR",
    }
}

/// One hour's everyday requests of an account × region: customers allowed (a login now and then
/// challenged with a CAPTCHA), scanners blocked by the managed rules.
fn hour_requests(
    cfg: &DemoConfig,
    key: &PartitionKey,
    (account, region_idx): (usize, usize),
    hour_ms: i64,
    out: &mut Vec<WafRequest>,
) {
    let mut rng = Rng::new(mix(&[
        cfg.seed,
        80,
        account as u64,
        region_idx as u64,
        hour_ms as u64,
    ]));
    let count = (f64::from(requests_per_hour(cfg))
        * activity((hour_ms / HOUR_MS) % 24)
        * (0.85 + 0.3 * rng.unit()))
    .round() as u64;
    for _ in 0..count {
        let time_ms = hour_ms + rng.below(3_600_000) as i64;
        if rng.below(100) < 6 {
            let (ip, country, rule) = *rng.pick(&SCANNERS);
            let path = *rng.pick(&SCANNED);
            out.push(WafRequest {
                path,
                user_agent: SCANNER_AGENT,
                disposition_id: 2,
                rule,
                rule_type: "MANAGED_RULE_GROUP",
                ..request(key, time_ms, ip.to_string(), country)
            });
            continue;
        }
        let (net, country) = *rng.pick(&CUSTOMERS);
        let ip = format!("{net}.{}", 10 + rng.below(40));
        let (path, method) = *rng.pick(&PAGES);
        let captcha = path == "/login" && rng.below(10) == 0;
        out.push(WafRequest {
            path,
            method,
            disposition_id: if captcha { 22 } else { 1 },
            rule: if captcha {
                "login-captcha"
            } else {
                "Default_Action"
            },
            ..request(key, time_ms, ip, country)
        });
    }
}

/// The story's requests of a day in the first account and region (their own stream): the
/// afternoon search burst, allowed up to the rate limit and blocked beyond, and the probes of
/// the address that later uses the stolen key.
fn story_requests(cfg: &DemoConfig, key: &PartitionKey, day: i64, out: &mut Vec<WafRequest>) {
    let mut rng = Rng::new(mix(&[cfg.seed, 81, day as u64]));
    let burst = day + 14 * HOUR_MS;
    for i in 0..240 {
        let time_ms = burst + i * 15_000 + rng.below(15_000) as i64;
        let limited = i >= 100;
        out.push(WafRequest {
            path: "/api/v1/search",
            user_agent: SCRIPT_AGENT,
            disposition_id: if limited { 2 } else { 1 },
            rule: if limited { RATE_RULE } else { "Default_Action" },
            rule_type: if limited { "RATE_BASED" } else { "REGULAR" },
            ..request(key, time_ms, RATE_LIMITED_CLIENT.to_string(), "NL")
        });
    }
    for (time_ms, path) in probe_times(cfg).into_iter().zip(PROBES) {
        if (day..day + 24 * HOUR_MS).contains(&time_ms) {
            out.push(WafRequest {
                path,
                user_agent: SCRIPT_AGENT,
                disposition_id: 2,
                rule: PROBE_RULE,
                rule_type: "MANAGED_RULE_GROUP",
                ..request(key, time_ms, NEW_ADDRESS.to_string(), "RU")
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::SourceVersion;

    #[test]
    fn requests_are_deterministic_and_tell_the_story() {
        let c = DemoConfig {
            days: 4,
            accounts: 2,
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            seed: 5,
            end: chrono::DateTime::parse_from_rfc3339("2024-06-04T12:00:00Z")
                .unwrap()
                .to_utc(),
            versions: vec![SourceVersion::V2],
            flows_per_hour: 20,
            messy: false,
        };
        let all = all_waf_requests(&c);
        assert_eq!(all, all_waf_requests(&c));
        let probes: Vec<_> = all.iter().filter(|r| r.src_ip == NEW_ADDRESS).collect();
        assert_eq!(probes.len(), PROBES.len());
        assert!(probes.iter().all(|r| r.action() == "BLOCK"));
        let story = trail_story(&c);
        assert!(probes.iter().all(|r| r.time_ms < story.from_ms));
        assert!(all
            .iter()
            .any(|r| r.rule == RATE_RULE && r.src_ip == RATE_LIMITED_CLIENT));
        for action in ["ALLOW", "BLOCK", "CAPTCHA"] {
            assert!(all.iter().any(|r| r.action() == action), "{action}");
        }
    }
}
