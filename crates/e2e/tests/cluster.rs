//! Scale-out: two `mayfly serve` nodes sharing one PostgreSQL database (from
//! `MAYFLY_TEST_PG_URL`; run under `scripts/pg-test-server run ...`) and one upstream bucket,
//! behind a round-robin load balancer ([`mayfly_e2e::Cluster`]). Each test names node A and
//! node B and talks to them directly (their own listeners) where the node matters, and through
//! the balancer where it must not.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::Client as S3;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use mayfly_client::{CreateBucketRequest, CreateTokenRequest, TempCredentialsRequest};
use mayfly_core::TemporaryCredentials;
use mayfly_core::{AccountId, BucketName, Permission};
use mayfly_e2e::{Cluster, Node, UPSTREAM_BUCKET};
use support::{
    Retries, api, bytes_from, complete, error_code as code, get, put, seed, try_put, upload_part,
};

mod support;

const PART: usize = 5 << 20;

fn s3(url: &str, key: &str, secret: &str, token: Option<&str>) -> S3 {
    // One attempt: a retry could hide which node answered what.
    support::s3(url, key, secret, token, Retries::Off)
}

fn temp_s3(url: &str, creds: &TemporaryCredentials) -> S3 {
    support::temp_s3(url, creds, Retries::Off)
}

fn admin_s3(c: &Cluster, url: &str) -> S3 {
    s3(url, &c.access_key_id, &c.secret_access_key, None)
}

fn account(c: &Cluster) -> AccountId {
    AccountId::parse(&c.account_id).unwrap()
}

async fn create_bucket(c: &Cluster, api_url: &str, name: &str) {
    api(api_url, &c.api_token)
        .create_bucket(
            &account(c),
            &CreateBucketRequest::new(BucketName::parse(name).unwrap()),
        )
        .await
        .unwrap();
}

/// Deterministic bytes for a tag: what was written can be recomputed from the tag alone.
/// Bucket `revoke` holding the object `doc`, made through `node`: what the revocation tests
/// read with the credentials they then revoke.
async fn revoke_fixture(c: &Cluster, node: &Node) {
    create_bucket(c, &node.api_url, "revoke").await;
    put(
        &admin_s3(c, &node.s3_url),
        "revoke",
        "doc",
        ByteStream::from_static(b"doc"),
    )
    .await;
}

fn content(tag: &str, len: usize) -> Vec<u8> {
    bytes_from(seed(tag), len)
}

/// Every (key, ETag, size) of a bucket, paged `page` keys at a time.
async fn list_all(c: &S3, bucket: &str, page: i32) -> Vec<(String, String, i64)> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let resp = c
            .list_objects_v2()
            .bucket(bucket)
            .max_keys(page)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        out.extend(resp.contents().iter().map(|o| {
            (
                o.key().unwrap().to_owned(),
                o.e_tag().unwrap_or_default().to_owned(),
                o.size().unwrap_or(-1),
            )
        }));
        token = resp.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_minted_on_node_a_work_on_node_b_and_through_the_balancer() {
    let mut cluster = Cluster::start(2).unwrap();
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    create_bucket(&cluster, &a.api_url, "shared").await;

    // An API token created on A: its bearer value works on B's API, its key pair on B's S3.
    let made = api(&a.api_url, &cluster.api_token)
        .create_token(
            &account(&cluster),
            &CreateTokenRequest::new("cluster-rw", Permission::ObjectReadWrite),
        )
        .await
        .unwrap();
    let verified = api(&b.api_url, made.value.expose_secret())
        .verify_token()
        .await
        .unwrap();
    assert_eq!(verified.status, "active");
    let token_s3_b = s3(
        &b.s3_url,
        made.info.id.as_str(),
        made.secret_access_key.expose_secret(),
        None,
    );
    put(
        &token_s3_b,
        "shared",
        "by-token",
        ByteStream::from_static(b"token on b"),
    )
    .await;

    // Temporary credentials minted on A, parent = that token, used on B.
    let req = TempCredentialsRequest::new(
        BucketName::parse("shared").unwrap(),
        made.info.id.clone(),
        Permission::ObjectReadWrite,
    )
    .prefixes(vec!["user-1/".into()])
    .ttl_seconds(600);
    let temp = api(&a.api_url, &cluster.api_token)
        .create_temp_credentials(&account(&cluster), &req)
        .await
        .unwrap();
    let temp_on = |url: &str| temp_s3(url, &temp);
    put(
        &temp_on(&b.s3_url),
        "shared",
        "user-1/minted-on-a",
        ByteStream::from_static(b"written on b"),
    )
    .await;
    let (body, _) = get(&temp_on(&a.s3_url), "shared", "user-1/minted-on-a").await;
    assert_eq!(body, b"written on b");
    // The scope travels with the credential: B refuses what A would refuse.
    let denied = try_put(
        &temp_on(&b.s3_url),
        "shared",
        "user-2/outside",
        ByteStream::from_static(b"x"),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&denied.into_service_error()), "AccessDenied");

    // Through the balancer: every request on a fresh connection, so both nodes answer.
    for i in 0..8 {
        let c = temp_on(&cluster.s3_url);
        let key = format!("user-1/lb-{i}");
        put(
            &c,
            "shared",
            &key,
            ByteStream::from(key.clone().into_bytes()),
        )
        .await;
        let (body, _) = get(&temp_on(&cluster.s3_url), "shared", &key).await;
        assert_eq!(body, key.as_bytes());
        let listed = api(&cluster.api_url, made.value.expose_secret())
            .verify_token()
            .await
            .unwrap();
        assert_eq!(listed.status, "active");
    }
    let conns = cluster.connections();
    eprintln!("connections per node through the balancers (api, s3): {conns:?}");
    assert!(
        conns.iter().all(|&(api, s3)| api > 0 && s3 > 0),
        "every node must have served API and S3 traffic through the balancer: {conns:?}"
    );
    cluster.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_on_node_a_is_refused_by_node_b_within_one_second() {
    let mut cluster = Cluster::start(2).unwrap();
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    revoke_fixture(&cluster, a).await;
    let admin_a = api(&a.api_url, &cluster.api_token);
    let made = admin_a
        .create_token(
            &account(&cluster),
            &CreateTokenRequest::new("to-revoke", Permission::ObjectReadOnly),
        )
        .await
        .unwrap();
    let temp = admin_a
        .create_temp_credentials(
            &account(&cluster),
            &TempCredentialsRequest::new(
                BucketName::parse("revoke").unwrap(),
                made.info.id.clone(),
                Permission::ObjectReadOnly,
            ),
        )
        .await
        .unwrap();
    let token_b = s3(
        &b.s3_url,
        made.info.id.as_str(),
        made.secret_access_key.expose_secret(),
        None,
    );
    let temp_b = temp_s3(&b.s3_url, &temp);
    let bearer_b = api(&b.api_url, made.value.expose_secret());
    // Both work on B before the revocation.
    assert_eq!(get(&token_b, "revoke", "doc").await.0, b"doc");
    assert_eq!(get(&temp_b, "revoke", "doc").await.0, b"doc");
    bearer_b.verify_token().await.unwrap();

    admin_a
        .revoke_token(&account(&cluster), &made.info.id)
        .await
        .unwrap();
    let revoked = Instant::now();
    let deadline = revoked + Duration::from_secs(1);
    let mut polls = 0;
    let (mut key_refused, mut temp_refused, mut bearer_refused) = (None, None, None);
    while key_refused.is_none() || temp_refused.is_none() || bearer_refused.is_none() {
        assert!(
            Instant::now() < deadline,
            "node B still accepts a token revoked on node A after 1 s \
             (key pair refused: {key_refused:?}, temporary: {temp_refused:?}, bearer: {bearer_refused:?})"
        );
        polls += 1;
        if key_refused.is_none()
            && let Err(e) = token_b
                .get_object()
                .bucket("revoke")
                .key("doc")
                .send()
                .await
        {
            assert_eq!(code(&e.into_service_error()), "AccessDenied");
            key_refused = Some(revoked.elapsed());
        }
        if temp_refused.is_none()
            && let Err(e) = temp_b.get_object().bucket("revoke").key("doc").send().await
        {
            assert_eq!(code(&e.into_service_error()), "AccessDenied");
            temp_refused = Some(revoked.elapsed());
        }
        if bearer_refused.is_none() && bearer_b.verify_token().await.is_err() {
            bearer_refused = Some(revoked.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!(
        "revocation on A refused by B after: key pair {key_refused:?}, temporary credentials \
         {temp_refused:?}, bearer {bearer_refused:?} ({polls} polls)"
    );
    cluster.stop().unwrap();
}

/// A writer's record: every tag it wrote to each key.
type Written = Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>;

fn small_len(tag: &str) -> usize {
    1024 + content(tag, 8)[0] as usize * 160
}

async fn small_writer(c: S3, node: usize, writer: usize, keys: Vec<String>, written: Written) {
    for round in 0..3 {
        for i in 0..keys.len() {
            // Each writer walks the keys from a different start, so writes to a key overlap.
            let key = &keys[(i + writer * 5 + round) % keys.len()];
            let tag = format!("{key}/node{node}/w{writer}/r{round}");
            written
                .lock()
                .unwrap()
                .entry(key.clone())
                .or_default()
                .insert(tag.clone());
            put(
                &c,
                "race",
                key,
                ByteStream::from(content(&tag, small_len(&tag))),
            )
            .await;
        }
    }
}

async fn multipart_writer(c: S3, node: usize, keys: Vec<String>, written: Written) {
    for round in 0..2 {
        for key in &keys {
            let tag = format!("{key}/node{node}/r{round}");
            written
                .lock()
                .unwrap()
                .entry(key.clone())
                .or_default()
                .insert(tag.clone());
            let data = content(&tag, PART + 4321);
            let up = c
                .create_multipart_upload()
                .bucket("race")
                .key(key)
                .send()
                .await
                .unwrap();
            let id = up.upload_id().unwrap().to_owned();
            let mut parts = Vec::new();
            for (n, chunk) in data.chunks(PART).enumerate() {
                let n = n as i32 + 1;
                parts.push(upload_part(&c, "race", key, &id, n, chunk.to_vec()).await);
            }
            complete(&c, "race", key, &id, parts).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_on_both_nodes_leave_one_last_writer_state() {
    let mut cluster = Cluster::start(2).unwrap();
    create_bucket(&cluster, &cluster.nodes[0].api_url, "race").await;
    let small: Vec<String> = (0..12).map(|i| format!("k-{i:02}")).collect();
    let big: Vec<String> = (0..2).map(|i| format!("mp-{i}")).collect();
    let written: Written = Arc::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, node) in cluster.nodes.iter().enumerate() {
        let c = admin_s3(&cluster, &node.s3_url);
        for w in 0..3 {
            tasks.push(tokio::spawn(small_writer(
                c.clone(),
                n,
                w,
                small.clone(),
                written.clone(),
            )));
        }
        tasks.push(tokio::spawn(multipart_writer(
            c.clone(),
            n,
            big.clone(),
            written.clone(),
        )));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let written = written.lock().unwrap().clone();
    let writes: usize = written.values().map(BTreeSet::len).sum();

    let a = admin_s3(&cluster, &cluster.nodes[0].s3_url);
    let b = admin_s3(&cluster, &cluster.nodes[1].s3_url);
    let mut winners = [0usize; 2];
    for (key, tags) in &written {
        let (body_a, etag_a) = get(&a, "race", key).await;
        let (body_b, etag_b) = get(&b, "race", key).await;
        assert_eq!(etag_a, etag_b, "{key}: nodes disagree on the ETag");
        assert!(body_a == body_b, "{key}: nodes return different bytes");
        let len = |t: &str| {
            if key.starts_with("mp-") {
                PART + 4321
            } else {
                small_len(t)
            }
        };
        let winner = tags
            .iter()
            .find(|t| content(t, len(t)) == body_a)
            .unwrap_or_else(|| panic!("{key}: the stored bytes are none of the values written"));
        winners[usize::from(winner.contains("/node1/"))] += 1;
    }

    // Listings agree, page by page, and name each key exactly once.
    let listed_a = list_all(&a, "race", 5).await;
    let listed_b = list_all(&b, "race", 3).await;
    assert_eq!(listed_a, listed_b, "the nodes list different objects");
    let keys: Vec<&String> = listed_a.iter().map(|(k, _, _)| k).collect();
    let unique: BTreeSet<&String> = keys.iter().copied().collect();
    assert_eq!(keys.len(), unique.len(), "a key is listed twice: {keys:?}");
    assert_eq!(
        unique,
        written.keys().collect::<BTreeSet<_>>(),
        "listed keys differ from written keys"
    );
    let uploads = a
        .list_multipart_uploads()
        .bucket("race")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "uploads left behind");

    // No orphan in the upstream bucket: exactly one blob per small object, one per part.
    let up = s3(
        &cluster.upstream.s3_url,
        &cluster.upstream.access_key_id,
        &cluster.upstream.secret_access_key,
        None,
    );
    let blobs = list_all(&up, UPSTREAM_BUCKET, 1000).await;
    let expected = small.len() + big.len() * 2;
    assert_eq!(
        blobs.len(),
        expected,
        "upstream holds {} blobs, live objects reference {expected}",
        blobs.len()
    );
    eprintln!(
        "{writes} writes ({} keys) from 8 writers on 2 nodes in {:?}: both nodes agree on every \
         key; last writers: {} from node 0, {} from node 1; {} upstream blobs, none orphaned",
        written.len(),
        started.elapsed(),
        winners[0],
        winners[1],
        blobs.len()
    );
    cluster.stop().unwrap();
}

/// A streamed body: `first` bytes at once, then the rest only after `go` fires.
fn held_body(
    tag: &str,
    len: usize,
    first: usize,
    go: tokio::sync::watch::Receiver<bool>,
    sent: Arc<std::sync::atomic::AtomicUsize>,
) -> reqwest::Body {
    use futures::StreamExt;
    let data = content(tag, len);
    let chunks: Vec<(usize, bytes::Bytes)> = data
        .chunks(64 * 1024)
        .enumerate()
        .map(|(i, c)| (i * 64 * 1024, bytes::Bytes::copy_from_slice(c)))
        .collect();
    let stream = futures::stream::iter(chunks).then(move |(offset, chunk)| {
        let mut go = go.clone();
        let sent = sent.clone();
        async move {
            if offset >= first {
                let _ = go.wait_for(|g| *g).await;
            }
            sent.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
            Ok::<_, std::io::Error>(chunk)
        }
    });
    reqwest::Body::wrap_stream(stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_a_node_mid_upload_leaves_the_other_serving_and_nothing_partial() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    let mut cluster = Cluster::start(2).unwrap();
    let a_s3 = cluster.nodes[0].s3_url.clone();
    let b_s3 = cluster.nodes[1].s3_url.clone();
    create_bucket(&cluster, &cluster.nodes[1].api_url, "crash").await;
    let a = admin_s3(&cluster, &a_s3);
    let b = admin_s3(&cluster, &b_s3);
    let presign = PresigningConfig::expires_in(Duration::from_secs(600)).unwrap();
    const SIZE: usize = 24 << 20;
    const FIRST: usize = 6 << 20;

    // 1. A single streamed PUT to node A.
    let put_url = a
        .put_object()
        .bucket("crash")
        .key("single")
        .presigned(presign.clone())
        .await
        .unwrap();
    // 2. A multipart upload on node A: part 1 done, part 2 streaming when A dies.
    let up = a
        .create_multipart_upload()
        .bucket("crash")
        .key("multi")
        .send()
        .await
        .unwrap();
    let upload_id = up.upload_id().unwrap().to_owned();
    let part1 = content("multi/1", PART);
    let p1 = upload_part(&a, "crash", "multi", &upload_id, 1, part1.clone()).await;
    let part2_url = a
        .upload_part()
        .bucket("crash")
        .key("multi")
        .upload_id(&upload_id)
        .part_number(2)
        .presigned(presign.clone())
        .await
        .unwrap();

    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    let sent_put = Arc::new(AtomicUsize::new(0));
    let sent_part = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::new();
    let put = tokio::spawn(
        http.put(put_url.uri())
            .header("content-length", SIZE)
            .body(held_body(
                "single",
                SIZE,
                FIRST,
                go_rx.clone(),
                sent_put.clone(),
            ))
            .send(),
    );
    let part = tokio::spawn(
        http.put(part2_url.uri())
            .header("content-length", SIZE)
            .body(held_body("multi/2", SIZE, FIRST, go_rx, sent_part.clone()))
            .send(),
    );
    // Kill A once both bodies have handed it their first MiBs.
    let wait = Instant::now();
    while sent_put.load(Ordering::Relaxed) < FIRST || sent_part.load(Ordering::Relaxed) < FIRST {
        assert!(
            wait.elapsed() < Duration::from_secs(60),
            "uploads never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.nodes[0].kill().unwrap();
    let _ = go_tx.send(true);
    for (what, task) in [("single PUT", put), ("UploadPart", part)] {
        match task.await.unwrap() {
            Err(_) => {}
            Ok(resp) => assert!(
                !resp.status().is_success(),
                "{what} to a killed node was acknowledged: {}",
                resp.status()
            ),
        }
    }

    // B serves, and shows neither partial object.
    let listed = list_all(&b, "crash", 100).await;
    assert!(listed.is_empty(), "partial objects listed: {listed:?}");
    for key in ["single", "multi"] {
        let e = b
            .head_object()
            .bucket("crash")
            .key(key)
            .send()
            .await
            .unwrap_err();
        assert!(
            e.into_service_error().is_not_found(),
            "{key} is visible after the kill"
        );
    }
    // The upload itself lives in the shared metadata: B finishes what A started.
    let part2 = content("multi/2", 1 << 20);
    let p2 = upload_part(&b, "crash", "multi", &upload_id, 2, part2.clone()).await;
    complete(&b, "crash", "multi", &upload_id, vec![p1, p2]).await;
    let (body, _) = get(&b, "crash", "multi").await;
    assert!(body == [part1, part2].concat(), "completed object differs");

    // The balancer keeps serving on the surviving node: fresh connections, no failures.
    let survivors_before = cluster.connections()[1];
    for i in 0..10 {
        let c = admin_s3(&cluster, &cluster.s3_url);
        let key = format!("after/{i}");
        try_put(
            &c,
            "crash",
            &key,
            ByteStream::from(key.clone().into_bytes()),
        )
        .await
        .unwrap_or_else(|e| panic!("PUT {key} through the balancer after the kill: {e:?}"));
        assert_eq!(get(&c, "crash", &key).await.0, key.as_bytes());
        let acct = api(&cluster.api_url, &cluster.api_token)
            .list_buckets(&account(&cluster), &Default::default())
            .await
            .unwrap();
        assert!(acct.buckets.iter().any(|b| b.name.as_str() == "crash"));
    }
    let after = cluster.connections();
    assert!(
        after[1].1 >= survivors_before.1 + 10,
        "the survivor took the balancer's S3 traffic: {after:?}"
    );
    eprintln!(
        "killed node A mid-upload ({} + {} bytes sent); node B: no partial object, finished the \
         upload A started, and served 10 PUT/GET/list rounds through the balancer; connections \
         (api, s3): {after:?}",
        sent_put.load(Ordering::Relaxed),
        sent_part.load(Ordering::Relaxed)
    );
    assert!(cluster.nodes[1].stop().unwrap().success());
}

// ----- revoking one temporary credential (issue 15) ---------------------------------------

/// Polls `c` with GET until it answers 403; returns how long that took, or panics after
/// `limit`. The refusal must be the explained revocation.
async fn refused_after(c: &S3, since: Instant, limit: Duration) -> Duration {
    loop {
        match c.get_object().bucket("revoke").key("doc").send().await {
            Ok(_) => {}
            Err(e) => {
                let e = e.into_service_error();
                assert_eq!(code(&e), "AccessDenied");
                assert_eq!(
                    aws_sdk_s3::error::ProvideErrorMetadata::message(&e),
                    Some(mayfly_core::REVOKED_MESSAGE)
                );
                return since.elapsed();
            }
        }
        assert!(
            since.elapsed() < limit,
            "node B still accepts a credential revoked on node A after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Kills every cache-invalidation listener of the cluster's database; returns how many.
async fn kill_listeners(admin: &tokio_postgres::Client, database: &str) -> u64 {
    let rows = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND application_name = $2",
            &[&database, &"mayfly-invalidations"],
        )
        .await
        .unwrap();
    rows.len() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_revoked_on_node_a_is_refused_by_node_b_even_without_notifications() {
    // A TTL shorter than the listener's first reconnect delay (1 s): convergence with the
    // listener killed can then only come from the TTL.
    const TTL: Duration = Duration::from_millis(500);
    let mut cluster = Cluster::start_with(&mayfly_e2e::ClusterOptions {
        nodes: 2,
        env: vec![(
            "MAYFLY_TOKEN_CACHE_TTL_MS".into(),
            TTL.as_millis().to_string(),
        )],
        ..Default::default()
    })
    .unwrap();
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    revoke_fixture(&cluster, a).await;
    let admin_a = api(&a.api_url, &cluster.api_token);
    // Distinct lifetimes: identical claims minted in one second are one and the same credential.
    let mint = |ttl: u64| {
        let admin_a = &admin_a;
        let cluster = &cluster;
        async move {
            admin_a
                .create_temp_credentials(
                    &account(cluster),
                    &TempCredentialsRequest::new(
                        BucketName::parse("revoke").unwrap(),
                        mayfly_core::AccessKeyId::parse(&cluster.access_key_id).unwrap(),
                        Permission::ObjectReadOnly,
                    )
                    .ttl_seconds(ttl),
                )
                .await
                .unwrap()
        }
    };
    let (first, second, sibling) = (mint(900).await, mint(901).await, mint(902).await);
    let sibling_b = temp_s3(&b.s3_url, &sibling);

    // 1. Notifications working: revoke `first` on A, B refuses it.
    let first_b = temp_s3(&b.s3_url, &first);
    assert_eq!(get(&first_b, "revoke", "doc").await.0, b"doc");
    admin_a
        .revoke_credential(
            &account(&cluster),
            &mayfly_client::RevokeTarget::SessionToken(first.session_token.clone()),
        )
        .await
        .unwrap();
    let notified = refused_after(&first_b, Instant::now(), Duration::from_secs(1)).await;

    // 2. The listening connections killed: B's cached "not revoked" must still expire.
    let (admin, connection) = tokio_postgres::connect(
        &std::env::var("MAYFLY_TEST_PG_URL").unwrap(),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let second_b = temp_s3(&b.s3_url, &second);
    assert_eq!(get(&second_b, "revoke", "doc").await.0, b"doc");
    let killed = kill_listeners(&admin, &cluster.database).await;
    assert_eq!(killed, 2, "one listener per node");
    admin_a
        .revoke_credential(
            &account(&cluster),
            &mayfly_client::RevokeTarget::Id(second.id.clone()),
        )
        .await
        .unwrap();
    let since = Instant::now();
    let by_ttl = refused_after(&second_b, since, Duration::from_secs(1)).await;
    assert!(
        by_ttl <= TTL + Duration::from_millis(250),
        "without notifications B converged after {by_ttl:?}, more than the {TTL:?} TTL"
    );

    // The sibling from the same parent works on both nodes throughout.
    assert_eq!(get(&sibling_b, "revoke", "doc").await.0, b"doc");
    assert_eq!(
        get(&temp_s3(&a.s3_url, &sibling), "revoke", "doc").await.0,
        b"doc"
    );
    eprintln!(
        "credential revoked on A refused by B after {notified:?} with LISTEN/NOTIFY, \
         {by_ttl:?} with the listeners killed (TTL {TTL:?})"
    );
    cluster.stop().unwrap();
}
