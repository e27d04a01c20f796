//! How many bytes a query's partitions hold, before it runs: the scan budget's estimate.
//!
//! Security Lake keeps every source in the same folder layout, in S3 and in the local lake:
//! `<table root>/region=<r>/accountId=<a>/eventDay=<YYYYMMDD>/<files>`. Walking only the folders
//! a plan's partition filter names gives the size of the files a query of them may read — an
//! upper bound of what it scans (Parquet lets engines read fewer columns and row groups).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::failure::EngineError;
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
    /// `Some((sized, of))` when only `sized` of the `of` partition folders the query names were
    /// listed and the rest extrapolated from them (the listing bound, [`MAX_LISTINGS`]).
    pub sampled: Option<(u64, u64)>,
}

impl std::ops::Add for ScanEstimate {
    type Output = ScanEstimate;

    fn add(self, other: ScanEstimate) -> ScanEstimate {
        let sampled = match (self.sampled, other.sampled) {
            (None, None) => None,
            (a, b) => {
                let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
                Some((a.0 + b.0, a.1 + b.1))
            }
        };
        ScanEstimate {
            bytes: self.bytes + other.bytes,
            files: self.files + other.files,
            partitions: self.partitions + other.partitions,
            sampled,
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
    /// Whether a listing is a billed network request (S3) whose count must stay bounded and
    /// whose answers are worth keeping; a local directory is read whole, every time.
    fn remote(&self) -> bool {
        false
    }
}

/// Folder listings run at once.
const CONCURRENT_LISTINGS: usize = 16;

/// Most listings (S3 LIST requests, one per folder; a folder of more than 1,000 objects pages)
/// one estimate makes on a remote tree, however many accounts, regions and days the query names:
/// beyond it the partitions are sampled and the rest extrapolated.
pub const MAX_LISTINGS: usize = 50;

/// Fewest partition folders an estimate sizes when it samples.
const MIN_SAMPLE: usize = 6;

/// How long a folder's sub-folders (regions, accounts) are known: new accounts and regions
/// appear rarely, and one that appears within this time is counted from the next estimate on.
const FOLDERS_TTL: Duration = Duration::from_secs(600);

/// How long the size of a day folder that may still grow is known (today, yesterday: late
/// deliveries land in the day they belong to).
const OPEN_DAY_TTL: Duration = Duration::from_secs(60);

/// How long the size of a closed day is known: it no longer changes.
const CLOSED_DAY_TTL: Duration = Duration::from_secs(24 * 3600);

/// Most folders whose listings are kept (a few MB); past it they are all dropped at once.
const MAX_KNOWN: usize = 200_000;

/// What remote listings answered, for every estimate of the process: the same folders come back
/// with every panel of every dashboard load.
#[derive(Default)]
struct Known {
    folders: Mutex<HashMap<String, (Instant, Vec<String>)>>,
    sizes: Mutex<HashMap<String, (Instant, FolderSize)>>,
}

/// Files and bytes under a folder.
type FolderSize = (u64, u64);

fn known() -> &'static Known {
    static KNOWN: OnceLock<Known> = OnceLock::new();
    KNOWN.get_or_init(Known::default)
}

impl Known {
    fn folders(&self, folder: &str) -> Option<Vec<String>> {
        let map = self.folders.lock().ok()?;
        map.get(folder)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, names)| names.clone())
    }

    fn keep_folders(&self, folder: &str, names: &[String]) {
        if let Ok(mut map) = self.folders.lock() {
            if map.len() >= MAX_KNOWN {
                map.clear();
            }
            map.insert(
                folder.to_string(),
                (Instant::now() + FOLDERS_TTL, names.to_vec()),
            );
        }
    }

    fn size(&self, folder: &str) -> Option<(u64, u64)> {
        let map = self.sizes.lock().ok()?;
        map.get(folder)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, size)| *size)
    }

    fn keep_size(&self, folder: &str, day: NaiveDate, size: (u64, u64)) {
        let closed = day + chrono::Days::new(2) <= chrono::Utc::now().date_naive();
        let ttl = if closed { CLOSED_DAY_TTL } else { OPEN_DAY_TTL };
        if let Ok(mut map) = self.sizes.lock() {
            if map.len() >= MAX_KNOWN {
                map.clear();
            }
            map.insert(folder.to_string(), (Instant::now() + ttl, size));
        }
    }
}

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

/// A day folder's date, whichever partition key the layout uses.
fn day_folder(folder: &str) -> Option<NaiveDate> {
    value_of(folder, "eventday")
        .or_else(|| value_of(folder, "time_dt_day"))
        .and_then(day_of)
}

/// How a layout names its day folders, learnt from one folder name: `eventDay=20240601` →
/// `("eventDay=", "%Y%m%d")`.
fn day_naming(folder: &str) -> Option<(String, &'static str)> {
    let (key, value) = folder.split_once('=')?;
    day_folder(folder)?;
    let format = if value.contains('-') {
        "%Y-%m-%d"
    } else {
        "%Y%m%d"
    };
    Some((format!("{key}="), format))
}

fn join(a: &str, b: &str) -> String {
    format!("{}/{b}", a.trim_end_matches('/'))
}

/// One estimate's listings: answers already known (remote trees only), and the listings left.
struct Listings<'a> {
    tree: &'a dyn FolderTree,
    remote: bool,
    left: std::sync::atomic::AtomicUsize,
}

impl Listings<'_> {
    fn take(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        !self.remote
            || self
                .left
                .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                .is_ok()
    }

    fn left(&self) -> usize {
        if self.remote {
            self.left.load(std::sync::atomic::Ordering::SeqCst)
        } else {
            usize::MAX
        }
    }

    async fn folders(&self, folder: &str) -> Result<Vec<String>, EngineError> {
        if self.remote {
            if let Some(names) = known().folders(folder) {
                return Ok(names);
            }
        }
        self.take();
        let names = self.tree.folders(folder).await?;
        if self.remote {
            known().keep_folders(folder, &names);
        }
        Ok(names)
    }

    /// The files of a day folder: known, or listed (the caller chose how many to list).
    async fn files(&self, folder: &str, day: NaiveDate) -> Result<(u64, u64), EngineError> {
        if self.remote {
            if let Some(size) = known().size(folder) {
                return Ok(size);
            }
        }
        self.take();
        let size = self.tree.files(folder).await?;
        if self.remote {
            known().keep_size(folder, day, size);
        }
        Ok(size)
    }
}

/// Sizes the partitions `filter` reads under `root` (a folder with `region=…` folders). None when
/// `root` has no partition folders at all (an unknown layout: nothing can be said).
pub async fn estimate(
    tree: &dyn FolderTree,
    root: &str,
    filter: &PartitionFilter,
) -> Result<Option<ScanEstimate>, EngineError> {
    let listings = Listings {
        tree,
        remote: tree.remote(),
        left: MAX_LISTINGS.into(),
    };
    estimate_with(&listings, root, filter).await
}

async fn estimate_with(
    listings: &Listings<'_>,
    root: &str,
    filter: &PartitionFilter,
) -> Result<Option<ScanEstimate>, EngineError> {
    let top = listings.folders(root).await?;
    if !top.iter().any(|f| value_of(f, "region").is_some()) {
        return Ok(None);
    }
    let regions: BTreeSet<&str> = filter.regions.iter().map(|r| r.as_str()).collect();
    let accounts: BTreeSet<&str> = filter.accounts.iter().map(|a| a.as_str()).collect();
    let accounts = &accounts;
    let region_folders: Vec<String> = top
        .iter()
        .filter(|f| {
            value_of(f, "region").is_some_and(|r| regions.is_empty() || regions.contains(r))
        })
        .map(|f| join(root, f))
        .collect();
    let account_folders: Vec<String> = stream::iter(region_folders)
        .map(|region| async move {
            let names = listings.folders(&region).await?;
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
    let days = day_folders(listings, &account_folders, &filter.days).await?;
    size_days(listings, days).await.map(Some)
}

/// The day folders of the accounts that the days name. A local tree lists every account folder;
/// a remote one lists one to learn how the layout names its days and names the rest, so the
/// listings go to the partitions themselves.
async fn day_folders(
    listings: &Listings<'_>,
    account_folders: &[String],
    days: &[NaiveDate],
) -> Result<Vec<(String, NaiveDate)>, EngineError> {
    let wanted: BTreeSet<NaiveDate> = days.iter().copied().collect();
    if listings.remote {
        let mut sorted = account_folders.to_vec();
        sorted.sort();
        if let Some(first) = sorted.first() {
            let names = listings.folders(first).await?;
            if let Some((key, format)) = names.iter().find_map(|n| day_naming(n)) {
                let mut out = Vec::new();
                for account in &sorted {
                    for d in &wanted {
                        out.push((join(account, &format!("{key}{}", d.format(format))), *d));
                    }
                }
                return Ok(out);
            }
        }
    }
    let wanted = &wanted;
    stream::iter(account_folders.iter().cloned())
        .map(|account| async move {
            let names = listings.folders(&account).await?;
            Ok::<_, EngineError>(
                names
                    .iter()
                    .filter_map(|f| {
                        day_folder(f)
                            .filter(|d| wanted.contains(d))
                            .map(|d| (join(&account, f), d))
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .buffer_unordered(CONCURRENT_LISTINGS)
        .try_concat()
        .await
}

/// Sizes day folders: every one while listings last; past the bound, an even sample of those not
/// yet known, the rest extrapolated from the sample.
async fn size_days(
    listings: &Listings<'_>,
    mut days: Vec<(String, NaiveDate)>,
) -> Result<ScanEstimate, EngineError> {
    days.sort();
    let unknown = days
        .iter()
        .filter(|(f, _)| !listings.remote || known().size(f).is_none())
        .count();
    // At least a few partitions are listed even when the folder levels used the bound up (more
    // than 44 regions), so an estimate always rests on some sizes.
    let left = listings.left().max(MIN_SAMPLE);
    let chosen: Vec<(String, NaiveDate)> = if unknown <= left {
        days.clone()
    } else {
        let mut picked: Vec<(String, NaiveDate)> = days
            .iter()
            .filter(|(f, _)| known().size(f).is_some())
            .cloned()
            .collect();
        let fresh: Vec<&(String, NaiveDate)> = days
            .iter()
            .filter(|(f, _)| known().size(f).is_none())
            .collect();
        picked.extend((0..left).map(|i| fresh[i * fresh.len() / left.max(1)].clone()));
        picked
    };
    let sized: Vec<(u64, u64)> = stream::iter(chosen)
        .map(|(folder, day)| async move { listings.files(&folder, day).await })
        .buffer_unordered(CONCURRENT_LISTINGS)
        .try_collect()
        .await?;
    let mut total = sized
        .iter()
        .fold(ScanEstimate::default(), |sum, (files, bytes)| {
            sum + ScanEstimate {
                bytes: *bytes,
                files: *files,
                partitions: u64::from(*files > 0),
                sampled: None,
            }
        });
    let (n, of) = (sized.len() as u64, days.len() as u64);
    if n < of {
        let scale = |v: u64| (u128::from(v) * u128::from(of) / u128::from(n)) as u64;
        total = ScanEstimate {
            bytes: scale(total.bytes),
            files: scale(total.files),
            partitions: scale(total.partitions),
            sampled: Some((n, of)),
        };
    }
    Ok(total)
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
                partitions: 3,
                sampled: None,
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

    /// An organisation-wide lake in S3 as LIST requests see it, counting them.
    struct Org {
        bucket: &'static str,
        accounts: usize,
        regions: usize,
        days: Vec<NaiveDate>,
        listings: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl FolderTree for Org {
        async fn folders(&self, folder: &str) -> Result<Vec<String>, EngineError> {
            self.listings
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let depth = folder.matches('=').count();
            Ok(match depth {
                0 => (0..self.regions)
                    .map(|r| format!("region=r{}-east-1", (b'a' + r as u8) as char))
                    .collect(),
                1 => (0..self.accounts)
                    .map(|a| format!("accountId={:012}", 100_000_000_000u64 + a as u64))
                    .collect(),
                _ => self
                    .days
                    .iter()
                    .map(|d| format!("eventDay={}", d.format("%Y%m%d")))
                    .collect(),
            })
        }

        async fn files(&self, folder: &str) -> Result<(u64, u64), EngineError> {
            self.listings
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            assert!(folder.starts_with(self.bucket));
            Ok((3, 3_000))
        }

        fn remote(&self) -> bool {
            true
        }
    }

    fn org(bucket: &'static str, accounts: usize, regions: usize) -> Org {
        Org {
            bucket,
            accounts,
            regions,
            days: (1..=20).map(|d| day(&format!("202406{d:02}"))).collect(),
            listings: 0.into(),
        }
    }

    fn week() -> PartitionFilter {
        PartitionFilter {
            days: (10..17).map(|d| day(&format!("202406{d:02}"))).collect(),
            accounts: Vec::new(),
            regions: Vec::new(),
        }
    }

    #[tokio::test]
    async fn an_organisation_wide_estimate_makes_a_bounded_number_of_listings() {
        // 100 accounts x 17 regions x 7 days: 11,900 partition folders, ~13,600 LISTs unbounded.
        let tree = org("s3://org-wide", 100, 17);
        let e = estimate(&tree, "s3://org-wide/aws/VPC_FLOW/2.0", &week())
            .await
            .unwrap()
            .unwrap();
        let first = tree.listings.load(std::sync::atomic::Ordering::SeqCst);
        assert!(first <= MAX_LISTINGS, "{first} listings");
        let (sized, of) = e.sampled.unwrap();
        assert_eq!(of, 11_900);
        assert_eq!(sized as usize, MAX_LISTINGS - 1 - 17 - 1);
        // Every folder holds the same here, so the extrapolation is exact.
        assert_eq!(
            (e.bytes, e.files, e.partitions),
            (11_900 * 3_000, 11_900 * 3, 11_900)
        );
        // The next panel reuses the folder levels and the sizes it knows, and spends its own
        // listings on new samples: a closer estimate, still within the bound.
        let again = estimate(&tree, "s3://org-wide/aws/VPC_FLOW/2.0", &week())
            .await
            .unwrap()
            .unwrap();
        let second = tree.listings.load(std::sync::atomic::Ordering::SeqCst) - first;
        assert_eq!(second, MAX_LISTINGS);
        assert_eq!(again.sampled, Some((sized + MAX_LISTINGS as u64, 11_900)));
    }

    #[tokio::test]
    async fn a_narrow_estimate_sizes_every_folder_and_a_repeat_lists_nothing() {
        let tree = org("s3://org-narrow", 3, 2);
        let filter = PartitionFilter {
            days: vec![day("20240601"), day("20240602")],
            accounts: Vec::new(),
            regions: vec![Region::parse("rb-east-1").unwrap()],
        };
        let e = estimate(&tree, "s3://org-narrow/aws/VPC_FLOW/1.0", &filter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.sampled, None);
        assert_eq!((e.partitions, e.bytes), (6, 18_000));
        // root, one region, one account (the day naming), 6 day folders
        assert_eq!(tree.listings.load(std::sync::atomic::Ordering::SeqCst), 9);
        estimate(&tree, "s3://org-narrow/aws/VPC_FLOW/1.0", &filter)
            .await
            .unwrap();
        assert_eq!(tree.listings.load(std::sync::atomic::Ordering::SeqCst), 9);
    }
}
