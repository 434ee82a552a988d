//! The lifecycle sweep over a real store: rules by prefix, age and date, uploads by age, two
//! concurrent sweeps (two nodes) that do the work once between them.

use super::{Subject, new_bucket, object_record, ok};
use crate::lifecycle::{Expiry, LifecycleConfig, LifecycleRule};
use crate::sweep::{SweepReport, sweep};
use crate::testkit::multipart::{part_record, upload_record};
use crate::{BlobId, BucketConfigKind, Entity, WriteCondition};

const DAY_MS: u64 = 86_400_000;
/// Midnight UTC, a few weeks after the objects are written.
const DATE_SECS: u64 = 20_300 * 86_400;

/// Objects and uploads expire exactly when the rules say, at the sweep's time; two sweeps
/// racing delete each object once and never fail.
pub async fn lifecycle_sweep_applies_rules_once(s: &Subject) {
    let b = new_bucket(s, 1, "lifecycle").await;
    let other = new_bucket(s, 1, "no-rules").await;
    let t0 = 1_750_000_000_000u64;
    for (bucket, key) in [
        (&b, "tmp/a"),
        (&b, "tmp/b"),
        (&b, "keep/c"),
        (&b, "old/d"),
        (&other, "tmp/a"),
    ] {
        let mut o = object_record(bucket, key, BlobId::random(), 0);
        o.last_modified_ms = t0;
        ok(s.meta.put_object(o, WriteCondition::None).await, "put");
    }
    let mut up = upload_record(&b, "tmp/upload");
    up.initiated_ms = t0;
    ok(s.meta.create_upload(up.clone()).await, "create upload");
    let part = part_record(1, 10);
    ok(
        s.meta
            .put_part(&b, &up.key, &up.upload_id, part.clone())
            .await,
        "part",
    );
    let rule = |id: &str, prefix: &str, e: Option<Expiry>, abort: Option<u64>| LifecycleRule {
        id: id.into(),
        enabled: true,
        prefix: prefix.into(),
        expire_objects: e,
        abort_uploads_after_secs: abort,
    };
    let mut disabled = rule("off", "keep/", Some(Expiry::AfterSecs(1)), None);
    disabled.enabled = false;
    let cfg = LifecycleConfig {
        rules: vec![
            rule("tmp", "tmp/", Some(Expiry::AfterSecs(86_400)), Some(7200)),
            rule("old", "old/", Some(Expiry::OnDate(DATE_SECS)), None),
            disabled,
        ],
    };
    ok(
        s.meta
            .put_bucket_config(&b, BucketConfigKind::Lifecycle, cfg.to_document())
            .await,
        "rules",
    );

    // Before anything is due: nothing happens.
    let r = ok(sweep(&*s.meta, &*s.blobs, t0 + 3_600_000).await, "early");
    assert_eq!((r.buckets, r.objects_deleted, r.uploads_aborted), (1, 0, 0));
    ok(
        s.meta.get_upload(&b, &up.key, &up.upload_id).await,
        "upload kept",
    );

    // Two hours in: the upload is aborted, objects stay.
    let r = ok(sweep(&*s.meta, &*s.blobs, t0 + 7_200_000).await, "2h");
    assert_eq!((r.objects_deleted, r.uploads_aborted), (0, 1));
    let gone = s.meta.get_upload(&b, &up.key, &up.upload_id).await;
    assert!(
        gone.as_ref().is_err_and(|e| e.is_not_found(Entity::Upload)),
        "upload aborted: {gone:?}"
    );

    // A day in, two nodes at once: tmp/a and tmp/b go, exactly once between them.
    let now = t0 + DAY_MS;
    let (x, y) = futures_util::future::join(
        sweep(&*s.meta, &*s.blobs, now),
        sweep(&*s.meta, &*s.blobs, now),
    )
    .await;
    let (x, y): (SweepReport, SweepReport) = (ok(x, "node 1"), ok(y, "node 2"));
    assert_eq!(x.objects_deleted + y.objects_deleted, 2, "{x:?} {y:?}");
    for key in ["tmp/a", "tmp/b"] {
        let got = s.meta.get_object(&b, key).await;
        assert!(
            got.as_ref().is_err_and(|e| e.is_not_found(Entity::Object)),
            "{key}: {got:?}"
        );
    }
    for (bucket, key) in [(&b, "keep/c"), (&b, "old/d"), (&other, "tmp/a")] {
        ok(s.meta.get_object(bucket, key).await, key);
    }

    // The date rule applies from its date on, whatever the age.
    let r = ok(sweep(&*s.meta, &*s.blobs, DATE_SECS * 1000).await, "date");
    assert_eq!(r.objects_deleted, 1);
    assert!(s.meta.get_object(&b, "old/d").await.is_err());
    ok(s.meta.get_object(&b, "keep/c").await, "disabled rule");
}
