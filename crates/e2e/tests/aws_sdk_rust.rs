//! aws-sdk-rust against Mayfly, with the long-lived admin key and with temporary credentials
//! minted through the API by `mayfly-client`.

use aws_sdk_s3::Client as S3;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumMode;
use mayfly_client::{Client, TempCredentialsRequest};
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission};
use mayfly_e2e::Server;

use crate::support::{self, Retries, complete, error_code, get, put, try_put, upload_part};

fn s3(server: &Server, key: &str, secret: &str, token: Option<&str>) -> S3 {
    support::s3(&server.s3_url, key, secret, token, Retries::Sdk)
}

pub(crate) fn admin(server: &Server) -> S3 {
    s3(
        server,
        &server.access_key_id,
        &server.secret_access_key,
        None,
    )
}

fn api(server: &Server) -> Client {
    support::api(&server.api_url, &server.api_token)
}

#[tokio::test]
async fn long_lived_key_full_object_lifecycle() {
    let mut server = Server::start().unwrap();
    let c = admin(&server);
    c.create_bucket().bucket("rust-sdk").send().await.unwrap();

    let body = b"hello from aws-sdk-rust".to_vec();
    let put = c
        .put_object()
        .bucket("rust-sdk")
        .key("dir/hello.txt")
        .content_type("text/plain")
        .metadata("origin", "e2e")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    let etag = put.e_tag().unwrap().to_owned();

    let got = c
        .get_object()
        .bucket("rust-sdk")
        .key("dir/hello.txt")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata().unwrap().get("origin").map(String::as_str),
        Some("e2e")
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &body[..]
    );

    let range = c
        .get_object()
        .bucket("rust-sdk")
        .key("dir/hello.txt")
        .range("bytes=6-9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        range.body.collect().await.unwrap().into_bytes().as_ref(),
        b"from"
    );

    // A file body: the SDK streams it.
    let tmp = tempfile::NamedTempFile::new().unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(tmp.path(), &big).unwrap();
    support::put(
        &c,
        "rust-sdk",
        "big.bin",
        ByteStream::from_path(tmp.path()).await.unwrap(),
    )
    .await;
    let (got, _) = get(&c, "rust-sdk", "big.bin").await;
    assert_eq!(got.as_slice(), &big[..]);

    // Multipart: two 5 MiB parts and a short one; ETag is md5-of-md5s with the part count.
    let up = c
        .create_multipart_upload()
        .bucket("rust-sdk")
        .key("multi.bin")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let mut parts = Vec::new();
    let mut whole = Vec::new();
    for (n, len) in [(1, 5 << 20), (2, 5 << 20), (3, 1234)] {
        let data = vec![n as u8; len];
        whole.extend_from_slice(&data);
        parts.push(upload_part(&c, "rust-sdk", "multi.bin", id, n, data).await);
    }
    let listed = c
        .list_parts()
        .bucket("rust-sdk")
        .key("multi.bin")
        .upload_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 3);
    let done = complete(&c, "rust-sdk", "multi.bin", id, parts).await;
    assert!(
        done.e_tag().unwrap().ends_with("-3\""),
        "{:?}",
        done.e_tag()
    );
    let got = c
        .get_object()
        .bucket("rust-sdk")
        .key("multi.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_length(), Some(whole.len() as i64));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &whole[..]
    );

    let list = c
        .list_objects_v2()
        .bucket("rust-sdk")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = list.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["big.bin", "multi.bin"]);
    let prefixes: Vec<_> = list
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["dir/"]);

    c.delete_object()
        .bucket("rust-sdk")
        .key("big.bin")
        .send()
        .await
        .unwrap();
    let missing = c
        .head_object()
        .bucket("rust-sdk")
        .key("big.bin")
        .send()
        .await;
    assert!(missing.is_err());

    assert!(
        server.stop().unwrap().success(),
        "SIGTERM must drain and exit 0"
    );
}

#[tokio::test]
async fn temporary_credentials_are_honoured_and_enforced() {
    let server = Server::start().unwrap();
    admin(&server)
        .create_bucket()
        .bucket("tenant-data")
        .send()
        .await
        .unwrap();
    put(
        &admin(&server),
        "tenant-data",
        "other/secret.txt",
        ByteStream::from_static(b"not yours"),
    )
    .await;

    let account = AccountId::parse(&server.account_id).unwrap();
    let req = TempCredentialsRequest::new(
        BucketName::parse("tenant-data").unwrap(),
        AccessKeyId::parse(&server.access_key_id).unwrap(),
        Permission::ObjectReadWrite,
    )
    .prefixes(vec!["user-1/".into()])
    .ttl_seconds(600);
    let creds = api(&server)
        .create_temp_credentials(&account, &req)
        .await
        .unwrap();
    let t = support::temp_s3(&server.s3_url, &creds, Retries::Sdk);

    put(
        &t,
        "tenant-data",
        "user-1/photo.jpg",
        ByteStream::from_static(b"jpeg"),
    )
    .await;
    let (got, _) = get(&t, "tenant-data", "user-1/photo.jpg").await;
    assert_eq!(got.as_slice(), b"jpeg");
    let listed = t
        .list_objects_v2()
        .bucket("tenant-data")
        .prefix("user-1/")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(1));

    // Out of scope: 403 AccessDenied for existing and missing keys alike, never 404.
    for key in ["user-10/x", "other/secret.txt", "other/missing.txt"] {
        let e = t
            .get_object()
            .bucket("tenant-data")
            .key(key)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&e.into_service_error()), "AccessDenied", "{key}");
    }
    let e = try_put(
        &t,
        "tenant-data",
        "user-10/x",
        ByteStream::from_static(b"x"),
    )
    .await
    .unwrap_err();
    assert_eq!(error_code(&e.into_service_error()), "AccessDenied");
    let e = t
        .list_objects_v2()
        .bucket("tenant-data")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e.into_service_error()), "AccessDenied");
    let e = t.list_buckets().send().await.unwrap_err();
    assert_eq!(error_code(&e.into_service_error()), "AccessDenied");
    // Copying a key out of scope into scope is a read of the source: refused.
    let e = t
        .copy_object()
        .bucket("tenant-data")
        .key("user-1/stolen.txt")
        .copy_source("tenant-data/other/secret.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e.into_service_error()), "AccessDenied");

    // The secret is bound to the token: a tampered secret fails the signature.
    let wrong = s3(
        &server,
        creds.access_key_id.as_str(),
        &"0".repeat(64),
        Some(creds.session_token.expose_secret()),
    );
    let e = wrong
        .get_object()
        .bucket("tenant-data")
        .key("user-1/photo.jpg")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e.into_service_error()), "SignatureDoesNotMatch");
}
