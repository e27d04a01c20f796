//! CheckHealth: is the configured lake/engine usable, and if not, what to do.

use grafana_plugin_sdk::pluginv2::{
    self, check_health_response::HealthStatus, diagnostics_server::Diagnostics,
};

use super::Service;

#[tonic::async_trait]
impl Diagnostics for Service {
    async fn check_health(
        &self,
        request: tonic::Request<pluginv2::CheckHealthRequest>,
    ) -> Result<tonic::Response<pluginv2::CheckHealthResponse>, tonic::Status> {
        let request = request.into_inner();
        let (status, message) = match Service::settings(request.plugin_context.as_ref()) {
            Err(e) => (HealthStatus::Error, e.to_string()),
            Ok(settings) => match self.engine(&settings).await.check().await {
                Ok(found) => (
                    HealthStatus::Ok,
                    format!(
                        "Lakewatch is ready: {found}; source version {}, tables in {}",
                        settings.source_version, settings.home_region
                    ),
                ),
                Err(e) => (HealthStatus::Error, e.to_string()),
            },
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
