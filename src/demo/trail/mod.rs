//! CloudTrail management events of the demo accounts, in CloudTrail terms (version independent):
//! what `batch.rs` writes into the `cloud_trail_mgmt` tables.
//!
//! `calls.rs` makes the everyday activity of each account × region × day: a handful of
//! principals (two people who sign in to the console, an IAM user whose access key runs scripts,
//! a CI role, an instance role, AWS services on the account's behalf) calling EC2, S3, IAM, STS,
//! KMS, Lambda, SSM and Secrets Manager, some of it denied, and one root sign-in. `story.rs` plants
//! the story on its own random stream: the scripts user's access key used from a new internet
//! address, a console sign-in without MFA, a new access key, an administrator policy attached.
//! Every event is drawn from streams of its own (seed, account, region, hour), so the flows and
//! findings of the lake are the same with or without it.

mod batch;
mod calls;
mod data;
mod story;

pub use batch::{data_event_batch, trail_batch};
pub use calls::{root_sign_in, CI_ADDRESS, OFFICE_ADDRESSES};
pub use data::{
    all_lambda_events, all_s3_events, bucket, partition_lambda_events, partition_s3_events,
    story_reads_from, DataEvent, DataEventSource, FUNCTIONS, SENSITIVE_BUCKET, STORY_READS,
};
pub use story::{trail_story, TrailStory, NEW_ADDRESS};

use super::{DemoConfig, PartitionKey};

/// The OCSF class of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrailClass {
    /// An API call (API Activity: v1 3005, v2 6003).
    ApiActivity,
    /// A console sign-in (Authentication 3002).
    Authentication,
    /// A user or role created, deleted, a policy attached or detached (Account Change 3001).
    AccountChange,
}

/// Who made a call (CloudTrail's `userIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `type`: `IAMUser`, `AssumedRole`, `Root`, `AWSService`.
    pub kind: &'static str,
    /// `arn` (none for AWS services).
    pub arn: Option<String>,
    /// `principalId`.
    pub principal_id: Option<String>,
    /// `userName` (IAM users).
    pub name: Option<String>,
    /// `accountId`.
    pub account_id: Option<String>,
    /// `accessKeyId`.
    pub access_key: Option<String>,
    /// `sessionContext.sessionIssuer.arn` (assumed roles).
    pub session_issuer: Option<String>,
    /// `sessionContext.attributes.mfaAuthenticated`.
    pub session_mfa: Option<bool>,
    /// `invokedBy` (AWS services).
    pub invoked_by: Option<&'static str>,
}

/// One CloudTrail management event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailEvent {
    /// The account whose trail recorded it (`recipientAccountId`, the partition's account).
    pub account_id: String,
    /// `awsRegion`.
    pub region: String,
    /// `eventTime`, epoch ms UTC.
    pub time_ms: i64,
    /// `eventID`.
    pub event_id: String,
    /// `requestID` (none for console sign-ins).
    pub request_id: Option<String>,
    /// `eventSource`.
    pub service: &'static str,
    /// `eventName`.
    pub operation: &'static str,
    /// The OCSF class.
    pub class: TrailClass,
    /// The OCSF activity id within the class (Create 1, Read 2, Update 3, Delete 4, Logon 1,
    /// Attach Policy 7, …).
    pub activity_id: i32,
    /// The caller.
    pub identity: Identity,
    /// `sourceIPAddress` when it is an address.
    pub src_ip: Option<String>,
    /// `sourceIPAddress` when it is a service name (`ec2.amazonaws.com`).
    pub src_domain: Option<&'static str>,
    /// `userAgent`.
    pub user_agent: String,
    /// Whether the call (or sign-in) succeeded.
    pub success: bool,
    /// `errorCode` of a failed call (a failed sign-in has none, only a message).
    pub error_code: Option<&'static str>,
    /// `errorMessage`.
    pub error_message: Option<&'static str>,
    /// `additionalEventData.MFAUsed` of a console sign-in.
    pub mfa_used: Option<bool>,
    /// The user an Account Change or sign-in is about (`requestParameters.userName`).
    pub target_user: Option<String>,
    /// `requestParameters` worth keeping (`policyArn`), as `unmapped` keys.
    pub parameters: Vec<(&'static str, String)>,
    /// `readOnly`.
    pub read_only: bool,
}

impl TrailEvent {
    /// `YYYYMMDD` of the event time in UTC.
    pub fn event_day(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.time_ms)
            .map(|t| t.format("%Y%m%d").to_string())
            .unwrap_or_default()
    }
}

/// The events of one partition, sorted by time: the everyday activity and the story's.
pub fn partition_trail_events(cfg: &DemoConfig, key: &PartitionKey) -> Vec<TrailEvent> {
    let mut events = calls::partition_events(cfg, key);
    events.extend(story::partition_events(cfg, key));
    let (start, end) = (cfg.start().timestamp_millis(), cfg.end.timestamp_millis());
    events.retain(|e| (start..end).contains(&e.time_ms));
    events.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then(a.event_id.cmp(&b.event_id)));
    events
}

/// Every event of the lake, in partition-key order.
pub fn all_trail_events(cfg: &DemoConfig) -> Vec<TrailEvent> {
    super::partition_keys(cfg)
        .iter()
        .flat_map(|k| partition_trail_events(cfg, k))
        .collect()
}

/// CloudTrail events per account × region × hour at the daily peak: a fortieth of the flow
/// records, from 4 to 40 (the demo lake stays quick to write however wide it is).
pub fn calls_per_hour(cfg: &DemoConfig) -> u32 {
    (cfg.flows_per_hour / 40).clamp(4, 40)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::SourceVersion;

    fn cfg() -> DemoConfig {
        DemoConfig {
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
        }
    }

    #[test]
    fn events_are_deterministic_within_the_span_and_tell_the_story() {
        let c = cfg();
        let events = all_trail_events(&c);
        assert_eq!(events, all_trail_events(&c));
        let (start, end) = (c.start().timestamp_millis(), c.end.timestamp_millis());
        assert!(events.iter().all(|e| (start..end).contains(&e.time_ms)));
        let ids: std::collections::BTreeSet<&str> =
            events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids.len(), events.len(), "event ids are unique");
        // Global services only in the first region.
        assert!(events
            .iter()
            .filter(|e| e.service == "iam.amazonaws.com" || e.service == "signin.amazonaws.com")
            .all(|e| e.region == "us-east-1"));
        let story = trail_story(&c);
        let stolen =
            |e: &&TrailEvent| e.identity.access_key.as_deref() == Some(story.stolen_key.as_str());
        // carol's key: the office before the story, the new address from it on.
        let before: Vec<&TrailEvent> = events
            .iter()
            .filter(stolen)
            .filter(|e| e.time_ms < story.from_ms)
            .collect();
        assert!(!before.is_empty());
        assert!(before
            .iter()
            .all(|e| e.src_ip.as_deref() == Some(OFFICE_ADDRESSES[2])));
        assert!(events
            .iter()
            .filter(|e| e.src_ip.as_deref() == Some(story.address))
            .all(|e| e.time_ms >= story.from_ms && e.account_id == story.account));
        let no_mfa: Vec<&TrailEvent> = events
            .iter()
            .filter(|e| e.class == TrailClass::Authentication && e.success)
            .filter(|e| e.mfa_used == Some(false))
            .collect();
        assert_eq!(
            no_mfa.len(),
            1,
            "the story's sign-in is the only one without MFA"
        );
        assert_eq!(no_mfa[0].time_ms, story.sign_in_ms);
        assert!(events.iter().any(|e| e.operation == "CreateAccessKey"
            && e.parameters.iter().any(|(_, v)| *v == story.new_key)));
        assert!(events.iter().any(|e| e.operation == "AttachUserPolicy"
            && e.class == TrailClass::AccountChange
            && e.time_ms == story.policy_attached_ms));
        let (root_account, _, root_at) = root_sign_in(&c);
        let roots: Vec<&TrailEvent> = events
            .iter()
            .filter(|e| e.identity.kind == "Root")
            .collect();
        assert_eq!(roots.len(), 4);
        assert!(roots
            .iter()
            .all(|e| e.account_id == root_account && e.time_ms >= root_at));
        assert!(events
            .iter()
            .any(|e| !e.success && e.error_code == Some("AccessDenied")));
        assert!(events
            .iter()
            .any(|e| e.class == TrailClass::Authentication && !e.success));
        assert!(events
            .iter()
            .any(|e| e.identity.kind == "AWSService" && e.src_ip.is_none()));
    }
}
