//! `mayfly`: the binary's library half. `main` parses the command line and calls [`run`];
//! everything else lives here so tests can call it: [`serve::start`] wires the storage
//! implementation into the API and S3 routers on two listeners, [`init`] bootstraps a data
//! directory, and [`commands`] drives the management API through `mayfly-client`.
//!
//! It is glue and holds no domain logic: credentials are `mayfly-core`'s, persistence is
//! `mayfly-store-local`'s, HTTP semantics are `mayfly-api`'s and `mayfly-s3`'s.

pub mod cli;
pub mod config;
pub mod logging;

use std::process::ExitCode;

pub use cli::Cli;

/// Runs a parsed command line and returns the process exit code (errors are printed to stderr).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        cli::Command::Init(_)
        | cli::Command::Serve(_)
        | cli::Command::Token(_)
        | cli::Command::Bucket(_)
        | cli::Command::Creds(_) => {
            anyhow::bail!("this subcommand is not built yet")
        }
    }
}
