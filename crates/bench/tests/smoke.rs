//! `mayfly-bench --smoke` against two debug Mayfly servers (so interleaving and the peer
//! comparison run too): the outputs exist, parse, and every step measured something. No timing
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
    for name in [
        "mint over HTTP",
        "temporary-credential GET",
        "large GET",
        "large PUT",
        "peak RSS",
        "local signing",
        "x second",
        "[raw client]",
    ] {
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
