//! Test harness: a real `mayfly serve` process in a fresh data directory, on port 0.
//!
//! It follows the contract in `docs/CONTRACTS.md`: `mayfly init --json` prints the bootstrap
//! credentials, `mayfly serve --ready-file F` writes the two URLs once both listeners accept.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

impl Server {
    /// Initialises a data directory and starts `mayfly serve` on it.
    pub fn start() -> Result<Self> {
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
        let mut server = Server {
            api_url: String::new(),
            s3_url: String::new(),
            account_id: field("account_id")?,
            api_token: field("api_token")?,
            access_key_id: field("access_key_id")?,
            secret_access_key: field("secret_access_key")?,
            child: None,
            _dir: dir,
        };
        server.spawn()?;
        Ok(server)
    }

    fn data_dir(&self) -> PathBuf {
        self._dir.path().join("data")
    }

    /// Starts `mayfly serve` on the data directory and waits for its ready file.
    fn spawn(&mut self) -> Result<()> {
        let ready = self._dir.path().join("ready.json");
        let _ = std::fs::remove_file(&ready);
        let child = Command::new(mayfly_bin())
            .args([
                "serve",
                "--api-listen",
                "127.0.0.1:0",
                "--s3-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(self.data_dir())
            .arg("--ready-file")
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("spawning mayfly serve")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(v) = std::fs::read_to_string(&ready)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            {
                self.api_url = v["api_url"].as_str().context("api_url")?.to_owned();
                self.s3_url = v["s3_url"].as_str().context("s3_url")?.to_owned();
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("mayfly serve exited early: {status}");
            }
            if Instant::now() > deadline {
                bail!("mayfly serve not ready after 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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
                bail!("mayfly serve did not exit within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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
