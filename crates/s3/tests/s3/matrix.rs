//! The permission matrix of `crates/core/tests/matrix.rs` (operation × permission × in or out
//! of path scope), replayed over HTTP against the endpoint. "Allowed" means a 2xx answer: each
//! request is built to succeed when permitted (fresh bucket names, seeded configuration, a real
//! part to complete), so a 4xx from the store, a 500 or a 501 fails the cell just like a wrong
//! 403; "denied" means exactly 403 `AccessDenied`.

use std::sync::atomic::{AtomicUsize, Ordering};

use mayfly_core::{Permission, S3Op};
use mayfly_s3::Limits;
use mayfly_store::Clock;

use super::common::*;

/// Core's hand-written table (`mayfly_core::testing::TEMPORARY_MATRIX`), with DeleteBucket
/// moved last: when allowed it really deletes the bucket.
fn temporary_rows() -> Vec<(S3Op, [bool; 4])> {
    let table = mayfly_core::testing::TEMPORARY_MATRIX;
    let (last, mut rows): (Vec<_>, Vec<_>) = table
        .iter()
        .copied()
        .partition(|(op, _)| *op == S3Op::DeleteBucket);
    rows.extend(last);
    rows
}

const CORS: &[u8] = b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>";
const LIFECYCLE: &[u8] = b"<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>x/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";

/// The HTTP request for `op` on key (or list prefix) `k`.
fn request(op: S3Op, k: &str, upload: &str) -> Req {
    let b = format!("/{BUCKET}");
    let o = format!("/{BUCKET}/{k}");
    let src = format!("{BUCKET}/{k}");
    let xml = |r: Req, body: &[u8]| r.body(body).h("content-md5", &md5_b64(body));
    match op {
        S3Op::ListBuckets => Req::get("/"),
        S3Op::CreateBucket => {
            // A name no earlier cell created, so an allowed create really succeeds.
            static N: AtomicUsize = AtomicUsize::new(0);
            Req::new(
                "PUT",
                &format!("/matrix-new-{}", N.fetch_add(1, Ordering::Relaxed)),
            )
        }
        S3Op::HeadBucket => Req::new("HEAD", &b),
        S3Op::DeleteBucket => Req::new("DELETE", &b),
        S3Op::GetBucketLocation => Req::get(&b).q("location", ""),
        S3Op::GetBucketEncryption => Req::get(&b).q("encryption", ""),
        S3Op::GetBucketCors => Req::get(&b).q("cors", ""),
        S3Op::PutBucketCors => xml(Req::new("PUT", &b).q("cors", ""), CORS),
        S3Op::DeleteBucketCors => Req::new("DELETE", &b).q("cors", ""),
        S3Op::GetBucketLifecycleConfiguration => Req::get(&b).q("lifecycle", ""),
        S3Op::PutBucketLifecycleConfiguration => {
            xml(Req::new("PUT", &b).q("lifecycle", ""), LIFECYCLE)
        }
        S3Op::HeadObject => Req::new("HEAD", &o),
        S3Op::GetObject => Req::get(&o),
        S3Op::PutObject => Req::put(&o, b"v"),
        S3Op::DeleteObject => Req::new("DELETE", &o),
        S3Op::DeleteObjects => {
            let body = format!("<Delete><Object><Key>{k}</Key></Object></Delete>");
            xml(Req::new("POST", &b).q("delete", ""), body.as_bytes())
        }
        S3Op::CopyObject => Req::new("PUT", &o)
            .h("x-amz-copy-source", &src)
            .h("x-amz-metadata-directive", "REPLACE"),
        S3Op::CreateMultipartUpload => Req::new("POST", &o).q("uploads", ""),
        S3Op::UploadPart => Req::put(&o, b"p")
            .q("partNumber", "1")
            .q("uploadId", upload),
        S3Op::UploadPartCopy => Req::new("PUT", &o)
            .q("partNumber", "2")
            .q("uploadId", upload)
            .h("x-amz-copy-source", &src),
        S3Op::CompleteMultipartUpload => {
            // Part 1 (body `p`, uploaded by `check`), whose ETag is md5("p").
            let body = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"83878c91171338902e0fe0fb97a8c47a\"</ETag></Part></CompleteMultipartUpload>";
            Req::new("POST", &o).q("uploadId", upload).body(body)
        }
        S3Op::AbortMultipartUpload => Req::new("DELETE", &o).q("uploadId", upload),
        S3Op::ListParts => Req::get(&o).q("uploadId", upload),
        S3Op::ListMultipartUploads => Req::get(&b).q("uploads", "").q("prefix", k),
        S3Op::ListObjects => Req::get(&b).q("prefix", k),
        S3Op::ListObjectsV2 => Req::get(&b).q("list-type", "2").q("prefix", k),
    }
}

async fn upload_for(env: &Env, key: &str) -> String {
    let r = env
        .call(
            &env.admin,
            Req::new("POST", &format!("/{BUCKET}/{key}")).q("uploads", ""),
        )
        .await;
    r.ok();
    r.text()
        .split("<UploadId>")
        .nth(1)
        .and_then(|s| s.split("</UploadId>").next())
        .expect("upload id")
        .to_owned()
}

/// Seeds what an allowed `op` needs to succeed: the object, an upload with part 1, and the
/// bucket's CORS and lifecycle configuration (a previous cell may have deleted them).
async fn seed(env: &Env, op: S3Op, k: &str) -> String {
    env.call(&env.admin, Req::put(&format!("/{BUCKET}/{k}"), b"seed"))
        .await
        .ok();
    let upload = upload_for(env, k).await;
    env.call(
        &env.admin,
        Req::put(&format!("/{BUCKET}/{k}"), b"p")
            .q("partNumber", "1")
            .q("uploadId", &upload),
    )
    .await
    .ok();
    let b = format!("/{BUCKET}");
    let xml = |r: Req, body: &[u8]| r.body(body).h("content-md5", &md5_b64(body));
    match op {
        S3Op::GetBucketCors => {
            env.call(&env.admin, xml(Req::new("PUT", &b).q("cors", ""), CORS))
                .await
                .ok();
        }
        S3Op::GetBucketLifecycleConfiguration => {
            env.call(
                &env.admin,
                xml(Req::new("PUT", &b).q("lifecycle", ""), LIFECYCLE),
            )
            .await
            .ok();
        }
        _ => {}
    }
    upload
}

async fn check(env: &Env, key: &Key, op: S3Op, k: &str, allowed: bool, what: &str) {
    let upload = seed(env, op, k).await;
    let r = env.call(key, request(op, k, &upload)).await;
    if allowed {
        // Only a 2xx proves the operation was allowed and served: a 404, 409, 500 or 501
        // after the gate would hide a wrong table or a broken operation.
        assert!(
            (200..300).contains(&r.status),
            "{what}: {op} should be allowed and succeed, got {} {}",
            r.status,
            r.text()
        );
    } else if op == S3Op::HeadObject || op == S3Op::HeadBucket {
        assert_eq!(r.status, 403, "{what}: {op} should be denied"); // HEAD answers carry no body
    } else {
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "AccessDenied"),
            "{what}: {op} should be denied: {}",
            r.text()
        );
    }
}

#[tokio::test]
async fn temporary_credentials_whole_bucket_and_path_scoped() {
    let env = Env::with(
        Clock::system(),
        Limits {
            min_part_size: 1,
            ..Limits::default()
        },
    )
    .await;
    for (i, perm) in Permission::ALL.into_iter().enumerate() {
        let whole = env.temp(&env.admin, TempSpec::new(perm));
        let mut spec = TempSpec::new(perm);
        spec.prefixes = vec!["in/"];
        let scoped = env.temp(&env.admin, spec);
        for (op, expect) in temporary_rows() {
            let allowed = expect[i];
            // Bucket-wide configuration and deletion need an unscoped credential.
            let config = matches!(
                op.access(),
                mayfly_core::Access::ConfigRead | mayfly_core::Access::ConfigWrite
            );
            let scoped_allowed = allowed && !config;
            let outside_allowed = scoped_allowed && op.target() == mayfly_core::Target::Bucket;
            if op == S3Op::DeleteBucket && allowed {
                continue; // exercised once below, it would remove the bucket under the other rows
            }
            check(
                &env,
                &whole,
                op,
                "any/key",
                allowed,
                &format!("{perm} whole bucket"),
            )
            .await;
            check(
                &env,
                &scoped,
                op,
                "in/key",
                scoped_allowed,
                &format!("{perm} in scope"),
            )
            .await;
            check(
                &env,
                &scoped,
                op,
                "out/key",
                outside_allowed,
                &format!("{perm} out of scope"),
            )
            .await;
        }
    }
    // DeleteBucket, allowed only to admin-read-write: on a fresh, empty bucket it succeeds.
    let fresh = matrix_env().await;
    let admin_temp = fresh.temp(&fresh.admin, TempSpec::new(Permission::AdminReadWrite));
    let r = fresh
        .call(&admin_temp, request(S3Op::DeleteBucket, "", ""))
        .await;
    assert_eq!(r.status, 204, "DeleteBucket: {}", r.text());
}

async fn matrix_env() -> Env {
    Env::with(
        Clock::system(),
        Limits {
            min_part_size: 1,
            ..Limits::default()
        },
    )
    .await
}

#[tokio::test]
async fn long_lived_tokens() {
    let env = Env::with(
        Clock::system(),
        Limits {
            min_part_size: 1,
            ..Limits::default()
        },
    )
    .await;
    for (i, perm) in Permission::ALL.into_iter().enumerate() {
        let key = env
            .token(10 + u8::try_from(i).expect("i"), perm, None)
            .await;
        for (op, expect) in temporary_rows() {
            let allowed = match op {
                S3Op::ListBuckets => perm.is_admin(),
                S3Op::CreateBucket => perm == Permission::AdminReadWrite,
                _ => expect[i],
            };
            if op == S3Op::DeleteBucket && allowed {
                continue;
            }
            check(
                &env,
                &key,
                op,
                "any/key",
                allowed,
                &format!("long-lived {perm}"),
            )
            .await;
        }
    }
    let fresh = matrix_env().await;
    let key = fresh.token(30, Permission::AdminReadWrite, None).await;
    let r = fresh.call(&key, request(S3Op::DeleteBucket, "", "")).await;
    assert_eq!(r.status, 204, "DeleteBucket: {}", r.text());
}
