//! The plugin's gRPC services, as Grafana calls them: `data.rs` (QueryData) and
//! `diagnostics.rs` (CheckHealth). [`serve`] prints the go-plugin handshake and serves them.

mod data;
mod diagnostics;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use grafana_plugin_sdk::pluginv2::{
    data_server::DataServer, diagnostics_server::DiagnosticsServer, PluginContext,
};
use tokio_stream::wrappers::TcpListenerStream;
use tracing_subscriber::prelude::*;

use crate::engine::local::LocalEngine;
use crate::engine::Engine;
use crate::settings::{EngineChoice, Settings, SettingsError};

/// The plugin: settings per datasource instance and one engine per configured lake.
#[derive(Clone, Default)]
pub struct Service {
    engines: Arc<Mutex<HashMap<PathBuf, Arc<LocalEngine>>>>,
}

impl Service {
    /// A service with no engines yet (they are made on first use).
    pub fn new() -> Self {
        Service::default()
    }

    /// The datasource settings in a request's plugin context.
    fn settings(context: Option<&PluginContext>) -> Result<Settings, SettingsError> {
        match context.and_then(|c| c.data_source_instance_settings.as_ref()) {
            Some(ds) => Settings::from_json_bytes(&ds.json_data),
            None => Ok(Settings::default()),
        }
    }

    /// The engine for a datasource's settings.
    fn engine(&self, settings: &Settings) -> Arc<dyn Engine> {
        match &settings.engine {
            EngineChoice::Local { lake_path } => {
                let mut engines = self
                    .engines
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                engines
                    .entry(lake_path.clone())
                    .or_insert_with(|| Arc::new(LocalEngine::new(lake_path.clone())))
                    .clone()
            }
        }
    }
}

/// Runs the plugin: binds 127.0.0.1, prints the handshake line on stdout (nothing else ever goes
/// there), logs to stderr in Grafana's format, and serves until SIGTERM or Ctrl-C.
pub async fn serve() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(grafana_plugin_sdk::backend::layer())
        .with(filter)
        .try_init();
    let listener = grafana_plugin_sdk::backend::initialize().await?;
    let service = Service::new();
    let (mut reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<DataServer<Service>>().await;
    reporter.set_serving::<DiagnosticsServer<Service>>().await;
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
        .add_service(DiagnosticsServer::new(service))
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
