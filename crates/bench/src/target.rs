//! Clients for one endpoint and the data every scenario reads: the benchmark bucket, the 1 KiB
//! auth object, the small objects GETs cycle over, the listing bucket, and (Mayfly only)
//! temporary credentials minted through the API.
//!
//! The S3 client is aws-sdk-rust, configured the way a throughput-minded user would: no
//! retries (errors must show), no optional checksums (`WhenRequired`), no stalled-stream
//! guard (a 256 MiB body on a busy 2-core machine can pause).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::{Context, Result};
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{
    Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    StalledStreamProtectionConfig,
};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use mayfly_client::{ApiToken, TempCredentialsRequest};
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission};

use crate::cli::Plan;
use crate::endpoint::Endpoint;
use crate::sigv4::RawS3;

/// Bucket for every object scenario.
pub(crate) const BUCKET: &str = "mayfly-bench";
/// Bucket holding only the listing keys.
pub(crate) const LIST_BUCKET: &str = "mayfly-bench-list";
/// The object the auth scenario GETs.
pub(crate) const AUTH_KEY: &str = "auth/1k";

/// Minting through the API: the client, the account and the request it repeats.
#[derive(Clone)]
pub(crate) struct MintApi {
    pub(crate) client: mayfly_client::Client,
    pub(crate) account: AccountId,
    pub(crate) request: TempCredentialsRequest,
}

/// One endpoint with its clients, ready for the scenarios.
pub(crate) struct Target {
    pub(crate) ep: Endpoint,
    /// Signed with the long-lived key.
    pub(crate) s3: aws_sdk_s3::Client,
    /// Signed with temporary credentials minted over the API (Mayfly only).
    pub(crate) temp: Option<aws_sdk_s3::Client>,
    /// The same two identities through the minimal signer of [`crate::sigv4`].
    pub(crate) raw: Arc<RawS3>,
    pub(crate) raw_temp: Option<Arc<RawS3>>,
    pub(crate) mint: Option<MintApi>,
    /// `http://127.0.0.1:P/healthz` (Mayfly only).
    pub(crate) healthz: Option<String>,
    /// Keep-alive pool for /healthz, the same HTTP stack mayfly-client mints with.
    pub(crate) http: reqwest::Client,
    /// Unique-key counter for PUTs, so no PUT overwrites another.
    pub(crate) seq: Arc<AtomicU64>,
}

/// An aws-sdk-s3 client for `url`, path-style, region `auto`.
pub(crate) fn s3_client(
    url: &str,
    key: &str,
    secret: &str,
    token: Option<String>,
) -> aws_sdk_s3::Client {
    let creds = Credentials::new(key, secret, token, None, "mayfly-bench");
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .endpoint_url(url)
        .region(Region::new("auto"))
        .credentials_provider(creds)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .retry_config(RetryConfig::disabled())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Creates the buckets (tolerating ones that exist), seeds the read-side objects and mints
/// temporary credentials where there is an API.
pub(crate) async fn prepare(ep: Endpoint, plan: &Plan) -> Result<Target> {
    let s3 = s3_client(&ep.s3_url, &ep.access_key_id, &ep.secret_access_key, None);
    let wants = |s: &str| plan.scenarios.iter().any(|x| x == s);
    ensure_bucket(&s3, BUCKET)
        .await
        .with_context(|| format!("{}: bucket {BUCKET}", ep.name))?;

    let (mut temp, mut raw_temp, mut mint, mut healthz) = (None, None, None, None);
    if let Some(api) = &ep.api {
        let client = mayfly_client::Client::builder()
            .base_url(&api.api_url)
            .api_token(ApiToken::new(&api.api_token))
            // A benchmark must see failures, not retry them away.
            .max_retries(0)
            .build()
            .with_context(|| format!("{}: API client", ep.name))?;
        let account = AccountId::parse(&api.account_id).context("account id")?;
        let request = TempCredentialsRequest::new(
            BucketName::parse(BUCKET).context("bucket name")?,
            AccessKeyId::parse(&ep.access_key_id).context("access key id")?,
            Permission::ObjectReadWrite,
        )
        .ttl_seconds(3600);
        let creds = client
            .create_temp_credentials(&account, &request)
            .await
            .with_context(|| format!("{}: minting temporary credentials", ep.name))?;
        // The temporary secret and session token go to the signers only.
        let (key, secret) = (
            creds.access_key_id.as_str(),
            creds.secret_access_key.expose_secret(),
        );
        let token = creds.session_token.expose_secret().to_owned();
        temp = Some(s3_client(&ep.s3_url, key, secret, Some(token.clone())));
        raw_temp = Some(Arc::new(RawS3::new(&ep.s3_url, key, secret, Some(token))?));
        mint = Some(MintApi {
            client,
            account,
            request,
        });
        let base = api.api_url.trim_end_matches('/');
        let root = base.strip_suffix("/client/v4").unwrap_or(base);
        healthz = Some(format!("{root}/healthz"));
    }

    if wants("auth") {
        put(&s3, BUCKET, AUTH_KEY, payload(plan.auth_size)).await?;
    }
    if wants("small") {
        let body = payload(plan.small_size);
        fill(
            &s3,
            BUCKET,
            (0..plan.small_get_keys)
                .map(|i| format!("small/get/{i}"))
                .collect(),
            body,
        )
        .await?;
    }
    if wants("list") {
        ensure_bucket(&s3, LIST_BUCKET).await?;
        // Zero-byte objects: the scenario measures listing, not storage.
        let keys = (0..plan.list_keys)
            .map(|i| format!("k/{:02}/{i:08}", i % 97))
            .collect();
        fill(&s3, LIST_BUCKET, keys, Bytes::new()).await?;
    }
    let raw = Arc::new(RawS3::new(
        &ep.s3_url,
        &ep.access_key_id,
        &ep.secret_access_key,
        None,
    )?);
    Ok(Target {
        ep,
        s3,
        temp,
        raw,
        raw_temp,
        mint,
        healthz,
        http: reqwest::Client::builder().build().context("HTTP client")?,
        seq: Arc::new(AtomicU64::new(0)),
    })
}

/// Deterministic, incompressible-enough bytes of length `n`.
pub(crate) fn payload(n: usize) -> Bytes {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    Bytes::from(v)
}

async fn ensure_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    if let Err(create) = s3.create_bucket().bucket(bucket).send().await {
        // Already there from an earlier run against a long-lived endpoint is fine.
        s3.head_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|_| anyhow::Error::new(create).context("CreateBucket"))?;
    }
    Ok(())
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Bytes) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .with_context(|| format!("PutObject {bucket}/{key}"))?;
    Ok(())
}

/// PUTs every key with `body`, 32 at a time.
async fn fill(s3: &aws_sdk_s3::Client, bucket: &str, keys: Vec<String>, body: Bytes) -> Result<()> {
    let mut set = tokio::task::JoinSet::new();
    for key in keys {
        if set.len() >= 32
            && let Some(r) = set.join_next().await
        {
            r??;
        }
        let (s3, bucket, body) = (s3.clone(), bucket.to_owned(), body.clone());
        set.spawn(async move { put(&s3, &bucket, &key, body).await });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(())
}
