//! `mayfly-client`: a typed async client for the Cloudflare R2 management API surface Mayfly
//! implements: temporary access credentials, buckets and R2 API tokens.
//!
//! It speaks the Cloudflare v4 envelope, turns error answers into [`ApiError`] (classified by
//! [`ErrorKind`] the way the official SDKs pick exception classes), retries 408/409/429/5xx up
//! to twice with backoff, and reads `CLOUDFLARE_BASE_URL` / `CLOUDFLARE_API_TOKEN` like the
//! official SDKs, so the same code runs against Mayfly or Cloudflare. It is not an S3 client:
//! use any S3 SDK with the credentials it mints.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mayfly_client::{Client, TempCredentialsRequest};
//! use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission};
//!
//! let client = Client::builder().base_url("http://127.0.0.1:8787/client/v4").build()?;
//! let account = AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353")?;
//! let req = TempCredentialsRequest::new(
//!     BucketName::parse("example-bucket")?,
//!     AccessKeyId::parse("0123456789abcdef0123456789abcdef")?,
//!     Permission::ObjectReadOnly,
//! )
//! .ttl_seconds(3600)
//! .prefixes(vec!["reports/".into()]);
//! let creds = client.create_temp_credentials(&account, &req).await?;
//! println!("{}", creds.access_key_id);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod audit;
mod client;
mod error;
mod r2;
mod tokens;

pub use audit::AuditPage;
pub use client::{
    ApiToken, Client, ClientBuilder, DEFAULT_BASE_URL, ENV_ACCOUNT_ID, ENV_API_TOKEN, ENV_BASE_URL,
};
pub use error::{ApiError, ConfigError, Error, ErrorItem, ErrorKind, R2Code, codes};
pub use r2::{Bucket, BucketPage, CreateBucketRequest, ListBucketsParams, TempCredentialsRequest};
pub use tokens::{
    CreateTokenRequest, CreatedToken, TokenInfo, UpdateStatus, UpdateTokenRequest, VerifiedToken,
};
