//! The targets a run is checked against, as ratios of two rows of the same run (never asserted:
//! timing is the machine's). The list is issue 14's table, plus the earlier issues' checks that
//! still stand (local signing, ephemeral start-up, temporary vs long-lived GET, and the
//! regression check between two Mayfly builds):
//!
//! | target | numerator | denominator | goal |
//! |---|---|---|--:|
//! | auth GET c16 vs every S3 peer (Garage, s3s-fs) | `auth/get-1KiB/long-lived` | same step on the peer | ≥ 1 |
//! | 4 KiB GET c16 vs /healthz c16 | `small/get/4KiB/c16` | `baseline/healthz` | ≥ 0.5 |
//! | mint over HTTP vs /healthz | `mint/http` | `baseline/healthz` | ≥ 0.5 |
//! | 4 KiB PUT c16 (durable) vs every S3 peer | `small/put/4KiB/c16` | same step on the peer | ≥ 1 |
//! | 4 KiB PUT c16 vs the fsync floor | `small/put/4KiB/c16` | `baseline/disk-write-fsync/4KiB` | ≥ 2 |
//! | 256 MiB PUT single / multipart vs MD5 | `large/put/256MiB/*` | `baseline/md5/1MiB` (MiB/s) | ≥ 0.7 / 0.8 |
//! | 256 MiB GET vs the HTTP ceiling | `large/get/256MiB/*` | `large/get/256MiB/http-ceiling` | ≥ 0.8 |
//! | cluster / embedded (scripts/bench-scaleout) | 4 KiB GET c16, mint on `cluster` | same on `embedded` | ≥ 0.5 |
//! | peak RSS, any step | the step with the highest peak | 100 MiB | < 1 |
//!
//! "c16" is the concurrency equal to `--conns` (16 by default) when the run has it, else the
//! highest one. Steps run with both clients give one target per client (`[raw client]`).

use crate::cli::fmt_size;
use crate::report::{Row, TargetResult};
use crate::steps::Kind;

/// Local signing goal, credentials per second on one core.
const LOCAL_SIGN_GOAL: f64 = 200_000.0;
/// `mayfly serve --ephemeral`, process start to its JSON line (issue 17: "well under 100 ms").
const EPHEMERAL_READY_GOAL_MS: f64 = 100.0;
/// Issue 14: peak RSS of any step below this many MiB.
const PEAK_RSS_GOAL_MIB: f64 = 100.0;

/// `step@endpoint`, how targets name the rows they divide.
fn at(r: &Row) -> String {
    format!("{}@{}", r.step, r.endpoint)
}

struct Checker<'a> {
    rows: &'a [Row],
    out: Vec<TargetResult>,
}

impl<'a> Checker<'a> {
    fn find(&self, ep: &str, pred: impl Fn(&Row) -> bool) -> Option<&'a Row> {
        self.rows.iter().find(|r| r.endpoint == ep && pred(r))
    }

    /// A row this process measured (floors and ceilings), of `kind` and `size` (0: any size).
    fn local(&self, kind: Kind, size: usize) -> Option<&'a Row> {
        self.find("local", |r| {
            r.kind == kind && (size == 0 || r.size_bytes == size)
        })
    }

    /// The small-object row of `kind` for `client` at the concurrency the targets name.
    fn small(&self, ep: &str, client: &str, kind: Kind, conns: usize) -> Option<&'a Row> {
        let all: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| {
                r.endpoint == ep && r.client == client && r.scenario == "small" && r.kind == kind
            })
            .collect();
        all.iter()
            .find(|r| r.concurrency == conns)
            .or_else(|| all.iter().max_by_key(|r| r.concurrency))
            .copied()
    }

    /// Records `num / den` against `goal` when both sides were measured and are positive.
    fn push(
        &mut self,
        name: String,
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
        self.out.push(TargetResult {
            name,
            endpoint: n.endpoint.clone(),
            numerator: at(n),
            denominator: dn,
            ratio,
            goal,
            lower_is_better: lower,
            met: if lower { ratio < goal } else { ratio >= goal },
        });
    }

    /// `num` divided by the same step on endpoint `other`, in ops/s.
    fn versus(&mut self, name: String, num: Option<&Row>, other: &str, goal: f64) {
        let Some(n) = num else { return };
        let den = self
            .find(other, |p| p.step == n.step)
            .map(|p| (at(p), p.ops_per_s));
        self.push(name, Some((n, n.ops_per_s)), den, goal, false);
    }
}

fn ops(r: Option<&Row>) -> Option<(&Row, f64)> {
    r.map(|r| (r, r.ops_per_s))
}

fn mib(r: Option<&Row>) -> Option<(String, f64)> {
    r.map(|r| (at(r), r.mib_per_s.unwrap_or(0.0)))
}

/// Checks every target the rows allow. `mayflies` have an API (the first is the one under
/// test); `peers` are S3-only (s3s-fs, Garage).
pub(crate) fn targets(
    rows: &[Row],
    mayflies: &[String],
    peers: &[String],
    conns: usize,
) -> Vec<TargetResult> {
    let mut t = Checker {
        rows,
        out: Vec::new(),
    };

    if let Some(r) = t.local(Kind::MintLocal, 0) {
        t.push(
            "local signing >= 200k credentials/s/core".into(),
            ops(Some(r)),
            Some(("200000/s".into(), LOCAL_SIGN_GOAL)),
            1.0,
            false,
        );
    }
    if let Some(r) = t.local(Kind::EphemeralReady, 0) {
        t.push(
            "ephemeral server ready (p50) < 100 ms".into(),
            Some((r, r.p50_ms)),
            Some(("100 ms".into(), EPHEMERAL_READY_GOAL_MS)),
            1.0,
            true,
        );
    }

    for ep in mayflies {
        let hz = t
            .find(ep, |r| r.kind == Kind::Healthz)
            .map(|h| (at(h), h.ops_per_s));
        let mint = t.find(ep, |r| r.kind == Kind::MintHttp);
        t.push(
            "mint over HTTP >= 0.5 x /healthz".into(),
            ops(mint),
            hz.clone(),
            0.5,
            false,
        );
        for client in ["sdk", "raw"] {
            let sfx = if client == "raw" { " [raw client]" } else { "" };
            let long = t.find(ep, |r| {
                r.client == client && r.scenario == "auth" && r.kind == Kind::Get { temp: false }
            });
            let temp = t.find(ep, |r| {
                r.client == client && r.kind == Kind::Get { temp: true }
            });
            t.push(
                format!("temporary-credential GET >= 0.9 x long-lived GET{sfx}"),
                ops(temp),
                long.map(|l| (at(l), l.ops_per_s)),
                0.9,
                false,
            );
            let get = t.small(ep, client, Kind::Get { temp: false }, conns);
            if let Some(g) = get {
                t.push(
                    format!(
                        "{} GET c{} >= 0.5 x /healthz c{conns}{sfx}",
                        fmt_size(g.size_bytes),
                        g.concurrency
                    ),
                    ops(Some(g)),
                    hz.clone(),
                    0.5,
                    false,
                );
            }
            let put = t.small(ep, client, Kind::Put, conns);
            if let Some(p) = put {
                let floor = t
                    .local(Kind::DiskWrite, p.size_bytes)
                    .map(|d| (at(d), d.ops_per_s));
                t.push(
                    format!(
                        "{} PUT c{} >= 2 x fsynced writes of one writer{sfx}",
                        fmt_size(p.size_bytes),
                        p.concurrency
                    ),
                    ops(Some(p)),
                    floor,
                    2.0,
                    false,
                );
            }
            for peer in peers {
                if let Some(l) = long {
                    t.versus(
                        format!(
                            "{} auth GET c{} >= 1 x {peer}{sfx}",
                            fmt_size(l.size_bytes),
                            l.concurrency
                        ),
                        Some(l),
                        peer,
                        1.0,
                    );
                }
                if let Some(p) = put {
                    t.versus(
                        format!(
                            "{} PUT c{} durable >= 1 x {peer}{sfx}",
                            fmt_size(p.size_bytes),
                            p.concurrency
                        ),
                        Some(p),
                        peer,
                        1.0,
                    );
                }
            }
            // Other Mayfly builds, from the first one's side only: a regression check, goal 1x.
            // (The scale-out pair has its own targets below.)
            if Some(ep) == mayflies.first() && !is_scaleout(mayflies) {
                for other in mayflies.iter().skip(1) {
                    let smalls: Vec<&Row> = rows
                        .iter()
                        .filter(|r| {
                            &r.endpoint == ep && r.client == client && r.scenario == "small"
                        })
                        .collect();
                    for r in smalls {
                        let what = if r.kind == Kind::Put { "PUT" } else { "GET" };
                        t.versus(
                            format!("small {what} c{} >= 1 x {other}{sfx}", r.concurrency),
                            Some(r),
                            other,
                            1.0,
                        );
                    }
                }
            }
        }

        let md5 = mib(t.local(Kind::Md5, 0));
        let larges: Vec<&Row> = rows
            .iter()
            .filter(|r| &r.endpoint == ep && r.scenario == "large")
            .collect();
        for r in larges {
            let size = fmt_size(r.size_bytes);
            let v = Some((r, r.mib_per_s.unwrap_or(0.0)));
            match r.kind {
                Kind::PutLarge { multipart } => {
                    let (m, goal) = if multipart {
                        ("multipart", 0.8)
                    } else {
                        ("single", 0.7)
                    };
                    t.push(
                        format!("{size} PUT {m} >= {goal} x MD5 floor"),
                        v,
                        md5.clone(),
                        goal,
                        false,
                    );
                }
                Kind::GetLarge { multipart } => {
                    let m = if multipart { "multipart" } else { "single" };
                    let ceiling = mib(t.local(Kind::HttpCeiling, r.size_bytes));
                    t.push(
                        format!("{size} GET {m} >= 0.8 x HTTP ceiling"),
                        v,
                        ceiling,
                        0.8,
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
                | Kind::HttpCeiling
                | Kind::EphemeralReady
                | Kind::List => {}
            }
        }

        let peak = rows
            .iter()
            .filter(|r| &r.endpoint == ep)
            .filter_map(|r| r.peak_rss_mib.map(|m| (r, m)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        t.push(
            "peak RSS, any step < 100 MiB".into(),
            peak,
            Some((format!("{PEAK_RSS_GOAL_MIB} MiB"), PEAK_RSS_GOAL_MIB)),
            1.0,
            true,
        );
    }

    if is_scaleout(mayflies) {
        let (cluster, embedded) = ("cluster", "embedded");
        let mint = t.find(cluster, |r| r.kind == Kind::MintHttp);
        t.versus(
            "cluster / embedded: mint over HTTP >= 0.5".into(),
            mint,
            embedded,
            0.5,
        );
        for client in ["sdk", "raw"] {
            let sfx = if client == "raw" { " [raw client]" } else { "" };
            if let Some(g) = t.small(cluster, client, Kind::Get { temp: false }, conns) {
                t.versus(
                    format!(
                        "cluster / embedded: {} GET c{} >= 0.5{sfx}",
                        fmt_size(g.size_bytes),
                        g.concurrency
                    ),
                    Some(g),
                    embedded,
                    0.5,
                );
            }
        }
    }
    t.out
}

/// A scripts/bench-scaleout run: Mayfly endpoints named `cluster` and `embedded`.
fn is_scaleout(mayflies: &[String]) -> bool {
    ["cluster", "embedded"]
        .iter()
        .all(|n| mayflies.iter().any(|m| m == n))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cli::ClientKind;
    use crate::load::{Budget, Sample};
    use crate::steps::{Step, Who};

    /// A row of `ops` operations in one second, with `units` bytes moved.
    fn row(id: &str, scenario: &'static str, kind: Kind, ep: &str, c: usize, ops: u64) -> Row {
        let step = Step {
            id: id.into(),
            scenario,
            kind,
            who: Who::AllEndpoints,
            concurrency: c,
            size: if scenario == "large" { 256 << 20 } else { 4096 },
            budget: Budget::Ops(1),
            bytes: !matches!(kind, Kind::Healthz | Kind::MintHttp),
            client: ClientKind::Raw,
        };
        let s = Sample {
            ops,
            units: ops * step.size as u64,
            secs: 1.0,
            latencies_us: vec![1000; 3],
            ..Sample::default()
        };
        Row::new(&step, ep, s, None, 0.0, Some(90 * 1024))
    }

    #[test]
    fn issue_14_targets_divide_the_right_rows() {
        let rows = vec![
            row(
                "baseline/healthz",
                "baseline",
                Kind::Healthz,
                "mayfly",
                16,
                30_000,
            ),
            row(
                "baseline/disk-write-fsync/4KiB",
                "baseline",
                Kind::DiskWrite,
                "local",
                1,
                2_000,
            ),
            row("mint/http", "mint", Kind::MintHttp, "mayfly", 16, 15_000),
            row(
                "small/put/4KiB/c16/raw",
                "small",
                Kind::Put,
                "mayfly",
                16,
                5_000,
            ),
            row(
                "small/put/4KiB/c16/raw",
                "small",
                Kind::Put,
                "garage-fsync",
                16,
                1_000,
            ),
            row(
                "small/get/4KiB/c1/raw",
                "small",
                Kind::Get { temp: false },
                "mayfly",
                1,
                9_000,
            ),
            row(
                "small/get/4KiB/c16/raw",
                "small",
                Kind::Get { temp: false },
                "mayfly",
                16,
                12_000,
            ),
            row(
                "large/get/256MiB/single",
                "large",
                Kind::GetLarge { multipart: false },
                "mayfly",
                1,
                8,
            ),
            row(
                "large/get/256MiB/http-ceiling",
                "large",
                Kind::HttpCeiling,
                "local",
                1,
                10,
            ),
        ];
        let peers = vec!["garage-fsync".to_owned()];
        let got = targets(&rows, &["mayfly".to_owned()], &peers, 16);
        let find = |name: &str| {
            got.iter()
                .find(|t| t.name == name)
                .unwrap_or_else(|| panic!("no target {name:?} in {got:#?}"))
        };
        let mint = find("mint over HTTP >= 0.5 x /healthz");
        assert!((mint.ratio - 0.5).abs() < 1e-9 && mint.met);
        let get = find("4 KiB GET c16 >= 0.5 x /healthz c16 [raw client]");
        assert!(
            (get.ratio - 0.4).abs() < 1e-9 && !get.met,
            "the c16 row, not c1"
        );
        let floor = find("4 KiB PUT c16 >= 2 x fsynced writes of one writer [raw client]");
        assert!((floor.ratio - 2.5).abs() < 1e-9 && floor.met);
        let g = find("4 KiB PUT c16 durable >= 1 x garage-fsync [raw client]");
        assert_eq!(g.denominator, "small/put/4KiB/c16/raw@garage-fsync");
        assert!((g.ratio - 5.0).abs() < 1e-9);
        let ceiling = find("256 MiB GET single >= 0.8 x HTTP ceiling");
        assert!((ceiling.ratio - 0.8).abs() < 1e-9 && ceiling.met);
        let rss = find("peak RSS, any step < 100 MiB");
        assert!((rss.ratio - 0.9).abs() < 1e-9 && rss.met && rss.lower_is_better);
        // No MD5 row: no PUT-vs-MD5 target, rather than one against nothing.
        assert!(!got.iter().any(|t| t.name.contains("MD5")));
    }

    #[test]
    fn scaleout_pair_gets_cluster_over_embedded() {
        let rows = vec![
            row("mint/http", "mint", Kind::MintHttp, "cluster", 16, 2_000),
            row("mint/http", "mint", Kind::MintHttp, "embedded", 16, 8_000),
            row(
                "small/get/4KiB/c16/raw",
                "small",
                Kind::Get { temp: false },
                "cluster",
                16,
                3_000,
            ),
            row(
                "small/get/4KiB/c16/raw",
                "small",
                Kind::Get { temp: false },
                "embedded",
                16,
                5_000,
            ),
        ];
        let m = vec!["cluster".to_owned(), "embedded".to_owned()];
        let got = targets(&rows, &m, &[], 16);
        let mint = got
            .iter()
            .find(|t| t.name == "cluster / embedded: mint over HTTP >= 0.5")
            .unwrap();
        assert!((mint.ratio - 0.25).abs() < 1e-9 && !mint.met);
        let get = got
            .iter()
            .find(|t| t.name == "cluster / embedded: 4 KiB GET c16 >= 0.5 [raw client]")
            .unwrap();
        assert!((get.ratio - 0.6).abs() < 1e-9 && get.met);
        assert!(
            !got.iter().any(|t| t.name.contains("x embedded")),
            "no build-regression check between the scale-out pair"
        );
    }
}
