//! R2 API tokens: both create shapes, the S3 key pair, list/get/verify/revoke, permissions.

use axum::http::Method;
use mayfly_core::Permission;
use serde_json::{Value, json};

use crate::support::*;

fn tokens() -> String {
    format!("/accounts/{ACCOUNT}/tokens")
}

/// Creates a token with the admin token from a raw JSON body; returns its id and value.
async fn create_token(h: &Harness, body: &str) -> (String, String) {
    let t = h.admin_call(Method::POST, &tokens(), Some(body)).await;
    let id = t.ok()["id"].as_str().unwrap().to_owned();
    let value = t.ok()["value"].as_str().unwrap().to_owned();
    (id, value)
}

#[tokio::test]
async fn mayfly_shape_creates_a_usable_token_and_key_pair() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "logs").await;
    let answer = h
        .admin_call(
            Method::POST,
            &tokens(),
            Some(r#"{"name":"ci","permission":"object-read-write","buckets":["logs"]}"#),
        )
        .await;
    let t = answer.ok().clone();
    let value = t["value"].as_str().unwrap();
    let id = t["id"].as_str().unwrap();
    assert_eq!(value.len(), 40);
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(id.len(), 32);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(t["access_key_id"], json!(id));
    assert_eq!(
        t["secret_access_key"],
        json!(mayfly_core::sha256_hex(value.as_bytes()))
    );
    assert_eq!(t["status"], json!("active"));
    assert_eq!(t["permission"], json!("object-read-write"));
    assert_eq!(t["buckets"], json!(["logs"]));
    assert_eq!(t["name"], json!("ci"));
    assert_eq!(
        t["policies"][0]["resources"],
        json!({format!("com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_logs"): "*"})
    );
    assert_eq!(
        t["policies"][0]["permission_groups"][0]["name"],
        json!("Workers R2 Storage Bucket Item Write")
    );

    // The value authenticates at once, and the token can mint for itself.
    let verified = h
        .call(Method::GET, "/user/tokens/verify", Some(value), None)
        .await;
    assert_eq!(verified.ok(), &json!({"id": id, "status": "active"}));
    let mint = json!({"bucket": "logs", "parentAccessKeyId": id, "permission": "object-read-only"});
    h.call(
        Method::POST,
        &format!("/accounts/{ACCOUNT}/r2/temp-access-credentials"),
        Some(value),
        Some(&mint.to_string()),
    )
    .await
    .ok();

    // Neither list nor get ever shows the value or the secret again.
    let listed = h.admin_call(Method::GET, &tokens(), None).await;
    let all = listed.ok().as_array().unwrap().clone();
    assert_eq!(all.len(), 2);
    assert_eq!(listed.body["result_info"]["count"], json!(2));
    let got = h
        .admin_call(Method::GET, &format!("{}/{id}", tokens()), None)
        .await;
    for shown in all.iter().chain([got.ok()]) {
        assert!(
            shown.get("value").is_none() && shown.get("secret_access_key").is_none(),
            "{shown}"
        );
    }
    assert_eq!(got.ok()["id"], json!(id));
}

#[tokio::test]
async fn cloudflare_sdk_shape_maps_permission_groups() {
    let h = Harness::new().await;
    let body = json!({
        "name": "sdk",
        "policies": [{
            "effect": "allow",
            "permission_groups": [{"id": "bf7481a1826f439697cb59a20b22293e"}],
            "resources": {format!("com.cloudflare.api.account.{ACCOUNT}"): "*"},
        }],
    });
    let t = h
        .admin_call(Method::POST, &tokens(), Some(&body.to_string()))
        .await;
    assert_eq!(t.ok()["permission"], json!("admin-read-write"));
    assert!(t.ok().get("buckets").is_none());

    let body = json!({
        "name": "items",
        "policies": [{
            "effect": "allow",
            "permission_groups": [{"id": "6a018a9f2fc74eb6b293b0c548f38b39", "name": "Workers R2 Storage Bucket Item Read"}],
            "resources": {format!("com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_logs"): "*"},
        }],
        "expires_on": "2030-01-01T00:00:00Z",
    });
    let t = h
        .admin_call(Method::POST, &tokens(), Some(&body.to_string()))
        .await;
    assert_eq!(t.ok()["permission"], json!("object-read-only"));
    assert_eq!(t.ok()["buckets"], json!(["logs"]));
    assert_eq!(t.ok()["expires_on"], json!("2030-01-01T00:00:00Z"));

    let bad = json!({"name": "x", "policies": [{"effect": "allow", "permission_groups": [{"id": "c8fed203ed3043cba015a93ad1616f1f"}],
        "resources": {format!("com.cloudflare.api.account.{ACCOUNT}"): "*"}}]});
    let answer = h
        .admin_call(Method::POST, &tokens(), Some(&bad.to_string()))
        .await;
    answer.assert_error(400, 10040);
    assert_eq!(answer.pointer(), Some("/policies/0/permission_groups/0/id"));
}

#[tokio::test]
async fn revoke_kills_the_token_at_once_and_replays_succeed() {
    let h = Harness::new().await;
    let (id, value) = create_token(&h, r#"{"name":"tmp","permission":"admin-read-only"}"#).await;
    h.call(
        Method::GET,
        &format!("/accounts/{ACCOUNT}/r2/buckets"),
        Some(&value),
        None,
    )
    .await
    .ok();
    for _ in 0..2 {
        let revoked = h
            .admin_call(Method::DELETE, &format!("{}/{id}", tokens()), None)
            .await;
        assert_eq!(revoked.ok(), &json!({"id": id}));
    }
    h.call(
        Method::GET,
        &format!("/accounts/{ACCOUNT}/r2/buckets"),
        Some(&value),
        None,
    )
    .await
    .assert_error(401, 9109);
    h.call(Method::GET, "/user/tokens/verify", Some(&value), None)
        .await
        .assert_error(401, 9109);
    let shown = h
        .admin_call(Method::GET, &format!("{}/{id}", tokens()), None)
        .await;
    assert_eq!(shown.ok()["status"], json!("disabled"));
}

#[tokio::test]
async fn a_token_may_revoke_itself_but_not_others() {
    let h = Harness::new().await;
    let a = h.token(ACCOUNT, Permission::ObjectReadOnly, None).await;
    let b = h.token(ACCOUNT, Permission::ObjectReadOnly, None).await;
    h.call(
        Method::GET,
        &format!("{}/{}", tokens(), b.id),
        Some(&a.value),
        None,
    )
    .await
    .assert_error(403, 10000);
    h.call(
        Method::DELETE,
        &format!("{}/{}", tokens(), b.id),
        Some(&a.value),
        None,
    )
    .await
    .assert_error(403, 10000);
    h.call(
        Method::GET,
        &format!("{}/{}", tokens(), a.id),
        Some(&a.value),
        None,
    )
    .await
    .ok();
    h.call(
        Method::DELETE,
        &format!("{}/{}", tokens(), a.id),
        Some(&a.value),
        None,
    )
    .await
    .ok();
    h.call(
        Method::GET,
        &format!("{}/{}", tokens(), b.id),
        Some(&b.value),
        None,
    )
    .await
    .ok();
}

#[tokio::test]
async fn only_admin_read_write_creates_and_lists() {
    let h = Harness::new().await;
    let reader = h.token(ACCOUNT, Permission::AdminReadOnly, None).await;
    let body = r#"{"name":"x","permission":"object-read-only"}"#;
    h.call(Method::POST, &tokens(), Some(&reader.value), Some(body))
        .await
        .assert_error(403, 10000);
    h.call(Method::GET, &tokens(), Some(&reader.value), None)
        .await
        .assert_error(403, 10000);
}

#[tokio::test]
async fn token_ids_and_accounts_are_checked() {
    let h = Harness::new().await;
    let foreign = h
        .token(OTHER_ACCOUNT, Permission::AdminReadWrite, None)
        .await;
    h.admin_call(
        Method::GET,
        &format!("{}/ffffffffffffffffffffffffffffffff", tokens()),
        None,
    )
    .await
    .assert_error(404, 7003);
    h.admin_call(Method::GET, &format!("{}/{}", tokens(), foreign.id), None)
        .await
        .assert_error(404, 7003);
    h.admin_call(Method::GET, &format!("{}/not%2Fan-id", tokens()), None)
        .await
        .assert_error(400, 7003);
    h.admin_call(
        Method::GET,
        &format!("/accounts/{OTHER_ACCOUNT}/tokens"),
        None,
    )
    .await
    .assert_error(403, 9109);
}

#[tokio::test]
async fn verify_and_permission_groups() {
    let h = Harness::new().await;
    let v = h
        .admin_call(Method::GET, &format!("{}/verify", tokens()), None)
        .await;
    assert_eq!(v.ok()["id"], json!(h.admin.id));
    let groups = h
        .admin_call(
            Method::GET,
            &format!("{}/permission_groups", tokens()),
            None,
        )
        .await;
    let names: Vec<Value> = groups
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(names.len(), 4);
    assert!(names.contains(&json!("Workers R2 Storage Bucket Item Write")));
}

#[tokio::test]
async fn create_bad_input_is_4xx_with_pointer() {
    let h = Harness::new().await;
    for (body, pointer) in [
        (r#"{"name":"x"}"#, "/permission"),
        (r#"{"name":"","permission":"object-read-only"}"#, "/name"),
        (
            r#"{"name":"x","permission":"object-read-only","buckets":[]}"#,
            "/buckets",
        ),
        (
            r#"{"name":"x","permission":"object-read-only","not_before":"2030-01-01T00:00:00Z"}"#,
            "/not_before",
        ),
        (
            r#"{"name":"x","permission":"object-read-only","expires_on":"tomorrow"}"#,
            "/expires_on",
        ),
        (r#"{"name":"x","policies":{}}"#, "/policies"),
    ] {
        let answer = h.admin_call(Method::POST, &tokens(), Some(body)).await;
        assert_eq!(answer.status.as_u16(), 400, "{body}: {}", answer.body);
        assert_eq!(answer.pointer(), Some(pointer), "{body}");
    }
    let answer = h
        .admin_call(
            Method::POST,
            &tokens(),
            Some(r#"{"name":"x","permission":"object-read-only","buckets":["Bad_Name"]}"#),
        )
        .await;
    answer.assert_error(400, 10005);
    assert_eq!(answer.pointer(), Some("/buckets/0"));
}

#[tokio::test]
async fn listing_is_page_numbered_and_ends_with_an_empty_page() {
    let h = Harness::new().await;
    for _ in 0..4 {
        h.token(ACCOUNT, Permission::ObjectReadOnly, None).await;
    }
    let page = |n: u32| {
        let path = format!("{}?per_page=2&page={n}", tokens());
        let h = &h;
        async move { h.admin_call(Method::GET, &path, None).await }
    };
    let mut ids = Vec::new();
    for n in 1..=4 {
        let answer = page(n).await;
        let items = answer.ok().as_array().unwrap().clone();
        assert_eq!(answer.body["result_info"]["total_count"], json!(5));
        assert_eq!(answer.body["result_info"]["page"], json!(n));
        assert_eq!(answer.body["result_info"]["count"], json!(items.len()));
        if items.is_empty() {
            assert_eq!(n, 4);
            break;
        }
        ids.extend(items.into_iter().map(|t| t["id"].clone()));
    }
    assert_eq!(ids.len(), 5);
    let answer = h
        .admin_call(Method::GET, &format!("{}?page=0", tokens()), None)
        .await;
    answer.assert_error(400, 10040);
    assert_eq!(answer.pointer(), Some("/page"));
}

#[tokio::test]
async fn a_token_never_outlives_its_creator() {
    let h = Harness::new().await;
    let short = h
        .admin_call(
            Method::POST,
            &tokens(),
            Some(r#"{"name":"short","permission":"admin-read-write","expires_on":"2026-01-01T00:00:00Z"}"#),
        )
        .await;
    let value = short.ok()["value"].as_str().unwrap().to_owned();
    let child = h
        .call(
            Method::POST,
            &tokens(),
            Some(&value),
            Some(r#"{"name":"child","permission":"object-read-only"}"#),
        )
        .await;
    assert_eq!(child.ok()["expires_on"], json!("2026-01-01T00:00:00Z"));
    let later = h
        .call(
            Method::POST,
            &tokens(),
            Some(&value),
            Some(r#"{"name":"later","permission":"object-read-only","expires_on":"2027-01-01T00:00:00Z"}"#),
        )
        .await;
    later.assert_error(400, 10040);
    assert_eq!(later.pointer(), Some("/expires_on"));
}

fn token_path(id: &str) -> String {
    format!("{}/{id}", tokens())
}

#[tokio::test]
async fn update_replaces_permission_buckets_name_and_expiry() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "logs").await;
    h.bucket(ACCOUNT, "photos").await;
    let (id, value) = create_token(
        &h,
        r#"{"name":"ci","permission":"object-read-write","buckets":["logs","photos"]}"#,
    )
    .await;

    // Cloudflare's shape, as `client.accounts.tokens.update(...)` sends it.
    let body = json!({
        "name": "ci (read only)",
        "policies": [{
            "effect": "allow",
            "permission_groups": [{"id": "6a018a9f2fc74eb6b293b0c548f38b39"}],
            "resources": {format!("com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_logs"): "*"},
        }],
        "expires_on": "2030-01-01T00:00:00Z",
        "status": "active",
    });
    let updated = h
        .admin_call(Method::PUT, &token_path(&id), Some(&body.to_string()))
        .await;
    let u = updated.ok();
    assert_eq!(u["id"], json!(id));
    assert_eq!(u["name"], json!("ci (read only)"));
    assert_eq!(u["permission"], json!("object-read-only"));
    assert_eq!(u["buckets"], json!(["logs"]));
    assert_eq!(u["expires_on"], json!("2030-01-01T00:00:00Z"));
    assert_eq!(u["status"], json!("active"));
    assert!(u.get("value").is_none() && u.get("secret_access_key").is_none());
    let shown = h.admin_call(Method::GET, &token_path(&id), None).await;
    assert_eq!(shown.ok()["permission"], json!("object-read-only"));

    // The value still authenticates, with the new rights: minting read-write on logs, or
    // anything on photos, is refused now.
    let mint = |bucket: &str, permission: &str| {
        json!({"bucket": bucket, "parentAccessKeyId": id, "permission": permission}).to_string()
    };
    let creds = format!("/accounts/{ACCOUNT}/r2/temp-access-credentials");
    h.call(
        Method::POST,
        &creds,
        Some(&value),
        Some(&mint("logs", "object-read-only")),
    )
    .await
    .ok();
    h.call(
        Method::POST,
        &creds,
        Some(&value),
        Some(&mint("logs", "object-read-write")),
    )
    .await
    .assert_error(403, 10000);
    h.call(
        Method::POST,
        &creds,
        Some(&value),
        Some(&mint("photos", "object-read-only")),
    )
    .await
    .assert_error(403, 10000);

    // Mayfly's shape; without expires_on the expiry is cleared (PUT replaces).
    let again = h
        .admin_call(
            Method::PUT,
            &token_path(&id),
            Some(r#"{"name":"ci","permission":"admin-read-only"}"#),
        )
        .await;
    assert_eq!(again.ok()["permission"], json!("admin-read-only"));
    assert!(again.ok().get("expires_on").is_none());
    assert!(again.ok().get("buckets").is_none());
}

#[tokio::test]
async fn update_can_disable_and_re_enable_but_never_revive_a_revoked_token() {
    let h = Harness::new().await;
    let (id, value) = create_token(&h, r#"{"name":"tmp","permission":"admin-read-only"}"#).await;
    let buckets = format!("/accounts/{ACCOUNT}/r2/buckets");
    let put = |status: &str| {
        json!({"name": "tmp", "permission": "admin-read-only", "status": status}).to_string()
    };

    let disabled = h
        .admin_call(Method::PUT, &token_path(&id), Some(&put("disabled")))
        .await;
    assert_eq!(disabled.ok()["status"], json!("disabled"));
    h.call(Method::GET, &buckets, Some(&value), None)
        .await
        .assert_error(401, 9109);
    // Without `status` an update keeps the token disabled.
    let kept = h
        .admin_call(
            Method::PUT,
            &token_path(&id),
            Some(r#"{"name":"renamed","permission":"admin-read-only"}"#),
        )
        .await;
    assert_eq!(kept.ok()["status"], json!("disabled"));
    let enabled = h
        .admin_call(Method::PUT, &token_path(&id), Some(&put("active")))
        .await;
    assert_eq!(enabled.ok()["status"], json!("active"));
    h.call(Method::GET, &buckets, Some(&value), None).await.ok();

    h.admin_call(Method::DELETE, &token_path(&id), None)
        .await
        .ok();
    let refused = h
        .admin_call(Method::PUT, &token_path(&id), Some(&put("active")))
        .await;
    refused.assert_error(409, 10073);
    h.call(Method::GET, &buckets, Some(&value), None)
        .await
        .assert_error(401, 9109);
}

#[tokio::test]
async fn update_is_admin_only_and_validates_like_create() {
    let h = Harness::new().await;
    let reader = h.token(ACCOUNT, Permission::ObjectReadOnly, None).await;
    let body = r#"{"name":"x","permission":"admin-read-write"}"#;
    // Not even on itself: that would be an escalation.
    h.call(
        Method::PUT,
        &token_path(&reader.id),
        Some(&reader.value),
        Some(body),
    )
    .await
    .assert_error(403, 10000);
    let ro_admin = h.token(ACCOUNT, Permission::AdminReadOnly, None).await;
    h.call(
        Method::PUT,
        &token_path(&reader.id),
        Some(&ro_admin.value),
        Some(body),
    )
    .await
    .assert_error(403, 10000);

    for (body, pointer) in [
        (r#"{"name":"x"}"#, "/permission"),
        (r#"{"name":"","permission":"object-read-only"}"#, "/name"),
        (
            r#"{"name":"x","permission":"object-read-only","buckets":[]}"#,
            "/buckets",
        ),
        (
            r#"{"name":"x","permission":"object-read-only","status":"expired"}"#,
            "/status",
        ),
        (
            r#"{"name":"x","permission":"object-read-only","status":1}"#,
            "/status",
        ),
        (
            r#"{"name":"x","permission":"object-read-only","expires_on":"2001-01-01T00:00:00Z"}"#,
            "/expires_on",
        ),
        (
            r#"{"name":"x","permission":"object-read-only","id":"abc"}"#,
            "/id",
        ),
    ] {
        let answer = h
            .admin_call(Method::PUT, &token_path(&reader.id), Some(body))
            .await;
        assert_eq!(answer.status.as_u16(), 400, "{body}: {}", answer.body);
        assert_eq!(answer.pointer(), Some(pointer), "{body}");
    }
    let shown = h
        .admin_call(Method::GET, &token_path(&reader.id), None)
        .await;
    assert_eq!(
        shown.ok()["permission"],
        json!("object-read-only"),
        "refused updates change nothing"
    );

    // Unknown token, another account's token, malformed id.
    h.admin_call(
        Method::PUT,
        &token_path("0123456789abcdef0123456789abcdef"),
        Some(body),
    )
    .await
    .assert_error(404, 7003);
    let foreign = h
        .token(OTHER_ACCOUNT, Permission::ObjectReadOnly, None)
        .await;
    h.admin_call(Method::PUT, &token_path(&foreign.id), Some(body))
        .await
        .assert_error(404, 7003);
    h.admin_call(Method::PUT, &token_path("not%2Fan-id"), Some(body))
        .await
        .assert_error(400, 7003);
    h.admin_call(Method::PUT, &token_path(&reader.id), Some("{"))
        .await
        .assert_error(400, 6007);
}
