//! `POST /accounts/{a}/r2/temp-access-credentials`: minting and the whole bad-input table.

use axum::http::Method;
use base64::Engine;
use mayfly_core::{
    AccessKeyId, Permission, SecretAccessKey, SessionToken, VerifyContext, parse_session_token,
};
use serde_json::{Value, json};

use crate::support::*;

fn path() -> String {
    format!("/accounts/{ACCOUNT}/r2/temp-access-credentials")
}

fn seed_body(parent: &str, bucket: &str, extra: Value) -> String {
    let mut body = json!({
        "bucket": bucket,
        "parentAccessKeyId": parent,
        "permission": "object-read-write",
        "ttlSeconds": 3600,
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body.to_string()
}

/// Verifies a minted result with core, as the S3 endpoint will.
fn verify(result: &Value, parent: &Token) -> mayfly_core::Claims {
    let parent_id = AccessKeyId::parse(&parent.id).unwrap();
    assert_eq!(result["accessKeyId"], json!(parent.id));
    let token = SessionToken::from_untrusted(result["sessionToken"].as_str().unwrap());
    let unverified = parse_session_token(&token).unwrap();
    let audiences = [AUDIENCE.to_owned()];
    let ctx = VerifyContext {
        access_key_id: &parent_id,
        now: NOW + 1,
        audiences: &audiences,
    };
    let secret = SecretAccessKey::from_token_value(&parent.value);
    let verified = unverified.verify(&secret, &ctx).unwrap();
    assert_eq!(
        verified.secret_access_key().expose_secret(),
        result["secretAccessKey"].as_str().unwrap()
    );
    // SPEC §2: the session token is base64("jwt/" + jwt) and the secret sha256(jwt).
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(result["sessionToken"].as_str().unwrap())
        .unwrap();
    let jwt = String::from_utf8(decoded).unwrap();
    let jwt = jwt.strip_prefix("jwt/").unwrap();
    assert_eq!(
        mayfly_core::sha256_hex(jwt.as_bytes()),
        result["secretAccessKey"].as_str().unwrap()
    );
    verified.claims().clone()
}

#[tokio::test]
async fn parent_mints_for_itself_exactly_as_the_seed_call() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "example-bucket").await;
    let answer = h
        .admin_call(
            Method::POST,
            &path(),
            Some(&seed_body(&h.admin.id, "example-bucket", json!({}))),
        )
        .await;
    let result = answer.ok();
    // Cloudflare's three members, plus `credentialId` (a Mayfly extension, issue 15).
    assert_eq!(result.as_object().map(|o| o.len()), Some(4), "{result}");
    assert!(result["credentialId"].is_string(), "{result}");
    let claims = verify(result, &h.admin);
    assert_eq!(claims.bucket().as_str(), "example-bucket");
    assert_eq!(claims.permission(), Permission::ObjectReadWrite);
    assert_eq!(claims.account().as_str(), ACCOUNT);
    assert_eq!(claims.audience(), AUDIENCE);
    assert_eq!(claims.issued_at(), NOW);
    assert_eq!(claims.expires_at(), NOW + 3600);
    assert!(claims.paths().is_none());
}

#[tokio::test]
async fn float_ttl_and_absent_ttl_and_scopes() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "example-bucket").await;
    let body = seed_body(&h.admin.id, "example-bucket", json!({"ttlSeconds": 3600.0}));
    let claims = verify(
        h.admin_call(Method::POST, &path(), Some(&body)).await.ok(),
        &h.admin,
    );
    assert_eq!(claims.expires_at() - claims.issued_at(), 3600);

    let body = json!({"bucket": "example-bucket", "parentAccessKeyId": h.admin.id, "permission": "object-read-only"});
    let claims = verify(
        h.admin_call(Method::POST, &path(), Some(&body.to_string()))
            .await
            .ok(),
        &h.admin,
    );
    assert_eq!(claims.expires_at() - claims.issued_at(), 900);

    let body = seed_body(
        &h.admin.id,
        "example-bucket",
        json!({"objects": ["photos/cat.png", "docs/a b.txt"], "prefixes": ["logs/", "tmp/"], "ttlSeconds": 604800}),
    );
    let claims = verify(
        h.admin_call(Method::POST, &path(), Some(&body)).await.ok(),
        &h.admin,
    );
    let paths = claims.paths().unwrap();
    assert_eq!(paths.prefixes(), ["logs/", "tmp/"]);
    assert_eq!(paths.objects(), ["photos/cat.png", "docs/a b.txt"]);
    assert_eq!(claims.expires_at() - claims.issued_at(), 604800);
}

#[tokio::test]
async fn object_token_mints_for_itself_within_its_rights() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "logs").await;
    h.bucket(ACCOUNT, "other").await;
    let parent = h
        .token(ACCOUNT, Permission::ObjectReadOnly, Some(&["logs"]))
        .await;
    let mut body = json!({"bucket": "logs", "parentAccessKeyId": parent.id, "permission": "object-read-only", "ttlSeconds": 60});
    let answer = h
        .call(
            Method::POST,
            &path(),
            Some(&parent.value),
            Some(&body.to_string()),
        )
        .await;
    let claims = verify(answer.ok(), &parent);
    assert_eq!(claims.permission(), Permission::ObjectReadOnly);

    // More than it has: 403.
    body["permission"] = json!("object-read-write");
    h.call(
        Method::POST,
        &path(),
        Some(&parent.value),
        Some(&body.to_string()),
    )
    .await
    .assert_error(403, 10000);
    // A bucket outside its list: 403, even though the bucket exists.
    body["permission"] = json!("object-read-only");
    body["bucket"] = json!("other");
    h.call(
        Method::POST,
        &path(),
        Some(&parent.value),
        Some(&body.to_string()),
    )
    .await
    .assert_error(403, 10000);
}

#[tokio::test]
async fn admin_mints_for_another_token_but_others_cannot() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "logs").await;
    let parent = h.token(ACCOUNT, Permission::ObjectReadWrite, None).await;
    let body = seed_body(&parent.id, "logs", json!({}));
    let claims = verify(
        h.admin_call(Method::POST, &path(), Some(&body)).await.ok(),
        &parent,
    );
    assert_eq!(claims.issuer().as_str(), parent.id);

    // A non-admin token naming someone else as parent: 403.
    let other = h.token(ACCOUNT, Permission::AdminReadOnly, None).await;
    h.call(Method::POST, &path(), Some(&other.value), Some(&body))
        .await
        .assert_error(403, 10000);
}

#[tokio::test]
async fn replaying_a_mint_mints_again() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "logs").await;
    let body = seed_body(&h.admin.id, "logs", json!({}));
    for _ in 0..3 {
        verify(
            h.admin_call(Method::POST, &path(), Some(&body)).await.ok(),
            &h.admin,
        );
    }
}

#[tokio::test]
async fn revoked_parent_is_refused_on_the_very_next_request() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "logs").await;
    let parent = h.token(ACCOUNT, Permission::ObjectReadWrite, None).await;
    let body = seed_body(&parent.id, "logs", json!({}));
    h.call(Method::POST, &path(), Some(&parent.value), Some(&body))
        .await
        .ok();
    h.store
        .revoke_token(&account(), &AccessKeyId::parse(&parent.id).unwrap())
        .await
        .unwrap();
    // As caller: 401. Named by an admin: 400 at /parentAccessKeyId.
    h.call(Method::POST, &path(), Some(&parent.value), Some(&body))
        .await
        .assert_error(401, 9109);
    let answer = h.admin_call(Method::POST, &path(), Some(&body)).await;
    answer.assert_error(400, 10040);
    assert_eq!(answer.pointer(), Some("/parentAccessKeyId"));
}

#[tokio::test]
async fn expired_caller_token_is_refused() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "logs").await;
    let body = seed_body(&h.admin.id, "logs", json!({}));
    let t = h.call(Method::POST, &format!("/accounts/{ACCOUNT}/tokens"), Some(&h.admin.value),
        Some(r#"{"name":"short","permission":"admin-read-write","expires_on":"2025-06-15T15:10:00Z"}"#)).await;
    let value = t.ok()["value"].as_str().unwrap().to_owned();
    let id = t.ok()["id"].as_str().unwrap().to_owned();
    let body_self = seed_body(&id, "logs", json!({}));
    h.call(Method::POST, &path(), Some(&value), Some(&body_self))
        .await
        .ok();
    h.clock.advance(3600);
    h.call(Method::POST, &path(), Some(&value), Some(&body_self))
        .await
        .assert_error(401, 9109);
    h.admin_call(Method::POST, &path(), Some(&body)).await.ok();
}

/// The bad-input table: every row is a 4xx envelope with the expected status, code and pointer.
#[tokio::test]
async fn bad_input_table_is_all_4xx_envelopes() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "example-bucket").await;
    h.bucket(OTHER_ACCOUNT, "foreign-bucket").await;
    let foreign = h
        .token(OTHER_ACCOUNT, Permission::AdminReadWrite, None)
        .await;
    let revoked = h.token(ACCOUNT, Permission::AdminReadWrite, None).await;
    h.store
        .revoke_token(&account(), &AccessKeyId::parse(&revoked.id).unwrap())
        .await
        .unwrap();
    let ro = h.token(ACCOUNT, Permission::ObjectReadOnly, None).await;
    let admin = h.admin.id.clone();
    let base = |extra: Value| seed_body(&admin, "example-bucket", extra);
    let without = |field: &str| {
        let mut v: Value = serde_json::from_str(&base(json!({}))).unwrap();
        v.as_object_mut().unwrap().remove(field);
        v.to_string()
    };

    // (body, expected status, code, pointer)
    let rows: Vec<(String, u16, i64, Option<&str>)> = vec![
        ("{".into(), 400, 6007, Some("")),
        ("".into(), 400, 6007, Some("")),
        ("[1,2]".into(), 400, 6007, Some("")),
        ("null".into(), 400, 6007, Some("")),
        (
            r#"{"bucket":"example-bucket","bucket":"x"}"#.into(),
            400,
            10040,
            Some("/bucket"),
        ),
        (
            base(json!({"ttlSeconds": 0})),
            400,
            10040,
            Some("/ttlSeconds"),
        ),
        (
            base(json!({"ttlSeconds": -1})),
            400,
            10040,
            Some("/ttlSeconds"),
        ),
        (
            base(json!({"ttlSeconds": 604801})),
            400,
            10040,
            Some("/ttlSeconds"),
        ),
        (
            base(json!({"ttlSeconds": 1.5})),
            400,
            10040,
            Some("/ttlSeconds"),
        ),
        (
            base(json!({"ttlSeconds": "3600"})),
            400,
            10040,
            Some("/ttlSeconds"),
        ),
        (
            base(json!({"ttlSeconds": [3600]})),
            400,
            10040,
            Some("/ttlSeconds"),
        ),
        (
            base(json!({"permission": "bogus"})),
            400,
            10040,
            Some("/permission"),
        ),
        (
            base(json!({"permission": 7})),
            400,
            10040,
            Some("/permission"),
        ),
        (base(json!({"bucket": 7})), 400, 10040, Some("/bucket")),
        (
            base(json!({"bucket": "Not_A_Bucket"})),
            400,
            10005,
            Some("/bucket"),
        ),
        (
            base(json!({"parentAccessKeyId": "a/b"})),
            400,
            10040,
            Some("/parentAccessKeyId"),
        ),
        (base(json!({"objects": "k"})), 400, 10040, Some("/objects")),
        (
            base(json!({"objects": ["ok", 1]})),
            400,
            10040,
            Some("/objects/1"),
        ),
        (
            base(json!({"prefixes": [""]})),
            400,
            10040,
            Some("/prefixes"),
        ),
        // The scope is input: refused before the bucket is even looked up.
        (
            base(json!({"prefixes": [""], "bucket": "missing-bucket"})),
            400,
            10040,
            Some("/prefixes"),
        ),
        // `actions` (Mayfly extension): S3 names of the token format, case-sensitive.
        (
            base(json!({"actions": ["GetObject", "getobject"]})),
            400,
            10040,
            Some("/actions/1"),
        ),
        (
            base(json!({"actions": ["ListObjects"]})),
            400,
            10040,
            Some("/actions/0"),
        ),
        (
            base(json!({"actions": "GetObject"})),
            400,
            10040,
            Some("/actions"),
        ),
        (
            base(json!({"actions": ["GetObject", 7]})),
            400,
            10040,
            Some("/actions/1"),
        ),
        (
            base(json!({"unknownField": true})),
            400,
            10040,
            Some("/unknownField"),
        ),
        (without("bucket"), 400, 10040, Some("/bucket")),
        (without("permission"), 400, 10040, Some("/permission")),
        (
            without("parentAccessKeyId"),
            400,
            10040,
            Some("/parentAccessKeyId"),
        ),
        // Parents that are not active tokens of this account.
        (
            base(json!({"parentAccessKeyId": "ffffffffffffffffffffffffffffffff"})),
            400,
            10040,
            Some("/parentAccessKeyId"),
        ),
        (
            base(json!({"parentAccessKeyId": revoked.id})),
            400,
            10040,
            Some("/parentAccessKeyId"),
        ),
        (
            base(json!({"parentAccessKeyId": foreign.id})),
            400,
            10040,
            Some("/parentAccessKeyId"),
        ),
        // A parent asking for more than it has.
        (
            base(json!({"parentAccessKeyId": ro.id, "permission": "object-read-write"})),
            403,
            10000,
            None,
        ),
        // Buckets that do not exist here.
        (base(json!({"bucket": "missing-bucket"})), 404, 10006, None),
        (base(json!({"bucket": "foreign-bucket"})), 404, 10006, None),
    ];
    for (body, status, code, pointer) in rows {
        let answer = h.admin_call(Method::POST, &path(), Some(&body)).await;
        answer.assert_error(status, code);
        assert_eq!(answer.pointer(), pointer, "body {body}: {}", answer.body);
    }
}

#[tokio::test]
async fn account_and_auth_failures_are_4xx_envelopes() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "example-bucket").await;
    let body = seed_body(&h.admin.id, "example-bucket", json!({}));
    let bad_account = "/accounts/not-an-account/r2/temp-access-credentials";
    h.admin_call(Method::POST, bad_account, Some(&body))
        .await
        .assert_error(400, 7003);
    let upper = format!(
        "/accounts/{}/r2/temp-access-credentials",
        ACCOUNT.to_uppercase()
    );
    h.admin_call(Method::POST, &upper, Some(&body))
        .await
        .assert_error(400, 7003);
    let other = format!("/accounts/{OTHER_ACCOUNT}/r2/temp-access-credentials");
    h.admin_call(Method::POST, &other, Some(&body))
        .await
        .assert_error(403, 9109);
    h.call(Method::POST, &path(), None, Some(&body))
        .await
        .assert_error(401, 10000);
    h.call(Method::POST, &path(), Some("not-a-real-token"), Some(&body))
        .await
        .assert_error(401, 9109);
}

#[tokio::test]
async fn a_misconfigured_audience_is_an_internal_error_not_the_callers() {
    use tower::ServiceExt;
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "logs").await;
    let app = mayfly_api::router(mayfly_api::ApiState::new(
        h.store.clone(),
        h.clock.clone(),
        mayfly_api::ApiConfig::new("not a host/"),
    ));
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!("/client/v4{}", path()))
        .header("authorization", format!("Bearer {}", h.admin.value))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(seed_body(
            &h.admin.id,
            "logs",
            json!({}),
        )))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 500);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        body["errors"][0],
        json!({"code": 10001, "message": "Internal error"})
    );
}

/// Mints with prefixes (or exact keys) of `len` bytes in all, in entries of up to 1000 bytes.
async fn mint_with_path(h: &Harness, field: &str, len: usize) -> Answer {
    let paths: Vec<String> = (0..len.div_ceil(1000))
        .map(|i| format!("{i}").repeat((len - i * 1000).min(1000)))
        .collect();
    let body = seed_body(&h.admin.id, "example-bucket", json!({ field: paths }));
    h.admin_call(Method::POST, &path(), Some(&body)).await
}

#[tokio::test]
async fn regression_12_the_largest_issued_session_token_is_4096_bytes_and_one_byte_more_is_refused_at_its_field()
 {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "example-bucket").await;
    for field in ["prefixes", "objects"] {
        // The largest path that still mints, found by bisection over the real endpoint.
        let (mut fits, mut too_big) = (1usize, 8000usize);
        assert_eq!(mint_with_path(&h, field, fits).await.status, 200);
        mint_with_path(&h, field, too_big)
            .await
            .assert_error(400, 10040);
        while too_big - fits > 1 {
            let mid = (fits + too_big) / 2;
            if mint_with_path(&h, field, mid).await.status == 200 {
                fits = mid;
            } else {
                too_big = mid;
            }
        }
        let largest = mint_with_path(&h, field, fits).await;
        let token = largest.ok()["sessionToken"].as_str().unwrap().len();
        assert!(
            (4092..=4096).contains(&token),
            "{field}: the largest accepted token is {token} bytes"
        );
        verify(largest.ok(), &h.admin);
        let refused = mint_with_path(&h, field, fits + 1).await;
        refused.assert_error(400, 10040);
        assert_eq!(refused.pointer(), Some(format!("/{field}").as_str()));
        assert_eq!(
            refused.body["errors"][0]["message"],
            json!(format!(
                "{field}: the path scope makes the session token longer than 4096 bytes"
            ))
        );
    }
}

#[tokio::test]
async fn issue_15_actions_are_carried_in_the_token_exactly_as_local_signing_does() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "example-bucket").await;
    let body = seed_body(
        &h.admin.id,
        "example-bucket",
        json!({"actions": ["HeadObject", "GetObject"], "prefixes": ["data/"]}),
    );
    let minted = h.admin_call(Method::POST, &path(), Some(&body)).await;
    let claims = verify(minted.ok(), &h.admin);
    assert_eq!(
        claims.actions(),
        [
            mayfly_core::S3Action::HeadObject,
            mayfly_core::S3Action::GetObject
        ]
    );
    // Byte for byte what the local-signing format makes of the same claims.
    let local = mayfly_core::Claims::builder(
        bucket_name("example-bucket"),
        Permission::ObjectReadWrite,
        account(),
        AccessKeyId::parse(&h.admin.id).unwrap(),
        AUDIENCE,
    )
    .actions(vec![
        mayfly_core::S3Action::HeadObject,
        mayfly_core::S3Action::GetObject,
    ])
    .prefixes(vec!["data/".into()])
    .issued_at(NOW)
    .ttl_secs(3600)
    .build()
    .unwrap();
    let local = mayfly_core::mint(&local, &SecretAccessKey::from_token_value(&h.admin.value));
    assert_eq!(
        minted.ok()["sessionToken"],
        json!(local.session_token.expose_secret())
    );
    // An empty list narrows nothing and is omitted, as the local-signing helper does.
    let body = seed_body(&h.admin.id, "example-bucket", json!({"actions": []}));
    let minted = h.admin_call(Method::POST, &path(), Some(&body)).await;
    assert!(verify(minted.ok(), &h.admin).actions().is_empty());
}
