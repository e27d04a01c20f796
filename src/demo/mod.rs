//! TEMP stub until the generator lands.
#![allow(missing_docs, dead_code)]
use crate::lake::SourceVersion;
use chrono::{DateTime, Utc};
#[derive(Debug, thiserror::Error)]
#[error("demo")]
pub struct DemoError;
pub struct DemoConfig {
    pub days: u32,
    pub accounts: u32,
    pub regions: Vec<String>,
    pub seed: u64,
    pub end: DateTime<Utc>,
    pub versions: Vec<SourceVersion>,
    pub flows_per_hour: u32,
}
impl Default for DemoConfig {
    fn default() -> Self {
        todo!()
    }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowAction {
    Accept,
    Reject,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowDirection {
    Ingress,
    Egress,
}
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord {
    pub account_id: String,
    pub region: String,
    pub zone: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub eni_id: String,
    pub instance_id: Option<String>,
    pub src_addr: String,
    pub dst_addr: String,
    pub src_port: i32,
    pub dst_port: i32,
    pub protocol: i32,
    pub packets: i64,
    pub bytes: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub action: FlowAction,
    pub tcp_flags: i32,
    pub direction: FlowDirection,
    pub boundary_id: i32,
}
pub struct LakeSummary {
    pub records_per_version: u64,
    pub files: u64,
    pub bytes: u64,
    pub elapsed: std::time::Duration,
}
pub fn write_lake(
    _cfg: &DemoConfig,
    _out: &std::path::Path,
    _progress: bool,
) -> Result<LakeSummary, DemoError> {
    todo!()
}
pub fn all_records(_cfg: &DemoConfig) -> Vec<FlowRecord> {
    todo!()
}
