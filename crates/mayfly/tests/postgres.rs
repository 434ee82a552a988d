//! `mayfly serve --metadata postgres://... --blobs s3://...`: two real server processes share
//! one PostgreSQL database (from `MAYFLY_TEST_PG_URL`, e.g. `scripts/pg-test-server`) and one
//! upstream bucket (a third, local-store Mayfly started in process). The first bootstraps; the
//! second sees its bucket, token and bytes. A missing PostgreSQL fails the test, never skips it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mayfly::cli::LogFormat;
use mayfly::config::ServeConfig;
use mayfly::serve;
use mayfly_client::{ApiToken, Client, CreateBucketRequest};
use mayfly_core::BucketName;
use mayfly_store::{BlobId, Clock, bytes_stream, collect_stream};
use mayfly_store_pg::{S3Blobs, S3BlobsConfig, S3Credentials};

/// A `mayfly serve` child, killed on drop.
struct Node {
    child: Child,
    api_url: String,
    s3_url: String,
    stdout: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(dir: &Path, name: &str, pg_url: &str, blobs: &str, key: &str, secret: &str) -> Node {
    let ready = dir.join(format!("{name}.ready"));
    let out = dir.join(format!("{name}.out"));
    let child = Command::new(env!("CARGO_BIN_EXE_mayfly"))
        .args([
            "serve",
            "--api-listen",
            "127.0.0.1:0",
            "--s3-listen",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(dir.join(name))
        .arg("--ready-file")
        .arg(&ready)
        .args(["--blobs", blobs])
        .env("MAYFLY_METADATA", pg_url)
        .env("MAYFLY_BLOBS_ACCESS_KEY_ID", key)
        .env("MAYFLY_BLOBS_SECRET_ACCESS_KEY", secret)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn mayfly serve");
    let mut node = Node {
        child,
        api_url: String::new(),
        s3_url: String::new(),
        stdout: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = std::fs::read_to_string(&ready)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        {
            node.api_url = v["api_url"].as_str().expect("api_url").to_owned();
            node.s3_url = v["s3_url"].as_str().expect("s3_url").to_owned();
            node.stdout = std::fs::read_to_string(&out).expect("stdout");
            return node;
        }
        if let Ok(Some(status)) = node.child.try_wait() {
            panic!("mayfly serve ({name}) exited early: {status}");
        }
        assert!(Instant::now() < deadline, "{name} not ready in 60 s");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A `key:   value` line of the bootstrap banner.
fn banner_field(stdout: &str, key: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("banner has no {key}: {stdout}"))
}

fn client(api_url: &str, token: &str) -> Client {
    Client::builder()
        .base_url(api_url)
        .api_token(ApiToken::new(token))
        .build()
        .expect("client")
}

/// Creates an empty database; returns its URL, its name and a client on the admin database.
async fn fresh_database() -> (String, String, tokio_postgres::Client) {
    let admin = match std::env::var("MAYFLY_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "MAYFLY_TEST_PG_URL is not set: this test needs a real PostgreSQL. Run it under \
             `scripts/pg-test-server run cargo test -p mayfly` (scripts/test does this)."
        ),
    };
    let (pg, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("connect to MAYFLY_TEST_PG_URL");
    tokio::spawn(connection);
    let name = format!("mayfly_serve_{}", BlobId::random());
    pg.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin).expect("postgres URL");
    url.set_path(&format!("/{name}"));
    (url.to_string(), name, pg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_postgres_metadata_and_upstream_blobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The upstream S3: a local-store Mayfly in process, with one bucket for blobs.
    let upstream = serve::start(
        &ServeConfig {
            data_dir: dir.path().join("upstream"),
            api_listen: "127.0.0.1:0".parse().expect("addr"),
            s3_listen: "127.0.0.1:0".parse().expect("addr"),
            public_s3_hosts: Vec::new(),
            ready_file: None,
            log_format: LogFormat::Text,
        },
        Clock::system(),
    )
    .await
    .expect("upstream");
    let up = upstream.bootstrap.as_ref().expect("upstream bootstraps");
    client(&upstream.api_url(), up.api_token.expose_secret())
        .create_bucket(
            &up.account_id,
            &CreateBucketRequest::new(BucketName::parse("blobs").expect("name")),
        )
        .await
        .expect("upstream bucket");
    let blobs_url = format!(
        "s3://blobs/cluster?endpoint={}&region=auto",
        upstream.s3_url()
    );
    let (up_key, up_secret) = (
        up.token_id.as_str().to_owned(),
        up.secret_access_key.expose_secret().to_owned(),
    );

    let (pg_url, db_name, admin) = fresh_database().await;
    let a = start_node(dir.path(), "a", &pg_url, &blobs_url, &up_key, &up_secret);
    let account = banner_field(&a.stdout, "account_id");
    let token = banner_field(&a.stdout, "api_token");
    let node_key = banner_field(&a.stdout, "access_key_id");
    let node_secret = banner_field(&a.stdout, "secret_access_key");
    let account = mayfly_core::AccountId::parse(&account).expect("account id");
    client(&a.api_url, &token)
        .create_bucket(
            &account,
            &CreateBucketRequest::new(BucketName::parse("shared").expect("name")),
        )
        .await
        .expect("bucket on node a");

    // Node b: same database and bucket, no second bootstrap.
    let b = start_node(dir.path(), "b", &pg_url, &blobs_url, &up_key, &up_secret);
    assert!(
        !b.stdout.contains("api_token:"),
        "a second node must not bootstrap again: {}",
        b.stdout
    );
    let page = client(&b.api_url, &token)
        .list_buckets(&account, &Default::default())
        .await
        .expect("node b authenticates node a's token");
    assert_eq!(page.buckets.len(), 1);

    // Bytes through node a's S3 endpoint (multipart on the way to the upstream), read on b.
    let creds = S3Credentials::new(node_key, node_secret, None);
    let via = |node: &Node| {
        let config =
            S3BlobsConfig::parse(&format!("s3://shared?endpoint={}&region=auto", node.s3_url))
                .expect("node URL");
        S3Blobs::new(&config, &creds).expect("client")
    };
    let data: Vec<u8> = (0..9_000_000u32).map(|i| (i % 251) as u8).collect();
    use mayfly_store::BlobStore;
    let written = via(&a)
        .write(bytes_stream(data.clone(), 64 * 1024))
        .await
        .expect("put through node a");
    let body = via(&b)
        .read(&written.id, Some(1_000_000..8_500_000))
        .await
        .expect("get through node b");
    assert_eq!(
        collect_stream(body).await.expect("bytes"),
        &data[1_000_000..8_500_000]
    );
    let upstream_view = S3Blobs::new(
        &S3BlobsConfig::parse(&blobs_url).expect("blobs URL"),
        &S3Credentials::new(up_key.clone(), up_secret.clone(), None),
    )
    .expect("upstream client");
    assert!(
        !upstream_view
            .list_blobs(u64::MAX)
            .await
            .expect("list upstream")
            .is_empty(),
        "the object's bytes live in the upstream bucket"
    );
    upstream.shutdown();
    drop((a, b));
    admin
        .batch_execute(&format!("DROP DATABASE \"{db_name}\" WITH (FORCE)"))
        .await
        .expect("drop the test database");
}
