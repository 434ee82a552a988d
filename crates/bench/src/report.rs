//! Turns merged samples into rows and renders rows and targets (checked by [`crate::goals`]) as
//! a text table, CSV and Markdown. Writing the files (and the chart) is `output`'s job.

use serde::Serialize;
use std::fmt::Write as _;

use crate::load::Sample;
use crate::steps::{Kind, Step};

/// One step on one endpoint (or `local`), all rounds merged.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub(crate) step: String,
    pub(crate) scenario: &'static str,
    pub(crate) endpoint: String,
    /// `sdk` or `raw` for the auth and small-object steps, `-` elsewhere.
    pub(crate) client: &'static str,
    pub(crate) concurrency: usize,
    pub(crate) size_bytes: usize,
    pub(crate) ops: u64,
    pub(crate) errors: u64,
    pub(crate) secs: f64,
    pub(crate) ops_per_s: f64,
    /// Payload throughput, for steps that move bytes.
    pub(crate) mib_per_s: Option<f64>,
    /// Keys per second, for listings.
    pub(crate) items_per_s: Option<f64>,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Server CPU (user + system) per operation, when its pid is known.
    pub(crate) server_cpu_us_per_op: Option<f64>,
    /// This process's CPU per operation: the client's share of the 2 cores.
    pub(crate) client_cpu_us_per_op: f64,
    /// The server's peak RSS during this step (max over rounds).
    pub(crate) peak_rss_mib: Option<f64>,
    pub(crate) first_error: Option<String>,
    #[serde(skip)]
    pub(crate) kind: Kind,
}

impl Row {
    /// Builds a row from the merged sample and the CPU/RSS readings.
    pub(crate) fn new(
        step: &Step,
        endpoint: &str,
        mut s: Sample,
        server_cpu_s: Option<f64>,
        client_cpu_s: f64,
        peak_rss_kib: Option<u64>,
    ) -> Row {
        let ops = s.ops;
        let per_op = |cpu: f64| if ops > 0 { cpu * 1e6 / ops as f64 } else { 0.0 };
        let (p50, p99) = (s.quantile_us(0.5) / 1e3, s.quantile_us(0.99) / 1e3);
        Row {
            step: step.id.clone(),
            scenario: step.scenario,
            endpoint: endpoint.to_owned(),
            client: if matches!(step.scenario, "auth" | "small") {
                step.client.as_str()
            } else {
                "-"
            },
            concurrency: step.concurrency,
            size_bytes: step.size,
            ops: s.ops,
            errors: s.errors,
            secs: s.secs,
            ops_per_s: s.ops_per_sec(),
            mib_per_s: step.bytes.then(|| s.units_per_sec() / f64::from(1 << 20)),
            items_per_s: (step.kind == Kind::List).then(|| s.units_per_sec()),
            p50_ms: p50,
            p99_ms: p99,
            server_cpu_us_per_op: server_cpu_s.map(per_op),
            client_cpu_us_per_op: per_op(client_cpu_s),
            peak_rss_mib: peak_rss_kib.map(|k| k as f64 / 1024.0),
            first_error: s.first_error.take(),
            kind: step.kind,
        }
    }
}

/// One target from the issue, as a ratio.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TargetResult {
    pub(crate) name: String,
    pub(crate) endpoint: String,
    /// `step@endpoint` of the numerator and denominator.
    pub(crate) numerator: String,
    pub(crate) denominator: String,
    pub(crate) ratio: f64,
    pub(crate) goal: f64,
    /// True for "below" goals (peak RSS, start-up time): met when `ratio < goal`.
    pub(crate) lower_is_better: bool,
    pub(crate) met: bool,
}

impl TargetResult {
    /// `ratio / goal`, flipped for "at most" goals: above 1 means met.
    pub(crate) fn score(&self) -> f64 {
        if self.lower_is_better {
            if self.ratio > 0.0 {
                self.goal / self.ratio
            } else {
                0.0
            }
        } else {
            self.ratio / self.goal
        }
    }
}

/// An optional number with `p` decimals, or `-` when it was not measured (text and Markdown).
fn opt_or_dash(v: Option<f64>, p: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.p$}"))
}

/// The table printed at the end of a run.
pub(crate) fn table(rows: &[Row], targets: &[TargetResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<40} {:<15} {:>4} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "step",
        "endpoint",
        "c",
        "ops/s",
        "MiB/s",
        "p50 ms",
        "p99 ms",
        "srv us/op",
        "cli us/op",
        "RSS MiB"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<40} {:<15} {:>4} {:>11.1} {:>9} {:>9.3} {:>9.3} {:>9} {:>9.1} {:>8}{}",
            r.step,
            r.endpoint,
            r.concurrency,
            r.ops_per_s,
            opt_or_dash(r.mib_per_s, 1),
            r.p50_ms,
            r.p99_ms,
            opt_or_dash(r.server_cpu_us_per_op, 1),
            r.client_cpu_us_per_op,
            opt_or_dash(r.peak_rss_mib, 1),
            if r.errors > 0 {
                format!(
                    "  ({} errors: {})",
                    r.errors,
                    r.first_error.as_deref().unwrap_or("")
                )
            } else {
                String::new()
            },
        );
    }
    let _ = writeln!(
        s,
        "\n{:<62} {:<15} {:>9} {:>8}  met",
        "target", "endpoint", "ratio", "goal"
    );
    for t in targets {
        let goal = format!("{}{}", if t.lower_is_better { "<" } else { ">=" }, t.goal);
        let _ = writeln!(
            s,
            "{:<62} {:<15} {:>9.3} {:>8}  {}",
            t.name,
            t.endpoint,
            t.ratio,
            goal,
            if t.met { "yes" } else { "NO" }
        );
    }
    s
}

/// `results.csv`: one line per row, the JSON's row fields in the same order.
pub(crate) fn csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "step,scenario,endpoint,client,concurrency,size_bytes,ops,errors,secs,ops_per_s,mib_per_s,items_per_s,p50_ms,p99_ms,server_cpu_us_per_op,client_cpu_us_per_op,peak_rss_mib,first_error\n",
    );
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.3}"));
    for r in rows {
        let err = r.first_error.as_deref().unwrap_or("").replace('"', "\"\"");
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{:.3},{:.3},{},{},{:.4},{:.4},{},{:.3},{},\"{}\"",
            r.step,
            r.scenario,
            r.endpoint,
            r.client,
            r.concurrency,
            r.size_bytes,
            r.ops,
            r.errors,
            r.secs,
            r.ops_per_s,
            opt(r.mib_per_s),
            opt(r.items_per_s),
            r.p50_ms,
            r.p99_ms,
            opt(r.server_cpu_us_per_op),
            r.client_cpu_us_per_op,
            opt(r.peak_rss_mib),
            err,
        );
    }
    s
}

/// `results.md`: the same two tables as Markdown, for BENCHMARKS.md.
pub(crate) fn markdown(rows: &[Row], targets: &[TargetResult]) -> String {
    let mut s = String::from(
        "| step | endpoint | c | ops/s | MiB/s | p50 ms | p99 ms | server CPU µs/op | client CPU µs/op | peak RSS MiB |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.0} | {} | {:.2} | {:.2} | {} | {:.0} | {} |",
            r.step,
            r.endpoint,
            r.concurrency,
            r.ops_per_s,
            opt_or_dash(r.mib_per_s, 1),
            r.p50_ms,
            r.p99_ms,
            opt_or_dash(r.server_cpu_us_per_op, 0),
            r.client_cpu_us_per_op,
            opt_or_dash(r.peak_rss_mib, 1),
        );
    }
    s.push_str("\n| target | endpoint | ratio | goal | met | numerator | denominator |\n|---|---|--:|--:|---|---|---|\n");
    for t in targets {
        let goal = format!("{}{}", if t.lower_is_better { "<" } else { "≥" }, t.goal);
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {goal} | {} | `{}` | `{}` |",
            t.name.replace(">=", "≥").replace("<=", "≤"),
            t.endpoint,
            t.ratio,
            if t.met { "yes" } else { "**no**" },
            t.numerator,
            t.denominator,
        );
    }
    s
}
