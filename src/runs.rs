//! Panel runs that outlive the request that started them (async queries): each runs as a task,
//! named by an id the caller polls with, joined by identical requests, stopped on cancel, and
//! dropped when nobody asked about it for a while. Bounded: at most `max_runs` per owner.
//!
//! Generic over the run's result so that it can be tested without an engine; the service stores
//! encoded-ready frames in it (`service/async_flow.rs`).

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How long a delivered result stays for the other requests that joined its run (another tab
/// polls a moment later); then it is freed rather than kept for the full keep time.
pub const CLAIMED_GRACE: Duration = Duration::from_secs(10);

/// Limits of one owner's runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Most runs (running, or finished and not expired) one owner may hold.
    pub max_runs: usize,
    /// A run nobody asked about for this long is dropped (a running one is stopped).
    pub keep: Duration,
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState<T> {
    /// Still running.
    Running,
    /// Finished with this result.
    Done(T),
    /// Stopped by a cancel.
    Canceled,
}

/// A new run could not be held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Lakewatch already holds {max_runs} running or unclaimed async queries for this datasource (setting `asyncMaxQueries`); wait for them to finish or ask an admin to raise the setting")]
pub struct RunsFull {
    /// The limit that was reached.
    pub max_runs: usize,
}

/// A run as a caller sees it: its id and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView<T> {
    /// The id to poll and cancel with.
    pub id: String,
    /// Its state.
    pub state: RunState<T>,
}

struct Entry<T> {
    owner: String,
    key: String,
    state: watch::Sender<RunState<T>>,
    task: Option<tokio::task::AbortHandle>,
    seen: Instant,
    keep: Duration,
    /// Its end was delivered at least once: the first to go when the table is full.
    claimed: bool,
}

impl<T> Entry<T> {
    fn expired(&self) -> bool {
        self.seen.elapsed() > self.keep
    }
}

struct Table<T> {
    by_id: HashMap<String, Entry<T>>,
    /// Random per process: ids cannot be guessed from one another.
    salt: RandomState,
    next: u64,
}

/// The runs of a service.
pub struct Runs<T> {
    table: Arc<Mutex<Table<T>>>,
}

impl<T> Default for Runs<T> {
    fn default() -> Self {
        Runs {
            table: Arc::new(Mutex::new(Table {
                by_id: HashMap::new(),
                salt: RandomState::new(),
                next: 0,
            })),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Runs<T> {
    /// Joins the running run of `owner` with this `key`, or starts `run` as a new one. A finished
    /// run with the same key is replaced: a new request wants fresh data.
    pub fn start_or_join<F>(
        &self,
        owner: &str,
        key: &str,
        limits: RunLimits,
        run: F,
    ) -> Result<String, RunsFull>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let mut table = self.table.lock().expect("runs lock");
        table.forget_expired();
        let joined = table.by_id.iter_mut().find(|(_, e)| {
            e.owner == owner && e.key == key && matches!(*e.state.borrow(), RunState::Running)
        });
        if let Some((id, entry)) = joined {
            entry.seen = Instant::now();
            return Ok(id.clone());
        }
        table
            .by_id
            .retain(|_, e| !(e.owner == owner && e.key == key));
        if table.held(owner) >= limits.max_runs {
            // Delivered results make room before anything is refused.
            table.by_id.retain(|_, e| !(e.owner == owner && e.claimed));
        }
        if table.held(owner) >= limits.max_runs {
            return Err(RunsFull {
                max_runs: limits.max_runs,
            });
        }
        table.next += 1;
        let id = format!(
            "lw-{:016x}-{}",
            table.salt.hash_one((owner, key, table.next)),
            table.next
        );
        let (state, _) = watch::channel(RunState::Running);
        let task = tokio::spawn(drive(self.table.clone(), id.clone(), run));
        table.by_id.insert(
            id.clone(),
            Entry {
                owner: owner.to_string(),
                key: key.to_string(),
                state,
                task: Some(task.abort_handle()),
                seen: Instant::now(),
                keep: limits.keep,
                claimed: false,
            },
        );
        Ok(id)
    }

    /// Waits up to `wait` for the run `id` of `owner` with this `key` to leave the running
    /// state; `None` when no such run is held (unknown, expired, another owner's or query's).
    pub async fn wait(
        &self,
        owner: &str,
        key: &str,
        id: &str,
        wait: Duration,
    ) -> Option<RunView<T>> {
        let mut state = {
            let mut table = self.table.lock().expect("runs lock");
            table.forget_expired();
            let entry = table.by_id.get_mut(id)?;
            if entry.owner != owner || entry.key != key {
                return None;
            }
            entry.seen = Instant::now();
            entry.state.subscribe()
        };
        let settled =
            tokio::time::timeout(wait, state.wait_for(|s| !matches!(s, RunState::Running))).await;
        let settled = settled.ok().and_then(Result::ok).map(|s| s.clone());
        // Timed out, or the run was dropped meanwhile: say what it is now.
        let now = settled.unwrap_or_else(|| state.borrow().clone());
        if !matches!(now, RunState::Running) {
            self.claimed(id);
        }
        Some(RunView {
            id: id.to_string(),
            state: now,
        })
    }

    /// Stops the run `id` of `owner` (its task is aborted, which drops its engine futures). It
    /// answers [`RunState::Canceled`] until it expires. False when no such run is held.
    pub fn cancel(&self, owner: &str, id: &str) -> bool {
        let mut table = self.table.lock().expect("runs lock");
        table.forget_expired();
        let Some(entry) = table.by_id.get_mut(id).filter(|e| e.owner == owner) else {
            return false;
        };
        if let Some(task) = entry.task.take() {
            task.abort();
        }
        entry.seen = Instant::now();
        entry.state.send_if_modified(|s| {
            let running = matches!(s, RunState::Running);
            if running {
                *s = RunState::Canceled;
            }
            running
        });
        true
    }

    /// How many runs `owner` holds now (running, finished or canceled, not expired).
    pub fn held(&self, owner: &str) -> usize {
        let mut table = self.table.lock().expect("runs lock");
        table.forget_expired();
        table.held(owner)
    }

    /// Marks the end of run `id` as delivered: it stays for [`CLAIMED_GRACE`] at most.
    fn claimed(&self, id: &str) {
        let mut table = self.table.lock().expect("runs lock");
        if let Some(entry) = table.by_id.get_mut(id) {
            if !entry.claimed {
                entry.claimed = true;
                entry.seen = Instant::now();
                entry.keep = entry.keep.min(CLAIMED_GRACE);
            }
        }
    }
}

impl<T> Table<T> {
    fn held(&self, owner: &str) -> usize {
        self.by_id.values().filter(|e| e.owner == owner).count()
    }

    /// Drops the runs nobody asked about within their keep time; running ones are stopped.
    fn forget_expired(&mut self) {
        self.by_id.retain(|_, e| {
            if !e.expired() {
                return true;
            }
            if let Some(task) = e.task.take() {
                task.abort();
            }
            false
        });
    }
}

/// Runs one run to its end, unless it is abandoned first: a run nobody polled within its keep
/// time is dropped here (without waiting for another request to notice), so an Athena query
/// that no browser waits for any more is stopped.
async fn drive<T, F>(table: Arc<Mutex<Table<T>>>, id: String, run: F)
where
    T: Clone + Send + Sync + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let abandoned = {
        let (table, id) = (table.clone(), id.clone());
        async move {
            loop {
                let keep = {
                    let mut table = table.lock().expect("runs lock");
                    let Some(entry) = table.by_id.get(&id) else {
                        return;
                    };
                    if entry.expired() {
                        table.by_id.remove(&id);
                        return;
                    }
                    entry.keep
                };
                tokio::time::sleep((keep / 4).max(Duration::from_millis(250))).await;
            }
        }
    };
    tokio::select! {
        result = run => {
            let mut table = table.lock().expect("runs lock");
            if let Some(entry) = table.by_id.get_mut(&id) {
                entry.task = None;
                entry.state.send_replace(RunState::Done(result));
            }
        }
        () = abandoned => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_runs: usize, keep_ms: u64) -> RunLimits {
        RunLimits {
            max_runs,
            keep: Duration::from_millis(keep_ms),
        }
    }

    /// A run that finishes when `release` is sent, and says when it was dropped unfinished.
    fn held_run(
        release: tokio::sync::oneshot::Receiver<u32>,
        dropped: Arc<std::sync::atomic::AtomicBool>,
    ) -> impl Future<Output = u32> + Send + 'static {
        struct Flag(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let unfinished = Flag(dropped);
        async move {
            let value = release.await.unwrap_or(0);
            // Finished: not a drop of an unfinished run.
            std::mem::forget(unfinished);
            value
        }
    }

    #[tokio::test]
    async fn a_run_answers_running_then_its_result_and_identical_requests_join_it() {
        let runs = Runs::default();
        let (release, held) = tokio::sync::oneshot::channel();
        let dropped = Arc::default();
        let id = runs
            .start_or_join("ds", "q", limits(10, 60_000), held_run(held, dropped))
            .unwrap();
        let started_again = runs
            .start_or_join("ds", "q", limits(10, 60_000), async { 99 })
            .unwrap();
        assert_eq!(started_again, id, "the running run is joined");
        let view = runs.wait("ds", "q", &id, Duration::from_millis(50)).await;
        assert_eq!(view.unwrap().state, RunState::Running);
        release.send(7).unwrap();
        let view = runs.wait("ds", "q", &id, Duration::from_secs(5)).await;
        assert_eq!(view.unwrap().state, RunState::Done(7));
        assert!(runs.wait("other", "q", &id, Duration::ZERO).await.is_none());
        assert!(runs
            .wait("ds", "other query", &id, Duration::ZERO)
            .await
            .is_none());
    }

    #[tokio::test]
    async fn cancel_drops_the_running_future_and_the_id_answers_canceled() {
        let runs = Runs::default();
        let (_release, held) = tokio::sync::oneshot::channel::<u32>();
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let id = runs
            .start_or_join(
                "ds",
                "q",
                limits(10, 60_000),
                held_run(held, dropped.clone()),
            )
            .unwrap();
        assert!(!runs.cancel("another datasource", &id));
        assert!(runs.cancel("ds", &id));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
        let view = runs.wait("ds", "q", &id, Duration::from_secs(1)).await;
        assert_eq!(view.unwrap().state, RunState::Canceled);
        assert!(!runs.cancel("ds", "lw-unknown"));
    }

    #[tokio::test]
    async fn the_number_of_runs_is_bounded_per_owner() {
        let runs = Runs::default();
        for q in ["a", "b"] {
            runs.start_or_join("ds", q, limits(2, 60_000), std::future::pending::<u32>())
                .unwrap();
        }
        assert_eq!(
            runs.start_or_join("ds", "c", limits(2, 60_000), async { 1 }),
            Err(RunsFull { max_runs: 2 })
        );
        assert_eq!(
            RunsFull { max_runs: 2 }.to_string(),
            "Lakewatch already holds 2 running or unclaimed async queries for this datasource (setting `asyncMaxQueries`); wait for them to finish or ask an admin to raise the setting"
        );
        assert!(runs
            .start_or_join("other", "c", limits(2, 60_000), async { 1 })
            .is_ok());
    }

    #[tokio::test]
    async fn delivered_results_make_room_before_a_run_is_refused() {
        let runs = Runs::default();
        let done = runs
            .start_or_join("ds", "a", limits(2, 60_000), async { 1 })
            .unwrap();
        runs.start_or_join("ds", "b", limits(2, 60_000), std::future::pending::<u32>())
            .unwrap();
        // Not yet delivered: the table is full.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(runs
            .start_or_join("ds", "c", limits(2, 60_000), async { 3 })
            .is_err());
        let view = runs.wait("ds", "a", &done, Duration::from_secs(5)).await;
        assert_eq!(view.unwrap().state, RunState::Done(1));
        assert!(runs
            .start_or_join("ds", "c", limits(2, 60_000), async { 3 })
            .is_ok());
        assert!(runs.wait("ds", "a", &done, Duration::ZERO).await.is_none());
    }

    #[tokio::test]
    async fn a_run_nobody_polls_is_stopped_and_forgotten() {
        let runs = Runs::default();
        let (_release, held) = tokio::sync::oneshot::channel::<u32>();
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let id = runs
            .start_or_join("ds", "q", limits(10, 300), held_run(held, dropped.clone()))
            .unwrap();
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst), "stopped");
        assert_eq!(runs.held("ds"), 0);
        assert!(runs.wait("ds", "q", &id, Duration::ZERO).await.is_none());
    }

    #[tokio::test]
    async fn a_finished_run_is_replaced_by_a_new_request() {
        let runs = Runs::default();
        let first = runs
            .start_or_join("ds", "q", limits(10, 60_000), async { 1 })
            .unwrap();
        let view = runs.wait("ds", "q", &first, Duration::from_secs(5)).await;
        assert_eq!(view.unwrap().state, RunState::Done(1));
        let second = runs
            .start_or_join("ds", "q", limits(10, 60_000), async { 2 })
            .unwrap();
        assert_ne!(first, second);
        assert_eq!(runs.held("ds"), 1);
    }
}
