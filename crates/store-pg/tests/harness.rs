//! Real services for the tests, never mocks: a fresh database on the PostgreSQL named by
//! `MAYFLY_TEST_PG_URL` (`scripts/pg-test-server` starts a throwaway one; `scripts/test` does it
//! for you), and an upstream S3 bucket: `MAYFLY_TEST_S3_URL` (+ credentials in the environment)
//! if set, else a second Mayfly in embedded mode (`target/debug/mayfly`, or `MAYFLY_BIN`),
//! started per test on port 0 with a bucket created through its API.
//!
//! A missing service is a test failure with a message saying how to provide it, never a skip.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mayfly_store::BlobId;
use mayfly_store::testkit::Subject;
use mayfly_store_pg::{PgMetadata, PgUrl, S3Blobs, S3BlobsConfig, S3Credentials};
use tokio_postgres::NoTls;

/// The PostgreSQL server the tests use (a URL: `postgres://user[:password]@host:port/db`).
pub(crate) fn pg_admin_url() -> String {
    match std::env::var("MAYFLY_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "MAYFLY_TEST_PG_URL is not set: these tests need a real PostgreSQL. Start a \
             throwaway one with `scripts/pg-test-server run cargo test -p mayfly-store-pg` \
             (scripts/test does this), or point MAYFLY_TEST_PG_URL at a server where this user \
             may CREATE DATABASE."
        ),
    }
}

/// A client on the admin database (or `dbname`), its connection driven in the background.
pub(crate) async fn pg_client(dbname: Option<&str>) -> tokio_postgres::Client {
    let url = match dbname {
        Some(name) => with_dbname(&pg_admin_url(), name),
        None => pg_admin_url(),
    };
    let (client, connection) = match tokio_postgres::connect(&url, NoTls).await {
        Ok(pair) => pair,
        Err(err) => panic!(
            "cannot connect to MAYFLY_TEST_PG_URL ({}): {err}; is the server running?",
            PgUrl::new(url.clone()).redacted()
        ),
    };
    tokio::spawn(connection);
    client
}

fn with_dbname(url: &str, dbname: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("MAYFLY_TEST_PG_URL must be a postgres:// URL");
    parsed.set_path(&format!("/{dbname}"));
    parsed.to_string()
}

/// A database created for one test and dropped (forcefully) when this is dropped.
pub(crate) struct TestDb {
    /// Its URL.
    pub(crate) url: PgUrl,
    /// Its name.
    pub(crate) name: String,
}

impl TestDb {
    /// Creates an empty database with a random name.
    pub(crate) async fn create() -> Self {
        let name = format!("mayfly_test_{}", BlobId::random());
        let admin = pg_client(None).await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("CREATE DATABASE (the MAYFLY_TEST_PG_URL user needs CREATEDB)");
        Self {
            url: PgUrl::new(with_dbname(&pg_admin_url(), &name)),
            name,
        }
    }

    /// The same database's URL with a password added (trust auth ignores it): for checking
    /// that passwords never reach Debug output.
    pub(crate) fn url_with_password(&self, password: &str) -> PgUrl {
        let mut parsed =
            url::Url::parse(&with_dbname(&pg_admin_url(), &self.name)).expect("postgres URL");
        parsed
            .set_password(Some(password))
            .expect("URL takes a password");
        PgUrl::new(parsed.to_string())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A fresh runtime on a plain thread: Drop may run inside (or outside) a runtime.
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&pg_admin_url(), NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// A running upstream Mayfly (killed on drop) or nothing when MAYFLY_TEST_S3_URL is used.
pub(crate) struct Upstream {
    /// Where blobs go (a fresh prefix per test).
    pub(crate) config: S3BlobsConfig,
    /// The upstream's credentials.
    pub(crate) credentials: S3Credentials,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The Mayfly binary used as upstream S3.
fn mayfly_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("MAYFLY_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("debug/mayfly")
}

fn run_json(cmd: &mut Command, what: &str) -> serde_json::Value {
    let out = cmd.output().unwrap_or_else(|err| panic!("{what}: {err}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| panic!("{what} output: {err}"))
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing {key} in {v}"))
        .to_owned()
}

/// Starts the upstream (blocking; call from `spawn_blocking`).
fn start_upstream() -> Upstream {
    let prefix = format!("t-{}", BlobId::random());
    if let Ok(url) = std::env::var("MAYFLY_TEST_S3_URL")
        && !url.is_empty()
    {
        let mut config = S3BlobsConfig::parse(&url).expect("MAYFLY_TEST_S3_URL");
        config.prefix = [config.prefix.as_str(), prefix.as_str()]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/");
        let credentials = S3Credentials::from_env().expect("credentials for MAYFLY_TEST_S3_URL");
        return Upstream {
            config,
            credentials,
            child: None,
            _dir: None,
        };
    }
    let bin = mayfly_bin();
    assert!(
        bin.exists(),
        "{} not found: the upstream S3 for these tests is a second Mayfly. Build it with \
         `cargo build -p mayfly` (scripts/test does), set MAYFLY_BIN, or set MAYFLY_TEST_S3_URL \
         (s3://bucket/prefix?endpoint=...) plus MAYFLY_BLOBS_ACCESS_KEY_ID/SECRET_ACCESS_KEY.",
        bin.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let boot = run_json(
        Command::new(&bin)
            .args(["init", "--json", "--data-dir"])
            .arg(&data),
        "mayfly init",
    );
    let ready = dir.path().join("ready.json");
    let mut upstream = Upstream {
        config: S3BlobsConfig::parse("s3://blobs").expect("static URL"),
        credentials: S3Credentials::new(
            text(&boot, "access_key_id"),
            text(&boot, "secret_access_key"),
            None,
        ),
        child: Some(
            Command::new(&bin)
                .args(["serve", "--api-listen", "127.0.0.1:0"])
                .args(["--s3-listen", "127.0.0.1:0", "--log-format", "json"])
                .arg("--data-dir")
                .arg(&data)
                .arg("--ready-file")
                .arg(&ready)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn mayfly serve"),
        ),
        _dir: None,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let urls = loop {
        if let Some(v) = std::fs::read_to_string(&ready)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        {
            break v;
        }
        if let Some(status) = upstream
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
        {
            panic!("upstream mayfly serve exited early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "upstream mayfly not ready in 60 s"
        );
        std::thread::sleep(Duration::from_millis(25));
    };
    run_json(
        Command::new(&bin)
            .args(["bucket", "create", "blobs", "--json"])
            .env("CLOUDFLARE_BASE_URL", text(&urls, "api_url"))
            .env("CLOUDFLARE_API_TOKEN", text(&boot, "api_token"))
            .env("CLOUDFLARE_ACCOUNT_ID", text(&boot, "account_id")),
        "mayfly bucket create",
    );
    upstream.config = S3BlobsConfig::parse(&format!(
        "s3://blobs/{prefix}?endpoint={}&region=auto",
        text(&urls, "s3_url")
    ))
    .expect("upstream URL");
    upstream._dir = Some(dir);
    upstream
}

/// An upstream bucket prefix for one test.
pub(crate) async fn upstream() -> Upstream {
    tokio::task::spawn_blocking(start_upstream)
        .await
        .expect("upstream start")
}

/// What a test holds until it ends.
pub(crate) struct Guard {
    /// The upstream, killed after the test.
    pub(crate) _upstream: Upstream,
    /// The database, dropped after the test.
    pub(crate) db: TestDb,
}

/// A fresh PgMetadata on its own database plus S3Blobs on its own upstream prefix.
pub(crate) async fn fresh() -> (Subject, Guard) {
    let (db, upstream) = tokio::join!(TestDb::create(), upstream());
    let meta = PgMetadata::connect(&db.url, 8)
        .await
        .expect("connect + migrate");
    let blobs = S3Blobs::new(&upstream.config, &upstream.credentials).expect("blob store");
    blobs.check().await.expect("upstream S3 answers");
    (
        Subject {
            meta: std::sync::Arc::new(meta),
            blobs: std::sync::Arc::new(blobs),
        },
        Guard {
            _upstream: upstream,
            db,
        },
    )
}
