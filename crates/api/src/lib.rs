//! # mayfly-api
//!
//! Mayfly's Cloudflare API v4 surface on axum: R2 temporary access credentials, R2 buckets
//! and R2 API tokens, under `/client/v4`, in the shapes the official Cloudflare SDKs send and
//! expect (every answer is the v4 envelope; every error is non-2xx).
//!
//! What it is not: no S3 (that is `mayfly-s3`), no storage (it sees only
//! `Arc<dyn mayfly_store::MetadataStore>`), no token cryptography (minting goes through
//! `mayfly_core::mint`), no listener (the binary serves the router and mounts `/healthz` and
//! `/metrics` beside it).
//!
//! Routes (all under `/client/v4`):
//!
//! | method | path | source |
//! |--------|------|--------|
//! | POST | `/accounts/{account_id}/r2/temp-access-credentials` | `src/credentials.rs` |
//! | GET, POST | `/accounts/{account_id}/r2/buckets` | `src/buckets.rs` |
//! | GET, PATCH, DELETE | `/accounts/{account_id}/r2/buckets/{bucket_name}` | `src/buckets.rs` |
//! | GET, PUT, DELETE | `/accounts/{account_id}/r2/buckets/{bucket_name}/cors` | `src/cors.rs` |
//! | GET, POST | `/accounts/{account_id}/tokens` | `src/tokens.rs` |
//! | GET | `/accounts/{account_id}/tokens/verify`, `/user/tokens/verify` | `src/tokens.rs` |
//! | GET | `/accounts/{account_id}/tokens/permission_groups` | `src/tokens.rs` |
//! | GET, DELETE | `/accounts/{account_id}/tokens/{token_id}` | `src/tokens.rs` |
//! | POST | `/mayfly/accounts` (only with [`ApiConfig::with_testing_api`]) | `src/testing.rs` |
//! | GET | `/mayfly/accounts/{account_id}/audit` (Mayfly extension; [`ApiState::with_audit`]) | `src/audit.rs` |
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn mayfly_store::MetadataStore>) -> std::io::Result<()> {
//! use mayfly_api::{ApiConfig, ApiState, router};
//! use mayfly_store::Clock;
//!
//! let state = ApiState::new(store, Clock::system(), ApiConfig::new("127.0.0.1:9000"));
//! let app = router(state);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod auth;
mod body;
mod buckets;
mod cors;
mod credentials;
mod envelope;
mod error;
mod lifecycle;
mod policies;
mod testing;
pub mod time;
mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mayfly_store::{AuditSink, AuditStore, Clock, MetadataStore};

use crate::error::{ApiError, NotFound};

/// Settings the API needs from the binary's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The S3 endpoint host (`host` or `host:port`) minted credentials are for: the `aud`
    /// claim. The configured public host if there is one, else the S3 listen address.
    audience: String,
    /// Whether the testing API (`src/testing.rs`) is mounted.
    testing_api: bool,
}

impl ApiConfig {
    /// `s3_audience`: the S3 endpoint host temporary credentials are bound to (`aud`).
    pub fn new(s3_audience: impl Into<String>) -> Self {
        Self {
            audience: s3_audience.into(),
            testing_api: false,
        }
    }

    /// Mounts (or not) the testing API: `POST /client/v4/mayfly/accounts` creates a fresh
    /// account with its own admin token. For throwaway test servers only (`mayfly serve
    /// --ephemeral`); off by default, and then the path answers 404 like any unknown route.
    pub fn with_testing_api(mut self, on: bool) -> Self {
        self.testing_api = on;
        self
    }

    /// The `aud` host.
    pub fn audience(&self) -> &str {
        &self.audience
    }
}

/// Everything handlers share: the metadata store, the clock, the configuration.
#[derive(Clone)]
pub struct ApiState {
    store: Arc<dyn MetadataStore>,
    clock: Clock,
    config: Arc<ApiConfig>,
    /// Where management events go (issue 15); disabled unless [`ApiState::with_audit`].
    audit: AuditSink,
    /// Where the audit endpoint reads; without one the endpoint answers 404.
    audit_store: Option<Arc<dyn AuditStore>>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("clock", &self.clock)
            .field("config", &self.config)
            .finish()
    }
}

impl ApiState {
    /// Bundles the store, the clock the API reads, and the configuration.
    pub fn new(store: Arc<dyn MetadataStore>, clock: Clock, config: ApiConfig) -> Self {
        Self {
            store,
            clock,
            config: Arc::new(config),
            audit: AuditSink::disabled(),
            audit_store: None,
        }
    }

    /// The audit trail (a Mayfly extension): management handlers record mints, token and
    /// bucket changes into `sink` (a disabled sink records nothing), and
    /// `GET /client/v4/mayfly/accounts/{account_id}/audit` reads `store`.
    #[must_use]
    pub fn with_audit(mut self, sink: AuditSink, store: Arc<dyn AuditStore>) -> Self {
        self.audit = sink;
        self.audit_store = Some(store);
        self
    }
}

async fn no_route() -> Response {
    ApiError::from(NotFound::Route).into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::from(NotFound::Method).into_response()
}

/// The `/client/v4/...` router. Unknown paths answer 404 (7000) and wrong methods 405 (7001),
/// both as envelopes.
pub fn router(state: ApiState) -> Router {
    let accounts = Router::new()
        .route(
            "/{account_id}/r2/temp-access-credentials",
            post(credentials::create),
        )
        .route(
            "/{account_id}/r2/buckets",
            get(buckets::list).post(buckets::create),
        )
        .route(
            "/{account_id}/r2/buckets/{bucket_name}",
            get(buckets::get)
                .patch(buckets::patch)
                .delete(buckets::delete),
        )
        // Bucket lifecycle rules (issue 13 §3).
        .route(
            "/{account_id}/r2/buckets/{bucket_name}/lifecycle",
            get(lifecycle::get).put(lifecycle::put),
        )
        .route(
            "/{account_id}/r2/buckets/{bucket_name}/cors",
            get(cors::get).put(cors::put).delete(cors::delete),
        )
        .route(
            "/{account_id}/tokens",
            get(tokens::list).post(tokens::create),
        )
        .route("/{account_id}/tokens/verify", get(tokens::verify_account))
        .route(
            "/{account_id}/tokens/permission_groups",
            get(tokens::permission_groups),
        )
        .route(
            "/{account_id}/tokens/{token_id}",
            get(tokens::get).put(tokens::update).delete(tokens::revoke),
        );
    let mut v4 = Router::new()
        .nest("/accounts", accounts)
        .route("/user/tokens/verify", get(tokens::verify_user));
    if state.config.testing_api {
        v4 = v4.route("/mayfly/accounts", post(testing::create_account));
    }
    // The audit trail (issue 15 §3, a Mayfly extension).
    if state.audit_store.is_some() {
        v4 = v4.route("/mayfly/accounts/{account_id}/audit", get(audit::list));
    }
    let v4 = v4
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(no_route);
    Router::new()
        .nest("/client/v4", v4)
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        // The JSON extractor bounds bodies itself; this keeps axum's default from answering first.
        .layer(DefaultBodyLimit::max(body::MAX_BODY_BYTES))
        .with_state(state)
}
