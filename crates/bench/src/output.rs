//! Writes one run's outputs into the `--out` directory: `results.json`, `results.csv`,
//! `results.md` (from [`crate::report`]) and `chart.svg` (from [`crate::svg`]).

use std::path::Path;

use anyhow::{Context, Result};

use crate::report::{Row, TargetResult, csv, markdown};
use crate::svg::chart;

/// Writes `results.json`, `results.csv`, `results.md` and `chart.svg` into `dir`.
pub(crate) fn write_all(
    dir: &Path,
    meta: serde_json::Value,
    rows: &[Row],
    targets: &[TargetResult],
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut json = meta;
    json["rows"] = serde_json::to_value(rows)?;
    json["targets"] = serde_json::to_value(targets)?;
    let title = json["command"]
        .as_str()
        .unwrap_or("mayfly-bench")
        .to_owned();
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    std::fs::write(dir.join("results.csv"), csv(rows))?;
    std::fs::write(dir.join("results.md"), markdown(rows, targets))?;
    std::fs::write(dir.join("chart.svg"), chart(&title, targets, rows))?;
    Ok(())
}
