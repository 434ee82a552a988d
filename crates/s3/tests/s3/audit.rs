//! The audit hook of the request log (issue 15 §3): a temporary credential's request becomes
//! one `s3` event with its fields; a long-lived key's does not; and a full audit channel never
//! holds a request up (events are dropped and counted instead).

use std::time::{Duration, Instant};

use mayfly_core::Permission;
use mayfly_s3::router;
use mayfly_store::{AuditKind, AuditSink};

use super::common::*;

#[tokio::test]
async fn a_temporary_credentials_requests_become_audit_events() {
    let mut env = Env::new().await;
    let (sink, mut rx) = AuditSink::channel(64);
    env.app = router(env.state.clone().with_audit(sink));
    let parent = env.token(2, Permission::ObjectReadWrite, None).await;
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.prefixes = vec!["in/"];
    let temp = env.temp(&parent, spec);

    let put = env
        .call(
            &temp,
            Req::put(&format!("/{BUCKET}/in/a.bin"), &[7u8; 4096]),
        )
        .await;
    put.ok();
    env.call(&temp, Req::get(&format!("/{BUCKET}/in/a.bin")))
        .await
        .ok();
    env.call(&temp, Req::get(&format!("/{BUCKET}/out/b.bin")))
        .await
        .expect(403, "AccessDenied");
    // A long-lived key is not audited per request (only temporary credentials are).
    env.call(&parent, Req::get(&format!("/{BUCKET}/in/a.bin")))
        .await
        .ok();

    let mut events = Vec::new();
    while let Ok(e) = rx.events.try_recv() {
        events.push(e);
    }
    assert_eq!(events.len(), 3, "{events:?}");
    for e in &events {
        assert_eq!(e.kind, AuditKind::S3);
        assert_eq!(e.account.as_str(), ACCOUNT);
        assert_eq!(e.parent.as_deref(), Some(parent.id.as_str()));
        assert_eq!(e.bucket.as_deref(), Some(BUCKET));
        assert_eq!(e.credential_id.as_ref().map(String::len), Some(32));
        assert!(e.request_id.is_some());
        assert_eq!(e.caller, None);
    }
    let row = |e: &mayfly_store::AuditEvent| {
        (
            e.operation.clone().unwrap_or_default(),
            e.key.clone().unwrap_or_default(),
            e.status,
            e.bytes,
        )
    };
    assert_eq!(
        row(&events[0]),
        ("PutObject".into(), "in/a.bin".into(), Some(200), Some(4096))
    );
    assert_eq!(
        row(&events[1]),
        ("GetObject".into(), "in/a.bin".into(), Some(200), Some(4096))
    );
    assert_eq!(
        row(&events[2]),
        ("GetObject".into(), "out/b.bin".into(), Some(403), None)
    );
    assert_eq!(events[0].request_id, put.header("x-amz-request-id"));
    assert_eq!(rx.dropped(), 0);
}

#[tokio::test]
async fn a_full_audit_channel_never_blocks_requests() {
    let mut env = Env::new().await;
    // Room for one event and nobody draining it: every later event must be dropped, at once.
    let (sink, rx) = AuditSink::channel(1);
    env.app = router(env.state.clone().with_audit(sink));
    let parent = env.token(2, Permission::ObjectReadWrite, None).await;
    let temp = env.temp(&parent, TempSpec::new(Permission::ObjectReadWrite));
    env.call(&temp, Req::put(&format!("/{BUCKET}/k"), b"v"))
        .await
        .ok();
    let started = Instant::now();
    for _ in 0..50 {
        let got = tokio::time::timeout(
            Duration::from_secs(10),
            env.call(&temp, Req::get(&format!("/{BUCKET}/k"))),
        )
        .await
        .expect("a request waited on the full audit channel");
        got.ok();
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "50 GETs took {:?}",
        started.elapsed()
    );
    assert_eq!(
        rx.dropped(),
        50,
        "the PUT filled the channel; every GET was dropped"
    );
    assert_eq!(rx.events.len(), 1);
}
