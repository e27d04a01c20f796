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

/// One query through the pipeline, owning what it needs so that it can outlive the request (an
/// async run) or run beside the request's other queries.
async fn panel_run(
    engine: Arc<CachedEngine>,
    settings: Settings,
    loads: Arc<LoadLedger>,
    load_key: String,
    q: pluginv2::DataQuery,
) -> Result<Vec<Frame>, QueryFailure> {
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

/// The frames as Grafana receives them.
fn encode(frames: &[Frame], ref_id: &str) -> Result<Vec<Vec<u8>>, QueryFailure> {
    frames
        .iter()
        .map(|f| encode_frame(f, ref_id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| QueryFailure::plugin(ref_id, e))
}

/// What every query of one QueryData request shares.
struct RequestScope {
    engine: Arc<CachedEngine>,
    settings: Settings,
    loads: Arc<LoadLedger>,
    /// The request comes from an alert rule or an expression: answered synchronously.
    server_side: bool,
    /// `datasource|dashboard`: every panel of a dashboard load asks one datasource for the same
    /// range (and Grafana names the dashboard when it can): one load for the per-load budget.
    load_prefix: String,
    /// [`async_flow::owner`] of the async runs.
    owner: String,
    context: Option<pluginv2::PluginContext>,
}

type Answer = tokio::task::JoinHandle<Result<Vec<Vec<u8>>, QueryFailure>>;

impl Service {
    /// Starts one query of a request: synchronously, or as an async run (docs/async-queries.md).
    fn start_query(&self, scope: &RequestScope, mut q: pluginv2::DataQuery) -> Answer {
        let envelope = async_flow::Envelope::parse(&q.json);
        let asynchronous = async_flow::answers_async(&envelope, scope.server_side, &scope.settings);
        q.json.clone_from(&envelope.json);
        let ref_id = q.ref_id.clone();
        let load_key = q.time_range.as_ref().map_or_else(String::new, |r| {
            format!(
                "{}|{}|{}",
                scope.load_prefix, r.from_epoch_ms, r.to_epoch_ms
            )
        });
        let key = async_flow::run_key(scope.context.as_ref(), &q);
        let run = panel_run(
            scope.engine.clone(),
            scope.settings.clone(),
            scope.loads.clone(),
            load_key,
            q,
        );
        if !asynchronous {
            return tokio::spawn(async move { encode(&run.await?, &ref_id) });
        }
        let (limits, wait) = async_flow::AsyncRequest::limits(&scope.settings);
        let ask = async_flow::AsyncRequest {
            ref_id: ref_id.clone(),
            owner: scope.owner.clone(),
            key,
            query_id: envelope.query_id,
            limits,
            wait,
        };
        let runs = self.runs.clone();
        tokio::spawn(async move {
            let frames = ask
                .answer(&runs, async move { run.await.map(Arc::new) })
                .await?;
            encode(&frames, &ref_id)
        })
    }
}

/// The response of one query.
fn response(
    ref_id: &str,
    answer: Result<Result<Vec<Vec<u8>>, QueryFailure>, tokio::task::JoinError>,
    from_alert: bool,
) -> pluginv2::DataResponse {
    match answer {
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
            ref_id,
            format!("the query stopped unexpectedly ({join}); this is a Lakewatch bug, please report it"),
        )),
    }
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
        let mut responses = HashMap::new();
        let mut settings = match Service::settings(request.plugin_context.as_ref()) {
            Ok(s) => s,
            Err(e) => return Ok(fail_all(&request.queries, Fault::User, &e)),
        };
        let engine = self
            .engine(request.plugin_context.as_ref(), &settings)
            .await;
        if let Err(e) = crate::pipeline::resolve_for_queries(engine.as_ref(), &mut settings).await {
            return Ok(fail_all(&request.queries, e.fault(), &e));
        }
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
        let scope = RequestScope {
            engine,
            settings,
            loads: self.loads.clone(),
            server_side: async_flow::from_server(&request.headers),
            load_prefix: format!("{datasource}|{dashboard}"),
            owner: async_flow::owner(request.plugin_context.as_ref()),
            context: request.plugin_context,
        };
        let answers: Vec<_> = request
            .queries
            .into_iter()
            .map(|q| (q.ref_id.clone(), self.start_query(&scope, q)))
            .collect();
        for (ref_id, answer) in answers {
            let r = response(&ref_id, answer.await, from_alert);
            responses.insert(ref_id, r);
        }
        Ok(tonic::Response::new(pluginv2::QueryDataResponse {
            responses,
        }))
    }
}
