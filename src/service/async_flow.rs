//! The server side of `@grafana/async-query-data`'s protocol (docs/async-queries.md): which
//! queries may be answered "still running", what names their run, and the `meta.custom`
//! `{queryID, status}` the browser polls on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use grafana_plugin_sdk::pluginv2;
use serde_json::{json, Value};

use crate::frame::Frame;
use crate::pipeline::QueryFailure;
use crate::runs::{RunLimits, RunState, RunView, Runs};
use crate::settings::{EngineChoice, Settings};

/// What a panel run ends with: its frames, or why it failed.
pub(super) type PanelResult = Result<Arc<Vec<Frame>>, QueryFailure>;

/// The async fields of a query JSON, taken out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Envelope {
    /// `queryID`: the run a poll asks about.
    pub query_id: Option<String>,
    /// `meta.queryFlow` is `"async"`: the caller polls.
    pub polls: bool,
    /// The query JSON without `queryID` and `meta`, as the pipeline reads it.
    pub json: Vec<u8>,
}

impl Envelope {
    /// Takes the async fields out of a query JSON. JSON that does not parse is left as it is
    /// (the pipeline reports it). The rest is written back with its keys sorted (serde_json's
    /// map without `preserve_order`), so a poll whose fields come in another order names the
    /// same run.
    pub fn parse(json: &[u8]) -> Envelope {
        let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(json) else {
            return Envelope {
                query_id: None,
                polls: false,
                json: json.to_vec(),
            };
        };
        let query_id = match obj.remove("queryID") {
            Some(Value::String(id)) if !id.is_empty() => Some(id),
            _ => None,
        };
        let polls = obj
            .remove("meta")
            .is_some_and(|m| m.get("queryFlow") == Some(&json!("async")));
        Envelope {
            query_id,
            polls,
            json: serde_json::to_vec(&obj).unwrap_or_else(|_| json.to_vec()),
        }
    }
}

/// The request comes from inside Grafana's server (an alert rule, or a server-side expression):
/// nobody there polls, so it is answered synchronously.
pub(super) fn from_server(headers: &HashMap<String, String>) -> bool {
    // Grafana sets these headers only on such requests: present is enough (as its own
    // async datasources check them).
    headers.iter().any(|(k, v)| {
        let k = k.to_ascii_lowercase();
        matches!(
            k.as_str(),
            "fromalert" | "x-grafana-from-expr" | "http_x-grafana-from-expr"
        ) && !v.is_empty()
            && v != "false"
    })
}

/// Whether this query of this request is answered asynchronously.
pub(super) fn answers_async(envelope: &Envelope, server_side: bool, settings: &Settings) -> bool {
    envelope.polls
        && !server_side
        && settings.async_queries.enabled
        && matches!(settings.engine, EngineChoice::Athena(_))
}

/// Who a run belongs to: the datasource instance (org and uid). Polls and cancels of another
/// datasource never see it.
pub(super) fn owner(context: Option<&pluginv2::PluginContext>) -> String {
    context.map_or_else(String::new, |c| {
        let uid = c
            .data_source_instance_settings
            .as_ref()
            .map_or("", |ds| ds.uid.as_str());
        format!("{}/{uid}", c.org_id)
    })
}

/// What makes two requests the same run: the datasource's settings version and the query as
/// the pipeline sees it (refId, JSON without the async fields, range, interval, points).
pub(super) fn run_key(
    context: Option<&pluginv2::PluginContext>,
    query: &pluginv2::DataQuery,
) -> String {
    let version = context
        .and_then(|c| c.data_source_instance_settings.as_ref())
        .map_or(0, |ds| ds.last_updated_ms);
    let (from, to) = query
        .time_range
        .as_ref()
        .map_or((0, 0), |r| (r.from_epoch_ms, r.to_epoch_ms));
    format!(
        "{version}|{}|{from}|{to}|{}|{}|{}",
        query.ref_id,
        query.interval_ms,
        query.max_data_points,
        String::from_utf8_lossy(&query.json)
    )
}

/// One async request: which run it asks about and how long it may wait.
pub(super) struct AsyncRequest {
    /// refId, for errors.
    pub ref_id: String,
    /// [`owner`].
    pub owner: String,
    /// [`run_key`].
    pub key: String,
    /// The `queryID` of a poll.
    pub query_id: Option<String>,
    /// The datasource's limits.
    pub limits: RunLimits,
    /// How long to wait for the run before answering "running".
    pub wait: Duration,
}

impl AsyncRequest {
    /// The request's limits from the datasource settings.
    pub fn limits(settings: &Settings) -> (RunLimits, Duration) {
        let a = settings.async_queries;
        (
            RunLimits {
                max_runs: a.max_runs,
                keep: Duration::from_secs(a.keep_s),
            },
            Duration::from_secs(a.wait_s),
        )
    }

    /// Answers the poll's run, or joins or starts `run`; waits up to the request's wait. A
    /// `queryID` this plugin no longer holds (expired, or the plugin restarted) starts the query
    /// again under a new id instead of failing the panel.
    pub async fn answer<F>(
        self,
        runs: &Runs<PanelResult>,
        run: F,
    ) -> Result<Vec<Frame>, QueryFailure>
    where
        F: std::future::Future<Output = PanelResult> + Send + 'static,
    {
        let polled = match &self.query_id {
            Some(id) => runs.wait(&self.owner, &self.key, id, self.wait).await,
            None => None,
        };
        let view = match polled {
            Some(view) => view,
            None => {
                let id = runs
                    .start_or_join(&self.owner, &self.key, self.limits, run)
                    .map_err(|e| QueryFailure::user(&self.ref_id, e))?;
                runs.wait(&self.owner, &self.key, &id, self.wait)
                    .await
                    .unwrap_or(RunView {
                        id,
                        state: RunState::Running,
                    })
            }
        };
        match view.state {
            RunState::Running => Ok(vec![status_frame(&view.id, "running")]),
            RunState::Canceled => Ok(vec![status_frame(&view.id, "canceled")]),
            RunState::Done(Ok(frames)) => Ok(with_status(frames.to_vec(), &view.id, "finished")),
            RunState::Done(Err(failure)) => Err(failure),
        }
    }
}

/// A frame with no fields that carries only `meta.custom {queryID, status}`.
fn status_frame(id: &str, status: &str) -> Frame {
    with_status(Vec::new(), id, status).remove(0)
}

/// The frames with `meta.custom {queryID, status}` on the first (the one the browser reads);
/// a frame is added when there is none.
fn with_status(mut frames: Vec<Frame>, id: &str, status: &str) -> Vec<Frame> {
    if frames.is_empty() {
        frames.push(Frame::new("", Vec::new()));
    }
    let custom = &mut frames[0].meta.custom;
    custom.insert("queryID".into(), json!(id));
    custom.insert("status".into(), json!(status));
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_async_fields_are_taken_out_of_the_query() {
        let e = Envelope::parse(
            br#"{"kind":"flow_volume","queryID":"lw-1","meta":{"queryFlow":"async"},"refId":"A"}"#,
        );
        assert_eq!(e.query_id.as_deref(), Some("lw-1"));
        assert!(e.polls);
        let rest: Value = serde_json::from_slice(&e.json).unwrap();
        assert_eq!(rest, json!({"kind": "flow_volume", "refId": "A"}));
        let sync = Envelope::parse(br#"{"kind":"flow_volume","meta":{"queryFlow":"sync"}}"#);
        assert!(!sync.polls);
        assert_eq!(sync.query_id, None);
        assert_eq!(Envelope::parse(b"not json").json, b"not json");
    }

    #[test]
    fn a_poll_names_the_same_run_as_the_first_request_whatever_the_field_order() {
        // The frontend's poll is the first target plus `queryID`, its fields in another order.
        let first = Envelope::parse(
            br#"{"refId":"A","kind":"flow_volume","meta":{"queryFlow":"async"},"intervalMs":60000}"#,
        );
        let poll = Envelope::parse(
            br#"{"refId":"A","queryID":"lw-1","kind":"flow_volume","intervalMs":60000,"meta":{"queryFlow":"async"}}"#,
        );
        assert_eq!(
            String::from_utf8(first.json).unwrap(),
            String::from_utf8(poll.json).unwrap()
        );
    }

    #[test]
    fn alert_rules_and_expressions_come_from_the_server() {
        let h = |k: &str, v: &str| HashMap::from([(k.to_string(), v.to_string())]);
        assert!(from_server(&h("FromAlert", "true")));
        assert!(from_server(&h("X-Grafana-From-Expr", "true")));
        assert!(from_server(&h("http_X-Grafana-From-Expr", "true")));
        assert!(!from_server(&h("X-Dashboard-Uid", "abc")));
        assert!(!from_server(&h("FromAlert", "false")));
    }

    #[test]
    fn only_polling_browser_queries_on_athena_answer_async() {
        let athena = Settings::from_json(&json!({"engine": "athena"})).unwrap();
        let local = Settings::from_json(&json!({"engine": "local"})).unwrap();
        let off = Settings::from_json(&json!({"engine": "athena", "asyncQueries": false})).unwrap();
        let polls = Envelope::parse(br#"{"meta":{"queryFlow":"async"}}"#);
        let waits = Envelope::parse(br#"{}"#);
        assert!(answers_async(&polls, false, &athena));
        assert!(!answers_async(&polls, true, &athena));
        assert!(!answers_async(&waits, false, &athena));
        assert!(!answers_async(&polls, false, &local));
        assert!(!answers_async(&polls, false, &off));
    }

    #[test]
    fn the_status_rides_on_the_first_frame() {
        let frames = with_status(
            vec![Frame::new("a", Vec::new()), Frame::new("b", Vec::new())],
            "lw-1",
            "finished",
        );
        assert_eq!(
            frames[0].meta.to_json(),
            json!({"custom": {"queryID": "lw-1", "status": "finished"}})
        );
        assert!(frames[1].meta.custom.is_empty());
        assert_eq!(status_frame("lw-2", "running").fields.len(), 0);
    }
}
