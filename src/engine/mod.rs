//! Engines run rendered SQL and return Arrow record batches plus what they read.
//!
//! `local.rs`: DataFusion over a Parquet lake in the Security Lake folder layout.

pub mod local;
pub mod udf;

use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::plan::TableRef;
use crate::sql::Dialect;

/// Who has to act on an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The user: bad input, missing data or grant, wrong setting.
    User,
    /// The plugin: a bug or an internal failure.
    Plugin,
}

/// One query for an engine.
#[derive(Debug, Clone)]
pub struct EngineRequest {
    /// Grafana refId, for logs.
    pub ref_id: String,
    /// SQL in the engine's dialect.
    pub sql: String,
    /// Tables the SQL reads (the local engine registers them on demand).
    pub tables: Vec<TableRef>,
}

/// What a query read, measured by the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Data files scanned after partition pruning.
    pub files: u64,
    /// Total size of those files.
    pub file_bytes: u64,
    /// Bytes actually read from storage (Parquet pages and footers).
    pub bytes_read: u64,
    /// Partition folders of the scanned files (`region=…/accountId=…/eventDay=…`), sorted.
    pub partitions: Vec<String>,
}

/// The result of a query.
#[derive(Debug, Clone)]
pub struct QueryOutput {
    /// Result schema.
    pub schema: SchemaRef,
    /// Result rows.
    pub batches: Vec<RecordBatch>,
    /// What was read.
    pub stats: ScanStats,
    /// Wall time in the engine.
    pub elapsed: Duration,
}

impl QueryOutput {
    /// Number of result rows.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Engine failures.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configured local lake folder does not exist.
    #[error("the local lake folder {path} does not exist; generate it with `lakewatch demo-lake --out {path}` or set the datasource's lake path")]
    LakeMissing {
        /// The folder.
        path: String,
    },
    /// No data files for a table.
    #[error("the lake at {lake} has no {source_name} data for source version {version} (looked in {folder}); generate it with `lakewatch demo-lake --source-version {version}` or choose the version the lake holds")]
    TableMissing {
        /// Lake root.
        lake: String,
        /// Source API name.
        source_name: String,
        /// Source version.
        version: String,
        /// Folder searched.
        folder: String,
    },
    /// The engine rejected or failed the query.
    #[error("the local engine failed the query: {0}")]
    Execution(String),
}

impl EngineError {
    /// Who has to act.
    pub fn fault(&self) -> Fault {
        match self {
            EngineError::LakeMissing { .. } | EngineError::TableMissing { .. } => Fault::User,
            EngineError::Execution(_) => Fault::Plugin,
        }
    }
}

/// A SQL engine.
#[async_trait::async_trait]
pub trait Engine: Send + Sync {
    /// The dialect this engine speaks.
    fn dialect(&self) -> Dialect;
    /// A short name for logs and frame meta.
    fn name(&self) -> &'static str;
    /// Runs one query.
    async fn run(&self, request: &EngineRequest) -> Result<QueryOutput, EngineError>;
    /// Checks that the engine can serve queries; returns a description of what it found.
    async fn check(&self) -> Result<String, EngineError>;
}
