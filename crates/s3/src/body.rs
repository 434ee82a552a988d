//! Streaming ingest of request bodies into the blob store, with size caps and checksums.
//!
//! Bytes flow from s3s (already signature-checked per chunk where the mode signs chunks) through
//! a hashing adapter into [`mayfly_store::BlobStore::write`]; memory stays flat. At end of
//! stream the adapter compares the MD5 with `Content-MD5` and every client checksum (headers and
//! aws-chunked trailers: CRC32, CRC32C, CRC64NVME, SHA1, SHA256) and fails the stream on any
//! mismatch, so the blob store discards the bytes and nothing becomes visible.
//!
//! A PUT whose declared length fits the metadata store's own inline bodies
//! (`MetadataStore::inline_body_limit`) is verified the same way into memory
//! ([`ingest_small`]) and committed with its record in one transaction: one group commit per
//! small PUT instead of two (blob, then record).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures::StreamExt;
use mayfly_store::{BlobId, BlobStore, ChecksumAlgorithm, Checksums, StoreError};
use s3s::checksum::ChecksumHasher;
use s3s::crypto::Checksum as _;
use s3s::dto::StreamingBlob;
use s3s::{S3Result, TrailingHeaders};

use crate::error::Failure;
pub(crate) use crate::error::IngestError;

/// What the client said the body should hash to.
#[derive(Default)]
pub(crate) struct Expected {
    /// `Content-MD5`, base64.
    pub(crate) content_md5: Option<String>,
    /// `x-amz-checksum-*` headers.
    pub(crate) checksums: Vec<(ChecksumAlgorithm, String)>,
    /// `x-amz-trailer: x-amz-checksum-*` and the handle s3s fills at end of body.
    pub(crate) trailer: Option<(ChecksumAlgorithm, TrailingHeaders)>,
    /// `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm`: compute and store it.
    pub(crate) algorithm: Option<ChecksumAlgorithm>,
}

/// A body that has been durably written and verified.
#[derive(Debug)]
pub(crate) struct Ingested {
    pub(crate) blob: BlobId,
    pub(crate) size: u64,
    pub(crate) md5_hex: String,
    pub(crate) checksums: Checksums,
}

pub(crate) fn algorithm_from_name(name: &str) -> Option<ChecksumAlgorithm> {
    ChecksumAlgorithm::parse(&name.to_ascii_uppercase()).ok()
}

pub(crate) fn header_name(alg: ChecksumAlgorithm) -> &'static str {
    match alg {
        ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
        ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
        ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
        ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
        ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
    }
}

fn hasher_for(algs: &[ChecksumAlgorithm]) -> ChecksumHasher {
    let mut h = ChecksumHasher::default();
    for a in algs {
        match a {
            ChecksumAlgorithm::Crc32 => h.crc32 = Some(s3s::crypto::Crc32::new()),
            ChecksumAlgorithm::Crc32c => h.crc32c = Some(s3s::crypto::Crc32c::new()),
            ChecksumAlgorithm::Crc64Nvme => h.crc64nvme = Some(s3s::crypto::Crc64Nvme::new()),
            ChecksumAlgorithm::Sha1 => h.sha1 = Some(s3s::crypto::Sha1::new()),
            ChecksumAlgorithm::Sha256 => h.sha256 = Some(s3s::crypto::Sha256::new()),
        }
    }
    h
}

fn finalize(h: ChecksumHasher) -> Checksums {
    let c = h.finalize();
    let mut out = Checksums::new();
    for (alg, v) in [
        (ChecksumAlgorithm::Crc32, c.checksum_crc32),
        (ChecksumAlgorithm::Crc32c, c.checksum_crc32c),
        (ChecksumAlgorithm::Crc64Nvme, c.checksum_crc64nvme),
        (ChecksumAlgorithm::Sha1, c.checksum_sha1),
        (ChecksumAlgorithm::Sha256, c.checksum_sha256),
    ] {
        if let Some(v) = v {
            out.insert(alg, v);
        }
    }
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// Bytes gathered before they are hashed on a blocking thread.
const HASH_BATCH: usize = 1024 * 1024;

/// The MD5 (ETag) and the client checksums of a body.
struct Digests {
    md5: s3s::crypto::Md5,
    hasher: ChecksumHasher,
    /// Whether `hasher` computes anything (the client sent or asked for a checksum).
    any_checksum: bool,
}

impl Digests {
    fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        if self.any_checksum {
            self.hasher.update(data);
        }
    }
}

type Job<T> = tokio::task::JoinHandle<T>;

/// The client-checksum state of a batch in flight: hashing, or idle when there is nothing to
/// compute.
enum Checksumming {
    Running(Job<ChecksumHasher>),
    Idle(Box<ChecksumHasher>),
}

/// Hashes a body as it streams by. Batches of [`HASH_BATCH`] bytes are hashed on blocking
/// threads while the next batch arrives (and the previous one is written by the blob store):
/// the MD5 on one thread and the client checksums (SHA-256, CRCs) on another, so the two
/// digests and the file write overlap instead of running one after the other. One batch is in
/// flight at a time, so no thread ever waits on the network; what is left at the end (all of a
/// small body) is hashed inline.
struct Hashing {
    /// `None` while a batch is in flight.
    idle: Option<Digests>,
    in_flight: Option<(Job<s3s::crypto::Md5>, Checksumming, bool)>,
    batch: Arc<Vec<Bytes>>,
    batched: usize,
    count: u64,
}

impl Hashing {
    fn new(digests: Digests) -> Self {
        Self {
            idle: Some(digests),
            in_flight: None,
            batch: Arc::default(),
            batched: 0,
            count: 0,
        }
    }

    async fn digests(&mut self) -> Result<Digests, IngestError> {
        match self.in_flight.take() {
            Some((md5, hasher, any_checksum)) => {
                // Both run at once; waiting for one after the other costs nothing extra.
                let md5 = md5.await.map_err(|_| IngestError::Body)?;
                let hasher = match hasher {
                    Checksumming::Running(job) => job.await.map_err(|_| IngestError::Body)?,
                    Checksumming::Idle(hasher) => *hasher,
                };
                Ok(Digests {
                    md5,
                    hasher,
                    any_checksum,
                })
            }
            None => self.idle.take().ok_or(IngestError::Body),
        }
    }

    async fn update(&mut self, bytes: &Bytes) -> Result<(), IngestError> {
        self.batched += bytes.len();
        Arc::make_mut(&mut self.batch).push(bytes.clone());
        if self.batched >= HASH_BATCH {
            let Digests {
                mut md5,
                mut hasher,
                any_checksum,
            } = self.digests().await?;
            let batch = std::mem::take(&mut self.batch);
            self.batched = 0;
            let for_md5 = Arc::clone(&batch);
            let md5 = tokio::task::spawn_blocking(move || {
                for b in for_md5.iter() {
                    md5.update(b);
                }
                md5
            });
            let hasher = if any_checksum {
                Checksumming::Running(tokio::task::spawn_blocking(move || {
                    for b in batch.iter() {
                        hasher.update(b);
                    }
                    hasher
                }))
            } else {
                Checksumming::Idle(Box::new(hasher))
            };
            self.in_flight = Some((md5, hasher, any_checksum));
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<(Digests, u64), IngestError> {
        let mut digests = self.digests().await?;
        for b in self.batch.iter() {
            digests.update(b);
        }
        Ok((digests, self.count))
    }
}

type Outcome = Arc<Mutex<Option<(String, Checksums, u64)>>>;

/// Streams `body` into a new blob, enforcing `max` and `declared` length and every expected
/// digest. On any failure nothing is stored.
pub(crate) async fn ingest(
    blobs: &dyn BlobStore,
    body: Option<StreamingBlob>,
    declared: Option<u64>,
    max: u64,
    expected: Expected,
) -> S3Result<Ingested> {
    let (ingested, _) = ingest_into(Sink::Blobs(blobs), body, declared, max, expected).await?;
    Ok(ingested)
}

/// [`ingest`] for a body of at most `declared` bytes that the metadata store keeps itself
/// (`MetadataStore::put_object_with_body`): verified the same way, but held in memory under a
/// fresh blob id that nothing is written to yet. The caller stores both in one transaction.
pub(crate) async fn ingest_small(
    body: Option<StreamingBlob>,
    declared: u64,
    max: u64,
    expected: Expected,
) -> S3Result<(Ingested, Bytes)> {
    let (ingested, bytes) = ingest_into(Sink::Memory, body, Some(declared), max, expected).await?;
    let bytes = bytes.ok_or_else(|| crate::error::internal(&"small body not kept"))?;
    Ok((ingested, bytes))
}

/// Where [`ingest_into`] puts the verified bytes.
enum Sink<'a> {
    /// A new blob of this store.
    Blobs(&'a dyn BlobStore),
    /// Memory (bounded by the declared length, which the stream enforces).
    Memory,
}

async fn ingest_into(
    sink: Sink<'_>,
    body: Option<StreamingBlob>,
    declared: Option<u64>,
    max: u64,
    expected: Expected,
) -> S3Result<(Ingested, Option<Bytes>)> {
    if declared.is_some_and(|d| d > max) {
        return Err(Failure::Ingest(IngestError::TooLarge).into());
    }
    let content_md5 = match &expected.content_md5 {
        Some(b64) => {
            let raw = STANDARD
                .decode(b64.trim())
                .map_err(|_| Failure::Ingest(IngestError::InvalidDigest))?;
            if raw.len() != 16 {
                return Err(Failure::Ingest(IngestError::InvalidDigest).into());
            }
            Some(raw)
        }
        None => None,
    };
    let mut algs: Vec<ChecksumAlgorithm> = expected.checksums.iter().map(|(a, _)| *a).collect();
    algs.extend(expected.trailer.as_ref().map(|(a, _)| *a));
    algs.extend(expected.algorithm);
    algs.sort();
    algs.dedup();

    let state = Hashing::new(Digests {
        md5: s3s::crypto::Md5::new(),
        hasher: hasher_for(&algs),
        any_checksum: !algs.is_empty(),
    });
    let outcome: Outcome = Arc::default();
    let slot = Arc::clone(&outcome);
    let inner: StreamingBlob = body.unwrap_or_else(|| {
        StreamingBlob::wrap(futures::stream::empty::<Result<Bytes, std::io::Error>>())
    });

    let stream = futures::stream::unfold(
        (inner, Some(state), expected, content_md5),
        move |(mut inner, mut state, expected, content_md5)| {
            let slot = Arc::clone(&slot);
            async move {
                let st = state.as_mut()?;
                match inner.next().await {
                    Some(Ok(bytes)) => {
                        st.count += bytes.len() as u64;
                        if st.count > max || declared.is_some_and(|d| st.count > d) {
                            let err = if st.count > max {
                                IngestError::TooLarge
                            } else {
                                IngestError::LengthMismatch
                            };
                            return Some((
                                Err(std::io::Error::other(err)),
                                (inner, None, expected, content_md5),
                            ));
                        }
                        if let Err(err) = st.update(&bytes).await {
                            return Some((
                                Err(std::io::Error::other(err)),
                                (inner, None, expected, content_md5),
                            ));
                        }
                        Some((Ok(bytes), (inner, state, expected, content_md5)))
                    }
                    Some(Err(e)) => {
                        let err = classify_stream_error(&*e);
                        Some((
                            Err(std::io::Error::other(err)),
                            (inner, None, expected, content_md5),
                        ))
                    }
                    None => {
                        let st = state.take()?;
                        let verdict = match st.finish().await {
                            Ok((digests, count)) => verify_end(
                                digests,
                                count,
                                declared,
                                &expected,
                                content_md5.as_deref(),
                            ),
                            Err(err) => Err(err),
                        };
                        match verdict {
                            Ok(done) => {
                                if let Ok(mut s) = slot.lock() {
                                    *s = Some(done);
                                }
                                None
                            }
                            Err(err) => Some((
                                Err(std::io::Error::other(err)),
                                (inner, None, expected, content_md5),
                            )),
                        }
                    }
                }
            }
        },
    );

    let written = match sink {
        Sink::Blobs(blobs) => blobs.write(Box::pin(stream)).await.map(|w| (w.id, None)),
        Sink::Memory => mayfly_store::collect_stream(Box::pin(stream))
            .await
            .map(|bytes| (BlobId::random(), Some(Bytes::from(bytes))))
            .map_err(StoreError::Body),
    };
    let (blob, bytes) = written.map_err(|e| {
        if let StoreError::Body(io) = e {
            // Our own verdict travels inside the io::Error the blob store saw.
            match io.into_inner().map(|b| b.downcast::<IngestError>()) {
                Some(Ok(ingest)) => Failure::Ingest(*ingest),
                Some(Err(_)) | None => Failure::Ingest(IngestError::Body),
            }
        } else {
            Failure::Store(e)
        }
    })?;
    let done = outcome.lock().ok().and_then(|mut s| s.take());
    let Some((md5_hex, checksums, size)) = done else {
        // The store returned without draining the stream: never commit unverified bytes.
        if let Sink::Blobs(blobs) = sink {
            let _ = blobs.delete(&blob).await;
        }
        return Err(crate::error::internal(
            &"blob store did not consume the body",
        ));
    };
    let ingested = Ingested {
        blob,
        size,
        md5_hex,
        checksums,
    };
    Ok((ingested, bytes))
}

/// Checks a fully buffered (small, XML) body against `Content-MD5` and `x-amz-checksum-*`.
pub(crate) fn verify_buffer(
    data: &[u8],
    content_md5: Option<&str>,
    checksums: &[(ChecksumAlgorithm, String)],
) -> Result<(), IngestError> {
    if let Some(b64) = content_md5 {
        let want = STANDARD
            .decode(b64.trim())
            .map_err(|_| IngestError::InvalidDigest)?;
        if want.len() != 16 {
            return Err(IngestError::InvalidDigest);
        }
        if want.as_slice() != s3s::crypto::Md5::checksum(data).as_slice() {
            return Err(IngestError::BadDigest);
        }
    }
    let algs: Vec<ChecksumAlgorithm> = checksums.iter().map(|(a, _)| *a).collect();
    let mut h = hasher_for(&algs);
    h.update(data);
    let computed = finalize(h);
    for (alg, want) in checksums {
        if computed.get(alg).map(String::as_str) != Some(want.trim()) {
            return Err(IngestError::BadDigest);
        }
    }
    Ok(())
}

fn verify_end(
    st: Digests,
    count: u64,
    declared: Option<u64>,
    expected: &Expected,
    content_md5: Option<&[u8]>,
) -> Result<(String, Checksums, u64), IngestError> {
    if declared.is_some_and(|d| d != count) {
        return Err(IngestError::LengthMismatch);
    }
    let md5 = st.md5.finalize();
    if let Some(want) = content_md5
        && want != md5.as_slice()
    {
        return Err(IngestError::BadDigest);
    }
    let computed = finalize(st.hasher);
    for (alg, want) in &expected.checksums {
        if computed.get(alg).map(String::as_str) != Some(want.trim()) {
            return Err(IngestError::BadDigest);
        }
    }
    let mut stored = computed.clone();
    if let Some((alg, trailers)) = &expected.trailer {
        let got = trailers
            .read(|h| {
                h.get(header_name(*alg))
                    .and_then(|v| v.to_str().ok())
                    .map(|s| s.trim().to_owned())
            })
            .flatten()
            .ok_or(IngestError::MissingTrailer)?;
        if computed.get(alg) != Some(&got) {
            return Err(IngestError::BadDigest);
        }
    }
    stored.retain(|_, v| !v.is_empty());
    Ok((hex(md5.as_slice()), stored, count))
}

/// Recognises the s3s stream failures worth a specific S3 code. s3s's stream error types are
/// private, so their stable `Display` prefixes are matched; our own guard error is downcast.
fn classify_stream_error(e: &(dyn std::error::Error + 'static)) -> IngestError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(g) = err.downcast_ref::<crate::chunked::ChunkGuardError>() {
            return match g {
                crate::chunked::ChunkGuardError::ChunkTooLarge { .. } => IngestError::ChunkTooLarge,
                crate::chunked::ChunkGuardError::Malformed
                | crate::chunked::ChunkGuardError::Body(_) => IngestError::Body,
            };
        }
        let text = err.to_string();
        if text.contains("AwsChunkedStreamError: SignatureMismatch") {
            return IngestError::ChunkSignature;
        }
        if text.contains("UploadStreamError: Sha256Mismatch") {
            return IngestError::Sha256Mismatch;
        }
        cur = err.source();
    }
    IngestError::Body
}
