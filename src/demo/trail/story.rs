//! The CloudTrail story, on its own random stream: at 94 % of the lake's span (the day before the
//! end of a demo lake that ends now), in the first
//! account and region, carol's access key — which only ever ran scripts from the office — is used
//! from an internet address never seen before. Whoever holds it looks around (who am I, the
//! users, the buckets; EC2 is denied), signs in to the console as carol without MFA, creates a
//! second access key for her and attaches AdministratorAccess to her, then uses the new key from
//! the same address.

use super::super::parts::{mix, Rng};
use super::super::{DemoConfig, PartitionKey};
use super::calls::{
    aws_id, call, denied, iam_user, op, sign_in, user_access_key, Op, BROWSER, EC2, IAM, S3, STS,
};
use super::{TrailClass, TrailEvent};

/// The address the stolen key is used from (never seen in the lake before the story).
pub const NEW_ADDRESS: &str = "5.188.62.140";

/// The user whose key is stolen.
pub const STORY_USER: &str = "carol";

/// The policy attached to her.
pub const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

pub(super) const ATTACKER_AGENT: &str = "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.15.0-105-generic md/arch#x86_64 lang/python#3.10.12 cfg/retry-mode#legacy Botocore/1.34.69";

/// The story's facts, for tests and the demo's tour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailStory {
    /// The account.
    pub account: String,
    /// The region (IAM and the sign-in are recorded there too).
    pub region: String,
    /// carol's ARN.
    pub user_arn: String,
    /// Her access key used from the new address.
    pub stolen_key: String,
    /// The key created for her.
    pub new_key: String,
    /// The new address.
    pub address: &'static str,
    /// When the stolen key is first used, epoch ms.
    pub from_ms: i64,
    /// The console sign-in without MFA, epoch ms.
    pub sign_in_ms: i64,
    /// The new access key's creation, epoch ms.
    pub key_created_ms: i64,
    /// The policy attachment, epoch ms.
    pub policy_attached_ms: i64,
}

/// The story of a lake.
pub fn trail_story(cfg: &DemoConfig) -> TrailStory {
    let account = cfg.account_ids().first().cloned().unwrap_or_default();
    let region = cfg.regions.first().cloned().unwrap_or_default();
    let span = cfg.end.timestamp_millis() - cfg.start().timestamp_millis();
    let at = cfg.start().timestamp_millis() + span * 47 / 50;
    let mut rng = Rng::new(mix(&[cfg.seed, 47]));
    let from_ms = at - at.rem_euclid(60_000) + rng.below(30) as i64 * 60_000;
    TrailStory {
        user_arn: format!("arn:aws:iam::{account}:user/{STORY_USER}"),
        stolen_key: user_access_key(&account, STORY_USER, 0),
        new_key: user_access_key(&account, STORY_USER, 1),
        address: NEW_ADDRESS,
        sign_in_ms: from_ms + 20 * 60_000,
        key_created_ms: from_ms + 26 * 60_000,
        policy_attached_ms: from_ms + 31 * 60_000,
        from_ms,
        account,
        region,
    }
}

/// The story's events that fall in a partition (all of them the first account and region's).
pub(super) fn partition_events(cfg: &DemoConfig, key: &PartitionKey) -> Vec<TrailEvent> {
    let story = trail_story(cfg);
    if key.account_id != story.account || key.region != story.region {
        return Vec::new();
    }
    let mut events = all_events(&story, key);
    let day = key
        .day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis());
    events.retain(|e| (day..day + 86_400_000).contains(&e.time_ms));
    events
}

fn all_events(story: &TrailStory, key: &PartitionKey) -> Vec<TrailEvent> {
    let acct = story.account.as_str();
    let from = || (Some(story.address.to_string()), None);
    let with_key = |k: &str| iam_user(acct, STORY_USER, Some(k.to_string()), None);
    let minute = |m: i64| story.from_ms + m * 60_000;
    let mut out = Vec::new();
    // Looking around with the stolen key.
    let recon: [(Op, i64, bool); 6] = [
        (op(STS, "GetCallerIdentity"), 0, true),
        (op(IAM, "ListUsers"), 2, true),
        (op(IAM, "ListAttachedUserPolicies"), 3, true),
        (op(S3, "ListBuckets"), 4, true),
        (op(EC2, "DescribeInstances"), 5, false),
        (op(IAM, "ListAccessKeys"), 7, true),
    ];
    for (i, (o, m, allowed)) in recon.into_iter().enumerate() {
        let error = (!allowed).then(|| denied(o.service));
        let ids = [70, i as u64];
        out.push(call(
            key,
            minute(m),
            o,
            with_key(&story.stolen_key),
            from(),
            ATTACKER_AGENT,
            error,
            &ids,
        ));
    }
    // The console, without MFA.
    let console = iam_user(acct, STORY_USER, None, None);
    out.push(sign_in(
        key,
        story.sign_in_ms,
        console,
        story.address,
        true,
        false,
        &[71, 0],
    ));
    let session = || {
        iam_user(
            acct,
            STORY_USER,
            Some(aws_id("ASIA", &[72, story.from_ms as u64])),
            Some(false),
        )
    };
    // A second access key for carol.
    let mut created = call(
        key,
        story.key_created_ms,
        op(IAM, "CreateAccessKey"),
        session(),
        from(),
        BROWSER,
        None,
        &[73, 0],
    );
    created.target_user = Some(STORY_USER.to_string());
    created.parameters = vec![
        ("requestParameters.userName", STORY_USER.to_string()),
        (
            "responseElements.accessKey.accessKeyId",
            story.new_key.clone(),
        ),
    ];
    out.push(created);
    // AdministratorAccess attached to her.
    let mut attached = call(
        key,
        story.policy_attached_ms,
        op(IAM, "AttachUserPolicy"),
        session(),
        from(),
        BROWSER,
        None,
        &[74, 0],
    );
    attached.class = TrailClass::AccountChange;
    attached.activity_id = 7;
    attached.target_user = Some(STORY_USER.to_string());
    attached.parameters = vec![
        ("requestParameters.userName", STORY_USER.to_string()),
        ("requestParameters.policyArn", ADMIN_POLICY.to_string()),
    ];
    out.push(attached);
    // The new key at work, EC2 now allowed.
    let after: [(Op, i64); 5] = [
        (op(STS, "GetCallerIdentity"), 40),
        (op(EC2, "DescribeInstances"), 41),
        (op(EC2, "DescribeSecurityGroups"), 43),
        (op(S3, "GetBucketPolicy"), 47),
        (op(IAM, "ListRoles"), 52),
    ];
    for (i, (o, m)) in after.into_iter().enumerate() {
        let ids = [75, i as u64];
        out.push(call(
            key,
            minute(m),
            o,
            with_key(&story.new_key),
            from(),
            ATTACKER_AGENT,
            None,
            &ids,
        ));
    }
    out
}
