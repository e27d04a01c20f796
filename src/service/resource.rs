//! CallResource: `stats` — what this datasource's queries cost and what the cache saved
//! (queries run, shared in flight, cache hits, evictions, bytes scanned and billed, cost) — and
//! `cancel`, which stops an async query (`POST {"queryId": …}`, docs/async-queries.md).

use std::pin::Pin;

use grafana_plugin_sdk::pluginv2::{self, resource_server::Resource};
use serde_json::json;

use super::Service;
use crate::engine::Engine;

type Answer = Pin<
    Box<
        dyn tokio_stream::Stream<Item = Result<pluginv2::CallResourceResponse, tonic::Status>>
            + Send,
    >,
>;

fn answer(code: i32, body: serde_json::Value) -> tonic::Response<Answer> {
    let mut headers = std::collections::HashMap::new();
    headers.insert(
        "Content-Type".to_string(),
        pluginv2::StringList {
            values: vec!["application/json".to_string()],
        },
    );
    let response = pluginv2::CallResourceResponse {
        code,
        headers,
        body: body.to_string().into_bytes().into(),
    };
    tonic::Response::new(Box::pin(tokio_stream::once(Ok(response))))
}

impl Service {
    /// `POST cancel` `{"queryId": …}`: stops that async query of this datasource.
    fn cancel(&self, request: &pluginv2::CallResourceRequest) -> (i32, serde_json::Value) {
        if !request.method.eq_ignore_ascii_case("POST") {
            return (
                405,
                json!({"error": "cancel takes a POST with the body {\"queryId\": \"…\"}"}),
            );
        }
        let id = serde_json::from_slice::<serde_json::Value>(&request.body)
            .ok()
            .and_then(|b| {
                b.get("queryId")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .filter(|id| !id.is_empty());
        let Some(id) = id else {
            return (
                400,
                json!({"error": "cancel needs the body {\"queryId\": \"…\"} naming the query to stop"}),
            );
        };
        let owner = super::async_flow::owner(request.plugin_context.as_ref());
        if self.runs.cancel(&owner, &id) {
            tracing::info!(query_id = %id, "async query canceled");
            (
                200,
                json!({"message": format!("the query {id} was canceled")}),
            )
        } else {
            (
                404,
                json!({"error": format!("no query {id} is held for this datasource; it finished long ago, was canceled, or the plugin restarted")}),
            )
        }
    }
}

#[tonic::async_trait]
impl Resource for Service {
    type CallResourceStream = Answer;

    async fn call_resource(
        &self,
        request: tonic::Request<pluginv2::CallResourceRequest>,
    ) -> Result<tonic::Response<Answer>, tonic::Status> {
        let request = request.into_inner();
        let path = request.path.trim_matches('/');
        if path == "cancel" {
            let (code, body) = self.cancel(&request);
            return Ok(answer(code, body));
        }
        if path == "kinds" {
            // The query kinds with their fields and defaults, for an editor that builds queries
            // without a copy of its own (the same list as frontend/src/kinds.json, plus the
            // variable kind).
            return Ok(answer(200, json!(crate::query::kinds::specs())));
        }
        if path != "stats" {
            return Ok(answer(
                404,
                json!({"error": format!("no resource {path:?}; the datasource serves: stats, cancel, kinds")}),
            ));
        }
        let settings = match Service::settings(request.plugin_context.as_ref()) {
            Ok(s) => s,
            Err(e) => return Ok(answer(400, json!({"error": e.to_string()}))),
        };
        let engine = self
            .engine(request.plugin_context.as_ref(), &settings)
            .await;
        let mut stats = engine.stats().snapshot();
        let billed = stats["billedBytes"].as_u64().unwrap_or(0);
        stats["engine"] = json!(engine.name());
        stats["costUsd"] =
            json!(billed as f64 / 1e12 * settings.price_per_tb_cents() as f64 / 100.0);
        Ok(answer(200, stats))
    }
}
