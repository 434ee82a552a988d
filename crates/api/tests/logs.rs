//! Secrets never reach the log: every event of a full session (token create, mint, failures
//! with bad bearer values) is captured at TRACE and searched for every secret that went by.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::Method;
use serde_json::json;

use crate::support::*;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_is_ever_logged() {
    let capture = Capture::default();
    let sink = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = Harness::new().await;
    h.bucket(ACCOUNT, "logs").await;
    let created = h
        .admin_call(
            Method::POST,
            &format!("/accounts/{ACCOUNT}/tokens"),
            Some(r#"{"name":"t","permission":"object-read-write"}"#),
        )
        .await;
    let value = created.ok()["value"].as_str().unwrap().to_owned();
    let secret = created.ok()["secret_access_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = created.ok()["id"].as_str().unwrap().to_owned();
    let mint = json!({"bucket": "logs", "parentAccessKeyId": id, "permission": "object-read-only"});
    let path = format!("/accounts/{ACCOUNT}/r2/temp-access-credentials");
    let creds = h
        .call(Method::POST, &path, Some(&value), Some(&mint.to_string()))
        .await;
    let temp_secret = creds.ok()["secretAccessKey"].as_str().unwrap().to_owned();
    let session = creds.ok()["sessionToken"].as_str().unwrap().to_owned();
    let wrong = "wrong-bearer-value-that-must-not-be-logged";
    h.call(Method::POST, &path, Some(wrong), Some(&mint.to_string()))
        .await
        .assert_error(401, 9109);
    h.call(
        Method::DELETE,
        &format!("/accounts/{ACCOUNT}/tokens/{id}"),
        Some(&value),
        None,
    )
    .await
    .ok();
    h.call(Method::POST, &path, Some(&value), Some(&mint.to_string()))
        .await
        .assert_error(401, 9109);

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("temporary credential minted"),
        "the capture works: {log}"
    );
    let admin = h.admin.value.clone();
    for secret in [
        value.as_str(),
        secret.as_str(),
        temp_secret.as_str(),
        session.as_str(),
        wrong,
        admin.as_str(),
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}
