//! Coverage's second query: the VPCs that Security Hub's EC2.6 findings know of, so that a VPC
//! which never sent a flow record is listed as silent instead of missing. It reads the findings
//! table, so the scan budget sizes it with the panel's own jobs before anything runs.

use arrow::array::{Array, ArrayRef, StringArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::budget::PlannedRun;
use crate::engine::{Engine, EngineRequest};
use crate::frame::Notice;
use crate::plan::PartitionFilter;
use crate::query::{
    ComplianceScope, ComplianceStatus, ControlId, Coverage, Dimension, FlowFilters, PanelQuery,
    StatusView, DEFAULT_CONTROL,
};
use crate::settings::Settings;
use crate::sql::{self, Dialect};

use super::parse::scoped_plan;
use super::Prepared;

/// The findings query of a coverage panel, and the partitions it reads.
pub(super) struct Enrichment {
    request: EngineRequest,
    partitions: PartitionFilter,
}

impl Enrichment {
    /// What the scan budget sizes: the one findings query, never sliced.
    pub fn planned_run(&self) -> PlannedRun {
        PlannedRun {
            queries: vec![(self.request.clone(), self.partitions.clone())],
            whole: None,
        }
    }
}

/// For coverage by account × region × VPC with no flow-only filters: the query of the latest
/// state of each EC2.6 finding updated in the same look-back window (archived ones left out).
/// None when it does not apply, or the datasource's scope leaves it nothing to read.
pub(super) fn plan(
    settings: &Settings,
    prepared: &Prepared,
    ref_id: &str,
    dialect: Dialect,
) -> Option<Enrichment> {
    let PanelQuery::Coverage {
        query: coverage, ..
    } = &prepared.query
    else {
        return None;
    };
    let query = findings_query(settings, coverage)?;
    // Within the datasource's scope too; a findings table it may not read adds nothing.
    let plan = scoped_plan(settings, &query, &prepared.window).ok()?;
    Some(Enrichment {
        request: EngineRequest {
            ref_id: ref_id.to_string(),
            sql: sql::render(&plan, dialect),
            tables: vec![plan.table.clone()],
            settled: false,
            row_limit: None,
        },
        partitions: plan.partitions,
    })
}

/// The EC2.6 status query over the coverage panel's accounts, regions and VPCs; None when the
/// panel groups otherwise or filters flows in ways findings cannot follow.
fn findings_query(settings: &Settings, coverage: &Coverage) -> Option<PanelQuery> {
    let f = &coverage.filters;
    let scope_only = FlowFilters {
        accounts: f.accounts.clone(),
        regions: f.regions.clone(),
        vpcs: f.vpcs.clone(),
        ..FlowFilters::default()
    } == *f;
    if coverage.group_by != [Dimension::Account, Dimension::Region, Dimension::Vpc] || !scope_only {
        return None;
    }
    Some(PanelQuery::ComplianceStatus(ComplianceStatus {
        scope: ComplianceScope {
            controls: vec![ControlId::parse(DEFAULT_CONTROL).ok()?],
            accounts: f.accounts.clone(),
            regions: f.regions.clone(),
            vpcs: f.vpcs.clone(),
            lookback_days: Some(coverage.lookback_days.unwrap_or(settings.lookback_days)),
        },
        statuses: Vec::new(),
        view: StatusView::Table,
        limit: 10_000,
    }))
}

/// Runs the lookup: None when there is none; Some(Err) with the notice to show when the findings
/// could not be read (the panel then lists only VPCs that sent flow records); else the
/// (account, region, VPC) rows the findings name.
pub(super) async fn vpcs_in_findings(
    engine: &dyn Engine,
    enrichment: Option<&Enrichment>,
) -> Option<Result<Vec<Vec<String>>, Notice>> {
    let output = match engine.run(&enrichment?.request).await {
        Ok(output) => output,
        Err(e) => {
            return Some(Err(Notice {
                severity: "info",
                text: format!("Only VPCs that sent flow records are listed: the Security Hub findings could not be read ({e})."),
            }));
        }
    };
    Some(Ok(output.batches.iter().flat_map(vpc_rows).collect()))
}

/// The (account, region, resource) rows of a findings batch that name all three.
fn vpc_rows(batch: &RecordBatch) -> Vec<Vec<String>> {
    let text = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
    };
    let (Some(a), Some(r), Some(v)) = (text("account"), text("region"), text("resource")) else {
        return Vec::new();
    };
    let as_str = |c: &ArrayRef, i: usize| {
        c.as_any()
            .downcast_ref::<StringArray>()
            .filter(|s| !s.is_null(i))
            .map(|s| s.value(i).to_string())
    };
    (0..batch.num_rows())
        .filter_map(|i| match (as_str(&a, i), as_str(&r, i), as_str(&v, i)) {
            (Some(a), Some(r), Some(v)) => Some(vec![a, r, v]),
            _ => None,
        })
        .collect()
}
