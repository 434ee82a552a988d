//! `mayfly-bench`: a load generator for Mayfly and any S3 peer.
//!
//! One run starts (or is pointed at) the endpoints, seeds them, then plays every step of the
//! selected scenarios in interleaved rounds (A,B,A,B: machine noise hits every endpoint alike),
//! beside the floors of the same machine (its own `/healthz`, HMAC/SHA-256/MD5 of 1 MiB, raw
//! write+fsync and read). It prints a table and writes `results.json`, `results.csv`,
//! `results.md` and `chart.svg`. Targets are reported as ratios, never asserted: timing is the
//! machine's. `--smoke` shrinks everything to a few seconds for the test suite.

// The audit on/off step (issue 15).
mod audit;
mod ceiling;
mod cli;
mod endpoint;
mod garage;
mod goals;
mod load;
mod output;
mod perf;
mod report;
mod sigv4;
mod steps;
mod svg;
mod target;

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{Cli, Plan};
use crate::endpoint::Endpoint;
use crate::load::Sample;
use crate::report::Row;
use crate::steps::{Local, Step, Who};
use crate::target::Target;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mayfly-bench: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // On Ctrl-C or SIGTERM the run is dropped, and with it every server and peer it started
    // (`Endpoint`'s drop stops them): an interrupted bench leaves no process behind. The
    // handlers are installed before the run starts, so a signal during its synchronous set-up
    // is held until the run next yields instead of killing the bench outright.
    let outcome = rt.block_on(async {
        let signals = match Signals::install() {
            Ok(s) => s,
            Err(e) => return Err(anyhow::anyhow!("installing signal handlers: {e}")),
        };
        tokio::select! {
            r = run(cli) => r,
            signal = signals.first() => Err(anyhow::anyhow!(
                "stopped by {signal}; the servers it started are stopped too"
            )),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mayfly-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT and SIGTERM, caught from the moment they are installed.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// The name of the first signal that arrives.
    async fn first(mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
        }
    }
}

/// Readings of one step across rounds.
#[derive(Default)]
struct Acc {
    sample: Sample,
    server_cpu: Option<f64>,
    client_cpu: f64,
    peak_rss_kib: Option<u64>,
}

async fn run(cli: Cli) -> Result<()> {
    let plan = cli.plan()?;
    if cli.audit_ab {
        return audit::run(&cli, &plan).await;
    }
    let work = match &cli.work_dir {
        Some(d) => tempfile::Builder::new()
            .prefix("mayfly-bench-")
            .tempdir_in(d)?,
        None => tempfile::Builder::new().prefix("mayfly-bench-").tempdir()?,
    };
    let load_start = loadavg();

    let mut endpoints: Vec<Endpoint> = Vec::new();
    for f in &cli.endpoints {
        endpoints.push(endpoint::from_file(f)?);
    }
    let mayfly_bin = cli
        .mayfly_bin
        .clone()
        .unwrap_or_else(endpoint::default_mayfly_bin);
    if cli.endpoints.is_empty() {
        let bin = mayfly_bin.clone();
        let dir = work.path().join("mayfly");
        std::fs::create_dir_all(&dir)?;
        endpoints.push(endpoint::spawn_mayfly("mayfly", &bin, &dir)?);
    }
    for spec in &cli.extra_mayfly {
        let (name, path) = spec.split_once('=').context("--mayfly wants NAME=PATH")?;
        let dir = work.path().join(format!("mayfly-{name}"));
        std::fs::create_dir_all(&dir)?;
        endpoints.push(endpoint::spawn_mayfly(name, path.as_ref(), &dir)?);
    }
    for spec in &cli.peers {
        endpoints.push(endpoint::parse_peer(spec)?);
    }
    // Peers that were asked for (by default) but could not run: printed now and at the end, and
    // recorded in results.json, so a missing peer never passes for a measured one.
    let mut skipped: Vec<serde_json::Value> = Vec::new();
    let mut garage_version = None;
    let garage_bin = cli.garage.clone().unwrap_or_else(garage::default_bin);
    let garage_skip = if cli.no_garage {
        Some("--no-garage".to_owned())
    } else if !garage_bin.exists() {
        Some(format!(
            "{} not found (scripts/install-garage installs it; --garage PATH points elsewhere)",
            garage_bin.display()
        ))
    } else {
        None
    };
    match garage_skip {
        Some(reason) => {
            println!("garage peers skipped: {reason}");
            for (name, _) in garage::VARIANTS {
                skipped.push(serde_json::json!({ "name": name, "reason": reason }));
            }
        }
        None => {
            let v = garage::version(&garage_bin)?;
            println!("garage peers: {v} ({})", garage_bin.display());
            for (name, fsync) in garage::VARIANTS {
                let dir = work.path().join(name);
                endpoints.push(
                    garage::spawn(name, &garage_bin, &dir, fsync)
                        .with_context(|| format!("starting {name}"))?,
                );
            }
            garage_version = Some(v);
        }
    }
    let mut names: Vec<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) || names.contains(&"local") {
        anyhow::bail!("endpoint names must be unique and not `local`");
    }

    let spinner = ProgressBar::new_spinner();
    let mut targets: Vec<Target> = Vec::new();
    for ep in endpoints {
        spinner.set_message(format!(
            "seeding {} (buckets, objects, {} listing keys)",
            ep.name, plan.list_keys
        ));
        spinner.enable_steady_tick(std::time::Duration::from_millis(200));
        targets.push(target::prepare(ep, &plan).await?);
    }
    spinner.finish_and_clear();

    let mut steps = steps::plan_steps(&plan);
    if !cli.steps.is_empty() {
        steps.retain(|s| cli.steps.iter().any(|f| s.id.contains(f.as_str())));
        anyhow::ensure!(!steps.is_empty(), "--steps {:?} matches no step", cli.steps);
    }
    if let Some(dir) = &cli.perf {
        perf::check(dir)?;
    }
    let participants = |s: &Step| -> Vec<Option<usize>> {
        match s.who {
            Who::Local => vec![None],
            Who::AllEndpoints => (0..targets.len()).map(Some).collect(),
            Who::ApiEndpoints => (0..targets.len())
                .filter(|&i| targets[i].ep.api.is_some())
                .map(Some)
                .collect(),
        }
    };
    let total: u64 = steps
        .iter()
        .map(|s| participants(s).len() as u64)
        .sum::<u64>()
        * u64::from(plan.rounds);
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
            .context("progress template")?
            .progress_chars("=> "),
    );

    let disk_dir = work.path().join("disk");
    std::fs::create_dir_all(&disk_dir)?;
    let mut local = Local {
        disk_dir,
        mib: target::payload(1 << 20),
        small: target::payload(plan.small_size),
        large: target::payload(plan.large_size),
        seq: 0,
        mayfly_bin,
        ceiling: None,
    };
    let mut acc: BTreeMap<(usize, String), Acc> = BTreeMap::new();
    let mut rss_per_step = true;
    for round in 0..plan.rounds {
        for (si, step) in steps.iter().enumerate() {
            for who in participants(step) {
                let t = who.map(|i| &targets[i]);
                let name = t.map_or("local", |t| t.ep.name.as_str()).to_owned();
                pb.set_message(format!(
                    "round {}/{} {} @ {name}",
                    round + 1,
                    plan.rounds,
                    step.id
                ));
                let pid = t.and_then(|t| t.ep.pid);
                if let Some(pid) = pid {
                    rss_per_step &= endpoint::reset_peak_rss(pid);
                }
                let srv0 = pid.and_then(|p| endpoint::cpu_secs(&p.to_string()));
                let cli0 = endpoint::cpu_secs("self").unwrap_or(0.0);
                let recording = match (&cli.perf, pid) {
                    (Some(dir), Some(pid)) => Some(
                        perf::Recording::start(
                            pid,
                            &perf::file_for(dir, &step.id, &name, round + 1),
                        )
                        .await?,
                    ),
                    _ => None,
                };
                let sample = steps::exec(step, &plan, &mut local, t).await?;
                if let Some(r) = recording {
                    r.stop()?;
                }
                let cli1 = endpoint::cpu_secs("self").unwrap_or(0.0);
                let srv1 = pid.and_then(|p| endpoint::cpu_secs(&p.to_string()));
                let rss = pid.and_then(endpoint::peak_rss_kib);
                let a = acc.entry((si, name)).or_default();
                a.sample.merge(sample);
                a.client_cpu += cli1 - cli0;
                if let (Some(x), Some(y)) = (srv0, srv1) {
                    *a.server_cpu.get_or_insert(0.0) += y - x;
                }
                a.peak_rss_kib = a.peak_rss_kib.max(rss);
                pb.inc(1);
            }
        }
    }
    pb.finish_and_clear();

    let mut rows: Vec<Row> = Vec::new();
    for (si, step) in steps.iter().enumerate() {
        for who in participants(step) {
            let name = who
                .map_or("local", |i| targets[i].ep.name.as_str())
                .to_owned();
            if let Some(a) = acc.remove(&(si, name.clone())) {
                rows.push(Row::new(
                    step,
                    &name,
                    a.sample,
                    a.server_cpu,
                    a.client_cpu,
                    a.peak_rss_kib,
                ));
            }
        }
    }
    let mayflies: Vec<String> = targets
        .iter()
        .filter(|t| t.ep.api.is_some())
        .map(|t| t.ep.name.clone())
        .collect();
    let peers: Vec<String> = targets
        .iter()
        .filter(|t| t.ep.api.is_none())
        .map(|t| t.ep.name.clone())
        .collect();
    let checked = goals::targets(&rows, &mayflies, &peers, plan.conns);

    let meta = serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "started_unix": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "machine": {
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "loadavg_start": load_start,
            "loadavg_end": loadavg(),
        },
        "plan": plan_json(&plan),
        "endpoints": targets.iter().map(|t| serde_json::json!({
            "name": t.ep.name, "s3_url": t.ep.s3_url, "mayfly": t.ep.api.is_some(), "pid_known": t.ep.pid.is_some(),
        })).collect::<Vec<_>>(),
        "client": "aws-sdk-s3 (no retries, checksums when required); reqwest for /healthz; mayfly-client for minting",
        "peak_rss_per_step": rss_per_step,
        "garage": garage_version,
        "skipped_peers": skipped,
    });
    output::write_all(&cli.out, meta, &rows, &checked)?;
    println!("{}", report::table(&rows, &checked));
    println!(
        "wrote {}/results.json, results.csv, results.md, chart.svg",
        cli.out.display()
    );
    for s in &skipped {
        println!(
            "skipped peer {}: {}",
            s["name"].as_str().unwrap_or_default(),
            s["reason"].as_str().unwrap_or_default()
        );
    }
    if !rss_per_step {
        println!("note: /proc/PID/clear_refs refused: peak RSS is cumulative, not per step");
    }
    Ok(())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn plan_json(p: &Plan) -> serde_json::Value {
    serde_json::json!({
        "smoke": p.smoke,
        "scenarios": p.scenarios,
        "rounds": p.rounds,
        "step_secs": p.step.as_secs_f64(),
        "conns": p.conns,
        "concurrency": p.concurrency,
        "auth_size": p.auth_size,
        "small_size": p.small_size,
        "large_size": p.large_size,
        "part_size": p.part_size,
        "list_keys": p.list_keys,
        "list_page": p.list_page,
    })
}
