//! CloudTrail data events of the demo accounts: object calls on their buckets (`s3_data`) and
//! invocations of their functions (`lambda_execution`), on random streams of their own so the
//! management events, flows and findings of the lake stay the same.
//!
//! Every hour of every account and region: the `app-server` instances read and write the assets
//! and uploads buckets and invoke the orders function; CI writes build artifacts; carol's scripts
//! read and write reports in office hours; AWS services deliver logs to the logs bucket and
//! invoke the resize function for each upload; API Gateway invokes the orders function through
//! its `live` alias; bob is now and then denied the customer exports. The story: after the
//! administrator policy is attached, carol's stolen key lists the customer exports bucket from
//! the outside address and reads its objects in a burst.

use super::super::parts::{mix, topology, Rng};
use super::super::{DemoConfig, PartitionKey};
use super::calls::{
    activity, assumed_role, aws_service, call, day_start, denied, iam_user, indices, office, op,
    session_key, user_access_key, Op, CI_ADDRESS, CI_AGENT, CLI_AGENT, HOUR_MS, LAMBDA,
    OFFICE_ADDRESSES, S3, SDK_AGENT,
};
use super::story::{trail_story, ATTACKER_AGENT, STORY_USER};
use super::{calls_per_hour, TrailEvent};

/// Which data-event table an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataEventSource {
    /// `s3_data`.
    S3,
    /// `lambda_execution`.
    Lambda,
}

/// One CloudTrail data event: the call, and the bucket (and object) or function it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataEvent {
    /// The call, as a management event would have it.
    pub event: TrailEvent,
    /// Its table.
    pub source: DataEventSource,
    /// The bucket or the function's name.
    pub target: String,
    /// The object key (S3 object calls), or the alias invoked (Lambda).
    pub qualifier: Option<String>,
}

impl DataEvent {
    /// CloudTrail's `resources` of the call: `(ARN, type)`, the object before its bucket.
    pub fn resources(&self) -> Vec<(String, &'static str)> {
        let e = &self.event;
        match (self.source, &self.qualifier) {
            (DataEventSource::S3, Some(key)) => vec![
                (
                    format!("arn:aws:s3:::{}/{key}", self.target),
                    "AWS::S3::Object",
                ),
                (format!("arn:aws:s3:::{}", self.target), "AWS::S3::Bucket"),
            ],
            (DataEventSource::S3, None) => {
                vec![(format!("arn:aws:s3:::{}", self.target), "AWS::S3::Bucket")]
            }
            (DataEventSource::Lambda, alias) => {
                let suffix = alias.as_ref().map(|a| format!(":{a}")).unwrap_or_default();
                vec![(
                    format!(
                        "arn:aws:lambda:{}:{}:function:{}{suffix}",
                        e.region, e.account_id, self.target
                    ),
                    "AWS::Lambda::Function",
                )]
            }
        }
    }
}

/// The bucket the story reads: customer data exported for the finance team.
pub const SENSITIVE_BUCKET: &str = "customer-exports";

/// A demo bucket of an account: `<purpose>-<account>` (S3 names are global).
pub fn bucket(purpose: &str, account: &str) -> String {
    format!("{purpose}-{account}")
}

/// The functions of every account and region.
pub const FUNCTIONS: [&str; 3] = ["orders-api", "image-resize", "nightly-report"];

/// GetObject calls of the story's burst.
pub const STORY_READS: u64 = 60;

/// The story's first object read, epoch ms (a minute after the policy is attached).
pub fn story_reads_from(cfg: &DemoConfig) -> i64 {
    trail_story(cfg).policy_attached_ms + 2 * 60_000
}

/// The S3 data events of one partition, sorted by time and id, within the lake's span.
pub fn partition_s3_events(cfg: &DemoConfig, key: &PartitionKey) -> Vec<DataEvent> {
    let mut out = hourly(cfg, key, 90, s3_hour);
    out.extend(story_events(cfg, key));
    finish(cfg, out)
}

/// The Lambda data events of one partition, sorted by time and id, within the lake's span.
pub fn partition_lambda_events(cfg: &DemoConfig, key: &PartitionKey) -> Vec<DataEvent> {
    finish(cfg, hourly(cfg, key, 95, lambda_hour))
}

/// Every S3 data event of the lake, in partition-key order.
pub fn all_s3_events(cfg: &DemoConfig) -> Vec<DataEvent> {
    super::super::partition_keys(cfg)
        .iter()
        .flat_map(|k| partition_s3_events(cfg, k))
        .collect()
}

/// Every Lambda data event of the lake, in partition-key order.
pub fn all_lambda_events(cfg: &DemoConfig) -> Vec<DataEvent> {
    super::super::partition_keys(cfg)
        .iter()
        .flat_map(|k| partition_lambda_events(cfg, k))
        .collect()
}

fn finish(cfg: &DemoConfig, mut events: Vec<DataEvent>) -> Vec<DataEvent> {
    let (start, end) = (cfg.start().timestamp_millis(), cfg.end.timestamp_millis());
    events.retain(|e| (start..end).contains(&e.event.time_ms));
    events.sort_by(|a, b| {
        (a.event.time_ms, &a.event.event_id).cmp(&(b.event.time_ms, &b.event.event_id))
    });
    events
}

/// What one hour of a partition draws from: its own stream, its hour and time, its count.
struct Hour<'a> {
    key: &'a PartitionKey,
    rng: Rng,
    account: u64,
    region: u64,
    hour: u32,
    hour_ms: i64,
    count: u64,
}

type HourFn = fn(&mut Hour, &mut Vec<DataEvent>);

/// Every hour of a partition's day through `each`, on the random stream `stream`.
fn hourly(cfg: &DemoConfig, key: &PartitionKey, stream: u64, each: HourFn) -> Vec<DataEvent> {
    let Some((account, region_idx)) = indices(cfg, key) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let day = day_start(key);
    for hour in 0..24u32 {
        let hour_ms = day + i64::from(hour) * HOUR_MS;
        let (a, r) = (u64::from(account), region_idx as u64);
        let mut rng = Rng::new(mix(&[cfg.seed, stream, a, r, hour_ms as u64]));
        // Half the management calls' rate, at least two an hour.
        let count =
            ((f64::from(calls_per_hour(cfg)) / 2.0) * activity(hour) * (0.85 + 0.3 * rng.unit()))
                .round()
                .max(2.0) as u64;
        let mut h = Hour {
            key,
            rng,
            account: a,
            region: r,
            hour,
            hour_ms,
            count,
        };
        each(&mut h, &mut out);
    }
    out
}

/// The S3 operations: reads, writes, deletes, listings.
const GET: Op = op(S3, "GetObject");
const PUT: Op = op(S3, "PutObject");
const DELETE: Op = op(S3, "DeleteObject");
const LIST: Op = op(S3, "ListObjects");

/// An object call of `identity` on a bucket (no key: a listing).
#[allow(clippy::too_many_arguments)]
fn s3_call(
    h: &mut Hour,
    stream: u64,
    i: u64,
    o: Op,
    identity: super::Identity,
    from: (Option<String>, Option<&'static str>),
    agent: &str,
    (target, key): (String, Option<String>),
    error: Option<(&'static str, &'static str)>,
) -> DataEvent {
    let time = h.hour_ms + h.rng.below(3600) as i64 * 1000;
    let ids = [
        stream * 1_000_000 + h.account * 10_000 + h.region * 1_000 + i,
        time as u64,
    ];
    let event = call(h.key, time, o, identity, from, agent, error, &ids);
    DataEvent {
        event,
        source: DataEventSource::S3,
        target,
        qualifier: key,
    }
}

/// One hour of object calls.
fn s3_hour(h: &mut Hour, out: &mut Vec<DataEvent>) {
    let acct = h.key.account_id.clone();
    let enis = topology(h.account as u32, h.region as usize, &h.key.region);
    let day = (h.hour_ms / (24 * HOUR_MS)) as u64;
    for i in 0..h.count {
        let roll = h.rng.below(100);
        let object = |h: &mut Hour, prefix: &str| format!("{prefix}/{:05}.json", h.rng.below(400));
        let e = if roll < 50 {
            let eni = &enis[h.rng.below(enis.len() as u64) as usize];
            let instance = eni.instance_id.clone().unwrap_or_default();
            let identity = assumed_role(
                &acct,
                "app-server",
                &instance,
                session_key(&[91, h.account, h.region, day]),
            );
            let (o, purpose, prefix) = match h.rng.below(10) {
                0..=5 => (GET, "app-assets", "static"),
                6..=8 => (PUT, "uploads", "incoming"),
                _ => (GET, SENSITIVE_BUCKET, "daily"),
            };
            let key = object(h, prefix);
            let from = (Some(eni.ip.clone()), None);
            s3_call(
                h,
                1,
                i,
                o,
                identity,
                from,
                SDK_AGENT,
                (bucket(purpose, &acct), Some(key)),
                None,
            )
        } else if roll < 65 {
            let run = format!("ci-run-{}", 1000 + (h.hour_ms / HOUR_MS) % 9000);
            let identity = assumed_role(
                &acct,
                "deploy",
                &run,
                session_key(&[92, h.account, h.hour_ms as u64]),
            );
            let key = object(h, "builds");
            let from = (Some(CI_ADDRESS.to_string()), None);
            s3_call(
                h,
                2,
                i,
                PUT,
                identity,
                from,
                CI_AGENT,
                (bucket("ci-artifacts", &acct), Some(key)),
                None,
            )
        } else if roll < 80 && office(h.hour) {
            let identity = iam_user(
                &acct,
                STORY_USER,
                Some(user_access_key(&acct, STORY_USER, 0)),
                None,
            );
            let o = *h.rng.pick(&[GET, GET, PUT, LIST, DELETE]);
            let key = (o.name != LIST.name).then(|| object(h, "weekly"));
            let from = (Some(OFFICE_ADDRESSES[2].to_string()), None);
            s3_call(
                h,
                3,
                i,
                o,
                identity,
                from,
                CLI_AGENT,
                (bucket("reports", &acct), key),
                None,
            )
        } else if roll < 83 && office(h.hour) {
            let identity = iam_user(
                &acct,
                "bob",
                Some(session_key(&[93, h.account, day])),
                Some(true),
            );
            let key = object(h, "daily");
            let from = (Some(OFFICE_ADDRESSES[1].to_string()), None);
            let error = Some(denied(S3));
            s3_call(
                h,
                4,
                i,
                GET,
                identity,
                from,
                "AWS Internal",
                (bucket(SENSITIVE_BUCKET, &acct), Some(key)),
                error,
            )
        } else {
            let service = "cloudtrail.amazonaws.com";
            let key = object(h, "AWSLogs");
            let from = (None, Some(service));
            s3_call(
                h,
                5,
                i,
                PUT,
                aws_service(service),
                from,
                service,
                (bucket("logs", &acct), Some(key)),
                None,
            )
        };
        out.push(e);
    }
}

const INVOKE: Op = op(LAMBDA, "Invoke");

/// One hour of invocations.
fn lambda_hour(h: &mut Hour, out: &mut Vec<DataEvent>) {
    let acct = h.key.account_id.clone();
    let enis = topology(h.account as u32, h.region as usize, &h.key.region);
    let day = (h.hour_ms / (24 * HOUR_MS)) as u64;
    for i in 0..h.count {
        let roll = h.rng.below(100);
        let (identity, from, agent, function, alias, error) = if roll < 45 {
            let service = "apigateway.amazonaws.com";
            let error =
                (h.rng.below(40) == 0).then_some(("TooManyRequestsException", "Rate exceeded"));
            (
                aws_service(service),
                (None, Some(service)),
                service,
                FUNCTIONS[0],
                Some("live"),
                error,
            )
        } else if roll < 75 {
            let service = "s3.amazonaws.com";
            (
                aws_service(service),
                (None, Some(service)),
                service,
                FUNCTIONS[1],
                None,
                None,
            )
        } else {
            let eni = &enis[h.rng.below(enis.len() as u64) as usize];
            let instance = eni.instance_id.clone().unwrap_or_default();
            let identity = assumed_role(
                &acct,
                "app-server",
                &instance,
                session_key(&[91, h.account, h.region, day]),
            );
            (
                identity,
                (Some(eni.ip.clone()), None),
                SDK_AGENT,
                FUNCTIONS[0],
                None,
                None,
            )
        };
        let time = h.hour_ms + h.rng.below(3600) as i64 * 1000;
        let ids = [
            6_000_000 + h.account * 10_000 + h.region * 1_000 + i,
            time as u64,
        ];
        out.push(DataEvent {
            event: call(h.key, time, INVOKE, identity, from, agent, error, &ids),
            source: DataEventSource::Lambda,
            target: function.to_string(),
            qualifier: alias.map(str::to_string),
        });
    }
    if h.hour == 2 {
        // The nightly report, on EventBridge's schedule.
        let service = "events.amazonaws.com";
        let time = h.hour_ms + 5_000;
        let ids = [
            7_000_000 + h.account * 10_000 + h.region * 1_000,
            time as u64,
        ];
        out.push(DataEvent {
            event: call(
                h.key,
                time,
                INVOKE,
                aws_service(service),
                (None, Some(service)),
                service,
                None,
                &ids,
            ),
            source: DataEventSource::Lambda,
            target: FUNCTIONS[2].to_string(),
            qualifier: None,
        });
    }
}

/// The story's object calls in a partition: carol's stolen key lists the customer exports and
/// reads [`STORY_READS`] of them, one every ten seconds, from the outside address.
fn story_events(cfg: &DemoConfig, key: &PartitionKey) -> Vec<DataEvent> {
    let story = trail_story(cfg);
    if key.account_id != story.account || key.region != story.region {
        return Vec::new();
    }
    let day = day_start(key);
    let from = story_reads_from(cfg);
    let identity = || {
        iam_user(
            &story.account,
            STORY_USER,
            Some(story.stolen_key.clone()),
            None,
        )
    };
    let target = bucket(SENSITIVE_BUCKET, &story.account);
    let address = || (Some(story.address.to_string()), None);
    let mut out = vec![DataEvent {
        event: call(
            key,
            from - 30_000,
            LIST,
            identity(),
            address(),
            ATTACKER_AGENT,
            None,
            &[8_000_000, 0],
        ),
        source: DataEventSource::S3,
        target: target.clone(),
        qualifier: None,
    }];
    for i in 0..STORY_READS {
        let time = from + i as i64 * 10_000;
        out.push(DataEvent {
            event: call(
                key,
                time,
                GET,
                identity(),
                address(),
                ATTACKER_AGENT,
                None,
                &[8_000_001, i],
            ),
            source: DataEventSource::S3,
            target: target.clone(),
            qualifier: Some(format!("daily/{:05}.json", i)),
        });
    }
    out.retain(|e| (day..day + 24 * HOUR_MS).contains(&e.event.time_ms));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::SourceVersion;

    fn cfg() -> DemoConfig {
        DemoConfig {
            days: 3,
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
    fn data_events_are_deterministic_unique_and_in_every_partition() {
        let c = cfg();
        for events in [all_s3_events(&c), all_lambda_events(&c)] {
            let (start, end) = (c.start().timestamp_millis(), c.end.timestamp_millis());
            assert!(events
                .iter()
                .all(|e| (start..end).contains(&e.event.time_ms)));
            let ids: std::collections::BTreeSet<&str> =
                events.iter().map(|e| e.event.event_id.as_str()).collect();
            assert_eq!(ids.len(), events.len(), "event ids are unique");
        }
        assert_eq!(all_s3_events(&c), all_s3_events(&c));
        for key in super::super::super::partition_keys(&c) {
            assert!(!partition_s3_events(&c, &key).is_empty(), "{key:?}");
            assert!(!partition_lambda_events(&c, &key).is_empty(), "{key:?}");
        }
    }

    #[test]
    fn the_stolen_key_reads_the_customer_exports_after_the_policy_is_attached() {
        let c = cfg();
        let story = trail_story(&c);
        let target = bucket(SENSITIVE_BUCKET, &story.account);
        let reads: Vec<DataEvent> = all_s3_events(&c)
            .into_iter()
            .filter(|e| e.event.src_ip.as_deref() == Some(story.address))
            .collect();
        let gets = reads
            .iter()
            .filter(|e| e.event.operation == "GetObject")
            .count();
        assert_eq!(gets as u64, STORY_READS);
        assert!(reads.iter().all(|e| e.target == target
            && e.event.time_ms > story.policy_attached_ms
            && e.event.identity.access_key.as_deref() == Some(story.stolen_key.as_str())));
        // Nobody else reads that bucket from outside the account's network and the office.
        let others = all_s3_events(&c)
            .into_iter()
            .filter(|e| e.target == target && e.event.src_ip.as_deref() != Some(story.address))
            .filter(|e| {
                e.event
                    .src_ip
                    .as_deref()
                    .is_some_and(|ip| !ip.starts_with("10.") && !ip.starts_with("198.51.100."))
            })
            .count();
        assert_eq!(others, 0);
    }

    #[test]
    fn resources_name_the_object_before_its_bucket_and_the_function_with_its_alias() {
        let c = cfg();
        let s3 = all_s3_events(&c);
        let object = s3.iter().find(|e| e.qualifier.is_some()).unwrap();
        let resources = object.resources();
        assert_eq!(resources.len(), 2);
        assert!(resources[0]
            .0
            .starts_with(&format!("arn:aws:s3:::{}/", object.target)));
        assert_eq!(
            resources[1],
            (format!("arn:aws:s3:::{}", object.target), "AWS::S3::Bucket")
        );
        let lambda = all_lambda_events(&c);
        let aliased = lambda.iter().find(|e| e.qualifier.is_some()).unwrap();
        assert!(aliased.resources()[0]
            .0
            .ends_with(&format!(":function:{}:live", aliased.target)));
    }
}
