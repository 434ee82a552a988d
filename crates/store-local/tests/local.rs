//! Local-store properties: data directory layout, reopen, the directory lock, schema versions,
//! temp-file handling around interrupted writes, and blob paths that never derive from keys.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use mayfly_core::AccountId;
use mayfly_store::gc::collect_orphans;
use mayfly_store::testkit::{
    Subject, account_id, new_account, new_bucket, object_record, put_blob,
};
use mayfly_store::{AccountRecord, ByteStream, Entity, StoreError, WriteCondition};
use mayfly_store_local::LocalStore;

fn subject(store: &LocalStore) -> Subject {
    Subject {
        meta: store.metadata(),
        blobs: store.blobs(),
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_keeps_metadata_and_blobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (blob, bucket) = {
        let store = LocalStore::open(dir.path()).expect("open");
        let s = subject(&store);
        let bucket = new_bucket(&s, 1, "keep").await;
        let blob = put_blob(&s, b"hello").await;
        s.meta
            .put_object(
                object_record(&bucket, "k", blob.clone(), 5),
                WriteCondition::None,
            )
            .await
            .expect("put");
        (blob, bucket)
    };
    let store = LocalStore::open(dir.path()).expect("reopen");
    let s = subject(&store);
    let object = s
        .meta
        .get_object(&bucket, "k")
        .await
        .expect("object survives reopen");
    assert_eq!(object.blob.blob_ids(), vec![blob.clone()]);
    let body = s
        .blobs
        .read(&blob, None)
        .await
        .expect("blob survives reopen");
    assert_eq!(
        mayfly_store::collect_stream(body).await.expect("read"),
        b"hello"
    );
    assert!(dir.path().join("meta.sqlite3").is_file());
    assert!(
        dir.path().join("blobs").join("00").is_dir()
            && dir.path().join("blobs").join("ff").is_dir()
    );
}

/// Bodies of at most one read chunk are rows of the metadata database, so a GET's record and
/// bytes come back from one read; larger bodies are files and come from the blob store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_bodies_come_back_with_their_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open");
    let with_body = mayfly_store::testkit::object_and_body(&subject(&store)).await;
    let expected: Vec<bool> = mayfly_store::testkit::OBJECT_AND_BODY_SIZES
        .iter()
        .map(|&size| size <= mayfly_store::READ_CHUNK)
        .collect();
    assert_eq!(
        with_body,
        expected,
        "sizes {:?}",
        mayfly_store::testkit::OBJECT_AND_BODY_SIZES
    );
}

#[tokio::test]
async fn a_second_open_of_a_live_data_dir_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = LocalStore::open(dir.path()).expect("open");
    match LocalStore::open(dir.path()) {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected Conflict, got {:?}", other.map(|_| ())),
    }
    drop(first);
    LocalStore::open(dir.path()).expect("open after the first is dropped");
}

#[tokio::test]
async fn schema_is_versioned_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(LocalStore::open(dir.path()).expect("open"));
    let conn = rusqlite::Connection::open(dir.path().join("meta.sqlite3")).expect("sqlite");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(
        usize::try_from(version).expect("version"),
        mayfly_store::schema::MIGRATIONS.len(),
        "every migration applied"
    );
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "user_version", 99).expect("bump");
    drop(conn);
    match LocalStore::open(dir.path()) {
        Err(StoreError::Backend(detail)) => assert!(detail.contains("newer"), "{detail}"),
        other => panic!("expected Backend, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn leftover_temp_files_are_swept_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(LocalStore::open(dir.path()).expect("open"));
    let tmp = dir.path().join("blobs").join("tmp");
    std::fs::write(
        tmp.join("0123456789abcdef0123456789abcdef.tmp"),
        b"half a blob",
    )
    .expect("fake crash leftover");
    let store = LocalStore::open(dir.path()).expect("reopen");
    assert_eq!(store.local_blobs().temp_files_swept(), 1);
    assert_eq!(std::fs::read_dir(&tmp).expect("tmp").count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_writes_are_invisible_and_cleaned_when_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open");
    let blobs = store.blobs();
    let tmp = store.local_blobs().temp_dir();
    // One chunk too big to be kept inline, then a body that never ends: a client that stalls
    // mid-upload.
    let stalled: ByteStream = Box::pin(
        stream::iter([Ok::<_, io::Error>(Bytes::from(vec![7u8; 100 * 1024]))])
            .chain(stream::pending()),
    );
    let writer = {
        let blobs = blobs.clone();
        tokio::spawn(async move { blobs.write(stalled).await })
    };
    let mut waited = 0;
    while std::fs::read_dir(&tmp).expect("tmp").count() == 0 {
        assert!(waited < 500, "write never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert!(
        blobs.list_blobs(u64::MAX).await.expect("list").is_empty(),
        "temp file is not a blob"
    );
    writer.abort();
    assert!(writer.await.is_err(), "write was cancelled");
    assert_eq!(
        std::fs::read_dir(&tmp).expect("tmp").count(),
        0,
        "dropped write removed its temp file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_paths_come_from_ids_never_from_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open");
    let s = subject(&store);
    let bucket = new_bucket(&s, 1, "paths").await;
    for key in ["../../escape", "/etc/passwd", "a/../../b", "%2e%2e%2f"] {
        let blob = put_blob(&s, key.as_bytes()).await;
        s.meta
            .put_object(object_record(&bucket, key, blob, 1), WriteCondition::None)
            .await
            .expect("put");
    }
    for path in files_under(dir.path()) {
        let rel = path.strip_prefix(dir.path()).expect("inside data dir");
        let text = rel.to_string_lossy();
        assert!(
            !text.contains("escape") && !text.contains("passwd") && !text.contains("%2e"),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_written_before_a_crash_is_collected_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let orphan = {
        let store = LocalStore::open(dir.path()).expect("open");
        let s = subject(&store);
        new_account(&s, 1).await;
        // The metadata commit that would reference this blob never happens.
        put_blob(&s, b"never committed").await
    };
    let store = LocalStore::open(dir.path()).expect("restart");
    let s = subject(&store);
    let report = collect_orphans(&*s.meta, &*s.blobs, u64::MAX, 0)
        .await
        .expect("gc");
    assert_eq!(report.deleted, 1);
    match s.blobs.size(&orphan).await {
        Err(StoreError::NotFound(Entity::Blob)) => {}
        other => panic!("orphan should be gone: {other:?}"),
    }
    let account: AccountId = account_id(1);
    let kept: AccountRecord = s.meta.get_account(&account).await.expect("metadata intact");
    assert_eq!(kept.id, account);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_writers_with_real_blobs_leave_only_the_winners_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open");
    let s = subject(&store);
    let bucket = new_bucket(&s, 1, "race-bytes").await;
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let (meta, blobs, bucket) = (s.meta.clone(), s.blobs.clone(), bucket.clone());
        tasks.push(tokio::spawn(async move {
            // The full S3 write protocol: bytes first, then the record, then delete the garbage.
            let body = mayfly_store::bytes_stream(vec![i; 10_000], 4096);
            let written = blobs.write(body).await.expect("write");
            let mut record = object_record(&bucket, "hot", written.id, written.size);
            record.etag = format!("writer-{i}");
            let garbage = meta
                .put_object(record, WriteCondition::None)
                .await
                .expect("put");
            for id in garbage {
                blobs.delete(&id).await.expect("delete garbage");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer task");
    }
    let winner = s.meta.get_object(&bucket, "hot").await.expect("winner");
    let left = s.blobs.list_blobs(u64::MAX).await.expect("list");
    assert_eq!(
        left,
        winner.blob.blob_ids(),
        "exactly the winner's blob remains"
    );
    let body = s.blobs.read(&left[0], None).await.expect("read");
    let bytes = mayfly_store::collect_stream(body).await.expect("bytes");
    let writer: u8 = winner
        .etag
        .trim_start_matches("writer-")
        .parse()
        .expect("etag");
    assert_eq!(
        bytes,
        vec![writer; 10_000],
        "record and bytes belong to the same writer"
    );
}

/// Every row of `sql` (one text parameter) as `a|b|c` text.
fn pragma_rows(conn: &rusqlite::Connection, sql: &str, arg: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).expect("pragma");
    let n = stmt.column_count();
    stmt.query_map([arg], |r| {
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            cells.push(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                other @ (rusqlite::types::ValueRef::Real(_)
                | rusqlite::types::ValueRef::Blob(_)) => {
                    format!("{other:?}")
                }
            });
        }
        Ok(cells.join("|"))
    })
    .expect("rows")
    .map(|r| r.expect("row"))
    .collect()
}

/// Everything SQLite records about a schema's tables and indexes, in a comparable form:
/// strictness, columns (type, not-null, default, key), foreign keys (incl. ON DELETE), indexes
/// (uniqueness, origin, partial, columns) and index definitions, whitespace-normalised.
fn sqlite_catalog(conn: &rusqlite::Connection) -> Vec<String> {
    let mut out = Vec::new();
    for table in pragma_rows(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> ?1 ORDER BY name",
        "",
    ) {
        out.push(format!("table {table}"));
        for pragma in [
            "SELECT strict FROM pragma_table_list(?1)",
            "SELECT * FROM pragma_table_xinfo(?1)",
            "SELECT * FROM pragma_foreign_key_list(?1)",
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1) ORDER BY name",
        ] {
            out.extend(pragma_rows(conn, pragma, &table));
        }
        for index in pragma_rows(
            conn,
            "SELECT name FROM pragma_index_list(?1) ORDER BY name",
            &table,
        ) {
            out.extend(pragma_rows(
                conn,
                "SELECT * FROM pragma_index_xinfo(?1)",
                &index,
            ));
        }
    }
    for sql in pragma_rows(
        conn,
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND name <> ?1 ORDER BY name",
        "",
    ) {
        out.push(
            sql.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace(" (", "("),
        );
    }
    out
}

#[test]
fn rendered_schema_v1_builds_exactly_what_the_first_release_built() {
    let fixture = include_str!("fixtures/schema-v1.sql");
    let first = rusqlite::Connection::open_in_memory().expect("sqlite");
    first.execute_batch(fixture).expect("first release's V1");
    let rendered = rusqlite::Connection::open_in_memory().expect("sqlite");
    rendered
        .execute_batch(&mayfly_store::schema::Dialect::Sqlite.migrations()[0])
        .expect("rendered V1");
    let (a, b) = (sqlite_catalog(&first), sqlite_catalog(&rendered));
    assert!(a.len() > 60, "the catalog lists the tables: {a:#?}");
    assert_eq!(a, b);
}
