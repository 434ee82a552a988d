//! CORS (issue 13): PutBucketCors validation, preflight answers from the rules without
//! authentication, and CORS headers on actual answers, errors included.

use mayfly_core::Permission;

use super::common::*;

const APP: &str = "https://app.example";
const OTHER: &str = "https://other.example";

const RULES: &str = "<CORSConfiguration>\
    <CORSRule><ID>uploads</ID><AllowedOrigin>https://app.example</AllowedOrigin>\
    <AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>\
    <AllowedHeader>content-type</AllowedHeader><AllowedHeader>x-amz-*</AllowedHeader>\
    <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>\
    <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>\
    </CORSConfiguration>";

fn p(key: &str) -> String {
    format!("/{BUCKET}/{key}")
}

fn put_cors(bucket: &str, doc: &str) -> Req {
    Req::put(&format!("/{bucket}"), doc.as_bytes())
        .q("cors", "")
        .h("content-md5", &md5_b64(doc.as_bytes()))
}

/// A header the browser adds and the page's signer does not sign.
fn from(mut r: Req, origin: &str) -> Req {
    r.unsigned_headers.push(("origin".into(), origin.into()));
    r
}

/// A preflight as a browser sends it: no signature, `Origin` and the `Access-Control-*` asks.
fn preflight(path: &str, origin: Option<&str>, method: Option<&str>, headers: Option<&str>) -> Req {
    let mut r = Req::new("OPTIONS", path).mode(Mode::Anonymous);
    for (name, value) in [
        ("origin", origin),
        ("access-control-request-method", method),
        ("access-control-request-headers", headers),
    ] {
        if let Some(v) = value {
            r = r.h(name, v);
        }
    }
    r
}

async fn with_rules() -> Env {
    let env = Env::new().await;
    env.call(&env.admin, put_cors(BUCKET, RULES)).await.ok();
    env
}

#[tokio::test]
async fn put_bucket_cors_refuses_invalid_documents_with_s3_errors() {
    let env = Env::new().await;
    let rule = |inner: &str| {
        format!("<CORSConfiguration><CORSRule>{inner}</CORSRule></CORSConfiguration>")
    };
    let ok = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>";
    let many: String = (0..101)
        .map(|_| format!("<CORSRule>{ok}</CORSRule>"))
        .collect();
    let cases: Vec<(String, &str, &[&str])> = vec![
        (
            "<CORSConfiguration></CORSConfiguration>".into(),
            "MalformedXML",
            &[],
        ),
        (
            format!("<CORSConfiguration>{many}</CORSConfiguration>"),
            "MalformedXML",
            &[],
        ),
        (
            rule("<AllowedMethod>GET</AllowedMethod>"),
            "MalformedXML",
            &[],
        ),
        (
            rule("<AllowedOrigin>*</AllowedOrigin>"),
            "MalformedXML",
            &[],
        ),
        (
            rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"),
            "InvalidRequest",
            &["Unsupported method is PATCH"],
        ),
        (
            rule("<AllowedOrigin>http://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
            "InvalidRequest",
            &[
                "AllowedOrigin",
                "http://*.*.com",
                "can not have more than one wildcard.",
            ],
        ),
        (
            rule(&format!("{ok}<AllowedHeader>x-*-*</AllowedHeader>")),
            "InvalidRequest",
            &[
                "AllowedHeader",
                "x-*-*",
                "can not have more than one wildcard.",
            ],
        ),
        (
            rule(&format!("{ok}<ExposeHeader>*</ExposeHeader>")),
            "InvalidRequest",
            &["We currently do not support wildcard for ExposeHeader."],
        ),
        (
            rule(&format!("{ok}<ID>{}</ID>", "i".repeat(256))),
            "InvalidRequest",
            &["255"],
        ),
        (
            rule(&format!("{ok}<MaxAgeSeconds>-1</MaxAgeSeconds>")),
            "InvalidRequest",
            &["max age"],
        ),
    ];
    for (doc, code, parts) in cases {
        let r = env.call(&env.admin, put_cors(BUCKET, &doc)).await;
        r.expect(400, code);
        for part in parts {
            assert!(r.text().contains(part), "{doc}: {}", r.text());
        }
    }
    env.call(&env.admin, Req::get(&format!("/{BUCKET}")).q("cors", ""))
        .await
        .expect(404, "NoSuchCORSConfiguration");
}

#[tokio::test]
async fn get_bucket_cors_returns_the_rules_as_set() {
    let env = with_rules().await;
    let r = env
        .call(&env.admin, Req::get(&format!("/{BUCKET}")).q("cors", ""))
        .await;
    r.ok();
    let body = r.text();
    for part in [
        "<ID>uploads</ID>",
        "<AllowedOrigin>https://app.example</AllowedOrigin>",
        "<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>",
        "<AllowedHeader>x-amz-*</AllowedHeader>",
        "<ExposeHeader>ETag</ExposeHeader>",
        "<MaxAgeSeconds>600</MaxAgeSeconds>",
    ] {
        assert!(body.contains(part), "{part} missing from {body}");
    }
    assert_eq!(body.matches("<CORSRule>").count(), 2, "{body}");
}

#[tokio::test]
async fn preflight_is_answered_from_the_rules_without_authentication() {
    let env = with_rules().await;
    let r = env
        .send(
            preflight(
                &p("uploads/a.bin"),
                Some(APP),
                Some("PUT"),
                Some("content-type,X-Amz-Date"),
            )
            .sign(&env.admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    assert_eq!(
        r.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        r.header("access-control-allow-methods").as_deref(),
        Some("PUT, GET")
    );
    assert_eq!(
        r.header("access-control-allow-headers").as_deref(),
        Some("content-type, x-amz-date")
    );
    assert_eq!(
        r.header("access-control-expose-headers").as_deref(),
        Some("ETag")
    );
    assert_eq!(r.header("access-control-max-age").as_deref(), Some("600"));
    let vary = r.header("vary").unwrap_or_default();
    assert!(vary.starts_with("Origin"), "{vary}");
    assert!(vary.contains("Access-Control-Request-Method"), "{vary}");

    // A presigned URL's query (even an expired or forged one) changes nothing.
    let presigned = preflight(&p("uploads/a.bin"), Some(APP), Some("PUT"), None)
        .q("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
        .q("X-Amz-Credential", "forged/20200101/auto/s3/aws4_request")
        .q("X-Amz-Date", "20200101T000000Z")
        .q("X-Amz-Expires", "1")
        .q("X-Amz-SignedHeaders", "host")
        .q("X-Amz-Signature", "00");
    let r = env.send(presigned.sign(&env.admin)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );

    // Virtual-hosted style and the bucket URL itself.
    let r = env
        .send(
            preflight("/uploads/a.bin", Some(APP), Some("GET"), None)
                .host(&format!("{BUCKET}.r2.example.com"))
                .sign(&env.admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = env
        .send(preflight(&format!("/{BUCKET}"), Some(APP), Some("GET"), None).sign(&env.admin))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    // The `*` rule answers `*` and no credentials flag.
    let r = env
        .send(preflight(&p("x"), Some(OTHER), Some("GET"), None).sign(&env.admin))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(r.header("access-control-allow-credentials"), None);
    assert_eq!(
        r.header("access-control-allow-methods").as_deref(),
        Some("GET")
    );
}

#[tokio::test]
async fn preflight_without_a_matching_rule_is_refused_with_the_s3_cors_error() {
    let env = with_rules().await;
    let send = |r: Req| env.send(r.sign(&env.admin));

    // Method not allowed for that origin, a header no rule allows, no method asked.
    for (req, method, resource) in [
        (
            preflight(&p("k"), Some(OTHER), Some("PUT"), None),
            "PUT",
            "OBJECT",
        ),
        (
            preflight(&p("k"), Some(APP), Some("PUT"), Some("authorization")),
            "PUT",
            "OBJECT",
        ),
        (
            preflight(&p("k"), Some(APP), Some("DELETE"), None),
            "DELETE",
            "OBJECT",
        ),
        (
            preflight(
                &p("k"),
                Some("https://app.example/"),
                Some("GET"),
                Some("x"),
            ),
            "GET",
            "OBJECT",
        ),
        (
            preflight(&p("k"), Some(APP), None, None),
            "OPTIONS",
            "OBJECT",
        ),
        (
            preflight(&format!("/{BUCKET}"), Some(OTHER), Some("PUT"), None),
            "PUT",
            "BUCKET",
        ),
    ] {
        let r = send(req).await;
        r.expect(403, "AccessForbidden");
        let body = r.text();
        assert!(
            body.contains("CORSResponse: This CORS request is not allowed."),
            "{body}"
        );
        assert!(
            body.contains(&format!("<Method>{method}</Method>")),
            "{body}"
        );
        assert!(
            body.contains(&format!("<ResourceType>{resource}</ResourceType>")),
            "{body}"
        );
        assert_eq!(r.header("access-control-allow-origin"), None);
    }

    // No Origin at all.
    send(preflight(&p("k"), None, Some("GET"), None))
        .await
        .expect(400, "BadRequest");

    // A bucket without rules and a bucket that does not exist answer alike.
    env.bucket(ACCOUNT, "no-rules").await;
    for path in ["/no-rules/k", "/no-such-bucket/k", "/"] {
        let r = send(preflight(path, Some(APP), Some("GET"), None)).await;
        r.expect(403, "AccessForbidden");
        assert!(
            r.text()
                .contains("CORSResponse: CORS is not enabled for this bucket.")
        );
        assert!(r.text().contains("<ResourceType>BUCKET</ResourceType>"));
    }
}

#[tokio::test]
async fn a_bucket_name_held_by_two_accounts_gets_no_cors() {
    let env = with_rules().await;
    env.bucket(OTHER_ACCOUNT, BUCKET).await;
    env.send(preflight(&p("k"), Some(APP), Some("PUT"), None).sign(&env.admin))
        .await
        .expect(403, "AccessForbidden");
    let r = env.call(&env.admin, from(Req::get(&p("k")), APP)).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn actual_answers_carry_cors_headers_for_a_matching_origin_errors_included() {
    let env = with_rules().await;

    // Success: the page can read the ETag.
    let r = env
        .call(&env.admin, from(Req::put(&p("uploads/a"), b"hello"), APP))
        .await;
    r.ok();
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    assert_eq!(
        r.header("access-control-expose-headers").as_deref(),
        Some("ETag")
    );
    assert!(r.header("etag").is_some());
    assert!(r.header("vary").unwrap_or_default().starts_with("Origin"));

    // GET from any origin matches the `*` rule; PUT from it matches nothing.
    let r = env
        .call(&env.admin, from(Req::get(&p("uploads/a")), OTHER))
        .await;
    r.ok();
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let r = env
        .call(&env.admin, from(Req::put(&p("uploads/b"), b"x"), OTHER))
        .await;
    r.ok();
    assert_eq!(r.header("access-control-allow-origin"), None);

    // A temporary credential writing outside its prefix: 403 the page can read.
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.prefixes = vec!["uploads/"];
    let temp = env.temp(&env.admin, spec);
    let r = env
        .call(&temp, from(Req::put(&p("elsewhere/x"), b"x"), APP))
        .await;
    r.expect(403, "AccessDenied");
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    let r = env
        .call(&temp, from(Req::put(&p("uploads/x"), b"x"), APP))
        .await;
    r.ok();
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );

    // Unauthenticated, and refused by the guard before s3s (SigV2 query).
    let r = env
        .call(
            &env.admin,
            from(Req::get(&p("uploads/a")).mode(Mode::Anonymous), APP),
        )
        .await;
    r.expect(403, "AccessDenied");
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    let r = env
        .call(
            &env.admin,
            from(
                Req::get(&p("uploads/a"))
                    .mode(Mode::Anonymous)
                    .q("AWSAccessKeyId", "x")
                    .q("Signature", "y"),
                APP,
            ),
        )
        .await;
    r.expect(400, "InvalidRequest");
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );

    // Without an Origin nothing is added.
    let r = env.call(&env.admin, Req::get(&p("uploads/a"))).await;
    r.ok();
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("vary"), None);
}

#[tokio::test]
async fn deleting_the_rules_turns_cors_off_at_once() {
    let env = with_rules().await;
    let ask = || preflight(&p("k"), Some(APP), Some("PUT"), None).sign(&env.admin);
    assert_eq!(env.send(ask()).await.status, 200);
    env.call(
        &env.admin,
        Req::new("DELETE", &format!("/{BUCKET}")).q("cors", ""),
    )
    .await
    .ok();
    env.send(ask()).await.expect(403, "AccessForbidden");
    let r = env.call(&env.admin, from(Req::get(&p("k")), APP)).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn odd_preflights_get_4xx_never_5xx() {
    let env = with_rules().await;
    let send = |r: Req| env.send(r.sign(&env.admin));
    // Two Origin headers, an Origin that is not text, a host this endpoint does not serve.
    send(preflight(&p("k"), Some(APP), Some("PUT"), None).h("origin", OTHER))
        .await
        .expect(400, "BadRequest");
    let mut r = preflight(&p("k"), None, Some("PUT"), None).sign(&env.admin);
    r.headers_mut().insert(
        "origin",
        http::HeaderValue::from_bytes(b"https://\xff.example").expect("opaque bytes"),
    );
    env.send(r).await.expect(400, "BadRequest");
    send(preflight(&p("k"), Some(APP), Some("PUT"), None).host("evil.example"))
        .await
        .expect(400, "InvalidRequest");
    // Too many requested headers, a method that is not one, markup in the method (escaped).
    let many = (0..101)
        .map(|i| format!("x-amz-h{i}"))
        .collect::<Vec<_>>()
        .join(",");
    send(preflight(&p("k"), Some(APP), Some("PUT"), Some(&many)))
        .await
        .expect(403, "AccessForbidden");
    let r = send(preflight(&p("k"), Some(APP), Some("<b>&"), None)).await;
    r.expect(403, "AccessForbidden");
    assert!(
        r.text().contains("<Method>&lt;b&gt;&amp;</Method>"),
        "{}",
        r.text()
    );
    // A body on a preflight is not read and does no harm.
    let r = send(preflight(&p("k"), Some(APP), Some("PUT"), None).body(&[0u8; 4096])).await;
    assert_eq!(r.status, 200, "{}", r.text());
}
