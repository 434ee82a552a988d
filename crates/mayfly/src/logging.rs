//! Structured logging with `tracing`: text or one JSON object per line, always on stderr so
//! that stdout carries only what a person or a script asked for (bootstrap credentials, URLs,
//! command output). The filter comes from `MAYFLY_LOG` (then `RUST_LOG`), default `info`.
//!
//! Secrets never reach these logs: request logging in [`crate::metrics`] records method, path
//! (never the query string, which carries presigned signatures and session tokens), status and
//! latency, and no header.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Directives added after the user's filter, so no `MAYFLY_LOG` can lift them:
/// `tokio_postgres::query` logs every statement's parameters at DEBUG, and those include token
/// secrets (found by the adversarial suite's log scan against a PostgreSQL cluster).
const CAPS: &[&str] = &["tokio_postgres::query=info"];

/// Installs the global subscriber. Safe to call more than once (later calls are ignored), so
/// in-process tests can start several servers.
pub fn init(format: LogFormat) {
    let mut filter = std::env::var("MAYFLY_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    for cap in CAPS {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init` fails only when a subscriber is already set, which is fine.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}
