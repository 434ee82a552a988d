//! Success and error bodies validated against the response shapes of the endpoints Mayfly
//! serves (`tests/fixtures/api-schema.json`, a JSON Schema written for Mayfly from Cloudflare's
//! public API documentation; the same file `tests/e2e/schema.py` checks the e2e answers with).

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::*;

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/api-schema.json"
);

pub struct Spec {
    doc: Value,
}

/// The path template and lower-case method of a concrete request, when described.
pub fn operation(path: &Value, method: &Value) -> Option<(&'static str, String)> {
    let path = path.as_str()?.strip_prefix("/client/v4")?;
    let method = method.as_str()?.to_ascii_lowercase();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let template = match parts.as_slice() {
        ["accounts", _, "r2", "temp-access-credentials"] => CREDS,
        ["accounts", _, "r2", "buckets"] => BUCKETS,
        ["accounts", _, "r2", "buckets", _] => BUCKET,
        _ => return None,
    };
    Some((template, method))
}

impl Spec {
    pub fn load() -> Self {
        let text = std::fs::read_to_string(SCHEMA).unwrap_or_else(|e| panic!("{SCHEMA}: {e}"));
        let doc: Value = serde_json::from_str(&text).unwrap();
        Self { doc }
    }

    /// A validator for one operation's answer, with `#/$defs/...` resolvable.
    fn validator(&self, path: &str, method: &str, status: &str) -> jsonschema::Validator {
        let op = format!("{} {path}", method.to_ascii_uppercase());
        let schema = &self.doc["operations"][&op][status];
        assert!(schema.is_object(), "no schema for {op} {status}");
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": self.doc["$defs"],
            "allOf": [schema],
        });
        jsonschema::validator_for(&root).unwrap()
    }

    #[track_caller]
    pub fn check(&self, path: &str, method: &str, answer: &Answer) {
        let status = if answer.status.is_success() {
            "200"
        } else {
            "4XX"
        };
        assert!(
            answer.status.is_success() || answer.status.is_client_error(),
            "{}",
            answer.status
        );
        let validator = self.validator(path, method, status);
        let errors: Vec<String> = validator
            .iter_errors(&answer.body)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: {errors:?}\nbody: {}",
            answer.body
        );
    }
}

const CREDS: &str = "/accounts/{account_id}/r2/temp-access-credentials";
const BUCKETS: &str = "/accounts/{account_id}/r2/buckets";
const BUCKET: &str = "/accounts/{account_id}/r2/buckets/{bucket_name}";

#[test]
fn the_validator_really_checks() {
    let spec = Spec::load();
    let ok = spec.validator(CREDS, "post", "200");
    let creds = json!({"accessKeyId": "a", "secretAccessKey": "s", "sessionToken": "t"});
    assert!(ok.is_valid(&json!({"success": true, "errors": [], "messages": [], "result": creds})));
    assert!(
        !ok.is_valid(&json!({"success": false, "errors": [], "messages": [], "result": creds}))
    );
    assert!(!ok.is_valid(
        &json!({"success": true, "errors": [], "messages": [], "result": {"accessKeyId": "a"}})
    ));
    let mut numeric = creds.clone();
    numeric["accessKeyId"] = json!(1);
    assert!(
        !ok.is_valid(&json!({"success": true, "errors": [], "messages": [], "result": numeric}))
    );
    let err = spec.validator(CREDS, "post", "4XX");
    assert!(err.is_valid(&json!({"success": false, "errors": [{"code": 10006, "message": "m"}], "messages": [], "result": null})));
    assert!(!err.is_valid(&json!({"success": false, "errors": [{"code": 999, "message": "m"}], "messages": [], "result": null})));
    assert!(
        !err.is_valid(&json!({"success": false, "errors": [], "messages": [], "result": null}))
    );
    assert!(!err.is_valid(&json!({"success": false, "errors": [{"code": 10006, "message": "m"}], "messages": [], "result": {}})));
    let bucket = spec.validator(BUCKET, "get", "200");
    assert!(!bucket.is_valid(
        &json!({"success": true, "errors": [], "messages": [], "result": {"location": "mars"}})
    ));
}

#[tokio::test]
async fn temp_credentials_bodies_match_the_schema() {
    let spec = Spec::load();
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "example-bucket").await;
    let path = format!("/accounts/{ACCOUNT}/r2/temp-access-credentials");
    let good = json!({"bucket": "example-bucket", "parentAccessKeyId": h.admin.id, "permission": "object-read-write", "ttlSeconds": 3600});
    let answer = h
        .admin_call(Method::POST, &path, Some(&good.to_string()))
        .await;
    answer.ok();
    spec.check(CREDS, "post", &answer);
    let mut missing = good.clone();
    missing["bucket"] = json!("missing-bucket");
    let mut ttl = good.clone();
    ttl["ttlSeconds"] = json!(1.5);
    for body in [missing.to_string(), ttl.to_string(), "{".to_owned()] {
        let answer = h.admin_call(Method::POST, &path, Some(&body)).await;
        spec.check(CREDS, "post", &answer);
    }
    spec.check(
        CREDS,
        "post",
        &h.call(Method::POST, &path, None, Some(&good.to_string()))
            .await,
    );
    spec.check(
        CREDS,
        "post",
        &h.call(Method::POST, &path, Some("bad"), Some(&good.to_string()))
            .await,
    );
}

#[tokio::test]
async fn bucket_bodies_match_the_schema() {
    let spec = Spec::load();
    let h = Harness::new().await;
    let list = format!("/accounts/{ACCOUNT}/r2/buckets");
    let one = |n: &str| format!("{list}/{n}");
    spec.check(
        BUCKETS,
        "post",
        &h.admin_call(Method::POST, &list, Some(r#"{"name":"my-bucket"}"#))
            .await,
    );
    spec.check(
        BUCKETS,
        "post",
        &h.admin_call(
            Method::POST,
            &list,
            Some(r#"{"name":"my-bucket","locationHint":"apac","storageClass":"InfrequentAccess"}"#),
        )
        .await,
    );
    spec.check(
        BUCKETS,
        "post",
        &h.admin_call(Method::POST, &list, Some(r#"{"name":"x"}"#))
            .await,
    );
    h.bucket(ACCOUNT, "second").await;
    let listed = h
        .admin_call(Method::GET, &format!("{list}?per_page=1"), None)
        .await;
    assert!(listed.body["result_info"]["cursor"].is_string());
    spec.check(BUCKETS, "get", &listed);
    spec.check(
        BUCKETS,
        "get",
        &h.admin_call(Method::GET, &list, None).await,
    );
    spec.check(
        BUCKETS,
        "get",
        &h.admin_call(Method::GET, &format!("{list}?per_page=0"), None)
            .await,
    );
    spec.check(
        BUCKET,
        "get",
        &h.admin_call(Method::GET, &one("my-bucket"), None).await,
    );
    spec.check(
        BUCKET,
        "get",
        &h.admin_call(Method::GET, &one("missing"), None).await,
    );
    spec.check(
        BUCKET,
        "delete",
        &h.admin_call(Method::DELETE, &one("my-bucket"), None).await,
    );
    spec.check(
        BUCKET,
        "delete",
        &h.admin_call(Method::DELETE, &one("my-bucket"), None).await,
    );
}
