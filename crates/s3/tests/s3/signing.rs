//! Signature modes and addressing: every payload mode round-trips with a long-lived key and
//! with temporary credentials; tampering fails in each mode.

use mayfly_core::Permission;

use super::common::*;

const DATA: &[u8] = b"hello world, this body spans several aws-chunks of sixteen bytes";

fn modes() -> Vec<Mode> {
    vec![
        Mode::Signed,
        Mode::Unsigned,
        Mode::Streaming(16),
        Mode::StreamingTrailer(16),
        Mode::UnsignedTrailer(16),
        Mode::Presigned(60),
    ]
}

async fn round_trip(env: &Env, key: &Key, label: &str) {
    for (i, mode) in modes().into_iter().enumerate() {
        let path = format!("/{BUCKET}/modes/{label}-{i} key+with space");
        let r = env
            .call(key, Req::put(&path, DATA).mode(mode.clone()))
            .await;
        assert_eq!(r.status, 200, "{label} {mode:?}: {}", r.text());
        assert_eq!(
            r.header("etag").as_deref(),
            Some(format!("\"{}\"", md5_hex(DATA)).as_str()),
            "{mode:?}"
        );
        let got = env.call(key, Req::get(&path)).await;
        got.ok();
        assert_eq!(got.body, DATA, "{label} {mode:?}");
    }
}

#[tokio::test]
async fn every_payload_mode_round_trips_with_a_long_lived_key() {
    let env = Env::new().await;
    round_trip(&env, &env.admin, "long").await;
}

#[tokio::test]
async fn every_payload_mode_round_trips_with_temporary_credentials() {
    let env = Env::new().await;
    let temp = env.temp(&env.admin, TempSpec::new(Permission::ObjectReadWrite));
    round_trip(&env, &temp, "temp").await;
}

#[tokio::test]
async fn tampered_chunk_signature_is_refused_and_nothing_is_stored() {
    let env = Env::new().await;
    for mode in [Mode::Streaming(16), Mode::StreamingTrailer(16)] {
        let mut r = Req::put(&format!("/{BUCKET}/tamper"), DATA).mode(mode);
        r.bad_chunk_sig = Some(1);
        let resp = env.call(&env.admin, r).await;
        assert_eq!(resp.status, 403, "{}", resp.text());
        env.call(&env.admin, Req::get(&format!("/{BUCKET}/tamper")))
            .await
            .expect(404, "NoSuchKey");
    }
}

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    let env = Env::new().await;
    let mut bad = env.admin.clone();
    bad.secret = "0".repeat(64);
    env.call(&bad, Req::get(&format!("/{BUCKET}/x")))
        .await
        .expect(403, "SignatureDoesNotMatch");
    env.call(
        &bad,
        Req::get(&format!("/{BUCKET}/x")).mode(Mode::Presigned(60)),
    )
    .await
    .expect(403, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn tampered_signed_payload_is_refused() {
    let env = Env::new().await;
    let req = Req::put(&format!("/{BUCKET}/p"), b"original");
    let signed = req.sign(&env.admin);
    let (parts, _) = signed.into_parts();
    let forged = http::Request::from_parts(parts, axum::body::Body::from(&b"forged!!"[..]));
    let r = env.send(forged).await;
    assert!(
        r.status == 400 || r.status == 403,
        "{} {}",
        r.status,
        r.text()
    );
    env.call(&env.admin, Req::get(&format!("/{BUCKET}/p")))
        .await
        .expect(404, "NoSuchKey");
}

#[tokio::test]
async fn region_aliases_are_accepted() {
    let env = Env::new().await;
    for region in ["auto", "us-east-1", ""] {
        let mut r = Req::get(&format!("/{BUCKET}?list-type=2")).q("list-type", "2");
        r.path = format!("/{BUCKET}");
        r.query = vec![("list-type".into(), "2".into())];
        r.region = region.into();
        let resp = env.call(&env.admin, r).await;
        assert_eq!(resp.status, 200, "region {region:?}: {}", resp.text());
        let mut r = Req::get(&format!("/{BUCKET}/none")).mode(Mode::Presigned(60));
        r.region = region.into();
        env.call(&env.admin, r).await.expect(404, "NoSuchKey");
    }
}

#[tokio::test]
async fn virtual_hosted_style_addresses_the_bucket_from_the_host() {
    let env = Env::new().await;
    env.call(&env.admin, Req::put(&format!("/{BUCKET}/vh.txt"), b"vh"))
        .await
        .ok();
    for host in [
        format!("{BUCKET}.localhost:9000"),
        format!("{BUCKET}.r2.example.com"),
    ] {
        let r = env.call(&env.admin, Req::get("/vh.txt").host(&host)).await;
        r.ok();
        assert_eq!(r.body, b"vh");
    }
}

#[tokio::test]
async fn presigned_get_and_put_with_temporary_credentials() {
    let env = Env::new().await;
    let temp = env.temp(&env.admin, TempSpec::new(Permission::ObjectReadWrite));
    env.call(
        &temp,
        Req::put(&format!("/{BUCKET}/pre"), b"abc").mode(Mode::Presigned(300)),
    )
    .await
    .ok();
    let r = env
        .call(
            &temp,
            Req::get(&format!("/{BUCKET}/pre")).mode(Mode::Presigned(300)),
        )
        .await;
    r.ok();
    assert_eq!(r.body, b"abc");
}

#[tokio::test]
async fn js_presigned_put_checksum_query_parameters_are_ignored() {
    // The JS SDK signs x-amz-checksum-crc32 of an EMPTY body into presigned PUT URLs.
    let env = Env::new().await;
    let r = Req::put(&format!("/{BUCKET}/js"), b"hello")
        .q("x-amz-checksum-crc32", "AAAAAA==")
        .q("x-amz-sdk-checksum-algorithm", "CRC32")
        .q("x-id", "PutObject")
        .mode(Mode::Presigned(300));
    env.call(&env.admin, r).await.ok();
}

#[tokio::test]
async fn expired_presigned_url_is_refused() {
    let env = Env::new().await;
    let mut r = Req::get(&format!("/{BUCKET}/x")).mode(Mode::Presigned(60));
    r.time = now_secs() - 120;
    env.call(&env.admin, r).await.expect(403, "AccessDenied");
}

#[tokio::test]
async fn clock_skew_beyond_fifteen_minutes_is_refused() {
    let env = Env::new().await;
    let mut r = Req::get(&format!("/{BUCKET}/x"));
    r.time = now_secs() - 16 * 60;
    env.call(&env.admin, r)
        .await
        .expect(403, "RequestTimeTooSkewed");
    let mut r = Req::get(&format!("/{BUCKET}/x"));
    r.time = now_secs() - 10 * 60;
    env.call(&env.admin, r).await.expect(404, "NoSuchKey");
}
