//! The orphan-blob collector of a running `mayfly serve` (`--gc-interval`, `--gc-grace`):
//! blob files nothing references are deleted once older than the grace period; referenced
//! blobs and young orphans (an upload still on its way to its commit) are left alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_s3::primitives::ByteStream;
use mayfly_e2e::{Server, ServerOptions};

use crate::aws_sdk_rust::admin;

/// Every blob file under `<data>/blobs/<xx>/`.
fn blob_files(data: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(data.join("blobs")).unwrap() {
        let shard = shard.unwrap();
        if shard.file_name().len() != 2 {
            continue; // tmp/
        }
        for f in std::fs::read_dir(shard.path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

/// A body too large to be kept inline (64 KiB), so it is stored as a blob file.
fn referenced_bytes() -> Vec<u8> {
    b"referenced bytes ".repeat(8 * 1024)
}

/// Writes a blob file with a valid id that no record references, last modified `age` ago.
fn plant_orphan(data: &Path, id: &str, age: Duration) -> PathBuf {
    let shard = data.join("blobs").join(&id[..2]);
    std::fs::create_dir_all(&shard).unwrap();
    let path = shard.join(id);
    std::fs::write(&path, b"bytes whose metadata commit never happened").unwrap();
    set_age(&path, age);
    path
}

fn set_age(path: &Path, age: Duration) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

async fn gc_deleted_total(server: &Server) -> u64 {
    let base = server.api_url.trim_end_matches("/client/v4");
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("mayfly_gc_orphans_deleted_total "))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_orphans_are_collected_and_referenced_or_young_blobs_are_not() {
    let hour = Duration::from_secs(3600);
    let server = Server::start_with(&ServerOptions {
        env: vec![
            ("MAYFLY_GC_INTERVAL".into(), "1".into()),
            ("MAYFLY_GC_GRACE".into(), "600".into()),
        ],
        log_to_file: true,
    })
    .unwrap();
    let data = server.data_dir();
    let c = admin(&server);
    c.create_bucket().bucket("gc-test").send().await.unwrap();
    // Larger than the 64 KiB kept inline in the database, so the blob is a file.
    let kept = referenced_bytes();
    c.put_object()
        .bucket("gc-test")
        .key("kept")
        .body(ByteStream::from(kept.clone()))
        .send()
        .await
        .unwrap();
    let referenced = blob_files(&data);
    assert_eq!(referenced.len(), 1, "one object, one blob: {referenced:?}");
    // Old enough to be examined: only the record that references it keeps it.
    set_age(&referenced[0], hour);

    let old = plant_orphan(&data, "0123456789abcdef0123456789abcdef", hour);
    let young = plant_orphan(&data, "fedcba9876543210fedcba9876543210", Duration::ZERO);
    let before = gc_deleted_total(&server).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    while old.exists() {
        assert!(
            Instant::now() < deadline,
            "an orphan older than --gc-grace was not collected within 20 s (interval 1 s)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give the collector a few more passes to show it leaves the rest alone.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        young.exists(),
        "an orphan younger than --gc-grace was collected"
    );
    assert!(referenced[0].exists(), "a referenced blob was collected");
    let got = c
        .get_object()
        .bucket("gc-test")
        .key("kept")
        .send()
        .await
        .unwrap();
    let body = got.body.collect().await.unwrap().into_bytes();
    assert!(body[..] == kept[..], "the referenced object changed");
    assert_eq!(
        gc_deleted_total(&server).await - before,
        1,
        "exactly one orphan deleted"
    );
    let log = std::fs::read_to_string(server.log_path().unwrap()).unwrap();
    assert!(
        log.contains("orphan blobs collected"),
        "no log line for the pass"
    );
}
