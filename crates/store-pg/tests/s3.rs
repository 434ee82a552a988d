//! Upstream-S3 properties past the conformance suite: bodies longer than one part go through
//! multipart upload and read back exactly (whole and across part boundaries), a body failing
//! after the first part leaves no blob, and credentials never print.

use std::io;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use mayfly_store::testkit::ok;
use mayfly_store::{BlobStore, ByteStream, READ_CHUNK, StoreError, collect_stream};
use mayfly_store_pg::{PART_SIZE, S3Blobs, S3BlobsConfig, S3Credentials};

use crate::harness::upstream;

/// The byte at `offset` of the test body: cheap to regenerate, so nothing large is kept.
fn byte_at(offset: u64) -> u8 {
    (offset.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// A lazily generated body of `len` bytes in 64 KiB chunks.
fn generated(len: u64) -> ByteStream {
    let chunk = 64 * 1024u64;
    Box::pin(stream::iter((0..len.div_ceil(chunk)).map(move |i| {
        let start = i * chunk;
        let end = (start + chunk).min(len);
        Ok(Bytes::from((start..end).map(byte_at).collect::<Vec<u8>>()))
    })))
}

async fn check_range(blobs: &S3Blobs, id: &mayfly_store::BlobId, start: u64, end: u64) {
    let mut body = ok(blobs.read(id, Some(start..end)).await, "open range");
    let mut at = start;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("chunk");
        assert!(chunk.len() <= READ_CHUNK);
        for b in chunk.iter() {
            assert_eq!(*b, byte_at(at), "byte {at}");
            at += 1;
        }
    }
    assert_eq!(at, end, "range {start}..{end} fully read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_bodies_go_multipart_and_read_back() {
    let up = upstream().await;
    let blobs = S3Blobs::new(&up.config, &up.credentials).expect("blobs");
    let part = PART_SIZE as u64;
    let len = 2 * part + part / 2 + 7;
    let written = ok(blobs.write(generated(len)).await, "write");
    assert_eq!(written.size, len);
    assert_eq!(ok(blobs.size(&written.id).await, "size"), len);
    check_range(&blobs, &written.id, 0, len).await;
    check_range(&blobs, &written.id, part - 3, part + 3).await;
    check_range(&blobs, &written.id, len - 1, len).await;
    // Exactly one part's worth: the boundary between single PUT and multipart.
    let exact = ok(blobs.write(generated(part)).await, "write one part");
    assert_eq!(ok(blobs.size(&exact.id).await, "size"), part);
    check_range(&blobs, &exact.id, part - 10, part).await;
    let listed = ok(blobs.list_blobs(u64::MAX).await, "list");
    assert!(listed.contains(&written.id) && listed.contains(&exact.id));
}

#[derive(Debug, thiserror::Error)]
#[error("client went away")]
struct ClientGone;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_failing_after_a_part_leaves_no_blob() {
    let up = upstream().await;
    let blobs = S3Blobs::new(&up.config, &up.credentials).expect("blobs");
    let before = ok(blobs.list_blobs(u64::MAX).await, "list before");
    let failing: ByteStream = Box::pin(
        generated(PART_SIZE as u64 + 100_000)
            .chain(stream::iter([Err(io::Error::other(ClientGone))])),
    );
    match blobs.write(failing).await {
        Err(StoreError::Body(err)) => {
            assert!(err.get_ref().is_some_and(|e| e.is::<ClientGone>()));
        }
        other => panic!("expected Body error, got {other:?}"),
    }
    assert_eq!(ok(blobs.list_blobs(u64::MAX).await, "list after"), before);
    let small = ok(blobs.write(generated(10)).await, "store still usable");
    let body = ok(blobs.read(&small.id, None).await, "read");
    assert_eq!(collect_stream(body).await.expect("bytes").len(), 10);
}

#[test]
fn debug_output_never_shows_the_secret() {
    let config =
        S3BlobsConfig::parse("s3://b/p?endpoint=http://127.0.0.1:9&region=auto").expect("config");
    let credentials = S3Credentials::new(
        "AKIDEXAMPLE",
        "upstream-secret-do-not-print",
        Some("session-token-do-not-print".to_owned()),
    );
    let blobs = S3Blobs::new(&config, &credentials).expect("blobs (no request made)");
    let shown = format!("{credentials:?} {blobs:?}");
    assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
    for secret in ["upstream-secret-do-not-print", "session-token-do-not-print"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}
