//! Small blobs kept in the metadata database and the writer's group commit: where bytes land
//! by size, that inline blobs behave like files for every `BlobStore` call (ranges, size,
//! delete, listing for orphan collection, reopen), and that concurrent writes committed in one
//! group succeed or fail one by one.

use std::io;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use mayfly_store::gc::collect_orphans;
use mayfly_store::testkit::{Subject, new_bucket, object_record, pseudo_random};
use mayfly_store::{
    BlobStore, ByteStream, Entity, READ_CHUNK, StoreError, WriteCondition, bytes_stream,
    collect_stream,
};
use mayfly_store_local::LocalStore;

fn subject(store: &LocalStore) -> Subject {
    Subject {
        meta: store.metadata(),
        blobs: store.blobs(),
    }
}

/// Blob files in the shard directories (not the temp directory).
fn blob_files(data: &Path) -> usize {
    let mut n = 0;
    for shard in std::fs::read_dir(data.join("blobs")).expect("blobs") {
        let shard = shard.expect("shard");
        if shard.file_name().len() == 2 {
            n += std::fs::read_dir(shard.path()).expect("shard dir").count();
        }
    }
    n
}

async fn read_all(blobs: &dyn BlobStore, id: &mayfly_store::BlobId) -> Vec<u8> {
    collect_stream(blobs.read(id, None).await.expect("read"))
        .await
        .expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_up_to_one_read_chunk_are_rows_and_larger_ones_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open");
    let blobs = store.blobs();
    let at_limit = pseudo_random(READ_CHUNK, 1);
    let over = pseudo_random(READ_CHUNK + 1, 2);
    // Many small chunks, so the inline path has to join them.
    let small = blobs
        .write(bytes_stream(at_limit.clone(), 1000))
        .await
        .expect("write at limit");
    assert_eq!(small.size, READ_CHUNK as u64);
    assert_eq!(
        blob_files(dir.path()),
        0,
        "a blob of one read chunk is a row"
    );
    let large = blobs
        .write(bytes_stream(over.clone(), 1000))
        .await
        .expect("write over limit");
    assert_eq!(blob_files(dir.path()), 1, "one byte more is a file");
    assert_eq!(read_all(&*blobs, &small.id).await, at_limit);
    assert_eq!(read_all(&*blobs, &large.id).await, over);
    let empty = blobs
        .write(bytes_stream(Vec::new(), 1))
        .await
        .expect("empty");
    assert_eq!(empty.size, 0);
    assert!(read_all(&*blobs, &empty.id).await.is_empty());
    assert_eq!(blob_files(dir.path()), 1, "an empty blob is a row too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_blobs_serve_ranges_sizes_deletes_and_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pseudo_random(4096, 3);
    let id = {
        let store = LocalStore::open(dir.path()).expect("open");
        store
            .blobs()
            .write(bytes_stream(data.clone(), 512))
            .await
            .expect("write")
            .id
    };
    let store = LocalStore::open(dir.path()).expect("reopen");
    let blobs = store.blobs();
    assert_eq!(read_all(&*blobs, &id).await, data, "durable across reopen");
    assert_eq!(blobs.size(&id).await.expect("size"), 4096);
    let part = collect_stream(blobs.read(&id, Some(100..1100)).await.expect("range"))
        .await
        .expect("range body");
    assert_eq!(part, data[100..1100]);
    let none = collect_stream(
        blobs
            .read(&id, Some(4096..4096))
            .await
            .expect("empty range"),
    )
    .await
    .expect("empty body");
    assert!(none.is_empty());
    match blobs.read(&id, Some(10..4097)).await {
        Err(StoreError::InvalidRange) => {}
        other => panic!("expected InvalidRange, got {:?}", other.map(|_| ())),
    }
    assert_eq!(
        blobs.list_blobs(u64::MAX).await.expect("list"),
        vec![id.clone()]
    );
    assert!(
        blobs.list_blobs(0).await.expect("list").is_empty(),
        "cut-off honoured"
    );
    blobs.delete(&id).await.expect("delete");
    blobs.delete(&id).await.expect("delete is idempotent");
    match blobs.size(&id).await {
        Err(StoreError::NotFound(Entity::Blob)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    match blobs.read(&id, None).await {
        Err(StoreError::NotFound(Entity::Blob)) => {}
        other => panic!("expected NotFound, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_inline_blobs_are_collected_and_referenced_ones_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open");
    let s = subject(&store);
    let bucket = new_bucket(&s, 1, "gc-inline").await;
    let kept = s
        .blobs
        .write(bytes_stream(b"referenced".to_vec(), 4))
        .await
        .expect("kept");
    s.meta
        .put_object(
            object_record(&bucket, "k", kept.id.clone(), kept.size),
            WriteCondition::None,
        )
        .await
        .expect("put");
    let orphan = s
        .blobs
        .write(bytes_stream(b"never committed".to_vec(), 4))
        .await
        .expect("orphan");
    let report = collect_orphans(&*s.meta, &*s.blobs, u64::MAX, 0)
        .await
        .expect("gc");
    assert_eq!(report.deleted, 1);
    assert!(s.blobs.size(&orphan.id).await.is_err(), "orphan gone");
    assert_eq!(read_all(&*s.blobs, &kept.id).await, b"referenced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_small_body_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open");
    let blobs = store.blobs();
    let stalled: ByteStream = Box::pin(
        stream::iter([Ok::<_, io::Error>(Bytes::from_static(b"partial"))]).chain(stream::pending()),
    );
    let writer = {
        let blobs = blobs.clone();
        tokio::spawn(async move { blobs.write(stalled).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    writer.abort();
    assert!(writer.await.is_err(), "write was cancelled");
    assert!(blobs.list_blobs(u64::MAX).await.expect("list").is_empty());
    assert_eq!(blob_files(dir.path()), 0);
    let failing: ByteStream = Box::pin(stream::iter([
        Ok(Bytes::from_static(b"half")),
        Err(io::Error::other("client went away")),
    ]));
    match blobs.write(failing).await {
        Err(StoreError::Body(_)) => {}
        other => panic!("expected Body, got {other:?}"),
    }
    assert!(blobs.list_blobs(u64::MAX).await.expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_in_one_group_fail_or_succeed_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open");
    let s = subject(&store);
    let bucket = new_bucket(&s, 1, "group").await;
    // Half the keys exist already: IfAbsent must fail exactly for those, whatever shares their
    // commit group.
    for i in (0..64).step_by(2) {
        let blob = s
            .blobs
            .write(bytes_stream(vec![1u8; 10], 10))
            .await
            .expect("blob");
        s.meta
            .put_object(
                object_record(&bucket, &format!("k{i}"), blob.id, 10),
                WriteCondition::None,
            )
            .await
            .expect("seed");
    }
    let mut tasks = Vec::new();
    for i in 0..64u8 {
        let (meta, blobs, bucket) = (s.meta.clone(), s.blobs.clone(), bucket.clone());
        tasks.push(tokio::spawn(async move {
            let body = vec![i; 4096];
            let blob = blobs.write(bytes_stream(body, 4096)).await.expect("blob");
            let record = object_record(&bucket, &format!("k{i}"), blob.id, 4096);
            (i, meta.put_object(record, WriteCondition::IfAbsent).await)
        }));
    }
    for task in tasks {
        let (i, result) = task.await.expect("task");
        match (i % 2, result) {
            (0, Err(StoreError::PreconditionFailed)) | (1, Ok(_)) => {}
            (_, other) => panic!("k{i}: unexpected {other:?}"),
        }
    }
    for i in (1..64u8).step_by(2) {
        let o = s
            .meta
            .get_object(&bucket, &format!("k{i}"))
            .await
            .expect("written");
        let ids = o.blob.blob_ids();
        assert_eq!(read_all(&*s.blobs, &ids[0]).await, vec![i; 4096]);
    }
    for i in (0..64u8).step_by(2) {
        let o = s
            .meta
            .get_object(&bucket, &format!("k{i}"))
            .await
            .expect("seeded");
        assert_eq!(o.size, 10, "k{i} kept its first version");
    }
}
