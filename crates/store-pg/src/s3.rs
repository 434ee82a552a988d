//! [`S3Blobs`]: blobs as objects `<prefix>/<blob id>` in an upstream S3-compatible bucket
//! (AWS, R2, another Mayfly, MinIO), through `object_store`. Object keys of Mayfly's own
//! clients never reach this module: upstream keys are random blob ids.
//!
//! Writes keep memory flat: a body that ends within [`PART_SIZE`] goes up as one `PutObject`;
//! a longer one as an upstream multipart upload of [`PART_SIZE`] parts, at most
//! [`PARTS_IN_FLIGHT`] of them buffered or uploading at once. An upstream object only exists
//! once its `PutObject` or `CompleteMultipartUpload` succeeded, so a partial blob is never
//! visible; a failed or dropped multipart write is aborted (a crash leaves an incomplete upload
//! that the upstream bucket's lifecycle rule for incomplete uploads should expire).
//! Reads stream, in chunks of at most [`READ_CHUNK`] bytes.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use mayfly_store::{BlobId, BlobStore, BlobWritten, ByteStream, Entity, READ_CHUNK, StoreError};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    ClientOptions, GetOptions, GetRange, MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload,
};

use crate::s3_config::{S3BlobsConfig, S3Credentials};

/// Bytes per upstream multipart part (S3 needs at least 5 MiB for all but the last part).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts buffered or uploading at once per write: memory per write is about
/// `PART_SIZE * PARTS_IN_FLIGHT`, whatever the blob size.
pub const PARTS_IN_FLIGHT: usize = 2;

/// Blob store over an upstream S3 bucket. Cheap to clone.
#[derive(Clone)]
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
}

impl fmt::Debug for S3Blobs {
    // By hand: the client's own Debug would walk into its credential provider.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Blobs")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Maps an upstream error: a missing object is `NotFound(Blob)`, anything else a backend
/// error whose detail is for logs (object_store never prints credentials).
fn upstream(err: object_store::Error) -> StoreError {
    if matches!(err, object_store::Error::NotFound { .. }) {
        StoreError::NotFound(Entity::Blob)
    } else {
        StoreError::backend(format_args!("upstream s3: {err}"))
    }
}

/// Aborts a multipart upload that did not complete, including when the write future is
/// dropped mid-way (the abort then runs as a detached task).
struct PendingUpload {
    upload: Option<Box<dyn MultipartUpload>>,
}

impl PendingUpload {
    fn get(&mut self) -> Result<&mut Box<dyn MultipartUpload>, StoreError> {
        self.upload
            .as_mut()
            .ok_or_else(|| StoreError::Backend("multipart upload already finished".to_owned()))
    }

    async fn abort(&mut self) {
        if let Some(mut upload) = self.upload.take() {
            // Best effort: a leftover incomplete upload holds no visible blob.
            let _ = upload.abort().await;
        }
    }
}

impl Drop for PendingUpload {
    fn drop(&mut self) {
        if let Some(mut upload) = self.upload.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(async move {
                let _ = upload.abort().await;
            });
        }
    }
}

/// Splits `chunk` into pieces of at most [`READ_CHUNK`] bytes (no copy).
fn rechunk(chunk: Bytes) -> impl Iterator<Item = Bytes> {
    let len = chunk.len();
    (0..len)
        .step_by(READ_CHUNK)
        .map(move |at| chunk.slice(at..(at + READ_CHUNK).min(len)))
}

impl S3Blobs {
    /// A blob store in `config`'s bucket and prefix. Makes no request: a wrong endpoint or
    /// credentials show up on first use (call [`S3Blobs::check`] at startup to fail fast).
    pub fn new(config: &S3BlobsConfig, credentials: &S3Credentials) -> Result<Self, StoreError> {
        let client = ClientOptions::new()
            .with_allow_http(config.allows_http())
            // Bodies stream for as long as they need; a dead peer is caught by the connect
            // timeout and by object_store's retry timeout on requests.
            .with_timeout_disabled()
            .with_connect_timeout(Duration::from_secs(10));
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(credentials.access_key_id())
            // The one place the secret leaves S3Credentials: the request signer.
            .with_secret_access_key(credentials.expose_secret())
            .with_virtual_hosted_style_request(config.virtual_hosted)
            .with_client_options(client);
        if let Some(token) = credentials.session_token() {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let store = builder
            .build()
            .map_err(|err| StoreError::backend(format_args!("upstream s3 config: {err}")))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: config.bucket.clone(),
            prefix: config.prefix.clone(),
        })
    }

    /// Lists one page of the prefix: proves the endpoint, bucket and credentials work.
    pub async fn check(&self) -> Result<(), StoreError> {
        let prefix = self.prefix_path();
        self.store
            .list_with_delimiter(prefix.as_ref())
            .await
            .map(|_| ())
            .map_err(upstream)
    }

    fn prefix_path(&self) -> Option<Path> {
        (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()))
    }

    fn path(&self, id: &BlobId) -> Path {
        if self.prefix.is_empty() {
            Path::from(id.as_str())
        } else {
            Path::from(format!("{}/{}", self.prefix, id.as_str()))
        }
    }

    /// Uploads `first` (exactly [`PART_SIZE`] or more bytes, already read) and the rest of
    /// `body` as a multipart upload; returns the total size.
    async fn write_multipart(
        &self,
        path: &Path,
        first: Vec<Bytes>,
        mut body: ByteStream,
    ) -> Result<u64, StoreError> {
        let mut pending = PendingUpload {
            upload: Some(self.store.put_multipart(path).await.map_err(upstream)?),
        };
        let result = async {
            let mut in_flight = VecDeque::new();
            let mut size: u64 = first.iter().map(|c| c.len() as u64).sum();
            in_flight.push_back(pending.get()?.put_part(PutPayload::from_iter(first)));
            let mut buffer: Vec<Bytes> = Vec::new();
            let mut buffered = 0usize;
            loop {
                let next = body.next().await.transpose().map_err(StoreError::Body)?;
                let done = next.is_none();
                if let Some(chunk) = next {
                    size += chunk.len() as u64;
                    buffered += chunk.len();
                    buffer.push(chunk);
                }
                if buffered >= PART_SIZE || (done && buffered > 0) {
                    while in_flight.len() >= PARTS_IN_FLIGHT {
                        if let Some(part) = in_flight.pop_front() {
                            part.await.map_err(upstream)?;
                        }
                    }
                    let payload = PutPayload::from_iter(std::mem::take(&mut buffer));
                    buffered = 0;
                    in_flight.push_back(pending.get()?.put_part(payload));
                }
                if done {
                    break;
                }
            }
            for part in in_flight {
                part.await.map_err(upstream)?;
            }
            pending.get()?.complete().await.map_err(upstream)?;
            Ok(size)
        }
        .await;
        match result {
            Ok(size) => {
                pending.upload = None;
                Ok(size)
            }
            Err(err) => {
                pending.abort().await;
                Err(err)
            }
        }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn write(&self, mut body: ByteStream) -> Result<BlobWritten, StoreError> {
        let id = BlobId::random();
        let path = self.path(&id);
        let mut first: Vec<Bytes> = Vec::new();
        let mut buffered = 0usize;
        while buffered < PART_SIZE {
            match body.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(StoreError::Body)?;
                    buffered += chunk.len();
                    first.push(chunk);
                }
                None => {
                    // The whole body fits in one part: one PutObject, atomic upstream.
                    let payload = PutPayload::from_iter(first);
                    self.store.put(&path, payload).await.map_err(upstream)?;
                    return Ok(BlobWritten {
                        id,
                        size: buffered as u64,
                    });
                }
            }
        }
        let size = self.write_multipart(&path, first, body).await?;
        Ok(BlobWritten { id, size })
    }

    async fn read(&self, id: &BlobId, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        let path = self.path(id);
        let options = match range {
            None => GetOptions::default(),
            Some(range) => {
                // S3 clamps a range past the end and cannot express an empty one: check the
                // size first so InvalidRange and empty ranges behave as on every store.
                let size = self.size(id).await?;
                if range.start > range.end || range.end > size {
                    return Err(StoreError::InvalidRange);
                }
                if range.start == range.end {
                    return Ok(Box::pin(stream::empty()));
                }
                GetOptions {
                    range: Some(GetRange::Bounded(range)),
                    ..GetOptions::default()
                }
            }
        };
        let result = self
            .store
            .get_opts(&path, options)
            .await
            .map_err(upstream)?;
        let chunks = result
            .into_stream()
            .map_err(io::Error::other)
            .map_ok(|chunk| stream::iter(rechunk(chunk).map(Ok::<_, io::Error>)))
            .try_flatten();
        Ok(Box::pin(chunks))
    }

    async fn size(&self, id: &BlobId) -> Result<u64, StoreError> {
        let meta = self.store.head(&self.path(id)).await.map_err(upstream)?;
        Ok(meta.size)
    }

    async fn delete(&self, id: &BlobId) -> Result<(), StoreError> {
        match self.store.delete(&self.path(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(upstream(err)),
        }
    }

    async fn list_blobs(&self, written_before: u64) -> Result<Vec<BlobId>, StoreError> {
        let prefix = self.prefix_path();
        let mut listing = self.store.list(prefix.as_ref());
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(upstream)?;
            // Only `<prefix>/<blob id>`: anything else sharing the prefix is not ours.
            let Some(id) = meta.location.filename().and_then(|n| BlobId::parse(n).ok()) else {
                continue;
            };
            if meta.location != self.path(&id) {
                continue;
            }
            let written = u64::try_from(meta.last_modified.timestamp()).unwrap_or(0);
            if written < written_before {
                out.push(id);
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rechunk_bounds_every_piece() {
        let data = Bytes::from(vec![7u8; READ_CHUNK * 2 + 5]);
        let sizes: Vec<usize> = rechunk(data).map(|b| b.len()).collect();
        assert_eq!(sizes, [READ_CHUNK, READ_CHUNK, 5]);
        assert_eq!(rechunk(Bytes::new()).count(), 0);
    }
}
