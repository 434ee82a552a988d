//! Command-line definitions (clap derive) and the run plan they resolve to. Parsing only: the
//! scenarios read a [`Plan`], never the raw flags, so `--smoke` is one place that shrinks
//! everything.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

const AFTER_HELP: &str = "\
Examples:
  # Everything against a Mayfly this tool starts (target/release/mayfly beside this binary):
  mayfly-bench --out bench-out

  # Against s3s-fs as a peer, interleaved with Mayfly (and Garage, if scripts/install-garage
  # has installed it: both fsync variants are started and torn down here):
  mayfly-bench --peer s3s-fs=http://127.0.0.1:9100,AKEXAMPLE,SKEXAMPLE

  # Two Mayfly builds side by side (both started here, both get every scenario):
  mayfly-bench --mayfly-bin target/release/mayfly --mayfly old=/tmp/mayfly-old

  # Where a Mayfly 4 KiB GET and a Garage one spend their CPU (needs perf):
  mayfly-bench --scenarios small --steps small/get/4KiB/c16/raw --client raw --perf prof
  scripts/perf-breakdown prof

  # A few seconds end to end, tiny sizes (what the test suite runs):
  mayfly-bench --smoke --out /tmp/bench-smoke";

/// `mayfly-bench`: interleaved load against one or more endpoints, beside the HTTP, crypto and
/// disk floors of the same machine, measured in the same run.
#[derive(Debug, Parser)]
#[command(name = "mayfly-bench", version, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// Tiny sizes and durations (whole run well under 20 s); what the test suite runs.
    #[arg(long)]
    pub(crate) smoke: bool,
    /// Where results.json, results.csv and chart.svg go.
    #[arg(long, default_value = "bench-out")]
    pub(crate) out: PathBuf,
    /// Mayfly binary to start as endpoint `mayfly` [default: `mayfly` beside this binary].
    #[arg(long, env = "MAYFLY_BIN")]
    pub(crate) mayfly_bin: Option<PathBuf>,
    /// Another Mayfly build to start and measure: NAME=PATH (repeatable).
    #[arg(long = "mayfly", value_name = "NAME=PATH")]
    pub(crate) extra_mayfly: Vec<String>,
    /// An already running Mayfly instead of starting one: a JSON file holding the fields of
    /// `mayfly init --json` plus `api_url` and `s3_url` (repeatable; name = file stem).
    #[arg(long = "endpoint", value_name = "FILE")]
    pub(crate) endpoints: Vec<PathBuf>,
    /// Any S3 endpoint: NAME=URL,ACCESS_KEY,SECRET[,pid=N] (repeatable). With `pid`, its peak
    /// RSS and CPU time are reported too.
    #[arg(long = "peer", value_name = "NAME=URL,KEY,SECRET")]
    pub(crate) peers: Vec<String>,
    /// Garage binary for the two Garage peers (`garage-fsync`, `garage-nofsync`), started and
    /// configured by this tool [default: `<target>/peers/garage/bin/garage`, where
    /// scripts/install-garage puts it]. Absent: the peers are skipped, with the reason printed.
    #[arg(long, env = "MAYFLY_BENCH_GARAGE", value_name = "PATH")]
    pub(crate) garage: Option<PathBuf>,
    /// Do not start the Garage peers even if the binary is there.
    #[arg(long)]
    pub(crate) no_garage: bool,
    /// Scenarios to run, comma-separated: baseline,mint,auth,small,large,list,startup
    /// (startup: `mayfly serve --ephemeral` from process start to its ready line).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "baseline,mint,auth,small,large,list,startup"
    )]
    pub(crate) scenarios: Vec<String>,
    /// Interleaved rounds: every step runs once per round on each endpoint (A,B,A,B...).
    #[arg(long)]
    pub(crate) rounds: Option<u32>,
    /// Seconds per timed step per round per endpoint.
    #[arg(long)]
    pub(crate) step_secs: Option<f64>,
    /// Connections for /healthz, mint over HTTP and the auth GETs.
    #[arg(long)]
    pub(crate) conns: Option<usize>,
    /// Concurrent clients for the small-object steps, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub(crate) concurrency: Vec<usize>,
    /// Small object size (e.g. 4KiB).
    #[arg(long)]
    pub(crate) small_size: Option<String>,
    /// Large object size (e.g. 256MiB).
    #[arg(long)]
    pub(crate) large_size: Option<String>,
    /// Multipart part size for the large multipart step (at least 5MiB).
    #[arg(long)]
    pub(crate) part_size: Option<String>,
    /// S3 clients for the auth and small-object steps, comma-separated: `sdk` (aws-sdk-s3) and/or
    /// `raw` (reqwest + SigV4 signed here, to size the SDK's own overhead).
    #[arg(long, value_delimiter = ',')]
    pub(crate) client: Vec<String>,
    /// Keys in the listing bucket.
    #[arg(long)]
    pub(crate) list_keys: Option<usize>,
    /// Keys per ListObjectsV2 page.
    #[arg(long)]
    pub(crate) list_page: Option<i32>,
    /// Directory for the started servers' data and the raw-disk files [default: system temp].
    #[arg(long)]
    pub(crate) work_dir: Option<PathBuf>,
    /// Profile every timed step on each endpoint whose process is known (`perf record`, one
    /// file per step, endpoint and round, in this directory); `scripts/perf-breakdown DIR`
    /// tabulates them. Sampling slows the servers a little: take numbers from a run without it.
    #[arg(long, value_name = "DIR")]
    pub(crate) perf: Option<PathBuf>,
    /// Run only the steps whose id contains one of these (comma-separated), e.g.
    /// `get-1KiB,small/get/4KiB/c16`; the scenarios still decide what is seeded.
    #[arg(long, value_delimiter = ',', value_name = "TEXT")]
    pub(crate) steps: Vec<String>,
    // --- audit on/off step (crates/bench/src/audit.rs, issue 15) ---
    /// Run only the audit cost step: 4 KiB GETs with temporary credentials against two
    /// Mayfly servers, `--audit off` and `--audit on`, interleaved; prints the on/off ratio.
    #[arg(long)]
    pub(crate) audit_ab: bool,
}

/// Which S3 client drives a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientKind {
    /// aws-sdk-s3.
    Sdk,
    /// reqwest with SigV4 signed by [`crate::sigv4`].
    Raw,
}

impl ClientKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ClientKind::Sdk => "sdk",
            ClientKind::Raw => "raw",
        }
    }
}

/// Every size, duration and count the scenarios use.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) smoke: bool,
    pub(crate) scenarios: Vec<String>,
    pub(crate) rounds: u32,
    pub(crate) step: Duration,
    pub(crate) conns: usize,
    pub(crate) concurrency: Vec<usize>,
    pub(crate) clients: Vec<ClientKind>,
    pub(crate) auth_size: usize,
    pub(crate) small_size: usize,
    pub(crate) large_size: usize,
    pub(crate) part_size: usize,
    pub(crate) list_keys: usize,
    pub(crate) list_page: i32,
    /// Objects the small GET steps cycle over.
    pub(crate) small_get_keys: usize,
}

impl Cli {
    /// Resolves defaults (full or smoke) and checks the values.
    pub(crate) fn plan(&self) -> Result<Plan> {
        let known = [
            "baseline", "mint", "auth", "small", "large", "list", "startup",
        ];
        for s in &self.scenarios {
            if !known.contains(&s.as_str()) {
                bail!("unknown scenario {s:?} (known: {})", known.join(","));
            }
        }
        let size = |v: &Option<String>, full: usize, smoke: usize| -> Result<usize> {
            match v {
                Some(s) => parse_size(s),
                None => Ok(if self.smoke { smoke } else { full }),
            }
        };
        let plan = Plan {
            smoke: self.smoke,
            scenarios: self.scenarios.clone(),
            rounds: self.rounds.unwrap_or(if self.smoke { 1 } else { 3 }),
            step: Duration::from_secs_f64(self.step_secs.unwrap_or(if self.smoke {
                0.2
            } else {
                3.0
            })),
            conns: self.conns.unwrap_or(if self.smoke { 4 } else { 16 }),
            concurrency: if self.concurrency.is_empty() {
                if self.smoke {
                    vec![1, 4]
                } else {
                    vec![1, 16, 64]
                }
            } else {
                self.concurrency.clone()
            },
            clients: match self.client.is_empty() {
                true if self.smoke => vec![ClientKind::Sdk, ClientKind::Raw],
                true => vec![ClientKind::Sdk],
                false => self
                    .client
                    .iter()
                    .map(|c| match c.as_str() {
                        "sdk" => Ok(ClientKind::Sdk),
                        "raw" => Ok(ClientKind::Raw),
                        _ => bail!("--client takes sdk and/or raw, not {c:?}"),
                    })
                    .collect::<Result<_>>()?,
            },
            auth_size: 1024,
            small_size: size(&self.small_size, 4 << 10, 4 << 10)?,
            large_size: size(&self.large_size, 256 << 20, 6 << 20)?,
            part_size: size(&self.part_size, 16 << 20, 5 << 20)?,
            list_keys: self
                .list_keys
                .unwrap_or(if self.smoke { 60 } else { 100_000 }),
            list_page: self.list_page.unwrap_or(if self.smoke { 25 } else { 1000 }),
            small_get_keys: if self.smoke { 8 } else { 256 },
        };
        if plan.rounds == 0 || plan.conns == 0 || plan.concurrency.contains(&0) {
            bail!("rounds, conns and concurrency must be positive");
        }
        if plan.part_size < 5 << 20 {
            bail!("--part-size must be at least 5MiB (the S3 minimum for all but the last part)");
        }
        if plan.list_page < 1 || plan.list_page > 1000 {
            bail!("--list-page must be 1..=1000");
        }
        Ok(plan)
    }
}

/// `4096`, `4KiB`, `4k`, `256MiB`, `1GiB` (binary units) to bytes.
pub(crate) fn parse_size(s: &str) -> Result<usize> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num.parse().with_context(|| format!("bad size {s:?}"))?;
    let mul = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1 << 10,
        "m" | "mib" | "mb" => 1 << 20,
        "g" | "gib" | "gb" => 1 << 30,
        _ => bail!("bad size unit in {s:?} (use KiB, MiB or GiB)"),
    };
    n.checked_mul(mul)
        .with_context(|| format!("size {s:?} overflows"))
}

/// A size for humans: `4 KiB`, `256 MiB`.
pub(crate) fn fmt_size(n: usize) -> String {
    if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("4KiB").unwrap(), 4096);
        assert_eq!(parse_size("256MiB").unwrap(), 256 << 20);
        assert!(parse_size("4XB").is_err());
        assert_eq!(fmt_size(256 << 20), "256 MiB");
        assert_eq!(fmt_size(1024), "1 KiB");
    }
}
