//! The lifecycle sweeper `serve` runs in the background: one pass
//! ([`mayfly_store::sweep::sweep`]) at startup, then one every
//! [`LifecycleSweepConfig::interval_secs`], until shutdown. Every node of a cluster may run it:
//! passes are idempotent and never delete an object rewritten after it was judged expired.

use std::sync::Arc;

use mayfly_store::sweep::sweep;
use mayfly_store::{BlobStore, Clock, MetadataStore};
use tokio::sync::watch;

use crate::config::LifecycleSweepConfig;
use crate::periodic::Schedule;

/// Runs sweeps until `stop` turns true. Errors are logged and retried next pass.
pub async fn run(
    config: LifecycleSweepConfig,
    meta: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    clock: Clock,
    stop: watch::Receiver<bool>,
) {
    let Some(interval) = config.interval_secs else {
        tracing::info!("lifecycle rules are not applied (--lifecycle-interval 0)");
        return;
    };
    let mut schedule = Schedule::new(interval, stop);
    while schedule.next().await {
        let Some(outcome) = schedule
            .unless_stopped(sweep(&*meta, &*blobs, clock.now_millis()))
            .await
        else {
            return;
        };
        match outcome {
            Ok(r) => {
                metrics::counter!("mayfly_lifecycle_passes_total", "result" => "ok").increment(1);
                metrics::counter!("mayfly_lifecycle_objects_deleted_total")
                    .increment(r.objects_deleted as u64);
                metrics::counter!("mayfly_lifecycle_uploads_aborted_total")
                    .increment(r.uploads_aborted as u64);
                tracing::info!(
                    buckets = r.buckets,
                    objects_deleted = r.objects_deleted,
                    uploads_aborted = r.uploads_aborted,
                    skipped = r.skipped,
                    unreadable = r.unreadable,
                    blob_errors = r.blob_errors,
                    "lifecycle pass"
                );
            }
            Err(e) => {
                metrics::counter!("mayfly_lifecycle_passes_total", "result" => "error")
                    .increment(1);
                tracing::warn!(error = %e, "lifecycle pass failed; retrying next pass");
            }
        }
    }
}
