//! The audit trail's background half (a Mayfly extension): the writer task that drains the
//! handlers' [`AuditSink`] into the store in batches, and the retention purge.
//!
//! - Off the request path: handlers only `try_send` into a bounded channel; a full channel
//!   drops the event and counts it (`mayfly_audit_events_dropped_total`), with one WARN line
//!   per flush interval that saw drops, never one per event.
//! - Batched: the writer flushes every [`AuditWriterConfig::batch`] events or every
//!   [`AuditWriterConfig::flush`], whichever comes first, in ONE store transaction
//!   (`mayfly_audit_events_written_total`, `mayfly_audit_batch_seconds`).
//! - Graceful shutdown: the channel closes when the last server drops its sink; the writer
//!   then flushes what it holds and ends ([`AuditWriter::finish`] waits for that).
//! - Retention: [`run_purge`] deletes events older than the retention on the periodic
//!   schedule (at startup, then hourly); a retention of 0 keeps events forever.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mayfly_store::{AuditEvent, AuditReceiver, AuditSink, AuditStore, Clock, retention_cutoff};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::periodic::Schedule;

/// How the writer batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditWriterConfig {
    /// Events the channel holds before new ones are dropped.
    pub capacity: usize,
    /// Events per transaction at most (a full batch is flushed at once).
    pub batch: usize,
    /// Longest an event waits in the writer before its batch is flushed.
    pub flush: Duration,
}

impl Default for AuditWriterConfig {
    fn default() -> Self {
        Self {
            capacity: 65_536,
            batch: 1024,
            flush: Duration::from_millis(200),
        }
    }
}

/// A running writer: the sink to hand to the servers, and the task.
#[derive(Debug)]
pub struct AuditWriter {
    task: JoinHandle<()>,
}

/// Seconds between retention purges.
pub const PURGE_INTERVAL_SECS: u64 = 3600;

/// Starts the writer over `store`; returns the sink for the servers and the writer.
pub fn start(store: Arc<dyn AuditStore>, config: AuditWriterConfig) -> (AuditSink, AuditWriter) {
    let (sink, rx) = AuditSink::channel(config.capacity);
    let task = tokio::spawn(write_loop(store, rx, config));
    (sink, AuditWriter { task })
}

impl AuditWriter {
    /// Waits (at most `limit`) for the writer to flush its last batch, which it does once every
    /// sink clone is dropped (the servers have stopped).
    pub async fn finish(self, limit: Duration) {
        if tokio::time::timeout(limit, self.task).await.is_err() {
            tracing::warn!(
                timeout_secs = limit.as_secs(),
                "audit writer did not finish in time; its last events are lost"
            );
        }
    }
}

async fn write_loop(store: Arc<dyn AuditStore>, mut rx: AuditReceiver, config: AuditWriterConfig) {
    let batch = config.batch.max(1);
    let mut buf: Vec<AuditEvent> = Vec::with_capacity(batch);
    // The first flush one period after start (an `interval`'s first tick is immediate, and
    // would flush a partial batch at a moment that depends on scheduling).
    let period = config.flush.max(Duration::from_millis(1));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported_drops = 0u64;
    loop {
        // Always at least 1: a full buffer was flushed below before coming back here.
        let room = batch - buf.len();
        tokio::select! {
            n = rx.events.recv_many(&mut buf, room) => {
                if n == 0 {
                    flush(store.as_ref(), &mut buf).await;
                    report_drops(&rx, &mut reported_drops);
                    return;
                }
                if buf.len() >= batch {
                    flush(store.as_ref(), &mut buf).await;
                }
            }
            _ = tick.tick() => {
                flush(store.as_ref(), &mut buf).await;
                report_drops(&rx, &mut reported_drops);
            }
        }
    }
}

/// Writes `buf` in one transaction and empties it. A failed batch is lost (and counted): the
/// audit trail must not grow memory without bound while the store is down.
async fn flush(store: &dyn AuditStore, buf: &mut Vec<AuditEvent>) {
    if buf.is_empty() {
        return;
    }
    let events = std::mem::take(buf);
    let n = events.len() as u64;
    let started = Instant::now();
    let result = store.append_audit(events).await;
    metrics::histogram!("mayfly_audit_batch_seconds").record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => metrics::counter!("mayfly_audit_events_written_total").increment(n),
        Err(e) => {
            metrics::counter!("mayfly_audit_events_failed_total").increment(n);
            tracing::warn!(error = %e, events = n, "audit batch not written");
        }
    }
}

/// Moves the sink's drop count to the Prometheus counter, with one WARN line when it grew.
fn report_drops(rx: &AuditReceiver, reported: &mut u64) {
    let now = rx.dropped();
    if now > *reported {
        let new = now - *reported;
        metrics::counter!("mayfly_audit_events_dropped_total").increment(new);
        tracing::warn!(
            dropped = new,
            dropped_total = now,
            "audit events dropped: the writer could not keep up (channel full)"
        );
        *reported = now;
    }
}

/// The retention purge: at startup, then every [`PURGE_INTERVAL_SECS`], deletes events older
/// than `retention_secs` (0: never). Ends at shutdown.
pub(crate) async fn run_purge(
    retention_secs: u64,
    store: Arc<dyn AuditStore>,
    clock: Clock,
    stop: watch::Receiver<bool>,
) {
    if retention_secs == 0 {
        return;
    }
    let mut schedule = Schedule::new(PURGE_INTERVAL_SECS, stop);
    while schedule.next().await {
        let Some(cutoff) = retention_cutoff(&clock, retention_secs) else {
            return;
        };
        let Some(outcome) = schedule.unless_stopped(store.purge_audit(cutoff)).await else {
            return;
        };
        match outcome {
            Ok(n) => {
                metrics::counter!("mayfly_audit_events_purged_total").increment(n);
                if n > 0 {
                    tracing::info!(purged = n, "audit events past their retention deleted");
                }
            }
            Err(e) => tracing::warn!(error = %e, "audit retention purge failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use mayfly_core::AccountId;
    use mayfly_store::{AuditKind, AuditQuery};
    use mayfly_store_local::LocalStore;

    use super::*;

    fn account() -> AccountId {
        AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect("valid")
    }

    async fn written(store: &dyn AuditStore) -> usize {
        let mut query = AuditQuery::new(account());
        query.limit = 1000;
        store.list_audit(&query).await.expect("list").events.len()
    }

    /// With a flush interval far longer than the test: a full batch is written as soon as it
    /// is queued, fewer events wait for the interval, and dropping the last sink flushes them
    /// at once and ends the writer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_are_written_when_full_and_the_rest_when_the_sinks_are_gone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let local = LocalStore::open(dir.path()).expect("open store");
        let store = local.audit();
        let config = AuditWriterConfig {
            capacity: 64,
            batch: 8,
            flush: Duration::from_secs(3600),
        };
        let (sink, writer) = start(Arc::clone(&store), config);
        let event = |i: u64| AuditEvent::new(account(), 1_750_000_000_000 + i, AuditKind::S3);
        for i in 0..8 {
            assert!(sink.record(event(i)));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while written(store.as_ref()).await < 8 {
            assert!(Instant::now() < deadline, "a full batch was not written");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for i in 8..11 {
            assert!(sink.record(event(i)));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            written(store.as_ref()).await,
            8,
            "three events are not a batch: they wait for the interval"
        );
        let second = sink.clone();
        drop(sink);
        assert!(second.record(event(11)), "a remaining clone still records");
        drop(second);
        writer.finish(Duration::from_secs(20)).await;
        assert_eq!(
            written(store.as_ref()).await,
            12,
            "the last events were flushed"
        );
    }
}
