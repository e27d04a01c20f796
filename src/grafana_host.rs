//! The Grafana side of the plugin protocol: launch the plugin executable with Grafana's
//! environment, read its go-plugin handshake line, and call it over gRPC. The demo and the
//! end-to-end tests use this to talk to the real `gpx_lakewatch` binary.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use grafana_plugin_sdk::pluginv2::{
    self, data_client::DataClient, diagnostics_client::DiagnosticsClient,
    resource_client::ResourceClient,
};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::frame::{decode_frames, DecodedFrame};

/// Plugin id in `plugin.json`.
pub const PLUGIN_ID: &str = "lakewatch-securitylake-datasource";

/// Failures of the host side.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The executable could not be started.
    #[error("could not start the plugin {path}: {source}")]
    Spawn {
        /// Executable.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The handshake line was missing or malformed.
    #[error("the plugin did not print a valid handshake line (got {0:?})")]
    Handshake(String),
    /// gRPC failed.
    #[error("gRPC call failed: {0}")]
    Grpc(String),
    /// A frame could not be decoded.
    #[error("frame decoding failed: {0}")]
    Frame(String),
}

/// The settings member whose string members a test host sends as `secureJsonData`.
pub const SECURE_KEY: &str = "$secure";

/// A running plugin process.
pub struct PluginProcess {
    child: Child,
    /// `127.0.0.1:<port>` from the handshake.
    pub address: String,
    /// The handshake line as printed.
    pub handshake: String,
}

/// A query as the host sends it.
#[derive(Debug, Clone)]
pub struct HostQuery {
    /// refId.
    pub ref_id: String,
    /// Query JSON.
    pub json: Vec<u8>,
    /// Range start, epoch ms.
    pub from_ms: i64,
    /// Range end, epoch ms.
    pub to_ms: i64,
    /// `intervalMs`.
    pub interval_ms: i64,
    /// `maxDataPoints`.
    pub max_data_points: i64,
}

/// One query's answer, frames decoded.
#[derive(Debug, Clone)]
pub struct HostResponse {
    /// Decoded frames.
    pub frames: Vec<DecodedFrame>,
    /// The frames as sent: Arrow IPC files, for readers that check the wire itself.
    pub raw_frames: Vec<Vec<u8>>,
    /// Error text (empty on success).
    pub error: String,
    /// Status code.
    pub status: i32,
}

impl PluginProcess {
    /// Starts `exe` (with `args`) as Grafana does and waits for its handshake.
    /// Plugin logs (stderr) go to `log` when given, else they are discarded.
    pub async fn launch(exe: &Path, args: &[&str], log: Option<&Path>) -> Result<Self, HostError> {
        let stderr = match log {
            Some(path) => std::fs::File::create(path)
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
            None => Stdio::null(),
        };
        let mut child = Command::new(exe)
            .args(args)
            .env("grafana_plugin_type", "datasource")
            .env("PLUGIN_PROTOCOL_VERSIONS", "2")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("GF_VERSION", "11.3.0")
            .env("GF_PLUGIN_APP_CLIENT_ID", PLUGIN_ID)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| HostError::Spawn {
                path: exe.display().to_string(),
                source,
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| HostError::Handshake("no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .map_err(|_| HostError::Handshake("nothing within 60 s".into()))?
            .map_err(|e| HostError::Handshake(e.to_string()))?
            .ok_or_else(|| HostError::Handshake("stdout closed".into()))?;
        let parts: Vec<&str> = line.trim().split('|').collect();
        let address = match parts.as_slice() {
            ["1", "2", "tcp", addr, "grpc"] => addr.to_string(),
            _ => return Err(HostError::Handshake(line)),
        };
        // Anything else the plugin prints on stdout would break go-plugin: keep draining it.
        tokio::spawn(async move {
            while let Ok(Some(extra)) = lines.next_line().await {
                tracing::error!(line = %extra, "plugin wrote to stdout after the handshake");
            }
        });
        Ok(PluginProcess {
            child,
            address,
            handshake: line,
        })
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The plugin context for datasource settings: `jsonData`, with the members of a
    /// [`SECURE_KEY`] object sent as decrypted `secureJsonData` (as Grafana sends them).
    fn context(settings: &Value) -> pluginv2::PluginContext {
        let mut json = settings.clone();
        let secure: std::collections::HashMap<String, String> = json
            .as_object_mut()
            .and_then(|o| o.remove(SECURE_KEY))
            .and_then(|v| v.as_object().cloned())
            .map(|o| {
                o.into_iter()
                    .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        pluginv2::PluginContext {
            org_id: 1,
            plugin_id: PLUGIN_ID.to_string(),
            data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
                id: 1,
                uid: "lakewatch-demo".to_string(),
                name: "Lakewatch".to_string(),
                json_data: serde_json::to_vec(&json).unwrap_or_default(),
                decrypted_secure_json_data: secure,
                last_updated_ms: 1,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// QueryData with these datasource settings (`jsonData`) and headers.
    pub async fn query(
        &self,
        settings: &Value,
        queries: &[HostQuery],
        headers: &[(&str, &str)],
    ) -> Result<HashMap<String, HostResponse>, HostError> {
        let mut client = DataClient::connect(self.endpoint())
            .await
            .map_err(|e| HostError::Grpc(e.to_string()))?
            .max_decoding_message_size(256 << 20);
        let request = pluginv2::QueryDataRequest {
            plugin_context: Some(Self::context(settings)),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            queries: queries
                .iter()
                .map(|q| pluginv2::DataQuery {
                    ref_id: q.ref_id.clone(),
                    max_data_points: q.max_data_points,
                    interval_ms: q.interval_ms,
                    time_range: Some(pluginv2::TimeRange {
                        from_epoch_ms: q.from_ms,
                        to_epoch_ms: q.to_ms,
                    }),
                    json: q.json.clone(),
                    query_type: String::new(),
                })
                .collect(),
        };
        let response = client
            .query_data(request)
            .await
            .map_err(|e| HostError::Grpc(e.to_string()))?
            .into_inner();
        let mut out = HashMap::new();
        for (ref_id, r) in response.responses {
            let frames = r
                .frames
                .iter()
                .map(|bytes| decode_frames(bytes).map_err(|e| HostError::Frame(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            out.insert(
                ref_id,
                HostResponse {
                    frames,
                    raw_frames: r.frames,
                    error: r.error,
                    status: r.status,
                },
            );
        }
        Ok(out)
    }

    /// CheckHealth with these settings: (status 1 ok / 2 error, message).
    pub async fn check_health(&self, settings: &Value) -> Result<(i32, String), HostError> {
        let mut client = DiagnosticsClient::connect(self.endpoint())
            .await
            .map_err(|e| HostError::Grpc(e.to_string()))?;
        let r = client
            .check_health(pluginv2::CheckHealthRequest {
                plugin_context: Some(Self::context(settings)),
                headers: HashMap::new(),
            })
            .await
            .map_err(|e| HostError::Grpc(e.to_string()))?
            .into_inner();
        Ok((r.status, r.message))
    }

    /// CallResource GET with these settings: (HTTP status, body as JSON).
    pub async fn call_resource(
        &self,
        settings: &Value,
        path: &str,
    ) -> Result<(i32, Value), HostError> {
        self.resource(settings, "GET", path, Vec::new()).await
    }

    /// CallResource POST of a JSON body, as the frontend's `postResource` sends it:
    /// (HTTP status, body as JSON).
    pub async fn post_resource(
        &self,
        settings: &Value,
        path: &str,
        body: &Value,
    ) -> Result<(i32, Value), HostError> {
        let body = serde_json::to_vec(body).map_err(|e| HostError::Frame(e.to_string()))?;
        self.resource(settings, "POST", path, body).await
    }

    async fn resource(
        &self,
        settings: &Value,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(i32, Value), HostError> {
        let mut client = ResourceClient::connect(self.endpoint())
            .await
            .map_err(|e| HostError::Grpc(e.to_string()))?;
        let mut stream = client
            .call_resource(pluginv2::CallResourceRequest {
                plugin_context: Some(Self::context(settings)),
                path: path.to_string(),
                method: method.to_string(),
                url: path.to_string(),
                headers: HashMap::new(),
                body: body.into(),
            })
            .await
            .map_err(|e| HostError::Grpc(e.to_string()))?
            .into_inner();
        let mut code = 0;
        let mut body = Vec::new();
        while let Some(part) = stream
            .message()
            .await
            .map_err(|e| HostError::Grpc(e.to_string()))?
        {
            if code == 0 {
                code = part.code;
            }
            body.extend_from_slice(&part.body);
        }
        let body = serde_json::from_slice(&body).map_err(|e| HostError::Frame(e.to_string()))?;
        Ok((code, body))
    }

    /// The plugin's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the plugin.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}
