//! Wiring: open the store (local, or PostgreSQL + upstream S3), bootstrap an empty one, bind both listeners, mount the API
//! router (plus `/healthz` and `/metrics`) and the S3 router, and serve them until told to
//! stop. [`start`] is what `mayfly serve` runs and what in-process tests call.
//!
//! Shutdown is graceful: [`Running::shutdown`] stops accepting, in-flight requests finish
//! (bounded by [`DRAIN_TIMEOUT`]), then [`Running::wait`] returns.
//!
//! Connections are served with hyper's HTTP/1 builder rather than `axum::serve`, which cannot
//! bound how long a client takes to send its headers: a slow-loris client is closed after
//! [`Timeouts::header_read`](crate::config::Timeouts). The S3 body idle timeout is the S3
//! router's own (`S3State::with_body_idle_timeout`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use mayfly_store::{AuditSink, AuditStore, BlobStore, Clock, MetadataStore};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{ServeConfig, StoreChoice};
use crate::init::{Bootstrap, InitError, bootstrap};
use crate::metrics::{self, Listener};

/// How long in-flight requests may take to finish after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`Running::wait`] waits for the audit writer's last batch after the servers stop.
const AUDIT_FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// A started server.
#[derive(Debug)]
pub struct Running {
    /// Where the API listener is bound (the real port when 0 was asked for).
    pub api_addr: SocketAddr,
    /// Where the S3 listener is bound.
    pub s3_addr: SocketAddr,
    /// The credentials created because the data directory was empty; `None` on every later
    /// start, so they are printed at most once.
    pub bootstrap: Option<Bootstrap>,
    stop: StopHandle,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
    audit_writer: Option<crate::audit_log::AuditWriter>,
}

impl Running {
    /// The API base URL, ending in `/client/v4`.
    pub fn api_url(&self) -> String {
        format!("http://{}/client/v4", self.api_addr)
    }

    /// The S3 endpoint URL.
    pub fn s3_url(&self) -> String {
        format!("http://{}", self.s3_addr)
    }

    /// Stops accepting connections; in-flight requests drain. Idempotent.
    pub fn shutdown(&self) {
        self.stop.stop();
    }

    /// A handle that can stop the server after [`Running::wait`] has taken it.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Waits for both servers to finish (after [`Running::shutdown`], or on a server error),
    /// giving in-flight requests at most [`DRAIN_TIMEOUT`] once shutdown has begun.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let writer = self.audit_writer.take();
        let result = self.wait_servers().await;
        // The servers are gone, and with them every audit sink: the writer flushes and ends.
        if let Some(w) = writer {
            w.finish(AUDIT_FLUSH_TIMEOUT).await;
        }
        result
    }

    async fn wait_servers(&mut self) -> anyhow::Result<()> {
        let mut stop = self.stop.0.subscribe();
        let servers = std::mem::take(&mut self.servers);
        let all = async {
            for s in servers {
                s.await
                    .context("server task panicked")?
                    .context("server failed")?;
            }
            anyhow::Ok(())
        };
        tokio::pin!(all);
        tokio::select! {
            r = &mut all => return r,
            _ = stop.wait_for(|s| *s) => {}
        }
        match tokio::time::timeout(DRAIN_TIMEOUT, all).await {
            Ok(r) => r,
            Err(_) => {
                tracing::warn!(
                    timeout_secs = DRAIN_TIMEOUT.as_secs(),
                    "drain timed out; exiting with requests in flight"
                );
                Ok(())
            }
        }
    }
}

/// Stops a [`Running`] server from anywhere.
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<watch::Sender<bool>>);

impl StopHandle {
    /// Begins a graceful shutdown. Idempotent.
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

/// The opened stores, and whatever must live as long as the servers (the data-directory lock).
type OpenedStores = (
    Arc<dyn MetadataStore>,
    Arc<dyn BlobStore>,
    Arc<dyn std::any::Any + Send + Sync>,
    Arc<dyn AuditStore>,
);

/// Opens the chosen stores as they are.
/// The scale-out metadata handle comes back too, for the invalidation listener.
async fn open_raw(
    data_dir: &Path,
    choice: &StoreChoice,
) -> anyhow::Result<(OpenedStores, Option<mayfly_store_pg::PgMetadata>)> {
    let opened = match choice {
        StoreChoice::Local => {
            let dir = data_dir.to_owned();
            let store =
                tokio::task::spawn_blocking(move || mayfly_store_local::LocalStore::open(&dir))
                    .await
                    .context("store open task panicked")?
                    .with_context(|| {
                        format!("cannot open data directory {}", data_dir.display())
                    })?;
            let opened: OpenedStores = (
                store.metadata(),
                store.blobs(),
                Arc::new(store.clone()),
                store.audit(),
            );
            (opened, None)
        }
        StoreChoice::Postgres {
            metadata,
            options,
            blobs,
            credentials,
        } => {
            let meta = mayfly_store_pg::PgMetadata::connect_with(metadata, options)
                .await
                .with_context(|| format!("cannot open metadata at {}", metadata.redacted()))?;
            let tls = meta
                .tls_in_use()
                .await
                .context("cannot query the metadata database")?;
            let upstream = mayfly_store_pg::S3Blobs::new(blobs, credentials)?;
            upstream
                .check()
                .await
                .with_context(|| format!("cannot reach blob bucket {}", blobs.bucket))?;
            tracing::info!(
                metadata = %metadata.redacted(),
                pg_tls = tls,
                pg_sslmode = options.ssl_mode.map_or("url", |m| m.as_str()),
                pg_pool_size = options.pool_size,
                bucket = %blobs.bucket,
                prefix = %blobs.prefix,
                endpoint = blobs.endpoint.as_deref().unwrap_or("aws"),
                "postgres + upstream s3 stores"
            );
            let opened: OpenedStores = (
                Arc::new(meta.clone()),
                Arc::new(upstream),
                Arc::new(()),
                Arc::new(meta.clone()),
            );
            (opened, Some(meta))
        }
    };
    Ok(opened)
}

/// Opens the chosen stores with the node's token cache around the metadata (and, in
/// scale-out mode, the listener that carries other nodes' changes into it), then bootstraps
/// them if they hold no account.
async fn open_store(
    data_dir: &Path,
    choice: &StoreChoice,
    clock: &Clock,
    cache: mayfly_store::CacheConfig,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<(OpenedStores, Option<Bootstrap>)> {
    let ((metadata, blobs, keep_alive, audit), pg) = open_raw(data_dir, choice).await?;
    let cached = mayfly_store::CachedMetadata::new(metadata, cache);
    if let Some(pg) = pg {
        let sink = cached.clone();
        tokio::spawn(
            pg.listen_for_invalidations(Arc::new(move |what| sink.invalidate(&what)), stop.clone()),
        );
    }
    let opened: OpenedStores = (Arc::new(cached), blobs, keep_alive, audit);
    let boot = match bootstrap(opened.0.as_ref(), clock.now()).await {
        Ok(b) => Some(b),
        Err(InitError::AlreadyInitialised { .. }) => None,
        Err(e) => return Err(e).context("cannot initialise the store"),
    };
    Ok((opened, boot))
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Starts both servers on the local store and returns once both listeners accept connections.
pub async fn start(config: &ServeConfig, clock: Clock) -> anyhow::Result<Running> {
    start_with(config, &StoreChoice::Local, clock).await
}

/// [`start`] on the chosen stores.
pub async fn start_with(
    config: &ServeConfig,
    stores: &StoreChoice,
    clock: Clock,
) -> anyhow::Result<Running> {
    start_with_testing(config, stores, clock, false).await
}

/// [`start_with`], with the testing API (`POST /client/v4/mayfly/accounts`, see
/// [`mayfly_api::ApiConfig::with_testing_api`]) mounted when `testing_api` is true.
pub async fn start_with_testing(
    config: &ServeConfig,
    stores: &StoreChoice,
    clock: Clock,
    testing_api: bool,
) -> anyhow::Result<Running> {
    let stop = StopHandle(Arc::new(watch::channel(false).0));
    let ((metadata, blobs, keep_alive, audit_store), boot) = open_store(
        &config.data_dir,
        stores,
        &clock,
        config.token_cache,
        &stop.0.subscribe(),
    )
    .await?;
    let api_listener = TcpListener::bind(config.api_listen)
        .await
        .with_context(|| format!("cannot listen on {} (API)", config.api_listen))?;
    let s3_listener = TcpListener::bind(config.s3_listen)
        .await
        .with_context(|| format!("cannot listen on {} (S3)", config.s3_listen))?;
    let api_addr = api_listener.local_addr()?;
    let s3_addr = s3_listener.local_addr()?;

    let hosts = mayfly_s3::EndpointHosts::for_listener(s3_addr, &config.public_s3_hosts)
        .context("invalid --public-s3-host")?;
    // Minted credentials name the public host when there is one, else the listen address.
    let audience = config
        .public_s3_hosts
        .first()
        .cloned()
        .unwrap_or_else(|| s3_addr.to_string());

    let _ = metrics::handle();
    // The audit trail (issue 15 §3): one writer per server, fed by both routers.
    let (audit_sink, audit_writer) = if config.audit.enabled {
        let (sink, writer) = crate::audit_log::start(
            Arc::clone(&audit_store),
            crate::audit_log::AuditWriterConfig::default(),
        );
        (sink, Some(writer))
    } else {
        (AuditSink::disabled(), None)
    };
    let api_state = mayfly_api::ApiState::new(
        Arc::clone(&metadata),
        clock.clone(),
        mayfly_api::ApiConfig::new(audience)
            .with_testing_api(testing_api)
            .with_body_idle_timeout(config.timeouts.body_read),
    )
    .with_audit(audit_sink.clone(), Arc::clone(&audit_store));
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .merge(mayfly_api::router(api_state))
        // The web console (issue 16): static files only, a client of the routes above.
        .merge(mayfly_console::router(
            mayfly_console::ConsoleConfig::for_listener(s3_addr, &config.public_s3_hosts),
        ))
        .layer(axum::middleware::from_fn_with_state(
            Listener::Api,
            metrics::track,
        ));
    // Forget revocations whose credentials have expired anyway (issue 15).
    tokio::spawn(crate::revocations::run(
        config.gc,
        Arc::clone(&metadata),
        clock.clone(),
        stop.0.subscribe(),
    ));
    tokio::spawn(crate::gc::run(
        config.gc,
        Arc::clone(&metadata),
        Arc::clone(&blobs),
        clock.clone(),
        stop.0.subscribe(),
    ));
    // Apply bucket lifecycle rules (issue 13 §3).
    tokio::spawn(crate::lifecycle::run(
        config.lifecycle,
        Arc::clone(&metadata),
        Arc::clone(&blobs),
        clock.clone(),
        stop.0.subscribe(),
    ));
    if config.audit.enabled {
        tokio::spawn(crate::audit_log::run_purge(
            config.audit.retention_secs(),
            Arc::clone(&audit_store),
            clock.clone(),
            stop.0.subscribe(),
        ));
    }
    let s3_state = mayfly_s3::S3State::new(metadata, blobs, clock, hosts)
        .with_body_idle_timeout(config.timeouts.body_read)
        .with_audit(audit_sink);
    let s3 = mayfly_s3::router(s3_state).layer(axum::middleware::from_fn_with_state(
        Listener::S3,
        metrics::track,
    ));

    let header_read_timeout = config.timeouts.header_read;
    let serve = |listener: TcpListener, app: Router| {
        let mut rx = stop.0.subscribe();
        // The store (and its directory lock) lives as long as any server does.
        let store = Arc::clone(&keep_alive);
        tokio::spawn(async move {
            let stopped = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            let result = serve_http(listener, app, header_read_timeout, stopped).await;
            drop(store);
            result
        })
    };
    let servers = vec![serve(api_listener, api), serve(s3_listener, s3)];
    tracing::info!(api = %api_addr, s3 = %s3_addr, data_dir = %config.data_dir.display(), "mayfly serving");
    Ok(Running {
        api_addr,
        s3_addr,
        bootstrap: boot,
        stop,
        servers,
        audit_writer,
    })
}

/// Accepts connections on `listener` and serves `app` on each until `stopped` resolves, then
/// lets the open connections finish their requests (graceful shutdown) and returns.
async fn serve_http(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Option<Duration>,
    stopped: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(stopped);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut stopped => break,
        };
        // Without TCP_NODELAY a response whose head and body leave as two writes waits for
        // the client's delayed ACK: a 40 ms stall on every small GET (BENCHMARKS.md).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set on an accepted connection");
        }
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                // A client that goes away, or the header read timeout: not a server fault.
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Writes `{"api_url","s3_url","pid"}` to `path` atomically (temp file + rename), so a reader
/// never sees a partial file.
pub fn write_ready_file(path: &Path, running: &Running) -> anyhow::Result<()> {
    let body = serde_json::json!({
        "api_url": running.api_url(),
        "s3_url": running.s3_url(),
        "pid": std::process::id(),
    });
    let file_name = path
        .file_name()
        .context("ready file path has no file name")?;
    let mut tmp_name = file_name.to_owned();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, format!("{body}\n"))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename to {}", path.display()))?;
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() -> anyhow::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot install SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot install SIGINT handler")?;
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            _ = int.recv() => Ok("SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("cannot install Ctrl-C handler")?;
        Ok("Ctrl-C")
    }
}

/// The text `serve` prints on stdout once ready.
pub fn banner(running: &Running) -> String {
    let mut out = format!(
        "Mayfly is ready.\n  API base URL: {}\n  S3 endpoint:  {}\n",
        running.api_url(),
        running.s3_url()
    );
    if let Some(b) = &running.bootstrap {
        out.push_str(
            "\nEmpty data directory: created an account and an admin-read-write API token.\n\
             These credentials are shown ONCE and never again; save them now.\n",
        );
        out.push_str(&b.to_text());
        out.push_str(&format!(
            "\nTry it:\n  export CLOUDFLARE_BASE_URL={}\n  export CLOUDFLARE_API_TOKEN={}\n  export CLOUDFLARE_ACCOUNT_ID={}\n",
            running.api_url(),
            b.api_token.expose_secret(),
            b.account_id
        ));
    }
    out
}
