//! The steps each scenario is made of, who runs them (this process alone, every endpoint, or
//! only endpoints with a management API) and what one operation of each does.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use hmac::Mac;
use mayfly_core::{AccessKeyId, AccountId, BucketName, Claims, Permission, SecretAccessKey, mint};
use sha2::Digest as _;
use tokio::sync::Mutex;

use crate::ceiling::Ceiling;
use crate::cli::{ClientKind, Plan, fmt_size};
use crate::load::{self, Budget, Sample};
use crate::target::{AUTH_KEY, BUCKET, LIST_BUCKET, Target, payload, s3_client};

/// Who runs a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// This process: crypto, local signing, raw disk.
    Local,
    /// Every endpoint, peers included.
    AllEndpoints,
    /// Endpoints with a management API (Mayfly).
    ApiEndpoints,
}

/// What one operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Healthz,
    MintHttp,
    MintLocal,
    HmacSha256,
    Sha256,
    Md5,
    DiskWrite,
    DiskRead,
    Get {
        temp: bool,
    },
    Put,
    PutLarge {
        multipart: bool,
    },
    GetLarge {
        multipart: bool,
    },
    /// The large GET's client downloading the same bytes from [`crate::ceiling`]'s in-process
    /// server: what HTTP on this machine can do.
    HttpCeiling,
    List,
    /// `mayfly serve --ephemeral`: process start to its JSON line (both listeners accept).
    EphemeralReady,
}

/// One step: an operation kind at one size and concurrency.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// Stable id, e.g. `small/put/4KiB/c16`: the row key in every output.
    pub(crate) id: String,
    /// Scenario: baseline, mint, auth, small, large, list.
    pub(crate) scenario: &'static str,
    pub(crate) kind: Kind,
    pub(crate) who: Who,
    pub(crate) concurrency: usize,
    /// Object or buffer size in bytes (0 where none).
    pub(crate) size: usize,
    pub(crate) budget: Budget,
    /// Whether `units` are bytes (MiB/s is meaningful) rather than items.
    pub(crate) bytes: bool,
    /// S3 client for GET/PUT of small objects (the SDK everywhere else).
    pub(crate) client: ClientKind,
}

/// The steps of one round, in order, for the selected scenarios.
pub(crate) fn plan_steps(plan: &Plan) -> Vec<Step> {
    let wants = |s: &str| plan.scenarios.iter().any(|x| x == s);
    let t = Budget::Time(plan.step);
    let mut v = Vec::new();
    #[allow(clippy::too_many_arguments)]
    fn add(
        v: &mut Vec<Step>,
        id: String,
        scenario: &'static str,
        kind: Kind,
        who: Who,
        concurrency: usize,
        size: usize,
        budget: Budget,
        bytes: bool,
    ) {
        v.push(Step {
            id,
            scenario,
            kind,
            who,
            concurrency,
            size,
            budget,
            bytes,
            client: ClientKind::Sdk,
        });
    }
    // The auth and small steps once per client kind, the raw ones tagged `/raw`.
    let per_client = |v: &mut Vec<Step>, start: usize| {
        let section: Vec<Step> = v.drain(start..).collect();
        for &c in &plan.clients {
            for st in &section {
                let mut st = st.clone();
                st.client = c;
                if c == ClientKind::Raw {
                    st.id.push_str("/raw");
                }
                v.push(st);
            }
        }
    };
    let (small, large) = (plan.small_size, plan.large_size);
    let sz = |n: usize| fmt_size(n).replace(' ', "");
    if wants("baseline") {
        add(
            &mut v,
            "baseline/healthz".into(),
            "baseline",
            Kind::Healthz,
            Who::ApiEndpoints,
            plan.conns,
            0,
            t,
            false,
        );
        for (name, kind) in [
            ("hmac-sha256", Kind::HmacSha256),
            ("sha256", Kind::Sha256),
            ("md5", Kind::Md5),
        ] {
            add(
                &mut v,
                format!("baseline/{name}/1MiB"),
                "baseline",
                kind,
                Who::Local,
                1,
                1 << 20,
                t,
                true,
            );
        }
        for size in [small, large] {
            // A large write+fsync takes long: count operations, not seconds.
            let b = if size == large { Budget::Ops(1) } else { t };
            add(
                &mut v,
                format!("baseline/disk-write-fsync/{}", sz(size)),
                "baseline",
                Kind::DiskWrite,
                Who::Local,
                1,
                size,
                b,
                true,
            );
            add(
                &mut v,
                format!("baseline/disk-read/{}", sz(size)),
                "baseline",
                Kind::DiskRead,
                Who::Local,
                1,
                size,
                b,
                true,
            );
        }
    }
    if wants("mint") {
        add(
            &mut v,
            "mint/local-sign".into(),
            "mint",
            Kind::MintLocal,
            Who::Local,
            1,
            0,
            t,
            false,
        );
        add(
            &mut v,
            "mint/http".into(),
            "mint",
            Kind::MintHttp,
            Who::ApiEndpoints,
            plan.conns,
            0,
            t,
            false,
        );
    }
    if wants("auth") {
        let start = v.len();
        let s = sz(plan.auth_size);
        add(
            &mut v,
            format!("auth/get-{s}/long-lived"),
            "auth",
            Kind::Get { temp: false },
            Who::AllEndpoints,
            plan.conns,
            plan.auth_size,
            t,
            true,
        );
        add(
            &mut v,
            format!("auth/get-{s}/temporary"),
            "auth",
            Kind::Get { temp: true },
            Who::ApiEndpoints,
            plan.conns,
            plan.auth_size,
            t,
            true,
        );
        per_client(&mut v, start);
    }
    if wants("small") {
        let start = v.len();
        for &c in &plan.concurrency {
            add(
                &mut v,
                format!("small/put/{}/c{c}", sz(small)),
                "small",
                Kind::Put,
                Who::AllEndpoints,
                c,
                small,
                t,
                true,
            );
        }
        for &c in &plan.concurrency {
            add(
                &mut v,
                format!("small/get/{}/c{c}", sz(small)),
                "small",
                Kind::Get { temp: false },
                Who::AllEndpoints,
                c,
                small,
                t,
                true,
            );
        }
        per_client(&mut v, start);
    }
    if wants("large") {
        for multipart in [false, true] {
            let m = if multipart { "multipart" } else { "single" };
            add(
                &mut v,
                format!("large/put/{}/{m}", sz(large)),
                "large",
                Kind::PutLarge { multipart },
                Who::AllEndpoints,
                1,
                large,
                Budget::Ops(1),
                true,
            );
            add(
                &mut v,
                format!("large/get/{}/{m}", sz(large)),
                "large",
                Kind::GetLarge { multipart },
                Who::AllEndpoints,
                1,
                large,
                Budget::Ops(1),
                true,
            );
            if !multipart {
                // Right beside the GET it bounds, in every round.
                add(
                    &mut v,
                    format!("large/get/{}/http-ceiling", sz(large)),
                    "large",
                    Kind::HttpCeiling,
                    Who::Local,
                    1,
                    large,
                    Budget::Ops(1),
                    true,
                );
            }
        }
    }
    if wants("startup") {
        // Each operation starts and stops a whole process: count them, not seconds.
        add(
            &mut v,
            "startup/ephemeral-ready".into(),
            "startup",
            Kind::EphemeralReady,
            Who::Local,
            1,
            0,
            Budget::Ops(if plan.smoke { 3 } else { 20 }),
            false,
        );
    }
    if wants("list") {
        add(
            &mut v,
            format!("list/v2-page/{}", plan.list_page),
            "list",
            Kind::List,
            Who::AllEndpoints,
            1,
            0,
            t,
            false,
        );
    }
    v
}

/// State the local steps share across rounds.
pub(crate) struct Local {
    pub(crate) disk_dir: std::path::PathBuf,
    pub(crate) mib: Bytes,
    pub(crate) small: Bytes,
    pub(crate) large: Bytes,
    pub(crate) seq: u64,
    /// The `mayfly` binary the startup step launches.
    pub(crate) mayfly_bin: std::path::PathBuf,
    /// The in-process HTTP server of the ceiling step and the S3 client that reads from it,
    /// started on first use and kept for every round.
    pub(crate) ceiling: Option<(Ceiling, aws_sdk_s3::Client)>,
}

/// Runs `step` once on this process (`target` is `None`) or on one endpoint.
pub(crate) async fn exec(
    step: &Step,
    plan: &Plan,
    local: &mut Local,
    target: Option<&Target>,
) -> Result<Sample> {
    match target {
        None => exec_local(step, plan, local).await,
        Some(t) => exec_remote(step, plan, t).await,
    }
}

async fn exec_local(step: &Step, _plan: &Plan, local: &mut Local) -> Result<Sample> {
    let buf = local.mib.clone();
    Ok(match step.kind {
        Kind::HmacSha256 => {
            let key = [0x5au8; 64];
            load::run_blocking(step.budget, move |_| {
                let mut mac =
                    hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).context("hmac key")?;
                mac.update(&buf);
                std::hint::black_box(mac.finalize());
                Ok(buf.len() as u64)
            })
            .await
        }
        Kind::Sha256 => {
            load::run_blocking(step.budget, move |_| {
                std::hint::black_box(sha2::Sha256::digest(&buf));
                Ok(buf.len() as u64)
            })
            .await
        }
        Kind::Md5 => {
            load::run_blocking(step.budget, move |_| {
                use md5::Digest as _;
                std::hint::black_box(md5::Md5::digest(&buf));
                Ok(buf.len() as u64)
            })
            .await
        }
        Kind::MintLocal => {
            let secret =
                SecretAccessKey::from_token_value("mayfly-bench-parent-token-value-000000000");
            let account = AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353")?;
            let parent = AccessKeyId::parse("0123456789abcdef0123456789abcdef")?;
            let bucket = BucketName::parse(BUCKET)?;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            load::run_blocking(step.budget, move |_| {
                // A fresh claim set per credential, as a signing service would build it.
                let claims = Claims::builder(
                    bucket.clone(),
                    Permission::ObjectReadWrite,
                    account.clone(),
                    parent.clone(),
                    "127.0.0.1:8788",
                )
                .issued_at(now)
                .ttl_secs(3600)
                .build()?;
                std::hint::black_box(mint(&claims, &secret));
                Ok(0)
            })
            .await
        }
        Kind::DiskWrite => {
            let body = if step.size == local.large.len() {
                local.large.clone()
            } else {
                local.small.clone()
            };
            let dir = local.disk_dir.clone();
            local.seq += 1;
            let round = local.seq;
            load::run_blocking(step.budget, move |n| {
                let path = dir.join(format!("w-{}-{round}-{n}", body.len()));
                let written = write_fsync(&path, &body)?;
                // The read step reads the file this left behind; older ones go.
                let keep = dir.join(format!("r-{}", body.len()));
                std::fs::rename(&path, &keep)?;
                Ok(written)
            })
            .await
        }
        Kind::DiskRead => {
            let path = local.disk_dir.join(format!("r-{}", step.size));
            if !path.exists() {
                let body = if step.size == local.large.len() {
                    local.large.clone()
                } else {
                    local.small.clone()
                };
                write_fsync(&path, &body)?;
            }
            load::run_blocking(step.budget, move |_| read_all(&path)).await
        }
        Kind::HttpCeiling => {
            if local
                .ceiling
                .as_ref()
                .is_none_or(|(c, _)| c.len != step.size)
            {
                let body = large_body(step.size);
                let c = Ceiling::start(body).await?;
                // The large GET's own client, configured the same way; the server ignores the
                // signature, so any key pair does.
                let s3 = s3_client(&c.url, "ceiling", "ceiling-not-a-secret", None);
                local.ceiling = Some((c, s3));
            }
            let s3 = local
                .ceiling
                .as_ref()
                .map(|(_, s3)| s3.clone())
                .context("ceiling server")?;
            load::run(1, step.budget, move |_, _| {
                let s3 = s3.clone();
                async move { get_count(&s3, BUCKET, "large/single").await }
            })
            .await
        }
        Kind::EphemeralReady => {
            let bin = local.mayfly_bin.clone();
            let runs = match step.budget {
                Budget::Ops(n) => n,
                Budget::Time(_) => 1,
            };
            tokio::task::spawn_blocking(move || ephemeral_starts(&bin, runs))
                .await
                .context("startup step panicked")?
        }
        Kind::Healthz
        | Kind::MintHttp
        | Kind::Get { .. }
        | Kind::Put
        | Kind::PutLarge { .. }
        | Kind::GetLarge { .. }
        | Kind::List => anyhow::bail!("{} is not a local step", step.id),
    })
}

/// `runs` starts of `mayfly serve --ephemeral --exit-on-stdin-eof`. The latency recorded is
/// process start to its JSON line (both listeners accept): what a test fixture waits for. The
/// stop that follows (close stdin, drain, remove the data directory, reap) is not timed.
fn ephemeral_starts(bin: &std::path::Path, runs: u64) -> Sample {
    let mut s = Sample::default();
    let start = std::time::Instant::now();
    for _ in 0..runs {
        match ephemeral_ready(bin) {
            Ok(ready) => {
                s.latencies_us
                    .push(u32::try_from(ready.as_micros()).unwrap_or(u32::MAX));
                s.ops += 1;
            }
            Err(e) => {
                s.errors += 1;
                s.first_error.get_or_insert_with(|| format!("{e:#}"));
                break;
            }
        }
    }
    s.secs = start.elapsed().as_secs_f64();
    s
}

/// One start: the time to the ready line, after a clean stop.
fn ephemeral_ready(bin: &std::path::Path) -> Result<std::time::Duration> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let t = std::time::Instant::now();
    let mut child = Command::new(bin)
        .args(["serve", "--ephemeral", "--exit-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("spawning {} serve --ephemeral", bin.display()))?;
    let mut line = String::new();
    let read = child
        .stdout
        .take()
        .map(|out| std::io::BufReader::new(out).read_line(&mut line));
    let ready = t.elapsed();
    drop(child.stdin.take());
    let status = child.wait()?;
    match read {
        Some(Ok(n)) if n > 0 && line.contains("\"api_url\"") && status.success() => Ok(ready),
        _ => anyhow::bail!("mayfly serve --ephemeral: no ready line (exit {status})"),
    }
}

fn write_fsync(path: &std::path::Path, body: &[u8]) -> Result<u64> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    for chunk in body.chunks(1 << 20) {
        f.write_all(chunk)?;
    }
    f.sync_all()?;
    Ok(body.len() as u64)
}

fn read_all(path: &std::path::Path) -> Result<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

async fn exec_remote(step: &Step, plan: &Plan, t: &Target) -> Result<Sample> {
    let budget = step.budget;
    let c = step.concurrency;
    Ok(match step.kind {
        Kind::Healthz => {
            let (http, url) = (t.http.clone(), t.healthz.clone().context("no /healthz")?);
            load::run(c, budget, move |_, _| {
                let (http, url) = (http.clone(), url.clone());
                async move {
                    let r = http.get(&url).send().await?.error_for_status()?;
                    r.bytes().await?;
                    Ok(0)
                }
            })
            .await
        }
        Kind::MintHttp => {
            let m = t.mint.clone().context("no API")?;
            let m = Arc::new(m);
            load::run(c, budget, move |_, _| {
                let m = Arc::clone(&m);
                async move {
                    m.client
                        .create_temp_credentials(&m.account, &m.request)
                        .await?;
                    Ok(0)
                }
            })
            .await
        }
        Kind::Get { temp } if step.client == ClientKind::Raw => {
            let raw = if temp {
                t.raw_temp.clone().context("no temporary credentials")?
            } else {
                Arc::clone(&t.raw)
            };
            let keys = plan.small_get_keys as u64;
            let auth = step.scenario == "auth";
            load::run(c, budget, move |w, n| {
                let raw = Arc::clone(&raw);
                let key = get_key(auth, w, n, keys);
                async move { raw.get(BUCKET, &key).await }
            })
            .await
        }
        Kind::Get { temp } => {
            let s3 = if temp {
                t.temp.clone().context("no temporary credentials")?
            } else {
                t.s3.clone()
            };
            let keys = plan.small_get_keys as u64;
            let auth = step.scenario == "auth";
            load::run(c, budget, move |w, n| {
                let s3 = s3.clone();
                let key = get_key(auth, w, n, keys);
                async move { get_count(&s3, BUCKET, &key).await }
            })
            .await
        }
        Kind::Put if step.client == ClientKind::Raw => {
            let body = payload(step.size);
            let (raw, seq) = (Arc::clone(&t.raw), Arc::clone(&t.seq));
            load::run(c, budget, move |_, _| {
                let (raw, body) = (Arc::clone(&raw), body.clone());
                let key = format!(
                    "small/put/{}",
                    seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                );
                async move { raw.put(BUCKET, &key, body).await }
            })
            .await
        }
        Kind::Put => {
            let body = payload(step.size);
            let (s3, seq) = (t.s3.clone(), Arc::clone(&t.seq));
            load::run(c, budget, move |_, _| {
                let (s3, body) = (s3.clone(), body.clone());
                let key = format!(
                    "small/put/{}",
                    seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                );
                async move {
                    let len = body.len() as u64;
                    s3.put_object()
                        .bucket(BUCKET)
                        .key(key)
                        .body(ByteStream::from(body))
                        .send()
                        .await?;
                    Ok(len)
                }
            })
            .await
        }
        Kind::PutLarge { multipart } => {
            let body = large_body(step.size);
            let s3 = t.s3.clone();
            let part = plan.part_size;
            load::run(1, budget, move |_, _| {
                let (s3, body) = (s3.clone(), body.clone());
                async move {
                    if multipart {
                        put_multipart(&s3, "large/multipart", body, part).await
                    } else {
                        let len = body.len() as u64;
                        s3.put_object()
                            .bucket(BUCKET)
                            .key("large/single")
                            .body(ByteStream::from(body))
                            .send()
                            .await?;
                        Ok(len)
                    }
                }
            })
            .await
        }
        Kind::GetLarge { multipart } => {
            let s3 = t.s3.clone();
            let key = if multipart {
                "large/multipart"
            } else {
                "large/single"
            };
            load::run(1, budget, move |_, _| {
                let s3 = s3.clone();
                async move { get_count(&s3, BUCKET, key).await }
            })
            .await
        }
        Kind::List => {
            let s3 = t.s3.clone();
            let page = plan.list_page;
            // One walk through the bucket after another; the token carries over between pages.
            let token: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
            load::run(1, budget, move |_, _| {
                let (s3, token) = (s3.clone(), Arc::clone(&token));
                async move {
                    let mut tok = token.lock().await;
                    let out = s3
                        .list_objects_v2()
                        .bucket(LIST_BUCKET)
                        .max_keys(page)
                        .set_continuation_token(tok.clone())
                        .send()
                        .await?;
                    *tok = out.next_continuation_token().map(str::to_owned);
                    Ok(out.contents().len() as u64)
                }
            })
            .await
        }
        Kind::MintLocal
        | Kind::EphemeralReady
        | Kind::HttpCeiling
        | Kind::HmacSha256
        | Kind::Sha256
        | Kind::Md5
        | Kind::DiskWrite
        | Kind::DiskRead => {
            anyhow::bail!("{} is a local step", step.id)
        }
    })
}

/// The auth object, or one of the small GET objects spread over workers.
fn get_key(auth: bool, worker: usize, n: u64, keys: u64) -> String {
    if auth {
        AUTH_KEY.to_owned()
    } else {
        format!("small/get/{}", (worker as u64 * 7919 + n) % keys)
    }
}

/// The large body, built once per size (building 256 MiB per step would cost a second).
fn large_body(size: usize) -> Bytes {
    static CACHE: std::sync::Mutex<Option<Bytes>> = std::sync::Mutex::new(None);
    let mut g = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match &*g {
        Some(b) if b.len() == size => b.clone(),
        Some(_) | None => {
            let b = payload(size);
            *g = Some(b.clone());
            b
        }
    }
}

/// GETs `key` and counts the body bytes as they stream (never holding the whole body).
async fn get_count(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<u64> {
    let mut out = s3.get_object().bucket(bucket).key(key).send().await?;
    let mut n = 0u64;
    while let Some(chunk) = out.body.try_next().await? {
        n += chunk.len() as u64;
    }
    Ok(n)
}

/// Multipart upload of `body` in `part`-sized parts, four in flight (as transfer managers do).
async fn put_multipart(
    s3: &aws_sdk_s3::Client,
    key: &str,
    body: Bytes,
    part: usize,
) -> Result<u64> {
    let up = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await?;
    let id = up.upload_id().context("no upload id")?.to_owned();
    let mut set = tokio::task::JoinSet::new();
    let mut parts = Vec::new();
    let chunks: Vec<(i32, Bytes)> = body
        .chunks(part)
        .enumerate()
        .map(|(i, c)| (i as i32 + 1, body.slice_ref(c)))
        .collect();
    for (n, chunk) in chunks {
        if set.len() >= 4
            && let Some(r) = set.join_next().await
        {
            parts.push(r??);
        }
        let (s3, id, key) = (s3.clone(), id.clone(), key.to_owned());
        set.spawn(async move {
            let p = s3
                .upload_part()
                .bucket(BUCKET)
                .key(key)
                .upload_id(id)
                .part_number(n)
                .body(ByteStream::from(chunk))
                .send()
                .await?;
            anyhow::Ok(
                CompletedPart::builder()
                    .part_number(n)
                    .set_e_tag(p.e_tag().map(str::to_owned))
                    .build(),
            )
        });
    }
    while let Some(r) = set.join_next().await {
        parts.push(r??);
    }
    parts.sort_by_key(|p| p.part_number());
    s3.complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await?;
    Ok(body.len() as u64)
}
