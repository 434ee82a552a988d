//! A 1 GiB upload and download through presigned URLs, streamed on both sides, with the
//! server's peak RSS reported (goal: under 100 MiB whatever the object size).

use crate::aws_sdk_rust::admin;
use aws_sdk_s3::presigning::PresigningConfig;
use futures::StreamExt;
use mayfly_e2e::Server;
use std::time::{Duration, Instant};

const SIZE: u64 = 1 << 30;
const CHUNK: usize = 1 << 20;

/// Chunk `i` of the test object: a fixed pseudo-random MiB stamped with its index, so every
/// chunk differs and can be checked on the way back without holding the object.
fn chunk(base: &[u8], i: u64) -> Vec<u8> {
    let mut c = base.to_vec();
    c[..8].copy_from_slice(&i.to_le_bytes());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gibibyte_streams_with_flat_memory() {
    let mut server = Server::start().unwrap();
    let c = admin(&server);
    c.create_bucket().bucket("stream").send().await.unwrap();
    let base: Vec<u8> = (0..CHUNK as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let presign = PresigningConfig::expires_in(Duration::from_secs(3600)).unwrap();

    let put_url = c
        .put_object()
        .bucket("stream")
        .key("big/1gib.bin")
        .presigned(presign.clone())
        .await
        .unwrap();
    let chunks = SIZE / CHUNK as u64;
    let b = base.clone();
    let body = futures::stream::iter(0..chunks)
        .map(move |i| Ok::<_, std::io::Error>(bytes::Bytes::from(chunk(&b, i))));
    let http = reqwest::Client::new();
    let t = Instant::now();
    let resp = http
        .put(put_url.uri())
        .header("content-length", SIZE)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let up = t.elapsed();

    let get_url = c
        .get_object()
        .bucket("stream")
        .key("big/1gib.bin")
        .presigned(presign)
        .await
        .unwrap();
    let t = Instant::now();
    let resp = http.get(get_url.uri()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(SIZE));
    let mut stream = resp.bytes_stream();
    let (mut seen, mut pending) = (0u64, Vec::with_capacity(CHUNK));
    while let Some(piece) = stream.next().await {
        pending.extend_from_slice(&piece.unwrap());
        while pending.len() >= CHUNK {
            let i = seen / CHUNK as u64;
            assert!(pending[..CHUNK] == chunk(&base, i)[..], "chunk {i} differs");
            pending.drain(..CHUNK);
            seen += CHUNK as u64;
        }
    }
    assert!(pending.is_empty());
    assert_eq!(seen, SIZE);
    let down = t.elapsed();

    let rss = server.peak_rss_kib().unwrap();
    eprintln!(
        "streaming: 1 GiB up in {:.1} s, down in {:.1} s; server peak RSS {} MiB",
        up.as_secs_f64(),
        down.as_secs_f64(),
        rss / 1024
    );
    assert!(
        rss < 100 * 1024,
        "server peak RSS {} MiB: memory must stay flat",
        rss / 1024
    );
    assert!(server.stop().unwrap().success());
}
