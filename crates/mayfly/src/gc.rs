//! The orphan-blob collector `serve` runs in the background: one pass at startup, then one
//! every [`GcConfig::interval_secs`], until shutdown.
//!
//! An orphan is a blob no object or part references: its metadata commit never happened (a
//! crash or a killed node between the blob's fsync and the commit) or a failed call left it
//! behind. Passes are idempotent, so every node of a cluster may run them against the shared
//! stores; [`GcConfig::grace_secs`] protects blobs whose commit is still on its way.

use std::sync::Arc;

use mayfly_store::gc::collect_orphans;
use mayfly_store::{BlobStore, Clock, MetadataStore};
use tokio::sync::watch;

use crate::config::GcConfig;
use crate::periodic::Schedule;

/// Runs collection passes until `stop` turns true. Errors are logged and retried next pass.
pub async fn run(
    config: GcConfig,
    meta: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    clock: Clock,
    stop: watch::Receiver<bool>,
) {
    let Some(interval) = config.interval_secs else {
        tracing::info!("orphan-blob collection is off (--gc-interval 0)");
        return;
    };
    let mut schedule = Schedule::new(interval, stop);
    while schedule.next().await {
        let Some(outcome) = schedule
            .unless_stopped(collect_orphans(
                &*meta,
                &*blobs,
                clock.now(),
                config.grace_secs,
            ))
            .await
        else {
            return;
        };
        match outcome {
            Ok(report) => {
                metrics::counter!("mayfly_gc_passes_total", "result" => "ok").increment(1);
                metrics::counter!("mayfly_gc_orphans_deleted_total")
                    .increment(report.deleted as u64);
                if report.deleted > 0 {
                    tracing::info!(
                        examined = report.examined,
                        deleted = report.deleted,
                        "orphan blobs collected"
                    );
                } else {
                    tracing::debug!(examined = report.examined, "no orphan blobs");
                }
            }
            Err(e) => {
                metrics::counter!("mayfly_gc_passes_total", "result" => "error").increment(1);
                tracing::warn!(error = %e, "orphan-blob collection failed; retrying next pass");
            }
        }
    }
}
