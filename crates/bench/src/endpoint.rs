//! The systems under test: Mayfly servers this tool starts (as crates/e2e does, following
//! docs/CONTRACTS.md), Mayfly servers already running, and S3-only peers given by URL and keys.
//! Also the `/proc` readings (peak RSS, CPU time) taken around every step. Secrets are held
//! here and handed to clients; they are never printed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// What the management API needs: only Mayfly endpoints have one.
#[derive(Clone)]
pub(crate) struct ApiAccess {
    /// `http://127.0.0.1:P/client/v4`.
    pub(crate) api_url: String,
    pub(crate) account_id: String,
    /// The admin token's bearer value.
    pub(crate) api_token: String,
}

/// One system under test.
pub(crate) struct Endpoint {
    pub(crate) name: String,
    pub(crate) s3_url: String,
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) api: Option<ApiAccess>,
    /// Process to read `/proc/PID/status` and `/proc/PID/stat` of, if known.
    pub(crate) pid: Option<u32>,
    child: Option<Child>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys and tokens stay out of any debug output.
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("s3_url", &self.s3_url)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM first so the server drains; kill if it lingers.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Endpoint {
    /// An S3-only peer process this tool started (Garage): stopped when the endpoint drops. The
    /// key pair is filled in once the peer has made one.
    pub(crate) fn spawned_peer(name: &str, s3_url: &str, child: Child) -> Endpoint {
        Endpoint {
            name: name.to_owned(),
            s3_url: s3_url.to_owned(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            api: None,
            pid: Some(child.id()),
            child: Some(child),
        }
    }

    /// Whether the process this endpoint started has exited (false when it started none).
    pub(crate) fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
    }
}

fn field(v: &serde_json::Value, k: &str) -> Result<String> {
    v[k].as_str()
        .map(str::to_owned)
        .with_context(|| format!("missing string field {k}"))
}

/// `mayfly init --json` then `mayfly serve` on port 0 in `dir`, waiting for the ready file.
pub(crate) fn spawn_mayfly(name: &str, bin: &Path, dir: &Path) -> Result<Endpoint> {
    spawn_mayfly_with(name, bin, dir, &[])
}

/// [`spawn_mayfly`] with extra `serve` flags (the audit on/off step, crates/bench/src/audit.rs).
pub(crate) fn spawn_mayfly_with(
    name: &str,
    bin: &Path,
    dir: &Path,
    serve_flags: &[&str],
) -> Result<Endpoint> {
    if !bin.exists() {
        bail!(
            "{} not found: build it first (`cargo build --release -p mayfly`, or `cargo build -p mayfly` for --smoke)",
            bin.display()
        );
    }
    let data = dir.join("data");
    let out = Command::new(bin)
        .args(["init", "--json", "--data-dir"])
        .arg(&data)
        .output()
        .with_context(|| format!("running {} init", bin.display()))?;
    if !out.status.success() {
        bail!(
            "mayfly init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let boot: serde_json::Value = serde_json::from_slice(&out.stdout).context("init output")?;
    let ready = dir.join("ready.json");
    // The server's own log level (default info), as deployed; its lines go to a file so the
    // terminal cost is not measured and the progress bar stays readable.
    let log = std::fs::File::create(dir.join("server.log")).context("creating server.log")?;
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--api-listen",
            "127.0.0.1:0",
            "--s3-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data)
        .arg("--ready-file")
        .arg(&ready)
        .args(serve_flags)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("spawning mayfly serve")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let urls = loop {
        if let Ok(text) = std::fs::read_to_string(&ready)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        {
            break v;
        }
        if let Some(status) = child.try_wait()? {
            bail!("mayfly serve ({name}) exited early: {status}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("mayfly serve ({name}) not ready after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Endpoint {
        name: name.to_owned(),
        s3_url: field(&urls, "s3_url")?,
        access_key_id: field(&boot, "access_key_id")?,
        secret_access_key: field(&boot, "secret_access_key")?,
        api: Some(ApiAccess {
            api_url: field(&urls, "api_url")?,
            account_id: field(&boot, "account_id")?,
            api_token: field(&boot, "api_token")?,
        }),
        pid: Some(child.id()),
        child: Some(child),
    })
}

/// A running Mayfly described by a JSON file (init output plus `api_url`, `s3_url`, optional
/// `pid`).
pub(crate) fn from_file(path: &Path) -> Result<Endpoint> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("endpoint")
        .to_owned();
    Ok(Endpoint {
        name,
        s3_url: field(&v, "s3_url")?,
        access_key_id: field(&v, "access_key_id")?,
        secret_access_key: field(&v, "secret_access_key")?,
        api: Some(ApiAccess {
            api_url: field(&v, "api_url")?,
            account_id: field(&v, "account_id")?,
            api_token: field(&v, "api_token")?,
        }),
        pid: v["pid"].as_u64().and_then(|p| u32::try_from(p).ok()),
        child: None,
    })
}

/// `NAME=URL,ACCESS_KEY,SECRET[,pid=N]`: an S3-only peer.
pub(crate) fn parse_peer(spec: &str) -> Result<Endpoint> {
    // The spec holds a secret: errors name the part that is wrong, never echo the spec.
    let (name, rest) = spec
        .split_once('=')
        .context("--peer wants NAME=URL,ACCESS_KEY,SECRET")?;
    let parts: Vec<&str> = rest.split(',').collect();
    if parts.len() < 3 || parts.len() > 4 || name.is_empty() {
        bail!("--peer {name}: want NAME=URL,ACCESS_KEY,SECRET[,pid=N]");
    }
    let pid = match parts.get(3) {
        Some(p) => Some(
            p.strip_prefix("pid=")
                .and_then(|n| n.parse().ok())
                .with_context(|| format!("--peer {name}: fourth field must be pid=N"))?,
        ),
        None => None,
    };
    Ok(Endpoint {
        name: name.to_owned(),
        s3_url: parts[0].trim_end_matches('/').to_owned(),
        access_key_id: parts[1].to_owned(),
        secret_access_key: parts[2].to_owned(),
        api: None,
        pid,
        child: None,
    })
}

/// The default Mayfly binary: `mayfly` beside this executable (target/release for a release
/// build of this tool).
pub(crate) fn default_mayfly_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("mayfly")))
        .unwrap_or_else(|| PathBuf::from("target/release/mayfly"))
}

/// Peak resident set size (`VmHWM`) of `pid`, in KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resets `VmHWM` to the current RSS (`echo 5 > /proc/PID/clear_refs`), so the next reading is
/// the peak of one step. False if the kernel or permissions refuse: readings are then cumulative.
pub(crate) fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// User + system CPU seconds of `pid` (`self` for this process) so far.
pub(crate) fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name, which may itself contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the full line, 12 and 13 after the name.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn peer_spec_parses_and_hides_the_secret() {
        let p = parse_peer("s3s-fs=http://127.0.0.1:9100/,AK,SK,pid=42").unwrap();
        assert_eq!(p.name, "s3s-fs");
        assert_eq!(p.s3_url, "http://127.0.0.1:9100");
        assert_eq!(p.pid, Some(42));
        assert!(!format!("{p:?}").contains("SK"));
        let err = parse_peer("x=http://h,AK,TOPSECRET,oops").unwrap_err();
        assert!(!format!("{err:#}").contains("TOPSECRET"));
    }

    #[test]
    fn own_cpu_time_is_readable() {
        assert!(cpu_secs("self").is_some());
    }
}
