//! What the S3 endpoint writes to the log: one line per request, and nothing from s3s.
//!
//! s3s 0.14 logs the whole request (`debug!(?req)`, Authorization header and session token
//! included), computed and expected signatures on mismatch, aws-chunked trailers, XML bodies it
//! could not parse, and an ERROR line for every error it answers (two for a 403, three for a
//! 501). None of that may reach the log, whatever filter the operator configures
//! (`RUST_LOG=debug` included). Every request is therefore served under [`QuietDispatch`], which
//! forwards to the process's own subscriber but drops every s3s event and span.
//!
//! In their place each request gets [`RequestLog`]: a request id (also sent as
//! `x-amz-request-id` and in every error body's `<RequestId>`), and the notes the adapters make
//! while serving it (the operation, who signed, why it was refused). [`RequestLog::emit`]
//! writes the one line: INFO for success and ordinary refusals, WARN for unsupported operations
//! and malformed requests, ERROR only for 5xx. No line holds a secret, a signature or a session
//! token: the fields are the method, the path (never the query, which may carry
//! `X-Amz-Signature` or `X-Amz-Security-Token`), the access key id, the status, the S3 code and
//! a reason chosen from fixed texts.
//!
//! The same place feeds the audit trail (issue 15, a Mayfly extension): a request whose
//! temporary credential got through signature verification to the access gate (allowed or
//! denied there) also becomes one `s3` event — credential id, parent, bucket, key, operation,
//! status, body bytes, request id — pushed into the state's [`AuditSink`] without waiting.
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use mayfly_core::{AccountId, BucketName};
use mayfly_store::{AuditEvent, AuditKind, AuditSink, Clock};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};

/// The filtering dispatcher, built on first use from the then-current default subscriber.
#[derive(Default)]
pub(crate) struct QuietDispatch {
    cell: OnceLock<Dispatch>,
}

impl QuietDispatch {
    pub(crate) fn get(&self) -> Dispatch {
        self.cell
            .get_or_init(|| {
                let inner = tracing::dispatcher::get_default(Dispatch::clone);
                Dispatch::new(QuietS3s { inner })
            })
            .clone()
    }
}

struct QuietS3s {
    inner: Dispatch,
}

/// True for events and spans that must not be forwarded: everything s3s says. Its debug
/// output holds secrets; its errors are restated, once, by the request's own line.
pub(crate) fn is_muted(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    target == "s3s" || target.starts_with("s3s::")
}

impl Subscriber for QuietS3s {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_muted(meta) {
            Interest::never()
        } else {
            self.inner.register_callsite(meta)
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        !is_muted(meta) && self.inner.enabled(meta)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows);
    }

    fn event_enabled(&self, event: &Event<'_>) -> bool {
        !is_muted(event.metadata())
    }

    fn event(&self, event: &Event<'_>) {
        if !is_muted(event.metadata()) {
            self.inner.event(event);
        }
    }

    fn enter(&self, span: &Id) {
        self.inner.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.inner.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }

    fn current_span(&self) -> tracing_core::span::Current {
        self.inner.current_span()
    }
}

tokio::task_local! {
    static LINE: Arc<RequestLog>;
}

/// Who signed, as far as the auth adapter got: it explains a `SignatureDoesNotMatch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signer {
    /// A long-lived token's secret, no session token sent.
    TokenKey,
    /// A temporary credential's derived secret.
    Temporary,
}

#[derive(Default)]
struct Notes {
    op: Option<String>,
    access_key: Option<String>,
    signer: Option<Signer>,
    credential: Option<mayfly_core::CredentialId>,
    reason: Option<Cow<'static, str>>,
    /// Set (by the access gate) only for a temporary credential: whose audit gets the event.
    audit_account: Option<AccountId>,
    bucket: Option<String>,
    key: Option<String>,
}

/// One request's id and the notes for its log line (see the module docs).
pub(crate) struct RequestLog {
    id: String,
    notes: Mutex<Notes>,
}

/// The operation s3s resolved (noted by the access gate).
pub(crate) fn note_op(name: &str) {
    with_notes(|n| n.op = Some(name.to_owned()));
}

/// The access key id and what kind of secret the auth adapter handed to s3s.
pub(crate) fn note_signer(access_key: &str, signer: Signer) {
    with_notes(|n| {
        n.access_key = Some(access_key.to_owned());
        n.signer = Some(signer);
    });
}

/// The id of the temporary credential the request claims (named in the line so an operator
/// can follow one credential; it reveals nothing about the credential's secret).
pub(crate) fn note_credential(id: &mayfly_core::CredentialId) {
    with_notes(|n| n.credential = Some(id.clone()));
}

/// What a request with a verified identity is about, noted by the access gate before it
/// decides: `audit_account` is the account of a temporary credential, whose requests become
/// audit events there (`None` for long-lived keys, whose requests are not audited).
pub(crate) fn note_target(
    audit_account: Option<&mayfly_core::AccountId>,
    bucket: Option<&BucketName>,
    key: Option<&str>,
) {
    if let Some(account) = audit_account {
        with_notes(|n| {
            n.audit_account = Some(account.clone());
            n.bucket = bucket.map(|b| b.as_str().to_owned());
            n.key = key.map(str::to_owned);
        });
    }
}

/// Why the request was refused. The first reason noted wins: it is the cause, later ones are
/// consequences.
pub(crate) fn note_reason(reason: impl Into<Cow<'static, str>>) {
    with_notes(|n| {
        if n.reason.is_none() {
            n.reason = Some(reason.into());
        }
    });
}

fn with_notes(f: impl FnOnce(&mut Notes)) {
    let _ = LINE.try_with(|line| {
        if let Ok(mut notes) = line.notes.lock() {
            f(&mut notes);
        }
    });
}

/// A new request id: 16 upper-case hex digits, as AWS's `x-amz-request-id`. A bijection of a
/// per-process counter keyed by a random seed: unique within the process, and a collision
/// between nodes needs two 64-bit values to meet.
fn next_id() -> String {
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let mut b = [0u8; 8];
        // Without OS randomness ids are still unique per process; only cross-node
        // uniqueness weakens.
        let _ = getrandom::fill(&mut b);
        u64::from_le_bytes(b)
    });
    // SplitMix64's finaliser: invertible, so distinct inputs give distinct ids.
    let mut z = seed.wrapping_add(COUNTER.fetch_add(1, Ordering::Relaxed));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    format!("{z:016X}")
}

/// What the response said, for the line.
pub(crate) struct Outcome<'a> {
    pub(crate) status: http::StatusCode,
    /// The S3 `<Code>` of an error.
    pub(crate) code: Option<&'a str>,
    /// The S3 `<Message>` of an error (fixed texts, never request data).
    pub(crate) message: Option<&'a str>,
    /// When the request arrived.
    pub(crate) started: std::time::Instant,
    /// Body bytes transferred: the response's for a read, the request's for a write.
    pub(crate) bytes: Option<u64>,
    /// Where the audit event goes, and the clock that stamps it.
    pub(crate) audit: &'a AuditSink,
    pub(crate) clock: &'a Clock,
}

impl RequestLog {
    /// A fresh log for a new request.
    pub(crate) fn new() -> Self {
        Self {
            id: next_id(),
            notes: Mutex::new(Notes::default()),
        }
    }

    /// The request id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Runs `fut` with this log installed for the `note_*` functions.
    pub(crate) async fn scope<F: Future>(self: Arc<Self>, fut: F) -> F::Output {
        LINE.scope(self, fut).await
    }

    /// Writes the request's one line.
    pub(crate) fn emit(&self, method: &http::Method, path: &str, out: &Outcome<'_>) {
        let notes = self
            .notes
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default();
        let status = out.status.as_u16();
        let code = out.code.unwrap_or("");
        let reason: Cow<'static, str> = match (notes.reason, out.code) {
            (Some(r), _) => r,
            (None, Some("SignatureDoesNotMatch")) => signature_reason(notes.signer).into(),
            (None, Some(_)) => out.message.unwrap_or("").to_owned().into(),
            (None, None) => "".into(),
        };
        let op = notes.op.as_deref().unwrap_or("");
        let key = notes.access_key.as_deref().unwrap_or("");
        let credential = notes.credential.as_ref().map_or("", |c| c.as_str());
        let id = self.id.as_str();
        let latency_ms = out.started.elapsed().as_secs_f64() * 1000.0;
        macro_rules! line {
            ($level:ident, $msg:literal) => {
                tracing::$level!(
                    target: "mayfly_s3::request",
                    request_id = id,
                    %method,
                    path,
                    op,
                    access_key = key,
                    credential_id = credential,
                    status,
                    code,
                    reason = %reason,
                    latency_ms,
                    $msg
                )
            };
        }
        match level_of(out.status, code) {
            Level::Info if status < 400 => line!(info, "s3 request served"),
            Level::Info => line!(info, "s3 request refused"),
            Level::Warn => line!(warn, "s3 request refused"),
            Level::Error => line!(error, "s3 request failed"),
        }
        if let (Some(account), true) = (notes.audit_account, out.audit.is_enabled()) {
            let mut e = AuditEvent::new(account, out.clock.now_millis(), AuditKind::S3);
            e.credential_id = notes.credential.map(|c| c.as_str().to_owned());
            e.parent = notes.access_key;
            e.bucket = notes.bucket;
            e.key = notes.key;
            e.operation = notes.op;
            e.status = Some(status);
            e.bytes = out.bytes;
            e.request_id = Some(self.id.clone());
            // Never waits: a full channel drops the event and counts it.
            out.audit.record(e);
        }
    }
}

enum Level {
    Info,
    Warn,
    Error,
}

/// INFO for success and for the refusals a working deployment answers every day (denials,
/// expiry, missing objects, preconditions); WARN for what a client or operator should look at
/// (unsupported operations, malformed or timed-out requests); ERROR only for server faults.
fn level_of(status: http::StatusCode, code: &str) -> Level {
    if status.is_server_error() && status != http::StatusCode::NOT_IMPLEMENTED {
        return Level::Error;
    }
    if status.as_u16() < 400 {
        return Level::Info;
    }
    match code {
        "AccessDenied"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "Unauthorized"
        | "InvalidAccessKeyId"
        | "NoSuchKey"
        | "NoSuchBucket"
        | "NoSuchUpload"
        | "NoSuchCORSConfiguration"
        | "NoSuchLifecycleConfiguration"
        | "PreconditionFailed"
        | "BucketAlreadyOwnedByYou"
        | "BucketNotEmpty"
        | "InvalidRange"
        | "NotModified" => Level::Info,
        _ if status == http::StatusCode::NOT_FOUND || status.as_u16() == 304 => Level::Info,
        _ => Level::Warn,
    }
}

/// Why a signature did not match, from what the auth adapter saw. The message never says which
/// secret was tried, only what kind.
fn signature_reason(signer: Option<Signer>) -> &'static str {
    match signer {
        Some(Signer::TokenKey) => {
            "signature mismatch: not signed with the token's secret, and no session token was sent (a temporary credential must send X-Amz-Security-Token)"
        }
        Some(Signer::Temporary) => {
            "signature mismatch: not signed with the temporary credential's secret (wrong secret, or a session token of another credential)"
        }
        None => "signature mismatch",
    }
}
