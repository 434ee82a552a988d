//! The operations themselves: buckets, objects, listings, copies, multipart.

use mayfly_s3::Limits;
use mayfly_store::Clock;

use super::common::*;

fn p(key: &str) -> String {
    format!("/{BUCKET}/{key}")
}

fn tag(body: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    body.split(&open)
        .skip(1)
        .filter_map(|s| s.split(&close).next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn bucket_lifecycle_and_configuration_documents() {
    let env = Env::new().await;
    let a = &env.admin;
    env.call(a, Req::new("PUT", "/fresh-bucket")).await.ok();
    env.call(a, Req::new("PUT", "/fresh-bucket"))
        .await
        .expect(409, "BucketAlreadyOwnedByYou");
    env.call(a, Req::new("HEAD", "/fresh-bucket")).await.ok();
    let r = env.call(a, Req::get("/")).await;
    r.ok();
    assert_eq!(tag(&r.text(), "Name"), vec!["fresh-bucket", BUCKET]);
    let r = env
        .call(a, Req::get("/fresh-bucket").q("location", ""))
        .await;
    r.ok();
    assert!(r.text().contains("auto"), "{}", r.text());
    let r = env
        .call(a, Req::get("/fresh-bucket").q("encryption", ""))
        .await;
    r.ok();
    assert!(r.text().contains("AES256"));

    env.call(a, Req::get("/fresh-bucket").q("cors", ""))
        .await
        .expect(404, "NoSuchCORSConfiguration");
    let cors = b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>";
    env.call(
        a,
        Req::put("/fresh-bucket", cors)
            .q("cors", "")
            .h("content-md5", &md5_b64(cors)),
    )
    .await
    .ok();
    let r = env.call(a, Req::get("/fresh-bucket").q("cors", "")).await;
    r.ok();
    assert!(
        r.text().contains("<AllowedOrigin>*</AllowedOrigin>"),
        "{}",
        r.text()
    );
    env.call(a, Req::new("DELETE", "/fresh-bucket").q("cors", ""))
        .await
        .ok();
    env.call(a, Req::get("/fresh-bucket").q("cors", ""))
        .await
        .expect(404, "NoSuchCORSConfiguration");

    env.call(a, Req::get("/fresh-bucket").q("lifecycle", ""))
        .await
        .expect(404, "NoSuchLifecycleConfiguration");
    let lc = b"<LifecycleConfiguration><Rule><ID>r1</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>";
    env.call(
        a,
        Req::put("/fresh-bucket", lc)
            .q("lifecycle", "")
            .h("content-md5", &md5_b64(lc)),
    )
    .await
    .ok();
    let r = env
        .call(a, Req::get("/fresh-bucket").q("lifecycle", ""))
        .await;
    r.ok();
    assert!(r.text().contains("<Days>7</Days>"), "{}", r.text());

    env.call(a, Req::put("/fresh-bucket/obj", b"1")).await.ok();
    env.call(a, Req::new("DELETE", "/fresh-bucket"))
        .await
        .expect(409, "BucketNotEmpty");
    env.call(a, Req::new("DELETE", "/fresh-bucket/obj"))
        .await
        .ok();
    env.call(a, Req::new("DELETE", "/fresh-bucket")).await.ok();
    env.call(a, Req::new("HEAD", "/fresh-bucket")).await;
    env.call(a, Req::get("/fresh-bucket/obj"))
        .await
        .expect(404, "NoSuchBucket");
}

#[tokio::test]
async fn put_get_head_keep_metadata_and_content_headers() {
    let env = Env::new().await;
    let a = &env.admin;
    let r = Req::put(&p("doc.txt"), b"hello world")
        .h("content-type", "text/plain")
        .h("cache-control", "max-age=60")
        .h("content-disposition", "attachment")
        .h("x-amz-meta-Color", "blue");
    env.call(a, r).await.ok();
    let r = env.call(a, Req::new("HEAD", &p("doc.txt"))).await;
    r.ok();
    assert_eq!(r.header("content-type").as_deref(), Some("text/plain"));
    assert_eq!(r.header("cache-control").as_deref(), Some("max-age=60"));
    assert_eq!(r.header("x-amz-meta-color").as_deref(), Some("blue"));
    assert_eq!(r.header("content-length").as_deref(), Some("11"));
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", md5_hex(b"hello world")))
    );
    assert!(r.header("last-modified").is_some());
    // response-* overrides
    let r = env
        .call(
            a,
            Req::get(&p("doc.txt"))
                .q("response-content-type", "application/x-test")
                .q("response-cache-control", "no-store"),
        )
        .await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/x-test")
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    // aws-chunked is a transport encoding, never stored.
    env.call(
        a,
        Req::put(&p("chunked"), b"abc").mode(Mode::UnsignedTrailer(2)),
    )
    .await
    .ok();
    let r = env.call(a, Req::new("HEAD", &p("chunked"))).await;
    assert_eq!(r.header("content-encoding"), None);
    // Empty object.
    env.call(a, Req::put(&p("empty"), b"")).await.ok();
    let r = env.call(a, Req::get(&p("empty"))).await;
    r.ok();
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn ranges_and_conditionals() {
    let env = Env::new().await;
    let a = &env.admin;
    env.call(a, Req::put(&p("r"), b"0123456789")).await.ok();
    let etag = format!("\"{}\"", md5_hex(b"0123456789"));
    let r = env.call(a, Req::get(&p("r")).h("range", "bytes=2-5")).await;
    assert_eq!((r.status, r.body.as_slice()), (206, &b"2345"[..]));
    assert_eq!(r.header("content-range").as_deref(), Some("bytes 2-5/10"));
    let r = env.call(a, Req::get(&p("r")).h("range", "bytes=-3")).await;
    assert_eq!(r.body, b"789");
    let r = env.call(a, Req::get(&p("r")).h("range", "bytes=7-")).await;
    assert_eq!(r.body, b"789");
    env.call(a, Req::get(&p("r")).h("range", "bytes=20-30"))
        .await
        .expect(416, "InvalidRange");

    env.call(a, Req::get(&p("r")).h("if-match", &etag))
        .await
        .ok();
    env.call(a, Req::get(&p("r")).h("if-match", "\"nope\""))
        .await
        .expect(412, "PreconditionFailed");
    let r = env
        .call(a, Req::get(&p("r")).h("if-none-match", &etag))
        .await;
    assert_eq!(r.status, 304);
    env.call(a, Req::get(&p("r")).h("if-none-match", "\"nope\""))
        .await
        .ok();
    let r = env
        .call(
            a,
            Req::get(&p("r")).h("if-modified-since", "Sat, 01 Jan 2100 00:00:00 GMT"),
        )
        .await;
    assert_eq!(r.status, 304);
    env.call(
        a,
        Req::get(&p("r")).h("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT"),
    )
    .await
    .ok();
    env.call(
        a,
        Req::get(&p("r")).h("if-unmodified-since", "Sat, 01 Jan 2000 00:00:00 GMT"),
    )
    .await
    .expect(412, "PreconditionFailed");

    // Conditional writes.
    env.call(a, Req::put(&p("r"), b"x").h("if-none-match", "*"))
        .await
        .expect(412, "PreconditionFailed");
    env.call(a, Req::put(&p("new"), b"x").h("if-none-match", "*"))
        .await
        .ok();
    env.call(a, Req::put(&p("r"), b"y").h("if-match", "\"nope\""))
        .await
        .expect(412, "PreconditionFailed");
    env.call(a, Req::put(&p("r"), b"y").h("if-match", &etag))
        .await
        .ok();
}

async fn seed(env: &Env, keys: &[&str]) {
    for k in keys {
        env.call(&env.admin, Req::put(&p(k), b"x")).await.ok();
    }
}

#[tokio::test]
async fn list_v2_prefix_delimiter_pagination_and_url_encoding() {
    let env = Env::new().await;
    seed(&env, &["a/1", "a/2", "a/b/3", "b", "c d", "c+e"]).await;
    let a = &env.admin;
    let list = || Req::get(&format!("/{BUCKET}")).q("list-type", "2");
    let r = env.call(a, list().q("delimiter", "/")).await;
    r.ok();
    assert_eq!(tag(&r.text(), "Key"), vec!["b", "c d", "c+e"]);
    assert_eq!(
        tag(&r.text(), "Prefix")
            .iter()
            .filter(|p| !p.is_empty())
            .cloned()
            .collect::<Vec<_>>(),
        vec!["a/"]
    );
    let r = env
        .call(a, list().q("prefix", "a/").q("delimiter", "/"))
        .await;
    assert_eq!(tag(&r.text(), "Key"), vec!["a/1", "a/2"]);
    assert!(r.text().contains("<Prefix>a/b/</Prefix>"));
    // Pagination with continuation tokens.
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut req = list().q("max-keys", "2");
        if let Some(t) = &token {
            req = req.q("continuation-token", t);
        }
        let r = env.call(a, req).await;
        r.ok();
        keys.extend(tag(&r.text(), "Key"));
        token = tag(&r.text(), "NextContinuationToken").into_iter().next();
        if token.is_none() {
            assert!(r.text().contains("<IsTruncated>false</IsTruncated>"));
            break;
        }
    }
    assert_eq!(keys, vec!["a/1", "a/2", "a/b/3", "b", "c d", "c+e"]);
    let r = env.call(a, list().q("start-after", "a/b/3")).await;
    assert_eq!(tag(&r.text(), "Key"), vec!["b", "c d", "c+e"]);
    let r = env
        .call(a, list().q("prefix", "c").q("encoding-type", "url"))
        .await;
    assert_eq!(tag(&r.text(), "Key"), vec!["c%20d", "c%2Be"]);
    env.call(a, list().q("continuation-token", "!!!"))
        .await
        .expect(400, "InvalidArgument");
}

#[tokio::test]
async fn list_v1_marker_pagination() {
    let env = Env::new().await;
    seed(&env, &["k1", "k2", "k3"]).await;
    let a = &env.admin;
    let r = env
        .call(a, Req::get(&format!("/{BUCKET}")).q("max-keys", "2"))
        .await;
    r.ok();
    assert_eq!(tag(&r.text(), "Key"), vec!["k1", "k2"]);
    assert!(r.text().contains("<IsTruncated>true</IsTruncated>"));
    let r = env
        .call(a, Req::get(&format!("/{BUCKET}")).q("marker", "k2"))
        .await;
    assert_eq!(tag(&r.text(), "Key"), vec!["k3"]);
}

#[tokio::test]
async fn copy_object_copy_and_replace_directives() {
    let env = Env::new().await;
    let a = &env.admin;
    env.call(
        a,
        Req::put(&p("src"), b"payload")
            .h("content-type", "text/a")
            .h("x-amz-meta-k", "v"),
    )
    .await
    .ok();
    let r = env
        .call(
            a,
            Req::new("PUT", &p("dst")).h("x-amz-copy-source", &format!("/{BUCKET}/src")),
        )
        .await;
    r.ok();
    assert!(r.text().contains(&md5_hex(b"payload")), "{}", r.text());
    let r = env.call(a, Req::get(&p("dst"))).await;
    assert_eq!(r.body, b"payload");
    assert_eq!(r.header("content-type").as_deref(), Some("text/a"));
    assert_eq!(r.header("x-amz-meta-k").as_deref(), Some("v"));
    let r = Req::new("PUT", &p("dst2"))
        .h("x-amz-copy-source", &format!("{BUCKET}/src"))
        .h("x-amz-metadata-directive", "REPLACE")
        .h("content-type", "text/b")
        .h("x-amz-meta-n", "w");
    env.call(a, r).await.ok();
    let r = env.call(a, Req::new("HEAD", &p("dst2"))).await;
    assert_eq!(r.header("content-type").as_deref(), Some("text/b"));
    assert_eq!(r.header("x-amz-meta-k"), None);
    assert_eq!(r.header("x-amz-meta-n").as_deref(), Some("w"));
    // Self-copy needs REPLACE.
    env.call(
        a,
        Req::new("PUT", &p("src")).h("x-amz-copy-source", &format!("{BUCKET}/src")),
    )
    .await
    .expect(400, "InvalidRequest");
    env.call(
        a,
        Req::new("PUT", &p("x")).h("x-amz-copy-source", &format!("{BUCKET}/missing")),
    )
    .await
    .expect(404, "NoSuchKey");
    env.call(
        a,
        Req::new("PUT", &p("x"))
            .h("x-amz-copy-source", &format!("{BUCKET}/src"))
            .h("x-amz-copy-source-if-match", "\"no\""),
    )
    .await
    .expect(412, "PreconditionFailed");
}

fn upload_id(text: &str) -> String {
    tag(text, "UploadId").into_iter().next().expect("upload id")
}

#[tokio::test]
async fn multipart_upload_complete_list_abort_and_part_copy() {
    let limits = Limits {
        min_part_size: 5,
        ..Limits::default()
    };
    let env = Env::with(Clock::system(), limits).await;
    let a = &env.admin;
    env.call(a, Req::put(&p("source"), b"0123456789"))
        .await
        .ok();
    let r = env
        .call(
            a,
            Req::new("POST", &p("mp"))
                .q("uploads", "")
                .h("content-type", "video/x")
                .h("x-amz-checksum-algorithm", "CRC32"),
        )
        .await;
    r.ok();
    let id = upload_id(&r.text());
    let r = env
        .call(a, Req::get(&format!("/{BUCKET}")).q("uploads", ""))
        .await;
    assert!(r.text().contains(&id));

    let part1 = b"first-part!";
    let r = env
        .call(
            a,
            Req::put(&p("mp"), part1)
                .q("partNumber", "1")
                .q("uploadId", &id)
                .mode(Mode::UnsignedTrailer(4)),
        )
        .await;
    r.ok();
    let e1 = r.header("etag").expect("etag");
    assert_eq!(r.header("x-amz-checksum-crc32"), Some(crc32_b64(part1)));
    let r = env
        .call(
            a,
            Req::new("PUT", &p("mp"))
                .q("partNumber", "2")
                .q("uploadId", &id)
                .h("x-amz-copy-source", &format!("{BUCKET}/source"))
                .h("x-amz-copy-source-range", "bytes=2-5"),
        )
        .await;
    r.ok();
    assert!(r.text().contains(&md5_hex(b"2345")), "{}", r.text());
    let r = env.call(a, Req::get(&p("mp")).q("uploadId", &id)).await;
    r.ok();
    assert_eq!(tag(&r.text(), "PartNumber"), vec!["1", "2"]);

    let body = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{e1}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        format!("\"{}\"", md5_hex(b"2345"))
    );
    let r = env
        .call(
            a,
            Req::new("POST", &p("mp"))
                .q("uploadId", &id)
                .body(body.as_bytes()),
        )
        .await;
    r.ok();
    let mut md5s = Vec::new();
    for d in [&part1[..], b"2345"] {
        use s3s::crypto::Checksum as _;
        md5s.extend_from_slice(s3s::crypto::Md5::checksum(d).as_ref());
    }
    let expected_etag = format!("{}-2", md5_hex(&md5s));
    assert!(r.text().contains(&expected_etag), "{}", r.text());
    let r = env.call(a, Req::get(&p("mp"))).await;
    assert_eq!(r.body, b"first-part!2345");
    assert_eq!(r.header("content-type").as_deref(), Some("video/x"));
    let r = env.call(a, Req::get(&p("mp")).q("partNumber", "2")).await;
    assert_eq!(r.body, b"2345");
    let r = env
        .call(a, Req::get(&p("mp")).h("x-amz-checksum-mode", "ENABLED"))
        .await;
    assert!(
        r.header("x-amz-checksum-crc32")
            .is_some_and(|v| v.ends_with("-2")),
        "{:?}",
        r.headers
    );
    env.call(a, Req::get(&p("mp")).q("uploadId", &id))
        .await
        .expect(404, "NoSuchUpload");

    // Small non-final part, wrong etag, abort.
    let r = env
        .call(a, Req::new("POST", &p("mp2")).q("uploads", ""))
        .await;
    let id2 = upload_id(&r.text());
    let r = env
        .call(
            a,
            Req::put(&p("mp2"), b"abc")
                .q("partNumber", "1")
                .q("uploadId", &id2),
        )
        .await;
    let s1 = r.header("etag").expect("etag");
    env.call(
        a,
        Req::put(&p("mp2"), b"defgh")
            .q("partNumber", "2")
            .q("uploadId", &id2),
    )
    .await
    .ok();
    let body = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{s1}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>\"{}\"</ETag></Part></CompleteMultipartUpload>",
        md5_hex(b"defgh")
    );
    env.call(
        a,
        Req::new("POST", &p("mp2"))
            .q("uploadId", &id2)
            .body(body.as_bytes()),
    )
    .await
    .expect(400, "EntityTooSmall");
    let body = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"00000000000000000000000000000000\"</ETag></Part></CompleteMultipartUpload>";
    env.call(
        a,
        Req::new("POST", &p("mp2"))
            .q("uploadId", &id2)
            .body(body.as_bytes()),
    )
    .await
    .expect(400, "InvalidPart");
    env.call(a, Req::new("DELETE", &p("mp2")).q("uploadId", &id2))
        .await
        .ok();
    env.call(a, Req::get(&p("mp2")).q("uploadId", &id2))
        .await
        .expect(404, "NoSuchUpload");
}

#[tokio::test]
async fn delete_object_and_delete_objects() {
    let env = Env::new().await;
    seed(&env, &["d1", "d2", "d3"]).await;
    let a = &env.admin;
    let r = env.call(a, Req::new("DELETE", &p("d1"))).await;
    assert_eq!(r.status, 204);
    env.call(a, Req::new("DELETE", &p("d1"))).await.ok();
    let body = b"<Delete><Object><Key>d2</Key></Object><Object><Key>d3</Key></Object><Object><Key>never</Key></Object></Delete>";
    let r = env
        .call(
            a,
            Req::new("POST", &format!("/{BUCKET}"))
                .q("delete", "")
                .body(body)
                .h("content-md5", &md5_b64(body)),
        )
        .await;
    r.ok();
    assert_eq!(tag(&r.text(), "Key"), vec!["d2", "d3", "never"]);
    let r = env
        .call(a, Req::get(&format!("/{BUCKET}")).q("list-type", "2"))
        .await;
    assert!(tag(&r.text(), "Key").is_empty());
}

#[tokio::test]
async fn multipart_full_object_crc_is_combined_from_the_parts_and_part_checksums_are_checked() {
    let limits = Limits {
        min_part_size: 5,
        ..Limits::default()
    };
    let env = Env::with(Clock::system(), limits).await;
    let a = &env.admin;
    let r = env
        .call(
            a,
            Req::new("POST", &p("full"))
                .q("uploads", "")
                .h("x-amz-checksum-algorithm", "CRC32")
                .h("x-amz-checksum-type", "FULL_OBJECT"),
        )
        .await;
    r.ok();
    let id = upload_id(&r.text());
    let (d1, d2) = (b"first part bytes".as_slice(), b"second".as_slice());
    let mut etags = Vec::new();
    for (n, d) in [(1, d1), (2, d2)] {
        let r = env
            .call(
                a,
                Req::put(&p("full"), d)
                    .q("partNumber", &n.to_string())
                    .q("uploadId", &id)
                    .h("x-amz-checksum-crc32", &crc32_b64(d)),
            )
            .await;
        r.ok();
        etags.push(r.header("etag").expect("etag"));
    }
    let body = |c2: &str| {
        format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag><ChecksumCRC32>{}</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber><ETag>{}</ETag><ChecksumCRC32>{c2}</ChecksumCRC32></Part></CompleteMultipartUpload>",
            etags[0],
            crc32_b64(d1),
            etags[1]
        )
    };
    env.call(
        a,
        Req::new("POST", &p("full"))
            .q("uploadId", &id)
            .body(body("AAAAAA==").as_bytes()),
    )
    .await
    .expect(400, "InvalidPart");
    let whole = [d1, d2].concat();
    let r = env
        .call(
            a,
            Req::new("POST", &p("full"))
                .q("uploadId", &id)
                .body(body(&crc32_b64(d2)).as_bytes()),
        )
        .await;
    r.ok();
    let r = env
        .call(a, Req::get(&p("full")).h("x-amz-checksum-mode", "ENABLED"))
        .await;
    assert_eq!(r.body, whole);
    assert_eq!(r.header("x-amz-checksum-crc32"), Some(crc32_b64(&whole)));
    assert_eq!(
        r.header("x-amz-checksum-type").as_deref(),
        Some("FULL_OBJECT")
    );
}
