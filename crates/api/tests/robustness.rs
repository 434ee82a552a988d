//! Never a 5xx for bad input: nasty values in every field of every body, odd paths and
//! queries, all answered with a 4xx (or 2xx) envelope.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};

use crate::support::*;

fn nasty_values() -> Vec<Value> {
    let deep = (0..200).fold(json!(1), |v, _| json!([v]));
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-0.0),
        json!(1e308),
        json!(-9_223_372_036_854_775_808_i64),
        json!(u64::MAX),
        json!(""),
        json!("\u{0}"),
        json!("%_'\"\\;--"),
        json!("ü🙂\u{202e}"),
        json!("x".repeat(100_000)),
        json!([]),
        json!([null, 1, "a"]),
        json!(["\u{0}"]),
        json!({}),
        json!({"a": {"b": []}}),
        deep,
    ]
}

async fn assert_no_5xx(h: &Harness, method: Method, path: &str, body: &str) {
    let answer = h.admin_call(method.clone(), path, Some(body)).await;
    assert!(
        !answer.status.is_server_error(),
        "{method} {path} {body:.200}: {}",
        answer.body
    );
    assert_eq!(answer.body["success"], json!(answer.status.is_success()));
}

#[tokio::test]
async fn nasty_field_values_never_cause_a_5xx() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "example-bucket").await;
    let creds = json!({"bucket": "example-bucket", "parentAccessKeyId": h.admin.id, "permission": "object-read-only", "ttlSeconds": 60, "objects": ["a"], "prefixes": ["p/"]});
    let bucket =
        json!({"name": "fresh-bucket", "locationHint": "weur", "storageClass": "Standard"});
    let token = json!({"name": "n", "permission": "object-read-only", "buckets": ["example-bucket"], "expires_on": "2030-01-01T00:00:00Z"});
    let policies = json!({"name": "n", "policies": [{"effect": "allow", "permission_groups": [{"id": "6a018a9f2fc74eb6b293b0c548f38b39"}], "resources": {format!("com.cloudflare.api.account.{ACCOUNT}"): "*"}}]});
    let targets = [
        (
            format!("/accounts/{ACCOUNT}/r2/temp-access-credentials"),
            creds,
        ),
        (format!("/accounts/{ACCOUNT}/r2/buckets"), bucket),
        (format!("/accounts/{ACCOUNT}/tokens"), token),
        (format!("/accounts/{ACCOUNT}/tokens"), policies),
    ];
    for (path, template) in &targets {
        let fields: Vec<String> = template.as_object().unwrap().keys().cloned().collect();
        for field in fields {
            for value in nasty_values() {
                let mut body = template.clone();
                body[&field] = value;
                assert_no_5xx(&h, Method::POST, path, &body.to_string()).await;
            }
        }
    }
    // Nested policy fields too.
    for value in nasty_values() {
        for pointer in ["effect", "permission_groups", "resources"] {
            let mut body = targets[3].1.clone();
            body["policies"][0][pointer] = value.clone();
            assert_no_5xx(&h, Method::POST, &targets[3].0, &body.to_string()).await;
        }
        let mut body = targets[3].1.clone();
        body["policies"][0]["permission_groups"][0] = value.clone();
        assert_no_5xx(&h, Method::POST, &targets[3].0, &body.to_string()).await;
    }
}

#[tokio::test]
async fn odd_paths_queries_and_bodies_never_cause_a_5xx() {
    let h = Harness::new().await;
    let auth = format!("Bearer {}", h.admin.value);
    let uris = [
        format!("/client/v4/accounts/{ACCOUNT}/r2/buckets/%FF%FE"),
        format!("/client/v4/accounts/{ACCOUNT}/r2/buckets/%00abc"),
        format!(
            "/client/v4/accounts/{ACCOUNT}/r2/buckets/{}",
            "a".repeat(5000)
        ),
        format!(
            "/client/v4/accounts/{ACCOUNT}/r2/buckets?per_page=%FF&cursor=%00&name_contains={}",
            "%25".repeat(2000)
        ),
        format!(
            "/client/v4/accounts/{ACCOUNT}/r2/buckets?start_after=%F0%9F%99%82&order=name&direction=desc"
        ),
        format!("/client/v4/accounts/{ACCOUNT}/r2/buckets?per_page=1e3"),
        format!("/client/v4/accounts/{ACCOUNT}/tokens?page=99999999999999999999"),
        format!("/client/v4/accounts/{ACCOUNT}/tokens/%2e%2e"),
        "/client/v4/accounts/%FF/r2/buckets".to_owned(),
        "/client/v4/accounts//r2/buckets".to_owned(),
        "/client/v4/user/tokens/verify?x=%ZZ".to_owned(),
    ];
    for uri in &uris {
        for method in [
            Method::GET,
            Method::DELETE,
            Method::POST,
            Method::PATCH,
            Method::PUT,
        ] {
            let request = Request::builder()
                .method(method.clone())
                .uri(uri)
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body(Body::from("{\"name\":\"abc\"}"))
                .unwrap();
            let answer = h.send(request).await;
            assert!(
                !answer.status.is_server_error(),
                "{method} {uri}: {}",
                answer.body
            );
        }
    }
    for body in [
        &b"\xff\xfe"[..],
        b"{\"a\":\"\\ud800\"}",
        b"{\"name\":\"abc\"}\x00",
        b"\xef\xbb\xbf{}",
    ] {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/client/v4/accounts/{ACCOUNT}/r2/buckets"))
            .header("authorization", &auth)
            .header("content-type", "application/json; charset=utf-8")
            .body(Body::from(body.to_vec()))
            .unwrap();
        let answer = h.send(request).await;
        assert_eq!(answer.status.as_u16(), 400, "{body:?}: {}", answer.body);
    }
}
