//! The calls the Athena engine makes, as a trait: the SDK client implements it, and the tests
//! use a fake for what the API server in the tests cannot produce (FAILED queries, several
//! result pages, Lake Formation denials).

use crate::engine::EngineError;
use crate::lake::catalog::GlueTable;
use crate::lake::discovery::GlueCatalog;
use crate::lake::estimate::FolderTree;

/// Rows per GetQueryResults call (Athena's maximum), the header row included on the first.
pub const PAGE_ROWS: usize = 1000;

/// The state of a query execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Waiting for capacity.
    Queued,
    /// Running.
    Running,
    /// Done; results can be read.
    Succeeded,
    /// Failed; the reason says why.
    Failed,
    /// Stopped.
    Cancelled,
}

/// What GetQueryExecution says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    /// The state.
    pub state: State,
    /// Athena's reason for FAILED/CANCELLED.
    pub reason: Option<String>,
    /// Bytes scanned.
    pub scanned_bytes: u64,
    /// Engine time, ms.
    pub engine_ms: u64,
    /// Queue time, ms.
    pub queue_ms: u64,
    /// Where Athena wrote the result object (`s3://…/<id>.csv`).
    pub result_location: Option<String>,
}

/// One page of GetQueryResults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Page {
    /// Column names and Athena types.
    pub columns: Vec<(String, String)>,
    /// Rows of text cells (None: NULL). The first page starts with the header row.
    pub rows: Vec<Vec<Option<String>>>,
    /// The token of the next page.
    pub next: Option<String>,
}

/// The calls the engine makes to Athena, STS, Glue and S3.
#[async_trait::async_trait]
pub(crate) trait AthenaApi: FolderTree + GlueCatalog + Send + Sync {
    /// StartQueryExecution; returns the execution id.
    async fn start(&self, sql: &str, token: &str) -> Result<String, EngineError>;
    /// GetQueryExecution.
    async fn status(&self, id: &str) -> Result<Status, EngineError>;
    /// GetQueryResults from a page token.
    async fn page(&self, id: &str, next: Option<String>) -> Result<Page, EngineError>;
    /// StopQueryExecution.
    async fn stop(&self, id: &str) -> Result<(), EngineError>;
    /// STS GetCallerIdentity: the ARN the credentials act as.
    async fn identity(&self) -> Result<String, EngineError>;
    /// GetWorkGroup: None when it does not exist.
    async fn workgroup(&self, name: &str) -> Result<Option<Workgroup>, EngineError>;
    /// Glue GetTable: whether a table can be described.
    async fn glue_table(&self, database: &str, table: &str) -> Result<TableAccess, EngineError>;
    /// Glue GetTables, every page: a database's tables, or whether it is missing or denied.
    /// Discovery's [`GlueCatalog::glue_tables`] makes the same calls but fails on a denial;
    /// the health check names it.
    async fn database_tables(&self, database: &str) -> Result<DatabaseAccess, EngineError>;
    /// S3 GetObject of a query's result object (`s3://bucket/key`), read as it streams in and
    /// stopped after `max_records` records (the header counts as one) when given.
    async fn result_object(
        &self,
        location: &str,
        max_records: Option<usize>,
    ) -> Result<Vec<u8>, EngineError>;
    /// Glue GetTable: the table's storage location (`s3://…`), None when it has none or the
    /// table cannot be described. A resource link's location is its target's.
    async fn table_location(
        &self,
        database: &str,
        table: &str,
    ) -> Result<Option<String>, EngineError>;
}

/// Whether the credentials can describe a Glue table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TableAccess {
    /// It exists and can be described.
    Found,
    /// No such table.
    Missing,
    /// Glue (Lake Formation) denied access; the message says so.
    Denied(String),
}

/// Whether the credentials can list a Glue database's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DatabaseAccess {
    /// The database's tables.
    Tables(Vec<GlueTable>),
    /// No such database.
    Missing,
    /// Glue (IAM or Lake Formation) denied access; the message says so.
    Denied(String),
}

/// What CheckHealth needs to know of a workgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Workgroup {
    /// ENABLED (else DISABLED).
    pub enabled: bool,
    /// The workgroup's query result location, if it has one.
    pub output_location: Option<String>,
}
