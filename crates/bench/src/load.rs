//! The closed-loop load generator: `c` workers each issue one operation after another until a
//! deadline (or an operation budget), recording every latency. A [`Sample`] is one such step;
//! samples of the same step from several rounds merge into one result.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

/// How long a step runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Budget {
    /// Until this much wall time has passed (operations in flight finish and count).
    Time(Duration),
    /// Exactly this many operations in total, shared among the workers.
    Ops(u64),
}

/// One measured step (or several merged).
#[derive(Debug, Clone, Default)]
pub(crate) struct Sample {
    /// Successful operations.
    pub(crate) ops: u64,
    /// Failed operations (any error: a benchmark should see none).
    pub(crate) errors: u64,
    /// Payload bytes moved, or items (keys listed) for listings.
    pub(crate) units: u64,
    /// Wall-clock seconds of the step.
    pub(crate) secs: f64,
    /// Per-operation latency, microseconds.
    pub(crate) latencies_us: Vec<u32>,
    /// The first error, for the report (never carries a secret: S3 and API errors don't).
    pub(crate) first_error: Option<String>,
}

impl Sample {
    /// Adds another round of the same step.
    pub(crate) fn merge(&mut self, other: Sample) {
        self.ops += other.ops;
        self.errors += other.errors;
        self.units += other.units;
        self.secs += other.secs;
        self.latencies_us.extend(other.latencies_us);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub(crate) fn ops_per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.ops as f64 / self.secs
        } else {
            0.0
        }
    }

    pub(crate) fn units_per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.units as f64 / self.secs
        } else {
            0.0
        }
    }

    /// The `q` quantile (0..=1) of the latencies, in microseconds; sorts in place.
    pub(crate) fn quantile_us(&mut self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let idx = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies_us[idx])
    }
}

/// Runs `op(worker, n)` on `concurrency` tokio tasks under `budget`. `op` returns the bytes (or
/// items) it moved.
pub(crate) async fn run<F, Fut>(concurrency: usize, budget: Budget, op: F) -> Sample
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<u64>> + Send + 'static,
{
    let op = Arc::new(op);
    let left = Arc::new(std::sync::atomic::AtomicU64::new(match budget {
        Budget::Ops(n) => n,
        Budget::Time(_) => u64::MAX,
    }));
    let start = Instant::now();
    let deadline = match budget {
        Budget::Time(d) => Some(start + d),
        Budget::Ops(_) => None,
    };
    let mut tasks = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let op = Arc::clone(&op);
        let left = Arc::clone(&left);
        tasks.push(tokio::spawn(async move {
            let mut s = Sample::default();
            let mut n = 0u64;
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let claimed = left.fetch_update(
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                    |v| v.checked_sub(1),
                );
                if claimed.is_err() {
                    break;
                }
                let t = Instant::now();
                match op(w, n).await {
                    Ok(units) => {
                        let us = t.elapsed().as_micros();
                        s.latencies_us.push(u32::try_from(us).unwrap_or(u32::MAX));
                        s.ops += 1;
                        s.units += units;
                    }
                    Err(e) => {
                        s.errors += 1;
                        if s.first_error.is_none() {
                            s.first_error = Some(format!("{e:#}"));
                        }
                        // A broken endpoint should not spin: back off a little.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                n += 1;
            }
            s
        }));
    }
    let mut total = Sample::default();
    for t in tasks {
        match t.await {
            Ok(s) => total.merge(s),
            Err(e) => {
                total.errors += 1;
                total
                    .first_error
                    .get_or_insert_with(|| format!("worker panicked: {e}"));
            }
        }
    }
    total.secs = start.elapsed().as_secs_f64();
    total
}

/// Runs a CPU- or disk-bound `op(n)` on one blocking thread under `budget`: the "per core"
/// and raw-disk figures.
pub(crate) async fn run_blocking<F>(budget: Budget, mut op: F) -> Sample
where
    F: FnMut(u64) -> Result<u64> + Send + 'static,
{
    let joined = tokio::task::spawn_blocking(move || {
        let mut s = Sample::default();
        let start = Instant::now();
        let mut n = 0u64;
        loop {
            match budget {
                Budget::Time(d) if start.elapsed() >= d => break,
                Budget::Ops(max) if n >= max => break,
                Budget::Time(_) | Budget::Ops(_) => {}
            }
            let t = Instant::now();
            match op(n) {
                Ok(units) => {
                    s.latencies_us
                        .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                    s.ops += 1;
                    s.units += units;
                }
                Err(e) => {
                    s.errors += 1;
                    s.first_error.get_or_insert_with(|| format!("{e:#}"));
                    break;
                }
            }
            n += 1;
        }
        s.secs = start.elapsed().as_secs_f64();
        s
    })
    .await;
    joined.unwrap_or_else(|e| Sample {
        errors: 1,
        first_error: Some(format!("blocking step panicked: {e}")),
        ..Sample::default()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn op_budget_is_exact_and_quantiles_are_ordered() {
        let mut s = run(4, Budget::Ops(100), |_, _| async { Ok(10) }).await;
        assert_eq!(s.ops, 100);
        assert_eq!(s.units, 1000);
        assert!(s.quantile_us(0.5) <= s.quantile_us(0.99));
    }

    #[tokio::test]
    async fn errors_are_counted_not_fatal() {
        let s = run(2, Budget::Ops(4), |_, n| async move {
            if n == 0 { anyhow::bail!("nope") } else { Ok(1) }
        })
        .await;
        assert_eq!(s.errors, 2);
        assert_eq!(s.ops, 2);
        assert_eq!(s.first_error.as_deref(), Some("nope"));
    }
}
