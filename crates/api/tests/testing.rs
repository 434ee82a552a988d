//! The testing API (`POST /client/v4/mayfly/accounts`): absent on a normal server, and when
//! mounted, a fresh account per call that shares nothing with the others.

use axum::http::Method;
use mayfly_api::{ApiConfig, ApiState, router};
use mayfly_core::Permission;

use crate::support::{ACCOUNT, AUDIENCE, Harness};

/// The harness with the testing API mounted.
async fn with_testing_api() -> Harness {
    let mut h = Harness::new().await;
    h.app = router(ApiState::new(
        h.store.clone(),
        h.clock.clone(),
        ApiConfig::new(AUDIENCE).with_testing_api(true),
    ));
    h
}

#[tokio::test]
async fn normal_server_has_no_testing_api() {
    let h = Harness::new().await;
    // Even the admin gets the v4 envelope's 404 for an unknown route: nothing to guess at.
    h.admin_call(Method::POST, "/mayfly/accounts", None)
        .await
        .assert_error(404, 7000);
    h.call(Method::POST, "/mayfly/accounts", None, None)
        .await
        .assert_error(404, 7000);
    assert_eq!(h.store.list_accounts().await.unwrap().len(), 2);
}

#[tokio::test]
async fn fresh_account_is_empty_isolated_and_usable() {
    let h = with_testing_api().await;
    h.bucket(ACCOUNT, "shared-name").await;

    let first = h.admin_call(Method::POST, "/mayfly/accounts", None).await;
    let fresh = first.ok().clone();
    let account = fresh["account_id"].as_str().unwrap().to_owned();
    let token = fresh["api_token"].as_str().unwrap().to_owned();
    assert_eq!(account.len(), 32);
    assert_ne!(account, ACCOUNT);
    assert_eq!(fresh["access_key_id"], fresh["token_id"]);
    assert_eq!(
        fresh["secret_access_key"].as_str(),
        Some(mayfly_core::sha256_hex(token.as_bytes()).as_str())
    );

    // Empty: no buckets, one token (its own admin token).
    let buckets = h
        .call(
            Method::GET,
            &format!("/accounts/{account}/r2/buckets"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(buckets.ok()["buckets"], serde_json::json!([]));
    let tokens = h
        .call(
            Method::GET,
            &format!("/accounts/{account}/tokens"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(tokens.ok().as_array().map(Vec::len), Some(1));

    // Isolated: a bucket name taken in the first account is free here, and the first
    // account stays out of reach.
    h.call(
        Method::POST,
        &format!("/accounts/{account}/r2/buckets"),
        Some(&token),
        Some(r#"{"name":"shared-name"}"#),
    )
    .await
    .ok();
    h.call(
        Method::GET,
        &format!("/accounts/{ACCOUNT}/r2/buckets"),
        Some(&token),
        None,
    )
    .await
    .assert_error(403, 9109);

    // Every call is a new account.
    let second = h.admin_call(Method::POST, "/mayfly/accounts", None).await;
    assert_ne!(second.ok()["account_id"].as_str(), Some(account.as_str()));
    assert_eq!(h.store.list_accounts().await.unwrap().len(), 4);
}

#[tokio::test]
async fn testing_api_needs_an_admin_write_token() {
    let h = with_testing_api().await;
    h.call(Method::POST, "/mayfly/accounts", None, None)
        .await
        .assert_error(401, 10000);
    let reader = h.token(ACCOUNT, Permission::AdminReadOnly, None).await;
    h.call(Method::POST, "/mayfly/accounts", Some(&reader.value), None)
        .await
        .assert_error(403, 10000);
    let writer = h.token(ACCOUNT, Permission::ObjectReadWrite, None).await;
    h.call(Method::POST, "/mayfly/accounts", Some(&writer.value), None)
        .await
        .assert_error(403, 10000);
    assert_eq!(h.store.list_accounts().await.unwrap().len(), 2);
}
