//! `mayfly`: the binary's library half. `main` parses the command line and calls [`run`];
//! everything else lives here so tests can call it: [`serve::start`] wires the storage
//! implementation into the API and S3 routers on two listeners, [`init`] bootstraps a data
//! directory, [`commands`] drives the management API through `mayfly-client`, and [`creds`] mints
//! (remotely or offline) and inspects temporary credentials, and [`creds_check`] decides offline
//! whether one would allow an operation.
//!
//! It is glue and holds no domain logic: credentials are `mayfly-core`'s, persistence is
//! `mayfly-store-local`'s, HTTP semantics are `mayfly-api`'s and `mayfly-s3`'s.

#![warn(missing_docs)]

pub mod audit;
pub mod audit_log;
pub mod cli;
pub mod commands;
pub mod config;
pub mod creds;
pub mod creds_check;
pub mod creds_revoke;
pub mod ephemeral;
pub mod gc;
pub mod init;
pub mod lifecycle;
pub mod logging;
pub mod metrics;
mod periodic;
pub mod revocations;
pub mod serve;

use std::process::ExitCode;

pub use cli::Cli;
use cli::{Command, CredsCommand};

/// Runs a parsed command line and returns the process exit code (errors are printed to stderr
/// by `main`).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(cli))
}

async fn run_async(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init(args) => {
            let now = mayfly_store::Clock::system().now();
            let boot = init::init_data_dir(&args.data_dir, now).await?;
            if args.json {
                println!("{}", boot.to_json());
            } else {
                print!("{}", boot.to_text());
                println!(
                    "The api_token is shown only now: Mayfly stores its SHA-256, not the value."
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(cmd) => commands::token(cmd).await.map(|()| ExitCode::SUCCESS),
        Command::Bucket(cmd) => commands::bucket(cmd).await.map(|()| ExitCode::SUCCESS),
        // `creds check` and `creds revoke` live in their own modules, which use creds.rs's
        // helpers: dispatching here keeps creds.rs from importing them back.
        Command::Creds(cmd) => match cmd {
            CredsCommand::Mint(args) => creds::mint_command(&args).await,
            CredsCommand::Inspect(args) => creds::inspect(&args, creds::unix_now()?),
            CredsCommand::Check(args) => creds_check::check(&args, creds::unix_now()?),
            CredsCommand::Revoke(args) => creds_revoke::revoke(&args).await,
        },
        Command::Audit(args) => audit::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Serve(args) if args.ephemeral => {
            ephemeral::run(args).await.map(|()| ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            let testing_api = args.enable_testing_api;
            let (config, stores) = config::ServeConfig::resolve_with_store(args)?;
            logging::init(config.log_format);
            serve_until_signal(&config, &stores, testing_api)
                .await
                .map(|()| ExitCode::SUCCESS)
        }
    }
}

/// `mayfly serve`: start, announce, write the ready file, run until SIGTERM/SIGINT, drain.
async fn serve_until_signal(
    config: &config::ServeConfig,
    stores: &config::StoreChoice,
    testing_api: bool,
) -> anyhow::Result<()> {
    use std::io::Write;

    let running =
        serve::start_with_testing(config, stores, mayfly_store::Clock::system(), testing_api)
            .await?;
    tokio::spawn(metrics::upkeep_loop());
    {
        let mut out = std::io::stdout().lock();
        out.write_all(serve::banner(&running).as_bytes())?;
        out.flush()?;
    }
    if let Some(path) = &config.ready_file {
        serve::write_ready_file(path, &running)?;
    }
    let stop = running.stop_handle();
    let wait = running.wait();
    tokio::pin!(wait);
    let result = tokio::select! {
        r = &mut wait => match r {
            Ok(()) => Err(anyhow::anyhow!("servers stopped unexpectedly")),
            Err(e) => Err(e),
        },
        sig = serve::shutdown_signal() => {
            let sig = sig?;
            tracing::info!(signal = sig, "shutting down: draining in-flight requests");
            stop.stop();
            wait.await
        }
    };
    if let Some(path) = &config.ready_file {
        // A stale ready file would tell a supervisor we are still up.
        let _ = std::fs::remove_file(path);
    }
    if result.is_ok() {
        tracing::info!("stopped cleanly");
    }
    result
}
