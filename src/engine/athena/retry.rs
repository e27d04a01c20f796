//! When a query runs again: transient failures, how often and after what pause, and the
//! idempotency token that keeps one run from being started (and billed) twice.

use std::time::Duration;

use crate::engine::EngineError;

/// How many times a query runs again after a transient failure.
pub(super) const MAX_RETRIES: u32 = 3;

/// The pause before the first retry; each next one waits four times longer.
pub(super) const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Failures that another run may not meet: Athena's or S3's throttling, and a query Athena
/// failed for want of resources. Anything else (a missing table, a syntax error, denied access)
/// fails at once.
pub(super) fn is_transient(e: &EngineError) -> bool {
    const BUSY: [&str; 5] = [
        "ThrottlingException",
        "TooManyRequestsException",
        "Rate exceeded",
        "SlowDown",
        "exhausted resources",
    ];
    match e {
        EngineError::Aws { message, .. } => BUSY.iter().any(|b| message.contains(b)),
        EngineError::QueryFailed { reason } => BUSY.iter().any(|b| reason.contains(b)),
        _ => false,
    }
}

/// A 32-hex-digit idempotency token for a query: the same SQL within the same minute gets the
/// same token, so a retried StartQueryExecution does not run (and bill) the query twice, while a
/// refresh a minute later runs it again.
pub(super) fn request_token(sql: &str, minute: i64) -> String {
    let fnv = |seed: u64| {
        let mut h = seed;
        for b in sql.bytes().chain(minute.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        h
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

/// The token of run number `run` of a query (0: the first). Each run again needs a token of
/// its own: the first one's would return the failed execution.
pub(super) fn run_token(sql: &str, minute: i64, run: u32) -> String {
    match run {
        0 => request_token(sql, minute),
        n => request_token(&format!("{sql}\n{n}"), minute),
    }
}
