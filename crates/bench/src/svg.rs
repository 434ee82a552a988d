//! A hand-written SVG chart: one bar per target, its score (ratio over goal, flipped for "at
//! most" goals) on a linear axis where 1 is the goal, plus a second panel with the small-object
//! ops/s of every endpoint. No plotting crate: the file is plain text a reviewer can diff.

use std::fmt::Write as _;

use crate::report::{Row, TargetResult};
use crate::steps::Kind;

/// Scores above this are drawn clipped (the label still says the true ratio).
const MAX_SCORE: f64 = 3.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One horizontal bar of either panel: where it sits, how long it is and its fill.
struct Bar<'a> {
    x0: f64,
    y: f64,
    row_h: f64,
    len: f64,
    color: &'a str,
}

impl Bar<'_> {
    /// The `name [endpoint]` label left of the bar, the bar, and `value` right of it.
    fn draw(&self, s: &mut String, name: &str, endpoint: &str, value: &str) {
        let Bar {
            x0,
            y,
            row_h,
            len,
            color,
        } = *self;
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end">{} [{}]</text>"##,
            x0 - 8.0,
            y + 14.0,
            esc(name),
            esc(endpoint)
        );
        let _ = writeln!(
            s,
            r##"<rect x="{x0}" y="{}" width="{len:.1}" height="{}" fill="{color}"/>"##,
            y + 3.0,
            row_h - 6.0
        );
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}">{value}</text>"##,
            x0 + len + 6.0,
            y + 14.0
        );
    }
}

/// The whole chart.
pub(crate) fn chart(title: &str, targets: &[TargetResult], rows: &[Row]) -> String {
    let (w, label_w, bar_w, row_h, top) = (1100.0, 470.0, 420.0, 22.0, 60.0);
    let smalls: Vec<&Row> = rows.iter().filter(|r| r.scenario == "small").collect();
    let h1 = top + row_h * targets.len().max(1) as f64 + 40.0;
    let h2 = if smalls.is_empty() {
        0.0
    } else {
        60.0 + row_h * smalls.len() as f64 + 30.0
    };
    let h = h1 + h2;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="monospace" font-size="12">"##
    );
    let _ = writeln!(s, r##"<rect width="{w}" height="{h}" fill="white"/>"##);
    let _ = writeln!(
        s,
        r##"<text x="10" y="20" font-size="14" font-weight="bold">Targets: ratio / goal (1 = goal met; bars clipped at {MAX_SCORE})</text>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="38" fill="#555">{}</text>"##,
        esc(title)
    );
    let x0 = label_w;
    let scale = bar_w / MAX_SCORE;
    for (i, t) in targets.iter().enumerate() {
        let y = top + row_h * i as f64;
        let score = t.score();
        let len = (score.min(MAX_SCORE) * scale).max(1.0);
        let color = if t.met { "#2e7d32" } else { "#c62828" };
        let goal = format!("{}{}", if t.lower_is_better { "<" } else { ">=" }, t.goal);
        let bar = Bar {
            x0,
            y,
            row_h,
            len,
            color,
        };
        bar.draw(
            &mut s,
            &t.name,
            &t.endpoint,
            &format!("{:.3} ({goal})", t.ratio),
        );
    }
    let gx = x0 + scale;
    let _ = writeln!(
        s,
        r##"<line x1="{gx}" y1="{}" x2="{gx}" y2="{}" stroke="black" stroke-dasharray="4 3"/>"##,
        top - 6.0,
        h1 - 34.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{gx}" y="{}" text-anchor="middle">goal</text>"##,
        h1 - 20.0
    );

    if !smalls.is_empty() {
        let max = smalls.iter().map(|r| r.ops_per_s).fold(1.0, f64::max);
        let y0 = h1 + 30.0;
        let _ = writeln!(
            s,
            r##"<text x="10" y="{}" font-size="14" font-weight="bold">Small objects: ops/s (p99 ms) per endpoint</text>"##,
            y0 - 8.0
        );
        for (i, r) in smalls.iter().enumerate() {
            let y = y0 + 10.0 + row_h * i as f64;
            let len = (r.ops_per_s / max * bar_w).max(1.0);
            let color = if r.kind == Kind::Put {
                "#1565c0"
            } else {
                "#6a1b9a"
            };
            let bar = Bar {
                x0,
                y,
                row_h,
                len,
                color,
            };
            let value = format!("{:.0} ops/s ({:.2})", r.ops_per_s, r.p99_ms);
            bar.draw(&mut s, &r.step, &r.endpoint, &value);
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let svg = chart("x < y", &[], &[]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("x &lt; y"));
    }
}
