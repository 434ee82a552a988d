//! `mayfly-bench --smoke` against two debug Mayfly servers (so interleaving and the peer
//! comparison run too), plus the two Garage peers when scripts/install-garage has installed
//! Garage: the outputs exist, parse, and every step measured something, the large-GET ceiling
//! included. Without Garage the run must say so (printed and in results.json), never pass as if
//! it had compared; `MAYFLY_BENCH_REQUIRE_GARAGE=1` turns that skip into a failure. No timing
//! assertion: this guards the tool against rot, not the server against slowness.

use std::path::PathBuf;
use std::process::Command;

/// The server binary: `MAYFLY_BIN`, else the workspace's debug build (as crates/e2e finds it).
fn mayfly_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("MAYFLY_BIN") {
        return PathBuf::from(p);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| here.join("../../target"));
    target.join("debug/mayfly")
}

#[test]
fn smoke_run_writes_well_formed_outputs_with_nonzero_measurements() {
    let bin = mayfly_bin();
    assert!(
        bin.exists(),
        "{} not found: run `cargo build -p mayfly` first (scripts/test does)",
        bin.display()
    );
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_mayfly-bench"))
        .arg("--smoke")
        .arg("--out")
        .arg(out.path())
        .arg("--mayfly-bin")
        .arg(&bin)
        .arg(format!("--mayfly=second={}", bin.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "exit {}\nstdout:\n{stdout}\nstderr:\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("results.json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    for scenario in [
        "baseline", "mint", "auth", "small", "large", "list", "startup",
    ] {
        assert!(
            rows.iter().any(|r| r["scenario"] == scenario),
            "no {scenario} rows"
        );
    }
    for client in ["sdk", "raw"] {
        assert!(
            rows.iter().any(|r| r["client"] == client),
            "no rows for the {client} client"
        );
    }
    for endpoint in ["local", "mayfly", "second"] {
        assert!(
            rows.iter().any(|r| r["endpoint"] == endpoint),
            "no rows for {endpoint}"
        );
    }
    assert!(
        rows.iter().any(|r| r["endpoint"] == "local"
            && r["step"].as_str().unwrap().ends_with("/http-ceiling")
            && r["mib_per_s"].as_f64().unwrap() > 0.0),
        "no large-GET ceiling row"
    );
    let skipped = json["skipped_peers"].as_array().unwrap();
    let garage_ran = !json["garage"].is_null();
    for peer in ["garage-fsync", "garage-nofsync"] {
        let has_rows = rows.iter().any(|r| r["endpoint"] == peer);
        let reason = skipped
            .iter()
            .find(|s| s["name"] == peer)
            .and_then(|s| s["reason"].as_str());
        if garage_ran {
            assert!(has_rows, "Garage started but no rows for {peer}");
            assert!(reason.is_none(), "{peer} both measured and skipped");
        } else {
            let reason = reason.unwrap_or_else(|| panic!("{peer}: neither rows nor a skip reason"));
            assert!(!has_rows && !reason.is_empty());
            assert!(
                stdout.contains(&format!("skipped peer {peer}: {reason}")),
                "skip not printed:\n{stdout}"
            );
            assert!(
                std::env::var_os("MAYFLY_BENCH_REQUIRE_GARAGE").is_none(),
                "MAYFLY_BENCH_REQUIRE_GARAGE is set but {peer} was skipped: {reason}"
            );
        }
    }
    for r in rows {
        let what = format!("{} @ {}", r["step"], r["endpoint"]);
        assert_eq!(r["errors"], 0, "{what}: {}", r["first_error"]);
        assert!(r["ops"].as_u64().unwrap() > 0, "{what}: no operations");
        assert!(r["ops_per_s"].as_f64().unwrap() > 0.0, "{what}: zero ops/s");
        if let Some(mib) = r["mib_per_s"].as_f64() {
            assert!(mib > 0.0, "{what}: zero MiB/s");
        }
        if r["endpoint"] != "local" {
            assert!(
                r["peak_rss_mib"].as_f64().unwrap() > 0.0,
                "{what}: no peak RSS"
            );
        }
    }
    let targets = json["targets"].as_array().unwrap();
    let mut names = vec![
        "mint over HTTP",
        "temporary-credential GET",
        "x HTTP ceiling",
        "x MD5 floor",
        "x fsynced writes of one writer",
        "x /healthz",
        "peak RSS, any step",
        "local signing",
        "x second",
        "[raw client]",
    ];
    if garage_ran {
        names.extend([
            "auth GET c4 >= 1 x garage-fsync",
            "durable >= 1 x garage-nofsync",
        ]);
    }
    for name in names {
        assert!(
            targets
                .iter()
                .any(|t| t["name"].as_str().unwrap().contains(name)),
            "no target named like {name:?}"
        );
    }
    for t in targets {
        assert!(t["ratio"].as_f64().unwrap() > 0.0, "{t}");
    }

    let csv = std::fs::read_to_string(out.path().join("results.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "step");
    assert_eq!(lines.count(), rows.len(), "one CSV line per JSON row");

    let md = std::fs::read_to_string(out.path().join("results.md")).unwrap();
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| ")).count(),
        rows.len() + targets.len() + 2,
        "a Markdown line per row and target, plus two headers"
    );

    let svg = std::fs::read_to_string(out.path().join("chart.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), 1);
    assert!(
        svg.matches("<rect").count() > targets.len(),
        "a bar per target"
    );
    assert!(
        stdout.contains("target") && stdout.contains("ops/s"),
        "table printed:\n{stdout}"
    );
}

/// `--steps` keeps only the named steps, and `--perf` leaves one profile per step and endpoint
/// that `scripts/perf-breakdown` turns into a component table with the server CPU per
/// operation. Needs `perf` (linux-perf, installed by .ci/run) and python3.
#[test]
fn steps_filter_and_perf_profiles_break_down_by_component() {
    let bin = mayfly_bin();
    assert!(bin.exists(), "{} not found", bin.display());
    let out = tempfile::tempdir().unwrap();
    let prof = out.path().join("prof");
    let run = Command::new(env!("CARGO_BIN_EXE_mayfly-bench"))
        .args(["--smoke", "--scenarios", "baseline,auth", "--client", "raw"])
        .args(["--steps", "healthz,get-1KiB/long-lived", "--no-garage"])
        // Long enough for hundreds of samples per step even on a busy machine.
        .args(["--step-secs", "1"])
        .arg("--perf")
        .arg(&prof)
        .arg("--out")
        .arg(out.path())
        .arg("--mayfly-bin")
        .arg(&bin)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let results = out.path().join("results.json");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    let mut steps: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["step"].as_str().unwrap())
        .collect();
    steps.sort_unstable();
    assert_eq!(
        steps,
        ["auth/get-1KiB/long-lived/raw", "baseline/healthz"],
        "--steps kept other steps"
    );
    for file in [
        "baseline_healthz@mayfly.r1.perf.data",
        "auth_get-1KiB_long-lived_raw@mayfly.r1.perf.data",
    ] {
        let len = std::fs::metadata(prof.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .len();
        assert!(len > 0, "{file} is empty");
    }

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/perf-breakdown");
    let table = Command::new(script)
        .arg(&prof)
        .arg("--results")
        .arg(&results)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.status.success(),
        "perf-breakdown failed:\n{text}\n{}",
        String::from_utf8_lossy(&table.stderr)
    );
    for want in [
        "### auth/get-1KiB/long-lived/raw",
        "### baseline/healthz",
        "| kernel (TCP, syscalls, scheduler) |",
        "| Mayfly's own crates |",
        "µs/op |",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
}

/// Processes whose command line mentions `needle` (this test's unique work directory).
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd).contains(needle)
        {
            out.push(pid);
        }
    }
    out
}

/// SIGTERM to a running bench stops it and every server it started: nothing is left running
/// from its work directory, and the exit says why.
#[test]
fn a_terminated_run_stops_the_servers_it_started() {
    let bin = mayfly_bin();
    assert!(bin.exists(), "{} not found", bin.display());
    let work = tempfile::tempdir().unwrap();
    let needle = work.path().to_string_lossy().into_owned();
    let bench = Command::new(env!("CARGO_BIN_EXE_mayfly-bench"))
        .args(["--smoke", "--scenarios", "baseline", "--steps", "healthz"])
        .args(["--step-secs", "60", "--no-garage"])
        .arg("--work-dir")
        .arg(work.path())
        .arg("--out")
        .arg(work.path().join("out"))
        .arg("--mayfly-bin")
        .arg(&bin)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The server (`mayfly serve`) runs with its data directory under the work directory.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let serving = || {
        processes_mentioning(&needle)
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("serve"))
            })
            .count()
    };
    while serving() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the bench did not start a server within 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &bench.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = bench.wait_with_output().unwrap();
    assert!(!out.status.success(), "an interrupted run must not exit 0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stopped by SIGTERM"), "stderr: {stderr}");
    let left = processes_mentioning(&needle);
    assert!(left.is_empty(), "left running: {left:?}");
}
