//! Prometheus metrics and request logging for both listeners.
//!
//! One process-wide recorder (installed once, shared by every server a process starts, so
//! in-process tests can start several). Each request adds to `mayfly_http_requests_total` and
//! `mayfly_http_request_duration_seconds`, labelled by listener, method, route template and
//! status. Route labels are templates (`/client/v4/accounts/{account_id}/r2/buckets/{bucket_name}`),
//! never raw paths, so label cardinality stays bounded and no id or key becomes a label.
//!
//! The request log line has method, path (never the query string: presigned URLs carry
//! signatures and session tokens there), status and latency, and no header.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus handle, installing the recorder on first use. `None` if another
/// recorder was installed by someone else (then `/metrics` answers empty).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            metrics::describe_counter!(
                "mayfly_http_requests_total",
                "HTTP requests answered, by listener, method, route template and status."
            );
            metrics::describe_histogram!(
                "mayfly_http_request_duration_seconds",
                metrics::Unit::Seconds,
                "Time from request head to response head, by listener, method, route template and status."
            );
            metrics::describe_counter!(
                "mayfly_gc_passes_total",
                "Orphan-blob collection passes, by result (ok or error)."
            );
            metrics::describe_counter!(
                "mayfly_gc_orphans_deleted_total",
                "Orphan blobs (bytes no object or part references) deleted."
            );
            metrics::describe_counter!(
                "mayfly_lifecycle_passes_total",
                "Lifecycle sweeps, by result (ok or error)."
            );
            metrics::describe_counter!(
                "mayfly_lifecycle_objects_deleted_total",
                "Objects deleted because a bucket lifecycle rule expired them."
            );
            metrics::describe_counter!(
                "mayfly_lifecycle_uploads_aborted_total",
                "Incomplete multipart uploads aborted by a bucket lifecycle rule."
            );
            metrics::describe_counter!(
                "mayfly_audit_events_written_total",
                "Audit events written to the store."
            );
            metrics::describe_counter!(
                "mayfly_audit_events_dropped_total",
                "Audit events dropped because the writer's queue was full (requests never wait)."
            );
            metrics::describe_counter!(
                "mayfly_audit_events_failed_total",
                "Audit events lost because their batch could not be written."
            );
            metrics::describe_counter!(
                "mayfly_audit_events_purged_total",
                "Audit events deleted by the retention purge."
            );
            metrics::describe_histogram!(
                "mayfly_audit_batch_seconds",
                metrics::Unit::Seconds,
                "Time to write one batch of audit events."
            );
            Some(handle)
        })
        .as_ref()
}

/// Keeps histogram storage bounded; run it for the life of the process.
pub async fn upkeep_loop() {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        if let Some(h) = handle() {
            h.run_upkeep();
        }
    }
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn render() -> ([(&'static str, &'static str); 1], String) {
    let body = handle().map(PrometheusHandle::render).unwrap_or_default();
    ([("content-type", "text/plain; version=0.0.4")], body)
}

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The Cloudflare v4 API listener.
    Api,
    /// The S3 listener.
    S3,
}

impl Listener {
    fn as_str(self) -> &'static str {
        match self {
            Listener::Api => "api",
            Listener::S3 => "s3",
        }
    }
}

/// The route template of an API path; `other` for anything unrecognised.
pub fn api_route(path: &str) -> &'static str {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match segs.as_slice() {
        ["healthz"] => "/healthz",
        ["metrics"] => "/metrics",
        ["client", "v4", "user", "tokens", "verify"] => "/client/v4/user/tokens/verify",
        ["client", "v4", "accounts", _, rest @ ..] => match rest {
            ["r2", "temp-access-credentials"] => {
                "/client/v4/accounts/{account_id}/r2/temp-access-credentials"
            }
            ["r2", "buckets"] => "/client/v4/accounts/{account_id}/r2/buckets",
            ["r2", "buckets", _] => "/client/v4/accounts/{account_id}/r2/buckets/{bucket_name}",
            ["tokens"] => "/client/v4/accounts/{account_id}/tokens",
            ["tokens", "verify"] => "/client/v4/accounts/{account_id}/tokens/verify",
            ["tokens", "permission_groups"] => {
                "/client/v4/accounts/{account_id}/tokens/permission_groups"
            }
            ["tokens", _] => "/client/v4/accounts/{account_id}/tokens/{token_id}",
            _ => "other",
        },
        _ => "other",
    }
}

/// The S3 route class: service, bucket or object level (keys never become labels).
fn s3_route(path: &str) -> &'static str {
    match path.trim_start_matches('/').split_once('/') {
        None if path.trim_start_matches('/').is_empty() => "/",
        None => "/{bucket}",
        Some((_, "")) => "/{bucket}",
        Some(_) => "/{bucket}/{key}",
    }
}

/// Middleware: count and time every request on `listener`, and log those of the API (the S3
/// router writes its own line per request, with its request id and the reason of a refusal).
pub async fn track(State(listener): State<Listener>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    // Path only: the query string can hold presigned signatures and session tokens.
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    let route = match listener {
        Listener::Api => api_route(&path),
        Listener::S3 => s3_route(&path),
    };
    let labels = [
        ("listener", listener.as_str().to_owned()),
        ("method", method.as_str().to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("mayfly_http_requests_total", &labels).increment(1);
    metrics::histogram!("mayfly_http_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
    if listener == Listener::S3 {
        return response;
    }
    tracing::info!(
        target: "mayfly::http",
        listener = listener.as_str(),
        method = %method,
        path = %path,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_map_to_templates_without_ids() {
        let a = "023e105f4ecef8ad9ca31a8372d0c353";
        assert_eq!(
            api_route(&format!("/client/v4/accounts/{a}/r2/buckets/photos")),
            "/client/v4/accounts/{account_id}/r2/buckets/{bucket_name}"
        );
        assert_eq!(
            api_route(&format!(
                "/client/v4/accounts/{a}/r2/temp-access-credentials"
            )),
            "/client/v4/accounts/{account_id}/r2/temp-access-credentials"
        );
        assert_eq!(api_route("/healthz"), "/healthz");
        assert_eq!(api_route("/etc/passwd"), "other");
    }

    #[test]
    fn s3_paths_never_label_keys() {
        assert_eq!(s3_route("/"), "/");
        assert_eq!(s3_route("/bucket"), "/{bucket}");
        assert_eq!(s3_route("/bucket/"), "/{bucket}");
        assert_eq!(s3_route("/bucket/secret/key.txt"), "/{bucket}/{key}");
    }
}
