//! The audit trail's cost (issue 15 §3): `--audit-ab` starts two Mayfly servers from the same
//! binary, one `--audit off` and one `--audit on`, seeds both alike, and plays the
//! `auth/get-4KiB/temporary` step (GETs of a small object with temporary credentials minted
//! over the API, every one of them an audit event on the `on` server) against each in
//! interleaved rounds, the order alternating every round so machine noise hits both alike.
//! It prints each server's throughput and latency and the on/off throughput ratio (the goal:
//! at least 0.90), and writes `audit.json` to `--out`. Reported, never asserted.

use anyhow::{Context, Result};

use crate::cli::{Cli, Plan};
use crate::load::Sample;
use crate::steps::{Kind, Local, Step};
use crate::target::{self, Target};

/// The object size of the measured GETs.
const AUTH_SIZE: usize = 4096;

/// The step measured: the temporary-credential GET of the auth scenario.
fn the_step(plan: &Plan) -> Result<Step> {
    let mut plan = plan.clone();
    plan.scenarios = vec!["auth".to_owned()];
    crate::steps::plan_steps(&plan)
        .into_iter()
        .find(|s| s.kind == Kind::Get { temp: true })
        .context("the auth scenario has no temporary-credential GET step")
}

/// Runs the on/off comparison.
pub(crate) async fn run(cli: &Cli, plan: &Plan) -> Result<()> {
    let work = match &cli.work_dir {
        Some(d) => tempfile::Builder::new()
            .prefix("mayfly-bench-audit-")
            .tempdir_in(d)?,
        None => tempfile::Builder::new()
            .prefix("mayfly-bench-audit-")
            .tempdir()?,
    };
    let bin = cli
        .mayfly_bin
        .clone()
        .unwrap_or_else(crate::endpoint::default_mayfly_bin);
    let mut auth_plan = plan.clone();
    auth_plan.scenarios = vec!["auth".to_owned()];
    // The measure: 4 KiB objects, whatever size the auth scenario uses by default.
    auth_plan.auth_size = AUTH_SIZE;
    let plan = &auth_plan;
    let mut targets: Vec<Target> = Vec::new();
    for (name, flag) in [("audit-off", "off"), ("audit-on", "on")] {
        let dir = work.path().join(name);
        std::fs::create_dir_all(&dir)?;
        let ep = crate::endpoint::spawn_mayfly_with(name, &bin, &dir, &["--audit", flag])?;
        targets.push(target::prepare(ep, plan).await?);
    }
    let step = the_step(plan)?;
    let disk_dir = work.path().join("disk");
    std::fs::create_dir_all(&disk_dir)?;
    let mut local = Local {
        disk_dir,
        mib: target::payload(1 << 20),
        small: target::payload(plan.small_size),
        large: target::payload(plan.large_size),
        seq: 0,
        mayfly_bin: bin,
        ceiling: None,
    };
    let mut samples = [Sample::default(), Sample::default()];
    for round in 0..plan.rounds {
        // off,on then on,off: neither always runs first.
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            eprintln!(
                "round {}/{} {} @ {}",
                round + 1,
                plan.rounds,
                step.id,
                targets[i].ep.name
            );
            let s = crate::steps::exec(&step, plan, &mut local, Some(&targets[i])).await?;
            samples[i].merge(s);
        }
    }
    let [mut off, mut on] = samples;
    let ratio = if off.ops_per_sec() > 0.0 {
        on.ops_per_sec() / off.ops_per_sec()
    } else {
        0.0
    };
    let row = |name: &str, s: &mut Sample| {
        serde_json::json!({
            "endpoint": name,
            "ops": s.ops,
            "errors": s.errors,
            "ops_per_sec": s.ops_per_sec(),
            "p50_us": s.quantile_us(0.5),
            "p99_us": s.quantile_us(0.99),
        })
    };
    let report = serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "step": step.id,
        "concurrency": step.concurrency,
        "rounds": plan.rounds,
        "step_secs": plan.step.as_secs_f64(),
        "audit_off": row("audit-off", &mut off),
        "audit_on": row("audit-on", &mut on),
        "ratio_on_over_off": ratio,
        "goal": "ratio >= 0.90",
    });
    std::fs::create_dir_all(&cli.out)?;
    let path = cli.out.join("audit.json");
    std::fs::write(&path, format!("{report:#}\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "{}: audit off {:.0} op/s (p50 {:.0} us, p99 {:.0} us, {} errors); audit on {:.0} op/s (p50 {:.0} us, p99 {:.0} us, {} errors); on/off = {:.3} (goal >= 0.90)",
        step.id,
        off.ops_per_sec(),
        off.quantile_us(0.5),
        off.quantile_us(0.99),
        off.errors,
        on.ops_per_sec(),
        on.quantile_us(0.5),
        on.quantile_us(0.99),
        on.errors,
        ratio
    );
    println!("wrote {}", path.display());
    Ok(())
}
