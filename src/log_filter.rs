//! What may reach a log. The AWS SDK and the HTTP stack under it log resolved credentials
//! (access key ids), signed request headers and session tokens in their debug and trace events;
//! those events never pass, whatever `RUST_LOG` asks for. Lakewatch's own events and the
//! dependencies' info, warnings and errors pass as the filter says.

use tracing::Level;
use tracing_subscriber::filter::FilterFn;

/// Targets whose events above INFO can carry credentials.
const CREDENTIAL_TARGETS: [&str; 6] = ["aws_", "hyper", "h2", "rustls", "tower", "reqwest"];

/// Whether an event of `target` at `level` may be logged.
pub fn may_log(target: &str, level: &Level) -> bool {
    *level <= Level::INFO || !CREDENTIAL_TARGETS.iter().any(|t| target.starts_with(t))
}

/// A per-layer filter applying [`may_log`].
pub fn no_credentials() -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool> {
    FilterFn::new(|meta: &tracing::Metadata<'_>| may_log(meta.target(), meta.level()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_debug_and_trace_never_pass_lakewatch_debug_does() {
        assert!(!may_log(
            "aws_config::default_provider::credentials",
            &Level::DEBUG
        ));
        assert!(!may_log(
            "aws_smithy_runtime::client::orchestrator",
            &Level::TRACE
        ));
        assert!(!may_log("hyper_util::client::legacy", &Level::DEBUG));
        assert!(may_log("aws_config::profile", &Level::WARN));
        assert!(may_log("lakewatch::pipeline", &Level::TRACE));
    }
}
