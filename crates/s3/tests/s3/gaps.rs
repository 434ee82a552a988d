//! Each known s3s 0.14 gap, closed in mayfly-s3, with the test that guards it.

use axum::body::Body;
use mayfly_core::Permission;
use mayfly_s3::Limits;
use mayfly_store::Clock;

use super::common::*;

fn p(key: &str) -> String {
    format!("/{BUCKET}/{key}")
}

fn raw(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::Request<Body> {
    let mut b = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", HOST);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).expect("req")
}

#[tokio::test]
async fn sigv2_header_and_query_are_refused() {
    let env = Env::new().await;
    let r = env
        .send(raw(
            "GET",
            &p("a"),
            &[
                ("authorization", "AWS 0101:c2lnbmF0dXJl"),
                ("date", "Sat, 28 Nov 2026 06:00:00 GMT"),
            ],
        ))
        .await;
    r.expect(400, "InvalidRequest");
    assert!(r.text().contains("AWS4-HMAC-SHA256"));
    let r = env
        .send(raw(
            "GET",
            &format!(
                "{}?AWSAccessKeyId=0101&Expires=9999999999&Signature=abc",
                p("a")
            ),
            &[],
        ))
        .await;
    r.expect(400, "InvalidRequest");
}

#[tokio::test]
async fn presigned_expiry_must_be_1_to_604800_seconds() {
    let env = Env::new().await;
    for bad in [0u64, 604_801, 10_000_000] {
        env.call(&env.admin, Req::get(&p("a")).mode(Mode::Presigned(bad)))
            .await
            .expect(400, "AuthorizationQueryParametersError");
    }
    env.call(&env.admin, Req::get(&p("a")).mode(Mode::Presigned(604_800)))
        .await
        .expect(404, "NoSuchKey");
    env.call(&env.admin, Req::get(&p("a")).mode(Mode::Presigned(1)))
        .await
        .expect(404, "NoSuchKey");
}

#[tokio::test]
async fn unsigned_amz_headers_are_refused() {
    let env = Env::new().await;
    let mut r = Req::put(&p("u"), b"x");
    r.unsigned_headers
        .push(("x-amz-meta-injected".into(), "1".into()));
    env.call(&env.admin, r).await.expect(403, "AccessDenied");
    let mut r = Req::put(&p("u"), b"x").mode(Mode::Presigned(60));
    r.unsigned_headers
        .push(("x-amz-copy-source".into(), format!("{BUCKET}/other")));
    env.call(&env.admin, r).await.expect(403, "AccessDenied");
    // Presigned clients may send the payload hash unsigned: it is checked against the body.
    let mut r = Req::put(&p("u"), b"x").mode(Mode::Presigned(60));
    r.unsigned_headers
        .push(("x-amz-content-sha256".into(), sha256_hex(b"x")));
    env.call(&env.admin, r).await.ok();
    env.call(
        &env.admin,
        Req::put(&p("u"), b"x").h("x-amz-meta-signed", "1"),
    )
    .await
    .ok();
}

#[tokio::test]
async fn the_host_header_must_be_signed() {
    let env = Env::new().await;
    // Sign without host, then add it: virtual-hosted bucket could otherwise be swapped.
    let req = Req::get(&p("a")).sign(&env.admin);
    let (mut parts, body) = req.into_parts();
    let auth = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .expect("auth")
        .replace(";host;", ";")
        .replace("host;", "");
    parts
        .headers
        .insert("authorization", auth.parse().expect("hv"));
    let r = env.send(http::Request::from_parts(parts, body)).await;
    assert_eq!(r.status, 403, "{}", r.text());
}

#[tokio::test]
async fn only_configured_hosts_are_served() {
    let env = Env::new().await;
    for host in [
        "evil.example.com",
        "my-bucket.evil.example.com",
        "10.0.0.1:9000",
        "127.0.0.1:9001",
    ] {
        env.call(&env.admin, Req::get(&p("a")).host(host))
            .await
            .expect(400, "InvalidRequest");
    }
    env.call(&env.admin, Req::get(&p("a")).host("LOCALHOST:9000"))
        .await
        .expect(404, "NoSuchKey");
}

#[tokio::test]
async fn oversized_aws_chunks_are_refused_before_they_are_buffered() {
    let limits = Limits {
        max_aws_chunk: 64,
        ..Limits::default()
    };
    let env = Env::with(Clock::system(), limits).await;
    let data = vec![b'z'; 300];
    for mode in [Mode::Streaming(128), Mode::UnsignedTrailer(128)] {
        let r = env
            .call(&env.admin, Req::put(&p("c"), &data).mode(mode))
            .await;
        assert_eq!(r.status, 400, "{}", r.text());
        env.call(&env.admin, Req::get(&p("c")))
            .await
            .expect(404, "NoSuchKey");
    }
    env.call(
        &env.admin,
        Req::put(&p("c"), &data).mode(Mode::Streaming(64)),
    )
    .await
    .ok();
}

#[tokio::test]
async fn size_caps_hold_for_every_body_kind() {
    let limits = Limits {
        max_object_size: 100,
        max_part_size: 100,
        max_xml_body: 512,
        ..Limits::default()
    };
    let env = Env::with(Clock::system(), limits).await;
    let big = vec![b'b'; 101];
    for mode in [
        Mode::Signed,
        Mode::Unsigned,
        Mode::Streaming(50),
        Mode::UnsignedTrailer(50),
    ] {
        env.call(&env.admin, Req::put(&p("big"), &big).mode(mode))
            .await
            .expect(400, "EntityTooLarge");
    }
    env.call(&env.admin, Req::put(&p("ok"), &big[..100]))
        .await
        .ok();
    // XML bodies.
    let body = format!(
        "<Delete>{}</Delete>",
        "<Object><Key>k</Key></Object>".repeat(40)
    );
    let r = Req::new("POST", &format!("/{BUCKET}"))
        .q("delete", "")
        .body(body.as_bytes())
        .h("content-md5", &md5_b64(body.as_bytes()));
    let r = env.call(&env.admin, r).await;
    assert_eq!(r.status, 400, "{}", r.text());
}

#[tokio::test]
async fn header_and_metadata_sizes_are_capped() {
    let env = Env::new().await;
    let meta = "m".repeat(9 * 1024);
    env.call(
        &env.admin,
        Req::put(&p("m"), b"x").h("x-amz-meta-big", &meta),
    )
    .await
    .expect(400, "MetadataTooLarge");
    let huge = "h".repeat(17 * 1024);
    env.call(&env.admin, Req::put(&p("m"), b"x").h("x-custom", &huge))
        .await
        .expect(400, "RequestHeaderSectionTooLarge");
}

#[tokio::test]
async fn declared_decoded_length_must_match_the_body() {
    let env = Env::new().await;
    let req = Req::put(&p("len"), b"0123456789")
        .mode(Mode::UnsignedTrailer(4))
        .sign(&env.admin);
    let (mut parts, body) = req.into_parts();
    // Unsigned-trailer mode: the decoded length is signed, so lying needs a re-sign; instead
    // drop a byte from a chunk and keep the framing consistent is impossible — check the
    // simple lie path on the unsigned header instead.
    parts
        .headers
        .insert("x-amz-decoded-content-length", "5".parse().expect("hv"));
    let r = env.send(http::Request::from_parts(parts, body)).await;
    assert!(
        r.status == 400 || r.status == 403,
        "{} {}",
        r.status,
        r.text()
    );
    env.call(&env.admin, Req::get(&p("len")))
        .await
        .expect(404, "NoSuchKey");
}

#[tokio::test]
async fn client_checksums_are_compared_and_mismatches_store_nothing() {
    let env = Env::new().await;
    let data = b"checksummed body";
    // Header checksum.
    env.call(
        &env.admin,
        Req::put(&p("c1"), data).h("x-amz-checksum-crc32", "AAAAAA=="),
    )
    .await
    .expect(400, "BadDigest");
    env.call(&env.admin, Req::get(&p("c1")))
        .await
        .expect(404, "NoSuchKey");
    env.call(
        &env.admin,
        Req::put(&p("c1"), data).h("x-amz-checksum-crc32", &crc32_b64(data)),
    )
    .await
    .ok();
    // SHA-256 header checksum.
    use base64::Engine as _;
    use sha2::Digest as _;
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data));
    env.call(
        &env.admin,
        Req::put(&p("c2"), data).h("x-amz-checksum-sha256", &sha),
    )
    .await
    .ok();
    env.call(
        &env.admin,
        Req::put(&p("c3"), data).h("x-amz-checksum-sha256", &crc32_b64(data)),
    )
    .await
    .expect(400, "BadDigest");
    // Trailer checksum, signed and unsigned.
    for mode in [Mode::StreamingTrailer(5), Mode::UnsignedTrailer(5)] {
        let mut r = Req::put(&p("c4"), data).mode(mode);
        r.trailer_value = Some("AAAAAA==".into());
        env.call(&env.admin, r).await.expect(400, "BadDigest");
        env.call(&env.admin, Req::get(&p("c4")))
            .await
            .expect(404, "NoSuchKey");
    }
    // Content-MD5.
    env.call(
        &env.admin,
        Req::put(&p("c5"), data).h("content-md5", &md5_b64(b"other")),
    )
    .await
    .expect(400, "BadDigest");
    env.call(
        &env.admin,
        Req::put(&p("c5"), data).h("content-md5", "not-md5"),
    )
    .await
    .expect(400, "InvalidDigest");
    env.call(
        &env.admin,
        Req::put(&p("c5"), data).h("content-md5", &md5_b64(data)),
    )
    .await
    .ok();
}

#[tokio::test]
async fn stored_checksums_are_returned_on_checksum_mode_for_whole_objects_only() {
    let env = Env::new().await;
    let data = b"hello world";
    env.call(
        &env.admin,
        Req::put(&p("k"), data).mode(Mode::UnsignedTrailer(4)),
    )
    .await
    .ok();
    let r = env
        .call(
            &env.admin,
            Req::get(&p("k")).h("x-amz-checksum-mode", "ENABLED"),
        )
        .await;
    r.ok();
    assert_eq!(
        r.header("x-amz-checksum-crc32").as_deref(),
        Some("DUoRhQ==")
    );
    let r = env
        .call(
            &env.admin,
            Req::new("HEAD", &p("k")).h("x-amz-checksum-mode", "ENABLED"),
        )
        .await;
    assert_eq!(
        r.header("x-amz-checksum-crc32").as_deref(),
        Some("DUoRhQ==")
    );
    let r = env
        .call(
            &env.admin,
            Req::get(&p("k"))
                .h("x-amz-checksum-mode", "ENABLED")
                .h("range", "bytes=0-4"),
        )
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("x-amz-checksum-crc32"), None);
    let r = env.call(&env.admin, Req::get(&p("k"))).await;
    assert_eq!(r.header("x-amz-checksum-crc32"), None);
}

#[tokio::test]
async fn browser_form_post_is_not_served() {
    let env = Env::new().await;
    let r = env
        .send(raw(
            "POST",
            &format!("/{BUCKET}"),
            &[
                ("content-type", "multipart/form-data; boundary=x"),
                ("content-length", "0"),
            ],
        ))
        .await;
    r.expect(501, "NotImplemented");
}

#[tokio::test]
async fn ambiguous_credentials_are_refused() {
    let env = Env::new().await;
    let temp = env.temp(&env.admin, TempSpec::new(Permission::ObjectReadWrite));
    // Header auth plus presigned query.
    let mut r = Req::get(&p("a")).q("X-Amz-Signature", "00");
    r.query
        .push(("X-Amz-Date".into(), "20260101T000000Z".into()));
    env.call(&env.admin, r).await.expect(400, "InvalidArgument");
    // Session token twice.
    let mut r = Req::get(&p("a"));
    r.unsigned_headers
        .push(("x-amz-security-token".into(), "dup".into()));
    let resp = env.call(&temp, r).await;
    assert_eq!(resp.status, 400, "{}", resp.text());
}

#[tokio::test]
async fn unsupported_operations_answer_501() {
    let env = Env::new().await;
    env.call(&env.admin, Req::get(&format!("/{BUCKET}")).q("policy", ""))
        .await
        .expect(501, "NotImplemented");
    env.call(
        &env.admin,
        Req::get(&format!("/{BUCKET}")).q("versioning", ""),
    )
    .await
    .expect(501, "NotImplemented");
    env.call(&env.admin, Req::get(&p("k")).q("tagging", ""))
        .await
        .expect(501, "NotImplemented");
}

#[tokio::test]
async fn xml_request_bodies_are_checked_against_their_digests() {
    let env = Env::new().await;
    env.call(&env.admin, Req::put(&p("keep"), b"x")).await.ok();
    let body = b"<Delete><Object><Key>keep</Key></Object></Delete>";
    let del = || {
        Req::new("POST", &format!("/{BUCKET}"))
            .q("delete", "")
            .body(body)
    };
    env.call(&env.admin, del().h("content-md5", &md5_b64(b"other")))
        .await
        .expect(400, "BadDigest");
    env.call(&env.admin, del().h("x-amz-checksum-crc32", "AAAAAA=="))
        .await
        .expect(400, "BadDigest");
    env.call(&env.admin, Req::get(&p("keep"))).await.ok();
    env.call(
        &env.admin,
        del().h("x-amz-checksum-crc32", &crc32_b64(body)),
    )
    .await
    .ok();
    env.call(&env.admin, Req::get(&p("keep")))
        .await
        .expect(404, "NoSuchKey");
    let cors = b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>";
    let put = Req::new("PUT", &format!("/{BUCKET}"))
        .q("cors", "")
        .body(cors)
        .h("content-md5", &md5_b64(b"x"));
    env.call(&env.admin, put).await.expect(400, "BadDigest");
    env.call(&env.admin, Req::get(&format!("/{BUCKET}")).q("cors", ""))
        .await
        .expect(404, "NoSuchCORSConfiguration");
}
