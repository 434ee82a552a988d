//! docs/DEPLOY.md's configuration reference cannot drift from the binary: every flag of
//! `mayfly serve --help` has a row naming its flag and environment variable, every row names a
//! real flag, and every TOML key in the table is one the config file parser accepts. Also checks
//! that the deployment files the guide points at exist and carry the settings it promises.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// `(flag, env var)` pairs from `mayfly serve --help`.
fn help_flags() -> Vec<(String, Option<String>)> {
    let out = Command::new(env!("CARGO_BIN_EXE_mayfly"))
        .args(["serve", "--help"])
        .output()
        .expect("run mayfly serve --help");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).expect("utf-8");
    let mut flags: Vec<(String, Option<String>)> = Vec::new();
    // The options section ends with -h/--help; examples after it also start with "--".
    for line in help
        .lines()
        .take_while(|l| !l.trim_start().starts_with("-h, --help"))
    {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed
            .strip_prefix("--")
            .filter(|_| line.starts_with("      --"))
        {
            let name = rest.split([' ', '<']).next().unwrap_or_default();
            flags.push((format!("--{name}"), None));
        } else if let Some(env) = trimmed.strip_prefix("[env: ") {
            let var = env
                .trim_end_matches(']')
                .split('=')
                .next()
                .unwrap_or_default();
            if let Some(last) = flags.last_mut() {
                last.1 = Some(var.to_owned());
            }
        }
    }
    flags.retain(|(f, _)| f != "--help");
    assert!(
        flags.len() >= 17,
        "parsed too few flags from --help: {flags:?}"
    );
    flags
}

/// The reference table's rows: cells of every line starting with "| `--".
fn table_rows(doc: &str) -> Vec<Vec<String>> {
    doc.lines()
        .filter(|l| l.starts_with("| `--"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn every_serve_flag_is_in_the_reference_table_and_nothing_else_is() {
    let doc = repo_file("docs/DEPLOY.md");
    let rows = table_rows(&doc);
    let flags = help_flags();
    for (flag, env) in &flags {
        let row = rows
            .iter()
            .find(|r| r[0] == format!("`{flag}`"))
            .unwrap_or_else(|| panic!("docs/DEPLOY.md has no reference row for {flag}"));
        let env = env
            .as_ref()
            .unwrap_or_else(|| panic!("{flag} has no environment variable in --help"));
        assert_eq!(
            row[1],
            format!("`{env}`"),
            "{flag}: the table names another variable"
        );
        assert!(
            row.len() >= 5 && !row[3].is_empty() && !row[4].is_empty(),
            "{flag}: default and meaning columns are filled"
        );
    }
    let known: BTreeSet<String> = flags.iter().map(|(f, _)| format!("`{f}`")).collect();
    for row in &rows {
        assert!(
            known.contains(&row[0]),
            "docs/DEPLOY.md documents {} which `mayfly serve --help` does not have",
            row[0]
        );
    }
}

#[test]
fn every_toml_key_in_the_table_is_accepted_by_the_config_parser() {
    let doc = repo_file("docs/DEPLOY.md");
    let mut keys = 0;
    for row in table_rows(&doc) {
        let Some(key) = row[2].strip_prefix('`').and_then(|k| k.strip_suffix('`')) else {
            continue; // "(none)": --config itself
        };
        keys += 1;
        // A wrong type is fine here; an unknown key is what must not happen.
        match toml::from_str::<mayfly::config::FileConfig>(&format!("{key} = 0")) {
            Ok(_) => {}
            Err(e) => assert!(
                !e.to_string().contains("unknown field"),
                "TOML key `{key}` in docs/DEPLOY.md is not a config file key: {e}"
            ),
        }
    }
    assert!(keys >= 16, "too few TOML keys found in the table: {keys}");
    // And an unknown key is refused, so the check above can fail.
    let err = toml::from_str::<mayfly::config::FileConfig>("no_such_key = 0")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn deployment_files_carry_what_the_guide_promises() {
    let unit = repo_file("deploy/mayfly.service");
    for line in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/mayfly",
        "NoNewPrivileges=yes",
        "Restart=on-failure",
        "TimeoutStopSec=45",
        "ExecStart=/usr/local/bin/mayfly serve",
    ] {
        assert!(
            unit.lines()
                .any(|l| l.trim() == line || l.trim().starts_with(line)),
            "deploy/mayfly.service lacks {line}"
        );
    }
    let image = repo_file("deploy/Containerfile");
    for needle in [
        "cargo build --release --locked -p mayfly",
        "FROM docker.io/library/debian:bookworm-slim",
        "USER 10001",
        "EXPOSE 8787 8788",
        "HEALTHCHECK",
        "/healthz",
    ] {
        assert!(
            image.contains(needle),
            "deploy/Containerfile lacks {needle}"
        );
    }
    let doc = repo_file("docs/DEPLOY.md");
    for needle in [
        "GET /healthz",
        "check port 8787",
        "pg_dump",
        ".backup",
        "has not been built",
        "TimeoutStopSec",
    ] {
        assert!(doc.contains(needle), "docs/DEPLOY.md lacks {needle}");
    }
}
