//! Test harness: real `mayfly serve` processes on port 0.
//!
//! * [`Server`]: one process in a fresh data directory (the embedded store).
//! * [`Cluster`]: N processes sharing a fresh PostgreSQL database and an upstream S3 bucket
//!   (itself a [`Server`]), behind a round-robin TCP load balancer ([`lb`]).
//!
//! It follows the contract in `docs/CONTRACTS.md`: `mayfly init --json` prints the bootstrap
//! credentials, `mayfly serve --ready-file F` writes the two URLs once both listeners accept.
//! [`ServeCommand`] is the one place that spawns `mayfly serve` and waits for its ready file.

use anyhow::{Context, Result, bail};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod cluster;
pub mod lb;

pub use cluster::{Cluster, ClusterOptions, Node, UPSTREAM_BUCKET};

/// How long a starting server may take to write its ready file.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// `mayfly serve --api-listen 127.0.0.1:0 --s3-listen 127.0.0.1:0 --ready-file F ...`, spawned
/// by [`ServeCommand::spawn`], which returns once the ready file names both URLs.
#[derive(Debug)]
pub struct ServeCommand {
    cmd: Command,
    ready: PathBuf,
}

/// A `mayfly serve` process whose listeners accept connections.
#[derive(Debug)]
pub struct Spawned {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:P/client/v4`.
    pub api_url: String,
    /// `http://127.0.0.1:Q`.
    pub s3_url: String,
}

impl ServeCommand {
    /// The command, writing its ready file at `ready` (removed first if present). Standard
    /// input and output go to `/dev/null`, standard error is inherited, until changed.
    pub fn new(ready: &Path) -> Result<Self> {
        let bin = mayfly_bin();
        if !bin.exists() {
            bail!(
                "{} not found: run `cargo build -p mayfly` first (scripts/test does)",
                bin.display()
            );
        }
        let _ = std::fs::remove_file(ready);
        let mut cmd = Command::new(bin);
        cmd.args([
            "serve",
            "--api-listen",
            "127.0.0.1:0",
            "--s3-listen",
            "127.0.0.1:0",
        ])
        .arg("--ready-file")
        .arg(ready)
        // A config file from the caller's environment must not change what is tested.
        .env_remove("MAYFLY_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        Ok(Self {
            cmd,
            ready: ready.to_owned(),
        })
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Where standard output goes.
    pub fn stdout(mut self, out: impl Into<Stdio>) -> Self {
        self.cmd.stdout(out);
        self
    }

    /// Where standard error (the log) goes.
    pub fn stderr(mut self, err: impl Into<Stdio>) -> Self {
        self.cmd.stderr(err);
        self
    }

    /// Spawns the server and waits (at most [`READY_TIMEOUT`]) for its ready file.
    pub fn spawn(mut self) -> Result<Spawned> {
        let mut child = self.cmd.spawn().context("spawning mayfly serve")?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(v) = std::fs::read_to_string(&self.ready)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            {
                let url = |k: &str| v[k].as_str().map(str::to_owned).context("ready file");
                return match (url("api_url"), url("s3_url")) {
                    (Ok(api_url), Ok(s3_url)) => Ok(Spawned {
                        child,
                        api_url,
                        s3_url,
                    }),
                    (Err(e), _) | (_, Err(e)) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        Err(e)
                    }
                };
            }
            if let Some(status) = child.try_wait()? {
                bail!("mayfly serve exited early: {status}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("mayfly serve not ready after {READY_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Sends SIGTERM and waits (at most 20 s, then SIGKILL and an error) for the exit status.
pub fn terminate(child: &mut Child) -> Result<std::process::ExitStatus> {
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            child.kill()?;
            child.wait()?;
            bail!("mayfly serve did not exit within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Bootstrap credentials and endpoints of one running server.
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:P/client/v4`.
    pub api_url: String,
    /// `http://127.0.0.1:Q`.
    pub s3_url: String,
    /// The account `init` created.
    pub account_id: String,
    /// The admin token's bearer value.
    pub api_token: String,
    /// The admin token's S3 access key id.
    pub access_key_id: String,
    /// The admin token's S3 secret.
    pub secret_access_key: String,
    log_path: Option<PathBuf>,
    env: Vec<(String, String)>,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

/// The binary under test: `MAYFLY_BIN`, else the workspace's debug build.
pub fn mayfly_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("MAYFLY_BIN") {
        return PathBuf::from(p);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| here.join("../../target"));
    target.join("debug/mayfly")
}

/// Options for [`Server::start_with`].
#[derive(Debug, Default, Clone)]
pub struct ServerOptions {
    /// Extra environment variables (e.g. `MAYFLY_LOG=trace`).
    pub env: Vec<(String, String)>,
    /// Send the log (standard error) to `log.txt` in the server's directory rather than to
    /// the test's standard error; [`Server::log_path`] names it.
    pub log_to_file: bool,
}

impl Server {
    /// Initialises a data directory and starts `mayfly serve` on it.
    pub fn start() -> Result<Self> {
        Self::start_with(&ServerOptions::default())
    }

    /// [`Server::start`] with options.
    pub fn start_with(options: &ServerOptions) -> Result<Self> {
        let bin = mayfly_bin();
        if !bin.exists() {
            bail!(
                "{} not found: run `cargo build -p mayfly` first (scripts/test does)",
                bin.display()
            );
        }
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let out = Command::new(&bin)
            .args(["init", "--json", "--data-dir"])
            .arg(&data)
            .output()
            .context("running mayfly init")?;
        if !out.status.success() {
            bail!(
                "mayfly init failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let boot: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let field = |k: &str| -> Result<String> {
            boot[k]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("init output lacks {k}"))
        };
        let log_path = options.log_to_file.then(|| dir.path().join("log.txt"));
        let mut server = Server {
            api_url: String::new(),
            s3_url: String::new(),
            account_id: field("account_id")?,
            api_token: field("api_token")?,
            access_key_id: field("access_key_id")?,
            secret_access_key: field("secret_access_key")?,
            log_path,
            env: options.env.clone(),
            child: None,
            _dir: dir,
        };
        server.spawn()?;
        Ok(server)
    }

    /// The server's data directory (`meta.sqlite3`, `blobs/`).
    pub fn data_dir(&self) -> PathBuf {
        self._dir.path().join("data")
    }

    /// Starts `mayfly serve` on the data directory and waits for its ready file.
    fn spawn(&mut self) -> Result<()> {
        let mut cmd = ServeCommand::new(&self._dir.path().join("ready.json"))?
            .arg("--data-dir")
            .arg(self.data_dir());
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        if let Some(path) = &self.log_path {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            cmd = cmd.stderr(log);
        }
        let spawned = cmd.spawn()?;
        self.api_url = spawned.api_url;
        self.s3_url = spawned.s3_url;
        self.child = Some(spawned.child);
        Ok(())
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Peak resident set size of the server so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        let pid = self.pid().context("not running")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/PID/status")
    }

    /// `kill -9`: no draining, no cleanup, as a power cut would leave it.
    pub fn crash(&mut self) -> Result<()> {
        let mut child = self.child.take().context("not running")?;
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// Starts the server again on the same data directory (new ports).
    pub fn restart(&mut self) -> Result<()> {
        if self.child.is_some() {
            bail!("still running");
        }
        self.spawn()
    }

    /// Sends SIGTERM and returns the exit status (the server must drain and exit 0).
    pub fn stop(&mut self) -> Result<std::process::ExitStatus> {
        let mut child = self.child.take().context("already stopped")?;
        terminate(&mut child)
    }

    /// Where the log goes, when [`ServerOptions::log_to_file`] asked for a file.
    pub fn log_path(&self) -> Option<&Path> {
        self.log_path.as_deref()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
