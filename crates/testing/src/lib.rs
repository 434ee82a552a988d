//! # mayfly-testing
//!
//! Mayfly inside your Rust tests: a real Mayfly (the same wiring as `mayfly serve`, the
//! embedded SQLite + files store) in your test's process, on free loopback ports, in a fresh
//! temporary directory. No binary to build or find, no subprocess: [`MayflyServer::start`]
//! returns once both listeners accept connections, with
//!
//! - the API base URL (`.../client/v4`) and the S3 endpoint URL,
//! - the account id, an admin-read-write API token, and that token's S3 key pair,
//! - a ready-made [`aws_sdk_s3::Client`] signing with the admin keys and a [`mayfly_client::Client`]
//!   holding the admin token,
//! - [`MayflyServer::mint`]: temporary credentials for a bucket, permission, prefixes and objects,
//!   with an `aws_sdk_s3::Client` that signs with them.
//!
//! Dropping the server stops it gracefully (in-flight requests finish) and removes its directory;
//! [`MayflyServer::stop`] does the same and waits for it.
//!
//! ```no_run
//! use mayfly_core::Permission;
//! use mayfly_testing::MayflyServer;
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let mayfly = MayflyServer::start().await?;
//! mayfly.create_bucket("uploads").await?;
//!
//! // What your app would hand a user: read-write under `user-42/` for five minutes.
//! let user = mayfly
//!     .mint("uploads", Permission::ObjectReadWrite, &["user-42/"], &[], 300)
//!     .await?;
//! user.s3.put_object().bucket("uploads").key("user-42/a.txt").body(b"hi".to_vec().into()).send().await?;
//! // Outside the prefix: Mayfly refuses, as R2 would.
//! let denied = user.s3.put_object().bucket("uploads").key("user-7/a.txt").body(b"no".to_vec().into()).send().await;
//! assert!(denied.is_err());
//! # Ok(()) }
//! ```
//!
//! The `cloudflare` SDKs and any S3 client work too: point them at [`MayflyServer::api_url`] and
//! [`MayflyServer::s3_url`] (region `auto`, path-style addressing).

#![warn(missing_docs)]

use std::net::Ipv4Addr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_sdk_s3::config::{Credentials, Region};
use mayfly::cli::LogFormat;
use mayfly::config::{GcConfig, ServeConfig};
use mayfly::serve::{self, Running};
use mayfly_client::{ApiToken, CreateBucketRequest, TempCredentialsRequest};
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission, TemporaryCredentials};
use mayfly_store::Clock;

/// A Mayfly serving from a temporary directory in this process. See the [crate docs](crate).
pub struct MayflyServer {
    running: Option<Running>,
    dir: Option<tempfile::TempDir>,
    data_dir: PathBuf,
    api_url: String,
    s3_url: String,
    account_id: AccountId,
    api_token: String,
    access_key_id: AccessKeyId,
    secret_access_key: String,
    s3: aws_sdk_s3::Client,
    api: mayfly_client::Client,
}

impl std::fmt::Debug for MayflyServer {
    // By hand: the token and secret stay out of test output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MayflyServer")
            .field("api_url", &self.api_url)
            .field("s3_url", &self.s3_url)
            .field("account_id", &self.account_id)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Temporary credentials minted by [`MayflyServer::mint`], and an S3 client that signs with them.
#[derive(Debug, Clone)]
pub struct Minted {
    /// Access key id (the parent token's), secret access key and session token.
    pub credentials: TemporaryCredentials,
    /// aws-sdk-s3 against the server's S3 endpoint, signing with `credentials`.
    pub s3: aws_sdk_s3::Client,
}

impl MayflyServer {
    /// Starts a server on `127.0.0.1`, both listeners on free ports, in a new temporary
    /// directory, bootstrapped with one account and its admin token. Needs a Tokio runtime
    /// (`#[tokio::test]` is enough; the server's tasks run on it).
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("mayfly-testing-")
            .tempdir()
            .context("cannot create a temporary data directory")?;
        let any_port = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let config = ServeConfig {
            data_dir: dir.path().to_owned(),
            api_listen: any_port,
            s3_listen: any_port,
            public_s3_hosts: Vec::new(),
            ready_file: None,
            log_format: LogFormat::Text,
            // A test server lives seconds: no orphan-blob collection passes.
            gc: GcConfig {
                interval_secs: None,
                ..GcConfig::default()
            },
            timeouts: Default::default(),
            // Nor lifecycle sweeps: a test that wants one runs `mayfly serve` with the interval.
            lifecycle: mayfly::config::LifecycleSweepConfig {
                interval_secs: None,
            },
            audit: Default::default(),
        };
        let running = serve::start(&config, Clock::system()).await?;
        let boot = running
            .bootstrap
            .as_ref()
            .context("a fresh data directory was not bootstrapped")?;
        let api_url = running.api_url();
        let s3_url = running.s3_url();
        let api_token = boot.api_token.expose_secret().to_owned();
        let secret_access_key = boot.secret_access_key.expose_secret().to_owned();
        let s3 = s3_client(&s3_url, boot.token_id.as_str(), &secret_access_key, None);
        let api = mayfly_client::Client::builder()
            .base_url(&api_url)
            .api_token(ApiToken::new(api_token.clone()))
            .build()
            .context("cannot build the API client")?;
        Ok(Self {
            account_id: boot.account_id.clone(),
            access_key_id: boot.token_id.clone(),
            running: Some(running),
            data_dir: dir.path().to_owned(),
            dir: Some(dir),
            api_url,
            s3_url,
            api_token,
            secret_access_key,
            s3,
            api,
        })
    }

    /// The API base URL, ending in `/client/v4` (what the `cloudflare` SDKs call `base_url`).
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The S3 endpoint URL (`http://127.0.0.1:PORT`).
    pub fn s3_url(&self) -> &str {
        &self.s3_url
    }

    /// The account every call goes to.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    /// The admin-read-write API token (a bearer token for the API).
    pub fn api_token(&self) -> &str {
        &self.api_token
    }

    /// The admin token's S3 access key id; also the `parentAccessKeyId` to mint with.
    pub fn access_key_id(&self) -> &AccessKeyId {
        &self.access_key_id
    }

    /// The admin token's S3 secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The temporary data directory (SQLite database and blobs); removed when the server stops.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// aws-sdk-s3 signing with the admin keys (path style, region `auto`).
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    /// mayfly-client holding the admin token.
    pub fn api(&self) -> &mayfly_client::Client {
        &self.api
    }

    /// Creates a bucket in the account through the API.
    pub async fn create_bucket(&self, name: &str) -> anyhow::Result<BucketName> {
        let name = BucketName::parse(name).with_context(|| format!("bucket name {name:?}"))?;
        self.api
            .create_bucket(&self.account_id, &CreateBucketRequest::new(name.clone()))
            .await
            .with_context(|| format!("cannot create bucket {name}"))?;
        Ok(name)
    }

    /// Mints temporary credentials through the API, as your app would: on `bucket`, with
    /// `permission`, limited to `prefixes` and/or `objects` when either is non-empty, valid for
    /// `ttl_seconds`, signed by the admin token. Returns them with an S3 client using them.
    pub async fn mint(
        &self,
        bucket: &str,
        permission: Permission,
        prefixes: &[&str],
        objects: &[&str],
        ttl_seconds: u64,
    ) -> anyhow::Result<Minted> {
        let name = BucketName::parse(bucket).with_context(|| format!("bucket name {bucket:?}"))?;
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let request = TempCredentialsRequest::new(name, self.access_key_id.clone(), permission)
            .prefixes(owned(prefixes))
            .objects(owned(objects))
            .ttl_seconds(ttl_seconds);
        let credentials = self
            .api
            .create_temp_credentials(&self.account_id, &request)
            .await
            .with_context(|| format!("cannot mint credentials for bucket {bucket}"))?;
        let s3 = s3_client(
            &self.s3_url,
            credentials.access_key_id.as_str(),
            credentials.secret_access_key.expose_secret(),
            Some(credentials.session_token.expose_secret()),
        );
        Ok(Minted { credentials, s3 })
    }

    /// An aws-sdk-s3 client for this server's S3 endpoint with any key pair (and session token).
    pub fn s3_client_with(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
    ) -> aws_sdk_s3::Client {
        s3_client(
            &self.s3_url,
            access_key_id,
            secret_access_key,
            session_token,
        )
    }

    /// Stops the server gracefully (in-flight requests finish), waits for it, and removes its
    /// directory. Dropping the server does the same without waiting.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let result = match self.running.take() {
            Some(running) => {
                running.shutdown();
                running.wait().await
            }
            None => Ok(()),
        };
        if let Some(dir) = self.dir.take() {
            dir.close()
                .context("cannot remove the temporary data directory")?;
        }
        result
    }
}

impl Drop for MayflyServer {
    fn drop(&mut self) {
        let Some(running) = self.running.take() else {
            return;
        };
        running.shutdown();
        let dir = self.dir.take();
        // Let the servers drain, then remove the directory they used. Without a runtime (it is
        // already gone) the servers are gone too, and the directory goes now.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = running.wait().await;
                drop(dir);
            });
        }
    }
}

fn s3_client(
    url: &str,
    access_key_id: &str,
    secret_access_key: &str,
    session_token: Option<&str>,
) -> aws_sdk_s3::Client {
    let credentials = Credentials::new(
        access_key_id,
        secret_access_key,
        session_token.map(str::to_owned),
        None,
        "mayfly-testing",
    );
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .endpoint_url(url)
        .region(Region::new("auto"))
        .credentials_provider(credentials)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
