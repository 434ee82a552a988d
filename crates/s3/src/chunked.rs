//! A pass-through guard over an `aws-chunked` request body.
//!
//! s3s 0.14 decodes aws-chunked bodies by buffering each whole chunk in memory before it
//! verifies the chunk signature, and a chunk may declare any size: one request could make
//! the server hold gigabytes. This adapter runs *before* s3s on the raw bytes, tracks the
//! chunk framing, and fails the body as soon as a chunk header announces more than
//! [`crate::Limits::max_aws_chunk`] bytes. It never changes the bytes it forwards; s3s still
//! does all parsing and signature checks.
//!
//! It also holds the chunks to `x-amz-decoded-content-length`: s3s 0.14 only compares the
//! decoded body with that header when the request has a `Content-Length` (which it rewrites),
//! and the SDKs send aws-chunked bodies with `Transfer-Encoding: chunked` instead, so a lying
//! decoded length would otherwise be stored as if true. The chunk sizes must add up to it
//! exactly, and a body that ends before its final zero-size chunk is incomplete.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

/// Longest chunk header line (`hex-size;chunk-signature=<64 hex>\r\n` is ~90 bytes).
const MAX_HEADER_LINE: usize = 4096;

/// Why the guard stopped a body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ChunkGuardError {
    /// A chunk announced more bytes than the limit.
    #[error("aws-chunked chunk larger than {limit} bytes")]
    ChunkTooLarge { limit: u64 },
    /// The chunk header is not `hex-size[;ext]\r\n`, the chunk sizes do not add up to the
    /// declared decoded length, or the body ends before its final chunk.
    #[error("malformed aws-chunked framing")]
    Malformed,
    /// The underlying body failed.
    #[error("request body: {0}")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
}

enum State {
    /// Collecting a chunk header line.
    Header(Vec<u8>),
    /// Skipping chunk data plus its trailing CRLF.
    Data(u64),
    /// After the final zero-size chunk: trailers, bounded by s3s itself.
    Trailer,
    Failed,
}

pub(crate) struct ChunkGuard<S> {
    inner: S,
    state: State,
    limit: u64,
    /// `x-amz-decoded-content-length`, when the chunk sizes are held to it.
    decoded: Option<u64>,
    /// Sum of the chunk sizes announced so far.
    announced: u64,
}

impl<S> ChunkGuard<S> {
    pub(crate) fn new(inner: S, limit: u64) -> Self {
        Self {
            inner,
            state: State::Header(Vec::new()),
            limit,
            decoded: None,
            announced: 0,
        }
    }

    /// Holds the chunk sizes to the declared decoded length: they must add up to exactly it.
    pub(crate) fn with_decoded_length(mut self, decoded: u64) -> Self {
        self.decoded = Some(decoded);
        self
    }

    fn scan(&mut self, mut data: &[u8]) -> Result<(), ChunkGuardError> {
        while !data.is_empty() {
            match &mut self.state {
                State::Header(line) => {
                    let (take, done) = match memchr_nl(data) {
                        Some(i) => (i + 1, true),
                        None => (data.len(), false),
                    };
                    if line.len() + take > MAX_HEADER_LINE {
                        return Err(ChunkGuardError::Malformed);
                    }
                    line.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if done {
                        let size = parse_size(line)?;
                        if size > self.limit {
                            return Err(ChunkGuardError::ChunkTooLarge { limit: self.limit });
                        }
                        self.announced = self.announced.saturating_add(size);
                        if let Some(d) = self.decoded
                            && (self.announced > d || (size == 0 && self.announced != d))
                        {
                            return Err(ChunkGuardError::Malformed);
                        }
                        self.state = if size == 0 {
                            State::Trailer
                        } else {
                            State::Data(size + 2)
                        };
                    }
                }
                State::Data(rest) => {
                    let n = (*rest).min(data.len() as u64);
                    *rest -= n;
                    // n <= data.len(), so the cast cannot truncate.
                    data = &data[usize::try_from(n).unwrap_or(data.len())..];
                    if *rest == 0 {
                        self.state = State::Header(Vec::new());
                    }
                }
                State::Trailer | State::Failed => return Ok(()),
            }
        }
        Ok(())
    }
}

fn memchr_nl(data: &[u8]) -> Option<usize> {
    data.iter().position(|&b| b == b'\n')
}

fn parse_size(line: &[u8]) -> Result<u64, ChunkGuardError> {
    let end = line
        .iter()
        .position(|&b| b == b';' || b == b'\r' || b == b'\n')
        .unwrap_or(line.len());
    let hex = &line[..end];
    if hex.is_empty() || hex.len() > 16 {
        return Err(ChunkGuardError::Malformed);
    }
    let s = std::str::from_utf8(hex).map_err(|_| ChunkGuardError::Malformed)?;
    u64::from_str_radix(s, 16).map_err(|_| ChunkGuardError::Malformed)
}

impl<S, E> Stream for ChunkGuard<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Item = Result<Bytes, ChunkGuardError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if matches!(self.state, State::Failed) {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => match self.scan(&bytes) {
                Ok(()) => Poll::Ready(Some(Ok(bytes))),
                Err(e) => {
                    self.state = State::Failed;
                    Poll::Ready(Some(Err(e)))
                }
            },
            Poll::Ready(Some(Err(e))) => {
                self.state = State::Failed;
                Poll::Ready(Some(Err(ChunkGuardError::Body(e.into()))))
            }
            Poll::Ready(None) => {
                if matches!(self.state, State::Trailer) {
                    Poll::Ready(None)
                } else {
                    // The body ended before its final zero-size chunk.
                    self.state = State::Failed;
                    Poll::Ready(Some(Err(ChunkGuardError::Malformed)))
                }
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    async fn run(parts: Vec<&'static [u8]>, limit: u64) -> Result<Vec<u8>, ChunkGuardError> {
        let inner = futures::stream::iter(
            parts
                .into_iter()
                .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p))),
        );
        let mut g = ChunkGuard::new(inner, limit);
        let mut out = Vec::new();
        while let Some(item) = g.next().await {
            out.extend_from_slice(&item?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn passes_real_client_framing_unchanged_across_split_boundaries() {
        // The JS SDK capture: HTTP chunk boundaries do not align with aws-chunks.
        let body: &[&'static [u8]] = &[
            b"6\r\nhel",
            b"lo \r\n5",
            b"\r\nworld\r",
            b"\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
        ];
        let out = run(body.to_vec(), 16).await.expect("ok");
        assert_eq!(out, body.concat());
    }

    #[tokio::test]
    async fn oversized_chunk_header_fails_before_the_data_arrives() {
        let err = run(
            vec![b"4000001;chunk-signature=00\r\n"],
            64 * 1024 * 1024 / 16,
        )
        .await;
        assert!(matches!(err, Err(ChunkGuardError::ChunkTooLarge { .. })));
    }

    async fn run_declared(
        parts: Vec<&'static [u8]>,
        decoded: u64,
    ) -> Result<Vec<u8>, ChunkGuardError> {
        let inner = futures::stream::iter(
            parts
                .into_iter()
                .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p))),
        );
        let mut g = ChunkGuard::new(inner, 64).with_decoded_length(decoded);
        let mut out = Vec::new();
        while let Some(item) = g.next().await {
            out.extend_from_slice(&item?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn chunk_sizes_must_add_up_to_the_decoded_length() {
        let body: &[&'static [u8]] = &[b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"];
        assert!(run_declared(body.to_vec(), 11).await.is_ok());
        for lie in [0, 10, 12, 1 << 40] {
            assert!(
                matches!(
                    run_declared(body.to_vec(), lie).await,
                    Err(ChunkGuardError::Malformed)
                ),
                "decoded length {lie}"
            );
        }
        // Refused as soon as a chunk header passes the declared length, before its data.
        let err = run_declared(vec![b"6\r\nhello \r\n", b"40\r\n"], 11).await;
        assert!(matches!(err, Err(ChunkGuardError::Malformed)));
    }

    #[tokio::test]
    async fn a_body_without_its_final_chunk_is_incomplete() {
        for parts in [
            vec![],
            vec![&b"6\r\nhello \r\n"[..]],
            vec![&b"6\r\nhel"[..]],
            vec![&b"6\r\nhello \r\n5"[..]],
        ] {
            assert!(
                matches!(
                    run(parts.clone(), 64).await,
                    Err(ChunkGuardError::Malformed)
                ),
                "{parts:?}"
            );
        }
    }

    #[tokio::test]
    async fn garbage_framing_is_refused() {
        assert!(matches!(
            run(vec![b"zz\r\n"], 16).await,
            Err(ChunkGuardError::Malformed)
        ));
        let long = Box::leak(vec![b'1'; 5000].into_boxed_slice());
        assert!(matches!(
            run(vec![long], 16).await,
            Err(ChunkGuardError::Malformed)
        ));
    }
}
