//! A real `mayfly serve` in a fresh data directory on port 0, logging at `trace` to a file the
//! suite reads back for the secret check, plus a tiny management-API client.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::{Response, send};

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

/// One running server and its bootstrap admin credentials.
pub struct Server {
    /// `127.0.0.1:P` of the management API.
    pub api_addr: String,
    /// `127.0.0.1:Q` of the S3 endpoint (also its `Host`).
    pub s3_addr: String,
    /// The bootstrap account.
    pub account_id: String,
    /// The admin token's bearer value.
    pub api_token: String,
    /// The admin token's access key id.
    pub access_key_id: String,
    /// The admin token's S3 secret.
    pub secret_access_key: String,
    /// Where the server's stderr (its log) goes.
    pub log_path: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

impl Server {
    /// `mayfly init` then `mayfly serve` with `MAYFLY_LOG`/`RUST_LOG` = `trace`.
    pub fn start() -> Result<Self, String> {
        let bin = mayfly_bin();
        if !bin.exists() {
            return Err(format!(
                "{} not found: run `cargo build -p mayfly` first (scripts/test does)",
                bin.display()
            ));
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        let out = Command::new(&bin)
            .args(["init", "--json", "--data-dir"])
            .arg(&data)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "mayfly init failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let boot: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        let field = |k: &str| boot[k].as_str().map(str::to_owned).ok_or(format!("no {k}"));
        let ready = dir.path().join("ready.json");
        let log_path = dir.path().join("serve.log");
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let child = Command::new(&bin)
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
            .env("MAYFLY_LOG", "trace")
            .env("RUST_LOG", "trace")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut server = Server {
            api_addr: String::new(),
            s3_addr: String::new(),
            account_id: field("account_id")?,
            api_token: field("api_token")?,
            access_key_id: field("access_key_id")?,
            secret_access_key: field("secret_access_key")?,
            log_path,
            child: Some(child),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                server.api_addr = host_of(v["api_url"].as_str().unwrap_or_default());
                server.s3_addr = host_of(v["s3_url"].as_str().unwrap_or_default());
                return Ok(server);
            }
            if let Some(status) = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!("mayfly serve exited early: {status}"));
            }
            if Instant::now() > deadline {
                return Err("mayfly serve not ready after 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Calls the management API with the admin bearer token.
    pub fn api(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Response {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} /client/v4{path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.api_addr,
            self.api_token,
            body.len()
        );
        send(&self.api_addr, req.as_bytes())
    }

    /// Stops the server (SIGKILL is fine: the log is flushed per line).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
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

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
