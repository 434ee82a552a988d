//! Conformance checks for [`AuditStore`]: batch writes, every filter, newest-first paging with
//! cursors, account separation, and the retention purge driven by an injected [`Clock`].
//! Run them with [`audit_conformance_tests!`](crate::audit_conformance_tests).

use std::sync::Arc;

use super::{account_id, ok};
use crate::{AuditCursor, AuditEvent, AuditKind, AuditQuery, AuditStore, Clock, retention_cutoff};

/// Generates one `#[tokio::test]` per audit check. `$make` yields a future of
/// `(Arc<dyn AuditStore>, guard)` on an empty store.
#[macro_export]
macro_rules! audit_conformance_tests {
    ($make:expr) => {
        $crate::audit_conformance_tests!(@each $make;
            audit_batch_round_trips_every_field,
            audit_filters_match_exactly,
            audit_pages_newest_first_without_gaps,
            audit_accounts_are_separate,
            audit_retention_purges_only_old_events,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $make.await;
                $crate::testkit::$name(store).await;
            }
        )*
    };
}

const T0: u64 = 1_750_000_000_000;

fn s3_event(account: u32, time_ms: u64, credential: &str, bucket: &str, key: &str) -> AuditEvent {
    let mut e = AuditEvent::new(account_id(account), time_ms, AuditKind::S3);
    e.credential_id = Some(credential.to_owned());
    e.parent = Some(format!("parent-of-{credential}"));
    e.bucket = Some(bucket.to_owned());
    e.key = Some(key.to_owned());
    e.operation = Some("GetObject".to_owned());
    e.status = Some(200);
    e.bytes = Some(4096);
    e.request_id = Some(format!("REQ{time_ms}"));
    e
}

async fn all(store: &Arc<dyn AuditStore>, mut q: AuditQuery) -> Vec<AuditEvent> {
    q.limit = 1000;
    ok(store.list_audit(&q).await, "list audit")
        .events
        .into_iter()
        .map(|s| s.event)
        .collect()
}

/// A batch is stored as written: every field, `None`s included, unicode keys too.
pub async fn audit_batch_round_trips_every_field(store: Arc<dyn AuditStore>) {
    let mut mint = AuditEvent::new(account_id(1), T0, AuditKind::CredentialMint);
    mint.credential_id = Some("c1".into());
    mint.parent = Some("p1".into());
    mint.bucket = Some("photos".into());
    mint.caller = Some("caller-token".into());
    mint.operation = Some("mint".into());
    mint.status = Some(200);
    mint.detail = Some(r#"{"permission":"object-read-only","ttlSeconds":900}"#.into());
    let get = s3_event(1, T0 + 1, "c1", "photos", "dir/ünïcode 😀.png");
    let bare = AuditEvent::new(account_id(1), T0 + 2, AuditKind::BucketDelete);
    ok(
        store
            .append_audit(vec![mint.clone(), get.clone(), bare.clone()])
            .await,
        "append batch",
    );
    ok(
        store.append_audit(Vec::new()).await,
        "an empty batch is fine",
    );
    let got = all(&store, AuditQuery::new(account_id(1))).await;
    assert_eq!(got, vec![bare, get, mint], "newest first, every field kept");
}

/// Each filter (credential, parent, bucket, kind, since, until) selects exactly its events.
pub async fn audit_filters_match_exactly(store: Arc<dyn AuditStore>) {
    let events = vec![
        s3_event(1, T0, "c1", "a", "k1"),
        s3_event(1, T0 + 10, "c2", "a", "k2"),
        s3_event(1, T0 + 20, "c1", "b", "k3"),
        AuditEvent {
            credential_id: Some("c1".into()),
            parent: Some("parent-of-c1".into()),
            bucket: Some("a".into()),
            ..AuditEvent::new(account_id(1), T0 + 30, AuditKind::CredentialMint)
        },
    ];
    ok(store.append_audit(events).await, "append");
    let keys = |v: Vec<AuditEvent>| -> Vec<u64> { v.iter().map(|e| e.time_ms - T0).collect() };
    let base = AuditQuery::new(account_id(1));
    let q = |f: &dyn Fn(&mut AuditQuery)| {
        let mut q = base.clone();
        f(&mut q);
        q
    };
    assert_eq!(keys(all(&store, base.clone()).await), vec![30, 20, 10, 0]);
    assert_eq!(
        keys(all(&store, q(&|q| q.credential_id = Some("c1".into()))).await),
        vec![30, 20, 0]
    );
    assert_eq!(
        keys(all(&store, q(&|q| q.parent = Some("parent-of-c2".into()))).await),
        vec![10]
    );
    assert_eq!(
        keys(all(&store, q(&|q| q.bucket = Some("a".into()))).await),
        vec![30, 10, 0]
    );
    assert_eq!(
        keys(all(&store, q(&|q| q.kind = Some(AuditKind::S3))).await),
        vec![20, 10, 0]
    );
    assert_eq!(
        keys(all(&store, q(&|q| q.since_ms = Some(T0 + 10))).await),
        vec![30, 20, 10],
        "since is inclusive"
    );
    assert_eq!(
        keys(all(&store, q(&|q| q.until_ms = Some(T0 + 20))).await),
        vec![10, 0],
        "until is exclusive"
    );
    assert_eq!(
        keys(
            all(
                &store,
                q(&|q| {
                    q.credential_id = Some("c1".into());
                    q.bucket = Some("a".into());
                    q.kind = Some(AuditKind::S3);
                })
            )
            .await
        ),
        vec![0],
        "filters combine with AND"
    );
    assert!(
        all(&store, q(&|q| q.bucket = Some("A".into())))
            .await
            .is_empty(),
        "exact, case-sensitive match"
    );
}

/// Pages of 3 over 10 events (several in one millisecond) visit each exactly once, newest
/// first; the last page has no cursor.
pub async fn audit_pages_newest_first_without_gaps(store: Arc<dyn AuditStore>) {
    let events: Vec<AuditEvent> = (0..10u64)
        .map(|i| s3_event(1, T0 + i / 3, "c", "b", &format!("k{i}")))
        .collect();
    // Two batches, so the store's insertion numbers come from two transactions.
    ok(store.append_audit(events[..5].to_vec()).await, "append 1");
    ok(store.append_audit(events[5..].to_vec()).await, "append 2");
    let mut seen = Vec::new();
    let mut q = AuditQuery::new(account_id(1));
    q.limit = 3;
    let mut pages = 0;
    loop {
        let page = ok(store.list_audit(&q).await, "page");
        pages += 1;
        assert!(page.events.len() <= 3, "page size honoured");
        seen.extend(page.events.iter().map(|s| s.event.clone()));
        match page.next {
            Some(c) => {
                // The cursor survives its text form, as the API passes it.
                q.after = Some(AuditCursor::decode(&c.encode()).expect("cursor"));
            }
            None => break,
        }
        assert!(pages < 10, "paging terminates");
    }
    assert_eq!(seen.len(), 10, "every event once: {seen:?}");
    let mut times: Vec<u64> = seen.iter().map(|e| e.time_ms).collect();
    let sorted = {
        let mut t = times.clone();
        t.sort_unstable_by(|a, b| b.cmp(a));
        t
    };
    assert_eq!(times, sorted, "newest first");
    let mut keys: Vec<String> = seen.into_iter().filter_map(|e| e.key).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 10, "no event repeated");
    times.dedup();
    assert_eq!(times.len(), 4);
}

/// An account's audit never shows another account's events.
pub async fn audit_accounts_are_separate(store: Arc<dyn AuditStore>) {
    ok(
        store
            .append_audit(vec![
                s3_event(1, T0, "c1", "b", "k"),
                s3_event(2, T0, "c2", "b", "k"),
            ])
            .await,
        "append",
    );
    let one = all(&store, AuditQuery::new(account_id(1))).await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].credential_id.as_deref(), Some("c1"));
    let mut q = AuditQuery::new(account_id(1));
    q.credential_id = Some("c2".into());
    assert!(all(&store, q).await.is_empty());
}

/// With a retention of one day on an injected clock, a purge removes exactly the events older
/// than a day (of every account), and a retention of 0 purges nothing.
pub async fn audit_retention_purges_only_old_events(store: Arc<dyn AuditStore>) {
    let clock = Clock::fixed(T0 / 1000);
    let day_ms = 86_400_000;
    ok(
        store
            .append_audit(vec![
                s3_event(1, T0, "old", "b", "k"),
                s3_event(2, T0 + 1, "old2", "b", "k"),
                s3_event(1, T0 + day_ms, "edge", "b", "k"),
                s3_event(1, T0 + day_ms + 5000, "new", "b", "k"),
            ])
            .await,
        "append",
    );
    clock.advance(86_400 + 1);
    assert_eq!(retention_cutoff(&clock, 0), None, "0 keeps forever");
    let cutoff = retention_cutoff(&clock, 86_400).expect("cutoff");
    assert_eq!(cutoff, T0 + 1000);
    let purged = ok(store.purge_audit(cutoff).await, "purge");
    assert_eq!(purged, 2, "both accounts' old events");
    let left: Vec<String> = all(&store, AuditQuery::new(account_id(1)))
        .await
        .into_iter()
        .filter_map(|e| e.credential_id)
        .collect();
    assert_eq!(left, vec!["new".to_owned(), "edge".to_owned()]);
    assert!(all(&store, AuditQuery::new(account_id(2))).await.is_empty());
    assert_eq!(
        ok(store.purge_audit(cutoff).await, "again"),
        0,
        "idempotent"
    );
}
