//! Replays every request the official Python and Node SDKs were captured sending
//! (`tests/fixtures/wire/cf_*.json`, made by `scripts/capture-wire`), byte for byte with their
//! headers, against a store that holds the captures' account, token and buckets. Every answer
//! must be a v4 envelope, never a 5xx, valid against `tests/fixtures/api-schema.json` where the
//! path is described there; each answer is compared with the outcome written in
//! [`EXPECTED_ERRORS`] (an error) or success.

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

/// The error each scenario must get, written by hand from the request it sends (every scenario
/// not listed must succeed): (name prefix, status, v4 code, `source.pointer`).
const EXPECTED_ERRORS: &[(&str, u16, i64, Option<&str>)] = &[
    // `bucket: "b"` is the first invalid field (names are 3 to 63 characters).
    ("invalid permission value", 400, 10005, Some("/bucket")),
    // The harness keeps `my-bucket` in place between scenarios, so every create collides.
    ("buckets.create", 409, 10004, None),
    // The captured cursor is a placeholder this server never issued.
    ("buckets.list(all params)", 400, 10040, Some("/cursor")),
    ("buckets.list (all params)", 400, 10040, Some("/cursor")),
    ("buckets.get('a b/c')", 400, 10005, None),
    ("buckets.get -> 404", 404, 10006, None),
    // Sent with `cf-r2-jurisdiction: eu`; `my-bucket` is in the default jurisdiction.
    ("buckets.delete with result:null", 404, 10006, None),
    // The storage class of a bucket cannot change (the capture asks for InfrequentAccess).
    (
        "buckets.edit(storage_class=InfrequentAccess)",
        409,
        10073,
        None,
    ),
    ("auth via api_key", 401, 9103, None),
];

fn expected_error(name: &str) -> Option<(u16, i64, Option<&'static str>)> {
    EXPECTED_ERRORS
        .iter()
        .find(|(prefix, ..)| name.starts_with(prefix))
        .map(|&(_, status, code, pointer)| (status, code, pointer))
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
        // Compared with values written above, never with the answer's own.
        match expected_error(&name) {
            Some((want_status, want_code, want_pointer)) => {
                answer.assert_error(want_status, want_code);
                assert_eq!(answer.pointer(), want_pointer, "{file} {name}");
            }
            None => assert_eq!(status, StatusCode::OK, "{file} {name}: {}", answer.body),
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
