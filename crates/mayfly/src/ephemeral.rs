//! `mayfly serve --ephemeral`: a throwaway server for other people's test suites.
//!
//! The data lives in a fresh temporary directory (in `$TMPDIR`, else in memory under `/dev/shm`
//! on Linux) that is removed when the server stops (on
//! SIGTERM, SIGINT, a server failure, or, with `--exit-on-stdin-eof`, when standard input
//! closes). Both listeners take free ports unless given, the store is bootstrapped like any
//! empty data directory, the testing API is on (fresh accounts, see `mayfly_api`'s
//! `testing.rs`), and once both listeners accept, exactly one JSON line goes to stdout:
//!
//! ```text
//! {"api_url":"http://127.0.0.1:41234/client/v4","s3_url":"http://127.0.0.1:41235",
//!  "account_id":"…","api_token":"…","access_key_id":"…","secret_access_key":"…","pid":1234}
//! ```
//!
//! (on one line). The credentials are throwaway, so printing them is fine here and only here.
//! Logs go to stderr, as always. A test runner reads that line, uses the values, and keeps the
//! write end of the server's stdin open: if the runner dies, even by SIGKILL, the kernel closes
//! the pipe and the server stops and cleans up by itself. Only a SIGKILL of the server itself
//! leaves its directory behind (named `mayfly-ephemeral-*`).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tokio::sync::oneshot;

use crate::cli::ServeArgs;
use crate::config::ServeConfig;
use crate::serve::{self, Running};
use crate::{logging, metrics};

/// Where a listener binds when `--ephemeral` is given no address: loopback, any free port.
const ANY_FREE_PORT: &str = "127.0.0.1:0";

/// Linux's memory-backed directory (tmpfs), preferred for the data when `TMPDIR` is unset.
const SHARED_MEMORY_DIR: &str = "/dev/shm";

/// The one line `--ephemeral` prints on stdout once both listeners accept.
pub fn ready_line(running: &Running) -> anyhow::Result<String> {
    let boot = running
        .bootstrap
        .as_ref()
        .context("an ephemeral store starts empty, so it must have been bootstrapped")?;
    let line = serde_json::json!({
        "api_url": running.api_url(),
        "s3_url": running.s3_url(),
        "account_id": boot.account_id.as_str(),
        "api_token": boot.api_token.expose_secret(),
        "access_key_id": boot.token_id.as_str(),
        // Throwaway credentials of a throwaway server: printing them is the point.
        "secret_access_key": boot.secret_access_key.expose_secret(),
        "pid": std::process::id(),
    });
    Ok(line.to_string())
}

/// Where the temporary data directory goes: `$TMPDIR` when set; else, on Linux, `/dev/shm`
/// (memory) when it is a writable directory, because an empty store on disk costs hundreds of
/// milliseconds of directory creation and fsyncs that a throwaway server does not need; else
/// the system temp directory. Set `TMPDIR` to keep large test objects on disk.
fn data_parent() -> PathBuf {
    if std::env::var_os("TMPDIR").is_some_and(|v| !v.is_empty()) {
        return std::env::temp_dir();
    }
    let shm = Path::new(SHARED_MEMORY_DIR);
    let writable = std::fs::metadata(shm).is_ok_and(|m| m.is_dir() && !m.permissions().readonly());
    if cfg!(target_os = "linux") && writable {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    }
}

/// Runs `mayfly serve --ephemeral` until a signal, a server failure or (with
/// `--exit-on-stdin-eof`) the end of stdin, then removes the data directory.
pub async fn run(mut args: ServeArgs) -> anyhow::Result<()> {
    let parent = data_parent();
    let dir = tempfile::Builder::new()
        .prefix("mayfly-ephemeral-")
        .tempdir_in(&parent)
        .with_context(|| {
            format!(
                "cannot create a temporary data directory in {}",
                parent.display()
            )
        })?;
    let any: SocketAddr = ANY_FREE_PORT.parse().context("built-in address")?;
    args.data_dir = Some(dir.path().to_owned());
    args.metadata = None;
    args.blobs = None;
    args.api_listen = args.api_listen.or(Some(any));
    args.s3_listen = args.s3_listen.or(Some(any));
    // Nothing lives long enough to need orphan collection: the directory goes at exit.
    args.gc_interval = args.gc_interval.or(Some(0));
    let exit_on_eof = args.exit_on_stdin_eof;
    let (config, stores) = ServeConfig::resolve_with_store(args)?;
    logging::init(config.log_format);

    let result = serve_until_stopped(&config, &stores, exit_on_eof).await;
    let path = dir.path().to_owned();
    match dir.close() {
        Ok(()) => tracing::info!(data_dir = %path.display(), "removed the ephemeral data"),
        Err(e) => {
            tracing::warn!(data_dir = %path.display(), error = %e, "cannot remove the ephemeral data")
        }
    }
    result
}

async fn serve_until_stopped(
    config: &ServeConfig,
    stores: &crate::config::StoreChoice,
    exit_on_eof: bool,
) -> anyhow::Result<()> {
    let running =
        serve::start_with_testing(config, stores, mayfly_store::Clock::system(), true).await?;
    tokio::spawn(metrics::upkeep_loop());
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", ready_line(&running)?)?;
        out.flush()?;
    }
    if let Some(path) = &config.ready_file {
        serve::write_ready_file(path, &running)?;
    }
    let eof = if exit_on_eof {
        Some(stdin_eof()?)
    } else {
        None
    };
    let stdin_closed = async move {
        match eof {
            Some(rx) => {
                let _ = rx.await;
            }
            None => std::future::pending().await,
        }
    };
    let stop = running.stop_handle();
    let wait = running.wait();
    tokio::pin!(wait);
    let reason = tokio::select! {
        r = &mut wait => {
            return match r {
                Ok(()) => Err(anyhow::anyhow!("servers stopped unexpectedly")),
                Err(e) => Err(e),
            };
        }
        sig = serve::shutdown_signal() => sig?,
        _ = stdin_closed => "stdin closed",
    };
    tracing::info!(reason, "shutting down the ephemeral server");
    stop.stop();
    let result = wait.await;
    if let Some(path) = &config.ready_file {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Resolves when standard input reaches end of file (or fails). Read on a plain thread, not
/// tokio's blocking pool: a read blocked on a terminal would otherwise hold up runtime shutdown.
fn stdin_eof() -> anyhow::Result<oneshot::Receiver<()>> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("stdin-eof".to_owned())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 512];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        })
        .context("cannot start the thread watching stdin")?;
    Ok(rx)
}
