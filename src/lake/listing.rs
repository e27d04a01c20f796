//! Folder listings of a local lake, kept between queries: a query lists only the partition
//! folders it names, and a folder listed before is read again only when it changed (its
//! modification time moved, as it does when an entry is added, removed or renamed — a lake
//! generated anew is a new tree). The cache holds at most a set number of entry names; past it
//! the least recently used listings go first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::failure::EngineError;
use crate::lake::estimate::FolderTree;

/// Default of `localListingCacheEntries`: ~120 bytes an entry, ~25 MB at most.
pub const DEFAULT_LISTING_CACHE_ENTRIES: u64 = 200_000;

/// The entries of one folder, sorted by name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// Names of the folders in it.
    pub folders: Vec<String>,
    /// Names of the files in it.
    pub files: Vec<String>,
}

impl Listing {
    fn entries(&self) -> usize {
        self.folders.len() + self.files.len()
    }
}

/// How often folders were read and how often a kept listing served instead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListingCounts {
    /// Folders read from the file system.
    pub read: u64,
    /// Listings served from the cache (the folder had not changed).
    pub reused: u64,
}

struct Entry {
    modified: SystemTime,
    listing: Arc<Listing>,
    last_used: u64,
}

#[derive(Default)]
struct Kept {
    by_folder: HashMap<PathBuf, Entry>,
    entries: usize,
    clock: u64,
}

/// Folder listings of a lake, bounded by the number of entry names they hold.
pub struct FolderListings {
    max_entries: usize,
    kept: Mutex<Kept>,
    read: AtomicU64,
    reused: AtomicU64,
}

impl std::fmt::Debug for FolderListings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderListings")
            .field("max_entries", &self.max_entries)
            .field("counts", &self.counts())
            .finish()
    }
}

impl FolderListings {
    /// A cache of at most `max_entries` names (0 keeps nothing: every listing reads its folder).
    pub fn new(max_entries: u64) -> Self {
        FolderListings {
            max_entries: usize::try_from(max_entries).unwrap_or(usize::MAX),
            kept: Mutex::new(Kept::default()),
            read: AtomicU64::new(0),
            reused: AtomicU64::new(0),
        }
    }

    /// Reads so far.
    pub fn counts(&self) -> ListingCounts {
        ListingCounts {
            read: self.read.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
        }
    }

    /// The entries of `folder`: the kept listing while the folder's modification time is the
    /// one it was listed at, else a fresh read. A missing folder is an error.
    pub fn list(&self, folder: &Path) -> std::io::Result<Arc<Listing>> {
        let modified = std::fs::metadata(folder)?.modified()?;
        if let Some(listing) = self.kept(folder, modified) {
            self.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(listing);
        }
        // The lock is not held while reading: other queries' listings go on meanwhile.
        let listing = Arc::new(read_folder(folder)?);
        self.read.fetch_add(1, Ordering::Relaxed);
        self.keep(folder, modified, listing.clone());
        Ok(listing)
    }

    fn kept(&self, folder: &Path, modified: SystemTime) -> Option<Arc<Listing>> {
        let mut kept = self.kept.lock().ok()?;
        kept.clock += 1;
        let now = kept.clock;
        let entry = kept.by_folder.get_mut(folder)?;
        if entry.modified != modified {
            return None;
        }
        entry.last_used = now;
        Some(entry.listing.clone())
    }

    fn keep(&self, folder: &Path, modified: SystemTime, listing: Arc<Listing>) {
        let size = listing.entries();
        if size > self.max_entries {
            return;
        }
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        kept.clock += 1;
        let last_used = kept.clock;
        let entry = Entry {
            modified,
            listing,
            last_used,
        };
        if let Some(old) = kept.by_folder.insert(folder.to_path_buf(), entry) {
            kept.entries -= old.listing.entries();
        }
        kept.entries += size;
        if kept.entries > self.max_entries {
            evict(&mut kept, self.max_entries - self.max_entries / 4);
        }
    }
}

/// Drops the least recently used listings until at most `target` entries remain (down to a
/// quarter below the bound, so eviction's sort is paid once per many insertions).
fn evict(kept: &mut Kept, target: usize) {
    let mut by_age: Vec<(u64, PathBuf)> = kept
        .by_folder
        .iter()
        .map(|(folder, k)| (k.last_used, folder.clone()))
        .collect();
    by_age.sort_unstable();
    for (_, folder) in by_age {
        if kept.entries <= target {
            break;
        }
        if let Some(old) = kept.by_folder.remove(&folder) {
            kept.entries -= old.listing.entries();
        }
    }
}

fn read_folder(folder: &Path) -> std::io::Result<Listing> {
    let mut listing = Listing::default();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() {
            listing.folders.push(name);
        } else {
            listing.files.push(name);
        }
    }
    listing.folders.sort();
    listing.files.sort();
    Ok(listing)
}

/// The scan estimate's view of a local lake through the kept listings.
#[async_trait::async_trait]
impl FolderTree for FolderListings {
    async fn folders(&self, folder: &str) -> Result<Vec<String>, EngineError> {
        // A folder that is not there holds no partitions.
        Ok(self
            .list(Path::new(folder))
            .map(|l| l.folders.clone())
            .unwrap_or_default())
    }

    async fn files(&self, folder: &str) -> Result<(u64, u64), EngineError> {
        let mut sum = (0, 0);
        self.sum_files(Path::new(folder), &mut sum);
        Ok(sum)
    }
}

impl FolderListings {
    /// Number and size of the files under `folder`; sizes are read anew (a file rewritten in
    /// place does not change its folder).
    fn sum_files(&self, folder: &Path, sum: &mut (u64, u64)) {
        let Ok(listing) = self.list(folder) else {
            return;
        };
        for name in &listing.files {
            if let Ok(meta) = std::fs::metadata(folder.join(name)) {
                sum.0 += 1;
                sum.1 += meta.len();
            }
        }
        for name in &listing.folders {
            self.sum_files(&folder.join(name), sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("lakewatch-listing-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_listing_is_reused_until_its_folder_changes() {
        let dir = scratch("reuse");
        std::fs::create_dir(dir.join("region=a")).unwrap();
        std::fs::write(dir.join("x.parquet"), b"1").unwrap();
        let listings = FolderListings::new(100);
        let first = listings.list(&dir).unwrap();
        assert_eq!(first.folders, ["region=a"]);
        assert_eq!(first.files, ["x.parquet"]);
        assert_eq!(listings.list(&dir).unwrap(), first);
        assert_eq!(listings.counts(), ListingCounts { read: 1, reused: 1 });
        // Some file systems keep modification times to the second: wait past it.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::create_dir(dir.join("region=b")).unwrap();
        assert_eq!(
            listings.list(&dir).unwrap().folders,
            ["region=a", "region=b"]
        );
        assert_eq!(listings.counts().read, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_cache_holds_at_most_its_bound_of_entries() {
        let dir = scratch("bound");
        for i in 0..6 {
            let sub = dir.join(format!("f{i}"));
            std::fs::create_dir(&sub).unwrap();
            std::fs::write(sub.join("a"), b"").unwrap();
            std::fs::write(sub.join("b"), b"").unwrap();
        }
        let listings = FolderListings::new(8);
        for i in 0..6 {
            listings.list(&dir.join(format!("f{i}"))).unwrap();
            let kept = listings.kept.lock().unwrap();
            assert!(kept.entries <= 8, "{} entries kept", kept.entries);
        }
        // The most recent listing is still there; the oldest went first.
        listings.list(&dir.join("f5")).unwrap();
        assert_eq!(listings.counts(), ListingCounts { read: 6, reused: 1 });
        listings.list(&dir.join("f0")).unwrap();
        assert_eq!(listings.counts().read, 7);
        // A folder larger than the whole bound is read every time.
        let tiny = FolderListings::new(1);
        tiny.list(&dir).unwrap();
        tiny.list(&dir).unwrap();
        assert_eq!(tiny.counts(), ListingCounts { read: 2, reused: 0 });
        let _ = std::fs::remove_dir_all(&dir);
    }
}
