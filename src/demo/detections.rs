//! Findings of the products Security Hub gathers besides its controls — GuardDuty threats,
//! Inspector vulnerabilities, Macie data findings — on their own random stream, so that every
//! other record of the lake stays as it was. Each finding is re-delivered on every update: a
//! new row with the same id, a later time and a later `last_seen`.
//!
//! Every account and region has a port probe (Low), an informational finding, a vulnerable
//! package (High; resolved at 60 % of the span in the first region) and a bucket with public
//! access allowed (Medium; archived at 70 % in the first account). The story adds two High
//! GuardDuty findings: command-and-control traffic from the egress burst's host, 20 minutes after
//! the burst begins, and carol's access key used from outside AWS, 15 minutes after the stolen
//! key's first call.

use super::findings::{text_hash, FindingClass, FindingRecord};
use super::parts::{hex17, mix, topology, Rng, DB};
use super::{egress_burst, trail_story, DemoConfig};

const HOUR_MS: i64 = 3_600_000;

/// What one finding is, before its updates are rolled out.
struct Detection {
    account: String,
    region: String,
    product: &'static str,
    class: FindingClass,
    severity_id: i32,
    finding_type: &'static str,
    title: String,
    resource_type: &'static str,
    resource_uid: String,
    first_ms: i64,
    /// Hours between re-deliveries.
    every_h: i64,
    /// The workflow changes: `(from, caption)`, oldest first.
    resolved: Option<(i64, &'static str)>,
    archived_ms: Option<i64>,
}

/// The GuardDuty type of the story's command-and-control finding.
pub const C2_TYPE: &str = "TTPs/Command and Control/Backdoor:EC2-C&CActivity.B";
/// The GuardDuty type of the story's stolen-key finding.
pub const KEY_TYPE: &str =
    "TTPs/Initial Access/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.OutsideAWS";

fn instance_arn(account: &str, region: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}:{account}:instance/{id}")
}

/// The two High findings of the story.
fn story(cfg: &DemoConfig) -> Vec<Detection> {
    let (account, region, _, burst_ms) = egress_burst(cfg);
    let idx = cfg.regions.len().saturating_sub(1);
    let host = topology(0, idx, &region)[DB]
        .instance_id
        .clone()
        .unwrap_or_default();
    let key = trail_story(cfg);
    vec![
        Detection {
            resource_uid: instance_arn(&account, &region, &host),
            account,
            region,
            product: "GuardDuty",
            class: FindingClass::Detection,
            severity_id: 4,
            finding_type: C2_TYPE,
            title: format!("EC2 instance {host} is querying a domain name associated with a known command and control server."),
            resource_type: "AwsEc2Instance",
            first_ms: burst_ms + 20 * 60_000,
            every_h: 1,
            resolved: None,
            archived_ms: None,
        },
        Detection {
            title: format!("Credentials for instance role {} used from external IP address.", key.stolen_key),
            account: key.account,
            region: key.region,
            product: "GuardDuty",
            class: FindingClass::Detection,
            severity_id: 4,
            finding_type: KEY_TYPE,
            resource_type: "AwsIamAccessKey",
            resource_uid: key.stolen_key,
            first_ms: key.from_ms + 15 * 60_000,
            every_h: 1,
            resolved: None,
            archived_ms: None,
        },
    ]
}

/// The background findings of one account and region.
fn background(cfg: &DemoConfig, a: usize, r: usize, account: &str, region: &str) -> Vec<Detection> {
    let mut rng = Rng::new(mix(&[cfg.seed, 2004, a as u64, r as u64]));
    let start = cfg.start().timestamp_millis();
    let span = cfg.end.timestamp_millis() - start;
    let at = |f: f64| start + (span as f64 * f) as i64;
    let hosts: Vec<String> = topology(a as u32, r, region)
        .into_iter()
        .filter_map(|e| e.instance_id)
        .collect();
    let mut host = || instance_arn(account, region, rng_pick(&mut rng, &hosts));
    let (probe, info, cve) = (host(), host(), host());
    let first = |rng: &mut Rng| start + rng.below((span / 2).max(1) as u64) as i64;
    let base =
        |product, class, severity_id, finding_type, title: &str, resource_type, uid, first_ms| {
            Detection {
                account: account.to_string(),
                region: region.to_string(),
                product,
                class,
                severity_id,
                finding_type,
                title: title.to_string(),
                resource_type,
                resource_uid: uid,
                first_ms,
                every_h: 6,
                resolved: None,
                archived_ms: None,
            }
        };
    let mut out = vec![
        base("GuardDuty", FindingClass::Detection, 2, "TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort",
             "Unprotected port on EC2 instance is being probed.", "AwsEc2Instance", probe, first(&mut rng)),
        base("GuardDuty", FindingClass::Detection, 1, "Software and Configuration Checks/Network Reachability",
             "EC2 instance has an unusual network configuration.", "AwsEc2Instance", info, first(&mut rng)),
        base("Inspector", FindingClass::Vulnerability, 4, "Software and Configuration Checks/Vulnerabilities/CVE",
             "CVE-2024-6387 - openssh", "AwsEc2Instance", cve, first(&mut rng)),
        base("Macie", FindingClass::Detection, 3, "Software and Configuration Checks/AWS Security Best Practices/Policy:IAMUser-S3BlockPublicAccessDisabled",
             "Block public access settings are disabled for the S3 bucket.", "AwsS3Bucket",
             format!("arn:aws:s3:::logs-{account}-{region}"), first(&mut rng)),
    ];
    out[2].every_h = 24;
    if r == 0 {
        out[2].resolved = Some((at(0.6), "Resolved"));
    }
    if a == 0 {
        out[3].archived_ms = Some(at(0.7));
    }
    out
}

fn rng_pick<'a>(rng: &mut Rng, items: &'a [String]) -> &'a str {
    items
        .get(rng.below(items.len().max(1) as u64) as usize)
        .map_or("i-0", String::as_str)
}

/// The rows of one finding: its first delivery and one every `every_h` hours until the end
/// of the lake or its archiving.
fn rows(cfg: &DemoConfig, d: &Detection) -> Vec<FindingRecord> {
    let end = cfg.end.timestamp_millis();
    // The id hashes what tells two findings apart (where, what, on what, since when).
    let key = [
        9,
        mix(&[d.first_ms as u64]),
        text_hash(&d.resource_uid),
        text_hash(d.finding_type),
        text_hash(&format!("{}/{}", d.account, d.region)),
    ];
    let id = hex17(&key);
    let finding_uid = match d.product {
        "GuardDuty" => format!(
            "arn:aws:guardduty:{}:{}:detector/{}/finding/{id}",
            d.region,
            d.account,
            hex17(&[3, key[1]])
        ),
        "Inspector" => format!("arn:aws:inspector2:{}:{}:finding/{id}", d.region, d.account),
        _ => format!("arn:aws:macie2:{}:{}:finding/{id}", d.region, d.account),
    };
    let last_id = d
        .resource_uid
        .rsplit(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_string();
    let row = |t: i64, record_state: &'static str| FindingRecord {
        account_id: d.account.clone(),
        region: d.region.clone(),
        time_ms: t,
        finding_uid: finding_uid.clone(),
        control: None,
        generator_id: d
            .finding_type
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        product: d.product,
        title: d.title.clone(),
        status: "",
        record_state,
        resource_type: d.resource_type,
        resource_uid: d.resource_uid.clone(),
        vpc_id: last_id.clone(),
        class: d.class,
        severity_id: d.severity_id,
        workflow: d
            .resolved
            .filter(|(from, _)| *from <= t)
            .map_or("New", |(_, w)| w),
        finding_type: d.finding_type,
        seen_ms: Some((d.first_ms, t)),
    };
    let mut times: Vec<i64> = (0..)
        .map(|k| d.first_ms + k * d.every_h * HOUR_MS)
        .take_while(|t| *t < end && d.archived_ms.is_none_or(|a| *t < a))
        .collect();
    times.extend(
        d.resolved
            .map(|(t, _)| t)
            .filter(|t| *t > d.first_ms && *t < end),
    );
    times.sort_unstable();
    times.dedup();
    let mut out: Vec<FindingRecord> = times.into_iter().map(|t| row(t, "ACTIVE")).collect();
    if let Some(a) = d.archived_ms.filter(|a| *a < end && *a > d.first_ms) {
        out.push(row(a, "ARCHIVED"));
    }
    out
}

/// Every GuardDuty, Inspector and Macie finding row of the lake, sorted by account, region and
/// time.
pub fn all_detections(cfg: &DemoConfig) -> Vec<FindingRecord> {
    let start = cfg.start().timestamp_millis();
    let mut found = story(cfg);
    for (a, account) in cfg.account_ids().iter().enumerate() {
        for (r, region) in cfg.regions.iter().enumerate() {
            found.extend(background(cfg, a, r, account, region));
        }
    }
    let mut out: Vec<FindingRecord> = found
        .iter()
        .filter(|d| d.first_ms >= start)
        .flat_map(|d| rows(cfg, d))
        .collect();
    out.sort_by(|a, b| {
        (&a.account_id, &a.region, a.time_ms, &a.finding_uid).cmp(&(
            &b.account_id,
            &b.region,
            b.time_ms,
            &b.finding_uid,
        ))
    });
    out
}
