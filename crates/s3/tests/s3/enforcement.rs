//! SPEC §4 error codes and §5 authorization rules, enforced on the running endpoint.

use mayfly_core::{Permission, S3Action};
use mayfly_s3::Limits;
use mayfly_store::Clock;

use super::common::*;

fn p(key: &str) -> String {
    format!("/{BUCKET}/{key}")
}

async fn seed(env: &Env, keys: &[&str]) {
    for k in keys {
        env.call(&env.admin, Req::put(&p(k), b"x")).await.ok();
    }
}

#[tokio::test]
async fn unknown_access_key_is_401_unauthorized() {
    let env = Env::new().await;
    let ghost = Key {
        id: "f".repeat(32),
        secret: "0".repeat(64),
        token: None,
    };
    env.call(&ghost, Req::get(&p("a")))
        .await
        .expect(401, "Unauthorized");
}

#[tokio::test]
async fn malformed_session_token_is_400_invalid_argument() {
    let env = Env::new().await;
    for bad in ["not-base64!", "am9qd3Q=", "and0L2EuYi5j"] {
        let key = Key {
            token: Some(bad.into()),
            ..env.admin.clone()
        };
        let r = env.call(&key, Req::get(&p("a"))).await;
        r.expect(400, "InvalidArgument");
        assert!(r.text().contains("X-Amz-Security-Token"));
    }
}

#[tokio::test]
async fn expired_temporary_credential_is_400_expired_token_even_on_a_live_presigned_url() {
    // Our clock is 1000 s ahead of the signing time: the 900 s token is expired, while the
    // SigV4 time (checked against the wall clock by s3s) is fine and the URL lives 7 days.
    let env = Env::with(Clock::fixed(now_secs() + 1000), Limits::default()).await;
    let temp = env.temp(&env.admin, TempSpec::new(Permission::ObjectReadWrite));
    env.call(&temp, Req::get(&p("a")))
        .await
        .expect(400, "ExpiredToken");
    env.call(&temp, Req::get(&p("a")).mode(Mode::Presigned(604_800)))
        .await
        .expect(400, "ExpiredToken");
}

#[tokio::test]
async fn revoked_parent_kills_its_temporary_credentials_immediately() {
    let env = Env::new().await;
    let parent = env.token(2, Permission::ObjectReadWrite, None).await;
    let temp = env.temp(&parent, TempSpec::new(Permission::ObjectReadWrite));
    env.call(&temp, Req::put(&p("r"), b"1")).await.ok();
    env.revoke(&parent).await;
    env.call(&temp, Req::get(&p("r")))
        .await
        .expect(403, "AccessDenied");
    env.call(&parent, Req::get(&p("r")))
        .await
        .expect(403, "AccessDenied");
}

#[tokio::test]
async fn parent_rights_now_bound_the_credential() {
    let env = Env::new().await;
    // The parent is read-only; a locally minted read-write credential cannot write.
    let parent = env.token(3, Permission::ObjectReadOnly, None).await;
    let temp = env.temp(&parent, TempSpec::new(Permission::ObjectReadWrite));
    env.call(&temp, Req::put(&p("w"), b"1"))
        .await
        .expect(403, "AccessDenied");
    env.call(&temp, Req::get(&p("w")))
        .await
        .expect(404, "NoSuchKey");
    // A parent limited to another bucket grants nothing here.
    let narrow = env
        .token(4, Permission::ObjectReadWrite, Some(vec!["other-bucket"]))
        .await;
    let temp = env.temp(&narrow, TempSpec::new(Permission::ObjectReadWrite));
    env.call(&temp, Req::get(&p("w")))
        .await
        .expect(403, "AccessDenied");
}

#[tokio::test]
async fn read_only_scope_cannot_write_or_delete() {
    let env = Env::new().await;
    seed(&env, &["a"]).await;
    let ro = env.temp(&env.admin, TempSpec::new(Permission::ObjectReadOnly));
    env.call(&ro, Req::get(&p("a"))).await.ok();
    env.call(&ro, Req::put(&p("a"), b"2"))
        .await
        .expect(403, "AccessDenied");
    env.call(&ro, Req::new("DELETE", &p("a")))
        .await
        .expect(403, "AccessDenied");
    env.call(&ro, Req::new("POST", &p("big")).q("uploads", ""))
        .await
        .expect(403, "AccessDenied");
}

#[tokio::test]
async fn keys_outside_the_paths_are_403_never_404() {
    let env = Env::new().await;
    seed(&env, &["data/in", "secret/out"]).await;
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.prefixes = vec!["data/"];
    spec.objects = vec!["exact.txt"];
    let t = env.temp(&env.admin, spec);
    env.call(&t, Req::get(&p("data/in"))).await.ok();
    env.call(&t, Req::get(&p("data/missing")))
        .await
        .expect(404, "NoSuchKey");
    env.call(&t, Req::get(&p("secret/out")))
        .await
        .expect(403, "AccessDenied");
    env.call(&t, Req::get(&p("secret/missing")))
        .await
        .expect(403, "AccessDenied");
    env.call(&t, Req::new("HEAD", &p("secret/out"))).await;
    env.call(&t, Req::put(&p("exact.txt"), b"ok")).await.ok();
    env.call(&t, Req::put(&p("exact.txt2"), b"no"))
        .await
        .expect(403, "AccessDenied");
    // Dot segments are literal key bytes, never normalised into scope.
    env.call(&t, Req::get(&p("data/../secret/out")))
        .await
        .expect(404, "NoSuchKey");
    env.call(&t, Req::get(&p("secret/../data/in")))
        .await
        .expect(403, "AccessDenied");
}

#[tokio::test]
async fn listing_needs_a_prefix_inside_the_paths() {
    let env = Env::new().await;
    seed(&env, &["data/1", "other/2"]).await;
    let mut spec = TempSpec::new(Permission::ObjectReadOnly);
    spec.prefixes = vec!["data/"];
    let t = env.temp(&env.admin, spec);
    let list = |prefix: Option<&str>| {
        let mut r = Req::get(&format!("/{BUCKET}")).q("list-type", "2");
        if let Some(pf) = prefix {
            r = r.q("prefix", pf);
        }
        r
    };
    let r = env.call(&t, list(Some("data/"))).await;
    r.ok();
    assert!(r.text().contains("data/1") && !r.text().contains("other/2"));
    env.call(&t, list(Some("data/sub"))).await.ok();
    env.call(&t, list(None)).await.expect(403, "AccessDenied");
    env.call(&t, list(Some("other/")))
        .await
        .expect(403, "AccessDenied");
    env.call(&t, list(Some("dat")))
        .await
        .expect(403, "AccessDenied");
    // V1 and multipart-upload listings follow the same rule.
    env.call(&t, Req::get(&format!("/{BUCKET}")).q("prefix", "other/"))
        .await
        .expect(403, "AccessDenied");
    env.call(
        &t,
        Req::get(&format!("/{BUCKET}"))
            .q("uploads", "")
            .q("prefix", "other/"),
    )
    .await
    .expect(403, "AccessDenied");
    env.call(
        &t,
        Req::get(&format!("/{BUCKET}"))
            .q("uploads", "")
            .q("prefix", "data/"),
    )
    .await
    .ok();
}

#[tokio::test]
async fn actions_narrow_the_scope() {
    let env = Env::new().await;
    seed(&env, &["a"]).await;
    let mut spec = TempSpec::new(Permission::ObjectReadOnly);
    spec.actions = vec![S3Action::GetObject, S3Action::HeadObject];
    let t = env.temp(&env.admin, spec);
    env.call(&t, Req::get(&p("a"))).await.ok();
    env.call(&t, Req::get(&format!("/{BUCKET}")).q("list-type", "2"))
        .await
        .expect(403, "AccessDenied");
}

#[tokio::test]
async fn credential_is_bound_to_its_bucket_and_never_account_wide() {
    let env = Env::new().await;
    env.bucket(ACCOUNT, "second").await;
    let t = env.temp(&env.admin, TempSpec::new(Permission::AdminReadWrite));
    env.call(&t, Req::get("/second/a"))
        .await
        .expect(403, "AccessDenied");
    env.call(&t, Req::get("/"))
        .await
        .expect(403, "AccessDenied");
    env.call(&t, Req::new("PUT", "/brand-new"))
        .await
        .expect(403, "AccessDenied");
    env.call(&t, Req::new("HEAD", &format!("/{BUCKET}")))
        .await
        .ok();
}

#[tokio::test]
async fn issuer_audience_and_account_bindings_are_enforced() {
    let env = Env::new().await;
    let other = env.token(5, Permission::AdminReadWrite, None).await;
    // Signed with another access key id than `iss`.
    let t = env.temp(&env.admin, TempSpec::new(Permission::ObjectReadWrite));
    let swapped = Key {
        id: other.id.clone(),
        ..t.clone()
    };
    let r = env.call(&swapped, Req::get(&p("a"))).await;
    assert_eq!(r.status, 403, "{}", r.text());
    // Minted for another endpoint.
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.audience = "elsewhere.example.com";
    let t = env.temp(&env.admin, spec);
    env.call(&t, Req::get(&p("a")))
        .await
        .expect(403, "AccessDenied");
    // `sub` naming another account than the parent's.
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.account = OTHER_ACCOUNT;
    let t = env.temp(&env.admin, spec);
    env.call(&t, Req::get(&p("a")))
        .await
        .expect(403, "AccessDenied");
    // The default audiences include localhost:port for a loopback listener.
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.audience = "localhost:9000";
    let t = env.temp(&env.admin, spec);
    env.call(&t, Req::get(&p("a")))
        .await
        .expect(404, "NoSuchKey");
}

#[tokio::test]
async fn copy_needs_read_on_the_source_and_write_on_the_destination() {
    let env = Env::new().await;
    seed(&env, &["src/a", "secret/b"]).await;
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.prefixes = vec!["src/", "dst/"];
    let t = env.temp(&env.admin, spec);
    let copy = |from: &str, to: &str| {
        Req::new("PUT", &p(to)).h("x-amz-copy-source", &format!("{BUCKET}/{from}"))
    };
    env.call(&t, copy("src/a", "dst/a")).await.ok();
    env.call(&t, copy("secret/b", "dst/b"))
        .await
        .expect(403, "AccessDenied");
    env.call(&t, copy("src/a", "elsewhere/a"))
        .await
        .expect(403, "AccessDenied");
    env.bucket(ACCOUNT, "second").await;
    env.call(
        &t,
        copy("src/a", "dst/c").h("x-amz-copy-source", "second/src/a"),
    )
    .await;
    let r = env
        .call(
            &t,
            Req::new("PUT", &p("dst/c")).h("x-amz-copy-source", "second/src/a"),
        )
        .await;
    r.expect(403, "AccessDenied");
}

#[tokio::test]
async fn delete_objects_checks_every_key() {
    let env = Env::new().await;
    seed(&env, &["mine/1", "theirs/2"]).await;
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.prefixes = vec!["mine/"];
    let t = env.temp(&env.admin, spec);
    let body =
        b"<Delete><Object><Key>mine/1</Key></Object><Object><Key>theirs/2</Key></Object></Delete>";
    let r = Req::new("POST", &format!("/{BUCKET}"))
        .q("delete", "")
        .body(body)
        .h("content-md5", &md5_b64(body));
    env.call(&t, r).await.expect(403, "AccessDenied");
    env.call(&env.admin, Req::get(&p("mine/1"))).await.ok();
    env.call(&env.admin, Req::get(&p("theirs/2"))).await.ok();
    let body = b"<Delete><Object><Key>mine/1</Key></Object></Delete>";
    let r = Req::new("POST", &format!("/{BUCKET}"))
        .q("delete", "")
        .body(body)
        .h("content-md5", &md5_b64(body));
    env.call(&t, r).await.ok();
    env.call(&env.admin, Req::get(&p("mine/1")))
        .await
        .expect(404, "NoSuchKey");
}

#[tokio::test]
async fn an_upload_id_is_not_a_capability() {
    let env = Env::new().await;
    let r = env
        .call(
            &env.admin,
            Req::new("POST", &p("secret/big")).q("uploads", ""),
        )
        .await;
    r.ok();
    let upload = r
        .text()
        .split("<UploadId>")
        .nth(1)
        .and_then(|s| s.split("</UploadId>").next())
        .expect("id")
        .to_owned();
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.prefixes = vec!["mine/"];
    let t = env.temp(&env.admin, spec);
    // Out-of-scope key with a valid upload id: denied.
    let part = Req::put(&p("secret/big"), b"data")
        .q("partNumber", "1")
        .q("uploadId", &upload);
    env.call(&t, part).await.expect(403, "AccessDenied");
    // In-scope key, someone else's upload id: the upload does not belong to this key.
    let part = Req::put(&p("mine/big"), b"data")
        .q("partNumber", "1")
        .q("uploadId", &upload);
    env.call(&t, part).await.expect(404, "NoSuchUpload");
    env.call(
        &t,
        Req::new("DELETE", &p("secret/big")).q("uploadId", &upload),
    )
    .await
    .expect(403, "AccessDenied");
    env.call(&t, Req::get(&p("secret/big")).q("uploadId", &upload))
        .await
        .expect(403, "AccessDenied");
}

#[tokio::test]
async fn object_level_long_lived_tokens_keep_to_their_buckets() {
    let env = Env::new().await;
    env.bucket(ACCOUNT, "second").await;
    let k = env
        .token(6, Permission::ObjectReadWrite, Some(vec![BUCKET]))
        .await;
    env.call(&k, Req::put(&p("a"), b"1")).await.ok();
    env.call(&k, Req::put("/second/a", b"1"))
        .await
        .expect(403, "AccessDenied");
    env.call(&k, Req::get("/"))
        .await
        .expect(403, "AccessDenied");
    env.call(&k, Req::new("DELETE", &format!("/{BUCKET}")))
        .await
        .expect(403, "AccessDenied");
}

#[tokio::test]
async fn buckets_resolve_in_the_callers_account() {
    let env = Env::new().await;
    env.call(&env.admin, Req::put(&p("a"), b"1")).await.ok();
    let stranger = env
        .token_in(OTHER_ACCOUNT, 7, Permission::AdminReadWrite, None)
        .await;
    env.call(&stranger, Req::get(&p("a")))
        .await
        .expect(404, "NoSuchBucket");
}

#[tokio::test]
async fn anonymous_requests_are_denied() {
    let env = Env::new().await;
    seed(&env, &["a"]).await;
    env.call(&env.admin, Req::get(&p("a")).mode(Mode::Anonymous))
        .await
        .expect(403, "AccessDenied");
    env.call(&env.admin, Req::put(&p("a"), b"x").mode(Mode::Anonymous))
        .await
        .expect(403, "AccessDenied");
}
