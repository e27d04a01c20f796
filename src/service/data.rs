//! QueryData: every query of a request runs concurrently and fails alone.

use std::collections::HashMap;

use chrono::DateTime;
use grafana_plugin_sdk::pluginv2::{self, data_server::Data};

use super::Service;
use crate::budget::LoadCharge;
use crate::engine::Fault;
use crate::frame::encode_frame;
use crate::pipeline::{run_panel, PanelRequest, QueryFailure};

/// HTTP-style status Grafana shows for a failure.
fn status(fault: Fault) -> i32 {
    match fault {
        Fault::User => 400,
        Fault::Plugin => 500,
    }
}

fn failure_response(failure: &QueryFailure) -> pluginv2::DataResponse {
    pluginv2::DataResponse {
        frames: Vec::new(),
        error: failure.message.clone(),
        json_meta: Vec::new(),
        status: status(failure.fault),
    }
}

/// The same failure for every query of a request.
fn fail_all(
    queries: &[pluginv2::DataQuery],
    fault: Fault,
    message: &dyn std::fmt::Display,
) -> tonic::Response<pluginv2::QueryDataResponse> {
    let responses = queries
        .iter()
        .map(|q| {
            let failure = QueryFailure {
                ref_id: q.ref_id.clone(),
                fault,
                message: message.to_string(),
            };
            (q.ref_id.clone(), failure_response(&failure))
        })
        .collect();
    tonic::Response::new(pluginv2::QueryDataResponse { responses })
}

#[tonic::async_trait]
impl Data for Service {
    async fn query_data(
        &self,
        request: tonic::Request<pluginv2::QueryDataRequest>,
    ) -> Result<tonic::Response<pluginv2::QueryDataResponse>, tonic::Status> {
        let request = request.into_inner();
        let from_alert = request
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("FromAlert") && v == "true");
        let settings = Service::settings(request.plugin_context.as_ref());
        let mut responses = HashMap::new();
        let settings = match settings {
            Ok(s) => s,
            Err(e) => return Ok(fail_all(&request.queries, Fault::User, &e)),
        };
        let engine = self
            .engine(request.plugin_context.as_ref(), &settings)
            .await;
        // Every panel of a dashboard load asks one datasource for the same range (and Grafana
        // names the dashboard when it can): that is one load for the per-load scan budget.
        let datasource = request
            .plugin_context
            .as_ref()
            .and_then(|c| c.data_source_instance_settings.as_ref())
            .map_or_else(String::new, |ds| ds.uid.clone());
        let dashboard = request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("X-Dashboard-Uid"))
            .map_or_else(String::new, |(_, v)| v.clone());
        let mut settings = settings;
        if let Err(e) = crate::pipeline::resolve_for_queries(engine.as_ref(), &mut settings).await {
            return Ok(fail_all(&request.queries, e.fault(), &e));
        }
        let tasks: Vec<_> = request
            .queries
            .into_iter()
            .map(|q| {
                let engine = engine.clone();
                let settings = settings.clone();
                let loads = self.loads.clone();
                let load_key = q.time_range.as_ref().map_or_else(String::new, |r| {
                    format!(
                        "{datasource}|{dashboard}|{}|{}",
                        r.from_epoch_ms, r.to_epoch_ms
                    )
                });
                let ref_id = q.ref_id.clone();
                let task = tokio::spawn(async move {
                    let Some(range) = q.time_range else {
                        return Err(QueryFailure::user(
                            &q.ref_id,
                            "the query has no time range; Grafana sends one with every panel query",
                        ));
                    };
                    let (Some(from), Some(to)) = (
                        DateTime::from_timestamp_millis(range.from_epoch_ms),
                        DateTime::from_timestamp_millis(range.to_epoch_ms),
                    ) else {
                        return Err(QueryFailure::user(
                            &q.ref_id,
                            "the time range is out of bounds",
                        ));
                    };
                    let panel = PanelRequest {
                        ref_id: &q.ref_id,
                        json: &q.json,
                        from,
                        to,
                        interval_ms: q.interval_ms,
                        max_data_points: q.max_data_points,
                    };
                    let load = LoadCharge {
                        ledger: &loads,
                        key: &load_key,
                    };
                    let frames = run_panel(engine.as_ref(), &settings, &panel, Some(load)).await?;
                    frames
                        .iter()
                        .map(|f| encode_frame(f, &q.ref_id))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| QueryFailure::plugin(&q.ref_id, e))
                });
                (ref_id, task)
            })
            .collect();
        for (ref_id, task) in tasks {
            let response = match task.await {
                Ok(Ok(frames)) => pluginv2::DataResponse {
                    frames,
                    error: String::new(),
                    json_meta: Vec::new(),
                    status: 200,
                },
                Ok(Err(failure)) => {
                    tracing::warn!(ref_id = %failure.ref_id, from_alert, fault = ?failure.fault, error = %failure.message, "query failed");
                    failure_response(&failure)
                }
                Err(join) => failure_response(&QueryFailure::plugin(
                    &ref_id,
                    format!("the query stopped unexpectedly ({join}); this is a Lakewatch bug, please report it"),
                )),
            };
            responses.insert(ref_id, response);
        }
        Ok(tonic::Response::new(pluginv2::QueryDataResponse {
            responses,
        }))
    }
}
