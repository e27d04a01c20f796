//! The demo lake generator: a realistic, deterministic VPC-flow lake in the Security Lake layout
//! (`aws/VPC_FLOW/<ver>/region=…/accountId=…/eventDay=…/part-00000.parquet`), written as real
//! Parquet with the OCSF nested columns of the v1 and v2 tables.
//!
//! `parts.rs` holds what the others share (random streams, ids, topology, the record
//! constructor); `model.rs` makes the clean records (traffic mix, diurnal cycle, a VPC that goes
//! silent); `story.rs` plants the events the detections find (a service exposed to the
//! internet, an egress burst, a new external peer, a beacon); `messy.rs` adds what real lakes
//! carry on top of them; `findings.rs` makes the Security Hub findings that go with them (EC2.6
//! and friends); `trail/` makes the CloudTrail management events of the same accounts (and its
//! own story: a stolen access key); `dns/` makes the Route 53 Resolver queries of their instances
//! (and its story: a rare domain before the egress burst, a DNS tunnel); `waf/` makes the AWS
//! WAF requests of their web ACLs, v2 only (and its story: a rate-limited client, and the stolen
//! key's address probing first); `columns.rs` builds Arrow columns; `write.rs` turns them
//! into Arrow batches and Parquet files.

mod columns;
mod detections;
mod dns;
mod findings;
mod messy;
mod model;
mod parts;
mod story;
mod trail;
mod waf;
mod write;

use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};

use crate::lake::SourceVersion;

pub use detections::{all_detections, C2_TYPE, KEY_TYPE};
pub use dns::{
    all_dns_queries, dns_batch, dns_story, partition_dns_queries, queries_per_hour, DnsQuery,
    DnsStory, RARE_DOMAIN, TUNNEL_DOMAIN,
};
pub use findings::{
    all_findings, flapping_vpc, partition_findings, retired_vpc, unlogged_vpc, FindingClass,
    FindingRecord, CENTRAL_BUCKET_RULE, CONTROL_TYPE,
};
pub use model::{partition_keys, silent_vpc};
pub use parts::Rng;
pub use story::{
    beacon, egress_burst, exposed_service, new_peer, BEACON_DEST, BEACON_PERIOD_MS, BURST_DEST,
    NEW_PEER, SSH_CALLERS,
};
pub use trail::{
    all_lambda_events, all_s3_events, all_trail_events, bucket, calls_per_hour, data_event_batch,
    partition_lambda_events, partition_s3_events, partition_trail_events, root_sign_in,
    story_reads_from, trail_batch, trail_story, DataEvent, DataEventSource, Identity, TrailClass,
    TrailEvent, TrailStory, CI_ADDRESS, FUNCTIONS, OFFICE_ADDRESSES, SENSITIVE_BUCKET, STORY_READS,
};
pub use waf::{
    all_waf_requests, partition_waf_requests, probe_times, requests_per_hour, waf_batch, web_acl,
    WafRequest, HOST, PROBE_RULE, RATE_LIMITED_CLIENT, RATE_RULE,
};
pub use write::{findings_batch, flow_batch, vpc_flow_schema, write_lake};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Days of data before `end`.
    pub days: u32,
    /// Number of AWS accounts.
    pub accounts: u32,
    /// Regions.
    pub regions: Vec<String>,
    /// PRNG seed: the same seed and end give identical records and files.
    pub seed: u64,
    /// End of the lake (exclusive).
    pub end: DateTime<Utc>,
    /// Table layouts to write.
    pub versions: Vec<SourceVersion>,
    /// Flow records per account × region × hour at the daily peak.
    pub flows_per_hour: u32,
    /// Real-lake mess on top of the clean traffic (see `messy.rs`): IPv6, `-` and NULL addresses
    /// and ports, NAT-gateway and endpoint traffic, ICMP without ports, flows crossing midnight,
    /// late deliveries, several files per partition with row groups out of time order.
    pub messy: bool,
}

impl Default for DemoConfig {
    fn default() -> Self {
        let now = Utc::now();
        DemoConfig {
            days: 14,
            accounts: 3,
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            seed: 42,
            end: now
                .with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(now),
            versions: vec![SourceVersion::V2],
            flows_per_hour: 1_200,
            messy: false,
        }
    }
}

impl DemoConfig {
    /// Start of the lake (inclusive): `end - days`.
    pub fn start(&self) -> DateTime<Utc> {
        self.end - Duration::days(i64::from(self.days))
    }

    /// The account ids, deterministic by index.
    pub fn account_ids(&self) -> Vec<String> {
        (0..self.accounts).map(parts::account_id).collect()
    }
}

/// The records of one partition, sorted by start time: the clean model's, with the mess of
/// `messy.rs` added hour by hour when the lake is messy.
pub fn partition_records(cfg: &DemoConfig, key: &PartitionKey) -> Vec<FlowRecord> {
    model::partition_records_with(cfg, key, |enis, hour_ms, records| {
        story::plant(cfg, enis, key, hour_ms, records);
        if cfg.messy {
            messy::roughen(cfg.seed, enis, key, hour_ms, records);
        }
    })
}

/// All records of the lake, in partition-key order.
pub fn all_records(cfg: &DemoConfig) -> Vec<FlowRecord> {
    partition_keys(cfg)
        .iter()
        .flat_map(|k| partition_records(cfg, k))
        .collect()
}

/// Accept or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowAction {
    /// ACCEPT.
    Accept,
    /// REJECT.
    Reject,
}

/// Flow direction relative to the ENI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowDirection {
    /// Traffic to the ENI.
    Ingress,
    /// Traffic from the ENI.
    Egress,
}

/// One VPC flow-log record, in flow-log terms (version independent).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord {
    /// account-id.
    pub account_id: String,
    /// region.
    pub region: String,
    /// Availability zone.
    pub zone: String,
    /// vpc-id.
    pub vpc_id: String,
    /// subnet-id.
    pub subnet_id: String,
    /// interface-id.
    pub eni_id: String,
    /// instance-id (none for NAT/ELB ENIs).
    pub instance_id: Option<String>,
    /// The source packet's address (pkt-srcaddr, OCSF `src_endpoint.ip`; the flow log's srcaddr
    /// unless `src_interface_addr` says otherwise): `None` where the OCSF mapping left it NULL,
    /// `Some("-")` where the flow log had no value.
    pub src_addr: Option<String>,
    /// dstaddr (as `src_addr`).
    pub dst_addr: Option<String>,
    /// srcport: `None` when the protocol has none (ICMP) or the log had no value.
    pub src_port: Option<i32>,
    /// dstport (as `src_port`).
    pub dst_port: Option<i32>,
    /// protocol: 6 TCP, 17 UDP, 1 ICMP.
    pub protocol: i32,
    /// packets.
    pub packets: i64,
    /// bytes.
    pub bytes: i64,
    /// start, epoch ms UTC.
    pub start_ms: i64,
    /// end, epoch ms UTC (start + 60 s; long-lived flows last longer).
    pub end_ms: i64,
    /// When the record reached the lake, epoch ms UTC: the hour of the file that holds it (late
    /// deliveries come hours after `start_ms`, always within the same UTC day's partition).
    pub delivered_ms: i64,
    /// action.
    pub action: FlowAction,
    /// tcp-flags.
    pub tcp_flags: i32,
    /// flow-direction.
    pub direction: FlowDirection,
    /// traffic-path boundary id (see [`boundary_name`]).
    pub boundary_id: i32,
    /// srcaddr where the interface forwarded the packet and its own address differs from
    /// `src_addr` (then the packet's, `pkt-srcaddr`); written to `src_endpoint.intermediate_ips`.
    pub src_interface_addr: Option<String>,
    /// dstaddr where it differs from `dst_addr` (then `pkt-dstaddr`), as `src_interface_addr`.
    pub dst_interface_addr: Option<String>,
    /// pkt-src-aws-service: the AWS service whose address range holds `src_addr`.
    pub src_aws_service: Option<&'static str>,
    /// pkt-dst-aws-service.
    pub dst_aws_service: Option<&'static str>,
}

impl FlowRecord {
    /// srcaddr as an address: `None` for NULL and for `-`.
    pub fn src_ip(&self) -> Option<std::net::IpAddr> {
        self.src_addr.as_deref().and_then(|a| a.parse().ok())
    }

    /// The flow log's srcaddr: the interface's own address.
    pub fn interface_src_addr(&self) -> Option<&str> {
        self.src_interface_addr
            .as_deref()
            .or(self.src_addr.as_deref())
    }

    /// The flow log's dstaddr: the interface's own address.
    pub fn interface_dst_addr(&self) -> Option<&str> {
        self.dst_interface_addr
            .as_deref()
            .or(self.dst_addr.as_deref())
    }

    /// dstaddr as an address: `None` for NULL and for `-`.
    pub fn dst_ip(&self) -> Option<std::net::IpAddr> {
        self.dst_addr.as_deref().and_then(|a| a.parse().ok())
    }

    /// Whether either address is IPv6 (OCSF `connection_info.protocol_ver`).
    pub fn is_ipv6(&self) -> bool {
        self.src_ip().or(self.dst_ip()).is_some_and(|a| a.is_ipv6())
    }

    /// `YYYYMMDD` of the start time in UTC.
    pub fn event_day(&self) -> String {
        DateTime::from_timestamp_millis(self.start_ms)
            .map(|t| t.format("%Y%m%d").to_string())
            .unwrap_or_default()
    }
}

/// The OCSF boundary name of a traffic-path id.
pub fn boundary_name(id: i32) -> &'static str {
    match id {
        1 => "Same VPC",
        2 => "Intra-region VPC",
        3 => "Inter-region VPC",
        4 => "Virtual Private Gateway",
        5 => "Internet Gateway",
        6 => "Intra-region VPC Peering",
        7 => "Inter-region VPC Peering",
        8 => "Local Gateway",
        _ => "Unknown",
    }
}

/// One partition of the lake: account × region × UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    /// Account id.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// UTC day.
    pub day: NaiveDate,
}

/// What `write_lake` wrote.
#[derive(Debug, Clone)]
pub struct LakeSummary {
    /// Flow records written per version.
    pub records_per_version: u64,
    /// CloudTrail events written per version.
    pub trail_events_per_version: u64,
    /// Route 53 Resolver queries written per version.
    pub dns_queries_per_version: u64,
    /// AWS WAF requests written (source version 2 only).
    pub waf_requests: u64,
    /// CloudTrail S3 and Lambda data events written per version.
    pub data_events_per_version: u64,
    /// Wall time spent drawing the data events (all partitions, summed over the workers).
    pub data_events_cpu: std::time::Duration,
    /// Parquet files written.
    pub files: u64,
    /// Bytes of Parquet written.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: std::time::Duration,
}

impl LakeSummary {
    /// Records of every source written (findings left out: a few thousand), over `versions`
    /// source versions (WAF's are version 2 only).
    pub fn records_written(&self, versions: usize) -> u64 {
        let per_version = self.records_per_version
            + self.trail_events_per_version
            + self.data_events_per_version
            + self.dns_queries_per_version;
        per_version * versions as u64 + self.waf_requests
    }
}

/// Generator failures.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The output folder exists already.
    #[error("{0} already exists; remove it or choose another folder")]
    Exists(PathBuf),
    /// Reading or writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Arrow or Parquet failed.
    #[error("cannot encode demo data: {0}")]
    Encode(String),
}
