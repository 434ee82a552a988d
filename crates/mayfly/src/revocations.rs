//! Forgetting credential revocations once they no longer matter: `serve` purges the entries
//! whose credential has expired anyway, on the orphan collector's schedule (one pass at
//! startup, then every `--gc-interval`, hourly if that is off). Idempotent, so every node of a
//! cluster may run it.

use std::sync::Arc;

use mayfly_store::{Clock, MetadataStore};
use tokio::sync::watch;

use crate::config::GcConfig;
use crate::periodic::Schedule;

/// Runs purge passes until `stop` turns true. Errors are logged and retried next pass.
pub async fn run(
    config: GcConfig,
    meta: Arc<dyn MetadataStore>,
    clock: Clock,
    stop: watch::Receiver<bool>,
) {
    let interval = config.interval_secs.unwrap_or(3600);
    let mut schedule = Schedule::new(interval, stop);
    while schedule.next().await {
        let Some(outcome) = schedule
            .unless_stopped(meta.purge_revocations(clock.now()))
            .await
        else {
            return;
        };
        match outcome {
            Ok(0) => tracing::debug!("no expired revocations"),
            Ok(n) => tracing::info!(purged = n, "expired credential revocations forgotten"),
            Err(e) => {
                tracing::warn!(error = %e, "purging expired revocations failed; retrying next pass");
            }
        }
    }
}
