//! mayfly-client's requests against what the official SDKs send.
//!
//! A raw TCP listener (no HTTP framework: it reads the bytes reqwest writes) records every
//! request the client makes for each call the `cloudflare` Python 5.9.0 and npm 7.3.0 SDKs
//! were captured making (`tests/fixtures/wire/cf_python.json`, `cf_node.json`, made by
//! `scripts/capture-wire`), and the test compares method, path, query (order included), content
//! type, body bytes, the auth scheme and the retry headers. For every captured error answer the listener replays the
//! same status, headers and body, and the client must make as many attempts, with the same
//! `x-stainless-retry-count` sequence, and classify the error as the SDK did.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mayfly_client::{
    ApiToken, Client, CreateBucketRequest, Error, ErrorKind, ListBucketsParams,
    TempCredentialsRequest,
};
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const WIRE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/wire/");
/// The account, parent, bucket and bearer token the captures used.
const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
const PARENT: &str = "example-access-key-id";
const BUCKET: &str = "example-bucket";
const TOKEN: &str = "fake-cf-api-token-Y2xvdWRmbGFyZQ";

/// One request as it arrived on the socket.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the listener answers every request with.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// A raw HTTP/1.1 listener on port 0: parses request line, headers and a Content-Length body,
/// records them, answers with `answer`, keeps the connection alive.
async fn listen(answer: Answer) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let record = Arc::clone(&record);
            let answer = answer.clone();
            tokio::spawn(async move {
                let (read, mut write) = sock.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.trim_end().splitn(3, ' ');
                    let method = parts.next().unwrap_or_default().to_owned();
                    let target = parts.next().unwrap_or_default().to_owned();
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.push((k.trim().to_owned(), v.trim().to_owned()));
                        }
                    }
                    let len = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; len];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    record.lock().expect("lock").push(Seen {
                        method,
                        target,
                        headers,
                        body,
                    });
                    let mut out = format!(
                        "HTTP/1.1 {} X\r\ncontent-length: {}\r\n",
                        answer.status,
                        answer.body.len()
                    );
                    for (k, v) in &answer.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&answer.body);
                    if write.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}/client/v4"), seen)
}

fn ok(result: Value) -> Answer {
    Answer {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: json!({"success": true, "errors": [], "messages": [], "result": result}).to_string(),
    }
}

fn client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .api_token(ApiToken::new(TOKEN))
        .initial_retry_delay(Duration::from_millis(5))
        .build()
        .expect("client")
}

fn scenarios(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{WIRE}{file}"))
        .unwrap_or_else(|e| panic!("cannot read the capture {WIRE}{file}: {e}"));
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(a)) => a,
        other => panic!("{file} is not a JSON list: {other:?}"),
    }
}

fn scenario<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no captured scenario named {name:?}"))
}

fn captured_header<'a>(req: &'a Value, name: &str) -> Option<&'a str> {
    req["headers"].as_array()?.iter().find_map(|h| {
        let k = h[0].as_str()?;
        k.eq_ignore_ascii_case(name)
            .then(|| h[1].as_str())
            .flatten()
    })
}

fn temp_request() -> TempCredentialsRequest {
    TempCredentialsRequest::new(
        BucketName::parse(BUCKET).expect("bucket"),
        AccessKeyId::parse(PARENT).expect("parent"),
        Permission::ObjectReadWrite,
    )
    .ttl_seconds(3600)
}

fn account() -> AccountId {
    AccountId::parse(ACCOUNT).expect("account")
}

fn my_bucket() -> BucketName {
    BucketName::parse("my-bucket").expect("bucket")
}

fn bucket_json() -> Value {
    json!({"name": "my-bucket", "creation_date": "2024-01-01T00:00:00.000Z",
           "location": "weur", "storage_class": "Standard", "jurisdiction": "default"})
}

fn creds_json() -> Value {
    json!({"accessKeyId": PARENT,
           "secretAccessKey": "185c3470580df7f25e8ff38cd591f6966c393160cd4d1c7f1a27e7850054aead",
           "sessionToken": vector_session_token().0})
}

/// A client call, its result reduced to success or the error.
type Call = fn(Client) -> Pin<Box<dyn Future<Output = Result<(), Error>>>>;

/// The calls both SDKs were captured making, as mayfly-client calls: (Python scenario, Node
/// scenario, canned result, the call).
fn calls() -> Vec<(&'static str, Option<&'static str>, Value, Call)> {
    vec![
        (
            "seed call, success envelope (a)",
            Some("seed call, success envelope (a)"),
            creds_json(),
            |c| {
                Box::pin(async move {
                    c.create_temp_credentials(&account(), &temp_request())
                        .await
                        .map(drop)
                })
            },
        ),
        (
            "with objects=[...] and prefixes=[...]",
            Some("with objects and prefixes"),
            creds_json(),
            |c| {
                Box::pin(async move {
                    let req = temp_request()
                        .objects(vec!["photos/cat.png".into(), "docs/a b.txt".into()])
                        .prefixes(vec!["logs/".into(), "tmp/".into()]);
                    c.create_temp_credentials(&account(), &req).await.map(drop)
                })
            },
        ),
        (
            "buckets.create(name='my-bucket')",
            Some("buckets.create({name:'my-bucket'})"),
            bucket_json(),
            |c| {
                Box::pin(async move {
                    c.create_bucket(&account(), &CreateBucketRequest::new(my_bucket()))
                        .await
                        .map(drop)
                })
            },
        ),
        (
            "buckets.create with location_hint, storage_class, cf_r2_jurisdiction",
            Some("buckets.create with locationHint, storageClass, cf-r2-jurisdiction"),
            bucket_json(),
            |c| {
                Box::pin(async move {
                    let req = CreateBucketRequest::new(my_bucket())
                        .location_hint("weur")
                        .storage_class("InfrequentAccess")
                        .jurisdiction("eu");
                    c.create_bucket(&account(), &req).await.map(drop)
                })
            },
        ),
        (
            "buckets.list()",
            None,
            json!({"buckets": [bucket_json()]}),
            |c| {
                Box::pin(async move {
                    c.list_buckets(&account(), &ListBucketsParams::default())
                        .await
                        .map(drop)
                })
            },
        ),
        (
            "buckets.list(all params)",
            Some("buckets.list (all params)"),
            json!({"buckets": [bucket_json()]}),
            |c| {
                Box::pin(async move {
                    let params = ListBucketsParams {
                        name_contains: Some("my".into()),
                        start_after: Some("a".into()),
                        per_page: Some(5),
                        cursor: Some("abc=".into()),
                        order: Some("name".into()),
                        direction: Some("desc".into()),
                        jurisdiction: Some("eu".into()),
                    };
                    c.list_buckets(&account(), &params).await.map(drop)
                })
            },
        ),
        (
            "buckets.get('my-bucket')",
            Some("buckets.get('my-bucket')"),
            bucket_json(),
            |c| Box::pin(async move { c.get_bucket(&account(), &my_bucket()).await.map(drop) }),
        ),
        (
            "buckets.delete('my-bucket')",
            Some("buckets.delete('my-bucket')"),
            json!({}),
            |c| Box::pin(async move { c.delete_bucket(&account(), &my_bucket()).await.map(drop) }),
        ),
    ]
}

/// Compares one request of ours with the SDKs' captures of the same call.
fn compare(what: &str, ours: &Seen, captures: &[&Value]) {
    for cap in captures {
        assert_eq!(
            ours.method,
            cap["method"].as_str().unwrap_or_default(),
            "{what}: method"
        );
        assert_eq!(
            ours.target,
            cap["target"].as_str().unwrap_or_default(),
            "{what}: path and query"
        );
        let body = cap["body"].as_str().unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&ours.body),
            body,
            "{what}: body bytes"
        );
        if !body.is_empty() {
            // Same bytes implies the same shape; checked apart so a failure says which.
            let theirs: Value = serde_json::from_str(body).expect("captured JSON body");
            let mine: Value = serde_json::from_slice(&ours.body).expect("our JSON body");
            assert_eq!(mine, theirs, "{what}: JSON body");
            assert_eq!(
                ours.header("content-type"),
                Some("application/json"),
                "{what}"
            );
            assert_eq!(
                captured_header(cap, "content-type"),
                Some("application/json")
            );
        }
        assert_eq!(
            ours.header("authorization"),
            captured_header(cap, "authorization"),
            "{what}: auth"
        );
        assert_eq!(
            ours.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(
            ours.header("accept"),
            captured_header(cap, "accept"),
            "{what}: accept"
        );
        assert_eq!(
            ours.header("x-stainless-retry-count"),
            captured_header(cap, "x-stainless-retry-count"),
            "{what}: retry count header"
        );
        if let Some(j) = captured_header(cap, "cf-r2-jurisdiction") {
            assert_eq!(
                ours.header("cf-r2-jurisdiction"),
                Some(j),
                "{what}: jurisdiction"
            );
        }
    }
    // A bodyless request: the Node SDK sends no content type, Python sends one on DELETE;
    // ours must agree with at least one of them.
    if ours.body.is_empty() {
        let ct = ours.header("content-type");
        assert!(
            captures
                .iter()
                .any(|c| captured_header(c, "content-type") == ct),
            "{what}: content-type {ct:?} matches neither SDK"
        );
    }
}

#[tokio::test]
async fn requests_match_both_official_sdks() {
    let python = scenarios("cf_python.json");
    let node = scenarios("cf_node.json");
    let mut compared = 0;
    for (py_name, node_name, result, call) in calls() {
        let (base, seen) = listen(ok(result)).await;
        call(client(&base))
            .await
            .unwrap_or_else(|e| panic!("{py_name}: {e}"));
        let ours = seen.lock().expect("lock").clone();
        assert_eq!(ours.len(), 1, "{py_name}: one request");
        let mut caps = vec![&scenario(&python, py_name)["requests"][0]];
        if let Some(n) = node_name {
            caps.push(&scenario(&node, n)["requests"][0]);
        }
        compare(py_name, &ours[0], &caps);
        compared += caps.len();
    }
    assert_eq!(compared, 15);
}

/// Every captured error answer (same status every attempt) replayed to the client: same number
/// of attempts, same retry-count headers, same error class and code as the Python SDK saw.
#[tokio::test]
async fn error_answers_are_retried_and_classified_like_the_sdk() {
    let python = scenarios("cf_python.json");
    let mut replayed = 0;
    for s in &python {
        let name = s["name"].as_str().unwrap_or_default();
        let (Some(status), Some(body)) = (s["exc_status_code"].as_u64(), s["exc_body"].as_object())
        else {
            continue;
        };
        // Only answers the capture repeated on every attempt, for the seed call.
        let reqs = s["requests"].as_array().cloned().unwrap_or_default();
        let same = reqs
            .iter()
            .all(|r| r["answered"]["status"].as_u64() == Some(status));
        if !same
            || !reqs[0]["path"]
                .as_str()
                .unwrap_or_default()
                .ends_with("temp-access-credentials")
        {
            continue;
        }
        let headers = s["exc_response_headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "date" | "server" | "content-length"))
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let answer = Answer {
            status: u16::try_from(status).expect("status"),
            headers,
            body: Value::Object(body.clone()).to_string(),
        };
        let (base, seen) = listen(answer).await;
        let err = client(&base)
            .create_temp_credentials(&account(), &temp_request())
            .await
            .expect_err(name);
        let ours = seen.lock().expect("lock").clone();
        let counts: Vec<&str> = ours
            .iter()
            .map(|r| r.header("x-stainless-retry-count").unwrap_or("?"))
            .collect();
        let theirs: Vec<&str> = s["retry_count_headers"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(counts, theirs, "{name}: attempts");
        for (r, cap) in ours.iter().zip(&reqs) {
            compare(name, r, &[cap]);
        }
        let api = err
            .as_api()
            .unwrap_or_else(|| panic!("{name}: not an API error: {err}"));
        let kind = match s["exc_class"].as_str().unwrap_or_default() {
            "cloudflare.BadRequestError" => ErrorKind::BadRequest,
            "cloudflare.AuthenticationError" => ErrorKind::Authentication,
            "cloudflare.PermissionDeniedError" => ErrorKind::PermissionDenied,
            "cloudflare.NotFoundError" => ErrorKind::NotFound,
            "cloudflare.ConflictError" => ErrorKind::Conflict,
            "cloudflare.UnprocessableEntityError" => ErrorKind::UnprocessableEntity,
            "cloudflare.RateLimitError" => ErrorKind::RateLimited,
            "cloudflare.InternalServerError" => ErrorKind::InternalServer,
            _ => ErrorKind::Other,
        };
        assert_eq!(api.kind(), kind, "{name}: class");
        let codes: Vec<u64> = s["exc_errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["code"].as_u64()).collect())
            .unwrap_or_default();
        assert_eq!(
            api.code().map(u64::from),
            codes.first().copied(),
            "{name}: code"
        );
        replayed += 1;
    }
    assert!(replayed >= 12, "only {replayed} error scenarios replayed");
}

/// A real session token, as a server answers (SPEC's test vector): the client derives the
/// credential id from it, so a truncated stand-in would be refused as undecodable.
fn vector_session_token() -> (String, mayfly_core::CredentialId) {
    let creds = mayfly_core::testing::spec_vector_credentials();
    (creds.session_token.expose_secret().to_owned(), creds.id)
}
