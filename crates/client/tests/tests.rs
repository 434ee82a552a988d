//! The client against an in-process fake API on port 0: envelope decoding, error classes and
//! the retry policy (attempt counts, identical bodies).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use mayfly_client::{ApiToken, Client, ErrorKind, TempCredentialsRequest, codes};
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission};

const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

#[derive(Clone, Default)]
struct Seen {
    hits: Arc<AtomicUsize>,
    bodies: Arc<std::sync::Mutex<Vec<Bytes>>>,
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/client/v4")
}

fn client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .api_token(ApiToken::new("test-token"))
        .initial_retry_delay(Duration::from_millis(5))
        .build()
        .expect("client")
}

fn envelope_error(status: StatusCode, code: u32) -> impl IntoResponse {
    let body = format!(
        r#"{{"success":false,"errors":[{{"code":{code},"message":"m","source":{{"pointer":"/bucket"}}}}],"messages":[],"result":null}}"#
    );
    (status, [("content-type", "application/json")], body)
}

fn request() -> TempCredentialsRequest {
    TempCredentialsRequest::new(
        BucketName::parse("my-bucket").expect("bucket"),
        AccessKeyId::parse("0123456789abcdef0123456789abcdef").expect("key"),
        Permission::ObjectReadOnly,
    )
    .ttl_seconds(3600)
}

#[tokio::test]
async fn server_errors_are_retried_with_identical_bodies_then_succeed() {
    let seen = Seen::default();
    let (token, id) = vector_session_token();
    let answered = token.clone();
    let app = Router::new()
        .route(
            "/client/v4/accounts/{a}/r2/temp-access-credentials",
            post(move |State(s): State<Seen>, body: Bytes| async move {
                let n = s.hits.fetch_add(1, Ordering::SeqCst);
                s.bodies.lock().expect("lock").push(body);
                if n == 0 {
                    return envelope_error(StatusCode::INTERNAL_SERVER_ERROR, 10001).into_response();
                }
                let ok = serde_json::json!({"success":true,"errors":[],"messages":[],"result":{
                    "accessKeyId":"0123456789abcdef0123456789abcdef",
                    "secretAccessKey":"947cb3c34949b949560bbac48d7cc00251a20b0bd7ea91f6d9f21e526c41f22f",
                    "sessionToken": answered}});
                axum::Json(ok).into_response()
            }),
        )
        .with_state(seen.clone());
    let base = serve(app).await;
    let account = AccountId::parse(ACCOUNT).expect("account");
    let creds = client(&base)
        .create_temp_credentials(&account, &request())
        .await
        .expect("creds");
    assert_eq!(
        creds.access_key_id.as_str(),
        "0123456789abcdef0123456789abcdef"
    );
    assert_eq!(creds.session_token.expose_secret(), token);
    assert_eq!(
        creds.id, id,
        "the id is derived from the token the server sent"
    );
    assert_eq!(seen.hits.load(Ordering::SeqCst), 2);
    let bodies = seen.bodies.lock().expect("lock");
    assert_eq!(bodies[0], bodies[1]);
}

#[tokio::test]
async fn retries_stop_after_two() {
    let seen = Seen::default();
    let app = Router::new()
        .route(
            "/client/v4/accounts/{a}/r2/buckets",
            get(|State(s): State<Seen>| async move {
                s.hits.fetch_add(1, Ordering::SeqCst);
                envelope_error(StatusCode::TOO_MANY_REQUESTS, 10000)
            }),
        )
        .with_state(seen.clone());
    let base = serve(app).await;
    let account = AccountId::parse(ACCOUNT).expect("account");
    let err = client(&base)
        .list_buckets(&account, &Default::default())
        .await
        .expect_err("429");
    assert_eq!(err.as_api().map(|e| e.kind()), Some(ErrorKind::RateLimited));
    assert_eq!(seen.hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn not_found_is_not_retried_and_keeps_code_and_pointer() {
    let seen = Seen::default();
    let app = Router::new()
        .route(
            "/client/v4/accounts/{a}/r2/buckets/{b}",
            get(|State(s): State<Seen>| async move {
                s.hits.fetch_add(1, Ordering::SeqCst);
                envelope_error(StatusCode::NOT_FOUND, codes::NO_SUCH_BUCKET)
            }),
        )
        .with_state(seen.clone());
    let base = serve(app).await;
    let account = AccountId::parse(ACCOUNT).expect("account");
    let name = BucketName::parse("nope-bucket").expect("bucket");
    let err = client(&base)
        .get_bucket(&account, &name)
        .await
        .expect_err("404");
    let api = err.as_api().expect("api error");
    assert_eq!(api.kind(), ErrorKind::NotFound);
    assert_eq!(api.code(), Some(codes::NO_SUCH_BUCKET));
    assert_eq!(api.errors()[0].pointer.as_deref(), Some("/bucket"));
    assert_eq!(seen.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let c = Client::builder()
        .base_url(format!("http://{addr}/client/v4"))
        .api_token(ApiToken::new("t"))
        .max_retries(0)
        .build()
        .expect("client");
    let account = AccountId::parse(ACCOUNT).expect("account");
    let err = c
        .list_buckets(&account, &Default::default())
        .await
        .expect_err("refused");
    assert!(matches!(err, mayfly_client::Error::Transport(_)), "{err}");
}

#[tokio::test]
async fn update_token_is_a_put_in_cloudflares_shape_retried_like_every_call() {
    let seen = Seen::default();
    let app = Router::new()
        .route(
            "/client/v4/accounts/{a}/tokens/{t}",
            axum::routing::put(|State(s): State<Seen>, body: Bytes| async move {
                let n = s.hits.fetch_add(1, Ordering::SeqCst);
                s.bodies.lock().expect("lock").push(body);
                if n == 0 {
                    return envelope_error(StatusCode::SERVICE_UNAVAILABLE, 10001).into_response();
                }
                let ok = serde_json::json!({"success":true,"errors":[],"messages":[],"result":{
                    "id":"0123456789abcdef0123456789abcdef","name":"reader","status":"disabled",
                    "permission":"object-read-only","buckets":["my-bucket"],
                    "expires_on":"2030-01-01T00:00:00Z"}});
                axum::Json(ok).into_response()
            }),
        )
        .with_state(seen.clone());
    let base = serve(app).await;
    let account = AccountId::parse(ACCOUNT).expect("account");
    let id = AccessKeyId::parse("0123456789abcdef0123456789abcdef").expect("id");
    let req = mayfly_client::UpdateTokenRequest::new("reader", Permission::ObjectReadOnly)
        .buckets(vec![BucketName::parse("my-bucket").expect("bucket")])
        .status(mayfly_client::UpdateStatus::Disabled)
        .expires_on("2030-01-01T00:00:00Z");
    let info = client(&base)
        .update_token(&account, &id, &req)
        .await
        .expect("update");
    assert_eq!(info.id, id);
    assert_eq!(info.status, "disabled");
    assert_eq!(info.permission, Some(Permission::ObjectReadOnly));
    assert_eq!(info.buckets, Some(vec!["my-bucket".to_owned()]));
    assert_eq!(info.expires_on.as_deref(), Some("2030-01-01T00:00:00Z"));
    // The 503 was retried once, with the same bytes: what the official SDKs do for a PUT.
    assert_eq!(seen.hits.load(Ordering::SeqCst), 2);
    let bodies = seen.bodies.lock().expect("lock");
    assert_eq!(bodies[0], bodies[1]);
    let sent: serde_json::Value = serde_json::from_slice(&bodies[0]).expect("json body");
    assert_eq!(
        sent,
        serde_json::json!({
            "name": "reader",
            "policies": [{
                "effect": "allow",
                "permission_groups": [{"id": "6a018a9f2fc74eb6b293b0c548f38b39"}],
                "resources": {
                    format!("com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_my-bucket"): "*"
                },
            }],
            "status": "disabled",
            "expires_on": "2030-01-01T00:00:00Z",
        })
    );
}

/// A real session token, as a server answers (SPEC's test vector): the client derives the
/// credential id from it, so a truncated stand-in would be refused as undecodable.
fn vector_session_token() -> (String, mayfly_core::CredentialId) {
    let creds = mayfly_core::testing::spec_vector_credentials();
    (creds.session_token.expose_secret().to_owned(), creds.id)
}
