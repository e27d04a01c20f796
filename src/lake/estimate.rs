//! How many bytes a query's partitions hold, before it runs: the scan budget's estimate.
//!
//! Security Lake keeps every source in the same folder layout, in S3 and in the local lake:
//! `<table root>/region=<r>/accountId=<a>/eventDay=<YYYYMMDD>/<files>`. Walking only the folders
//! a plan's partition filter names gives the size of the files a query of them may read — an
//! upper bound of what it scans (Parquet lets engines read fewer columns and row groups).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::engine::EngineError;
use crate::plan::PartitionFilter;

/// The files under a plan's partitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanEstimate {
    /// Bytes of the files (what a query of them scans at most).
    pub bytes: u64,
    /// Number of files.
    pub files: u64,
    /// Number of partition folders (region × account × day) that hold files.
    pub partitions: u64,
}

impl std::ops::Add for ScanEstimate {
    type Output = ScanEstimate;

    fn add(self, other: ScanEstimate) -> ScanEstimate {
        ScanEstimate {
            bytes: self.bytes + other.bytes,
            files: self.files + other.files,
            partitions: self.partitions + other.partitions,
        }
    }
}

/// A folder tree of objects: S3 prefixes or local directories.
#[async_trait::async_trait]
pub trait FolderTree: Send + Sync {
    /// The names of the folders directly under `folder` (no trailing `/`).
    async fn folders(&self, folder: &str) -> Result<Vec<String>, EngineError>;
    /// The number and total size of the files anywhere under `folder`.
    async fn files(&self, folder: &str) -> Result<(u64, u64), EngineError>;
}

/// Folder listings run at once.
const CONCURRENT_LISTINGS: usize = 16;

/// The value of a `key=value` folder name when its key is `key` (any case).
fn value_of<'a>(folder: &'a str, key: &str) -> Option<&'a str> {
    let (k, v) = folder.split_once('=')?;
    k.eq_ignore_ascii_case(key).then_some(v)
}

/// A day folder's date: `20240601` or `2024-06-01`.
fn day_of(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%Y-%m-%d"))
        .ok()
}

/// Sizes the partitions `filter` reads under `root` (a folder with `region=…` folders). None when
/// `root` has no partition folders at all (an unknown layout: nothing can be said).
pub async fn estimate(
    tree: &dyn FolderTree,
    root: &str,
    filter: &PartitionFilter,
) -> Result<Option<ScanEstimate>, EngineError> {
    let join = |a: &str, b: &str| format!("{}/{b}", a.trim_end_matches('/'));
    let top = tree.folders(root).await?;
    if !top.iter().any(|f| value_of(f, "region").is_some()) {
        return Ok(None);
    }
    let regions: BTreeSet<&str> = filter.regions.iter().map(|r| r.as_str()).collect();
    let accounts: BTreeSet<&str> = filter.accounts.iter().map(|a| a.as_str()).collect();
    let days: BTreeSet<NaiveDate> = filter.days.iter().copied().collect();
    let (accounts, days) = (&accounts, &days);
    let region_folders: Vec<String> = top
        .iter()
        .filter(|f| {
            value_of(f, "region").is_some_and(|r| regions.is_empty() || regions.contains(r))
        })
        .map(|f| join(root, f))
        .collect();
    let account_folders: Vec<String> = stream::iter(region_folders)
        .map(|region| async move {
            let names = tree.folders(&region).await?;
            Ok::<_, EngineError>(
                names
                    .iter()
                    .filter(|f| {
                        value_of(f, "accountid")
                            .is_some_and(|a| accounts.is_empty() || accounts.contains(a))
                    })
                    .map(|f| join(&region, f))
                    .collect::<Vec<_>>(),
            )
        })
        .buffer_unordered(CONCURRENT_LISTINGS)
        .try_concat()
        .await?;
    let day_folders: Vec<String> = stream::iter(account_folders)
        .map(|account| async move {
            let names = tree.folders(&account).await?;
            Ok::<_, EngineError>(
                names
                    .iter()
                    .filter(|f| {
                        value_of(f, "eventday")
                            .or_else(|| value_of(f, "time_dt_day"))
                            .and_then(day_of)
                            .is_some_and(|d| days.contains(&d))
                    })
                    .map(|f| join(&account, f))
                    .collect::<Vec<_>>(),
            )
        })
        .buffer_unordered(CONCURRENT_LISTINGS)
        .try_concat()
        .await?;
    let total = stream::iter(day_folders)
        .map(|day| async move { tree.files(&day).await })
        .buffer_unordered(CONCURRENT_LISTINGS)
        .try_fold(ScanEstimate::default(), |sum, (files, bytes)| async move {
            Ok(sum
                + ScanEstimate {
                    bytes,
                    files,
                    partitions: u64::from(files > 0),
                })
        })
        .await?;
    Ok(Some(total))
}

/// The sum of [`estimate`] over several table roots; None when any of them cannot be sized.
pub async fn estimate_all(
    tree: &dyn FolderTree,
    roots: &[String],
    filter: &PartitionFilter,
) -> Result<Option<ScanEstimate>, EngineError> {
    let mut total = ScanEstimate::default();
    for root in roots {
        match estimate(tree, root, filter).await? {
            Some(e) => total = total + e,
            None => return Ok(None),
        }
    }
    Ok(Some(total))
}

/// A local folder tree (the embedded lake).
pub struct LocalTree;

#[async_trait::async_trait]
impl FolderTree for LocalTree {
    async fn folders(&self, folder: &str) -> Result<Vec<String>, EngineError> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    async fn files(&self, folder: &str) -> Result<(u64, u64), EngineError> {
        fn walk(dir: &std::path::Path, sum: &mut (u64, u64)) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, sum);
                } else if let Ok(meta) = entry.metadata() {
                    sum.0 += 1;
                    sum.1 += meta.len();
                }
            }
        }
        let mut sum = (0, 0);
        walk(std::path::Path::new(folder), &mut sum);
        Ok(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{AccountId, Region};

    struct Lake(std::path::PathBuf);
    impl Lake {
        fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for Lake {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn lake() -> Lake {
        let dir =
            Lake(std::env::temp_dir().join(format!("lakewatch-estimate-{}", std::process::id())));
        for (region, account, day, bytes) in [
            ("us-east-1", "111122223333", "20240601", 100),
            ("us-east-1", "111122223333", "20240602", 200),
            ("us-east-1", "444455556666", "20240602", 400),
            ("eu-west-1", "111122223333", "20240602", 800),
            ("eu-west-1", "111122223333", "20240603", 1600),
        ] {
            let folder = dir.path().join(format!(
                "region={region}/accountId={account}/eventDay={day}"
            ));
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("a.parquet"), vec![0u8; bytes]).unwrap();
        }
        dir
    }

    fn day(d: &str) -> NaiveDate {
        NaiveDate::parse_from_str(d, "%Y%m%d").unwrap()
    }

    #[tokio::test]
    async fn sizes_only_the_partitions_the_filter_reads() {
        let dir = lake();
        let root = dir.path().to_str().unwrap();
        let all = PartitionFilter {
            days: vec![day("20240602")],
            accounts: Vec::new(),
            regions: Vec::new(),
        };
        assert_eq!(
            estimate(&LocalTree, root, &all).await.unwrap(),
            Some(ScanEstimate {
                bytes: 1400,
                files: 3,
                partitions: 3
            })
        );
        let narrow = PartitionFilter {
            days: vec![day("20240601"), day("20240602"), day("20240603")],
            accounts: vec![AccountId::parse("111122223333").unwrap()],
            regions: vec![Region::parse("us-east-1").unwrap()],
        };
        assert_eq!(
            estimate(&LocalTree, root, &narrow)
                .await
                .unwrap()
                .unwrap()
                .bytes,
            300
        );
        assert_eq!(
            estimate(
                &LocalTree,
                dir.path().join("nowhere").to_str().unwrap(),
                &all
            )
            .await
            .unwrap(),
            None
        );
    }
}
