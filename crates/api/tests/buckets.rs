//! `/accounts/{a}/r2/buckets[/{name}]`: lifecycle, listing, permissions, bad input.

use axum::body::Body;
use axum::http::{Method, Request};
use mayfly_core::Permission;
use serde_json::{Value, json};

use crate::support::*;

fn list_path() -> String {
    format!("/accounts/{ACCOUNT}/r2/buckets")
}

fn one(name: &str) -> String {
    format!("/accounts/{ACCOUNT}/r2/buckets/{name}")
}

fn names(result: &Value) -> Vec<String> {
    result["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_get_list_delete() {
    let h = Harness::new().await;
    let created = h
        .admin_call(Method::POST, &list_path(), Some(r#"{"name":"my-bucket"}"#))
        .await;
    assert_eq!(
        created.ok(),
        &json!({"name": "my-bucket", "creation_date": "2025-06-15T15:06:40.000Z", "location": "enam",
                "storage_class": "Standard", "jurisdiction": "default"})
    );
    let got = h.admin_call(Method::GET, &one("my-bucket"), None).await;
    assert_eq!(got.ok(), created.ok());
    let listed = h.admin_call(Method::GET, &list_path(), None).await;
    assert_eq!(names(listed.ok()), ["my-bucket"]);
    assert_eq!(listed.body["result_info"]["per_page"], json!(20));
    assert!(listed.body["result_info"].get("cursor").is_none());

    // Replay of the create: 409 10004, never a second bucket.
    let replay = h
        .admin_call(Method::POST, &list_path(), Some(r#"{"name":"my-bucket"}"#))
        .await;
    replay.assert_error(409, 10004);
    assert_eq!(
        replay.headers.get("x-should-retry").map(|v| v.as_bytes()),
        Some(&b"false"[..])
    );

    // The Python SDK sends Content-Type: application/json with an empty DELETE body.
    let delete = Request::builder()
        .method(Method::DELETE)
        .uri(format!("/client/v4{}", one("my-bucket")))
        .header("authorization", format!("Bearer {}", h.admin.value))
        .header("content-type", "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(delete).await.ok(), &json!({}));
    h.admin_call(Method::GET, &one("my-bucket"), None)
        .await
        .assert_error(404, 10006);
    h.admin_call(Method::DELETE, &one("my-bucket"), None)
        .await
        .assert_error(404, 10006);
}

#[tokio::test]
async fn create_with_hint_class_and_jurisdiction() {
    let h = Harness::new().await;
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/client/v4{}", list_path()))
        .header("authorization", format!("Bearer {}", h.admin.value))
        .header("content-type", "application/json")
        .header("cf-r2-jurisdiction", "eu")
        .body(Body::from(
            r#"{"name":"my-bucket","locationHint":"weur","storageClass":"InfrequentAccess"}"#,
        ))
        .unwrap();
    let answer = h.send(request).await;
    let result = answer.ok();
    assert_eq!(result["location"], json!("weur"));
    assert_eq!(result["storage_class"], json!("InfrequentAccess"));
    assert_eq!(result["jurisdiction"], json!("eu"));
    // Listing with another jurisdiction hides it.
    let list = Request::builder()
        .uri(format!("/client/v4{}", list_path()))
        .header("authorization", format!("Bearer {}", h.admin.value))
        .header("cf-r2-jurisdiction", "fedramp")
        .body(Body::empty())
        .unwrap();
    assert_eq!(names(h.send(list).await.ok()), Vec::<String>::new());
}

#[tokio::test]
async fn create_bad_input_table() {
    let h = Harness::new().await;
    let rows: [(&str, u16, i64, Option<&str>); 12] = [
        (r#"{"name":"ab"}"#, 400, 10005, Some("/name")),
        (r#"{"name":"-abc"}"#, 400, 10005, Some("/name")),
        (r#"{"name":"Upper"}"#, 400, 10005, Some("/name")),
        (r#"{"name":7}"#, 400, 10040, Some("/name")),
        (r#"{}"#, 400, 10040, Some("/name")),
        (
            r#"{"name":"good-name","locationHint":"mars"}"#,
            400,
            10040,
            Some("/locationHint"),
        ),
        (
            r#"{"name":"good-name","storageClass":"Glacier"}"#,
            400,
            10040,
            Some("/storageClass"),
        ),
        (
            r#"{"name":"good-name","extra":1}"#,
            400,
            10040,
            Some("/extra"),
        ),
        (r#"{"name":"good-name""#, 400, 6007, Some("")),
        (r#"["good-name"]"#, 400, 6007, Some("")),
        (
            r#"{"name":"good-name","name":"other-name"}"#,
            400,
            10040,
            Some("/name"),
        ),
        ("", 400, 6007, Some("")),
    ];
    for (body, status, code, pointer) in rows {
        let answer = h.admin_call(Method::POST, &list_path(), Some(body)).await;
        answer.assert_error(status, code);
        assert_eq!(answer.pointer(), pointer, "{body}");
    }
    let bad_header = Request::builder()
        .method(Method::POST)
        .uri(format!("/client/v4{}", list_path()))
        .header("authorization", format!("Bearer {}", h.admin.value))
        .header("cf-r2-jurisdiction", "moon")
        .body(Body::from(r#"{"name":"good-name"}"#))
        .unwrap();
    h.send(bad_header).await.assert_error(400, 6003);
    // Nothing was created by any of them.
    assert_eq!(
        names(h.admin_call(Method::GET, &list_path(), None).await.ok()),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn invalid_names_in_the_path() {
    let h = Harness::new().await;
    // What the SDKs send for buckets.get('a b/c').
    h.admin_call(Method::GET, &one("a%20b%2Fc"), None)
        .await
        .assert_error(400, 10005);
    h.admin_call(Method::DELETE, &one("UPPER"), None)
        .await
        .assert_error(400, 10005);
}

#[tokio::test]
async fn delete_of_a_non_empty_bucket_is_refused() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "full").await;
    h.object("full", "some/key").await;
    h.admin_call(Method::DELETE, &one("full"), None)
        .await
        .assert_error(409, 10008);
    h.admin_call(Method::GET, &one("full"), None).await.ok();
}

#[tokio::test]
async fn listing_pages_filters_and_orders() {
    let h = Harness::new().await;
    for (i, name) in ["delta", "alpha", "charlie", "bravo"].iter().enumerate() {
        h.clock.set(NOW + i as u64);
        h.bucket(ACCOUNT, name).await;
    }
    let hr = &h;
    let get = |q: &'static str| {
        let path = format!("{}?{q}", list_path());
        async move { hr.admin_call(Method::GET, &path, None).await }
    };
    assert_eq!(
        names(get("").await.ok()),
        ["alpha", "bravo", "charlie", "delta"]
    );
    assert_eq!(
        names(get("direction=desc").await.ok()),
        ["delta", "charlie", "bravo", "alpha"]
    );
    assert_eq!(
        names(get("order=creation_date").await.ok()),
        ["delta", "alpha", "charlie", "bravo"]
    );
    assert_eq!(
        names(get("name_contains=a&start_after=bravo").await.ok()),
        ["charlie", "delta"]
    );

    // Cursor pagination walks every bucket exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = match &cursor {
            None => "per_page=3".to_owned(),
            Some(c) => format!("per_page=3&cursor={}", form_urlencoded_encode(c)),
        };
        let answer = h
            .admin_call(Method::GET, &format!("{}?{q}", list_path()), None)
            .await;
        seen.extend(names(answer.ok()));
        assert_eq!(answer.body["result_info"]["per_page"], json!(3));
        cursor = answer.body["result_info"]["cursor"]
            .as_str()
            .map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["alpha", "bravo", "charlie", "delta"]);

    for (q, pointer) in [
        ("per_page=0", "/per_page"),
        ("per_page=1001", "/per_page"),
        ("per_page=abc", "/per_page"),
        ("order=size", "/order"),
        ("direction=sideways", "/direction"),
        ("cursor=not-a-cursor", "/cursor"),
        ("per_page=1&per_page=2", "/per_page"),
    ] {
        let answer = h
            .admin_call(Method::GET, &format!("{}?{q}", list_path()), None)
            .await;
        answer.assert_error(400, 10040);
        assert_eq!(answer.pointer(), Some(pointer), "{q}");
    }
}

fn form_urlencoded_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn permissions_per_token_kind() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "mine").await;
    h.bucket(ACCOUNT, "theirs").await;
    let object = h
        .token(ACCOUNT, Permission::ObjectReadWrite, Some(&["mine"]))
        .await;
    let reader = h.token(ACCOUNT, Permission::AdminReadOnly, None).await;

    // Object-level tokens see only their buckets, and cannot tell whether others exist.
    let listed = h
        .call(Method::GET, &list_path(), Some(&object.value), None)
        .await;
    assert_eq!(names(listed.ok()), ["mine"]);
    h.call(Method::GET, &one("mine"), Some(&object.value), None)
        .await
        .ok();
    h.call(Method::GET, &one("theirs"), Some(&object.value), None)
        .await
        .assert_error(403, 10000);
    h.call(Method::GET, &one("missing"), Some(&object.value), None)
        .await
        .assert_error(403, 10000);
    h.call(
        Method::POST,
        &list_path(),
        Some(&object.value),
        Some(r#"{"name":"new-one"}"#),
    )
    .await
    .assert_error(403, 10000);
    h.call(Method::DELETE, &one("mine"), Some(&object.value), None)
        .await
        .assert_error(403, 10000);

    // admin-read-only reads everything, writes nothing.
    assert_eq!(
        names(
            h.call(Method::GET, &list_path(), Some(&reader.value), None)
                .await
                .ok()
        ),
        ["mine", "theirs"]
    );
    h.call(Method::GET, &one("missing"), Some(&reader.value), None)
        .await
        .assert_error(404, 10006);
    h.call(
        Method::POST,
        &list_path(),
        Some(&reader.value),
        Some(r#"{"name":"new-one"}"#),
    )
    .await
    .assert_error(403, 10000);
    h.call(Method::DELETE, &one("theirs"), Some(&reader.value), None)
        .await
        .assert_error(403, 10000);
}

#[tokio::test]
async fn patch_storage_class_header() {
    let h = Harness::new().await;
    h.bucket(ACCOUNT, "mine").await;
    let patch = |class: &str| {
        Request::builder()
            .method(Method::PATCH)
            .uri(format!("/client/v4{}", one("mine")))
            .header("authorization", format!("Bearer {}", h.admin.value))
            .header("content-type", "application/json")
            .header("cf-r2-storage-class", class)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        h.send(patch("Standard")).await.ok()["storage_class"],
        json!("Standard")
    );
    h.send(patch("InfrequentAccess"))
        .await
        .assert_error(409, 10073);
    h.send(patch("Glacier")).await.assert_error(400, 6003);
}

/// Walks every page of a listing as `token`; returns the names seen and every cursor issued.
async fn walk(h: &Harness, token: &str, query: &str) -> (Vec<String>, Vec<String>) {
    let (mut seen, mut cursors) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let q = match &cursor {
            Some(c) => format!("{query}&cursor={}", urlencode(c)),
            None => query.to_owned(),
        };
        let page = h
            .call(
                Method::GET,
                &format!("{}?{q}", list_path()),
                Some(token),
                None,
            )
            .await;
        let shown = names(page.ok());
        let info = &page.body["result_info"];
        assert_eq!(info["count"], json!(shown.len()), "{}", page.body);
        seen.extend(shown);
        match info["cursor"].as_str() {
            Some(c) => {
                cursors.push(c.to_owned());
                cursor = Some(c.to_owned());
            }
            None => return (seen, cursors),
        }
    }
    panic!("listing did not end");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn regression_12_a_limited_token_lists_only_its_buckets_and_no_cursor_names_another() {
    let h = Harness::new().await;
    let all = [
        "alpha-1",
        "bravo-2",
        "charlie-3",
        "delta-4",
        "echo-5",
        "foxtrot-6",
    ];
    for b in all {
        h.bucket(ACCOUNT, b).await;
    }
    // The probe's case: object-read-only, one bucket, per_page=1, descending.
    let one = h
        .token(ACCOUNT, Permission::ObjectReadOnly, Some(&["charlie-3"]))
        .await;
    let first = h
        .call(
            Method::GET,
            &format!("{}?per_page=1&direction=desc", list_path()),
            Some(&one.value),
            None,
        )
        .await;
    assert_eq!(
        first.ok(),
        &json!({"buckets": [{"name": "charlie-3", "creation_date": "2025-06-15T15:06:40.000Z",
            "location": "enam", "storage_class": "Standard", "jurisdiction": "default"}]})
    );
    assert_eq!(
        first.body["result_info"],
        json!({"per_page": 1, "count": 1})
    );

    // Every order, direction and page size: exactly the visible buckets, each cursor naming
    // only a bucket the token may see (the last one shown).
    let three = h
        .token(
            ACCOUNT,
            Permission::ObjectReadWrite,
            Some(&["bravo-2", "echo-5", "foxtrot-6"]),
        )
        .await;
    for (token, visible) in [
        (&one, vec!["charlie-3"]),
        (&three, vec!["bravo-2", "echo-5", "foxtrot-6"]),
    ] {
        for order in ["name", "creation_date"] {
            for direction in ["asc", "desc"] {
                for per_page in [1, 2, 5] {
                    let q = format!("per_page={per_page}&order={order}&direction={direction}");
                    let (seen, cursors) = walk(&h, &token.value, &q).await;
                    let mut sorted = seen.clone();
                    sorted.sort();
                    assert_eq!(sorted, visible, "{q}");
                    for c in &cursors {
                        for hidden in all.iter().filter(|b| !visible.contains(b)) {
                            assert!(!c.contains(hidden), "{q}: cursor {c} names {hidden}");
                        }
                    }
                    // Full pages only: no empty page that merely carries a cursor.
                    assert_eq!(
                        cursors.len(),
                        (visible.len() - 1) / per_page,
                        "{q}: {cursors:?}"
                    );
                }
            }
        }
    }

    // The admin still pages over everything with the same cursors.
    let (seen, cursors) = walk(&h, &h.admin.value, "per_page=2&direction=desc").await;
    assert_eq!(
        seen,
        [
            "foxtrot-6",
            "echo-5",
            "delta-4",
            "charlie-3",
            "bravo-2",
            "alpha-1"
        ]
    );
    assert_eq!(cursors, ["n-:echo-5", "n-:charlie-3"]);
}
