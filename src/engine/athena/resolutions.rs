//! Discovery's answers (where the Security Lake tables are, or why none were found), kept for a
//! while: every panel of a dashboard asks, and each answer costs Glue calls.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::api::AthenaApi;
use crate::lake::discovery::{self, DiscoveryError, Resolution, Wanted};

/// How long an answer that Glue holds no tables (or not the named database) is reused: every
/// panel of a dashboard would otherwise list and search the databases again.
const NOT_FOUND_TTL: Duration = Duration::from_secs(60);

/// How long a resolution (database, tables, version) is reused before Glue is asked again (the
/// health check always asks again).
const CATALOG_TTL: Duration = Duration::from_secs(600);

/// What discovery answered: where the tables are, or why they were not found.
type Resolved = Result<Resolution, DiscoveryError>;

/// Resolutions by what was asked (settings names, region, version), each with its time.
#[derive(Default)]
pub(super) struct Resolutions(tokio::sync::Mutex<HashMap<String, (Instant, Resolved)>>);

impl Resolutions {
    /// The kept answer to `wanted` while it is fresh and no refresh is asked for; else asks
    /// Glue (through `api`) and keeps the answer, unless a Glue call failed.
    pub(super) async fn resolve(
        &self,
        api: &dyn AthenaApi,
        wanted: Wanted<'_>,
    ) -> Result<Option<Resolution>, DiscoveryError> {
        let key = format!(
            "{:?} {} {:?}",
            wanted.names, wanted.home_region, wanted.version
        );
        let mut cache = self.0.lock().await;
        if let Some((at, answer)) = cache.get(&key) {
            let ttl = match answer {
                Ok(_) => CATALOG_TTL,
                Err(_) => NOT_FOUND_TTL,
            };
            if !wanted.refresh && at.elapsed() < ttl {
                return answer.clone().map(Some);
            }
        }
        let answer = discovery::resolve(api, wanted).await;
        // A failed Glue call is not kept: the next request asks again.
        if !matches!(answer, Err(DiscoveryError::Engine(_))) {
            cache.insert(key, (Instant::now(), answer.clone()));
        }
        answer.map(Some)
    }
}
