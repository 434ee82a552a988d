//! `mayfly audit` (a Mayfly extension): reads an account's audit trail through
//! `GET /client/v4/mayfly/accounts/{account_id}/audit`, with the `CLOUDFLARE_*` connection
//! settings every remote command uses, and prints it as a table or, with `--json`, as one JSON
//! object per event per line (snake_case keys: `time`, `kind`, `credential_id`,
//! `parent_access_key_id`, `bucket`, `key`, `operation`, `status`, `bytes`, `request_id`,
//! `caller`, `detail`).

use std::fmt::Write as _;

use anyhow::Context;
use serde_json::{Map, Value};

use crate::cli::AuditArgs;
use crate::commands::connect;

/// Events per request when paging (the endpoint's maximum).
const PAGE: usize = 1000;

/// `90s`, `15m`, `2h`, `7d` as seconds.
fn age_secs(text: &str) -> Option<u64> {
    let (n, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: u64 = n.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// A `--since`/`--until` value as the RFC 3339 time the endpoint takes.
fn time_arg(flag: &str, text: &str, now: u64) -> anyhow::Result<String> {
    if let Some(age) = age_secs(text) {
        return Ok(mayfly_api::time::rfc3339(now.saturating_sub(age)));
    }
    mayfly_api::time::parse_rfc3339(text)
        .map(|_| text.to_owned())
        .with_context(|| {
            format!(
                "{flag}: expected an RFC 3339 time (2026-01-31T12:00:00Z) or an age (15m, 2h, 7d)"
            )
        })
}

/// The query parameters for the filters.
fn filters(args: &AuditArgs, now: u64) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut q = Vec::new();
    let mut push = |name, v: &Option<String>| {
        if let Some(v) = v {
            q.push((name, v.clone()));
        }
    };
    push("credential_id", &args.credential);
    push("parent", &args.parent);
    push("bucket", &args.bucket);
    push("kind", &args.kind);
    if let Some(s) = &args.since {
        q.push(("since", time_arg("--since", s, now)?));
    }
    if let Some(u) = &args.until {
        q.push(("until", time_arg("--until", u, now)?));
    }
    Ok(q)
}

/// The wire names (camelCase) and the names printed with `--json` (snake_case).
const FIELDS: [(&str, &str); 12] = [
    ("time", "time"),
    ("kind", "kind"),
    ("credentialId", "credential_id"),
    ("parentAccessKeyId", "parent_access_key_id"),
    ("bucket", "bucket"),
    ("key", "key"),
    ("operation", "operation"),
    ("status", "status"),
    ("bytes", "bytes"),
    ("requestId", "request_id"),
    ("caller", "caller"),
    ("detail", "detail"),
];

/// One event as the `--json` line: every field, absent ones null.
pub fn json_line(event: &Value) -> String {
    let mut out = Map::new();
    for (wire, name) in FIELDS {
        out.insert(
            name.to_owned(),
            event.get(wire).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out).to_string()
}

fn cell(event: &Value, wire: &str) -> String {
    match event.get(wire) {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.chars().filter(|c| !c.is_control()).collect(),
        Some(other) => other.to_string(),
    }
}

/// The events as an aligned table.
pub fn table(events: &[Value]) -> String {
    const COLUMNS: [(&str, &str); 8] = [
        ("TIME", "time"),
        ("KIND", "kind"),
        ("CREDENTIAL", "credentialId"),
        ("BUCKET", "bucket"),
        ("KEY", "key"),
        ("OPERATION", "operation"),
        ("STATUS", "status"),
        ("BYTES", "bytes"),
    ];
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| COLUMNS.iter().map(|(_, w)| cell(e, w)).collect())
        .collect();
    let widths: Vec<usize> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([h.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ", w = widths[i]);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(COLUMNS.iter().map(|(h, _)| *h).collect());
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

/// Runs `mayfly audit`.
pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let now = crate::creds::unix_now()?;
    let query = filters(&args, now)?;
    let (client, account) = connect(&args.target)?;
    let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let mut events: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = query.clone();
        q.push(("per_page", (limit - events.len()).min(PAGE).to_string()));
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let page = client
            .list_audit(&account, &q)
            .await
            .context("cannot read the audit trail")?;
        events.extend(page.events);
        match page.cursor {
            Some(c) if events.len() < limit => cursor = Some(c),
            Some(_) | None => break,
        }
    }
    events.truncate(limit);
    if args.json {
        let mut out = String::new();
        for e in &events {
            out.push_str(&json_line(e));
            out.push('\n');
        }
        print!("{out}");
    } else {
        print!("{}", table(&events));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_times_become_rfc3339() {
        let now = 1_767_225_600; // 2026-01-01T00:00:00Z
        assert_eq!(
            time_arg("--since", "2h", now).expect("age"),
            "2025-12-31T22:00:00Z"
        );
        assert_eq!(
            time_arg("--since", "2026-01-31T12:00:00Z", now).expect("time"),
            "2026-01-31T12:00:00Z"
        );
        assert!(time_arg("--since", "yesterday", now).is_err());
        assert!(time_arg("--since", "5w", now).is_err());
        assert!(time_arg("--since", "", now).is_err());
    }

    #[test]
    fn json_lines_use_snake_case_and_null_for_absent_fields() {
        let e = serde_json::json!({"time": "2026-01-01T00:00:00.000Z", "kind": "s3",
            "credentialId": "c", "status": 200, "key": "a b"});
        let line: Value = serde_json::from_str(&json_line(&e)).expect("json");
        assert_eq!(line["credential_id"], "c");
        assert_eq!(line["status"], 200);
        assert_eq!(line["bucket"], Value::Null);
        assert_eq!(line.as_object().map(Map::len), Some(12));
    }

    #[test]
    fn the_table_aligns_columns_and_marks_absent_values() {
        let e = serde_json::json!({"time": "T", "kind": "bucket.create", "bucket": "photos"});
        let t = table(&[e]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("TIME  KIND"), "{t}");
        assert!(lines[1].contains("bucket.create  -"), "{t}");
        assert_eq!(lines.len(), 2);
    }
}
