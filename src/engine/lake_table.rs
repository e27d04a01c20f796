//! A Security Lake table of the local lake as a DataFusion table: the Parquet files under
//! `region=…/accountId=…/eventDay=…` folders, the three keys as string columns.
//!
//! Cost follows the query, not the lake: the schema is read from one file's footer when the table
//! is opened (not from every file's), and each scan lists only the partition folders its filters
//! admit, through listings kept between queries ([`FolderListings`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, SchemaRef};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::ExecutionPlan;

use super::partition_select::{is_partition_filter, PartitionPredicates, PARTITION_KEYS};
use crate::lake::listing::FolderListings;

/// One table folder of the local lake (`aws/<SOURCE>/<ver>`).
#[derive(Debug)]
pub struct LakeTable {
    folder: PathBuf,
    schema: TableSchema,
    listings: Arc<FolderListings>,
}

/// A data file found under a partition folder.
struct DataFile {
    partition: usize,
    path: PathBuf,
    size: u64,
    modified: DateTime<Utc>,
}

impl LakeTable {
    /// Opens the table in `folder` (absolute): its schema is the first data file's. None when
    /// the folder holds no Parquet file.
    pub async fn open(
        state: &dyn Session,
        folder: PathBuf,
        listings: Arc<FolderListings>,
    ) -> Result<Option<Self>> {
        let found = {
            let (folder, listings) = (folder.clone(), listings.clone());
            tokio::task::spawn_blocking(move || first_data_file(&listings, &folder))
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?
        };
        let Some((path, size)) = found else {
            return Ok(None);
        };
        let store = state
            .runtime_env()
            .object_store(ObjectStoreUrl::local_filesystem())?;
        let object = PartitionedFile::new(location(&path), size).object_meta;
        let file_schema = ParquetFormat::default()
            .infer_schema(state, &store, &[object])
            .await?;
        let partition_cols: Vec<FieldRef> = PARTITION_KEYS
            .iter()
            .map(|k| Arc::new(Field::new(*k, DataType::Utf8, false)))
            .collect();
        Ok(Some(LakeTable {
            folder,
            schema: TableSchema::builder(file_schema)
                .with_table_partition_cols(partition_cols)
                .build(),
            listings,
        }))
    }

    /// The data files of the partitions the filters admit, in partition order.
    async fn files(
        &self,
        predicates: PartitionPredicates,
    ) -> Result<(Vec<[String; 3]>, Vec<DataFile>)> {
        let (listings, folder) = (self.listings.clone(), self.folder.clone());
        tokio::task::spawn_blocking(move || {
            let found = admitted_partitions(&listings, &folder, &predicates)?;
            let keep =
                predicates.matching(&found.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>())?;
            let mut values = Vec::new();
            let mut files = Vec::new();
            for ((partition, dir), _) in found.into_iter().zip(keep).filter(|(_, k)| *k) {
                data_files(&listings, &dir, values.len(), &mut files)?;
                values.push(partition);
            }
            Ok((values, files))
        })
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?
    }
}

/// The object-store location of a local file (its absolute path without the leading `/`).
fn location(path: &Path) -> String {
    path.to_string_lossy().trim_start_matches('/').to_string()
}

fn io_error(path: &Path, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("{}: {e}", path.display()))
}

/// The first non-empty Parquet file under `folder`, depth first.
fn first_data_file(listings: &FolderListings, folder: &Path) -> Option<(PathBuf, u64)> {
    let listing = listings.list(folder).ok()?;
    for name in listing.files.iter().filter(|n| n.ends_with(".parquet")) {
        let path = folder.join(name);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.len() > 0 => return Some((path, meta.len())),
            _ => {}
        }
    }
    listing
        .folders
        .iter()
        .find_map(|name| first_data_file(listings, &folder.join(name)))
}

/// The partition folders under `root` whose every key value the predicates admit, walking down
/// one key at a time (a folder ruled out is never listed).
fn admitted_partitions(
    listings: &FolderListings,
    root: &Path,
    predicates: &PartitionPredicates,
) -> Result<Vec<([String; 3], PathBuf)>> {
    let mut level: Vec<(Vec<String>, PathBuf)> = vec![(Vec::new(), root.to_path_buf())];
    for key in PARTITION_KEYS {
        let mut next = Vec::new();
        for (values, dir) in level {
            let listing = listings.list(&dir).map_err(|e| io_error(&dir, e))?;
            for name in &listing.folders {
                let Some(value) = name.strip_prefix(key).and_then(|r| r.strip_prefix('=')) else {
                    continue;
                };
                if predicates.admits(key, value) {
                    let mut values = values.clone();
                    values.push(value.to_string());
                    next.push((values, dir.join(name)));
                }
            }
        }
        level = next;
    }
    Ok(level
        .into_iter()
        .filter_map(|(v, dir)| Some((<[String; 3]>::try_from(v).ok()?, dir)))
        .collect())
}

/// The non-empty Parquet files of one partition folder. Sizes are read anew each time: a file
/// rewritten in place does not change its folder's listing.
fn data_files(
    listings: &FolderListings,
    dir: &Path,
    partition: usize,
    out: &mut Vec<DataFile>,
) -> Result<()> {
    let listing = listings.list(dir).map_err(|e| io_error(dir, e))?;
    for name in listing.files.iter().filter(|n| n.ends_with(".parquet")) {
        let path = dir.join(name);
        let meta = std::fs::metadata(&path).map_err(|e| io_error(&path, e))?;
        if meta.len() == 0 {
            continue;
        }
        out.push(DataFile {
            partition,
            size: meta.len(),
            modified: meta.modified().map_or_else(|_| Utc::now(), DateTime::from),
            path,
        });
    }
    Ok(())
}

#[async_trait]
impl TableProvider for LakeTable {
    fn schema(&self) -> SchemaRef {
        self.schema.table_schema().clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Filters on the partition columns alone are applied exactly (by choosing the folders);
    /// the rest are checked again above the scan, as Parquet pruning is by row group.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if is_partition_filter(f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Inexact
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let predicates = PartitionPredicates::new(state, filters)?;
        let (values, files) = self.files(predicates).await?;
        if files.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema().project(p)?),
                None => self.schema(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let files: Vec<PartitionedFile> = files
            .into_iter()
            .map(|f| {
                let mut file = PartitionedFile::new(location(&f.path), f.size)
                    .with_partition_values(
                        values[f.partition]
                            .iter()
                            .map(|v| ScalarValue::Utf8(Some(v.clone())))
                            .collect(),
                    );
                file.object_meta.last_modified = f.modified;
                file
            })
            .collect();
        let groups = FileGroup::new(files).split_files(state.config().target_partitions());
        let format = ParquetFormat::default();
        let config = FileScanConfigBuilder::new(
            ObjectStoreUrl::local_filesystem(),
            format.file_source(self.schema.clone()),
        )
        .with_file_groups(groups)
        .with_projection_indices(projection.cloned())?
        .with_limit(limit)
        .build();
        format.create_physical_plan(state, config).await
    }
}
