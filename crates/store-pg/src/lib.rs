//! Mayfly's scale-out store: [`PgMetadata`] keeps metadata in PostgreSQL (shared by any number
//! of Mayfly nodes) and [`S3Blobs`] keeps object bytes in an upstream S3-compatible bucket.
//!
//! This crate is for the binary only: servers see `Arc<dyn MetadataStore>` and
//! `Arc<dyn BlobStore>`. It is not a cache or a proxy: Mayfly's own S3 keys never reach the
//! upstream bucket, which holds opaque blobs named by random ids. It runs the whole
//! `mayfly-store` conformance suite against a real PostgreSQL and a real upstream S3.
//!
//! Guarantees match `mayfly-store-local`: each trait call is one transaction; keys are `bytea`
//! (byte order); writers of one key are serialised by a transaction-scoped advisory lock, so
//! concurrent puts leave one winner and every loser's blobs come back as garbage exactly once;
//! `complete_upload` re-checks part ETags under the upload's row lock. Schema migrations run at
//! connect time under an advisory lock, so nodes may start together.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mayfly_store_pg::{PgMetadata, PgUrl, S3Blobs, S3BlobsConfig, S3Credentials};
//!
//! let meta = PgMetadata::connect(&PgUrl::new("postgres://mayfly@db/mayfly"), 16).await?;
//! let config = S3BlobsConfig::parse("s3://blobs/node?endpoint=http://127.0.0.1:9000&region=auto")?;
//! let blobs = S3Blobs::new(&config, &S3Credentials::from_env()?)?;
//! blobs.check().await?;
//! println!("metadata in {}", meta.redacted_url());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod accounts;
mod audit;
mod buckets;
mod codec;
mod db;
mod metadata;
mod multipart;
mod objects;
mod options;
mod s3;
mod s3_config;
mod schema;
mod tls;

pub use db::PgUrl;
pub use metadata::PgMetadata;
pub use options::{DEFAULT_POOL_SIZE, PgOptions};
pub use s3::{PART_SIZE, PARTS_IN_FLIGHT, S3Blobs};
pub use s3_config::{S3BlobsConfig, S3ConfigError, S3Credentials};
pub use schema::latest_version;
pub use tls::PgSslMode;
