//! What can go wrong below the pipeline, and whose fault it is.
//!
//! The engines and the lake's catalogue and folder walks report the same errors; they live here,
//! below both, so the lake need not import the engines that use it.

/// Who has to act on an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The user: bad input, missing data or grant, wrong setting.
    User,
    /// The plugin: a bug or an internal failure.
    Plugin,
}

/// Engine failures.
#[derive(Debug, Clone, thiserror::Error)]
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
    /// No data files for a table of a source the demo lake does not generate (EKS audit logs).
    #[error("the lake at {lake} has no {source_name} data (looked in {folder}); the demo lake does not generate this source: put its Parquet files there, or read it through Athena")]
    SourceNotGenerated {
        /// Lake root.
        lake: String,
        /// Source API name.
        source_name: String,
        /// Folder searched.
        folder: String,
    },
    /// The engine rejected or failed the query.
    #[error("the local engine failed the query: {0}")]
    Execution(String),
    /// An AWS API call failed.
    #[error("AWS {action} failed: {message}")]
    Aws {
        /// The API action.
        action: &'static str,
        /// The SDK's error with its causes.
        message: String,
        /// Who has to act.
        fault: Fault,
    },
    /// Athena ran the query and it failed.
    #[error("Athena could not run the query: {reason}. If a table or column is missing, check the datasource's source version and rollup region; if access is denied, grant the role Lake Formation SELECT and DESCRIBE on the Security Lake tables")]
    QueryFailed {
        /// Athena's reason.
        reason: String,
    },
    /// The query was stopped (by someone else, or the request went away).
    #[error("the Athena query was cancelled before it finished; run the panel again")]
    QueryCancelled,
    /// The query ran longer than the datasource allows.
    #[error("the Athena query ran longer than {seconds} s and was stopped; narrow the time range or the filters, or raise the datasource's query timeout")]
    Timeout {
        /// The timeout.
        seconds: u64,
    },
    /// A health check found a setup problem.
    #[error("{message}")]
    Health {
        /// What is missing and what to do.
        message: String,
    },
    /// Athena's result object (CSV in S3) could not be read.
    #[error("Athena's result object could not be read: {0}")]
    ResultObject(String),
    /// A result cell did not parse as its column's type.
    #[error("Athena returned {value:?} in column {column} of type {athena_type}, which Lakewatch cannot read as that type")]
    Decode {
        /// Column.
        column: String,
        /// Athena type.
        athena_type: String,
        /// The cell.
        value: String,
    },
}

impl EngineError {
    /// Who has to act.
    pub fn fault(&self) -> Fault {
        match self {
            EngineError::LakeMissing { .. }
            | EngineError::TableMissing { .. }
            | EngineError::SourceNotGenerated { .. }
            | EngineError::QueryFailed { .. }
            | EngineError::QueryCancelled
            | EngineError::Timeout { .. }
            | EngineError::Health { .. } => Fault::User,
            EngineError::Aws { fault, .. } => *fault,
            EngineError::Execution(_)
            | EngineError::ResultObject(_)
            | EngineError::Decode { .. } => Fault::Plugin,
        }
    }
}
