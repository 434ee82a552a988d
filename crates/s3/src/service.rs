//! The axum router: request id and log line, body idle timeout, guard, quiet logging,
//! task-local context, then s3s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, Request, StatusCode};
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::{S3Service, S3ServiceBuilder};
use tracing::instrument::WithSubscriber;

use crate::access::Gate;
use crate::auth::Authenticator;
use crate::cors;
use crate::error::error_response;
use crate::guard;
use crate::host::HostParser;
use crate::idle::IdleTimeout;
use crate::logs::{self, Outcome, QuietDispatch, RequestLog};
use crate::ops::Mayfly;
use crate::state::S3State;

/// AWS's request id header; the same id is in every error body and in the log line.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amz-request-id");

struct Shared {
    state: S3State,
    s3: S3Service,
    quiet: QuietDispatch,
}

/// Builds the S3 endpoint. Every path is S3; serve it on the S3 listener.
pub fn router(state: S3State) -> axum::Router {
    let mut builder = S3ServiceBuilder::new(Mayfly {
        state: state.clone(),
    });
    builder.set_auth(Authenticator {
        state: state.clone(),
    });
    builder.set_access(Gate);
    builder.set_host(HostParser {
        hosts: state.hosts.clone(),
    });
    let mut config = S3Config::default();
    config.xml_max_body_size = state.limits.max_xml_body;
    config.presigned_url_max_skew_time_secs = 900;
    // Browser-form POST is refused by the guard; keep s3s's form buffers small regardless.
    config.post_object_max_file_size = 0;
    config.form_max_field_size = 16 * 1024;
    config.form_max_fields_size = 64 * 1024;
    config.form_max_parts = 16;
    builder.set_config(Arc::new(StaticConfigProvider::new(Arc::new(config))));
    let shared = Arc::new(Shared {
        state,
        s3: builder.build(),
        quiet: QuietDispatch::default(),
    });
    axum::Router::new().fallback(move |req: Request<Body>| {
        let shared = Arc::clone(&shared);
        async move { handle(shared, req).await }
    })
}

async fn handle(shared: Arc<Shared>, req: Request<Body>) -> Response {
    let dispatch = shared.quiet.get();
    let log = Arc::new(RequestLog::new());
    let method = req.method().clone();
    // The path only: the query may carry X-Amz-Signature or X-Amz-Security-Token.
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let request_bytes = request_body_bytes(&req);
    let timed_out = Arc::new(AtomicBool::new(false));
    let req = match shared.state.body_idle_timeout {
        Some(limit) => req.map(|b| Body::new(IdleTimeout::new(b, limit, Arc::clone(&timed_out)))),
        None => req,
    };
    async move {
        // Preflights are answered from the bucket's CORS rules before the guard; every other
        // answer gets the CORS headers a matching rule allows.
        let outer = Arc::clone(&shared);
        let resp = Arc::clone(&log)
            .scope(cors::around(&outer.state, req, move |req| {
                serve(shared, req)
            }))
            .await;
        let resp = if timed_out.load(Ordering::Relaxed) {
            logs::note_reason("no request body data within the body idle timeout");
            let mut resp = error_response(crate::error::request_timeout());
            // The rest of the body may never come: do not wait for it on this connection.
            resp.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            resp
        } else {
            resp
        };
        finish(
            resp,
            &log,
            &outer.state,
            &method,
            &path,
            started,
            request_bytes,
        )
        .await
    }
    .with_subscriber(dispatch)
    .await
}

async fn serve(shared: Arc<Shared>, req: Request<Body>) -> Response {
    let (ctx, req) = match guard::check(&shared.state, req) {
        Ok(x) => x,
        Err(e) => return error_response(e),
    };
    let req = match guard::check_small_body(&shared.state, req).await {
        Ok(r) => r,
        Err(e) => return error_response(e),
    };
    let ctx = Arc::new(ctx);
    let mut svc = shared.s3.clone();
    let result = ctx.scope(tower::Service::call(&mut svc, req)).await;
    match result {
        Ok(resp) => resp.map(Body::new),
        Err(e) => {
            tracing::error!(error = ?e, "s3 service failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Largest error body read back to add the request id (s3s's are a few hundred bytes).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Stamps the request id on the response (header, and `<RequestId>` in an error body) and
/// writes the request's one log line.
async fn finish(
    mut resp: Response,
    log: &RequestLog,
    state: &crate::S3State,
    method: &http::Method,
    path: &str,
    started: std::time::Instant,
    request_bytes: Option<u64>,
) -> Response {
    let id = log.id().to_owned();
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    let status = resp.status();
    if status.as_u16() < 400 {
        // A read's bytes are the body sent; a write's the body received.
        let bytes = if *method == http::Method::GET {
            content_length(resp.headers())
        } else {
            request_bytes
        };
        log.emit(
            method,
            path,
            &Outcome {
                status,
                code: None,
                message: None,
                started,
                bytes,
                audit: &state.audit,
                clock: &state.clock,
            },
        );
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let code = xml_text(&text, "Code");
    let message = xml_text(&text, "Message");
    log.emit(
        method,
        path,
        &Outcome {
            status,
            code: code.as_deref(),
            message: message.as_deref(),
            started,
            bytes: None,
            audit: &state.audit,
            clock: &state.clock,
        },
    );
    let body = match text.find("</Error>") {
        Some(end) if !text.contains("<RequestId>") => {
            let mut out = String::with_capacity(text.len() + 48);
            out.push_str(&text[..end]);
            out.push_str("<RequestId>");
            out.push_str(&id);
            out.push_str("</RequestId>");
            out.push_str(&text[end..]);
            parts.headers.remove(http::header::CONTENT_LENGTH);
            Body::from(out)
        }
        Some(_) | None => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}

/// A `Content-Length` header's value.
fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The payload size a write announces (aws-chunked bodies announce the decoded size), for the
/// audit trail; `None` for bodiless methods.
fn request_body_bytes(req: &Request<Body>) -> Option<u64> {
    if !matches!(*req.method(), http::Method::PUT | http::Method::POST) {
        return None;
    }
    req.headers()
        .get("x-amz-decoded-content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .or_else(|| content_length(req.headers()))
}

/// The text of the first `<tag>` element of an S3 error body, capped for the log.
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find("</")?;
    let mut text: String = body[start..start + len].chars().take(200).collect();
    text.retain(|c| !c.is_control());
    Some(text)
}
