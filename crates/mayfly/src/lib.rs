//! `mayfly`: the binary's library half. `main` parses the command line and calls [`run`];
//! everything else lives here so tests can call it: [`serve::start`] wires the storage
//! implementation into the API and S3 routers on two listeners, [`init`] bootstraps a data
//! directory, and [`commands`] drives the management API through `mayfly-client`.
//!
//! It is glue and holds no domain logic: credentials are `mayfly-core`'s, persistence is
//! `mayfly-store-local`'s, HTTP semantics are `mayfly-api`'s and `mayfly-s3`'s.

pub mod cli;
pub mod commands;
pub mod config;
pub mod init;
pub mod logging;

use std::process::ExitCode;

pub use cli::Cli;
use cli::Command;

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
        Command::Creds(cmd) => commands::creds(cmd).await.map(|()| ExitCode::SUCCESS),
        Command::Serve(_) => anyhow::bail!("`serve` is not built yet"),
    }
}
