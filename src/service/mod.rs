//! The plugin's gRPC services, as Grafana calls them: `data.rs` (QueryData) and
//! `diagnostics.rs` (CheckHealth), `resource.rs` (CallResource). [`serve`] prints the go-plugin handshake and serves them.

mod async_flow;
mod connect;
mod data;
mod diagnostics;
mod resource;

use std::collections::HashMap;
use std::sync::Arc;

use grafana_plugin_sdk::pluginv2::{
    data_server::DataServer, diagnostics_server::DiagnosticsServer,
    resource_server::ResourceServer, PluginContext,
};
use tokio_stream::wrappers::TcpListenerStream;
use tracing_subscriber::prelude::*;

pub use connect::connect_engine;

use crate::cache::CachedEngine;
use crate::settings::{EngineChoice, Settings, SettingsError};

/// The plugin: settings per datasource instance and one engine per engine configuration (a lake
/// folder, or an Athena region/workgroup/credentials set).
#[derive(Clone, Default)]
pub struct Service {
    engines: Arc<tokio::sync::Mutex<Engines>>,
    /// What each dashboard load was allowed to scan (the per-load scan budget).
    loads: Arc<crate::budget::LoadLedger>,
    /// Panel runs answered asynchronously, polled by their queryID (docs/async-queries.md).
    runs: Arc<crate::runs::Runs<async_flow::PanelResult>>,
}

impl Service {
    /// A service with no engines yet (they are made on first use).
    pub fn new() -> Self {
        Service::default()
    }

    /// The datasource settings in a request's plugin context.
    fn settings(context: Option<&PluginContext>) -> Result<Settings, SettingsError> {
        match context.and_then(|c| c.data_source_instance_settings.as_ref()) {
            Some(ds) => Settings::from_json_bytes(&ds.json_data, &ds.decrypted_secure_json_data),
            None => Ok(Settings::default()),
        }
    }

    /// The engine for a datasource's settings (made on first use, then shared by the instances
    /// configured alike). When an instance's settings change, the engine it used is released
    /// unless another instance still uses it: edits do not pile up engines and their caches.
    async fn engine(
        &self,
        context: Option<&PluginContext>,
        settings: &Settings,
    ) -> Arc<CachedEngine> {
        let policy = settings.cache_policy();
        let key = match &settings.engine {
            EngineChoice::Local {
                lake_path,
                memory_mb,
                listing_cache_entries,
            } => format!(
                "local:{} memory:{memory_mb} listings:{listing_cache_entries}",
                lake_path.display()
            ),
            EngineChoice::Athena(a) => format!("athena:{}", a.identity()),
        } + &format!(" cache:{policy:?}");
        let instance = context.and_then(|c| {
            c.data_source_instance_settings
                .as_ref()
                .map(|ds| (c.org_id, ds.uid.clone()))
        });
        let mut engines = self.engines.lock().await;
        if let Some(instance) = instance {
            engines.assign(instance, &key);
        }
        if let Some(engine) = engines.by_key.get(&key) {
            return engine.clone();
        }
        let engine = Arc::new(CachedEngine::new(
            connect_engine(&settings.engine).await,
            policy,
        ));
        engines.by_key.insert(key, engine.clone());
        engine
    }
}

/// The engines in use: one per engine configuration, and which one each datasource instance
/// (org, uid) uses now.
#[derive(Default)]
struct Engines {
    by_key: HashMap<String, Arc<CachedEngine>>,
    by_instance: HashMap<(i64, String), String>,
}

impl Engines {
    /// Records that `instance` now uses the engine `key`, releasing the one it used before when
    /// no other instance uses it.
    fn assign(&mut self, instance: (i64, String), key: &str) {
        let Some(before) = self.by_instance.insert(instance, key.to_string()) else {
            return;
        };
        if before != key && !self.by_instance.values().any(|k| *k == before) {
            self.by_key.remove(&before);
        }
    }
}

/// Runs the plugin: binds 127.0.0.1, prints the handshake line on stdout (nothing else ever goes
/// there), logs to stderr in Grafana's format, and serves until SIGTERM or Ctrl-C.
pub async fn serve() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(
            grafana_plugin_sdk::backend::layer()
                .with_filter(filter)
                .with_filter(crate::log_filter::no_credentials()),
        )
        .try_init();
    let listener = grafana_plugin_sdk::backend::initialize().await?;
    let service = Service::new();
    let (mut reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<DataServer<Service>>().await;
    reporter.set_serving::<DiagnosticsServer<Service>>().await;
    reporter.set_serving::<ResourceServer<Service>>().await;
    reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "lakewatch plugin serving"
    );
    tonic::transport::Server::builder()
        .add_service(health)
        .add_service(DataServer::new(service.clone()))
        .add_service(DiagnosticsServer::new(service.clone()))
        .add_service(ResourceServer::new(service))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grafana_plugin_sdk::pluginv2::DataSourceInstanceSettings;

    fn context(uid: &str) -> PluginContext {
        PluginContext {
            org_id: 1,
            data_source_instance_settings: Some(DataSourceInstanceSettings {
                uid: uid.to_string(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn settings(max_mb: u64) -> Settings {
        Settings::from_json(&serde_json::json!({"lakePath": "/lake", "cacheMaxMb": max_mb}))
            .unwrap()
    }

    #[tokio::test]
    async fn settings_edits_release_the_engines_they_replace() {
        let service = Service::new();
        let a = context("a");
        for edit in 1..=100 {
            service.engine(Some(&a), &settings(edit)).await;
        }
        assert_eq!(service.engines.lock().await.by_key.len(), 1);
        // Two instances configured alike share one engine; it stays while one still uses it.
        let b = context("b");
        let shared = service.engine(Some(&b), &settings(100)).await;
        assert!(Arc::ptr_eq(
            &shared,
            &service.engine(Some(&a), &settings(100)).await
        ));
        service.engine(Some(&a), &settings(7)).await;
        let engines = service.engines.lock().await;
        assert_eq!(engines.by_key.len(), 2);
        assert!(engines.by_key.values().any(|e| Arc::ptr_eq(e, &shared)));
    }
}
