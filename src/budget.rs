//! The scan budget: before a query runs, the size of the partitions it reads
//! ([`crate::lake::estimate`]) is held against the datasource's per-query budget and against what
//! its dashboard load has already been allowed; over budget, the query is refused, not run.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::engine::{Engine, EngineError, EngineRequest};
use crate::lake::estimate::ScanEstimate;
use crate::plan::PartitionFilter;

/// Byte budgets (None: no budget).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanBudget {
    /// Most bytes one panel query may read (`scanBudgetQueryGb`).
    pub per_query: Option<u64>,
    /// Most bytes the queries of one dashboard load may read together (`scanBudgetLoadGb`).
    pub per_load: Option<u64>,
}

impl ScanBudget {
    /// Whether any budget is set.
    pub fn is_on(&self) -> bool {
        self.per_query.is_some() || self.per_load.is_some()
    }
}

/// How long after its first query a dashboard load still takes queries.
pub const LOAD_WINDOW: Duration = Duration::from_secs(60);

/// What each dashboard load was allowed to scan so far. A load is the queries of one datasource
/// for one dashboard and one time range (every panel of a load asks for the same range) within
/// [`LOAD_WINDOW`] of the first.
#[derive(Debug, Default)]
pub struct LoadLedger {
    loads: Mutex<HashMap<String, (Instant, u64)>>,
}

impl LoadLedger {
    /// Adds `bytes` to the load `key` if that keeps it within `limit`; else says what the load
    /// was already allowed.
    pub fn charge(&self, key: &str, bytes: u64, limit: u64) -> Result<(), u64> {
        let mut loads = self.loads.lock().expect("ledger lock");
        loads.retain(|_, (first, _)| first.elapsed() < LOAD_WINDOW);
        let (_, spent) = loads
            .entry(key.to_string())
            .or_insert_with(|| (Instant::now(), 0));
        if *spent + bytes > limit {
            return Err(*spent);
        }
        *spent += bytes;
        Ok(())
    }
}

/// One dashboard load's account in a ledger.
#[derive(Debug, Clone, Copy)]
pub struct LoadCharge<'a> {
    /// The ledger.
    pub ledger: &'a LoadLedger,
    /// The load's key.
    pub key: &'a str,
}

/// A query the budget does not allow (the user's to fix, unless its partitions could not be
/// listed).
#[derive(Debug, Clone, thiserror::Error)]
pub enum BudgetError {
    /// Over the per-query budget.
    #[error("query {ref_id} would scan up to {} ({} files in {} partition folders of region × account × day), over the datasource's per-query scan budget of {} (scanBudgetQueryGb); it was not run. Narrow the time range, filter accounts or regions (they prune partitions), or raise the budget in the datasource settings.", human_bytes(.estimate.bytes), .estimate.files, .estimate.partitions, human_bytes(*.budget))]
    Query {
        /// The query.
        ref_id: String,
        /// Its estimate.
        estimate: ScanEstimate,
        /// The budget, bytes.
        budget: u64,
    },
    /// Over what is left of the dashboard load's budget.
    #[error("query {ref_id} would scan up to {}, but this dashboard load's other queries were already allowed {} of its {} scan budget (scanBudgetLoadGb); it was not run. Narrow the time range, filter accounts or regions, or raise the budget in the datasource settings.", human_bytes(*.estimate), human_bytes(*.spent), human_bytes(*.budget))]
    Load {
        /// The query.
        ref_id: String,
        /// Its estimate, bytes.
        estimate: u64,
        /// What the load was already allowed, bytes.
        spent: u64,
        /// The budget, bytes.
        budget: u64,
    },
    /// Raw SQL that reads a Security Lake table without a partition predicate.
    #[error("query {ref_id} reads a Security Lake table without a partition predicate, so it would scan every day of every account and region; with a scan budget set it was not run. Add `AND $__partitionFilter` to its WHERE clause.")]
    Unpruned {
        /// The query.
        ref_id: String,
    },
    /// The partitions could not be sized.
    #[error("query {ref_id} reads {}, which the scan budget cannot size (it sizes this datasource's VPC flow, Security Hub findings, CloudTrail management and data event, Route 53 resolver, WAF and EKS audit tables); with a scan budget set it was not run. Read those tables through $__table, or ask an admin to remove the budget.", .tables.join(", "))]
    Unsized {
        /// The refId.
        ref_id: String,
        /// The tables it cannot size.
        tables: Vec<String>,
    },
    #[error("query {ref_id}: the scan budget could not be checked ({source})")]
    Estimate {
        /// The query.
        ref_id: String,
        /// Why.
        source: EngineError,
    },
}

impl BudgetError {
    /// Whose fault: the user's (a query or budget to change), or the plugin's.
    pub fn fault(&self) -> crate::engine::Fault {
        match self {
            BudgetError::Estimate { source, .. } => source.fault(),
            _ => crate::engine::Fault::User,
        }
    }
}

/// One engine query and the partitions it reads.
pub type EngineRun = (EngineRequest, PartitionFilter);

/// What one plan of a panel runs: its queries — one, or its day slices — and, for slices, the
/// plan run whole.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// The queries that will start.
    pub queries: Vec<EngineRun>,
    /// For day slices: the plan run whole. The slices count at most what it would read (their
    /// time ranges split the range; what they read beyond it is the first day's hours before
    /// the range, kept for the next loads).
    pub whole: Option<EngineRun>,
}

/// Checks the engine runs of one panel query against the budgets, before any of them starts;
/// returns their estimate (None: the engine cannot size its partitions, so nothing was checked).
/// Runs whose result is already cached count as zero.
pub async fn check(
    engine: &dyn Engine,
    budget: &ScanBudget,
    load: Option<LoadCharge<'_>>,
    ref_id: &str,
    runs: &[PlannedRun],
) -> Result<Option<ScanEstimate>, BudgetError> {
    let estimate = async |(request, partitions): &EngineRun| {
        engine
            .estimate(request, partitions)
            .await
            .map_err(|source| BudgetError::Estimate {
                ref_id: ref_id.to_string(),
                source,
            })
    };
    let mut total = ScanEstimate::default();
    for run in runs {
        let mut planned = ScanEstimate::default();
        for query in &run.queries {
            match estimate(query).await? {
                Some(e) => planned = planned + e,
                None => return Ok(None),
            }
        }
        if let (Some(whole), true) = (&run.whole, planned.bytes > 0) {
            match estimate(whole).await? {
                Some(e) if e.bytes < planned.bytes => planned = e,
                Some(_) => {}
                None => return Ok(None),
            }
        }
        total = total + planned;
    }
    if let Some(limit) = budget.per_query {
        if total.bytes > limit {
            return Err(BudgetError::Query {
                ref_id: ref_id.to_string(),
                estimate: total,
                budget: limit,
            });
        }
    }
    if let (Some(limit), Some(load)) = (budget.per_load, load) {
        load.ledger
            .charge(load.key, total.bytes, limit)
            .map_err(|spent| BudgetError::Load {
                ref_id: ref_id.to_string(),
                estimate: total.bytes,
                spent,
                budget: limit,
            })?;
    }
    Ok(Some(total))
}

/// Bytes in decimal units (`1.2 GB`).
pub fn human_bytes(bytes: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < units.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_is_charged_until_its_budget_is_spent() {
        let ledger = LoadLedger::default();
        assert_eq!(ledger.charge("a", 600, 1000), Ok(()));
        assert_eq!(ledger.charge("b", 600, 1000), Ok(()), "another load");
        assert_eq!(ledger.charge("a", 500, 1000), Err(600));
        assert_eq!(ledger.charge("a", 400, 1000), Ok(()));
        assert_eq!(ledger.charge("a", 1, 1000), Err(1000));
    }

    #[test]
    fn messages_say_the_estimate_the_budget_and_what_to_do() {
        let e = BudgetError::Query {
            ref_id: "A".into(),
            estimate: ScanEstimate {
                bytes: 1_234_567,
                files: 4,
                partitions: 2,
                sampled: None,
            },
            budget: 1_000_000,
        };
        assert_eq!(e.to_string(), "query A would scan up to 1.2 MB (4 files in 2 partition folders of region × account × day), over the datasource's per-query scan budget of 1.0 MB (scanBudgetQueryGb); it was not run. Narrow the time range, filter accounts or regions (they prune partitions), or raise the budget in the datasource settings.");
    }
}
