//! One lifecycle sweep over every bucket: deletes the objects and aborts the multipart uploads
//! the buckets' rules ([`crate::lifecycle`]) expire at a given time. The binary runs it
//! periodically; the time is the caller's (an injected clock in tests).
//!
//! Every node of a cluster may sweep at once: an object is deleted only if it is still the one
//! judged expired ([`MetadataStore::delete_object_if`]: same ETag and modification time), and
//! an upload another node aborted first is simply gone. Passes are idempotent; no leader.

use crate::lifecycle::LifecycleConfig;
use crate::{
    BlobId, BlobStore, BucketConfigKind, BucketId, Entity, ListBucketsQuery, ListObjectsQuery,
    ListUploadsQuery, MetadataStore, StoreError,
};

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Buckets with at least one enabled rule.
    pub buckets: usize,
    /// Objects deleted.
    pub objects_deleted: usize,
    /// Multipart uploads aborted.
    pub uploads_aborted: usize,
    /// Objects judged expired but rewritten (or deleted) by someone else before the delete.
    pub skipped: usize,
    /// Buckets whose stored document this version cannot read (rules set by an older one).
    pub unreadable: usize,
    /// Blobs of deleted objects or uploads whose deletion failed (the orphan collector will).
    pub blob_errors: usize,
}

/// One pass over every account's buckets at `now_ms`.
///
/// # Errors
///
/// The first store error other than the races a sweep expects (object replaced, upload gone,
/// bucket deleted).
pub async fn sweep(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    now_ms: u64,
) -> Result<SweepReport, StoreError> {
    let mut report = SweepReport::default();
    for account in meta.list_accounts().await? {
        let mut query = ListBucketsQuery {
            per_page: 1000,
            ..ListBucketsQuery::default()
        };
        loop {
            let page = meta.list_buckets(&account.id, &query).await?;
            for b in &page.buckets {
                let bucket = b.bucket_id();
                let cfg = match meta
                    .get_bucket_config(&bucket, BucketConfigKind::Lifecycle)
                    .await
                {
                    Ok(doc) => match LifecycleConfig::from_document(&doc) {
                        Some(cfg) => cfg,
                        None => {
                            report.unreadable += 1;
                            continue;
                        }
                    },
                    Err(StoreError::NotFound(Entity::Lifecycle | Entity::Bucket)) => continue,
                    Err(e) => return Err(e),
                };
                if !cfg.is_active() {
                    continue;
                }
                report.buckets += 1;
                match sweep_bucket(meta, blobs, &bucket, &cfg, now_ms, &mut report).await {
                    Ok(()) | Err(StoreError::NotFound(Entity::Bucket)) => {}
                    Err(e) => return Err(e),
                }
            }
            match page.cursor {
                Some(c) if !page.buckets.is_empty() => query.cursor = Some(c),
                _ => break,
            }
        }
    }
    Ok(report)
}

async fn delete_blobs(blobs: &dyn BlobStore, ids: Vec<BlobId>, report: &mut SweepReport) {
    for id in ids {
        if blobs.delete(&id).await.is_err() {
            report.blob_errors += 1;
        }
    }
}

async fn sweep_bucket(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    bucket: &BucketId,
    cfg: &LifecycleConfig,
    now_ms: u64,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    let prefix = cfg.common_prefix();
    let mut query = ListObjectsQuery {
        prefix: prefix.clone(),
        delimiter: None,
        start_after: None,
        max_keys: 1000,
    };
    loop {
        let page = meta.list_objects(bucket, &query).await?;
        for o in &page.objects {
            if !cfg.expires_object(&o.key, o.last_modified_ms, now_ms) {
                continue;
            }
            match meta
                .delete_object_if(bucket, &o.key, &o.etag, o.last_modified_ms)
                .await
            {
                Ok(garbage) if garbage.is_empty() => report.skipped += 1,
                Ok(garbage) => {
                    report.objects_deleted += 1;
                    delete_blobs(blobs, garbage, report).await;
                }
                Err(StoreError::PreconditionFailed) => report.skipped += 1,
                Err(e) => return Err(e),
            }
        }
        match page.next_marker {
            Some(m) if page.is_truncated => query.start_after = Some(m),
            _ => break,
        }
    }
    if !cfg
        .rules
        .iter()
        .any(|r| r.abort_uploads_after_secs.is_some())
    {
        return Ok(());
    }
    let mut query = ListUploadsQuery {
        prefix,
        max_uploads: 1000,
        ..ListUploadsQuery::default()
    };
    loop {
        let page = meta.list_uploads(bucket, &query).await?;
        for u in &page.uploads {
            if !cfg.aborts_upload(&u.key, u.initiated_ms, now_ms) {
                continue;
            }
            match meta.abort_upload(bucket, &u.key, &u.upload_id).await {
                Ok(garbage) => {
                    report.uploads_aborted += 1;
                    delete_blobs(blobs, garbage, report).await;
                }
                Err(StoreError::NotFound(Entity::Upload)) => {}
                Err(e) => return Err(e),
            }
        }
        if !page.is_truncated {
            break;
        }
        query.key_marker = page.next_key_marker;
        query.upload_id_marker = page.next_upload_id_marker;
        if query.key_marker.is_none() {
            break;
        }
    }
    Ok(())
}
