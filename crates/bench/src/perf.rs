//! `--perf DIR`: each timed step on an endpoint whose process is known runs under
//! `perf record`, one file per step and endpoint (`DIR/<step>@<endpoint>.r<round>.perf.data`, `/` in the
//! step id spelled `_`), so a missed target can be explained by where that server spent its
//! CPU in exactly that step. `scripts/perf-breakdown DIR` turns the files into a table of
//! components (kernel, SQLite, s3s, hyper, allocator, Mayfly's own crates, ...).
//!
//! Sampling perturbs what it measures: a profiled run answers "where did the time go", never
//! "how fast": take the numbers from a run without `--perf`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};

/// Samples per second. Enough for a 2 s step to give thousands of samples, little enough that
/// the sampled server slows down only a few percent.
const FREQUENCY: &str = "999";

/// One `perf record` attached to a server for the length of a step.
pub(crate) struct Recording {
    child: Child,
}

/// Checks once, before the run, that `perf` is there and may attach to processes, so a long run
/// does not find out at its first step.
pub(crate) fn check(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let out = Command::new("perf")
        .arg("--version")
        .output()
        .context("--perf needs `perf` (Debian: linux-perf) on PATH")?;
    anyhow::ensure!(out.status.success(), "`perf --version` failed");
    Ok(())
}

/// The file a step's profile goes to in round `round` (perf cannot append to a file; the
/// breakdown script adds the rounds up).
pub(crate) fn file_for(dir: &Path, step: &str, endpoint: &str, round: u32) -> PathBuf {
    dir.join(format!(
        "{}@{endpoint}.r{round}.perf.data",
        step.replace('/', "_")
    ))
}

impl Recording {
    /// Starts sampling `pid`'s CPU (user and kernel, every thread) into `file`.
    pub(crate) async fn start(pid: u32, file: &Path) -> Result<Self> {
        let child = Command::new("perf")
            .args(["record", "-q", "-e", "cpu-clock", "-F", FREQUENCY, "-p"])
            .arg(pid.to_string())
            .arg("-o")
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting perf record")?;
        // perf needs a moment to attach to every thread: a step that started before it had
        // would be a profile of nothing.
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        Ok(Self { child })
    }

    /// Stops sampling (SIGINT, as at the terminal) and waits for the file to be written.
    pub(crate) fn stop(mut self) -> Result<()> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .context("signalling perf")?;
        self.child.wait().context("waiting for perf")?;
        Ok(())
    }
}
