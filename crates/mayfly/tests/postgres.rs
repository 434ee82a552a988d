//! `mayfly serve --metadata postgres://... --blobs s3://...`: two real server processes share
//! one PostgreSQL database (from `MAYFLY_TEST_PG_URL`, e.g. `scripts/pg-test-server`) and one
//! upstream bucket (a third, local-store Mayfly started in process). The first bootstraps; the
//! second sees its bucket, token and bytes. A missing PostgreSQL fails the test, never skips it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mayfly::cli::LogFormat;
use mayfly::config::{GcConfig, ServeConfig};
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
    let mut node = spawn_node(dir, name, pg_url, blobs, key, secret);
    node.wait_ready(dir, name);
    node
}

/// Starts `mayfly serve` without waiting for it (so several can start at the same instant).
fn spawn_node(dir: &Path, name: &str, pg_url: &str, blobs: &str, key: &str, secret: &str) -> Node {
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
        // One public S3 name for the cluster (what a load balancer would answer on), so a
        // credential minted on one node names an audience every node accepts.
        .env("MAYFLY_PUBLIC_S3_HOST", "s3.cluster.test")
        .env("MAYFLY_BLOBS_ACCESS_KEY_ID", key)
        .env("MAYFLY_BLOBS_SECRET_ACCESS_KEY", secret)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn mayfly serve");
    Node {
        child,
        api_url: String::new(),
        s3_url: String::new(),
        stdout: String::new(),
    }
}

impl Node {
    /// Waits for the ready file, then reads the URLs and what the node printed.
    fn wait_ready(&mut self, dir: &Path, name: &str) {
        let ready = dir.join(format!("{name}.ready"));
        let out = dir.join(format!("{name}.out"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(v) = std::fs::read_to_string(&ready)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            {
                self.api_url = v["api_url"].as_str().expect("api_url").to_owned();
                self.s3_url = v["s3_url"].as_str().expect("s3_url").to_owned();
                self.stdout = std::fs::read_to_string(&out).expect("stdout");
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("mayfly serve ({name}) exited early: {status}");
            }
            assert!(Instant::now() < deadline, "{name} not ready in 60 s");
            std::thread::sleep(Duration::from_millis(25));
        }
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

/// The upstream S3: a local-store Mayfly in process, with one bucket for blobs. Returns it,
/// the `--blobs` URL and its key pair.
async fn upstream(dir: &Path) -> (serve::Running, String, String, String) {
    let upstream = serve::start(
        &ServeConfig {
            data_dir: dir.join("upstream"),
            api_listen: "127.0.0.1:0".parse().expect("addr"),
            s3_listen: "127.0.0.1:0".parse().expect("addr"),
            public_s3_hosts: Vec::new(),
            ready_file: None,
            log_format: LogFormat::Text,
            gc: GcConfig::default(),
            timeouts: mayfly::config::Timeouts::default(),
            lifecycle: Default::default(),
            audit: Default::default(),
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
    (upstream, blobs_url, up_key, up_secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_postgres_metadata_and_upstream_blobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (upstream, blobs_url, up_key, up_secret) = upstream(dir.path()).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_on_an_empty_database_bootstrap_once() {
    const NODES: usize = 4;
    let dir = tempfile::tempdir().expect("tempdir");
    let (upstream, blobs_url, up_key, up_secret) = upstream(dir.path()).await;
    let (pg_url, db_name, admin) = fresh_database().await;
    // Spawn every process before waiting for any: they race on the empty database.
    let mut nodes: Vec<Node> = (0..NODES)
        .map(|i| {
            spawn_node(
                dir.path(),
                &format!("n{i}"),
                &pg_url,
                &blobs_url,
                &up_key,
                &up_secret,
            )
        })
        .collect();
    for (i, node) in nodes.iter_mut().enumerate() {
        node.wait_ready(dir.path(), &format!("n{i}"));
    }
    let printed: Vec<usize> = (0..NODES)
        .filter(|i| nodes[*i].stdout.contains("api_token:"))
        .collect();
    assert_eq!(
        printed.len(),
        1,
        "exactly one node prints bootstrap credentials; these did: {printed:?}"
    );
    let (pg, connection) = tokio_postgres::connect(&pg_url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(connection);
    let count = |sql: &'static str| {
        let pg = &pg;
        async move {
            pg.query_one(sql, &[])
                .await
                .expect("count")
                .get::<_, i64>(0)
        }
    };
    assert_eq!(count("SELECT count(*) FROM accounts").await, 1);
    assert_eq!(count("SELECT count(*) FROM tokens").await, 1);
    assert_eq!(
        count("SELECT count(*) FROM tokens WHERE permission = 'admin-read-write'").await,
        1
    );
    // Every node serves the one admin token.
    let token = banner_field(&nodes[printed[0]].stdout, "api_token");
    let account =
        mayfly_core::AccountId::parse(&banner_field(&nodes[printed[0]].stdout, "account_id"))
            .expect("account id");
    for node in &nodes {
        client(&node.api_url, &token)
            .list_buckets(&account, &Default::default())
            .await
            .expect("every node authenticates the bootstrap token");
    }
    drop(pg);
    upstream.shutdown();
    drop(nodes);
    admin
        .batch_execute(&format!("DROP DATABASE \"{db_name}\" WITH (FORCE)"))
        .await
        .expect("drop the test database");
}

/// One HTTP/1.1 request to the API (the client crate has no token update): returns the status
/// and the JSON body.
async fn api_request(
    api_url: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = api_url.strip_prefix("http://").expect("http URL");
    let (host, base) = rest.split_once('/').expect("base path");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} /{base}{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("read response");
    let text = String::from_utf8(response).expect("utf-8 response");
    let (head, payload) = text.split_once("\r\n\r\n").expect("response head");
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let payload = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // Small bodies: one chunk, `<hex>\r\n<data>\r\n0\r\n\r\n`.
        payload
            .split_once("\r\n")
            .map(|(_, rest)| rest.rsplit_once("\r\n0\r\n").map_or(rest, |(d, _)| d))
            .unwrap_or(payload)
            .trim_end_matches("\r\n")
            .to_owned()
    } else {
        payload.to_owned()
    };
    let json = serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null);
    (status, json)
}

/// Writes through `node`'s S3 endpoint into bucket `shared` with temporary credentials.
async fn write_with(node: &Node, creds: &mayfly_core::TemporaryCredentials) -> bool {
    use mayfly_store::BlobStore;
    let config = S3BlobsConfig::parse(&format!("s3://shared?endpoint={}&region=auto", node.s3_url))
        .expect("node URL");
    let blobs = S3Blobs::new(
        &config,
        &S3Credentials::new(
            creds.access_key_id.as_str(),
            creds.secret_access_key.expose_secret(),
            Some(creds.session_token.expose_secret().to_owned()),
        ),
    )
    .expect("client");
    blobs
        .write(bytes_stream(b"probe".to_vec(), 1024))
        .await
        .is_ok()
}

/// Polls writes with `creds` on `node` until one is refused; panics after 1 s. Returns how
/// long it took.
async fn refused_within_a_second(
    node: &Node,
    creds: &mayfly_core::TemporaryCredentials,
    what: &str,
) -> Duration {
    let start = Instant::now();
    loop {
        if !write_with(node, creds).await {
            let took = start.elapsed();
            println!("{what}: node b refused the child's write after {took:?}");
            return took;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{what}: node b still accepts the child's write after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parent_changes_on_one_node_bind_children_on_another_within_a_second() {
    use mayfly_client::{CreateTokenRequest, TempCredentialsRequest};
    use mayfly_core::{AccessKeyId, Permission};

    let dir = tempfile::tempdir().expect("tempdir");
    let (upstream, blobs_url, up_key, up_secret) = upstream(dir.path()).await;
    let (pg_url, db_name, admin) = fresh_database().await;
    let a = start_node(dir.path(), "a", &pg_url, &blobs_url, &up_key, &up_secret);
    let b = start_node(dir.path(), "b", &pg_url, &blobs_url, &up_key, &up_secret);
    let token = banner_field(&a.stdout, "api_token");
    let account =
        mayfly_core::AccountId::parse(&banner_field(&a.stdout, "account_id")).expect("account");
    let on_a = client(&a.api_url, &token);
    for name in ["shared", "other"] {
        on_a.create_bucket(
            &account,
            &CreateBucketRequest::new(BucketName::parse(name).expect("name")),
        )
        .await
        .expect("bucket");
    }
    let shared = BucketName::parse("shared").expect("name");
    let other = BucketName::parse("other").expect("name");

    // A read-write parent on both buckets and a read-write child on `shared`, minted on a,
    // whose write works on b.
    let parent_and_child = || async {
        let parent = on_a
            .create_token(
                &account,
                &CreateTokenRequest::new("parent", Permission::ObjectReadWrite)
                    .buckets(vec![shared.clone(), other.clone()]),
            )
            .await
            .expect("parent token");
        let child = on_a
            .create_temp_credentials(
                &account,
                &TempCredentialsRequest::new(
                    shared.clone(),
                    parent.info.id.clone(),
                    Permission::ObjectReadWrite,
                ),
            )
            .await
            .expect("child credentials");
        assert!(write_with(&b, &child).await, "the child writes on node b");
        (parent.info.id, child)
    };
    let put = |id: &AccessKeyId, body: serde_json::Value| {
        let path = format!("/accounts/{account}/tokens/{id}");
        let (api, token) = (a.api_url.clone(), token.clone());
        async move {
            let (status, answer) = api_request(&api, "PUT", &path, &token, Some(&body)).await;
            assert_eq!(status, 200, "update on node a: {answer}");
            answer
        }
    };
    let mut delays = Vec::new();

    // Downgrade: object-read-write -> object-read-only.
    let (id, child) = parent_and_child().await;
    put(
        &id,
        serde_json::json!({"name": "parent", "permission": "object-read-only", "buckets": ["shared", "other"]}),
    )
    .await;
    delays.push(refused_within_a_second(&b, &child, "downgrade to read-only").await);

    // The child's bucket removed from the parent.
    let (id, child) = parent_and_child().await;
    put(
        &id,
        serde_json::json!({"name": "parent", "permission": "object-read-write", "buckets": ["other"]}),
    )
    .await;
    delays.push(refused_within_a_second(&b, &child, "bucket removed").await);

    // Disabled.
    let (id, child) = parent_and_child().await;
    let answer = put(
        &id,
        serde_json::json!({"name": "parent", "permission": "object-read-write", "buckets": ["shared", "other"], "status": "disabled"}),
    )
    .await;
    assert_eq!(answer["result"]["status"], "disabled");
    delays.push(refused_within_a_second(&b, &child, "disabled").await);

    // Revoked (DELETE).
    let (id, child) = parent_and_child().await;
    on_a.revoke_token(&account, &id).await.expect("revoke on a");
    delays.push(refused_within_a_second(&b, &child, "revoked").await);

    let worst = delays.iter().max().copied().unwrap_or_default();
    println!("worst delay until node b refused: {worst:?} (all: {delays:?})");

    upstream.shutdown();
    drop((a, b));
    admin
        .batch_execute(&format!("DROP DATABASE \"{db_name}\" WITH (FORCE)"))
        .await
        .expect("drop the test database");
}

/// `mayfly serve` with only the given arguments and environment (nothing inherited from the
/// helpers above), stdout and stderr to `<name>.out` / `<name>.err`.
fn spawn_configured(dir: &Path, name: &str, args: &[&str], envs: &[(&str, &str)]) -> Node {
    let child = Command::new(env!("CARGO_BIN_EXE_mayfly"))
        .arg("serve")
        .args(args)
        .arg("--ready-file")
        .arg(dir.join(format!("{name}.ready")))
        .env_remove("MAYFLY_METADATA")
        .env_remove("MAYFLY_BLOBS")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join(format!("{name}.out"))).expect("stdout file"))
        .stderr(std::fs::File::create(dir.join(format!("{name}.err"))).expect("stderr file"))
        .spawn()
        .expect("spawn mayfly serve");
    Node {
        child,
        api_url: String::new(),
        s3_url: String::new(),
        stdout: String::new(),
    }
}

/// A throwaway PostgreSQL with `ssl=on` (scripts/pg-test-server start DIR --tls), stopped on
/// drop.
struct TlsPg {
    dir: std::path::PathBuf,
    url: String,
}

impl TlsPg {
    fn start(dir: &Path) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-test-server");
        let dir = dir.join("tls-pg");
        let out = Command::new(&script)
            .arg("start")
            .arg(&dir)
            .arg("--tls")
            .output()
            .expect("run scripts/pg-test-server (needs PostgreSQL's server binaries and openssl)");
        assert!(
            out.status.success(),
            "pg-test-server start --tls: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned();
        Self { dir, url }
    }
}

impl Drop for TlsPg {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-test-server");
        let _ = Command::new(script).arg("stop").arg(&self.dir).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_settings_from_file_env_and_flags_reach_postgres_and_secrets_stay_out_of_logs() {
    const PASSWORD: &str = "pw-never-logged-7b";
    let dir = tempfile::tempdir().expect("tempdir");
    let (upstream, blobs_url, up_key, up_secret) = upstream(dir.path()).await;
    let pg = TlsPg::start(dir.path());
    // Trust auth ignores the password; it is here to prove it never reaches a log line.
    let url = pg.url.replacen(
        "postgres://mayfly@",
        &format!("postgres://mayfly:{PASSWORD}@"),
        1,
    );
    let ca = pg.dir.join("tls/ca.pem");
    let other_ca = pg.dir.join("tls/other-ca.pem");
    let config = dir.path().join("mayfly.toml");
    std::fs::write(
        &config,
        format!(
            "api_listen = \"127.0.0.1:0\"\ns3_listen = \"127.0.0.1:0\"\nlog_format = \"json\"\n\
             metadata = \"{url}\"\nblobs = \"{blobs_url}\"\nblobs_access_key_id = \"{up_key}\"\n\
             blobs_secret_access_key = \"{up_secret}\"\npg_pool_size = 3\n\
             pg_connect_timeout = 5\npg_sslmode = \"verify-full\"\npg_ssl_root_cert = \"{}\"\n",
            ca.display()
        ),
    )
    .expect("config file");
    let config = config.to_str().expect("utf-8 path");
    let data = |n: &str| dir.path().join(n).display().to_string();
    let logs = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}.err"))).unwrap_or_default()
            + &std::fs::read_to_string(dir.path().join(format!("{name}.out"))).unwrap_or_default()
    };
    let assert_no_secrets = |name: &str| {
        let text = logs(name);
        assert!(
            !text.contains(PASSWORD),
            "{name}: the PostgreSQL password was logged"
        );
        assert!(
            !text.contains(&up_secret),
            "{name}: the blob secret was logged"
        );
    };

    // Everything from the file: verify-full against the right CA connects over TLS.
    let mut a = spawn_configured(
        dir.path(),
        "file",
        &["--config", config, "--data-dir", &data("file")],
        &[("MAYFLY_LOG", "debug")],
    );
    a.wait_ready(dir.path(), "file");
    let log = logs("file");
    assert!(
        log.contains("\"pg_tls\":true") && log.contains("\"pg_sslmode\":\"verify-full\""),
        "the startup log reports TLS to PostgreSQL: {log}"
    );
    assert!(log.contains("***"), "the URL is logged redacted");
    assert!(a.stdout.contains("api_token:"), "the first node bootstraps");
    assert_no_secrets("file");
    drop(a);

    // The environment beats the file: an unrelated CA, so the node refuses to start.
    let mut refused = spawn_configured(
        dir.path(),
        "env",
        &["--config", config, "--data-dir", &data("env")],
        &[("MAYFLY_PG_SSL_ROOT_CERT", other_ca.to_str().expect("path"))],
    );
    let status = tokio::task::spawn_blocking(move || refused.child.wait().map(|s| (s, refused)))
        .await
        .expect("join")
        .expect("wait");
    assert!(
        !status.0.success(),
        "verify-full with a foreign CA must not start"
    );
    let log = logs("env");
    assert!(
        log.contains("certificate"),
        "the error says the certificate was refused: {log}"
    );
    assert_no_secrets("env");
    println!("refused start: {}", log.lines().last().unwrap_or_default());

    // A flag beats the environment: the right CA again, and it serves.
    let mut b = spawn_configured(
        dir.path(),
        "flag",
        &[
            "--config",
            config,
            "--data-dir",
            &data("flag"),
            "--pg-ssl-root-cert",
            ca.to_str().expect("path"),
        ],
        &[("MAYFLY_PG_SSL_ROOT_CERT", other_ca.to_str().expect("path"))],
    );
    b.wait_ready(dir.path(), "flag");
    assert!(!b.stdout.contains("api_token:"), "no second bootstrap");
    assert_no_secrets("flag");
    drop(b);
    upstream.shutdown();
}
