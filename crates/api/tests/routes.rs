//! Routing and body-level rejections come out as envelopes, never as axum's plain text.

use axum::body::Body;
use axum::http::{Method, Request};

use crate::support::*;

#[tokio::test]
async fn unknown_routes_and_methods_are_envelopes() {
    let h = Harness::new().await;
    h.admin_call(Method::GET, "/nope", None)
        .await
        .assert_error(404, 7000);
    h.admin_call(
        Method::GET,
        &format!("/accounts/{ACCOUNT}/r2/nothing"),
        None,
    )
    .await
    .assert_error(404, 7000);
    h.send(
        Request::builder()
            .uri("/elsewhere")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .assert_error(404, 7000);
    h.admin_call(
        Method::PUT,
        &format!("/accounts/{ACCOUNT}/r2/buckets"),
        Some("{}"),
    )
    .await
    .assert_error(405, 7001);
    h.admin_call(
        Method::GET,
        &format!("/accounts/{ACCOUNT}/r2/temp-access-credentials"),
        None,
    )
    .await
    .assert_error(405, 7001);
}

#[tokio::test]
async fn body_rejections_are_envelopes() {
    let h = Harness::new().await;
    let path = format!("/client/v4/accounts/{ACCOUNT}/r2/buckets");
    let auth = format!("Bearer {}", h.admin.value);
    let text = Request::builder()
        .method(Method::POST)
        .uri(&path)
        .header("authorization", &auth)
        .header("content-type", "text/plain")
        .body(Body::from(r#"{"name":"abc"}"#))
        .unwrap();
    h.send(text).await.assert_error(415, 6003);
    let huge = Request::builder()
        .method(Method::POST)
        .uri(&path)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body(Body::from(vec![b' '; 2 * 1024 * 1024]))
        .unwrap();
    h.send(huge).await.assert_error(413, 6005);
    // No Content-Type at all (curl -d without -H) is accepted.
    let bare = Request::builder()
        .method(Method::POST)
        .uri(&path)
        .header("authorization", &auth)
        .body(Body::from(r#"{"name":"bare-bucket"}"#))
        .unwrap();
    h.send(bare).await.ok();
}
