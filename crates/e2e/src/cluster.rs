//! A scale-out Mayfly for tests: N `mayfly serve --metadata postgres://... --blobs s3://...`
//! processes sharing a fresh PostgreSQL database (created on the server `MAYFLY_TEST_PG_URL`
//! names, dropped afterwards) and one upstream bucket on a second, embedded-store Mayfly
//! ([`Server`]), behind two round-robin load balancers ([`Balancer`]: one for the API, one for
//! S3). Nodes start one after the other: the first bootstraps the empty database and prints
//! the admin credentials, later ones must not.
//!
//! Every node is told the S3 balancer's address as its public host, so credentials minted on
//! any node name it as their audience and every node answers requests addressed to it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::runtime::Runtime;

use crate::lb::Balancer;
use crate::{ServeCommand, Server, ServerOptions, terminate};

/// The bucket on the upstream Mayfly that holds every node's object bytes.
pub const UPSTREAM_BUCKET: &str = "cluster-blobs";

/// What [`Cluster::start_with`] starts.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// How many `mayfly serve` nodes (at least 1).
    pub nodes: usize,
    /// Extra environment variables for every node (e.g. `MAYFLY_LOG=trace`).
    pub env: Vec<(String, String)>,
    /// Append every node's log to this one file instead of `node-N.log` files in the
    /// cluster's directory.
    pub shared_log: Option<PathBuf>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            nodes: 2,
            env: Vec::new(),
            shared_log: None,
        }
    }
}

/// One `mayfly serve` process of a cluster.
#[derive(Debug)]
pub struct Node {
    /// Position in the balancers' rotation.
    pub index: usize,
    /// This node's own API base URL (bypassing the balancer).
    pub api_url: String,
    /// This node's own S3 URL (bypassing the balancer).
    pub s3_url: String,
    /// Its log (standard error).
    pub log_path: PathBuf,
    /// Its standard output (the banner).
    pub stdout_path: PathBuf,
    child: Option<Child>,
}

impl Node {
    /// SIGKILL: no draining, as a crash or a power cut would leave it.
    pub fn kill(&mut self) -> Result<()> {
        let mut child = self.child.take().context("node already stopped")?;
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// SIGTERM; returns the exit status (a clean drain exits 0).
    pub fn stop(&mut self) -> Result<ExitStatus> {
        let mut child = self.child.take().context("node already stopped")?;
        terminate(&mut child)
    }

    /// Whether the process is still ours to stop.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The process id while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

/// A running cluster; everything is killed, and the database dropped, on drop.
#[derive(Debug)]
pub struct Cluster {
    /// The API balancer's base URL, ending in `/client/v4`.
    pub api_url: String,
    /// The S3 balancer's URL.
    pub s3_url: String,
    /// The S3 balancer's `host:port`: the nodes' public host and the audience of every
    /// credential they mint.
    pub s3_host: String,
    /// The account the first node bootstrapped.
    pub account_id: String,
    /// Its admin token's bearer value.
    pub api_token: String,
    /// Its admin token's S3 access key id.
    pub access_key_id: String,
    /// Its admin token's S3 secret.
    pub secret_access_key: String,
    /// The nodes, in start order.
    pub nodes: Vec<Node>,
    /// The upstream S3 store (an embedded-store Mayfly) holding the object bytes.
    pub upstream: Server,
    /// The name of the PostgreSQL database the nodes share.
    pub database: String,
    api_lb: Balancer,
    s3_lb: Balancer,
    admin_pg_url: String,
    runtime: Option<Runtime>,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts `nodes` nodes with default options.
    pub fn start(nodes: usize) -> Result<Self> {
        Self::start_with(&ClusterOptions {
            nodes,
            ..ClusterOptions::default()
        })
    }

    /// Starts a cluster: database, upstream, balancers, then the nodes one by one.
    pub fn start_with(options: &ClusterOptions) -> Result<Self> {
        if options.nodes == 0 {
            bail!("a cluster needs at least one node");
        }
        let admin_pg_url = match std::env::var("MAYFLY_TEST_PG_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => bail!(
                "MAYFLY_TEST_PG_URL is not set: a Mayfly cluster needs a real PostgreSQL. Run \
                 under `scripts/pg-test-server run <command>` (scripts/test does this)."
            ),
        };
        let dir = tempfile::Builder::new()
            .prefix("mayfly-cluster-")
            .tempdir()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mayfly-cluster-lb")
            .enable_all()
            .build()?;
        let database = format!("mayfly_cluster_{}", random_hex(8)?);
        let pg_url = {
            let admin = admin_pg_url.clone();
            let name = database.clone();
            block_on(
                &runtime,
                async move { create_database(&admin, &name).await },
            )?
        };

        let upstream = Server::start_with(&ServerOptions {
            env: Vec::new(),
            log_to_file: true,
        })
        .context("starting the upstream S3 store")?;
        create_bucket(&upstream, UPSTREAM_BUCKET)?;

        let api_lb = Balancer::start(runtime.handle())?;
        let s3_lb = Balancer::start(runtime.handle())?;
        let s3_host = s3_lb.addr().to_string();
        let mut cluster = Cluster {
            api_url: format!("http://{}/client/v4", api_lb.addr()),
            s3_url: format!("http://{s3_host}"),
            s3_host,
            account_id: String::new(),
            api_token: String::new(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            nodes: Vec::new(),
            upstream,
            database,
            api_lb,
            s3_lb,
            admin_pg_url,
            runtime: Some(runtime),
            dir,
        };
        for index in 0..options.nodes {
            let node = cluster.start_node(index, &pg_url, options)?;
            let banner = std::fs::read_to_string(&node.stdout_path)?;
            if index == 0 {
                cluster.account_id = banner_field(&banner, "account_id")?;
                cluster.api_token = banner_field(&banner, "api_token")?;
                cluster.access_key_id = banner_field(&banner, "access_key_id")?;
                cluster.secret_access_key = banner_field(&banner, "secret_access_key")?;
            } else if banner.contains("api_token:") {
                bail!("node {index} bootstrapped a database node 0 had already bootstrapped");
            }
            cluster.api_lb.add_backend(addr_of(&node.api_url)?);
            cluster.s3_lb.add_backend(addr_of(&node.s3_url)?);
            cluster.nodes.push(node);
        }
        Ok(cluster)
    }

    fn start_node(&self, index: usize, pg_url: &str, options: &ClusterOptions) -> Result<Node> {
        let dir = self.dir.path();
        let stdout_path = dir.join(format!("node-{index}.out"));
        let log_path = options
            .shared_log
            .clone()
            .unwrap_or_else(|| dir.join(format!("node-{index}.log")));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let blobs = format!(
            "s3://{UPSTREAM_BUCKET}/nodes?endpoint={}&region=auto",
            self.upstream.s3_url
        );
        let lb_port = self.s3_lb.addr().port();
        let mut cmd = ServeCommand::new(&dir.join(format!("node-{index}.ready")))?
            .arg("--data-dir")
            .arg(dir.join(format!("node-{index}")))
            .arg("--blobs")
            .arg(&blobs)
            .arg("--public-s3-host")
            .arg(&self.s3_host)
            .arg("--public-s3-host")
            .arg(format!("localhost:{lb_port}"))
            // The URL may carry a password: the environment keeps it out of `ps`.
            .env("MAYFLY_METADATA", pg_url)
            .env("MAYFLY_BLOBS_ACCESS_KEY_ID", &self.upstream.access_key_id)
            .env(
                "MAYFLY_BLOBS_SECRET_ACCESS_KEY",
                &self.upstream.secret_access_key,
            )
            .stdout(Stdio::from(std::fs::File::create(&stdout_path)?))
            .stderr(Stdio::from(log));
        for (k, v) in &options.env {
            cmd = cmd.env(k, v);
        }
        let spawned = cmd
            .spawn()
            .with_context(|| format!("starting cluster node {index}"))?;
        Ok(Node {
            index,
            api_url: spawned.api_url,
            s3_url: spawned.s3_url,
            log_path,
            stdout_path,
            child: Some(spawned.child),
        })
    }

    /// Connections each node received through the balancers: `(api, s3)` per node.
    pub fn connections(&self) -> Vec<(u64, u64)> {
        self.api_lb
            .connections()
            .into_iter()
            .zip(self.s3_lb.connections())
            .collect()
    }

    /// Where the cluster keeps its files (node logs, banners, ready files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// SIGTERM to every running node; fails if one does not exit 0.
    pub fn stop(&mut self) -> Result<()> {
        let mut failures = Vec::new();
        for node in self.nodes.iter_mut().filter(|n| n.is_running()) {
            match node.stop() {
                Ok(status) if status.success() => {}
                Ok(status) => failures.push(format!("node {} exited {status}", node.index)),
                Err(e) => failures.push(format!("node {}: {e:#}", node.index)),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            bail!("{}", failures.join("; "))
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut c) = node.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if let Some(runtime) = self.runtime.take() {
            let admin = self.admin_pg_url.clone();
            let name = self.database.clone();
            let _ = block_on(&runtime, async move { drop_database(&admin, &name).await });
            // Safe from inside another runtime, unlike dropping it.
            runtime.shutdown_background();
        }
    }
}

/// Runs `fut` to completion on `runtime` from a thread of its own, so callers may be inside
/// another runtime (a `#[tokio::test]`) or outside any.
fn block_on<F>(runtime: &Runtime, fut: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    let handle = runtime.handle().clone();
    std::thread::scope(|s| {
        s.spawn(move || handle.block_on(fut))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

async fn pg_admin(admin_url: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
        .await
        .context("connecting to MAYFLY_TEST_PG_URL")?;
    tokio::spawn(connection);
    Ok(client)
}

/// Creates an empty database and returns its URL.
async fn create_database(admin_url: &str, name: &str) -> Result<String> {
    let pg = pg_admin(admin_url).await?;
    pg.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .context("creating the cluster's database")?;
    let mut url = url::Url::parse(admin_url).context("MAYFLY_TEST_PG_URL is not a URL")?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

async fn drop_database(admin_url: &str, name: &str) -> Result<()> {
    let pg = pg_admin(admin_url).await?;
    pg.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    Ok(())
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A `key:   value` line of the bootstrap banner.
fn banner_field(banner: &str, key: &str) -> Result<String> {
    banner
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_owned())
        .with_context(|| format!("node 0 printed no {key} (did it not bootstrap?)"))
}

/// `127.0.0.1:P` of `http://127.0.0.1:P/...`.
fn addr_of(url: &str) -> Result<SocketAddr> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    host.parse()
        .with_context(|| format!("no address in URL {url}"))
}

/// Creates a bucket on `server` through its API (plain HTTP/1.1, `Connection: close`).
fn create_bucket(server: &Server, name: &str) -> Result<()> {
    let addr = addr_of(&server.api_url)?;
    let body = format!("{{\"name\":\"{name}\"}}");
    let request = format!(
        "POST /client/v4/accounts/{}/r2/buckets HTTP/1.1\r\nhost: {addr}\r\nauthorization: \
         Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: \
         close\r\n\r\n{body}",
        server.account_id,
        server.api_token,
        body.len()
    );
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    if !answer.starts_with("HTTP/1.1 200") {
        bail!(
            "creating bucket {name} on the upstream: {}",
            answer.lines().next().unwrap_or("no answer")
        );
    }
    Ok(())
}
