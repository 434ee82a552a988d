//! TLS to PostgreSQL against a real server with `ssl=on`: a test-local one started with
//! `scripts/pg-test-server start DIR --tls` (its own CA and server certificate). `require`
//! encrypts, `verify-full` accepts the right CA and refuses an unrelated one, and `require`
//! against a server without TLS (the `MAYFLY_TEST_PG_URL` one) fails instead of falling back.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mayfly_store_pg::{PgMetadata, PgOptions, PgSslMode, PgUrl};

use crate::harness::pg_admin_url;

/// A PostgreSQL with TLS in a temp dir, stopped on drop.
struct TlsServer {
    dir: tempfile::TempDir,
    url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-test-server")
}

impl TlsServer {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new(script())
            .arg("start")
            .arg(dir.path().join("pg"))
            .arg("--tls")
            .output()
            .expect("run scripts/pg-test-server (needs PostgreSQL's server binaries and openssl)");
        assert!(
            out.status.success(),
            "scripts/pg-test-server start --tls failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned();
        Self { dir, url }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join("pg/tls").join(name)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path().join("pg"))
            .status();
    }
}

fn options(mode: PgSslMode, ca: Option<PathBuf>) -> PgOptions {
    PgOptions {
        pool_size: 2,
        connect_timeout: Some(Duration::from_secs(10)),
        ssl_mode: Some(mode),
        ssl_root_cert: ca,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_encrypts_and_verify_full_checks_the_ca() {
    let server = TlsServer::start();
    let url = PgUrl::new(server.url.clone());

    let plain = PgMetadata::connect_with(&url, &options(PgSslMode::Disable, None))
        .await
        .expect("disable connects");
    assert!(
        !plain.tls_in_use().await.expect("query"),
        "sslmode=disable is plain TCP"
    );

    let required = PgMetadata::connect_with(&url, &options(PgSslMode::Require, None))
        .await
        .expect("require connects to a TLS server (certificate unchecked)");
    assert!(
        required.tls_in_use().await.expect("query"),
        "sslmode=require encrypts"
    );

    let verified = PgMetadata::connect_with(
        &url,
        &options(PgSslMode::VerifyFull, Some(server.file("ca.pem"))),
    )
    .await
    .expect("verify-full accepts a certificate from the given CA naming 127.0.0.1");
    assert!(verified.tls_in_use().await.expect("query"));

    let refused = PgMetadata::connect_with(
        &url,
        &options(PgSslMode::VerifyFull, Some(server.file("other-ca.pem"))),
    )
    .await;
    let err = refused.expect_err("verify-full refuses a certificate the CA did not sign");
    let text = err.to_string();
    assert!(
        text.contains("TLS handshake") && text.contains("certificate"),
        "the error says why: {text}"
    );
    println!("verify-full with the wrong CA: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_never_falls_back_to_plain_tcp() {
    // The shared test server runs without TLS.
    let url = PgUrl::new(pg_admin_url());
    let refused = PgMetadata::connect_with(&url, &options(PgSslMode::Require, None)).await;
    assert!(
        refused.is_err(),
        "sslmode=require must fail against a server without TLS"
    );
}
