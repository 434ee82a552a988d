//! `mayfly-cluster`: starts a test cluster ([`mayfly_e2e::Cluster`]) and keeps it up until
//! SIGTERM or SIGINT, so suites in other languages (pytest, node:test) can run against it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mayfly_e2e::{Cluster, ClusterOptions};

const HELP: &str = "\
mayfly-cluster: a Mayfly cluster for end-to-end tests.

Creates a fresh database on the PostgreSQL server MAYFLY_TEST_PG_URL names, starts an upstream
S3 store (an embedded-store `mayfly serve`), then N `mayfly serve --metadata ... --blobs ...`
nodes one after the other, behind a round-robin TCP load balancer for the API and one for S3.
Once every node is ready it writes the ready file (JSON, atomically), then waits. On SIGTERM or
SIGINT it stops the nodes with SIGTERM, prints the connections each node received as one JSON
line on stdout ({\"connections\": [[api, s3], ...]}), drops the database and exits 0 (1 when a
node did not exit cleanly).

The binary under test is MAYFLY_BIN, else target/debug/mayfly.

Usage: mayfly-cluster --ready-file FILE [--nodes N] [--log-file FILE]

Options:
  --ready-file FILE  where to write {api_url, s3_url, s3_host, account_id, api_token, token_id,
                     access_key_id, secret_access_key, pid, nodes: [{api_url, s3_url, pid,
                     log_path}], upstream: {api_url, s3_url}, database}
  --nodes N          how many nodes (default 2)
  --log-file FILE    append every node's log here (default: one file per node, named in the
                     ready file)
  -h, --help         this text

Example:
  scripts/pg-test-server run target/debug/mayfly-cluster --ready-file /tmp/cluster.json &
  jq -r .api_url /tmp/cluster.json    # the API balancer, e.g. http://127.0.0.1:40123/client/v4
  kill -TERM %1
";

struct Args {
    ready_file: PathBuf,
    options: ClusterOptions,
}

fn parse_args() -> Result<Option<Args>> {
    let mut ready_file = None;
    let mut options = ClusterOptions::default();
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--ready-file" => ready_file = Some(PathBuf::from(value()?)),
            "--log-file" => options.shared_log = Some(PathBuf::from(value()?)),
            "--nodes" => {
                options.nodes = value()?
                    .to_string_lossy()
                    .parse()
                    .context("--nodes takes a number")?;
            }
            other => bail!("unknown argument {other} (see --help)"),
        }
    }
    let ready_file = ready_file.context("--ready-file is required (see --help)")?;
    Ok(Some(Args {
        ready_file,
        options,
    }))
}

fn ready_json(cluster: &Cluster) -> serde_json::Value {
    serde_json::json!({
        "api_url": cluster.api_url,
        "s3_url": cluster.s3_url,
        "s3_host": cluster.s3_host,
        "account_id": cluster.account_id,
        "api_token": cluster.api_token,
        "token_id": cluster.access_key_id,
        "access_key_id": cluster.access_key_id,
        "secret_access_key": cluster.secret_access_key,
        "pid": std::process::id(),
        "nodes": cluster.nodes.iter().map(|n| serde_json::json!({
            "api_url": n.api_url,
            "s3_url": n.s3_url,
            "pid": n.pid(),
            "log_path": n.log_path,
        })).collect::<Vec<_>>(),
        "upstream": {"api_url": cluster.upstream.api_url, "s3_url": cluster.upstream.s3_url},
        "database": cluster.database,
    })
}

fn write_atomically(path: &std::path::Path, text: &str) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", path.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

fn run(args: Args) -> Result<()> {
    let mut cluster = Cluster::start_with(&args.options)?;
    write_atomically(&args.ready_file, &format!("{}\n", ready_json(&cluster)))?;
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    signals.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        anyhow::Ok(())
    })?;
    let _ = std::fs::remove_file(&args.ready_file);
    let stopped = cluster.stop();
    let counts = serde_json::json!({"connections": cluster.connections()});
    let mut out = std::io::stdout().lock();
    writeln!(out, "{counts}")?;
    out.flush()?;
    stopped
}

fn main() -> ExitCode {
    match parse_args() {
        Ok(None) => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Ok(Some(args)) => match run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mayfly-cluster: {e:#}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("mayfly-cluster: {e:#}");
            ExitCode::from(2)
        }
    }
}
