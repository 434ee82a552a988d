//! The `mayfly` command: parse, run, map the error to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mayfly::Cli::parse();
    match mayfly::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: "cannot open store: ...".
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
