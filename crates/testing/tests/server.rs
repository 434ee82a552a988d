//! MayflyServer as a user's test would drive it: the admin clients work, minted credentials
//! allow exactly what they were minted for, and the server really stops (port closed, directory
//! gone) on `stop` and on drop.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use mayfly_core::Permission;
use mayfly_testing::MayflyServer;

fn body(s: &str) -> ByteStream {
    ByteStream::from(s.as_bytes().to_vec())
}

/// The S3 error code an SDK call failed with.
fn code<E: aws_sdk_s3::error::ProvideErrorMetadata>(e: &aws_sdk_s3::error::SdkError<E>) -> String {
    e.as_service_error()
        .and_then(|s| s.code())
        .unwrap_or("<no service error>")
        .to_owned()
}

#[tokio::test]
async fn admin_clients_and_urls_work() {
    let mayfly = MayflyServer::start().await.expect("start");
    assert!(mayfly.api_url().starts_with("http://127.0.0.1:"));
    assert!(mayfly.api_url().ends_with("/client/v4"));
    assert!(mayfly.s3_url().starts_with("http://127.0.0.1:"));
    assert_ne!(mayfly.api_url(), mayfly.s3_url());

    let verified = mayfly.api().verify_token().await.expect("verify");
    assert_eq!(verified.id, mayfly.access_key_id().as_str());

    mayfly.create_bucket("admin-bucket").await.expect("bucket");
    mayfly
        .s3()
        .put_object()
        .bucket("admin-bucket")
        .key("k")
        .body(body("admin bytes"))
        .send()
        .await
        .expect("admin put");
    let got = mayfly
        .s3()
        .get_object()
        .bucket("admin-bucket")
        .key("k")
        .send()
        .await
        .expect("admin get");
    let bytes = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(bytes.as_ref(), b"admin bytes");

    let listed = mayfly
        .api()
        .list_buckets(mayfly.account_id(), &Default::default())
        .await
        .expect("list");
    assert_eq!(listed.buckets.len(), 1);
    // A wrong secret is refused: the admin client's success above is not an open door.
    let wrong = mayfly.s3_client_with(
        mayfly.access_key_id().as_str(),
        "0".repeat(64).as_str(),
        None,
    );
    let err = wrong
        .get_object()
        .bucket("admin-bucket")
        .key("k")
        .send()
        .await
        .expect_err("wrong secret");
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    mayfly.stop().await.expect("stop");
}

#[tokio::test]
async fn minted_credentials_are_scoped_to_their_prefix_and_permission() {
    let mayfly = MayflyServer::start().await.expect("start");
    mayfly.create_bucket("uploads").await.expect("bucket");
    mayfly.create_bucket("other").await.expect("bucket");

    let user = mayfly
        .mint(
            "uploads",
            Permission::ObjectReadWrite,
            &["user-42/"],
            &[],
            300,
        )
        .await
        .expect("mint");
    assert_eq!(&user.credentials.access_key_id, mayfly.access_key_id());
    user.s3
        .put_object()
        .bucket("uploads")
        .key("user-42/photo.jpg")
        .body(body("mine"))
        .send()
        .await
        .expect("inside the prefix");
    for (bucket, key) in [
        ("uploads", "user-7/photo.jpg"),
        ("other", "user-42/photo.jpg"),
    ] {
        let err = user
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body("not mine"))
            .send()
            .await
            .expect_err("outside the grant");
        assert_eq!(code(&err), "AccessDenied", "{bucket}/{key}");
    }

    let reader = mayfly
        .mint(
            "uploads",
            Permission::ObjectReadOnly,
            &[],
            &["user-42/photo.jpg"],
            60,
        )
        .await
        .expect("mint read-only");
    let got = reader
        .s3
        .get_object()
        .bucket("uploads")
        .key("user-42/photo.jpg")
        .send()
        .await
        .expect("read the one object");
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"mine"
    );
    let err = reader
        .s3
        .put_object()
        .bucket("uploads")
        .key("user-42/photo.jpg")
        .body(body("overwrite"))
        .send()
        .await
        .expect_err("read-only cannot write");
    assert_eq!(code(&err), "AccessDenied");

    // The API refuses what R2 refuses: the error reaches the caller.
    let too_long = mayfly
        .mint("uploads", Permission::ObjectReadOnly, &[], &[], 604_801)
        .await;
    assert!(too_long.is_err());
}

/// After `stop` the port is closed and the data directory is gone; after a drop, the same once
/// the server has drained.
#[tokio::test]
async fn stop_and_drop_shut_the_server_down() {
    let a = MayflyServer::start().await.expect("start");
    let addr = a.s3_url().trim_start_matches("http://").to_owned();
    let dir = a.data_dir().to_owned();
    assert!(dir.is_dir());
    a.stop().await.expect("stop");
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
    assert!(!dir.exists(), "{} left behind", dir.display());

    let b = MayflyServer::start().await.expect("start");
    let addr = b
        .api_url()
        .trim_start_matches("http://")
        .replace("/client/v4", "");
    let dir = b.data_dir().to_owned();
    b.api()
        .verify_token()
        .await
        .expect("serving before the drop");
    drop(b);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_ok() || dir.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still accepting, or the directory is still there, 10 s after drop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn servers_are_independent() {
    let a = MayflyServer::start().await.expect("start a");
    let b = MayflyServer::start().await.expect("start b");
    assert_ne!(a.account_id(), b.account_id());
    a.create_bucket("only-in-a").await.expect("bucket");
    let in_b = b
        .api()
        .list_buckets(b.account_id(), &Default::default())
        .await
        .expect("list b");
    assert!(in_b.buckets.is_empty());
    // a's admin keys mean nothing to b: an unknown key is 401 Unauthorized (SPEC §4, as on R2).
    let stranger = b.s3_client_with(a.access_key_id().as_str(), a.secret_access_key(), None);
    let err = stranger
        .list_buckets()
        .send()
        .await
        .expect_err("a's keys on b");
    assert_eq!(code(&err), "Unauthorized");
}
