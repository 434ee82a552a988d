//! Mayfly's S3 endpoint: an S3-compatible object API over `mayfly-store`, authenticated with
//! SigV4 (long-lived R2 token keys and R2 temporary credentials) and authorized on every request
//! by `mayfly_core::authorize`.
//!
//! It is built on s3s 0.14.1, which parses requests and checks signatures. This crate adds what
//! s3s leaves to its users: the key and token lookup ([`auth`](crate::auth)), the one
//! authorization path (`access`), guards for s3s's known gaps (`guard`, `chunked`, `logs`),
//! and the operations themselves over the storage traits. It does not pick a storage
//! implementation and does not serve the management API.
//!
//! ```no_run
//! # async fn example(meta: std::sync::Arc<dyn mayfly_store::MetadataStore>,
//! #                  blobs: std::sync::Arc<dyn mayfly_store::BlobStore>) {
//! use mayfly_s3::{EndpointHosts, S3State, router};
//! let hosts = EndpointHosts::for_listener("127.0.0.1:9000".parse().unwrap(), &["r2.example.com"]).unwrap();
//! let app = router(S3State::new(meta, blobs, mayfly_store::Clock::system(), hosts));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```

#![warn(missing_docs)]

mod access;
mod auth;
mod body;
mod chunked;
mod context;
mod cors;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod guard;
mod host;
mod idle;
mod lifecycle;
mod logs;
mod ops;
mod service;
mod sigdate;
mod state;
mod timestamps;

pub use host::{EndpointHosts, InvalidHost};
pub use service::router;
pub use state::{DEFAULT_BODY_IDLE_TIMEOUT, Limits, S3State};
