//! Garage (<https://garagehq.deuxfleurs.fr>) as a durable S3 peer, started and configured here:
//! one node, `replication_factor = 1`, `db_engine = "lmdb"`, everything else at Garage's
//! defaults except the two fsync options, which make the two variants:
//!
//! - `garage-fsync`: `metadata_fsync = true`, `data_fsync = true` (durable like Mayfly);
//! - `garage-nofsync`: both `false`, Garage's own defaults.
//!
//! Set-up goes through Garage's CLI (which speaks to the daemon over its RPC port): wait for
//! `status`, `layout assign` + `layout apply`, `key create`, `bucket create` and `bucket allow`
//! for the two benchmark buckets. The process is an [`Endpoint`] child: it is stopped when the
//! endpoint drops, and its directory lives in the run's temporary work directory. The binary is
//! installed by `scripts/install-garage`; when it is absent the peers are skipped, with the
//! reason printed and recorded in results.json.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::endpoint::Endpoint;
use crate::target::{BUCKET, LIST_BUCKET};

/// The two variants: endpoint name and whether both fsync options are on.
pub(crate) const VARIANTS: [(&str, bool); 2] = [("garage-fsync", true), ("garage-nofsync", false)];

/// Where `scripts/install-garage` puts the binary: `<target>/peers/garage/bin/garage`, found
/// from this executable's own directory (`<target>/release` or `<target>/debug`).
pub(crate) fn default_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("peers/garage/bin/garage")
}

/// `garage --version`'s first line, e.g. `garage v2.5.0 [features: ...]`.
pub(crate) fn version(bin: &Path) -> Result<String> {
    let out = Command::new(bin)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", bin.display()))?;
    if !out.status.success() {
        bail!("{} --version failed", bin.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned())
}

/// Starts one Garage node in `dir` and returns it as an S3 peer with a key that owns both
/// benchmark buckets.
pub(crate) fn spawn(name: &str, bin: &Path, dir: &Path, fsync: bool) -> Result<Endpoint> {
    std::fs::create_dir_all(dir)?;
    let (s3_port, rpc_port) = (free_port()?, free_port()?);
    let config = dir.join("garage.toml");
    std::fs::write(&config, config_toml(dir, s3_port, rpc_port, fsync)?)
        .context("writing garage.toml")?;
    // Garage's own log level (its default when RUST_LOG is unset), into a file as for Mayfly.
    let log = std::fs::File::create(dir.join("server.log")).context("creating server.log")?;
    let child = Command::new(bin)
        .arg("-c")
        .arg(&config)
        .arg("server")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawning {} server", bin.display()))?;
    let s3_url = format!("http://127.0.0.1:{s3_port}");
    // From here on the endpoint owns the process: an error below drops (and stops) it.
    let mut ep = Endpoint::spawned_peer(name, &s3_url, child);
    let cli = Cli {
        bin,
        config: &config,
    };

    let deadline = Instant::now() + Duration::from_secs(60);
    while cli.run(&["status"]).is_err() {
        if ep.exited() {
            bail!(
                "garage ({name}) exited early; see {}",
                dir.join("server.log").display()
            );
        }
        if Instant::now() > deadline {
            bail!("garage ({name}) not answering `garage status` after 60 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let node = cli.run(&["node", "id", "-q"])?;
    let node_id = node
        .trim()
        .split('@')
        .next()
        .filter(|id| !id.is_empty())
        .context("`garage node id` printed no id")?
        .to_owned();
    cli.run(&["layout", "assign", "-z", "dc1", "-c", "10G", &node_id])?;
    cli.run(&["layout", "apply", "--version", "1"])?;
    // The output holds the secret: parsed here, never printed.
    let key = cli.run(&["key", "create", "mayfly-bench"])?;
    let key_id = labelled(&key, "Key ID:").context("`garage key create`: no key id")?;
    let secret = labelled(&key, "Secret key:").context("`garage key create`: no secret")?;
    for bucket in [BUCKET, LIST_BUCKET] {
        cli.run(&["bucket", "create", bucket])?;
        cli.run(&[
            "bucket", "allow", "--read", "--write", "--owner", bucket, "--key", &key_id,
        ])?;
    }
    ep.access_key_id = key_id;
    ep.secret_access_key = secret;
    Ok(ep)
}

/// The configuration file: single node on loopback, LMDB, the variant's fsync options.
fn config_toml(dir: &Path, s3_port: u16, rpc_port: u16, fsync: bool) -> Result<String> {
    // TOML basic strings take JSON's escapes for what a path can hold.
    let path = |p: PathBuf| -> Result<String> {
        Ok(serde_json::to_string(
            p.to_str().context("Garage's directory must be UTF-8")?,
        )?)
    };
    Ok(format!(
        "metadata_dir = {meta}\n\
         data_dir = {data}\n\
         db_engine = \"lmdb\"\n\
         replication_factor = 1\n\
         metadata_fsync = {fsync}\n\
         data_fsync = {fsync}\n\
         rpc_bind_addr = \"127.0.0.1:{rpc_port}\"\n\
         rpc_public_addr = \"127.0.0.1:{rpc_port}\"\n\
         rpc_secret = \"{secret}\"\n\
         \n\
         [s3_api]\n\
         s3_region = \"auto\"\n\
         api_bind_addr = \"127.0.0.1:{s3_port}\"\n",
        meta = path(dir.join("meta"))?,
        data = path(dir.join("data"))?,
        secret = random_hex(32)?,
    ))
}

/// `garage -c CONFIG ...` for set-up commands.
struct Cli<'a> {
    bin: &'a Path,
    config: &'a Path,
}

impl Cli<'_> {
    /// Runs one CLI command and returns its stdout; the error carries its stderr (which never
    /// holds a secret: only `key create`'s stdout does).
    fn run(&self, args: &[&str]) -> Result<String> {
        let out = Command::new(self.bin)
            .arg("-c")
            .arg(self.config)
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running garage {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "garage {} failed ({}): {}",
                args.first().copied().unwrap_or_default(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The value after `label` on its line (`Key ID:   GK...`).
fn labelled(text: &str, label: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A port free on 127.0.0.1 right now (bound and released: another process could take it
/// before Garage does, which then fails to start and says so).
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// `n` random bytes from the kernel, hex-encoded.
fn random_hex(n: usize) -> Result<String> {
    use std::fmt::Write as _;
    use std::io::Read as _;
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    let mut s = String::with_capacity(2 * n);
    for b in buf {
        let _ = write!(s, "{b:02x}");
    }
    Ok(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_fields_are_read_from_the_cli_table() {
        let out = "==== ACCESS KEY INFORMATION ====\nKey ID:              GK31c2f218a2e44f485b94239e\nKey name:            mayfly-bench\nSecret key:          b892c0665f0ada8a4755dae98baa3b133590e11dae3bcc1f9d769d67f16c3835\nCreated:             2026-12-05\n";
        assert_eq!(
            labelled(out, "Key ID:").as_deref(),
            Some("GK31c2f218a2e44f485b94239e")
        );
        assert_eq!(
            labelled(out, "Secret key:").unwrap().len(),
            64,
            "the whole secret"
        );
        assert_eq!(labelled(out, "Expiration:"), None);
    }

    #[test]
    fn config_has_the_variant_and_the_issue_settings() {
        let dir = tempfile::tempdir().unwrap();
        let on = config_toml(dir.path(), 3900, 3901, true).unwrap();
        assert!(on.contains("db_engine = \"lmdb\""));
        assert!(on.contains("replication_factor = 1"));
        assert!(on.contains("metadata_fsync = true\ndata_fsync = true"));
        assert!(on.contains("api_bind_addr = \"127.0.0.1:3900\""));
        let off = config_toml(dir.path(), 3900, 3901, false).unwrap();
        assert!(off.contains("metadata_fsync = false\ndata_fsync = false"));
        // A fresh RPC secret per node: 32 bytes, hex.
        let secret = |c: &str| labelled(c, "rpc_secret = ").unwrap();
        assert_eq!(secret(&on).trim_matches('"').len(), 64);
        assert_ne!(secret(&on), secret(&off));
    }
}
