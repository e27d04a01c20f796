//! One engine run per distinct query: identical rendered SQL in flight at the same time runs once
//! and every waiting panel gets the same result; a finished result is reused for a time-to-live,
//! in a memory-bounded LRU. Keyed by the engine's identity and the rendered SQL, so two
//! datasources never share results.
//!
//! [`CachedEngine`] wraps any [`Engine`]; [`CacheStats`] counts what it saved.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt, Shared, WeakShared};

pub use crate::engine::CacheOutcome;
use crate::engine::{Engine, EngineError, EngineRequest, QueryOutput};
use crate::frame::account_names::AccountNames;
use crate::lake::discovery::{DiscoveryError, Resolution, Wanted};
use crate::lake::estimate::ScanEstimate;
use crate::plan::{PartitionFilter, TableRef};
use crate::sql::Dialect;

/// How long a result that reads closed UTC days only ([`EngineRequest::settled`]) is reused when
/// caching is on: its rows do not change any more.
pub const SETTLED_TTL: Duration = Duration::from_secs(6 * 3600);

/// Cache settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// How long a finished result is reused; zero turns reuse off (in-flight sharing stays).
    pub ttl: Duration,
    /// Most bytes of results kept (estimated from the Arrow buffers).
    pub max_bytes: u64,
}

/// What a cache saved, for operators.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Queries the engine ran.
    pub queries_run: AtomicU64,
    /// Requests that shared a running identical query.
    pub shared: AtomicU64,
    /// Requests answered from a finished result.
    pub hits: AtomicU64,
    /// Results evicted to stay within the memory bound.
    pub evictions: AtomicU64,
    /// Bytes Athena scanned for the queries run.
    pub scanned_bytes: AtomicU64,
    /// Bytes Athena billed for the queries run.
    pub billed_bytes: AtomicU64,
}

impl CacheStats {
    /// A JSON snapshot.
    pub fn snapshot(&self) -> serde_json::Value {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "queriesRun": get(&self.queries_run),
            "shared": get(&self.shared),
            "cacheHits": get(&self.hits),
            "evictions": get(&self.evictions),
            "scannedBytes": get(&self.scanned_bytes),
            "billedBytes": get(&self.billed_bytes),
        })
    }
}

type Running = Shared<BoxFuture<'static, Result<Arc<QueryOutput>, EngineError>>>;
type RunningRef = WeakShared<BoxFuture<'static, Result<Arc<QueryOutput>, EngineError>>>;

struct Stored {
    output: Arc<QueryOutput>,
    at: Instant,
    keep: Duration,
    used: u64,
    bytes: u64,
}

impl Stored {
    /// Still within its time-to-live.
    fn fresh(&self) -> bool {
        self.at.elapsed() < self.keep
    }
}

#[derive(Default)]
struct State {
    /// Weak: a run that every waiter left is dropped (and an Athena query stopped), not kept.
    running: HashMap<String, RunningRef>,
    done: HashMap<String, Stored>,
    /// Partition sizes by SQL, kept for the time-to-live: a reload weighs its day slices and
    /// checks its budget without listing the partitions again.
    estimates: HashMap<String, (Instant, Option<ScanEstimate>)>,
    bytes: u64,
    clock: u64,
}

/// An engine whose runs are shared and cached.
pub struct CachedEngine {
    inner: Arc<dyn Engine>,
    policy: CachePolicy,
    state: Arc<Mutex<State>>,
    stats: Arc<CacheStats>,
}

fn output_bytes(output: &QueryOutput) -> u64 {
    output
        .batches
        .iter()
        .map(|b| b.get_array_memory_size() as u64)
        .sum::<u64>()
        + 1024
}

impl CachedEngine {
    /// Wraps an engine.
    pub fn new(inner: Arc<dyn Engine>, policy: CachePolicy) -> Self {
        CachedEngine {
            inner,
            policy,
            state: Arc::default(),
            stats: Arc::default(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// Runs a query, or shares or reuses an identical one; says which.
    pub async fn run_cached(
        &self,
        request: &EngineRequest,
    ) -> Result<(Arc<QueryOutput>, CacheOutcome), EngineError> {
        let key = request.sql.clone();
        let (running, outcome) = {
            let mut state = self.state.lock().expect("cache lock");
            state.clock += 1;
            let clock = state.clock;
            if let Some(stored) = state.done.get_mut(&key) {
                if stored.fresh() {
                    stored.used = clock;
                    self.stats.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok((stored.output.clone(), CacheOutcome::Hit));
                }
                let stale = state.done.remove(&key).expect("present");
                state.bytes -= stale.bytes;
            }
            match state.running.get(&key).and_then(WeakShared::upgrade) {
                Some(running) => {
                    self.stats.shared.fetch_add(1, Ordering::Relaxed);
                    (running, CacheOutcome::Shared)
                }
                None => {
                    let run = self.start(key.clone(), request.clone());
                    if let Some(weak) = run.downgrade() {
                        state.running.insert(key.clone(), weak);
                    }
                    (run, CacheOutcome::Miss)
                }
            }
        };
        running.await.map(|output| (output, outcome))
    }

    /// The shared run of one query: runs it, then stores the result (or forgets the failure).
    fn start(&self, key: String, request: EngineRequest) -> Running {
        let inner = self.inner.clone();
        let state = self.state.clone();
        let stats = self.stats.clone();
        let policy = self.policy;
        async move {
            /// Forgets the running entry however the run ends (also when every waiter left).
            struct Forget(Arc<Mutex<State>>, String);
            impl Drop for Forget {
                fn drop(&mut self) {
                    if let Ok(mut state) = self.0.lock() {
                        // Only this run's entry: a new run of the same query may have replaced it.
                        let ours = state
                            .running
                            .get(&self.1)
                            .is_some_and(|w| w.upgrade().is_none());
                        if ours {
                            state.running.remove(&self.1);
                        }
                    }
                }
            }
            let _forget = Forget(state.clone(), key.clone());
            stats.queries_run.fetch_add(1, Ordering::Relaxed);
            let output = Arc::new(inner.run(&request).await?);
            if let Some(athena) = &output.athena {
                stats
                    .scanned_bytes
                    .fetch_add(athena.scanned_bytes, Ordering::Relaxed);
                stats
                    .billed_bytes
                    .fetch_add(athena.billed_bytes(), Ordering::Relaxed);
            }
            let bytes = output_bytes(&output);
            if !policy.ttl.is_zero() && bytes <= policy.max_bytes {
                let mut state = state.lock().expect("cache lock");
                state.clock += 1;
                let clock = state.clock;
                while state.bytes + bytes > policy.max_bytes {
                    let Some(oldest) = state
                        .done
                        .iter()
                        .min_by_key(|(_, s)| s.used)
                        .map(|(k, _)| k.clone())
                    else {
                        break;
                    };
                    let evicted = state.done.remove(&oldest).expect("present");
                    state.bytes -= evicted.bytes;
                    stats.evictions.fetch_add(1, Ordering::Relaxed);
                }
                state.bytes += bytes;
                let keep = if request.settled {
                    policy.ttl.max(SETTLED_TTL)
                } else {
                    policy.ttl
                };
                state.done.insert(
                    key,
                    Stored {
                        output: output.clone(),
                        at: Instant::now(),
                        keep,
                        used: clock,
                        bytes,
                    },
                );
            }
            Ok(output)
        }
        .boxed()
        .shared()
    }
}

#[async_trait::async_trait]
impl Engine for CachedEngine {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn min_billed_bytes(&self) -> u64 {
        self.inner.min_billed_bytes()
    }

    async fn run(&self, request: &EngineRequest) -> Result<QueryOutput, EngineError> {
        let (output, outcome) = self.run_cached(request).await?;
        let mut output = (*output).clone();
        output.cache = outcome;
        Ok(output)
    }

    async fn check(&self, tables: &[TableRef]) -> Result<String, EngineError> {
        self.inner.check(tables).await
    }

    async fn estimate(
        &self,
        request: &EngineRequest,
        partitions: &PartitionFilter,
    ) -> Result<Option<ScanEstimate>, EngineError> {
        let at_hand = {
            let state = self.state.lock().expect("cache lock");
            state.done.get(&request.sql).is_some_and(Stored::fresh)
                || state
                    .running
                    .get(&request.sql)
                    .is_some_and(|w| w.upgrade().is_some())
        };
        if at_hand {
            return Ok(Some(ScanEstimate::default()));
        }
        let ttl = self.policy.ttl;
        let known = {
            let mut state = self.state.lock().expect("cache lock");
            state.estimates.retain(|_, (at, _)| at.elapsed() < ttl);
            state.estimates.get(&request.sql).map(|(_, e)| *e)
        };
        if let Some(estimate) = known {
            return Ok(estimate);
        }
        let estimate = self.inner.estimate(request, partitions).await?;
        if !ttl.is_zero() {
            let mut state = self.state.lock().expect("cache lock");
            state
                .estimates
                .insert(request.sql.clone(), (Instant::now(), estimate));
        }
        Ok(estimate)
    }

    async fn resolve(&self, wanted: Wanted<'_>) -> Result<Option<Resolution>, DiscoveryError> {
        self.inner.resolve(wanted).await
    }

    async fn account_names(&self) -> AccountNames {
        self.inner.account_names().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;

    use super::*;
    use crate::engine::ScanStats;

    /// Counts runs (and estimates); each run takes 50 ms and answers one row with the run number.
    #[derive(Default)]
    struct Counting(AtomicUsize, AtomicUsize);

    #[async_trait::async_trait]
    impl Engine for Counting {
        fn dialect(&self) -> Dialect {
            Dialect::Local
        }
        fn name(&self) -> &'static str {
            "counting"
        }
        async fn run(&self, request: &EngineRequest) -> Result<QueryOutput, EngineError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst) as i64 + 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if request.sql.contains("fail") {
                return Err(EngineError::QueryCancelled);
            }
            let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from(vec![n; 100]))],
            )
            .unwrap();
            Ok(QueryOutput {
                schema,
                batches: vec![batch],
                stats: ScanStats::default(),
                elapsed: Duration::ZERO,
                athena: None,
                cache: CacheOutcome::Miss,
            })
        }
        async fn check(&self, _tables: &[TableRef]) -> Result<String, EngineError> {
            Ok(String::new())
        }
        async fn estimate(
            &self,
            _request: &EngineRequest,
            _partitions: &PartitionFilter,
        ) -> Result<Option<ScanEstimate>, EngineError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            Ok(Some(ScanEstimate {
                bytes: 1000,
                files: 2,
                partitions: 1,
                sampled: None,
            }))
        }
    }

    fn cached(ttl_ms: u64, max_bytes: u64) -> (Arc<CachedEngine>, Arc<Counting>) {
        let inner = Arc::new(Counting::default());
        let engine = CachedEngine::new(
            inner.clone(),
            CachePolicy {
                ttl: Duration::from_millis(ttl_ms),
                max_bytes,
            },
        );
        (Arc::new(engine), inner)
    }

    fn request(sql: &str) -> EngineRequest {
        EngineRequest {
            ref_id: "A".into(),
            sql: sql.into(),
            tables: Vec::new(),
            settled: false,
            row_limit: None,
        }
    }

    fn first_value(output: &QueryOutput) -> i64 {
        let column = output.batches[0].column(0);
        column
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0)
    }

    #[tokio::test]
    async fn an_estimate_is_kept_for_the_ttl_and_none_without_one() {
        let partitions = PartitionFilter {
            days: Vec::new(),
            accounts: Vec::new(),
            regions: Vec::new(),
        };
        let (engine, inner) = cached(60_000, 1 << 20);
        let sized = engine.estimate(&request("SELECT 1"), &partitions).await;
        let again = engine.estimate(&request("SELECT 1"), &partitions).await;
        assert_eq!(sized.unwrap(), again.unwrap());
        assert_eq!(inner.1.load(Ordering::SeqCst), 1, "listed once");
        engine
            .estimate(&request("SELECT 2"), &partitions)
            .await
            .unwrap();
        assert_eq!(inner.1.load(Ordering::SeqCst), 2, "another query is sized");

        let (engine, inner) = cached(0, 1 << 20);
        for _ in 0..2 {
            engine
                .estimate(&request("SELECT 1"), &partitions)
                .await
                .unwrap();
        }
        assert_eq!(
            inner.1.load(Ordering::SeqCst),
            2,
            "no cache: sized each time"
        );
    }

    #[tokio::test]
    async fn identical_queries_in_flight_run_once() {
        let (engine, inner) = cached(60_000, 1 << 20);
        let runs = (0..8).map(|_| {
            let engine = engine.clone();
            async move { engine.run(&request("SELECT 1")).await.unwrap() }
        });
        let outputs = futures::future::join_all(runs).await;
        assert_eq!(inner.0.load(Ordering::SeqCst), 1);
        let outcomes: Vec<_> = outputs.iter().map(|o| o.cache).collect();
        assert_eq!(
            outcomes
                .iter()
                .filter(|o| **o == CacheOutcome::Miss)
                .count(),
            1
        );
        assert_eq!(
            outcomes
                .iter()
                .filter(|o| **o == CacheOutcome::Shared)
                .count(),
            7
        );
        assert!(outputs.iter().all(|o| first_value(o) == 1));
        // Within the TTL: reused; another query runs.
        let again = engine.run(&request("SELECT 1")).await.unwrap();
        assert_eq!((again.cache, first_value(&again)), (CacheOutcome::Hit, 1));
        engine.run(&request("SELECT 2")).await.unwrap();
        assert_eq!(inner.0.load(Ordering::SeqCst), 2);
        assert_eq!(
            engine.stats().snapshot(),
            serde_json::json!({"queriesRun": 2, "shared": 7, "cacheHits": 1, "evictions": 0,
                "scannedBytes": 0, "billedBytes": 0})
        );
    }

    #[tokio::test]
    async fn results_expire_failures_are_not_kept_and_memory_is_bounded() {
        let (engine, inner) = cached(100, 1 << 20);
        engine.run(&request("SELECT 1")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let later = engine.run(&request("SELECT 1")).await.unwrap();
        assert_eq!((later.cache, first_value(&later)), (CacheOutcome::Miss, 2));
        assert!(engine.run(&request("fail")).await.is_err());
        assert!(engine.run(&request("fail")).await.is_err());
        assert_eq!(inner.0.load(Ordering::SeqCst), 4, "a failure is run again");

        // Room for about two results: the least recently used goes.
        let one = output_bytes(&engine.run(&request("SELECT 1")).await.unwrap());
        let (engine, inner) = cached(60_000, one * 2 + one / 2);
        for sql in [
            "SELECT 1", "SELECT 2", "SELECT 1", "SELECT 3", "SELECT 1", "SELECT 2",
        ] {
            engine.run(&request(sql)).await.unwrap();
        }
        // 1, 2 run; 1 hit; 3 evicts 2; 1 hit; 2 runs again (evicting 3).
        assert_eq!(inner.0.load(Ordering::SeqCst), 4);
        assert_eq!(engine.stats().evictions.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_query_abandoned_by_every_waiter_is_not_kept_running() {
        let (engine, inner) = cached(60_000, 1 << 20);
        let e = engine.clone();
        let waiter = tokio::spawn(async move { e.run(&request("SELECT 1")).await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        waiter.abort();
        let _ = waiter.await;
        assert!(engine.state.lock().unwrap().running.is_empty());
        let output = engine.run(&request("SELECT 1")).await.unwrap();
        assert_eq!(
            (output.cache, inner.0.load(Ordering::SeqCst)),
            (CacheOutcome::Miss, 2)
        );
    }

    #[tokio::test]
    async fn a_result_at_hand_is_estimated_to_scan_nothing() {
        let (engine, _) = cached(60_000, 1_000_000);
        let partitions = PartitionFilter {
            days: Vec::new(),
            accounts: Vec::new(),
            regions: Vec::new(),
        };
        let sized = |e: Option<ScanEstimate>| e.map(|e| e.bytes);
        let before = engine.estimate(&request("q"), &partitions).await.unwrap();
        assert_eq!(
            sized(before),
            Some(1000),
            "not run yet: the engine's estimate"
        );
        engine.run(&request("q")).await.unwrap();
        let after = engine.estimate(&request("q"), &partitions).await.unwrap();
        assert_eq!(sized(after), Some(0), "cached: nothing to scan");
        let other = engine
            .estimate(&request("other"), &partitions)
            .await
            .unwrap();
        assert_eq!(sized(other), Some(1000));
        // A result reused past its time-to-live is estimated again.
        let (short, _) = cached(1, 1_000_000);
        short.run(&request("q")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let stale = short.estimate(&request("q"), &partitions).await.unwrap();
        assert_eq!(sized(stale), Some(1000));
    }
}
