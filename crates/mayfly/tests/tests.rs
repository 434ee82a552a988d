//! The wiring in process: `serve::start` on port 0 with a fixed clock, driven by
//! `mayfly-client`, so the client's shapes are checked against the real API router.

use std::time::Duration;

use mayfly::cli::LogFormat;
use mayfly::config::{GcConfig, ServeConfig};
use mayfly::serve;
use mayfly_client::{
    ApiToken, Client, CreateBucketRequest, CreateTokenRequest, ErrorKind, R2Code,
    TempCredentialsRequest, UpdateStatus, UpdateTokenRequest, codes,
};
use mayfly_core::{AccountId, BucketName, Permission};
use mayfly_store::Clock;

fn config(dir: &std::path::Path) -> ServeConfig {
    ServeConfig {
        data_dir: dir.to_owned(),
        api_listen: "127.0.0.1:0".parse().expect("addr"),
        s3_listen: "127.0.0.1:0".parse().expect("addr"),
        public_s3_hosts: Vec::new(),
        ready_file: None,
        log_format: LogFormat::Text,
        gc: GcConfig::default(),
        timeouts: mayfly::config::Timeouts::default(),
        lifecycle: Default::default(),
        audit: Default::default(),
    }
}

fn client(running: &serve::Running, token: &str) -> Client {
    Client::builder()
        .base_url(running.api_url())
        .api_token(ApiToken::new(token))
        .initial_retry_delay(Duration::from_millis(5))
        .build()
        .expect("client")
}

/// Serves a fresh data dir with a fixed clock: the server, a client holding the bootstrap admin
/// token, and the bootstrapped account.
async fn start_fresh(dir: &std::path::Path) -> (serve::Running, Client, AccountId) {
    let running = serve::start(&config(dir), Clock::fixed(1_750_000_000))
        .await
        .expect("start");
    let boot = running.bootstrap.as_ref().expect("fresh dir bootstraps");
    let admin = client(&running, boot.api_token.expose_secret());
    let account = boot.account_id.clone();
    (running, admin, account)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_drives_buckets_tokens_and_credentials_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, admin, account) = start_fresh(dir.path()).await;

    let name = BucketName::parse("wired-bucket").expect("name");
    let bucket = admin
        .create_bucket(&account, &CreateBucketRequest::new(name.clone()))
        .await
        .expect("create");
    assert_eq!(bucket.name, name);
    let again = admin
        .create_bucket(&account, &CreateBucketRequest::new(name.clone()))
        .await;
    let dup = again.expect_err("dup");
    assert_eq!(dup.as_api().map(|e| e.kind()), Some(ErrorKind::Conflict));
    assert_eq!(
        dup.as_api().and_then(|e| e.r2_code()),
        Some(R2Code::BucketExists)
    );
    let page = admin
        .list_buckets(&account, &Default::default())
        .await
        .expect("list");
    assert_eq!(page.buckets.len(), 1);

    let reader = admin
        .create_token(
            &account,
            &CreateTokenRequest::new("reader", Permission::ObjectReadOnly)
                .buckets(vec![name.clone()]),
        )
        .await
        .expect("token");
    assert_eq!(reader.info.permission, Some(Permission::ObjectReadOnly));
    assert_eq!(reader.info.buckets, Some(vec!["wired-bucket".to_owned()]));
    let tokens = admin.list_tokens(&account).await.expect("tokens");
    assert_eq!(tokens.len(), 2);

    let as_reader = client(&running, reader.value.expose_secret());
    let verified = as_reader.verify_token().await.expect("verify");
    assert_eq!(verified.id, reader.info.id.as_str());
    let req = TempCredentialsRequest::new(
        name.clone(),
        reader.info.id.clone(),
        Permission::ObjectReadOnly,
    )
    .ttl_seconds(600)
    .prefixes(vec!["public/".into()]);
    let creds = as_reader
        .create_temp_credentials(&account, &req)
        .await
        .expect("mint");
    assert_eq!(creds.access_key_id, reader.info.id);
    assert!(creds.session_token.expose_secret().starts_with("and0L"));

    // More than the parent holds is refused.
    let wider = TempCredentialsRequest::new(
        name.clone(),
        reader.info.id.clone(),
        Permission::ObjectReadWrite,
    );
    let err = as_reader
        .create_temp_credentials(&account, &wider)
        .await
        .expect_err("wider");
    assert_eq!(
        err.as_api().map(|e| e.kind()),
        Some(ErrorKind::PermissionDenied)
    );

    admin
        .revoke_token(&account, &reader.info.id)
        .await
        .expect("revoke");
    let err = as_reader
        .create_temp_credentials(&account, &req)
        .await
        .expect_err("revoked");
    assert_eq!(
        err.as_api().map(|e| e.kind()),
        Some(ErrorKind::Authentication)
    );

    admin.delete_bucket(&account, &name).await.expect("delete");
    let err = admin.get_bucket(&account, &name).await.expect_err("gone");
    assert_eq!(
        err.as_api().and_then(|e| e.code()),
        Some(codes::NO_SUCH_BUCKET)
    );

    running.shutdown();
    running.wait().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_the_account_and_does_not_bootstrap_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = serve::start(&config(dir.path()), Clock::system())
        .await
        .expect("start");
    let boot = first.bootstrap.as_ref().expect("bootstrap");
    let token = boot.api_token.expose_secret().to_owned();
    let account = boot.account_id.clone();
    assert!(serve::banner(&first).contains(&token));
    first.shutdown();
    first.wait().await.expect("stop");

    let second = serve::start(&config(dir.path()), Clock::system())
        .await
        .expect("restart");
    assert!(second.bootstrap.is_none());
    assert!(!serve::banner(&second).contains(&token));
    let page = client(&second, &token)
        .list_buckets(&account, &Default::default())
        .await
        .expect("list");
    assert!(page.buckets.is_empty());
    second.shutdown();
    second.wait().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_file_is_written_atomically_with_both_urls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = serve::start(&config(&dir.path().join("data")), Clock::system())
        .await
        .expect("start");
    let ready = dir.path().join("ready.json");
    serve::write_ready_file(&ready, &running).expect("write");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ready).expect("read")).expect("json");
    assert_eq!(v["api_url"], running.api_url());
    assert_eq!(v["s3_url"], running.s3_url());
    assert_eq!(v["pid"], std::process::id());
    assert!(running.api_url().ends_with("/client/v4"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty());
    running.shutdown();
    running.wait().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_update_downgrades_disables_and_enables_against_the_real_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, admin, account) = start_fresh(dir.path()).await;
    let name = BucketName::parse("update-bucket").expect("name");
    admin
        .create_bucket(&account, &CreateBucketRequest::new(name.clone()))
        .await
        .expect("bucket");
    let writer = admin
        .create_token(
            &account,
            &CreateTokenRequest::new("writer", Permission::ObjectReadWrite)
                .buckets(vec![name.clone()]),
        )
        .await
        .expect("token");
    let id = writer.info.id.clone();
    let as_writer = client(&running, writer.value.expose_secret());
    let rw = TempCredentialsRequest::new(name.clone(), id.clone(), Permission::ObjectReadWrite);
    as_writer
        .create_temp_credentials(&account, &rw)
        .await
        .expect("read-write mint before the update");

    // Down to object-read-only, renamed, with an expiry.
    let updated = admin
        .update_token(
            &account,
            &id,
            &UpdateTokenRequest::new("reader", Permission::ObjectReadOnly)
                .buckets(vec![name.clone()])
                .expires_on("2030-01-01T00:00:00Z"),
        )
        .await
        .expect("update");
    assert_eq!(updated.id, id);
    assert_eq!(updated.name, "reader");
    assert_eq!(updated.status, "active");
    assert_eq!(updated.permission, Some(Permission::ObjectReadOnly));
    assert_eq!(updated.buckets, Some(vec!["update-bucket".to_owned()]));
    assert_eq!(updated.expires_on.as_deref(), Some("2030-01-01T00:00:00Z"));
    let got = admin.get_token(&account, &id).await.expect("get");
    assert_eq!(got, updated);
    // The same value still authenticates, but can no longer mint write access.
    let err = as_writer
        .create_temp_credentials(&account, &rw)
        .await
        .expect_err("read-write mint after the downgrade");
    assert_eq!(
        err.as_api().map(|e| e.kind()),
        Some(ErrorKind::PermissionDenied)
    );
    let ro = TempCredentialsRequest::new(name.clone(), id.clone(), Permission::ObjectReadOnly);
    as_writer
        .create_temp_credentials(&account, &ro)
        .await
        .expect("read-only mint");

    // Disabled: the bearer is refused outright; the listing says so.
    let disable = UpdateTokenRequest::new("reader", Permission::ObjectReadOnly)
        .buckets(vec![name.clone()])
        .status(UpdateStatus::Disabled);
    let off = admin
        .update_token(&account, &id, &disable)
        .await
        .expect("disable");
    assert_eq!(off.status, "disabled");
    assert_eq!(off.expires_on, None, "a PUT without expires_on clears it");
    let err = as_writer.verify_token().await.expect_err("disabled bearer");
    assert_eq!(
        err.as_api().map(|e| e.kind()),
        Some(ErrorKind::Authentication)
    );
    let listed = admin.list_tokens(&account).await.expect("list");
    let row = listed.iter().find(|t| t.id == id).expect("listed");
    assert_eq!(row.status, "disabled");

    // Enabled again: the same value works.
    let on = admin
        .update_token(
            &account,
            &id,
            &UpdateTokenRequest::new("reader", Permission::ObjectReadOnly)
                .buckets(vec![name.clone()])
                .status(UpdateStatus::Active),
        )
        .await
        .expect("enable");
    assert_eq!(on.status, "active");
    assert_eq!(
        as_writer.verify_token().await.expect("verify").status,
        "active"
    );

    // Typed errors: bad input is a 400 pointing at the field; a revoked token is a conflict.
    let err = admin
        .update_token(
            &account,
            &id,
            &UpdateTokenRequest::new("reader", Permission::ObjectReadOnly)
                .expires_on("2020-01-01T00:00:00Z"),
        )
        .await
        .expect_err("past expiry");
    let api = err.as_api().expect("api error");
    assert_eq!(api.kind(), ErrorKind::BadRequest);
    assert!(
        api.errors()
            .iter()
            .any(|e| e.pointer.as_deref() == Some("/expires_on")),
        "{api:?}"
    );
    admin.revoke_token(&account, &id).await.expect("revoke");
    let err = admin
        .update_token(
            &account,
            &id,
            &UpdateTokenRequest::new("reader", Permission::ObjectReadOnly)
                .status(UpdateStatus::Active),
        )
        .await
        .expect_err("revoked");
    assert_eq!(err.as_api().map(|e| e.kind()), Some(ErrorKind::Conflict));
    running.shutdown();
    running.wait().await.expect("clean stop");
}
