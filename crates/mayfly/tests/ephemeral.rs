//! `mayfly serve --ephemeral`, run as the real binary the way a test runner would: the one JSON
//! line on stdout and what its credentials can do, the temporary data directory gone after
//! every way of stopping, and no orphan server when the runner is killed.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use mayfly_client::{ApiToken, Client, CreateBucketRequest, TempCredentialsRequest};
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mayfly");

/// The seven documented fields, and nothing else.
const FIELDS: [&str; 7] = [
    "access_key_id",
    "account_id",
    "api_token",
    "api_url",
    "pid",
    "s3_url",
    "secret_access_key",
];

/// `mayfly serve --ephemeral <extra>` with TMPDIR set to `tmp` (so the test can see the data
/// directory come and go) and a clean MAYFLY_* environment.
fn spawn(tmp: &Path, extra: &[&str]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--ephemeral"]).args(extra);
    for (k, _) in std::env::vars() {
        if k.starts_with("MAYFLY_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("TMPDIR", tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mayfly serve --ephemeral")
}

/// Reads one line from `out`, failing the test after `limit`.
fn read_line(out: ChildStdout, limit: Duration) -> (Value, BufReader<ChildStdout>) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(out);
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("read stdout");
        let _ = tx.send((n, line, reader));
    });
    let (n, line, reader) = rx.recv_timeout(limit).expect("no JSON line in time");
    assert!(n > 0 && line.ends_with('\n'), "one whole line: {line:?}");
    let value: Value = serde_json::from_str(&line).expect("the line is JSON");
    (value, reader)
}

/// Reads `out` to its end (the server closed stdout, i.e. exited), failing after `limit`.
fn rest(mut out: BufReader<ChildStdout>, limit: Duration) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    rx.recv_timeout(limit)
        .expect("stdout not closed in time: the server is still running")
}

/// The `mayfly-ephemeral-*` entries in `tmp`.
fn data_dirs(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .expect("read tmp")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("mayfly-ephemeral-"))
        .collect()
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(start.elapsed() < limit, "server did not exit in time");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid}");
}

fn s3(url: &str, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_s3::Client {
    let creds = Credentials::new(
        key,
        secret,
        token.map(str::to_owned),
        None,
        "ephemeral-test",
    );
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .endpoint_url(url)
        .region(Region::new("auto"))
        .credentials_provider(creds)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_line_credentials_work_and_stdin_eof_removes_the_data() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut child = spawn(tmp.path(), &["--exit-on-stdin-eof"]);
    let (ready, out) = read_line(
        child.stdout.take().expect("stdout"),
        Duration::from_secs(20),
    );
    let mut keys: Vec<&str> = ready
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, FIELDS, "{ready}");
    assert_eq!(ready["pid"].as_u64(), Some(u64::from(child.id())));
    assert_eq!(data_dirs(tmp.path()).len(), 1, "data lives in TMPDIR");
    let field = |k: &str| ready[k].as_str().expect(k).to_owned();

    // The API token drives the management API...
    let account = AccountId::parse(&field("account_id")).expect("account id");
    let admin = Client::builder()
        .base_url(field("api_url"))
        .api_token(ApiToken::new(field("api_token")))
        .build()
        .expect("client");
    let bucket = BucketName::parse("ephemeral-test").expect("name");
    admin
        .create_bucket(&account, &CreateBucketRequest::new(bucket.clone()))
        .await
        .expect("create bucket");

    // ...the S3 key pair is the same token's...
    let s3_url = field("s3_url");
    let root = s3(
        &s3_url,
        &field("access_key_id"),
        &field("secret_access_key"),
        None,
    );
    root.put_object()
        .bucket(bucket.as_str())
        .key("outside/x")
        .body(ByteStream::from_static(b"root"))
        .send()
        .await
        .expect("admin put");

    // ...and it mints prefix-scoped credentials the S3 endpoint enforces.
    let parent = AccessKeyId::parse(&field("access_key_id")).expect("key id");
    let temp = admin
        .create_temp_credentials(
            &account,
            &TempCredentialsRequest::new(bucket.clone(), parent, Permission::ObjectReadWrite)
                .ttl_seconds(600)
                .prefixes(vec!["inside/".to_owned()]),
        )
        .await
        .expect("mint");
    let scoped = s3(
        &s3_url,
        temp.access_key_id.as_str(),
        temp.secret_access_key.expose_secret(),
        Some(temp.session_token.expose_secret()),
    );
    scoped
        .put_object()
        .bucket(bucket.as_str())
        .key("inside/ok.txt")
        .body(ByteStream::from_static(b"in"))
        .send()
        .await
        .expect("write inside the prefix");
    let denied = scoped
        .put_object()
        .bucket(bucket.as_str())
        .key("outside/no.txt")
        .body(ByteStream::from_static(b"out"))
        .send()
        .await
        .expect_err("write outside the prefix is refused");
    assert_eq!(
        denied.raw_response().map(|r| r.status().as_u16()),
        Some(403),
        "{denied:?}"
    );

    // Closing stdin stops it; nothing else was printed, and the data is gone.
    drop(child.stdin.take());
    assert_eq!(rest(out, Duration::from_secs(20)), "", "one line only");
    let status = wait_exit(&mut child, Duration::from_secs(20));
    assert!(status.success(), "{status}");
    assert_eq!(data_dirs(tmp.path()), Vec::<String>::new());
}

#[test]
fn sigterm_and_sigint_stop_it_and_remove_the_data() {
    for signal in ["-TERM", "-INT"] {
        let tmp = tempfile::tempdir().expect("tmp");
        // Without --exit-on-stdin-eof, stdin closing changes nothing.
        let mut child = spawn(tmp.path(), &[]);
        let (ready, out) = read_line(
            child.stdout.take().expect("stdout"),
            Duration::from_secs(20),
        );
        drop(child.stdin.take());
        std::thread::sleep(Duration::from_millis(200));
        assert!(child.try_wait().expect("try_wait").is_none(), "still up");
        assert_eq!(data_dirs(tmp.path()).len(), 1);
        let pid = u32::try_from(ready["pid"].as_u64().expect("pid")).expect("pid fits");
        kill(signal, pid);
        let status = wait_exit(&mut child, Duration::from_secs(20));
        assert!(status.success(), "{signal}: {status}");
        assert_eq!(rest(out, Duration::from_secs(5)), "");
        assert_eq!(data_dirs(tmp.path()), Vec::<String>::new(), "{signal}");
    }
}

#[test]
fn killing_the_parent_stops_the_orphan() {
    let tmp = tempfile::tempdir().expect("tmp");
    let fifo = tmp.path().join("stdin.fifo");
    // The parent (a shell standing in for a test runner) alone holds the write end of the
    // server's stdin, as a runner's `Popen(stdin=PIPE)` would; the server's stdout is ours.
    let script = r#"mkfifo "$FIFO" && { "$BIN" serve --ephemeral --exit-on-stdin-eof <"$FIFO" 2>/dev/null & exec 3>"$FIFO"; wait; }"#;
    let mut parent = Command::new("sh")
        .args(["-c", script])
        .env("FIFO", &fifo)
        .env("BIN", BIN)
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn parent shell");
    let (ready, out) = read_line(
        parent.stdout.take().expect("stdout"),
        Duration::from_secs(20),
    );
    let server = ready["pid"].as_u64().expect("pid");
    assert_ne!(
        server,
        u64::from(parent.id()),
        "the server is the shell's child"
    );
    assert_eq!(data_dirs(tmp.path()).len(), 1);

    parent.kill().expect("SIGKILL the parent");
    let _ = parent.wait();
    // stdout closes when the orphaned server has exited (the shell's copy died with it).
    let started = Instant::now();
    assert_eq!(rest(out, Duration::from_secs(5)), "");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "orphan took {took:?} to exit"
    );
    let gone = Instant::now();
    while !data_dirs(tmp.path()).is_empty() {
        assert!(gone.elapsed() < Duration::from_secs(2), "data not removed");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_accounts_come_from_the_testing_api() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut child = spawn(tmp.path(), &["--exit-on-stdin-eof"]);
    let (ready, out) = read_line(
        child.stdout.take().expect("stdout"),
        Duration::from_secs(20),
    );
    let api_url = ready["api_url"].as_str().expect("api_url");
    let token = ready["api_token"].as_str().expect("api_token");
    let fresh = post_json(&format!("{api_url}/mayfly/accounts"), token).await;
    assert_eq!(fresh["success"], Value::Bool(true), "{fresh}");
    let account = fresh["result"]["account_id"].as_str().expect("account");
    assert_ne!(Some(account), ready["account_id"].as_str());
    let other = Client::builder()
        .base_url(api_url)
        .api_token(ApiToken::new(
            fresh["result"]["api_token"].as_str().expect("token"),
        ))
        .build()
        .expect("client");
    let account = AccountId::parse(account).expect("account id");
    let page = other
        .list_buckets(&account, &Default::default())
        .await
        .expect("list");
    assert!(page.buckets.is_empty());

    drop(child.stdin.take());
    assert_eq!(rest(out, Duration::from_secs(20)), "");
    assert!(wait_exit(&mut child, Duration::from_secs(20)).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_server_has_no_testing_api() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ready = tmp.path().join("ready.json");
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("MAYFLY_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .args([
            "serve",
            "--api-listen",
            "127.0.0.1:0",
            "--s3-listen",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .arg("--ready-file")
        .arg(&ready)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mayfly serve");
    let started = Instant::now();
    let info: Value = loop {
        if let Ok(text) = std::fs::read_to_string(&ready)
            && let Ok(v) = serde_json::from_str(&text)
        {
            break v;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "not ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let api_url = info["api_url"].as_str().expect("api_url");
    let (head, body) = post(&format!("{api_url}/mayfly/accounts"), "anything").await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert_eq!(body["success"], Value::Bool(false), "{body}");
    assert_eq!(body["errors"][0]["code"], 7000, "{body}");
    kill("-TERM", child.id());
    assert!(wait_exit(&mut child, Duration::from_secs(20)).success());
}

/// A bare HTTP/1.1 POST (no body) that must answer 200; its JSON body.
async fn post_json(url: &str, token: &str) -> Value {
    let (head, body) = post(url, token).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body
}

/// A bare HTTP/1.1 POST (no body): the status line and headers, and the JSON body.
async fn post(url: &str, token: &str) -> (String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut tcp = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("head");
    (
        head.to_owned(),
        serde_json::from_str(body).expect("json body"),
    )
}
