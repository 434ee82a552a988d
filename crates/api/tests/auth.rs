//! Bearer authentication: missing, malformed, Global API Key, unknown, revoked, foreign.

use axum::body::Body;
use axum::http::{Method, Request};
use mayfly_core::{AccessKeyId, Permission};

use crate::support::*;

fn buckets_path() -> String {
    format!("/client/v4/accounts/{ACCOUNT}/r2/buckets")
}

#[tokio::test]
async fn authorization_header_variants() {
    let h = Harness::new().await;
    let with = |value: &str| {
        Request::builder()
            .uri(buckets_path())
            .header("authorization", value)
            .body(Body::empty())
            .unwrap()
    };
    h.send(
        Request::builder()
            .uri(buckets_path())
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .assert_error(401, 10000);
    for malformed in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "token",
        "Bearer a b",
    ] {
        h.send(with(malformed)).await.assert_error(400, 6003);
    }
    h.send(with("Bearer unknown-token-value"))
        .await
        .assert_error(401, 9109);
    let admin = h.admin.value.clone();
    h.send(with(&format!("bearer {admin}"))).await.ok();
}

#[tokio::test]
async fn global_api_key_headers_get_a_clear_refusal() {
    let h = Harness::new().await;
    let request = Request::builder()
        .uri(buckets_path())
        .header("x-auth-email", "user@example.com")
        .header("x-auth-key", "fake-global-key")
        .body(Body::empty())
        .unwrap();
    let answer = h.send(request).await;
    answer.assert_error(401, 9103);
    assert!(
        answer.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
}

#[tokio::test]
async fn revoked_token_is_refused_on_the_very_next_request() {
    let h = Harness::new().await;
    let token = h.token(ACCOUNT, Permission::AdminReadOnly, None).await;
    let path = format!("/accounts/{ACCOUNT}/r2/buckets");
    h.call(Method::GET, &path, Some(&token.value), None)
        .await
        .ok();
    h.store
        .revoke_token(&account(), &AccessKeyId::parse(&token.id).unwrap())
        .await
        .unwrap();
    h.call(Method::GET, &path, Some(&token.value), None)
        .await
        .assert_error(401, 9109);
}

#[tokio::test]
async fn a_token_cannot_reach_another_account() {
    let h = Harness::new().await;
    let path = format!("/accounts/{OTHER_ACCOUNT}/r2/buckets");
    h.admin_call(Method::GET, &path, None)
        .await
        .assert_error(403, 9109);
    h.admin_call(Method::GET, "/accounts/zz/r2/buckets", None)
        .await
        .assert_error(400, 7003);
}
