//! The audit trail (a Mayfly extension): [`AuditEvent`] records, the [`AuditStore`] trait both
//! metadata stores implement, and [`AuditSink`], the handle request handlers push events into.
//!
//! Events never slow a request down: handlers call [`AuditSink::record`], which only tries to
//! put the event in a bounded channel. When the channel is full the event is dropped and
//! counted ([`AuditSink::dropped`]); the binary's writer task drains the channel, writes events
//! in batches (one transaction per batch, [`AuditStore::append_audit`]) and reports the drops.
//!
//! Paging is newest first by `(time_ms, seq)`: `seq` is the store's own insertion number, so
//! events with the same millisecond keep a stable order and a cursor never repeats or skips one.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use mayfly_core::AccountId;
use tokio::sync::mpsc;

use crate::error::StoreError;

/// What an event is about. The wire names are [`AuditKind::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// A temporary credential was minted through the API.
    CredentialMint,
    /// A temporary credential was revoked.
    CredentialRevoke,
    /// An R2 API token was created.
    TokenCreate,
    /// An R2 API token was changed.
    TokenUpdate,
    /// An R2 API token was deleted (revoked).
    TokenDelete,
    /// A bucket was created.
    BucketCreate,
    /// A bucket was deleted.
    BucketDelete,
    /// A bucket's CORS rules were set or removed.
    BucketCors,
    /// A bucket's lifecycle rules were set.
    BucketLifecycle,
    /// An S3 request made with a temporary credential.
    S3,
}

impl AuditKind {
    /// Every kind, in a fixed order.
    pub const ALL: [AuditKind; 10] = [
        Self::CredentialMint,
        Self::CredentialRevoke,
        Self::TokenCreate,
        Self::TokenUpdate,
        Self::TokenDelete,
        Self::BucketCreate,
        Self::BucketDelete,
        Self::BucketCors,
        Self::BucketLifecycle,
        Self::S3,
    ];

    /// The stable name (`credential.mint`, `s3`, ...), stored and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CredentialMint => "credential.mint",
            Self::CredentialRevoke => "credential.revoke",
            Self::TokenCreate => "token.create",
            Self::TokenUpdate => "token.update",
            Self::TokenDelete => "token.delete",
            Self::BucketCreate => "bucket.create",
            Self::BucketDelete => "bucket.delete",
            Self::BucketCors => "bucket.cors",
            Self::BucketLifecycle => "bucket.lifecycle",
            Self::S3 => "s3",
        }
    }

    /// The kind with this name, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit event. Every field but the account, time and kind is optional: a mint has no
/// key or status, an S3 request no caller. No field ever holds a secret or a session token
/// (credentials are named by their [`mayfly_core::CredentialId`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// The account the event belongs to (the one whose audit shows it).
    pub account: AccountId,
    /// When it happened, milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// What happened.
    pub kind: AuditKind,
    /// The temporary credential involved (minted, revoked, or making the S3 request).
    pub credential_id: Option<String>,
    /// The parent token's access key id of that credential.
    pub parent: Option<String>,
    /// The bucket involved.
    pub bucket: Option<String>,
    /// The object key of an S3 request.
    pub key: Option<String>,
    /// The S3 operation name, or the API action.
    pub operation: Option<String>,
    /// The HTTP status answered.
    pub status: Option<u16>,
    /// Body bytes transferred (response body of a read, request body of a write).
    pub bytes: Option<u64>,
    /// The request id (S3's `x-amz-request-id`).
    pub request_id: Option<String>,
    /// The API token that made a management call.
    pub caller: Option<String>,
    /// Kind-specific details as a JSON object (a mint's permission, paths, actions and ttl; a
    /// token's name and permission).
    pub detail: Option<String>,
}

impl AuditEvent {
    /// An event with only the required fields set.
    pub fn new(account: AccountId, time_ms: u64, kind: AuditKind) -> Self {
        Self {
            account,
            time_ms,
            kind,
            credential_id: None,
            parent: None,
            bucket: None,
            key: None,
            operation: None,
            status: None,
            bytes: None,
            request_id: None,
            caller: None,
            detail: None,
        }
    }
}

/// A stored event: the event and its position (for cursors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAuditEvent {
    /// The store's insertion number (unique per store, increasing per writer).
    pub seq: u64,
    /// The event.
    pub event: AuditEvent,
}

/// The filters and page of [`AuditStore::list_audit`]. Every filter is exact; absent ones
/// match everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditQuery {
    /// The account whose events are listed (always required).
    pub account: AccountId,
    /// Only events of this credential id.
    pub credential_id: Option<String>,
    /// Only events of this parent access key id.
    pub parent: Option<String>,
    /// Only events on this bucket.
    pub bucket: Option<String>,
    /// Only events of this kind.
    pub kind: Option<AuditKind>,
    /// Only events at or after this time (ms).
    pub since_ms: Option<u64>,
    /// Only events strictly before this time (ms).
    pub until_ms: Option<u64>,
    /// Page size; the store clamps it to 1..=[`MAX_AUDIT_PAGE`].
    pub limit: usize,
    /// Continue after this position (from [`AuditPage::next`]).
    pub after: Option<AuditCursor>,
}

impl AuditQuery {
    /// Every event of the account, first page of 100.
    pub fn new(account: AccountId) -> Self {
        Self {
            account,
            credential_id: None,
            parent: None,
            bucket: None,
            kind: None,
            since_ms: None,
            until_ms: None,
            limit: 100,
            after: None,
        }
    }

    /// The page size clamped to 1..=[`MAX_AUDIT_PAGE`].
    pub fn clamped_limit(&self) -> usize {
        self.limit.clamp(1, MAX_AUDIT_PAGE)
    }
}

/// Largest page [`AuditStore::list_audit`] returns.
pub const MAX_AUDIT_PAGE: usize = 1000;

/// A position in the newest-first order: the last event of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditCursor {
    /// The event's time.
    pub time_ms: u64,
    /// The event's insertion number.
    pub seq: u64,
}

impl AuditCursor {
    /// The opaque text form: `<time_ms>.<seq>`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.time_ms, self.seq)
    }

    /// Parses [`AuditCursor::encode`]'s output; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let (t, s) = text.split_once('.')?;
        let digits =
            |x: &str| !x.is_empty() && x.len() <= 19 && x.bytes().all(|b| b.is_ascii_digit());
        if !digits(t) || !digits(s) {
            return None;
        }
        Some(Self {
            time_ms: t.parse().ok()?,
            seq: s.parse().ok()?,
        })
    }

    /// The cursor that continues after `e`.
    pub fn after(e: &StoredAuditEvent) -> Self {
        Self {
            time_ms: e.event.time_ms,
            seq: e.seq,
        }
    }
}

/// One page of events, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPage {
    /// The events.
    pub events: Vec<StoredAuditEvent>,
    /// Where the next page starts; `None` when this is the last one.
    pub next: Option<AuditCursor>,
}

/// Audit persistence. Implemented by both metadata stores beside [`crate::MetadataStore`].
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Writes `events` in ONE transaction (all or none).
    async fn append_audit(&self, events: Vec<AuditEvent>) -> Result<(), StoreError>;

    /// A page of the account's events matching the query, newest first.
    async fn list_audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError>;

    /// Deletes every event older than `before_ms` (of every account); returns how many.
    async fn purge_audit(&self, before_ms: u64) -> Result<u64, StoreError>;
}

/// The purge cutoff for a retention of `retention_secs` (`0`: keep forever, `None`) at the
/// clock's current time: events older than the returned millisecond time are purged.
pub fn retention_cutoff(clock: &crate::Clock, retention_secs: u64) -> Option<u64> {
    if retention_secs == 0 {
        return None;
    }
    Some(
        clock
            .now_millis()
            .saturating_sub(retention_secs.saturating_mul(1000)),
    )
}

/// Where handlers push events: a bounded channel, never waited on. Cheap to clone. A disabled
/// sink (audit off) records nothing; [`AuditSink::is_enabled`] lets callers skip building
/// events altogether.
#[derive(Clone, Debug)]
pub struct AuditSink {
    inner: Option<Arc<SinkInner>>,
}

#[derive(Debug)]
struct SinkInner {
    tx: mpsc::Sender<AuditEvent>,
    dropped: Arc<AtomicU64>,
}

/// The writer's end of an [`AuditSink`]: the events, and the count of those dropped because
/// the channel was full. The channel closes once every sink clone is gone.
#[derive(Debug)]
pub struct AuditReceiver {
    /// The queued events.
    pub events: mpsc::Receiver<AuditEvent>,
    dropped: Arc<AtomicU64>,
}

impl AuditReceiver {
    /// Events dropped so far because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl AuditSink {
    /// A sink that records nothing.
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// A sink over a channel of `capacity` events (at least 1), and the receiving end for the
    /// writer.
    pub fn channel(capacity: usize) -> (Self, AuditReceiver) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let inner = SinkInner {
            tx,
            dropped: Arc::clone(&dropped),
        };
        (
            Self {
                inner: Some(Arc::new(inner)),
            },
            AuditReceiver {
                events: rx,
                dropped,
            },
        )
    }

    /// Whether events are recorded at all.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Queues the event without waiting: when the channel is full (or the writer is gone) the
    /// event is dropped and counted. Returns whether it was queued.
    pub fn record(&self, event: AuditEvent) -> bool {
        let Some(inner) = &self.inner else {
            return false;
        };
        match inner.tx.try_send(event) {
            Ok(()) => true,
            Err(_) => {
                inner.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Events dropped so far because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.dropped.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        for k in AuditKind::ALL {
            assert_eq!(AuditKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(AuditKind::parse("S3"), None);
        assert_eq!(AuditKind::parse(""), None);
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = AuditCursor {
            time_ms: 1_750_000_000_123,
            seq: 42,
        };
        assert_eq!(AuditCursor::decode(&c.encode()), Some(c));
        for bad in [
            "",
            ".",
            "1.",
            ".1",
            "1.2.3",
            "a.1",
            "-1.2",
            "99999999999999999999.1",
        ] {
            assert_eq!(AuditCursor::decode(bad), None, "{bad}");
        }
    }

    fn account() -> AccountId {
        AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect("valid")
    }

    #[test]
    fn a_full_sink_drops_and_counts_without_waiting() {
        let (sink, mut rx) = AuditSink::channel(2);
        let e = AuditEvent::new(account(), 1, AuditKind::S3);
        assert!(sink.record(e.clone()));
        assert!(sink.record(e.clone()));
        assert!(!sink.record(e.clone()), "third event does not fit");
        assert_eq!(sink.dropped(), 1);
        assert_eq!(rx.dropped(), 1);
        assert!(rx.events.try_recv().is_ok());
        assert!(sink.record(e), "room again once the writer took one");
        assert_eq!(sink.dropped(), 1);
    }

    #[test]
    fn a_disabled_sink_records_nothing() {
        let sink = AuditSink::disabled();
        assert!(!sink.is_enabled());
        assert!(!sink.record(AuditEvent::new(account(), 1, AuditKind::S3)));
        assert_eq!(sink.dropped(), 0);
    }
}
