//! QueryData: every query of a request runs concurrently and fails alone.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::DateTime;
use grafana_plugin_sdk::pluginv2::{self, data_server::Data};

use super::{async_flow, Service};
use crate::budget::LoadCharge;
use crate::budget::LoadLedger;
use crate::cache::CachedEngine;
use crate::engine::Fault;
use crate::frame::{encode_frame, Frame};
use crate::pipeline::{run_panel, PanelRequest, QueryFailure};
use crate::settings::Settings;

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

/// One query through the pipeline, owning what it needs so that it can outlive the request (an
/// async run) or run beside the request's other queries.
fn panel_run(
    engine: Arc<CachedEngine>,
    settings: Settings,
    loads: Arc<LoadLedger>,
    load_key: String,
    q: pluginv2::DataQuery,
) -> impl std::future::Future<Output = Result<Vec<Frame>, QueryFailure>> + Send + 'static {
    async move {
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
        run_panel(engine.as_ref(), &settings, &panel, Some(load)).await
    }
}

/// The frames as Grafana receives them.
fn encode(frames: &[Frame], ref_id: &str) -> Result<Vec<Vec<u8>>, QueryFailure> {
    frames
        .iter()
        .map(|f| encode_frame(f, ref_id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| QueryFailure::plugin(ref_id, e))
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
            Err(e) => {
                for q in &request.queries {
                    let failure = QueryFailure::user(&q.ref_id, &e);
                    responses.insert(q.ref_id.clone(), failure_response(&failure));
                }
                return Ok(tonic::Response::new(pluginv2::QueryDataResponse {
                    responses,
                }));
            }
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
        crate::pipeline::resolve_source_version(engine.as_ref(), &mut settings).await;
        let server_side = async_flow::from_server(&request.headers);
        let context = request.plugin_context.as_ref();
        let owner = async_flow::owner(context);
        let tasks: Vec<_> = request
            .queries
            .into_iter()
            .map(|mut q| {
                let envelope = async_flow::Envelope::parse(&q.json);
                let asynchronous = async_flow::answers_async(&envelope, server_side, &settings);
                q.json.clone_from(&envelope.json);
                let ref_id = q.ref_id.clone();
                let load_key = q.time_range.as_ref().map_or_else(String::new, |r| {
                    format!(
                        "{datasource}|{dashboard}|{}|{}",
                        r.from_epoch_ms, r.to_epoch_ms
                    )
                });
                let answer = if asynchronous {
                    let (limits, wait) = async_flow::AsyncRequest::limits(&settings);
                    let ask = async_flow::AsyncRequest {
                        ref_id: ref_id.clone(),
                        owner: owner.clone(),
                        key: async_flow::run_key(context, &q),
                        query_id: envelope.query_id,
                        limits,
                        wait,
                    };
                    let run = panel_run(
                        engine.clone(),
                        settings.clone(),
                        self.loads.clone(),
                        load_key,
                        q,
                    );
                    let runs = self.runs.clone();
                    let ref_id = ref_id.clone();
                    tokio::spawn(async move {
                        let frames = ask
                            .answer(&runs, async move { run.await.map(Arc::new) })
                            .await?;
                        encode(&frames, &ref_id)
                    })
                } else {
                    let run = panel_run(
                        engine.clone(),
                        settings.clone(),
                        self.loads.clone(),
                        load_key,
                        q,
                    );
                    let ref_id = ref_id.clone();
                    tokio::spawn(async move { encode(&run.await?, &ref_id) })
                };
                (ref_id, answer)
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
