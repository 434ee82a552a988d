//! Conformance checks for blob stores: round trips, ranges, chunk bounds, idempotent delete,
//! failed writes leaving nothing, the listing cutoff, multipart reads and orphan collection.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream;

use super::{Subject, assert_err, new_bucket, object_record, ok, pseudo_random, put_blob};
use crate::gc::collect_orphans;
use crate::{
    BlobId, BlobRef, ByteStream, Entity, ObjectPart, READ_CHUNK, StoreError, UploadId,
    UploadRecord, WriteCondition, collect_stream, read_object,
};

async fn read_all(s: &Subject, id: &BlobId, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let body = ok(s.blobs.read(id, range).await, "open blob");
    collect_stream(body).await.expect("read blob")
}

/// Bytes come back exactly, whole or by range; bad ranges are InvalidRange.
pub async fn blob_round_trip_and_ranges(s: &Subject) {
    let data = pseudo_random(200_003, 1);
    let id = put_blob(s, &data).await;
    assert_eq!(ok(s.blobs.size(&id).await, "size"), data.len() as u64);
    assert_eq!(read_all(s, &id, None).await, data);
    let n = data.len() as u64;
    for (lo, hi) in [
        (0, 0),
        (0, 1),
        (10, 20),
        (65_535, 65_537),
        (n - 1, n),
        (n, n),
        (0, n),
        (1, n - 1),
    ] {
        let got = read_all(s, &id, Some(lo..hi)).await;
        assert_eq!(got, &data[lo as usize..hi as usize], "range {lo}..{hi}");
    }
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = 5..4;
    let bad = |e: &StoreError| matches!(e, StoreError::InvalidRange);
    assert_err(
        s.blobs.read(&id, Some(backwards)).await.map(|_| ()),
        bad,
        "backwards",
    );
    assert_err(
        s.blobs.read(&id, Some(0..n + 1)).await.map(|_| ()),
        bad,
        "past the end",
    );
    let empty = put_blob(s, b"").await;
    assert_eq!(ok(s.blobs.size(&empty).await, "empty size"), 0);
    assert!(read_all(s, &empty, None).await.is_empty());
    assert_ne!(empty, id, "fresh id per write");
}

/// Reads yield chunks no larger than READ_CHUNK, whatever the write chunking was.
pub async fn blob_reads_are_chunked(s: &Subject) {
    let data = pseudo_random(5 * READ_CHUNK + 17, 2);
    let one_chunk: ByteStream = Box::pin(stream::iter([Ok::<_, io::Error>(Bytes::from(
        data.clone(),
    ))]));
    let written = ok(s.blobs.write(one_chunk).await, "write one big chunk");
    let mut body = ok(s.blobs.read(&written.id, None).await, "open");
    let mut total = 0usize;
    while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
        let chunk = chunk.expect("chunk");
        assert!(chunk.len() <= READ_CHUNK, "chunk of {} bytes", chunk.len());
        total += chunk.len();
    }
    assert_eq!(total, data.len());
}

/// A body comes back byte-exact however it was chunked on the way in: thousands of tiny and
/// empty chunks (more than a write batch holds, so batches end on a count), chunks that
/// straddle every batch boundary, and one chunk larger than a batch.
pub async fn blob_writes_any_chunking(s: &Subject) {
    let data = Bytes::from(pseudo_random(3 * 1024 * 1024 + 4_097, 3));
    // 0, 1, .., 96 bytes, repeating, over the first 300 kB (about 6,000 chunks, some empty),
    // then the rest in one chunk.
    let mut tiny = Vec::new();
    let (mut at, mut n) = (0usize, 0usize);
    while at < 300_000 {
        let len = n % 97;
        tiny.push(data.slice(at..at + len));
        (at, n) = (at + len, n + 1);
    }
    tiny.push(data.slice(at..));
    let straddling = data
        .chunks(1024 * 1024 + 1)
        .map(|c| data.slice_ref(c))
        .collect();
    for (what, chunks) in [
        ("tiny", tiny),
        ("1 MiB + 1", straddling),
        ("one chunk", vec![data.clone()]),
    ] {
        let body: ByteStream = Box::pin(stream::iter(chunks.into_iter().map(Ok::<_, io::Error>)));
        let written = ok(s.blobs.write(body).await, "write chunked body");
        assert_eq!(written.size, data.len() as u64, "{what}: size");
        assert!(
            read_all(s, &written.id, None).await == data,
            "{what}: bytes differ"
        );
    }
}

/// Deleting is idempotent; reading or sizing a deleted blob is NotFound(Blob).
pub async fn blob_delete_is_idempotent(s: &Subject) {
    let id = put_blob(s, b"bytes").await;
    ok(s.blobs.delete(&id).await, "delete");
    ok(s.blobs.delete(&id).await, "delete again");
    ok(
        s.blobs.delete(&BlobId::random()).await,
        "delete never-written",
    );
    let gone = |e: &StoreError| e.is_not_found(Entity::Blob);
    assert_err(
        s.blobs.read(&id, None).await.map(|_| ()),
        gone,
        "read deleted",
    );
    assert_err(s.blobs.size(&id).await, gone, "size deleted");
}

#[derive(Debug, thiserror::Error)]
#[error("client went away")]
struct ClientGone;

/// A body that fails mid-way yields StoreError::Body carrying the caller's error, and leaves
/// no blob behind.
pub async fn blob_failed_write_leaves_nothing(s: &Subject) {
    let before = ok(s.blobs.list_blobs(u64::MAX).await, "list before");
    let failing: ByteStream = Box::pin(stream::iter([
        Ok(Bytes::from(pseudo_random(300_000, 3))),
        Err(io::Error::other(ClientGone)),
    ]));
    match s.blobs.write(failing).await {
        Err(StoreError::Body(err)) => {
            assert!(
                err.get_ref().is_some_and(|inner| inner.is::<ClientGone>()),
                "original error kept"
            );
        }
        other => panic!("expected Body error, got {other:?}"),
    }
    assert_eq!(
        ok(s.blobs.list_blobs(u64::MAX).await, "list after"),
        before,
        "no partial blob visible"
    );
}

/// list_blobs only returns blobs written before the cutoff.
pub async fn blob_list_respects_cutoff(s: &Subject) {
    let a = put_blob(s, b"a").await;
    let b = put_blob(s, b"b").await;
    let all = ok(s.blobs.list_blobs(u64::MAX).await, "list all");
    assert!(all.contains(&a) && all.contains(&b));
    assert!(ok(s.blobs.list_blobs(0).await, "nothing before 1970").is_empty());
}

/// read_object concatenates part blobs and slices ranges across part boundaries.
pub async fn read_object_spans_parts(s: &Subject) {
    let sizes = [70_000usize, 1, 0, 130_000, 5];
    let datas: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| pseudo_random(*n, 10 + i as u64))
        .collect();
    let mut parts = Vec::new();
    for (i, d) in datas.iter().enumerate() {
        let blob = put_blob(s, d).await;
        parts.push(ObjectPart {
            part_number: u32::try_from(i + 1).unwrap_or(1),
            size: d.len() as u64,
            etag: String::new(),
            checksums: Default::default(),
            blob,
        });
    }
    let whole: Vec<u8> = datas.concat();
    let blob = BlobRef::Parts(parts);
    let n = whole.len() as u64;
    let blobs: Arc<dyn crate::BlobStore> = Arc::clone(&s.blobs);
    for range in [
        None,
        Some(0..n),
        Some(69_999..70_002),
        Some(70_000..70_001),
        Some(5..n - 3),
        Some(n..n),
        Some(200_000..n),
    ] {
        let body = ok(
            read_object(Arc::clone(&blobs), &blob, range.clone()).await,
            "open object",
        );
        let got = collect_stream(body).await.expect("read object");
        let want = match &range {
            Some(r) => &whole[r.start as usize..r.end as usize],
            None => &whole[..],
        };
        assert_eq!(got, want, "range {range:?}");
    }
    assert_err(
        read_object(Arc::clone(&blobs), &blob, Some(0..n + 1))
            .await
            .map(|_| ()),
        |e| matches!(e, StoreError::InvalidRange),
        "past the end",
    );
    let single = put_blob(s, b"single").await;
    let body = ok(
        read_object(blobs, &BlobRef::Single(single), Some(1..4)).await,
        "single",
    );
    assert_eq!(collect_stream(body).await.expect("read"), b"ing");
}

/// Orphan collection deletes blobs no record references and keeps objects' and parts' blobs.
pub async fn gc_deletes_only_orphans(s: &Subject) {
    let b = new_bucket(s, 1, "gc-bucket").await;
    let live = put_blob(s, b"live").await;
    ok(
        s.meta
            .put_object(
                object_record(&b, "k", live.clone(), 4),
                WriteCondition::None,
            )
            .await,
        "put",
    );
    let part = put_blob(s, b"part").await;
    let upload = UploadRecord {
        bucket: b.clone(),
        key: "mp".to_owned(),
        upload_id: UploadId::random(),
        initiated_ms: 1,
        headers: Default::default(),
        user_metadata: Default::default(),
        checksum_algorithm: None,
        checksum_type: None,
    };
    ok(s.meta.create_upload(upload.clone()).await, "upload");
    let part_record = crate::PartRecord {
        part_number: 1,
        size: 4,
        etag: "e".to_owned(),
        last_modified_ms: 1,
        checksums: Default::default(),
        blob: part.clone(),
    };
    ok(
        s.meta
            .put_part(&b, "mp", &upload.upload_id, part_record)
            .await,
        "part",
    );
    let orphan = put_blob(s, b"orphan").await;

    let young = ok(
        collect_orphans(&*s.meta, &*s.blobs, 1_000, 0).await,
        "nothing old enough",
    );
    assert_eq!(
        young.deleted, 0,
        "blobs written after the cutoff are never collected"
    );
    let report = ok(
        collect_orphans(&*s.meta, &*s.blobs, u64::MAX, 0).await,
        "collect",
    );
    assert_eq!(report.deleted, 1);
    assert_eq!(report.examined, 3);
    assert_err(
        s.blobs.size(&orphan).await,
        |e| e.is_not_found(Entity::Blob),
        "orphan deleted",
    );
    ok(s.blobs.size(&live).await, "object blob kept");
    ok(s.blobs.size(&part).await, "part blob kept");
}

/// Sizes [`object_and_body`] stores: empty, tiny, one read chunk exactly, one byte past it, and
/// a few chunks.
pub const OBJECT_AND_BODY_SIZES: [usize; 5] = [0, 1, READ_CHUNK, READ_CHUNK + 1, 200_003];

/// Stores one object per size of [`OBJECT_AND_BODY_SIZES`] and reads each back with
/// `get_object_and_body`: the record is `get_object`'s, and a body, when the store returns one,
/// is exactly the object's bytes, as is the blob store's. Returns, per size, whether the store
/// returned the body with the record (stores that keep small bodies inline check which).
pub async fn object_and_body(s: &Subject) -> Vec<bool> {
    let bucket = new_bucket(s, 1, "inline").await;
    let mut with_body = Vec::new();
    for (n, size) in OBJECT_AND_BODY_SIZES.into_iter().enumerate() {
        let data = pseudo_random(size, n as u64 + 7);
        let id = put_blob(s, &data).await;
        let key = format!("object-{n}");
        let record = object_record(&bucket, &key, id.clone(), size as u64);
        ok(
            s.meta.put_object(record, WriteCondition::None).await,
            "put object",
        );
        let (got, body) = ok(s.meta.get_object_and_body(&bucket, &key).await, "get both");
        assert_eq!(
            got,
            ok(s.meta.get_object(&bucket, &key).await, "get"),
            "{size}"
        );
        if let Some(body) = &body {
            assert_eq!(body.as_ref(), &data[..], "inline body of {size} bytes");
        }
        assert_eq!(read_all(s, &id, None).await, data, "blob of {size} bytes");
        with_body.push(body.is_some());
    }
    assert_err(
        s.meta.get_object_and_body(&bucket, "missing").await,
        |e| matches!(e, StoreError::NotFound(Entity::Object)),
        "missing object",
    );
    with_body
}

/// [`object_and_body`] as a conformance check: whatever the store keeps inline agrees with the
/// separate reads.
pub async fn object_and_body_agree_with_separate_reads(s: &Subject) {
    object_and_body(s).await;
}

/// `put_object_with_body`: where the store keeps small bodies, the record and its bytes are
/// stored together, a replaced version's blob comes back as garbage, and a refused put (failed
/// condition, missing bucket, body of the wrong size or too large) stores neither. Where it
/// does not, the call is refused and stores nothing.
pub async fn object_put_with_body(s: &Subject) {
    let bucket = new_bucket(s, 1, "with-body").await;
    let Some(limit) = s.meta.inline_body_limit() else {
        let id = BlobId::random();
        let record = object_record(&bucket, "k", id.clone(), 2);
        let refused = s
            .meta
            .put_object_with_body(record, WriteCondition::None, Bytes::from_static(b"hi"))
            .await;
        assert!(refused.is_err(), "a store without inline bodies refuses");
        assert_err(
            s.meta.get_object(&bucket, "k").await,
            |e| e.is_not_found(Entity::Object),
            "nothing stored",
        );
        return;
    };
    let put = |key: &str, data: Bytes, condition: WriteCondition| {
        let id = BlobId::random();
        let record = object_record(&bucket, key, id.clone(), data.len() as u64);
        let meta = Arc::clone(&s.meta);
        async move { (id, meta.put_object_with_body(record, condition, data).await) }
    };
    let absent = |id: BlobId| async move {
        assert_err(
            s.blobs.size(&id).await,
            |e| e.is_not_found(Entity::Blob),
            "a refused put leaves no blob",
        );
    };

    for size in [0, 1, 4096, limit] {
        let data = Bytes::from(pseudo_random(size, size as u64));
        let key = format!("k{size}");
        let (id, garbage) = put(&key, data.clone(), WriteCondition::IfAbsent).await;
        assert!(
            ok(garbage, "put with body").is_empty(),
            "new key: no garbage"
        );
        let (record, body) = ok(s.meta.get_object_and_body(&bucket, &key).await, "get");
        assert_eq!(record.blob, BlobRef::Single(id.clone()));
        if let Some(body) = body {
            assert!(body == data, "body with the record, size {size}");
        }
        assert!(
            read_all(s, &id, None).await == data,
            "blob store reads it, size {size}"
        );
    }

    // Replacing returns the old blob; the new one is what GET reads.
    let (old, _) = put("r", Bytes::from_static(b"one"), WriteCondition::None).await;
    let (new, garbage) = put("r", Bytes::from_static(b"two"), WriteCondition::None).await;
    assert_eq!(ok(garbage, "replace"), vec![old]);
    assert_eq!(read_all(s, &new, None).await, b"two");

    // Refusals store nothing.
    let (id, refused) = put("r", Bytes::from_static(b"three"), WriteCondition::IfAbsent).await;
    assert_err(
        refused,
        |e| matches!(e, StoreError::PreconditionFailed),
        "if absent",
    );
    absent(id).await;
    assert_eq!(
        read_all(s, &new, None).await,
        b"two",
        "the object is unchanged"
    );

    let other = crate::BucketId::new(super::account_id(1), super::bucket_name("no-such-bucket"));
    let id = BlobId::random();
    let refused = s
        .meta
        .put_object_with_body(
            object_record(&other, "k", id.clone(), 1),
            WriteCondition::None,
            Bytes::from_static(b"x"),
        )
        .await;
    assert_err(
        refused,
        |e| e.is_not_found(Entity::Bucket),
        "missing bucket",
    );
    absent(id).await;

    let id = BlobId::random();
    let wrong_size = object_record(&bucket, "w", id.clone(), 5);
    let refused = s
        .meta
        .put_object_with_body(
            wrong_size,
            WriteCondition::None,
            Bytes::from_static(b"four"),
        )
        .await;
    assert!(refused.is_err(), "record size and body length differ");
    absent(id).await;

    let (id, refused) = put(
        "big",
        Bytes::from(vec![7u8; limit + 1]),
        WriteCondition::None,
    )
    .await;
    assert!(refused.is_err(), "a body over the limit is refused");
    absent(id).await;
    assert_err(
        s.meta.get_object(&bucket, "big").await,
        |e| e.is_not_found(Entity::Object),
        "no record either",
    );
}
