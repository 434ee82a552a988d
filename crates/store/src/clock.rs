//! The one clock servers read. Time is a parameter (STYLE.md §4): handlers never call the
//! system clock; the binary injects [`Clock::system`] and tests inject [`Clock::fixed`], which
//! they can move with [`Clock::set`] / [`Clock::advance`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A cheap, cloneable handle that returns the current time as seconds since the Unix epoch.
///
/// Clones share state: advancing a fixed clock is seen by every clone.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Source>,
}

#[derive(Debug)]
enum Source {
    System,
    /// Milliseconds since the epoch.
    Fixed(AtomicU64),
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Self {
        Self {
            inner: Arc::new(Source::System),
        }
    }

    /// A clock stopped at `epoch_secs` until moved with [`Clock::set`] or [`Clock::advance`].
    pub fn fixed(epoch_secs: u64) -> Self {
        Self {
            inner: Arc::new(Source::Fixed(AtomicU64::new(
                epoch_secs.saturating_mul(1000),
            ))),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        self.now_millis() / 1000
    }

    /// Milliseconds since the Unix epoch (object `last_modified_ms` uses this).
    pub fn now_millis(&self) -> u64 {
        match &*self.inner {
            Source::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                // A clock before 1970 is a broken host; 0 keeps every expiry check failing safe.
                .unwrap_or(0),
            Source::Fixed(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// Moves a fixed clock to `epoch_secs`. Returns `false` (and does nothing) on the system clock.
    pub fn set(&self, epoch_secs: u64) -> bool {
        match &*self.inner {
            Source::System => false,
            Source::Fixed(ms) => {
                ms.store(epoch_secs.saturating_mul(1000), Ordering::SeqCst);
                true
            }
        }
    }

    /// Moves a fixed clock forward by `secs`. Returns `false` (and does nothing) on the system clock.
    pub fn advance(&self, secs: u64) -> bool {
        match &*self.inner {
            Source::System => false,
            Source::Fixed(ms) => {
                ms.fetch_add(secs.saturating_mul(1000), Ordering::SeqCst);
                true
            }
        }
    }

    /// True for a clock made by [`Clock::fixed`].
    pub fn is_fixed(&self) -> bool {
        matches!(&*self.inner, Source::Fixed(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told_and_clones_share_it() {
        let clock = Clock::fixed(1_750_000_000);
        let other = clock.clone();
        assert_eq!(clock.now(), 1_750_000_000);
        assert!(other.advance(10));
        assert_eq!(clock.now(), 1_750_000_010);
        assert_eq!(clock.now_millis(), 1_750_000_010_000);
        assert!(clock.set(5));
        assert_eq!(other.now(), 5);
    }

    #[test]
    fn system_clock_is_after_2020_and_cannot_be_set() {
        let clock = Clock::system();
        assert!(clock.now() > 1_577_836_800);
        assert!(!clock.set(0));
        assert!(!clock.is_fixed());
    }
}
