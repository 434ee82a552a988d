//! The axum router: guard, quiet logging, task-local context, then s3s.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{Request, StatusCode};
use s3s::S3Error;
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::{S3Service, S3ServiceBuilder};
use tracing::instrument::WithSubscriber;

use crate::access::Gate;
use crate::auth::Authenticator;
use crate::cors;
use crate::guard;
use crate::host::HostParser;
use crate::logs::QuietDispatch;
use crate::ops::Mayfly;
use crate::state::S3State;

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
    let outer = Arc::clone(&shared);
    // Preflights are answered from the bucket's CORS rules before the guard; every other
    // answer gets the CORS headers a matching rule allows.
    cors::around(&outer.state, req, move |req| serve(shared, req))
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

pub(crate) fn error_response(e: S3Error) -> Response {
    match e.to_http_response() {
        Ok(resp) => resp.map(Body::new),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
