//! The permission matrix of `crates/core/tests/matrix.rs` (operation × permission × in or out
//! of path scope), replayed over HTTP against the endpoint. "Allowed" means anything but
//! 403 `AccessDenied` (the store may still say 404, 409, 400 ...); "denied" means exactly 403.

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
        S3Op::CreateBucket => Req::new("PUT", &b),
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
            let body = b"<CompleteMultipartUpload><Part><PartNumber>9</PartNumber><ETag>\"00000000000000000000000000000000\"</ETag></Part></CompleteMultipartUpload>";
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

async fn check(env: &Env, key: &Key, op: S3Op, k: &str, allowed: bool, what: &str) {
    env.call(&env.admin, Req::put(&format!("/{BUCKET}/{k}"), b"seed"))
        .await;
    let upload = upload_for(env, k).await;
    let r = env.call(key, request(op, k, &upload)).await;
    if allowed {
        assert!(
            r.status != 403 && r.status != 401,
            "{what}: {op} should be allowed, got {} {}",
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
    let admin_temp = env.temp(&env.admin, TempSpec::new(Permission::AdminReadWrite));
    let r = env
        .call(&admin_temp, request(S3Op::DeleteBucket, "", ""))
        .await;
    r.expect(409, "BucketNotEmpty");
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
}
