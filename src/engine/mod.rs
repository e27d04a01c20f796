//! Engines run rendered SQL and return Arrow record batches plus what they read.
//!
//! `local.rs`: DataFusion over a Parquet lake in the Security Lake folder layout;
//! `lake_table.rs`: its tables, listed by partition; `partition_select.rs`: which partition
//! folders a scan's filters admit.
//! `athena/`: Amazon Athena.

pub mod athena;
pub mod lake_table;
pub mod local;
pub mod partition_select;
pub mod result_csv;
pub mod udf;

use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::frame::account_names::AccountNames;
use crate::lake::discovery::{DiscoveryError, Resolution, Wanted};
use crate::lake::estimate::ScanEstimate;
use crate::plan::PartitionFilter;
use crate::plan::TableRef;
use crate::sql::Dialect;

pub use crate::failure::{EngineError, Fault};

/// How a result was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The engine ran the query for this request.
    Miss,
    /// An identical query was already running; this request shared its result.
    Shared,
    /// A finished result within its time-to-live was reused.
    Hit,
}

impl CacheOutcome {
    /// `miss`, `shared`, `hit` (frame meta).
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Miss => "miss",
            CacheOutcome::Shared => "shared",
            CacheOutcome::Hit => "hit",
        }
    }
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
    /// The query reads closed UTC days only, so its result does not change any more: a cache
    /// may keep it longer than its time-to-live ([`crate::cache::SETTLED_TTL`]).
    pub settled: bool,
    /// Most rows to read: the engine stops reading the result there. `None` when the SQL bounds
    /// its own rows (planned kinds end in `LIMIT`); a user's SQL gets the row cap plus one, so a
    /// cut still shows.
    pub row_limit: Option<usize>,
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
    /// What Athena reports (and bills) for the query; None on the local engine.
    pub athena: Option<AthenaStats>,
    /// Whether the result was run for this request, shared with an identical one, or reused.
    pub cache: CacheOutcome,
}

/// Athena's statistics of one query execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaStats {
    /// The query execution id.
    pub query_id: String,
    /// DataScannedInBytes: what the query is billed by.
    pub scanned_bytes: u64,
    /// EngineExecutionTimeInMillis.
    pub engine_ms: u64,
    /// QueryQueueTimeInMillis.
    pub queue_ms: u64,
    /// How the rows were read: GetQueryResults pages, or the result object in S3.
    pub read: ResultRead,
    /// How many times the query ran again after throttling or a transient failure.
    pub retries: u32,
}

/// How an Athena query's rows were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultRead {
    /// GetQueryResults, this many pages.
    Pages(u32),
    /// The CSV result object at this location (one GetObject).
    Object(String),
}

/// Athena bills at least 10 MB per query.
pub const ATHENA_MIN_BILLED_BYTES: u64 = 10 * 1_000_000;

impl AthenaStats {
    /// The bytes Athena bills: what it scanned, at least 10 MB.
    pub fn billed_bytes(&self) -> u64 {
        self.scanned_bytes.max(ATHENA_MIN_BILLED_BYTES)
    }

    /// The query's cost in US dollars at a price per TB (10^12 bytes) in cents.
    pub fn cost_usd(&self, price_per_tb_cents: u64) -> f64 {
        self.billed_bytes() as f64 / 1e12 * price_per_tb_cents as f64 / 100.0
    }
}

impl QueryOutput {
    /// Number of result rows.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
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
    /// Checks that the engine can serve queries from these tables; returns a description of what
    /// it found.
    async fn check(&self, tables: &[TableRef]) -> Result<String, EngineError>;
    /// Where the tables are (database, tables, source version), where the engine has a
    /// catalogue to ask ([`crate::lake::discovery`]); None: it has none (the local lake's names
    /// are fixed).
    async fn resolve(&self, _wanted: Wanted<'_>) -> Result<Option<Resolution>, DiscoveryError> {
        Ok(None)
    }
    /// The fewest bytes the engine bills a query, however little it scans (Athena: 10 MB); 0
    /// for an engine that bills nothing. Day slices are weighed against it.
    fn min_billed_bytes(&self) -> u64 {
        0
    }
    /// Account names the engine learns from its own source (Athena: AWS Organizations, when the
    /// datasource asks for it); none by default. A lookup that fails names nothing.
    async fn account_names(&self) -> AccountNames {
        AccountNames::new()
    }
    /// The size of the files under the partitions a query of `table` reads, before running it
    /// (None: the engine cannot tell). Zero when the query's result is already at hand.
    async fn estimate(
        &self,
        _request: &EngineRequest,
        _partitions: &PartitionFilter,
    ) -> Result<Option<ScanEstimate>, EngineError> {
        Ok(None)
    }
}
