//! The schedule the background passes of `serve` share (orphan-blob collection, lifecycle
//! sweeps): one pass at startup, then one every interval, until shutdown. A pass still running
//! when shutdown begins is abandoned; passes are idempotent, so the next start redoes it.
//!
//! ```ignore
//! let mut schedule = Schedule::new(interval_secs, stop);
//! while schedule.next().await {
//!     let Some(outcome) = schedule.unless_stopped(one_pass()).await else { return };
//!     // metrics and the log line for `outcome`
//! }
//! ```

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior};

/// Ticks every interval (the first at once) until the stop signal turns true.
pub(crate) struct Schedule {
    tick: Interval,
    stop: watch::Receiver<bool>,
}

impl Schedule {
    /// Every `interval_secs` (at least 1). A pass that overruns the interval delays the next
    /// one instead of starting passes back to back.
    pub(crate) fn new(interval_secs: u64, stop: watch::Receiver<bool>) -> Self {
        let mut tick = tokio::time::interval(Duration::from_secs(interval_secs.max(1)));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self { tick, stop }
    }

    /// Waits for the next pass: `false` once shutdown has begun.
    pub(crate) async fn next(&mut self) -> bool {
        tokio::select! {
            _ = self.tick.tick() => true,
            _ = self.stop.wait_for(|s| *s) => false,
        }
    }

    /// Runs one pass, or abandons it (`None`) when shutdown begins first.
    pub(crate) async fn unless_stopped<T>(&mut self, pass: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            r = pass => Some(r),
            _ = self.stop.wait_for(|s| *s) => None,
        }
    }
}
