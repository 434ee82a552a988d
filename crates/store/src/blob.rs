//! [`BlobStore`]: durable, opaque byte blobs addressed by random [`BlobId`]s, streamed in and
//! out with flat memory. Also [`read_object`], which streams an object's bytes (one blob or
//! its parts in order) for an optional byte range.
//!
//! Blobs know nothing of keys or buckets. A blob whose metadata commit never happened (crash,
//! failed commit the caller did not clean up) is an orphan; [`crate::gc::collect_orphans`]
//! finds them with [`BlobStore::list_blobs`] and [`crate::MetadataStore::blob_referenced`].

use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use futures_util::{StreamExt, TryStreamExt, stream};

use crate::error::StoreError;
use crate::ids::BlobId;
use crate::records::BlobRef;

/// A boxed stream of byte chunks, as blobs are written and read.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send + 'static>>;

/// Largest chunk a [`BlobStore::read`] stream yields. Readers keep memory flat whatever the size.
pub const READ_CHUNK: usize = 64 * 1024;

/// A blob that has been durably written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobWritten {
    /// Its id.
    pub id: BlobId,
    /// Bytes written.
    pub size: u64,
}

/// Blob persistence. Object-safe; servers hold it as `Arc<dyn BlobStore>`.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Writes `body` to a new blob under a fresh random id. When this returns `Ok`, the blob is
    /// durable (local store: temp file, write, fsync, rename, fsync directory) and readable.
    /// Partially written data is never visible under a blob id: on any error (including
    /// [`StoreError::Body`] when `body` itself fails) nothing is left behind.
    async fn write(&self, body: ByteStream) -> Result<BlobWritten, StoreError>;

    /// Streams the blob, or the half-open byte `range` of it, in chunks of at most
    /// [`READ_CHUNK`] bytes. `NotFound(Blob)` if absent; `InvalidRange` unless
    /// `range.start <= range.end <= size`.
    async fn read(&self, id: &BlobId, range: Option<Range<u64>>) -> Result<ByteStream, StoreError>;

    /// The blob's size. `NotFound(Blob)` if absent.
    async fn size(&self, id: &BlobId) -> Result<u64, StoreError>;

    /// Deletes the blob. Idempotent: deleting an absent blob succeeds. Streams already opened
    /// on the blob may still finish (POSIX unlink semantics on the local store).
    async fn delete(&self, id: &BlobId) -> Result<(), StoreError>;

    /// Ids of blobs last written before `written_before` (epoch seconds), for orphan
    /// collection. Blobs still being written are never listed.
    async fn list_blobs(&self, written_before: u64) -> Result<Vec<BlobId>, StoreError>;
}

/// Streams an object's bytes: the whole object, or the absolute half-open `range` of it
/// (already resolved against the object size by the caller). For multipart objects the parts'
/// blobs are read one after the other; the first blob is opened before this returns so a
/// missing blob is an error here rather than mid-body, later ones are opened lazily.
pub async fn read_object(
    blobs: Arc<dyn BlobStore>,
    blob: &BlobRef,
    range: Option<Range<u64>>,
) -> Result<ByteStream, StoreError> {
    let parts = match blob {
        BlobRef::Single(id) => return blobs.read(id, range).await,
        BlobRef::Parts(parts) => parts,
    };
    let total: u64 = parts.iter().map(|p| p.size).sum();
    let range = range.unwrap_or(0..total);
    if range.start > range.end || range.end > total {
        return Err(StoreError::InvalidRange);
    }
    // Slice the range over the parts: (blob, range within the blob), skipping empty slices.
    let mut segments = Vec::new();
    let mut offset = 0u64;
    for part in parts {
        let (start, end) = (offset, offset + part.size);
        offset = end;
        let lo = range.start.max(start);
        let hi = range.end.min(end);
        if lo < hi {
            segments.push((part.blob.clone(), (lo - start)..(hi - start)));
        }
    }
    let mut segments = segments.into_iter();
    let Some((first_id, first_range)) = segments.next() else {
        return Ok(Box::pin(stream::empty()));
    };
    let first = blobs.read(&first_id, Some(first_range)).await?;
    let rest = stream::iter(segments)
        .then(move |(id, r)| {
            let blobs = Arc::clone(&blobs);
            async move { blobs.read(&id, Some(r)).await.map_err(io::Error::other) }
        })
        .try_flatten();
    Ok(Box::pin(first.chain(rest)))
}

/// A [`ByteStream`] of the half-open `range` of in-memory bytes (all of them for `None`), as
/// one chunk: how a store serves a blob it keeps in memory or in its database.
/// [`StoreError::InvalidRange`] if the range does not fit.
pub fn slice_stream(data: Bytes, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
    let size = data.len() as u64;
    let range = range.unwrap_or(0..size);
    if range.start > range.end || range.end > size {
        return Err(StoreError::InvalidRange);
    }
    let (start, end) = (
        usize::try_from(range.start).map_err(|_| StoreError::InvalidRange)?,
        usize::try_from(range.end).map_err(|_| StoreError::InvalidRange)?,
    );
    let chunk = (start < end).then(|| Ok(data.slice(start..end)));
    Ok(Box::pin(stream::iter(chunk)))
}

/// A [`ByteStream`] over in-memory bytes, split into chunks of `chunk` bytes (tests, small bodies).
pub fn bytes_stream(data: impl Into<Bytes>, chunk: usize) -> ByteStream {
    let data: Bytes = data.into();
    let chunk = chunk.max(1);
    let chunks: Vec<Result<Bytes, io::Error>> = (0..data.len())
        .step_by(chunk)
        .map(|at| Ok(data.slice(at..(at + chunk).min(data.len()))))
        .collect();
    Box::pin(stream::iter(chunks))
}

/// Collects a [`ByteStream`] into memory (tests and small bodies only).
pub async fn collect_stream(mut body: ByteStream) -> Result<Vec<u8>, io::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}
