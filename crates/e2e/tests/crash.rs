//! `kill -9` during many concurrent PUTs and multipart completes: after a restart every
//! acknowledged object reads back whole with its checksum, and nothing partial is visible.
//! A second run does the same with many concurrent small PUTs only (bodies kept inline in the
//! metadata database and committed in groups) and checks bytes and ETag.

use crate::aws_sdk_rust::admin;
use crate::support::{bytes_from, seed};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumMode, CompletedMultipartUpload, CompletedPart};
use mayfly_e2e::Server;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BUCKET: &str = "crash";
const PART: usize = 5 << 20;

/// Deterministic content for a key: its length and bytes follow from the key alone, so any
/// object read back can be checked without remembering what was sent.
fn content(key: &str) -> Vec<u8> {
    let x = seed(key);
    let len = if key.starts_with("mp-") {
        2 * PART + 4321
    } else {
        1024 + (x % 200_000) as usize
    };
    bytes_from(x, len)
}

#[derive(Default)]
struct Tally {
    attempted: Mutex<BTreeSet<String>>,
    acked: Mutex<BTreeSet<String>>,
}

/// PUTs `content(key)` under `{prefix}-{worker}-{i}` until `stop` or until the server is gone,
/// noting each key in `attempted` before it is sent and handing each acknowledged key and ETag
/// to `acked`.
async fn put_until_gone(
    c: aws_sdk_s3::Client,
    prefix: &str,
    worker: usize,
    stop: Arc<AtomicBool>,
    content: fn(&str) -> Vec<u8>,
    attempted: &Mutex<BTreeSet<String>>,
    mut acked: impl FnMut(String, String),
) {
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("{prefix}-{worker:02}-{i:05}");
        i += 1;
        attempted.lock().unwrap().insert(key.clone());
        let body = ByteStream::from(content(&key));
        match c
            .put_object()
            .bucket(BUCKET)
            .key(&key)
            .body(body)
            .send()
            .await
        {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or_default().trim_matches('"').to_owned();
                acked(key, etag);
            }
            Err(_) => return, // the server is gone
        }
    }
}

/// `kill -9` on the server mid-load, then stops the writers and waits for them: whatever they
/// recorded as acknowledged is final from here on.
async fn crash_and_join(
    server: &mut Server,
    stop: &AtomicBool,
    tasks: Vec<tokio::task::JoinHandle<()>>,
) {
    server.crash().unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
}

async fn put_loop(c: aws_sdk_s3::Client, worker: usize, stop: Arc<AtomicBool>, t: Arc<Tally>) {
    put_until_gone(c, "put", worker, stop, content, &t.attempted, |key, _| {
        t.acked.lock().unwrap().insert(key);
    })
    .await;
}

async fn multipart_loop(
    c: aws_sdk_s3::Client,
    worker: usize,
    stop: Arc<AtomicBool>,
    t: Arc<Tally>,
) {
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("mp-{worker:02}-{i:05}");
        i += 1;
        t.attempted.lock().unwrap().insert(key.clone());
        let data = content(&key);
        let Ok(up) = c
            .create_multipart_upload()
            .bucket(BUCKET)
            .key(&key)
            .send()
            .await
        else {
            return;
        };
        let id = up.upload_id().unwrap_or_default().to_owned();
        let mut parts = Vec::new();
        for (n, chunk) in data.chunks(PART).enumerate() {
            let n = n as i32 + 1;
            let Ok(p) = c
                .upload_part()
                .bucket(BUCKET)
                .key(&key)
                .upload_id(&id)
                .part_number(n)
                .body(ByteStream::from(chunk.to_vec()))
                .send()
                .await
            else {
                return;
            };
            parts.push(
                CompletedPart::builder()
                    .part_number(n)
                    .e_tag(p.e_tag().unwrap_or_default())
                    .build(),
            );
        }
        let done = c
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key(&key)
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        match done {
            Ok(_) => {
                t.acked.lock().unwrap().insert(key);
            }
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_dash_nine() {
    let mut server = Server::start().unwrap();
    let c = admin(&server);
    c.create_bucket().bucket(BUCKET).send().await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut tasks = Vec::new();
    for w in 0..24 {
        tasks.push(tokio::spawn(put_loop(
            c.clone(),
            w,
            stop.clone(),
            tally.clone(),
        )));
    }
    for w in 0..3 {
        tasks.push(tokio::spawn(multipart_loop(
            c.clone(),
            w,
            stop.clone(),
            tally.clone(),
        )));
    }
    // Crash once a good number of writes are acknowledged and multipart work is in flight.
    let started = Instant::now();
    let acked_mp = || {
        tally
            .acked
            .lock()
            .unwrap()
            .iter()
            .filter(|k| k.starts_with("mp-"))
            .count()
    };
    while (tally.acked.lock().unwrap().len() < 300 || acked_mp() < 2)
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    crash_and_join(&mut server, &stop, tasks).await;
    let acked = tally.acked.lock().unwrap().clone();
    let attempted = tally.attempted.lock().unwrap().clone();

    server.restart().unwrap();
    let c = admin(&server);

    // Every acknowledged object is there, whole, with a checksum the SDK validates.
    let verified = AtomicUsize::new(0);
    for key in &acked {
        let got = c
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap_or_else(|e| panic!("acknowledged {key} lost after crash: {e:?}"));
        let body = got.body.collect().await.unwrap().into_bytes();
        assert!(
            body.as_ref() == content(key).as_slice(),
            "{key} corrupted after crash"
        );
        verified.fetch_add(1, Ordering::Relaxed);
    }

    // Nothing partial is visible: whatever is listed was attempted and reads back whole.
    let mut listed = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_objects_v2()
            .bucket(BUCKET)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        listed.extend(
            page.contents()
                .iter()
                .map(|o| (o.key().unwrap().to_owned(), o.size().unwrap())),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let mut unacked_complete = 0;
    for (key, size) in &listed {
        assert!(attempted.contains(key), "{key} listed but never written");
        let expect = content(key);
        assert_eq!(
            *size as usize,
            expect.len(),
            "{key} listed with a partial size"
        );
        if !acked.contains(key) {
            let body = c
                .get_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap();
            assert!(
                body.into_bytes().as_ref() == expect.as_slice(),
                "{key} partial"
            );
            unacked_complete += 1;
        }
    }
    let listed_keys: BTreeSet<_> = listed.iter().map(|(k, _)| k.clone()).collect();
    assert!(acked.is_subset(&listed_keys));
    let mp = acked.iter().filter(|k| k.starts_with("mp-")).count();
    eprintln!(
        "crash: {} acknowledged ({} PutObject, {} multipart) of {} attempted; after restart {} listed, \
         {} verified byte-exact, {} in flight at the kill and complete, 0 lost, 0 partial",
        acked.len(),
        acked.len() - mp,
        mp,
        attempted.len(),
        listed.len(),
        verified.load(Ordering::Relaxed),
        unacked_complete
    );
    assert!(server.stop().unwrap().success());
}

/// Bodies of 512 B to 8.5 KiB: all small enough to be stored inline and group-committed.
fn small_content(key: &str) -> Vec<u8> {
    let x = seed(key);
    bytes_from(x, 512 + (x % 8192) as usize)
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Default)]
struct SmallTally {
    attempted: Mutex<BTreeSet<String>>,
    /// Key -> the ETag the acknowledgement carried.
    acked: Mutex<BTreeMap<String, String>>,
}

async fn small_put_loop(
    c: aws_sdk_s3::Client,
    worker: usize,
    stop: Arc<AtomicBool>,
    t: Arc<SmallTally>,
) {
    put_until_gone(
        c,
        "small",
        worker,
        stop,
        small_content,
        &t.attempted,
        |key, etag| {
            t.acked.lock().unwrap().insert(key, etag);
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_small_puts_survive_kill_dash_nine() {
    let mut server = Server::start().unwrap();
    let c = admin(&server);
    c.create_bucket().bucket(BUCKET).send().await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(SmallTally::default());
    let tasks: Vec<_> = (0..48)
        .map(|w| tokio::spawn(small_put_loop(c.clone(), w, stop.clone(), tally.clone())))
        .collect();
    // Crash mid-stream: enough acknowledgements that many commit groups were involved.
    let started = Instant::now();
    while tally.acked.lock().unwrap().len() < 1500 && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    crash_and_join(&mut server, &stop, tasks).await;
    let acked = tally.acked.lock().unwrap().clone();
    let attempted = tally.attempted.lock().unwrap().clone();
    assert!(
        acked.len() >= 100,
        "too few PUTs acknowledged: {}",
        acked.len()
    );
    assert!(
        attempted.len() > acked.len(),
        "the kill must land while PUTs are in flight"
    );

    server.restart().unwrap();
    let c = admin(&server);
    for (key, etag) in &acked {
        let expect = small_content(key);
        assert_eq!(
            *etag,
            md5_hex(&expect),
            "{key} acknowledged with a wrong ETag"
        );
        let got = c
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("acknowledged {key} lost after crash: {e:?}"));
        assert_eq!(
            got.e_tag().unwrap_or_default().trim_matches('"'),
            etag,
            "{key} ETag changed after crash"
        );
        let body = got.body.collect().await.unwrap().into_bytes();
        assert!(
            body.as_ref() == expect.as_slice(),
            "{key} corrupted after crash"
        );
    }
    // Whatever else is listed was attempted and is whole.
    let mut listed = 0;
    let mut token = None;
    loop {
        let page = c
            .list_objects_v2()
            .bucket(BUCKET)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        for o in page.contents() {
            let key = o.key().unwrap();
            assert!(attempted.contains(key), "{key} listed but never written");
            let expect = small_content(key);
            assert_eq!(o.size().unwrap() as usize, expect.len(), "{key} partial");
            assert_eq!(o.e_tag().unwrap().trim_matches('"'), md5_hex(&expect));
            listed += 1;
        }
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert!(listed >= acked.len());
    eprintln!(
        "crash (small): {} acknowledged of {} attempted; after restart {} listed, all \
         acknowledged byte-exact with their ETag, 0 lost",
        acked.len(),
        attempted.len(),
        listed
    );
    assert!(server.stop().unwrap().success());
}
