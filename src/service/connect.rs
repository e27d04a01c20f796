//! The engine factory: a datasource's engine setting becomes a running engine. It lives with the
//! service, above both the settings and the engines, so the engines need not know the settings.

use std::sync::Arc;

use crate::engine::{athena, local, Engine};
use crate::settings::EngineChoice;

/// The engine a datasource's engine setting asks for.
pub async fn connect_engine(choice: &EngineChoice) -> Arc<dyn Engine> {
    match choice {
        EngineChoice::Local {
            lake_path,
            memory_mb,
            listing_cache_entries,
        } => Arc::new(local::LocalEngine::with_limits(
            lake_path.clone(),
            memory_mb << 20,
            *listing_cache_entries,
        )),
        EngineChoice::Athena(a) => {
            Arc::new(athena::AthenaEngine::connect(a.as_ref().clone()).await)
        }
    }
}
