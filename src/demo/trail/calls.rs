//! The everyday CloudTrail activity of an account × region × day: who calls what, from where, how
//! often it is denied, and who signs in to the console.
//!
//! Principals of every account: `alice` (an administrator) and `bob` (a developer) sign in to
//! the console each morning with MFA (bob sometimes mistypes his password first) and work in it
//! during office hours, bob often denied where he has no rights; `carol`, an IAM user whose access
//! key runs reporting scripts from the office; the `deploy` role that CI assumes; the
//! `app-server` instance role; AWS services acting for the account. Global services (IAM, the
//! console sign-in) are recorded in the first region only. Once, in the second account, the root
//! user signs in (with MFA) and looks around.

use super::super::parts::{mix, topology, Rng};
use super::super::{DemoConfig, PartitionKey};
use super::{calls_per_hour, Identity, TrailClass, TrailEvent};

pub(super) const HOUR_MS: i64 = 3_600_000;

/// The office's addresses: the console users' and the scripts'.
pub const OFFICE_ADDRESSES: [&str; 3] = ["198.51.100.10", "198.51.100.11", "198.51.100.23"];

/// The CI runners' address.
pub const CI_ADDRESS: &str = "203.0.113.40";

/// The user agent of calls made through the console.
const CONSOLE_AGENT: &str = "AWS Internal";

/// The browser the console users sign in with.
pub(super) const BROWSER: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// The scripts user's command line.
pub(super) const CLI_AGENT: &str =
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off";

pub(super) const CI_AGENT: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.45.0";

pub(super) const SDK_AGENT: &str =
    "aws-sdk-java/2.25.16 Linux/6.1.79-99.167.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.2+13-LTS";

/// An operation: its service, its name, and whether it only reads.
#[derive(Debug, Clone, Copy)]
pub(super) struct Op {
    pub(super) service: &'static str,
    pub(super) name: &'static str,
}

pub(super) const fn op(service: &'static str, name: &'static str) -> Op {
    Op { service, name }
}

pub(super) const EC2: &str = "ec2.amazonaws.com";
pub(super) const S3: &str = "s3.amazonaws.com";
pub(super) const IAM: &str = "iam.amazonaws.com";
pub(super) const STS: &str = "sts.amazonaws.com";
const KMS: &str = "kms.amazonaws.com";
pub(super) const LAMBDA: &str = "lambda.amazonaws.com";
const SSM: &str = "ssm.amazonaws.com";
const SECRETS: &str = "secretsmanager.amazonaws.com";
const CLOUDFORMATION: &str = "cloudformation.amazonaws.com";
const MONITORING: &str = "monitoring.amazonaws.com";
const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
pub(super) const SIGNIN: &str = "signin.amazonaws.com";

/// Services whose events CloudTrail records in one region (`us-east-1` in a real lake; the
/// demo's first region).
fn global(service: &str) -> bool {
    service == IAM || service == SIGNIN
}

const APP_OPS: [Op; 7] = [
    op(KMS, "Decrypt"),
    op(KMS, "GenerateDataKey"),
    op(SSM, "GetParameter"),
    op(SSM, "GetParameters"),
    op(SECRETS, "GetSecretValue"),
    op(STS, "GetCallerIdentity"),
    op(EC2, "DescribeTags"),
];

const CI_OPS: [Op; 12] = [
    op(EC2, "DescribeInstances"),
    op(EC2, "RunInstances"),
    op(EC2, "TerminateInstances"),
    op(EC2, "CreateTags"),
    op(EC2, "DescribeSecurityGroups"),
    op(LAMBDA, "GetFunction20150331v2"),
    op(LAMBDA, "UpdateFunctionCode20150331v2"),
    op(S3, "GetBucketPolicy"),
    op(S3, "PutBucketTagging"),
    op(CLOUDFORMATION, "DescribeStacks"),
    op(CLOUDFORMATION, "UpdateStack"),
    op(IAM, "GetRole"),
];

const SCRIPT_OPS: [Op; 7] = [
    op(S3, "ListBuckets"),
    op(S3, "GetBucketLocation"),
    op(EC2, "DescribeInstances"),
    op(EC2, "DescribeVolumes"),
    op(EC2, "DescribeSnapshots"),
    op(MONITORING, "GetMetricData"),
    op(STS, "GetCallerIdentity"),
];

const ADMIN_OPS: [Op; 11] = [
    op(EC2, "DescribeInstances"),
    op(EC2, "DescribeSecurityGroups"),
    op(EC2, "ModifyInstanceAttribute"),
    op(IAM, "ListUsers"),
    op(IAM, "GetUser"),
    op(IAM, "ListRoles"),
    op(IAM, "ListAttachedRolePolicies"),
    op(S3, "ListBuckets"),
    op(S3, "GetBucketPolicy"),
    op(CLOUDTRAIL, "LookupEvents"),
    op(KMS, "ListKeys"),
];

const DEV_OPS: [Op; 9] = [
    op(LAMBDA, "ListFunctions20150331"),
    op(LAMBDA, "GetFunction20150331v2"),
    op(LAMBDA, "UpdateFunctionConfiguration20150331v2"),
    op(EC2, "DescribeInstances"),
    op(EC2, "StartInstances"),
    op(EC2, "StopInstances"),
    op(S3, "GetBucketPolicy"),
    op(IAM, "ListUsers"),
    op(IAM, "GetAccountAuthorizationDetails"),
];

/// What bob may not do: denied nearly every time.
const DEV_DENIED: [&str; 3] = [
    "ListUsers",
    "GetAccountAuthorizationDetails",
    "GetBucketPolicy",
];

/// (the service acting, the service called, the operation).
const SERVICE_OPS: [(&str, &str, &str); 5] = [
    ("ec2.amazonaws.com", STS, "AssumeRole"),
    ("lambda.amazonaws.com", STS, "AssumeRole"),
    ("autoscaling.amazonaws.com", EC2, "DescribeInstanceStatus"),
    (
        "elasticloadbalancing.amazonaws.com",
        EC2,
        "DescribeNetworkInterfaces",
    ),
    ("config.amazonaws.com", EC2, "DescribeVpcs"),
];

/// The OCSF activity of an API call, read from its name as the CloudTrail mapping does: Create
/// 1, Read 2, Update 3, Delete 4, Other 99.
pub(super) fn api_activity(operation: &str) -> i32 {
    const PREFIXES: [(&[&str], i32); 4] = [
        (&["Create", "Run", "Put", "Generate"], 1),
        (&["Describe", "Get", "List", "Lookup"], 2),
        (
            &["Update", "Modify", "Start", "Stop", "Attach", "Authorize"],
            3,
        ),
        (&["Delete", "Terminate", "Detach", "Revoke"], 4),
    ];
    PREFIXES
        .iter()
        .find(|(prefixes, _)| prefixes.iter().any(|p| operation.starts_with(p)))
        .map_or(99, |(_, id)| *id)
}

/// Whether an operation only reads (CloudTrail's `readOnly`).
pub(super) fn read_only(operation: &str) -> bool {
    api_activity(operation) == 2 || operation == "Decrypt"
}

/// A UUID-looking id from the parts.
pub(super) fn uuid(parts: &[u64]) -> String {
    let a = mix(parts);
    let b = mix(&[a, 1]);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        0x4000 | (a & 0x0fff),
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// An AWS-looking id: `prefix` and 16 characters of A–Z and 2–7.
pub(super) fn aws_id(prefix: &str, parts: &[u64]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h = mix(parts);
    let mut out = prefix.to_string();
    for _ in 0..16 {
        out.push(ALPHABET[(h & 31) as usize] as char);
        h = (h >> 5) | (mix(&[h]) << 59);
    }
    out
}

/// An account's index among the demo accounts, as a hash part.
fn account_part(account: &str) -> u64 {
    account.parse().unwrap_or(0)
}

/// An IAM user of an account: its ARN, principal id and name; `key` signs its calls (an access
/// key, or the console's temporary one), `mfa` is its session's MFA (console sessions).
pub(super) fn iam_user(
    account: &str,
    name: &str,
    key: Option<String>,
    mfa: Option<bool>,
) -> Identity {
    let name_part = mix(&name.bytes().map(u64::from).collect::<Vec<_>>());
    Identity {
        kind: "IAMUser",
        arn: Some(format!("arn:aws:iam::{account}:user/{name}")),
        principal_id: Some(aws_id("AIDA", &[51, account_part(account), name_part])),
        name: Some(name.to_string()),
        account_id: Some(account.to_string()),
        access_key: key,
        session_issuer: None,
        session_mfa: mfa,
        invoked_by: None,
    }
}

/// The long-term access key of an IAM user (`AKIA…`); `generation` tells keys of one user apart.
pub fn user_access_key(account: &str, name: &str, generation: u64) -> String {
    let name_part = mix(&name.bytes().map(u64::from).collect::<Vec<_>>());
    aws_id("AKIA", &[52, account_part(account), name_part, generation])
}

/// A temporary key (`ASIA…`) of a session.
pub(super) fn session_key(parts: &[u64]) -> String {
    aws_id("ASIA", parts)
}

/// A session of a role of an account.
pub(super) fn assumed_role(account: &str, role: &str, session: &str, key: String) -> Identity {
    let role_part = mix(&role.bytes().map(u64::from).collect::<Vec<_>>());
    Identity {
        kind: "AssumedRole",
        arn: Some(format!(
            "arn:aws:sts::{account}:assumed-role/{role}/{session}"
        )),
        principal_id: Some(format!(
            "{}:{session}",
            aws_id("AROA", &[53, account_part(account), role_part])
        )),
        name: None,
        account_id: Some(account.to_string()),
        access_key: Some(key),
        session_issuer: Some(format!("arn:aws:iam::{account}:role/{role}")),
        session_mfa: Some(false),
        invoked_by: None,
    }
}

/// An AWS service acting for the account.
pub(super) fn aws_service(service: &'static str) -> Identity {
    Identity {
        kind: "AWSService",
        arn: None,
        principal_id: None,
        name: None,
        account_id: None,
        access_key: None,
        session_issuer: None,
        session_mfa: None,
        invoked_by: Some(service),
    }
}

/// The account's root user.
pub(super) fn root(account: &str, mfa: bool) -> Identity {
    Identity {
        kind: "Root",
        arn: Some(format!("arn:aws:iam::{account}:root")),
        principal_id: Some(account.to_string()),
        name: None,
        account_id: Some(account.to_string()),
        access_key: None,
        session_issuer: None,
        session_mfa: Some(mfa),
        invoked_by: None,
    }
}

/// An error code and message for a denied call to a service.
pub(super) fn denied(service: &str) -> (&'static str, &'static str) {
    if service == EC2 {
        (
            "Client.UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        )
    } else if service == KMS || service == SSM || service == SECRETS || service == LAMBDA {
        (
            "AccessDeniedException",
            "The caller is not authorized to perform this operation.",
        )
    } else {
        (
            "AccessDenied",
            "User is not authorized to perform this operation",
        )
    }
}

/// The event every call shares; the caller fills in who and from where.
#[allow(clippy::too_many_arguments)]
pub(super) fn call(
    key: &PartitionKey,
    time_ms: i64,
    op: Op,
    identity: Identity,
    (src_ip, src_domain): (Option<String>, Option<&'static str>),
    user_agent: &str,
    error: Option<(&'static str, &'static str)>,
    ids: &[u64],
) -> TrailEvent {
    TrailEvent {
        account_id: key.account_id.clone(),
        region: key.region.clone(),
        time_ms,
        event_id: uuid(&[54, ids[0], ids.get(1).copied().unwrap_or(0), time_ms as u64]),
        request_id: Some(uuid(&[
            55,
            ids[0],
            ids.get(1).copied().unwrap_or(0),
            time_ms as u64,
        ])),
        service: op.service,
        operation: op.name,
        class: TrailClass::ApiActivity,
        activity_id: api_activity(op.name),
        identity,
        src_ip,
        src_domain,
        user_agent: user_agent.to_string(),
        success: error.is_none(),
        error_code: error.map(|e| e.0),
        error_message: error.map(|e| e.1),
        mfa_used: None,
        target_user: None,
        parameters: Vec::new(),
        read_only: read_only(op.name),
    }
}

/// A console sign-in of an IAM user (or root, `identity`), successful or not.
pub(super) fn sign_in(
    key: &PartitionKey,
    time_ms: i64,
    identity: Identity,
    src_ip: &str,
    success: bool,
    mfa: bool,
    ids: &[u64],
) -> TrailEvent {
    let target_user = identity.name.clone();
    TrailEvent {
        request_id: None,
        class: TrailClass::Authentication,
        activity_id: 1,
        success,
        error_code: None,
        error_message: (!success).then_some("Failed authentication"),
        mfa_used: Some(mfa),
        target_user,
        read_only: false,
        ..call(
            key,
            time_ms,
            op(SIGNIN, "ConsoleLogin"),
            identity,
            (Some(src_ip.to_string()), None),
            BROWSER,
            None,
            ids,
        )
    }
}

/// The daily curve of API calls: 0.3 at night, 1.0 in the afternoon (UTC).
pub(super) fn activity(hour: u32) -> f64 {
    let phase = (f64::from(hour) - 2.0) / 24.0 * std::f64::consts::TAU;
    0.3 + 0.7 * (0.5 - 0.5 * phase.cos())
}

/// Office hours (UTC), when the console users work.
pub(super) fn office(hour: u32) -> bool {
    (8..18).contains(&hour)
}

/// Who makes a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    App,
    Ci,
    Scripts,
    Admin,
    Developer,
    Service,
}

const CALLERS: [(Caller, u64); 6] = [
    (Caller::App, 30),
    (Caller::Ci, 15),
    (Caller::Scripts, 15),
    (Caller::Admin, 12),
    (Caller::Developer, 13),
    (Caller::Service, 15),
];

fn pick_caller(rng: &mut Rng, hour: u32) -> Caller {
    let weights: Vec<(Caller, u64)> = CALLERS
        .iter()
        .copied()
        .filter(|(c, _)| office(hour) || !matches!(c, Caller::Admin | Caller::Developer))
        .collect();
    let total: u64 = weights.iter().map(|(_, w)| w).sum();
    let mut draw = rng.below(total);
    for (caller, w) in &weights {
        if draw < *w {
            return *caller;
        }
        draw -= w;
    }
    weights[0].0
}

/// An operation of the list, global ones only in the first region.
fn pick_op(rng: &mut Rng, ops: &[Op], first_region: bool) -> Op {
    let usable: Vec<Op> = ops
        .iter()
        .copied()
        .filter(|o| first_region || !global(o.service))
        .collect();
    *rng.pick(&usable)
}

/// The index of an account among the lake's, and of a region.
pub(super) fn indices(cfg: &DemoConfig, key: &PartitionKey) -> Option<(u32, usize)> {
    let account = cfg
        .account_ids()
        .iter()
        .position(|a| *a == key.account_id)?;
    let region = cfg.regions.iter().position(|r| *r == key.region)?;
    Some((account as u32, region))
}

/// The start of the partition's day, epoch ms.
pub(super) fn day_start(key: &PartitionKey) -> i64 {
    key.day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
}

/// The events of one partition (the whole day; the caller keeps the lake's span).
pub(super) fn partition_events(cfg: &DemoConfig, key: &PartitionKey) -> Vec<TrailEvent> {
    let Some((account, region_idx)) = indices(cfg, key) else {
        return Vec::new();
    };
    let first_region = region_idx == 0;
    let day = day_start(key);
    let mut out = Vec::new();
    for hour in 0..24u32 {
        hour_calls(
            cfg,
            key,
            (account, region_idx),
            day + i64::from(hour) * HOUR_MS,
            &mut out,
        );
    }
    if first_region {
        sign_ins(cfg, key, account, day, &mut out);
    }
    root_visit(cfg, key, &mut out);
    out
}

/// One hour's API calls.
fn hour_calls(
    cfg: &DemoConfig,
    key: &PartitionKey,
    (account, region_idx): (u32, usize),
    hour_ms: i64,
    out: &mut Vec<TrailEvent>,
) {
    let (a, r) = (u64::from(account), region_idx as u64);
    let mut rng = Rng::new(mix(&[cfg.seed, 41, a, r, hour_ms as u64]));
    let hour = ((hour_ms / HOUR_MS) % 24) as u32;
    let count = (f64::from(calls_per_hour(cfg)) * activity(hour) * (0.85 + 0.3 * rng.unit()))
        .round() as u64;
    let enis = topology(account, region_idx, &key.region);
    let acct = key.account_id.as_str();
    let first_region = region_idx == 0;
    let day_part = (hour_ms / (24 * HOUR_MS)) as u64;
    for i in 0..count {
        let time = hour_ms + rng.below(3600) as i64 * 1000;
        let ids = [a * 1_000_000 + r * 10_000 + i, time as u64];
        let event = match pick_caller(&mut rng, hour) {
            Caller::App => {
                let eni = &enis[rng.below(4) as usize];
                let instance = eni.instance_id.clone().unwrap_or_default();
                let session_key = session_key(&[56, a, r, day_part]);
                let identity = assumed_role(acct, "app-server", &instance, session_key);
                let o = pick_op(&mut rng, &APP_OPS, first_region);
                let error = (rng.below(100) == 0).then(|| denied(o.service));
                call(
                    key,
                    time,
                    o,
                    identity,
                    (Some(eni.ip.clone()), None),
                    SDK_AGENT,
                    error,
                    &ids,
                )
            }
            Caller::Ci => {
                let run = format!("ci-run-{}", 1000 + (hour_ms / HOUR_MS) % 9000);
                let identity =
                    assumed_role(acct, "deploy", &run, session_key(&[57, a, hour_ms as u64]));
                let o = pick_op(&mut rng, &CI_OPS, first_region);
                let error = (rng.below(50) == 0).then_some(if o.service == EC2 {
                    ("Client.RequestLimitExceeded", "Request limit exceeded.")
                } else {
                    ("ThrottlingException", "Rate exceeded")
                });
                call(
                    key,
                    time,
                    o,
                    identity,
                    (Some(CI_ADDRESS.into()), None),
                    CI_AGENT,
                    error,
                    &ids,
                )
            }
            Caller::Scripts => {
                let identity =
                    iam_user(acct, "carol", Some(user_access_key(acct, "carol", 0)), None);
                let o = pick_op(&mut rng, &SCRIPT_OPS, first_region);
                let from = (Some(OFFICE_ADDRESSES[2].to_string()), None);
                call(key, time, o, identity, from, CLI_AGENT, None, &ids)
            }
            Caller::Admin => {
                let identity = iam_user(
                    acct,
                    "alice",
                    Some(session_key(&[58, a, day_part])),
                    Some(true),
                );
                let o = pick_op(&mut rng, &ADMIN_OPS, first_region);
                let from = (Some(OFFICE_ADDRESSES[0].to_string()), None);
                call(key, time, o, identity, from, CONSOLE_AGENT, None, &ids)
            }
            Caller::Developer => {
                let identity = iam_user(
                    acct,
                    "bob",
                    Some(session_key(&[59, a, day_part])),
                    Some(true),
                );
                let o = pick_op(&mut rng, &DEV_OPS, first_region);
                let odds = if DEV_DENIED.contains(&o.name) { 90 } else { 5 };
                let error = (rng.below(100) < odds).then(|| denied(o.service));
                let from = (Some(OFFICE_ADDRESSES[1].to_string()), None);
                call(key, time, o, identity, from, CONSOLE_AGENT, error, &ids)
            }
            Caller::Service => {
                let (by, service, name) = *rng.pick(&SERVICE_OPS);
                let identity = aws_service(by);
                call(
                    key,
                    time,
                    op(service, name),
                    identity,
                    (None, Some(by)),
                    by,
                    None,
                    &ids,
                )
            }
        };
        out.push(event);
    }
}

/// The morning console sign-ins of alice and bob (bob sometimes fails once first).
fn sign_ins(
    cfg: &DemoConfig,
    key: &PartitionKey,
    account: u32,
    day: i64,
    out: &mut Vec<TrailEvent>,
) {
    let a = u64::from(account);
    let mut rng = Rng::new(mix(&[cfg.seed, 43, a, day as u64]));
    let acct = key.account_id.as_str();
    for (n, (name, from_hour, address)) in [
        ("alice", 8, OFFICE_ADDRESSES[0]),
        ("bob", 9, OFFICE_ADDRESSES[1]),
    ]
    .into_iter()
    .enumerate()
    {
        let at = day + from_hour * HOUR_MS + rng.below(7200) as i64 * 1000;
        let who = || iam_user(acct, name, None, None);
        if name == "bob" && rng.below(100) < 35 {
            let failed = at - (60 + rng.below(120) as i64) * 1000;
            out.push(sign_in(
                key,
                failed,
                who(),
                address,
                false,
                false,
                &[a * 10 + n as u64, 1],
            ));
        }
        out.push(sign_in(
            key,
            at,
            who(),
            address,
            true,
            true,
            &[a * 10 + n as u64, 2],
        ));
        if name == "alice" && rng.below(100) < 40 {
            out.push(iam_change(key, &mut rng, at, a));
        }
    }
}

/// The user and role changes an administrator makes now and then: (operation, OCSF Account
/// Change activity, role or user acted on, policy).
const IAM_CHANGES: [(&str, i32, &str, Option<&str>); 4] = [
    (
        "AttachRolePolicy",
        7,
        "app-server",
        Some("arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"),
    ),
    (
        "DetachRolePolicy",
        8,
        "app-server",
        Some("arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"),
    ),
    ("CreateUser", 1, "contractor", None),
    ("DeleteUser", 6, "contractor", None),
];

/// One of alice's changes, within an hour of her sign-in.
fn iam_change(key: &PartitionKey, rng: &mut Rng, signed_in: i64, a: u64) -> TrailEvent {
    let (name, activity, target, policy) = *rng.pick(&IAM_CHANGES);
    let time = signed_in + (5 + rng.below(55) as i64) * 60_000;
    let acct = key.account_id.as_str();
    let identity = iam_user(
        acct,
        "alice",
        Some(session_key(&[58, a, (time / 86_400_000) as u64])),
        Some(true),
    );
    let from = (Some(OFFICE_ADDRESSES[0].to_string()), None);
    let mut event = call(
        key,
        time,
        op(IAM, name),
        identity,
        from,
        CONSOLE_AGENT,
        None,
        &[a * 10 + 7, 3],
    );
    event.class = TrailClass::AccountChange;
    event.activity_id = activity;
    event.target_user = Some(target.to_string());
    let mut parameters = vec![(
        if name.ends_with("RolePolicy") {
            "requestParameters.roleName"
        } else {
            "requestParameters.userName"
        },
        target.to_string(),
    )];
    parameters.extend(policy.map(|p| ("requestParameters.policyArn", p.to_string())));
    event.parameters = parameters;
    event
}

/// The root user of the second account (the only one when there is one) signs in with MFA at
/// 93.5 % of the lake's span (the day before the end of a demo lake that ends now), in the first
/// region, and looks at the account and its buckets.
pub fn root_sign_in(cfg: &DemoConfig) -> (String, String, i64) {
    let ids = cfg.account_ids();
    let account = ids.get(1).or(ids.first()).cloned().unwrap_or_default();
    let region = cfg.regions.first().cloned().unwrap_or_default();
    let span = cfg.end.timestamp_millis() - cfg.start().timestamp_millis();
    let at = cfg.start().timestamp_millis() + span * 187 / 200;
    (account, region, at - at.rem_euclid(60_000))
}

fn root_visit(cfg: &DemoConfig, key: &PartitionKey, out: &mut Vec<TrailEvent>) {
    let (account, region, at) = root_sign_in(cfg);
    let day = day_start(key);
    if key.account_id != account || key.region != region || !(day..day + 24 * HOUR_MS).contains(&at)
    {
        return;
    }
    let address = OFFICE_ADDRESSES[0];
    out.push(sign_in(
        key,
        at,
        root(&account, true),
        address,
        true,
        true,
        &[60, 1],
    ));
    for (i, (o, minutes)) in [
        (op(IAM, "GetAccountSummary"), 2),
        (op(S3, "ListBuckets"), 4),
        (op(IAM, "ListUsers"), 5),
    ]
    .into_iter()
    .enumerate()
    {
        let from = (Some(address.to_string()), None);
        out.push(call(
            key,
            at + minutes * 60_000,
            o,
            root(&account, true),
            from,
            CONSOLE_AGENT,
            None,
            &[60, 2 + i as u64],
        ));
    }
}
