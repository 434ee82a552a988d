//! The request body's idle timeout: a client that stops sending mid-body cannot hold a
//! request (and its connection, its blob, its credential) open forever.
//!
//! [`IdleTimeout`] wraps the body before the guard and s3s see it. The clock only runs while
//! the server is waiting for the client: it starts when a read finds no data and stops when
//! data arrives, so a slow blob store never counts against the client. When it runs out the
//! body fails with [`BodyTimedOut`] (so whatever was streaming it, the ingest into a blob or an
//! XML buffer, fails and stores nothing) and the shared flag tells the router to answer S3's
//! `RequestTimeout` whatever code the failed read became on its way out.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error a stalled body fails with.
#[derive(Debug, thiserror::Error)]
#[error("no request body data for {0:?}")]
pub(crate) struct BodyTimedOut(Duration);

/// A body that fails after `limit` without data (see the module docs).
pub(crate) struct IdleTimeout<B> {
    inner: B,
    limit: Duration,
    sleep: Pin<Box<Sleep>>,
    /// True while the last read returned `Pending`: the clock is running.
    waiting: bool,
    fired: Arc<AtomicBool>,
}

impl<B> IdleTimeout<B> {
    /// Wraps `inner`; `fired` is set when the timeout ends the body.
    pub(crate) fn new(inner: B, limit: Duration, fired: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            limit,
            sleep: Box::pin(tokio::time::sleep(limit)),
            waiting: false,
            fired,
        }
    }
}

impl<B> Body for IdleTimeout<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.fired.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.limit)))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    let deadline = Instant::now() + this.limit;
                    this.sleep.as_mut().reset(deadline);
                }
                match this.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.fired.store(true, Ordering::Relaxed);
                        Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.limit)))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_after_the_limit_and_sets_the_flag() {
        let (mut tx, rx) =
            futures::channel::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        let inner = http_body_util::StreamBody::new(rx);
        let fired = Arc::new(AtomicBool::new(false));
        let mut body = IdleTimeout::new(inner, Duration::from_secs(2), Arc::clone(&fired));
        tx.try_send(Ok(Frame::data(Bytes::from_static(b"abc"))))
            .expect("send");
        let first = body.frame().await.expect("frame").expect("data");
        assert_eq!(first.into_data().expect("data"), Bytes::from_static(b"abc"));
        let started = Instant::now();
        let err = body
            .frame()
            .await
            .expect("an error frame")
            .expect_err("timeout");
        assert!(err.is::<BodyTimedOut>(), "{err}");
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert!(fired.load(Ordering::Relaxed));
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_keeps_coming_never_times_out() {
        let (mut tx, rx) =
            futures::channel::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        let fired = Arc::new(AtomicBool::new(false));
        let mut body = IdleTimeout::new(
            http_body_util::StreamBody::new(rx),
            Duration::from_secs(2),
            Arc::clone(&fired),
        );
        let feeder = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                if tx
                    .try_send(Ok(Frame::data(Bytes::from_static(b"x"))))
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut got = 0;
        while let Some(frame) = body.frame().await {
            frame.expect("no timeout while data keeps coming every 1.5 s");
            got += 1;
        }
        assert_eq!(got, 5);
        assert!(!fired.load(Ordering::Relaxed));
        feeder.await.expect("feeder");
    }
}
