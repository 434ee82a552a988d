//! Helpers shared by the `e2e` and `cluster` test binaries (each includes this file as
//! `mod support`; not every binary uses every helper).

#![allow(dead_code)]

use aws_sdk_s3::Client as S3;
use aws_sdk_s3::config::{Credentials, Region};
use mayfly_client::{ApiToken, Client};

/// Whether an S3 client retries like the SDK does by default, or makes exactly one attempt
/// (cluster tests: a retry could hide which node answered what).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retries {
    /// The SDK's standard retry policy.
    Sdk,
    /// One attempt per call.
    Off,
}

/// aws-sdk-s3 against a Mayfly S3 endpoint (path style, region `auto`).
pub(crate) fn s3(url: &str, key: &str, secret: &str, token: Option<&str>, retries: Retries) -> S3 {
    let creds = Credentials::new(key, secret, token.map(str::to_owned), None, "mayfly-e2e");
    let mut conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .endpoint_url(url)
        .region(Region::new("auto"))
        .credentials_provider(creds)
        .force_path_style(true);
    if retries == Retries::Off {
        conf = conf.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled());
    }
    S3::from_conf(conf.build())
}

/// mayfly-client against a Mayfly API (`.../client/v4`) with a bearer token.
pub(crate) fn api(url: &str, token: &str) -> Client {
    Client::builder()
        .base_url(url)
        .api_token(ApiToken::new(token))
        .build()
        .expect("API client")
}

/// The S3 error code of a service error (`<none>` when the body had none).
pub(crate) fn error_code<E: aws_sdk_s3::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_owned()
}

/// A seed that follows from `tag` alone (FNV-1a).
pub(crate) fn seed(tag: &str) -> u64 {
    tag.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `len` deterministic bytes from `seed` (xorshift64): what was written can be recomputed
/// from the seed, so a test checks a read-back without remembering the body.
pub(crate) fn bytes_from(mut seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}
