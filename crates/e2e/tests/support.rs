//! Helpers shared by the `e2e` and `cluster` test binaries (each includes this file as
//! `mod support`; not every binary uses every helper).

#![allow(dead_code)]

use aws_sdk_s3::Client as S3;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput;
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use mayfly_client::{ApiToken, Client};
use mayfly_core::TemporaryCredentials;

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

/// aws-sdk-s3 signing with temporary credentials minted through the API (key, secret and
/// session token).
pub(crate) fn temp_s3(url: &str, creds: &TemporaryCredentials, retries: Retries) -> S3 {
    s3(
        url,
        creds.access_key_id.as_str(),
        creds.secret_access_key.expose_secret(),
        Some(creds.session_token.expose_secret()),
        retries,
    )
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

/// PutObject of `body` at `bucket`/`key`, returning the SDK's result (for refusals).
pub(crate) async fn try_put(
    c: &S3,
    bucket: &str,
    key: &str,
    body: ByteStream,
) -> Result<PutObjectOutput, SdkError<PutObjectError, HttpResponse>> {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(body)
        .send()
        .await
}

/// PutObject that must succeed.
pub(crate) async fn put(c: &S3, bucket: &str, key: &str, body: ByteStream) -> PutObjectOutput {
    try_put(c, bucket, key, body).await.unwrap()
}

/// GetObject that must succeed: the whole body and the ETag (empty when absent).
pub(crate) async fn get(c: &S3, bucket: &str, key: &str) -> (Vec<u8>, String) {
    let got = c.get_object().bucket(bucket).key(key).send().await.unwrap();
    let etag = got.e_tag().unwrap_or_default().to_owned();
    (
        got.body.collect().await.unwrap().into_bytes().to_vec(),
        etag,
    )
}

/// UploadPart `n` of upload `id` that must succeed; returns the part for the completion list.
pub(crate) async fn upload_part(
    c: &S3,
    bucket: &str,
    key: &str,
    id: &str,
    n: i32,
    data: Vec<u8>,
) -> CompletedPart {
    let p = c
        .upload_part()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .part_number(n)
        .body(ByteStream::from(data))
        .send()
        .await
        .unwrap();
    CompletedPart::builder()
        .part_number(n)
        .e_tag(p.e_tag().unwrap())
        .build()
}

/// CompleteMultipartUpload of upload `id` from `parts`, which must succeed.
pub(crate) async fn complete(
    c: &S3,
    bucket: &str,
    key: &str,
    id: &str,
    parts: Vec<CompletedPart>,
) -> CompleteMultipartUploadOutput {
    c.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap()
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
