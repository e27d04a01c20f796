//! Security Hub findings for the demo lake, consistent with the flow data: control EC2.6 (VPC
//! flow logging) and EC2.10 for every VPC, and a custom Config rule ("flow logs must reach the
//! central bucket") through Security Hub's Config integration. Every evaluation is a new row of
//! the same finding: periodic re-evaluations every 12 hours plus one right after each change.
//!
//! The story: the VPC whose flow logs stop (`silent_vpc`) fails EC2.6 and the Config rule two
//! hours later; one VPC fails EC2.6, is fixed, and regresses; a retired VPC that never had flow
//! logs fails until its findings are archived half-way through; a VPC created at 80 % of the span
//! without flow logs fails from its first evaluation on (it is known only from findings); one
//! VPC's Config rule evaluation is NOT_AVAILABLE.

use chrono::{DateTime, Duration, Utc};

use super::parts::{hex17, mix, vpc_ids};
use super::{silent_vpc, DemoConfig, PartitionKey};

/// One row of the findings table, in Security Hub terms (version independent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRecord {
    /// AwsAccountId.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// UpdatedAt, epoch ms UTC.
    pub time_ms: i64,
    /// The finding id (the same for every update of the finding).
    pub finding_uid: String,
    /// Compliance.SecurityControlId; none for Config-integration findings.
    pub control: Option<String>,
    /// GeneratorId: `security-control/EC2.6`, or the Config rule's ARN.
    pub generator_id: String,
    /// ProductName: `Security Hub` or `Config`.
    pub product: &'static str,
    /// Title.
    pub title: String,
    /// Compliance.Status: PASSED / FAILED / WARNING / NOT_AVAILABLE.
    pub status: &'static str,
    /// RecordState: ACTIVE / ARCHIVED.
    pub record_state: &'static str,
    /// Resources[0].Type.
    pub resource_type: &'static str,
    /// Resources[0].Id (the VPC's ARN).
    pub resource_uid: String,
    /// The VPC id (the resource's id for findings of other products).
    pub vpc_id: String,
    /// What the finding is in v2 (v1 writes every finding as Security Finding 2001).
    pub class: FindingClass,
    /// Severity as the OCSF id: 1 Informational … 5 Critical.
    pub severity_id: i32,
    /// Workflow.Status as its OCSF caption: New, In Progress, Suppressed, Resolved.
    pub workflow: &'static str,
    /// Types[0].
    pub finding_type: &'static str,
    /// FirstObservedAt and LastObservedAt, epoch ms (controls have none).
    pub seen_ms: Option<(i64, i64)>,
}

/// The OCSF class a finding is written as in v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingClass {
    /// A control or Config rule evaluation (2003).
    Compliance,
    /// A threat detection: GuardDuty, Macie (2004).
    Detection,
    /// A software vulnerability: Inspector (2002).
    Vulnerability,
}

impl FindingClass {
    /// The OCSF class id of a source version.
    pub fn uid(self, version: crate::lake::SourceVersion) -> i32 {
        match (version, self) {
            (crate::lake::SourceVersion::V1, _) => 2001,
            (_, FindingClass::Compliance) => 2003,
            (_, FindingClass::Detection) => 2004,
            (_, FindingClass::Vulnerability) => 2002,
        }
    }
}

/// The type Security Hub gives control findings.
pub const CONTROL_TYPE: &str =
    "Software and Configuration Checks/Industry and Regulatory Standards";

impl FindingRecord {
    /// The control id or Config rule name the finding is about.
    pub fn control_name(&self) -> &str {
        self.control
            .as_deref()
            .unwrap_or_else(|| self.generator_id.rsplit('/').next().unwrap_or_default())
    }
}

/// The custom Config rule of the demo.
pub const CENTRAL_BUCKET_RULE: &str = "flow-logs-central-bucket";

/// The VPC that fails EC2.6, is fixed and regresses: (account, region, vpc id).
pub fn flapping_vpc(cfg: &DemoConfig) -> (String, String, String) {
    let region_idx = usize::from(cfg.regions.len() > 1);
    let region = cfg.regions.get(region_idx).cloned().unwrap_or_default();
    let account = cfg.account_ids().first().cloned().unwrap_or_default();
    let vpc = vpc_ids(0, region_idx, &region)
        .get(1)
        .cloned()
        .unwrap_or_default();
    (account, region, vpc)
}

/// The retired VPC that exists only in findings: (account, region, vpc id, archived at).
pub fn retired_vpc(cfg: &DemoConfig) -> (String, String, String, DateTime<Utc>) {
    let account = cfg.account_ids().first().cloned().unwrap_or_default();
    let region = cfg.regions.first().cloned().unwrap_or_default();
    (
        account,
        region,
        format!("vpc-{}", hex17(&[77, cfg.seed])),
        at_fraction(cfg, 0.5),
    )
}

fn at_fraction(cfg: &DemoConfig, f: f64) -> DateTime<Utc> {
    let span = (cfg.end - cfg.start()).num_milliseconds() as f64;
    cfg.start() + Duration::milliseconds((span * f) as i64)
}

/// The VPC created late without flow logs: it exists only in findings (EC2.6 FAILED from its
/// creation) and never sends a flow record: (account, region, vpc id, created at).
pub fn unlogged_vpc(cfg: &DemoConfig) -> (String, String, String, DateTime<Utc>) {
    let account = cfg.account_ids().last().cloned().unwrap_or_default();
    let region = cfg.regions.first().cloned().unwrap_or_default();
    (
        account,
        region,
        format!("vpc-{}", hex17(&[78, cfg.seed])),
        at_fraction(cfg, 0.8),
    )
}

/// VPCs beyond the flow topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extra {
    /// A VPC of the flow topology.
    No,
    /// Retired half-way: its findings are archived.
    Retired,
    /// Created late without flow logs.
    Unlogged,
}

/// One finding: its fixed parts and its status over time.
struct Finding {
    account: String,
    region: String,
    vpc: String,
    control: Option<&'static str>,
    rule: Option<&'static str>,
    title: String,
    /// `(from, status)` steps, oldest first; the first applies from the start.
    steps: Vec<(i64, &'static str)>,
    /// Archived at (no updates after).
    archived_ms: Option<i64>,
}

impl Finding {
    fn status_at(&self, t: i64) -> &'static str {
        self.steps
            .iter()
            .rev()
            .find(|(from, _)| *from <= t)
            .or(self.steps.first())
            .map_or("PASSED", |(_, s)| s)
    }
}

fn findings(cfg: &DemoConfig) -> Vec<Finding> {
    let (silent_account, silent_region, silent_vpc_id, stop) = silent_vpc(cfg);
    let (flap_account, flap_region, flap_vpc) = flapping_vpc(cfg);
    let (ret_account, ret_region, ret_vpc, archived) = retired_vpc(cfg);
    let (new_account, new_region, new_vpc, created) = unlogged_vpc(cfg);
    let start = cfg.start().timestamp_millis();
    let ms = |t: DateTime<Utc>| t.timestamp_millis();
    let mut out = Vec::new();
    let accounts = cfg.account_ids();
    for (a, account) in accounts.iter().enumerate() {
        for (r, region) in cfg.regions.iter().enumerate() {
            let mut vpcs: Vec<(String, Extra)> = vpc_ids(a as u32, r, region)
                .into_iter()
                .map(|v| (v, Extra::No))
                .collect();
            if *account == ret_account && *region == ret_region {
                vpcs.push((ret_vpc.clone(), Extra::Retired));
            }
            if *account == new_account && *region == new_region {
                vpcs.push((new_vpc.clone(), Extra::Unlogged));
            }
            for (v, (vpc, extra)) in vpcs.iter().enumerate() {
                let retired = *extra == Extra::Retired;
                let created = if *extra == Extra::Unlogged {
                    ms(created)
                } else {
                    start
                };
                let silent =
                    *account == silent_account && *region == silent_region && *vpc == silent_vpc_id;
                let flapping =
                    *account == flap_account && *region == flap_region && *vpc == flap_vpc;
                let ec2_6 = if retired || *extra == Extra::Unlogged {
                    vec![(created, "FAILED")]
                } else if silent {
                    vec![(start, "PASSED"), (ms(stop) + 2 * 3_600_000, "FAILED")]
                } else if flapping {
                    vec![
                        (start, "PASSED"),
                        (ms(at_fraction(cfg, 0.15)), "FAILED"),
                        (ms(at_fraction(cfg, 0.35)), "PASSED"),
                        (ms(at_fraction(cfg, 0.6)), "FAILED"),
                    ]
                } else {
                    vec![(start, "PASSED")]
                };
                let ec2_10 = if v % 2 == 1 || retired {
                    vec![(created, "FAILED")]
                } else {
                    vec![(created, "PASSED")]
                };
                let central = if silent {
                    vec![(start, "PASSED"), (ms(stop) + 3_600_000, "FAILED")]
                } else if a + 1 == accounts.len() && r + 1 == cfg.regions.len() && v == 1 {
                    vec![(start, "NOT_AVAILABLE")]
                } else if retired || *extra == Extra::Unlogged {
                    vec![(created, "FAILED")]
                } else {
                    vec![(created, "PASSED")]
                };
                let archived_ms = retired.then(|| ms(archived));
                let base = |control, rule, title: &str, steps| Finding {
                    account: account.clone(),
                    region: region.clone(),
                    vpc: vpc.clone(),
                    control,
                    rule,
                    title: title.to_string(),
                    steps,
                    archived_ms,
                };
                out.push(base(
                    Some("EC2.6"),
                    None,
                    "EC2.6 VPC flow logging should be enabled in all VPCs",
                    ec2_6,
                ));
                out.push(base(
                    Some("EC2.10"),
                    None,
                    "EC2.10 Amazon EC2 should be configured to use VPC endpoints that are created for the Amazon EC2 service",
                    ec2_10,
                ));
                out.push(base(
                    None,
                    Some(CENTRAL_BUCKET_RULE),
                    "flow-logs-central-bucket VPC flow logs must be delivered to the central log archive bucket",
                    central,
                ));
            }
        }
    }
    out
}

/// A stable hash of a text (ids of the demo's findings).
pub(super) fn text_hash(text: &str) -> u64 {
    mix(&text.bytes().map(u64::from).collect::<Vec<_>>())
}

/// Every findings row of the lake, sorted by account, region and time.
pub fn all_findings(cfg: &DemoConfig) -> Vec<FindingRecord> {
    let (start, end) = (cfg.start().timestamp_millis(), cfg.end.timestamp_millis());
    let mut out = Vec::new();
    for f in findings(cfg) {
        let name = f.control.or(f.rule).unwrap_or_default();
        let key = [
            5,
            text_hash(&f.account),
            text_hash(&f.region),
            text_hash(&f.vpc),
            text_hash(name),
        ];
        let id = format!("{}{}", hex17(&key), hex17(&[key[4], key[3], key[0]]));
        let (generator_id, finding_uid, product) = match f.rule {
            Some(rule) => {
                let arn = format!(
                    "arn:aws:config:{}:{}:config-rule/{rule}",
                    f.region, f.account
                );
                let uid = format!(
                    "arn:aws:securityhub:{}:{}:product/aws/config/{arn}/finding/{id}",
                    f.region, f.account
                );
                (arn, uid, "Config")
            }
            None => (
                format!("security-control/{name}"),
                format!(
                    "arn:aws:securityhub:{}:{}:security-control/{name}/finding/{id}",
                    f.region, f.account
                ),
                "Security Hub",
            ),
        };
        // Periodic evaluations every 12 hours from a per-finding offset, plus one 5 minutes
        // after every status change.
        let offset = (mix(&[7, key[1], key[2], key[3], key[4]]) % 43_200_000) as i64;
        let mut times: Vec<i64> = (0..)
            .map(|k| start + offset + k * 43_200_000)
            .take_while(|t| *t < end)
            .collect();
        // A resource created after the start is first evaluated 5 minutes after creation.
        let created = f.steps.first().map_or(start, |(t, _)| *t);
        times.retain(|t| *t >= created);
        times.extend(
            f.steps
                .iter()
                .skip(usize::from(created <= start))
                .map(|(t, _)| t + 300_000)
                .filter(|t| *t < end),
        );
        times.sort_unstable();
        times.dedup();
        let row = |t: i64, record_state: &'static str| FindingRecord {
            account_id: f.account.clone(),
            region: f.region.clone(),
            time_ms: t,
            finding_uid: finding_uid.clone(),
            control: f.control.map(str::to_string),
            generator_id: generator_id.clone(),
            product,
            title: f.title.clone(),
            status: f.status_at(t),
            record_state,
            resource_type: "AwsEc2Vpc",
            resource_uid: format!("arn:aws:ec2:{}:{}:vpc/{}", f.region, f.account, f.vpc),
            vpc_id: f.vpc.clone(),
            class: FindingClass::Compliance,
            severity_id: 3,
            workflow: "New",
            finding_type: CONTROL_TYPE,
            seen_ms: None,
        };
        for t in times {
            match f.archived_ms {
                Some(a) if t >= a => break,
                _ => out.push(row(t, "ACTIVE")),
            }
        }
        if let Some(a) = f.archived_ms.filter(|a| *a < end && *a >= start) {
            out.push(row(a, "ARCHIVED"));
        }
    }
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

/// The findings rows of one partition (account × region × UTC day).
pub fn partition_findings(all: &[FindingRecord], key: &PartitionKey) -> Vec<FindingRecord> {
    all.iter()
        .filter(|f| {
            f.account_id == key.account_id
                && f.region == key.region
                && DateTime::from_timestamp_millis(f.time_ms).map(|t| t.date_naive())
                    == Some(key.day)
        })
        .cloned()
        .collect()
}
