//! `…/mayfly/accounts/{a}/r2/temp-access-credentials/revocations` (issue 15): revoking one
//! temporary credential by session token or by id, listing revocations, and bad input.

use axum::http::Method;
use base64::Engine;
use mayfly_core::{
    AccessKeyId, AccountId, BucketName, Claims, CredentialId, Permission, SecretAccessKey,
    SessionToken, mint, parse_session_token,
};
use serde_json::{Value, json};

use crate::support::*;

pub fn path() -> String {
    format!("/mayfly/accounts/{ACCOUNT}/r2/temp-access-credentials/revocations")
}

/// A credential minted locally (as a client may) from `parent` for `bucket`, 900 s from NOW.
pub fn local_credential(parent: &Token, account: &str, bucket: &str, nonce: u64) -> SessionToken {
    let claims = Claims::builder(
        BucketName::parse(bucket).unwrap(),
        Permission::ObjectReadOnly,
        AccountId::parse(account).unwrap(),
        AccessKeyId::parse(&parent.id).unwrap(),
        AUDIENCE,
    )
    .issued_at(NOW + nonce)
    .ttl_secs(900)
    .build()
    .unwrap();
    mint(&claims, &SecretAccessKey::from_token_value(&parent.value)).session_token
}

/// The session token text of a fresh credential of `parent`.
pub fn session_token(parent: &Token, bucket: &str) -> String {
    local_credential(parent, ACCOUNT, bucket, 0)
        .expose_secret()
        .to_owned()
}

fn id_of(token: &SessionToken) -> CredentialId {
    parse_session_token(token).unwrap().credential_id().clone()
}

async fn revoke(h: &Harness, caller: &Token, body: Value) -> Answer {
    h.call(
        Method::POST,
        &path(),
        Some(&caller.value),
        Some(&body.to_string()),
    )
    .await
}

#[tokio::test]
async fn the_mint_answer_names_the_credential_id_core_computes() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "photos").await;
    let body = json!({"bucket": "photos", "parentAccessKeyId": h.admin.id,
                      "permission": "object-read-only", "ttlSeconds": 60});
    let answer = h
        .admin_call(
            Method::POST,
            &format!("/accounts/{ACCOUNT}/r2/temp-access-credentials"),
            Some(&body.to_string()),
        )
        .await;
    let result = answer.ok();
    let token = SessionToken::from_untrusted(result["sessionToken"].as_str().unwrap());
    assert_eq!(result["credentialId"], json!(id_of(&token).as_str()));
}

#[tokio::test]
async fn revoking_by_session_token_or_id_is_idempotent_bounded_and_listed_newest_first() {
    let h = Harness::new().await;
    let parent = h.token(ACCOUNT, Permission::ObjectReadWrite, None).await;
    let token = local_credential(&parent, ACCOUNT, "photos", 0);
    let sibling = local_credential(&parent, ACCOUNT, "photos", 1);
    let id = id_of(&token);

    // The parent itself revokes one credential by its session token.
    let first = revoke(&h, &parent, json!({"sessionToken": token.expose_secret()})).await;
    let entry = first.ok().clone();
    assert_eq!(entry["credentialId"], json!(id.as_str()));
    assert_eq!(entry["bucket"], json!("photos"));
    assert_eq!(entry["parentAccessKeyId"], json!(parent.id));
    assert_eq!(entry["revokedOn"], json!(mayfly_api::time::rfc3339(NOW)));
    // Kept until the credential's own exp (+ the allowed clock skew), not longer.
    assert_eq!(
        entry["expiresOn"],
        json!(mayfly_api::time::rfc3339(NOW + 900 + 60))
    );
    let account = AccountId::parse(ACCOUNT).unwrap();
    assert!(h.store.credential_revoked(&account, &id).await.unwrap());
    assert!(
        !h.store
            .credential_revoked(&account, &id_of(&sibling))
            .await
            .unwrap(),
        "the sibling stays"
    );

    // Again, later, by id: 200 with the first entry (idempotent, SDK retries are safe).
    h.clock.advance(30);
    let again = revoke(&h, &h.admin, json!({"credentialId": id.as_str()})).await;
    assert_eq!(again.ok(), &entry);

    // By id alone: kept as long as any credential could live (7 days + skew).
    let unknown = "00112233445566778899aabbccddeeff";
    let by_id = revoke(&h, &h.admin, json!({"credentialId": unknown})).await;
    let by_id = by_id.ok().clone();
    assert_eq!(by_id["bucket"], Value::Null);
    assert_eq!(
        by_id["expiresOn"],
        json!(mayfly_api::time::rfc3339(NOW + 30 + 604_800 + 60))
    );

    // Newest first, one per page, the cursor walks to the end.
    let page1 = h
        .admin_call(Method::GET, &format!("{}?per_page=1", path()), None)
        .await;
    assert_eq!(page1.ok()[0]["credentialId"], json!(unknown));
    let cursor = page1.body["result_info"]["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let page2 = h
        .admin_call(
            Method::GET,
            &format!("{}?per_page=1&cursor={cursor}", path()),
            None,
        )
        .await;
    assert_eq!(page2.ok()[0]["credentialId"], json!(id.as_str()));
    assert!(
        page2.body["result_info"]["cursor"].is_null(),
        "{}",
        page2.body
    );
}

#[tokio::test]
async fn bad_input_is_a_400_at_its_pointer() {
    let h = Harness::new().await;
    let other = h
        .token(OTHER_ACCOUNT, Permission::AdminReadWrite, None)
        .await;
    let good = session_token(&h.admin, "photos");
    let mut forged = Token {
        id: h.admin.id.clone(),
        value: "not-the-admin-token-value".into(),
    };
    let forged_token = session_token(&forged, "photos");
    forged.value.clear();
    let foreign = local_credential(&other, OTHER_ACCOUNT, "photos", 0);
    let cases = [
        (json!({}), "/credentialId"),
        (
            json!({"credentialId": "00112233445566778899aabbccddeeff", "sessionToken": good}),
            "/sessionToken",
        ),
        (json!({"credentialId": "0011"}), "/credentialId"),
        (
            json!({"credentialId": "00112233445566778899AABBCCDDEEFF"}),
            "/credentialId",
        ),
        (json!({"credentialId": 7}), "/credentialId"),
        (json!({"sessionToken": "bm90IGEgdG9rZW4="}), "/sessionToken"),
        (json!({"sessionToken": forged_token}), "/sessionToken"),
        (
            json!({"sessionToken": foreign.expose_secret()}),
            "/sessionToken",
        ),
        (
            json!({"credentialId": "00112233445566778899aabbccddeeff", "x": 1}),
            "/x",
        ),
    ];
    for (body, pointer) in cases {
        let answer = revoke(&h, &h.admin, body.clone()).await;
        assert_eq!(answer.status.as_u16(), 400, "{body}: {}", answer.body);
        assert_eq!(answer.pointer(), Some(pointer), "{body}: {}", answer.body);
    }
    for query in ["per_page=0", "per_page=1001", "per_page=x", "cursor=zz"] {
        let answer = h
            .admin_call(Method::GET, &format!("{}?{query}", path()), None)
            .await;
        assert_eq!(answer.status.as_u16(), 400, "{query}: {}", answer.body);
        assert!(answer.pointer().is_some(), "{query}");
    }
    // Nothing was stored by any of it.
    let listed = h.admin_call(Method::GET, &path(), None).await;
    assert_eq!(listed.ok(), &json!([]));
}

#[tokio::test]
async fn a_temporary_credential_cannot_revoke_anything_it_is_no_bearer() {
    let h = Harness::new().await;
    let token = local_credential(&h.admin, ACCOUNT, "photos", 0);
    // The credential's secret is sha256 of the JWT inside the session token.
    let jwt = base64::engine::general_purpose::STANDARD
        .decode(token.expose_secret())
        .unwrap();
    let secret = mayfly_core::sha256_hex(jwt.strip_prefix(b"jwt/").unwrap());
    for bearer in [token.expose_secret().to_owned(), secret, h.admin.id.clone()] {
        let answer = h
            .call(
                Method::POST,
                &path(),
                Some(&bearer),
                Some(&json!({"sessionToken": token.expose_secret()}).to_string()),
            )
            .await;
        assert!(
            matches!(answer.status.as_u16(), 400 | 401),
            "{}",
            answer.body
        );
    }
    let listed = h.admin_call(Method::GET, &path(), None).await;
    assert_eq!(listed.ok(), &json!([]));
}
