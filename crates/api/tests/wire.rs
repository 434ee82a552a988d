//! Replays every request the official Python and Node SDKs were captured sending
//! (`tests/fixtures/wire/cf_*.json`, made by `scripts/capture-wire`), byte for byte with their
//! headers, against a store that holds the captures' account, token and buckets. Every answer
//! must be a v4 envelope, never a 5xx, valid against `tests/fixtures/api-schema.json` where the
//! path is described there; the seed calls and the plain bucket calls must succeed.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use mayfly_core::{AccessKeyId, AccountId, Permission, SecretAccessKey};
use mayfly_store::{TokenRecord, TokenStatus};
use serde_json::Value;

use crate::support::*;

const WIRE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/wire/");

/// The bearer value both captures used.
const CAPTURED_TOKEN: &str = "fake-cf-api-token-Y2xvdWRmbGFyZQ";

fn scenarios(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{WIRE}{file}")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn replay(file: &str) {
    let h = Harness::new().await;
    // The captures' caller is also the parent they name ("example-access-key-id").
    h.store
        .create_token(TokenRecord {
            id: AccessKeyId::parse("example-access-key-id").unwrap(),
            account: AccountId::parse(ACCOUNT).unwrap(),
            name: "captured".into(),
            permission: Permission::AdminReadWrite,
            buckets: None,
            secret: SecretAccessKey::from_token_value(CAPTURED_TOKEN),
            status: TokenStatus::Active,
            created_at: NOW,
            expires_at: None,
        })
        .await
        .unwrap();
    h.bucket(ACCOUNT, "example-bucket").await;
    let spec = crate::schema::Spec::load();
    let mut replayed = 0;
    for scenario in scenarios(file) {
        let name = scenario["name"].as_str().unwrap().to_owned();
        // Retries repeat the first request byte for byte; one is enough.
        let Some(captured) = scenario["requests"]
            .as_array()
            .and_then(|r| r.first())
            .cloned()
        else {
            continue;
        };
        let mut builder = Request::builder()
            .method(captured["method"].as_str().unwrap())
            .uri(captured["target"].as_str().unwrap());
        for header in captured["headers"].as_array().unwrap() {
            let (k, v) = (header[0].as_str().unwrap(), header[1].as_str().unwrap());
            if !k.eq_ignore_ascii_case("content-length") {
                builder = builder.header(k, v);
            }
        }
        let body = captured["body"].as_str().unwrap_or("").to_owned();
        let answer = h.send(builder.body(Body::from(body)).unwrap()).await;
        let status = answer.status;
        assert!(
            status.is_success() || status.is_client_error(),
            "{file} {name}: {status} {}",
            answer.body
        );
        assert_eq!(
            answer.body["success"],
            Value::Bool(status.is_success()),
            "{file} {name}"
        );
        if !status.is_success() {
            answer.assert_error(status.as_u16(), answer.code().unwrap());
        }
        let must_succeed = name.starts_with("seed call")
            || name.starts_with("with objects")
            || name.starts_with("buckets.get('my-bucket')")
            || (name.starts_with("buckets.list") && !name.contains("all params"));
        if must_succeed {
            assert_eq!(status, StatusCode::OK, "{file} {name}: {}", answer.body);
        }
        if name.starts_with("auth via api_key") {
            answer.assert_error(401, 9103);
        }
        if let Some((template, method)) =
            crate::schema::operation(&captured["path"], &captured["method"])
        {
            spec.check(template, &method, &answer);
        }
        replayed += 1;
        // The create scenario runs early, so later get/delete scenarios find the bucket;
        // make sure it exists regardless of order.
        if name.starts_with("buckets.create") && status == StatusCode::OK {
            continue;
        }
        if h.store
            .get_bucket(&mayfly_store::BucketId::new(
                account(),
                bucket_name("my-bucket"),
            ))
            .await
            .is_err()
        {
            h.bucket(ACCOUNT, "my-bucket").await;
        }
    }
    assert!(replayed >= 20, "{file}: only {replayed} scenarios");
}

#[tokio::test]
async fn python_sdk_captures_replay_cleanly() {
    replay("cf_python.json").await;
}

#[tokio::test]
async fn node_sdk_captures_replay_cleanly() {
    replay("cf_node.json").await;
}
