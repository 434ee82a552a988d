//! Keeps s3s's verbose logs away from the log sink.
//!
//! s3s 0.14 logs the whole request (`debug!(?req)`, Authorization header and session token
//! included), computed and expected signatures on mismatch, and aws-chunked trailers. Those
//! events must never reach a log, whatever filter the operator configures (`RUST_LOG=debug`
//! included). Every request is therefore served under a dispatcher that forwards to the
//! process's own subscriber but drops every s3s event and span below `WARN`. s3s's `WARN` and
//! `ERROR` events carry only S3 error codes and messages, which hold no secret.

use std::sync::OnceLock;

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Level, Metadata, Subscriber};

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

/// True for events and spans that must not be forwarded.
pub(crate) fn is_muted(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    (target == "s3s" || target.starts_with("s3s::")) && *meta.level() > Level::WARN
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
