//! Turns merged samples into rows, checks the targets as ratios, and renders them as a
//! text table, CSV and Markdown. Writing the files (and the chart) is `output`'s job.

use serde::Serialize;
use std::fmt::Write as _;

use crate::load::Sample;
use crate::steps::{Kind, Step};

/// Local signing goal, credentials per second on one core.
pub(crate) const LOCAL_SIGN_GOAL: f64 = 200_000.0;
/// `mayfly serve --ephemeral`, process start to its JSON line (issue 17: "well under 100 ms").
pub(crate) const EPHEMERAL_READY_GOAL_MS: f64 = 100.0;

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
    /// True for "at most" goals (peak RSS).
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

struct Targets<'a> {
    rows: &'a [Row],
    out: Vec<TargetResult>,
}

impl Targets<'_> {
    fn find(&self, ep: &str, pred: impl Fn(&Row) -> bool) -> Option<&Row> {
        self.rows.iter().find(|r| r.endpoint == ep && pred(r))
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        name: String,
        ep: &str,
        num: Option<(&Row, f64)>,
        den: Option<(String, f64)>,
        goal: f64,
        lower: bool,
    ) {
        let (Some((n, nv)), Some((dn, dv))) = (num, den) else {
            return;
        };
        if dv <= 0.0 || nv <= 0.0 {
            return;
        }
        let ratio = nv / dv;
        let met = if lower { ratio <= goal } else { ratio >= goal };
        self.out.push(TargetResult {
            name,
            endpoint: ep.to_owned(),
            numerator: format!("{}@{}", n.step, n.endpoint),
            denominator: dn,
            ratio,
            goal,
            lower_is_better: lower,
            met,
        });
    }
}

fn at(r: &Row) -> String {
    format!("{}@{}", r.step, r.endpoint)
}

/// Checks every target the rows allow. `mayflies` have an API; `peers` are S3-only.
pub(crate) fn targets(
    rows: &[Row],
    mayflies: &[String],
    peers: &[String],
    conns: usize,
) -> Vec<TargetResult> {
    let mut t = Targets {
        rows,
        out: Vec::new(),
    };
    let ops = |r: &Row| (r.clone(), r.ops_per_s);
    let mib = |r: &Row| (r.clone(), r.mib_per_s.unwrap_or(0.0));

    if let Some(r) = t.find("local", |r| r.kind == Kind::MintLocal).cloned() {
        let (row, v) = ops(&r);
        t.push(
            "local signing >= 200k credentials/s/core".into(),
            "local",
            Some((&row, v)),
            Some(("200000/s".into(), LOCAL_SIGN_GOAL)),
            1.0,
            false,
        );
    }
    if let Some(r) = t.find("local", |r| r.kind == Kind::EphemeralReady).cloned() {
        t.push(
            "ephemeral server ready (p50) <= 100 ms".into(),
            "local",
            Some((&r, r.p50_ms)),
            Some(("100 ms".into(), EPHEMERAL_READY_GOAL_MS)),
            1.0,
            true,
        );
    }
    let local_mib = |t: &Targets<'_>, k: Kind, size: usize| {
        t.find("local", |r| {
            r.kind == k && (size == 0 || r.size_bytes == size)
        })
        .cloned()
    };
    for ep in mayflies {
        let healthz = t.find(ep, |r| r.kind == Kind::Healthz).cloned();
        let hz = healthz.as_ref().map(|h| (at(h), h.ops_per_s));
        if let Some(m) = t.find(ep, |r| r.kind == Kind::MintHttp).cloned() {
            let (row, v) = ops(&m);
            t.push(
                "mint over HTTP >= 0.5 x /healthz".into(),
                ep,
                Some((&row, v)),
                hz.clone(),
                0.5,
                false,
            );
        }
        for client in ["sdk", "raw"] {
            let sfx = if client == "raw" { " [raw client]" } else { "" };
            let long = t
                .find(ep, |r| {
                    r.client == client
                        && r.scenario == "auth"
                        && r.kind == Kind::Get { temp: false }
                })
                .cloned();
            if let Some(tmp) = t
                .find(ep, |r| {
                    r.client == client && r.kind == Kind::Get { temp: true }
                })
                .cloned()
            {
                let (row, v) = ops(&tmp);
                t.push(
                    format!("temporary-credential GET >= 0.9 x long-lived GET{sfx}"),
                    ep,
                    Some((&row, v)),
                    long.as_ref().map(|l| (at(l), l.ops_per_s)),
                    0.9,
                    false,
                );
            }
            let small_gets: Vec<Row> = rows
                .iter()
                .filter(|r| {
                    &r.endpoint == ep
                        && r.client == client
                        && r.scenario == "small"
                        && r.kind == Kind::Get { temp: false }
                })
                .cloned()
                .collect();
            let pick = small_gets
                .iter()
                .find(|r| r.concurrency == conns)
                .or_else(|| small_gets.iter().max_by_key(|r| r.concurrency));
            if let Some(g) = pick {
                let (row, v) = ops(g);
                t.push(
                    format!(
                        "small GET c{} >= 0.5 x /healthz c{conns}{sfx}",
                        g.concurrency
                    ),
                    ep,
                    Some((&row, v)),
                    hz.clone(),
                    0.5,
                    false,
                );
            }
            // S3-only peers (s3s-fs): the 10x goal. Other Mayfly builds, from the first
            // one's side only: a regression check, goal 1x.
            let mut others: Vec<(&String, f64)> = peers.iter().map(|p| (p, 10.0)).collect();
            if Some(ep) == mayflies.first() {
                others.extend(mayflies.iter().skip(1).map(|m| (m, 1.0)));
            }
            for (other, goal) in others {
                let smalls: Vec<Row> = rows
                    .iter()
                    .filter(|r| &r.endpoint == ep && r.client == client && r.scenario == "small")
                    .cloned()
                    .collect();
                for r in smalls {
                    let p = t
                        .find(other, |p| p.step == r.step)
                        .map(|p| (at(p), p.ops_per_s));
                    let (row, v) = ops(&r);
                    let what = if r.kind == Kind::Put { "PUT" } else { "GET" };
                    t.push(
                        format!("small {what} c{} >= {goal} x {other}{sfx}", r.concurrency),
                        ep,
                        Some((&row, v)),
                        p,
                        goal,
                        false,
                    );
                }
            }
        }
        let larges: Vec<Row> = rows
            .iter()
            .filter(|r| &r.endpoint == ep && r.scenario == "large")
            .cloned()
            .collect();
        for r in &larges {
            let multipart = matches!(
                r.kind,
                Kind::PutLarge { multipart: true } | Kind::GetLarge { multipart: true }
            );
            let m = if multipart { "multipart" } else { "single" };
            match r.kind {
                Kind::GetLarge { .. } => {
                    let disk = local_mib(&t, Kind::DiskRead, r.size_bytes)
                        .map(|d| (at(&d), d.mib_per_s.unwrap_or(0.0)));
                    let (row, v) = mib(r);
                    t.push(
                        format!("large GET {m} >= 0.8 x raw disk read"),
                        ep,
                        Some((&row, v)),
                        disk,
                        0.8,
                        false,
                    );
                }
                Kind::PutLarge { .. } => {
                    let floors: Vec<Row> = [
                        local_mib(&t, Kind::Md5, 0),
                        local_mib(&t, Kind::Sha256, 0),
                        local_mib(&t, Kind::DiskWrite, r.size_bytes),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    let slowest = floors
                        .iter()
                        .filter_map(|f| f.mib_per_s.map(|v| (at(f), v)))
                        .min_by(|a, b| a.1.total_cmp(&b.1));
                    let (row, v) = mib(r);
                    t.push(
                        format!("large PUT {m} >= 0.7 x slowest of MD5, SHA-256, write+fsync"),
                        ep,
                        Some((&row, v)),
                        slowest,
                        0.7,
                        false,
                    );
                }
                Kind::Healthz
                | Kind::MintHttp
                | Kind::MintLocal
                | Kind::HmacSha256
                | Kind::Sha256
                | Kind::Md5
                | Kind::DiskWrite
                | Kind::DiskRead
                | Kind::Get { .. }
                | Kind::Put
                | Kind::EphemeralReady
                | Kind::List => {}
            }
        }
        let small_rss = rows
            .iter()
            .filter(|r| &r.endpoint == ep && (r.scenario == "small" || r.scenario == "auth"))
            .filter_map(|r| r.peak_rss_mib.map(|m| (r.clone(), m)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let large_rss = larges
            .iter()
            .filter_map(|r| r.peak_rss_mib.map(|m| (r.clone(), m)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some((lr, lv)), Some((sr, sv))) = (large_rss, small_rss) {
            t.push(
                "peak RSS flat: large <= 1.5 x small objects".into(),
                ep,
                Some((&lr, lv)),
                Some((at(&sr), sv)),
                1.5,
                true,
            );
        }
    }
    t.out
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
        "{:<40} {:<10} {:>4} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
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
            "{:<40} {:<10} {:>4} {:>11.1} {:>9} {:>9.3} {:>9.3} {:>9} {:>9.1} {:>8}{}",
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
        "\n{:<62} {:<10} {:>9} {:>8}  met",
        "target", "endpoint", "ratio", "goal"
    );
    for t in targets {
        let goal = format!("{}{}", if t.lower_is_better { "<=" } else { ">=" }, t.goal);
        let _ = writeln!(
            s,
            "{:<62} {:<10} {:>9.3} {:>8}  {}",
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
        let goal = format!("{}{}", if t.lower_is_better { "≤" } else { "≥" }, t.goal);
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
