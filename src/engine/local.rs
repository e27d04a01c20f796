//! The local engine: DataFusion over a Parquet lake in the Security Lake folder layout
//! (`aws/<SOURCE>/<ver>/region=…/accountId=…/eventDay=…/*.parquet`). The partition folders are
//! table partition columns, so the same partition predicates that prune Athena prune files here,
//! and the engine reports the files and bytes it actually read.
//!
//! A table is registered on its first query, from one file's footer ([`LakeTable`]); each scan
//! lists only the partition folders its filters name, through the engine's kept listings.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use datafusion::catalog::MemorySchemaProvider;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::{collect, execute_stream, ExecutionPlan};
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use tokio::sync::OnceCell;

use super::lake_table::LakeTable;
use super::partition_select::PARTITION_KEYS;
use super::{CacheOutcome, Engine, EngineError, EngineRequest, QueryOutput, ScanStats};
use crate::lake::estimate::{self, ScanEstimate};
use crate::lake::listing::{FolderListings, ListingCounts, DEFAULT_LISTING_CACHE_ENTRIES};
use crate::plan::{PartitionFilter, TableRef};
use crate::sql::Dialect;

/// Default of `localQueryMemoryMb`.
pub const DEFAULT_LOCAL_QUERY_MEMORY_MB: u64 = 2048;

/// A table's (database, table) names.
type TableKey = (String, String);

/// DataFusion over a local lake folder.
pub struct LocalEngine {
    root: PathBuf,
    memory_bytes: u64,
    ctx: SessionContext,
    listings: Arc<FolderListings>,
    /// One cell per (database, table): queries of different tables register at once, queries of
    /// one table wait for its (cheap) first registration.
    registered: std::sync::Mutex<HashMap<TableKey, Arc<OnceCell<()>>>>,
}

impl LocalEngine {
    /// An engine over the lake rooted at `root` (the folder that holds `aws/`), with the default
    /// memory bound of a query.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self::with_memory_limit(root, DEFAULT_LOCAL_QUERY_MEMORY_MB << 20)
    }

    /// An engine whose queries may hold at most `memory_bytes` in their sorts, joins and
    /// aggregations (DataFusion's memory pool): past it a query fails, the process stays up.
    pub fn with_memory_limit(root: impl Into<PathBuf>, memory_bytes: u64) -> Self {
        Self::with_limits(root, memory_bytes, DEFAULT_LISTING_CACHE_ENTRIES)
    }

    /// An engine with a memory bound per query and at most `listing_cache_entries` folder
    /// entries kept between queries (`localListingCacheEntries`).
    pub fn with_limits(
        root: impl Into<PathBuf>,
        memory_bytes: u64,
        listing_cache_entries: u64,
    ) -> Self {
        let config = SessionConfig::new()
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()))
            .with_information_schema(false);
        // No spilling: a query past its memory bound fails instead of filling the disk.
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(memory_bytes as usize, 1.0)
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            )
            .build_arc()
            .expect("a memory-limited runtime needs no I/O to build");
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        ctx.register_udf(super::udf::CidrContains::udf());
        LocalEngine {
            root: root.into(),
            memory_bytes,
            ctx,
            listings: Arc::new(FolderListings::new(listing_cache_entries)),
            registered: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// How many folders were listed, and how many listings were reused, since the engine began.
    pub fn listing_counts(&self) -> ListingCounts {
        self.listings.counts()
    }

    /// An engine error from DataFusion's; running out of the memory bound names the setting.
    fn execution_error(&self, e: datafusion::error::DataFusionError) -> EngineError {
        match e.find_root() {
            datafusion::error::DataFusionError::ResourcesExhausted(_) => EngineError::Execution(format!(
                "the query needs more memory than this datasource allows a query ({} MB, setting `localQueryMemoryMb`); narrow the time range, aggregate, or add a LIMIT",
                self.memory_bytes >> 20
            )),
            _ => EngineError::Execution(e.to_string()),
        }
    }

    /// The lake root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn table_missing(&self, table: &TableRef, folder: &Path) -> EngineError {
        if table.source.spec().demo == crate::lake::source::DemoGenerator::Absent {
            return EngineError::SourceNotGenerated {
                lake: self.root.display().to_string(),
                source_name: table.source.api_name().to_string(),
                folder: folder.display().to_string(),
            };
        }
        EngineError::TableMissing {
            lake: self.root.display().to_string(),
            source_name: table.source.api_name().to_string(),
            version: table.version.to_string(),
            folder: folder.display().to_string(),
        }
    }

    fn table_folder(&self, table: &TableRef) -> PathBuf {
        self.root
            .join("aws")
            .join(table.source.api_name())
            .join(table.version.dir())
    }

    async fn register(&self, table: &TableRef) -> Result<(), EngineError> {
        let key = (table.database(), table.table());
        let cell = match self.registered.lock() {
            Ok(mut cells) => cells.entry(key.clone()).or_default().clone(),
            Err(_) => return Err(EngineError::Execution("table registry poisoned".into())),
        };
        // A failed registration leaves the cell empty: the next query tries again.
        cell.get_or_try_init(|| self.add_table(table, key))
            .await
            .map(|_| ())
    }

    /// Opens a table's folder and adds it to the session's catalogue.
    async fn add_table(&self, table: &TableRef, key: TableKey) -> Result<(), EngineError> {
        if !self.root.is_dir() {
            return Err(EngineError::LakeMissing {
                path: self.root.display().to_string(),
            });
        }
        let folder = self.table_folder(table);
        if !folder.is_dir() {
            return Err(self.table_missing(table, &folder));
        }
        let execution =
            |e: datafusion::error::DataFusionError| EngineError::Execution(e.to_string());
        let canonical = folder
            .canonicalize()
            .map_err(|e| EngineError::Execution(format!("{}: {e}", folder.display())))?;
        let provider = LakeTable::open(&self.ctx.state(), canonical, self.listings.clone())
            .await
            .map_err(execution)?
            .ok_or_else(|| self.table_missing(table, &folder))?;
        let provider = lowercase_view(&self.ctx, Arc::new(provider)).map_err(execution)?;
        let catalog = self
            .ctx
            .catalog("datafusion")
            .ok_or_else(|| EngineError::Execution("default catalog missing".into()))?;
        if catalog.schema(&key.0).is_none() {
            catalog
                .register_schema(&key.0, Arc::new(MemorySchemaProvider::new()))
                .map_err(execution)?;
        }
        let schema = catalog
            .schema(&key.0)
            .ok_or_else(|| EngineError::Execution(format!("schema {} missing", key.0)))?;
        schema.register_table(key.1, provider).map_err(execution)?;
        Ok(())
    }
}

/// The table under the names a Glue table has: Athena lowercases unquoted identifiers and its
/// partition columns are `accountid` and `eventday`, while the lake's folders say `accountId=` and
/// `eventDay=`. A view renames every column to lowercase, so one SQL text runs on both engines;
/// filters still reach the listing table below it (partition pruning is unchanged).
fn lowercase_view(
    ctx: &SessionContext,
    table: Arc<dyn datafusion::catalog::TableProvider>,
) -> datafusion::error::Result<Arc<dyn datafusion::catalog::TableProvider>> {
    use datafusion::common::Column;
    use datafusion::logical_expr::Expr;
    let frame = ctx.read_table(table)?;
    let columns: Vec<Expr> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let column = Expr::Column(Column::new_unqualified(f.name()));
            let lower = f.name().to_ascii_lowercase();
            // Only renamed columns get an alias: an alias to the same name would stand beside
            // the qualified original and make the name ambiguous to the optimizer.
            if lower == *f.name() {
                column
            } else {
                column.alias(lower)
            }
        })
        .collect();
    Ok(frame.select(columns)?.into_view())
}

/// Adds up the files and bytes read by every scan in an executed plan.
fn scan_stats(plan: &Arc<dyn ExecutionPlan>, stats: &mut ScanStats, parts: &mut BTreeSet<String>) {
    if let Some(exec) = plan.downcast_ref::<DataSourceExec>() {
        if let Some(scan) = exec.data_source().downcast_ref::<FileScanConfig>() {
            // A large file may be split into byte ranges across groups: count each file once.
            let mut seen = HashSet::new();
            for group in &scan.file_groups {
                for file in group.iter() {
                    let path = file.object_meta.location.as_ref();
                    if !seen.insert(path.to_string()) {
                        continue;
                    }
                    stats.files += 1;
                    stats.file_bytes += file.object_meta.size;
                    let folder: Vec<&str> = path
                        .split('/')
                        .filter(|seg| {
                            PARTITION_KEYS
                                .iter()
                                .any(|k| seg.starts_with(&format!("{k}=")))
                        })
                        .collect();
                    parts.insert(folder.join("/"));
                }
            }
        }
        if let Some(metrics) = exec.metrics() {
            stats.bytes_read += metrics
                .sum_by_name("bytes_scanned")
                .map_or(0, |m| m.as_usize() as u64);
        }
    }
    for child in plan.children() {
        scan_stats(child, stats, parts);
    }
}

/// Reads a plan's batches until `limit` rows, then drops the stream (which stops the query):
/// memory follows the limit, not the result.
async fn read_at_most(
    plan: Arc<dyn ExecutionPlan>,
    task: Arc<datafusion::execution::TaskContext>,
    limit: usize,
) -> datafusion::error::Result<Vec<RecordBatch>> {
    let mut stream = execute_stream(plan, task)?;
    let mut batches = Vec::new();
    let mut rows = 0;
    while rows < limit {
        let Some(batch) = stream.next().await.transpose()? else {
            break;
        };
        let take = batch.num_rows().min(limit - rows);
        rows += take;
        batches.push(batch.slice(0, take));
    }
    Ok(batches)
}

#[async_trait::async_trait]
impl Engine for LocalEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Local
    }

    fn name(&self) -> &'static str {
        "local"
    }

    async fn run(&self, request: &EngineRequest) -> Result<QueryOutput, EngineError> {
        let started = Instant::now();
        for table in &request.tables {
            self.register(table).await?;
        }
        let exec = |e: datafusion::error::DataFusionError| self.execution_error(e);
        // Read-only: no DDL (which could map any host file as a table), DML or SET statements.
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let frame = self
            .ctx
            .sql_with_options(&request.sql, read_only)
            .await
            .map_err(exec)?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let plan = frame.create_physical_plan().await.map_err(exec)?;
        let batches = match request.row_limit {
            None => collect(plan.clone(), self.ctx.task_ctx())
                .await
                .map_err(exec)?,
            Some(limit) => read_at_most(plan.clone(), self.ctx.task_ctx(), limit)
                .await
                .map_err(exec)?,
        };
        let mut stats = ScanStats::default();
        let mut parts = BTreeSet::new();
        scan_stats(&plan, &mut stats, &mut parts);
        stats.partitions = parts.into_iter().collect();
        Ok(QueryOutput {
            schema,
            batches,
            stats,
            elapsed: started.elapsed(),
            athena: None,
            cache: CacheOutcome::Miss,
        })
    }

    async fn estimate(
        &self,
        request: &EngineRequest,
        partitions: &PartitionFilter,
    ) -> Result<Option<ScanEstimate>, EngineError> {
        let roots: Vec<String> = request
            .tables
            .iter()
            .map(|t| {
                // The folder the scans list, so both share the kept listings.
                let folder = self.table_folder(t);
                let folder = folder.canonicalize().unwrap_or(folder);
                folder.to_string_lossy().into_owned()
            })
            .collect();
        estimate::estimate_all(self.listings.as_ref(), &roots, partitions).await
    }

    async fn check(&self, tables: &[TableRef]) -> Result<String, EngineError> {
        if !self.root.is_dir() {
            return Err(EngineError::LakeMissing {
                path: self.root.display().to_string(),
            });
        }
        let aws = self.root.join("aws");
        let mut found = Vec::new();
        for source in std::fs::read_dir(&aws).into_iter().flatten().flatten() {
            for version in std::fs::read_dir(source.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let files = count_parquet(&version.path());
                if files > 0 {
                    found.push(format!(
                        "{} {} ({files} files)",
                        source.file_name().to_string_lossy(),
                        version.file_name().to_string_lossy()
                    ));
                }
            }
        }
        if found.is_empty() {
            return Err(EngineError::LakeMissing {
                path: self.root.display().to_string(),
            });
        }
        found.sort();
        for table in tables {
            let folder = self.table_folder(table);
            if count_parquet(&folder) == 0 {
                return Err(self.table_missing(table, &folder));
            }
        }
        Ok(format!(
            "local lake {}: {}",
            self.root.display(),
            found.join(", ")
        ))
    }
}

fn count_parquet(dir: &Path) -> u64 {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            n += count_parquet(&path);
        } else if path.extension().is_some_and(|e| e == "parquet") {
            n += 1;
        }
    }
    n
}
