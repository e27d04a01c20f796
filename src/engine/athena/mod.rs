//! The Athena engine: StartQueryExecution with an idempotency token, polling with backoff, a
//! stop when the panel's request goes away or the query outlives its timeout, GetQueryResults
//! page by page, and Athena's typed columns decoded straight into Arrow arrays.
//!
//! The AWS calls sit behind the `AthenaApi` trait (`api.rs`) so that what the API server used
//! in tests cannot produce (FAILED queries, several result pages) is tested with a fake too.
//!
//! - `api.rs`: the calls the engine makes, and what they answer;
//! - `client.rs`: the SDK clients making them (Athena and STS), and SDK errors as
//!   [`EngineError`]s; `glue.rs`: the Glue calls; `s3_tree.rs`: S3 prefixes as folders for
//!   scan estimates; `result_object.rs`: the download of a query's CSV result object;
//! - `run.rs`: one query from start to rows; `retry.rs`: when it runs again;
//! - `decode.rs` (with `datetime.rs`): result cells → Arrow;
//! - `health.rs`: CheckHealth; `resolutions.rs`: discovery's answers, kept a while;
//! - `organizations.rs`: account names from AWS Organizations.

mod api;
mod client;
mod datetime;
mod decode;
mod glue;
mod health;
mod organizations;
mod resolutions;
mod result_object;
mod retry;
mod run;
mod s3_tree;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

pub use api::PAGE_ROWS;
pub use decode::{decode, Cells};

use api::AthenaApi;
use client::SdkAthena;
use organizations::OrganizationNames;
use resolutions::Resolutions;
use retry::RETRY_PAUSE;

use crate::engine::{Engine, EngineError, EngineRequest, QueryOutput, ATHENA_MIN_BILLED_BYTES};
use crate::frame::account_names::AccountNames;
use crate::lake::discovery::{DiscoveryError, Resolution, Wanted};
use crate::lake::estimate::{self, ScanEstimate};
use crate::plan::{PartitionFilter, TableRef};
use crate::settings::AthenaSettings;
use crate::sql::Dialect;

/// The Athena engine.
pub struct AthenaEngine {
    api: Arc<dyn AthenaApi>,
    settings: AthenaSettings,
    /// Discovery's answers, kept a while.
    resolutions: Resolutions,
    /// The pause before the first retry ([`RETRY_PAUSE`]; shorter in tests).
    retry_pause: Duration,
    /// Account names from AWS Organizations, when the settings ask for them.
    organization: Option<OrganizationNames>,
}

impl AthenaEngine {
    /// An engine over an API.
    pub(crate) fn new(api: Arc<dyn AthenaApi>, settings: AthenaSettings) -> Self {
        AthenaEngine {
            api,
            settings,
            resolutions: Resolutions::default(),
            retry_pause: RETRY_PAUSE,
            organization: None,
        }
    }

    /// An engine with the real SDK client for the settings.
    pub async fn connect(settings: AthenaSettings) -> Self {
        let config = crate::aws::sdk_config(&settings).await;
        let organization = settings
            .organization_account_names
            .then(|| OrganizationNames::new(&config));
        AthenaEngine {
            organization,
            ..AthenaEngine::new(
                Arc::new(SdkAthena::new(&config, settings.clone())),
                settings,
            )
        }
    }
}

#[async_trait::async_trait]
impl Engine for AthenaEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Athena
    }

    /// The size of the files under the tables' Glue storage locations that the partitions
    /// admit; None when a table has no S3 location.
    async fn estimate(
        &self,
        request: &EngineRequest,
        partitions: &PartitionFilter,
    ) -> Result<Option<ScanEstimate>, EngineError> {
        let mut roots = Vec::new();
        for table in &request.tables {
            match self
                .api
                .table_location(&table.database(), &table.table())
                .await?
            {
                Some(location) => roots.push(location),
                None => return Ok(None),
            }
        }
        estimate::estimate_all(self.api.as_ref(), &roots, partitions).await
    }

    fn name(&self) -> &'static str {
        "athena"
    }

    fn min_billed_bytes(&self) -> u64 {
        ATHENA_MIN_BILLED_BYTES
    }

    async fn run(&self, request: &EngineRequest) -> Result<QueryOutput, EngineError> {
        self.run_query(request).await
    }

    async fn check(&self, tables: &[TableRef]) -> Result<String, EngineError> {
        self.health(tables).await
    }

    async fn resolve(&self, wanted: Wanted<'_>) -> Result<Option<Resolution>, DiscoveryError> {
        self.resolutions.resolve(self.api.as_ref(), wanted).await
    }

    async fn account_names(&self) -> AccountNames {
        match &self.organization {
            Some(organization) => organization.names().await,
            None => AccountNames::new(),
        }
    }
}
