//! CheckHealth: is the configured lake/engine usable, and if not, what to do.

use grafana_plugin_sdk::pluginv2::{
    self, check_health_response::HealthStatus, diagnostics_server::Diagnostics,
};

use super::Service;
use crate::pipeline::health;

#[tonic::async_trait]
impl Diagnostics for Service {
    async fn check_health(
        &self,
        request: tonic::Request<pluginv2::CheckHealthRequest>,
    ) -> Result<tonic::Response<pluginv2::CheckHealthResponse>, tonic::Status> {
        let request = request.into_inner();
        let (status, message) = match Service::settings(request.plugin_context.as_ref()) {
            Err(e) => (HealthStatus::Error, e.to_string()),
            Ok(settings) => {
                let engine = self
                    .engine(request.plugin_context.as_ref(), &settings)
                    .await;
                match health(engine.as_ref(), settings).await {
                    Ok(found) => (HealthStatus::Ok, found),
                    Err(message) => (HealthStatus::Error, message),
                }
            }
        };
        Ok(tonic::Response::new(pluginv2::CheckHealthResponse {
            status: status as i32,
            message,
            json_details: Vec::new(),
        }))
    }

    async fn collect_metrics(
        &self,
        _request: tonic::Request<pluginv2::CollectMetricsRequest>,
    ) -> Result<tonic::Response<pluginv2::CollectMetricsResponse>, tonic::Status> {
        Ok(tonic::Response::new(pluginv2::CollectMetricsResponse {
            metrics: None,
        }))
    }
}
