//! `mayfly creds mint --local` and `mayfly creds inspect`, run as the real binary: SPEC §2's
//! test vector reproduced byte for byte through the command line, inspect round-trips and
//! verdicts, clear errors for malformed tokens, and an example in every command's `--help`.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use base64::Engine;
use clap::CommandFactory;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mayfly");

// SPEC §2's test vector.
const PARENT_SECRET: &str = "185c3470580df7f25e8ff38cd591f6966c393160cd4d1c7f1a27e7850054aead";
const PARENT_ID: &str = "0123456789abcdef0123456789abcdef";
const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
const VECTOR_CLAIMS: &str = r#"{"bucket":"my-bucket","scope":"object-read-only","actions":["GetObject","HeadObject"],"paths":{"prefixPaths":["data/"],"objectPaths":[]},"sub":"023e105f4ecef8ad9ca31a8372d0c353","iss":"0123456789abcdef0123456789abcdef","aud":"023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com","iat":1750000000,"exp":1750000900}"#;
const VECTOR_SIGNATURE: &str = "haOtFwtg4UU5S5RhzFiqqYDkXF7LrE0H7QKRyQbgC0o";
const VECTOR_SECRET: &str = "947cb3c34949b949560bbac48d7cc00251a20b0bd7ea91f6d9f21e526c41f22f";

/// Runs the binary with a clean environment (no MAYFLY_*, CLOUDFLARE_*, AWS_*), optional stdin.
fn mayfly(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("MAYFLY_") || k.starts_with("CLOUDFLARE_") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn mayfly");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn secret_file(dir: &tempfile::TempDir, secret: &str) -> PathBuf {
    let p = dir.path().join("parent-secret");
    // A trailing newline, as `echo` writes: it must be ignored.
    std::fs::write(&p, format!("{secret}\n")).expect("write secret");
    p
}

fn mint_vector(extra: &[&str]) -> Output {
    let mut args = vec![
        "creds",
        "mint",
        "--local",
        "--bucket",
        "my-bucket",
        "--permission",
        "object-read-only",
        "--action",
        "GetObject",
        "--action",
        "HeadObject",
        "--prefix",
        "data/",
        "--parent-key-id",
        PARENT_ID,
        "--account-id",
        ACCOUNT,
        "--issued-at",
        "1750000000",
        "--ttl",
        "900",
    ];
    args.extend_from_slice(extra);
    mayfly(&args, &[("MAYFLY_PARENT_SECRET", PARENT_SECRET)], None)
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "mayfly failed: {}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn local_mint_reproduces_the_spec_vector_byte_for_byte() {
    let out = json(&mint_vector(&["--format", "json"]));
    let token = out["sessionToken"].as_str().expect("sessionToken");
    assert_eq!(token.len(), 684);
    assert!(token.starts_with("and0L2V5"));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .expect("standard base64");
    let text = String::from_utf8(decoded).expect("utf-8");
    let jwt = text.strip_prefix("jwt/").expect("jwt/ prefix");
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .expect("base64url claims");
    assert_eq!(String::from_utf8_lossy(&claims), VECTOR_CLAIMS);
    assert_eq!(parts[2], VECTOR_SIGNATURE);
    assert_eq!(out["secretAccessKey"], VECTOR_SECRET);
    assert_eq!(out["accessKeyId"], PARENT_ID);
    assert_eq!(out["expiration"], "2025-06-15T15:21:40Z");
    assert_eq!(
        out["endpoint"],
        "https://023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com"
    );

    // The same token through every secret source and the other formats.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = secret_file(&dir, PARENT_SECRET);
    let via_file = mayfly(
        &[
            "creds",
            "create",
            "--local",
            "--bucket",
            "my-bucket",
            "--permission",
            "object-read-only",
            "--action",
            "GetObject",
            "--action",
            "HeadObject",
            "--prefix",
            "data/",
            "--parent-access-key-id",
            PARENT_ID,
            "--account-id",
            ACCOUNT,
            "--issued-at",
            "1750000000",
            "--json",
            "--parent-secret-file",
            file.to_str().expect("path"),
        ],
        &[],
        None,
    );
    assert_eq!(json(&via_file)["sessionToken"], token);
    let process = json(&mint_vector(&["--format", "credential-process"]));
    assert_eq!(process["Version"], 1);
    assert_eq!(process["SessionToken"], token);
    assert_eq!(process["SecretAccessKey"], VECTOR_SECRET);
    assert_eq!(process["AccessKeyId"], PARENT_ID);
    assert_eq!(process["Expiration"], "2025-06-15T15:21:40Z");
    let keys: Vec<&String> = process.as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
}

#[test]
fn local_mint_refuses_missing_or_bad_inputs_clearly() {
    let base = [
        "creds",
        "mint",
        "--local",
        "--bucket",
        "my-bucket",
        "--permission",
        "object-read-only",
        "--parent-key-id",
        PARENT_ID,
        "--account-id",
        ACCOUNT,
    ];
    let no_secret = mayfly(&base, &[], None);
    assert_eq!(no_secret.status.code(), Some(1));
    assert!(
        stderr(&no_secret).contains("--parent-secret-file"),
        "{}",
        stderr(&no_secret)
    );
    let no_parent: Vec<&str> = base
        .iter()
        .copied()
        .filter(|a| *a != "--parent-key-id" && *a != PARENT_ID)
        .collect();
    let no_parent = mayfly(&no_parent, &[("MAYFLY_PARENT_SECRET", PARENT_SECRET)], None);
    assert_eq!(no_parent.status.code(), Some(1));
    assert!(
        stderr(&no_parent).contains("--parent-key-id"),
        "{}",
        stderr(&no_parent)
    );
    let bad_secret = mayfly(&base, &[("MAYFLY_PARENT_SECRET", "not-hex")], None);
    assert_eq!(bad_secret.status.code(), Some(1));
    assert!(stderr(&bad_secret).contains("64 hex characters"));
    assert!(
        !stderr(&bad_secret).contains("not-hex"),
        "echoed the secret"
    );
    let mut with_action = base.to_vec();
    with_action.extend(["--action", "GetObjects"]);
    let bad_action = mayfly(
        &with_action,
        &[("MAYFLY_PARENT_SECRET", PARENT_SECRET)],
        None,
    );
    assert_eq!(bad_action.status.code(), Some(1));
    assert!(
        stderr(&bad_action).contains("ListObjectsV2"),
        "lists valid actions"
    );
    let mut long = base.to_vec();
    long.extend(["--ttl", "604801"]);
    let too_long = mayfly(&long, &[("MAYFLY_PARENT_SECRET", PARENT_SECRET)], None);
    assert_eq!(too_long.status.code(), Some(1));
    assert!(stderr(&too_long).contains("ttlSeconds"));
    // --issued-at only makes sense offline: a usage error (2). (--action works remotely too,
    // through the API's `actions` extension.)
    let remote_issued_at = mayfly(
        &[
            "creds",
            "mint",
            "--bucket",
            "b1c",
            "--permission",
            "object-read-only",
            "--parent-key-id",
            PARENT_ID,
            "--issued-at",
            "1750000000",
        ],
        &[],
        None,
    );
    assert_eq!(remote_issued_at.status.code(), Some(2));
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Mints a fresh token for the round trip: objects and prefixes, no actions, a Mayfly
/// endpoint as audience.
fn fresh_token(issued_at: u64, ttl: u64) -> String {
    let iat = issued_at.to_string();
    let ttl = ttl.to_string();
    let out = mayfly(
        &[
            "creds",
            "mint",
            "--local",
            "--format",
            "json",
            "--bucket",
            "photos",
            "--permission",
            "object-read-write",
            "--prefix",
            "up/",
            "--prefix",
            "tmp/",
            "--object",
            "a b.txt",
            "--parent-key-id",
            PARENT_ID,
            "--account-id",
            ACCOUNT,
            "--endpoint",
            "http://127.0.0.1:8788",
            "--issued-at",
            &iat,
            "--ttl",
            &ttl,
        ],
        &[("MAYFLY_PARENT_SECRET", PARENT_SECRET)],
        None,
    );
    json(&out)["sessionToken"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Extra flags, extra environment, the expected `verification.error`.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn inspect_round_trips_what_was_minted_and_verifies() {
    let iat = now();
    let token = fresh_token(iat, 3600);
    let shown = json(&mayfly(
        &["creds", "inspect", "--json", "-"],
        &[],
        Some(&format!("{token}\n")),
    ));
    assert_eq!(shown["bucket"], "photos");
    assert_eq!(shown["permission"], "object-read-write");
    assert_eq!(shown["actions"], serde_json::json!([]));
    assert_eq!(shown["prefixes"], serde_json::json!(["up/", "tmp/"]));
    assert_eq!(shown["objects"], serde_json::json!(["a b.txt"]));
    assert_eq!(shown["issuer"], PARENT_ID);
    assert_eq!(shown["account"], ACCOUNT);
    assert_eq!(shown["audience"], "127.0.0.1:8788");
    assert_eq!(shown["issued_at"], iat);
    assert_eq!(shown["expires_at"], iat + 3600);
    assert_eq!(shown["expired"], false);
    let left = shown["seconds_left"].as_i64().expect("seconds_left");
    assert!((3500..=3600).contains(&left), "{left}");
    assert_eq!(shown["verification"]["checked"], false);
    // The credential id (issue 15): what core computes from the token, for `creds revoke`.
    let id = mayfly_core::parse_session_token(&mayfly_core::SessionToken::from_untrusted(&token))
        .expect("parses")
        .credential_id()
        .to_string();
    assert_eq!(shown["credential_id"], id.as_str());

    // The human form shows the same, from AWS_SESSION_TOKEN when no argument is given.
    let text = mayfly(
        &["creds", "inspect"],
        &[("AWS_SESSION_TOKEN", &token)],
        None,
    );
    assert!(text.status.success(), "{}", stderr(&text));
    let t = stdout(&text);
    for want in [
        "bucket:      photos",
        "permission:  object-read-write",
        "prefixes:    up/, tmp/",
        "objects:     a b.txt",
        PARENT_ID,
        "audience:    127.0.0.1:8788",
        "time left:   ",
        "NOT VERIFIED",
        &format!("credential:  {id}"),
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
    assert!(!t.contains(&token), "inspect printed the token");

    // Verified: secret from a file, issuer and audience checked.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = secret_file(&dir, PARENT_SECRET);
    let file = file.to_str().expect("path");
    let ok = mayfly(
        &[
            "creds",
            "inspect",
            &token,
            "--parent-secret-file",
            file,
            "--parent-key-id",
            PARENT_ID,
            "--endpoint",
            "http://127.0.0.1:8788",
        ],
        &[],
        None,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains("verdict:     VALID"),
        "{}",
        stdout(&ok)
    );
    assert!(!stdout(&ok).contains("not checked"), "{}", stdout(&ok));

    // Each failure: its own verdict and exit 1.
    let wrong_secret = "0".repeat(64);
    let cases: [Case<'_>; 4] = [
        (
            &[],
            &[("MAYFLY_PARENT_SECRET", &wrong_secret)],
            "bad_signature",
        ),
        (
            &["--parent-key-id", "fedcba9876543210fedcba9876543210"],
            &[("MAYFLY_PARENT_SECRET", PARENT_SECRET)],
            "issuer_mismatch",
        ),
        (
            &["--endpoint", "https://elsewhere.example"],
            &[("MAYFLY_PARENT_SECRET", PARENT_SECRET)],
            "audience_mismatch",
        ),
        (&["--parent-secret", &wrong_secret], &[], "bad_signature"),
    ];
    for (flags, env, want) in cases {
        let mut args = vec!["creds", "inspect", "--json", token.as_str()];
        args.extend_from_slice(flags);
        let out = mayfly(&args, env, None);
        assert_eq!(out.status.code(), Some(1), "{want}: {}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).expect("json verdict");
        assert_eq!(v["verification"]["valid"], false, "{want}");
        assert_eq!(v["verification"]["error"], want);
        assert!(stderr(&out).contains("does not verify"), "{}", stderr(&out));
    }

    // Expired: minted 2000 s ago for 900 s.
    let old = fresh_token(now() - 2000, 900);
    let expired = mayfly(
        &["creds", "inspect", &old],
        &[("MAYFLY_PARENT_SECRET", PARENT_SECRET)],
        None,
    );
    assert_eq!(expired.status.code(), Some(1));
    assert!(
        stdout(&expired).contains("INVALID: token expired"),
        "{}",
        stdout(&expired)
    );
    assert!(
        stdout(&expired).contains("expired 18m"),
        "{}",
        stdout(&expired)
    );
}

#[test]
fn inspect_reports_malformed_input_without_panicking() {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let cases = [
        ("not base64 at all!".to_owned(), "not base64"),
        (b64("no jwt prefix"), "not base64"),
        (b64("jwt/a.b.c"), "not base64"),
        (
            b64("jwt/eyJhbGciOiJub25lIn0.e30.AAAA"),
            "unsupported JWT header",
        ),
        (
            b64(
                "jwt/eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ),
            "invalid token claims",
        ),
        ("A".repeat(40_000), "too large"),
    ];
    for (input, want) in cases {
        let out = mayfly(&["creds", "inspect", "-"], &[], Some(&input));
        assert_eq!(out.status.code(), Some(1), "{want}");
        let err = stderr(&out);
        assert!(err.contains("cannot decode the session token"), "{err}");
        assert!(err.contains(want), "{want:?} not in {err}");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
        assert!(stdout(&out).is_empty());
    }
    let empty = mayfly(&["creds", "inspect", "-"], &[], Some("  \n"));
    assert_eq!(empty.status.code(), Some(1));
    assert!(stderr(&empty).contains("no session token given"));
}

/// Every command's `--help` (root and each leaf, `creds mint` and `creds inspect` among them)
/// ends with examples.
#[test]
fn every_command_help_has_an_example() {
    fn leaves(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        let subs: Vec<&clap::Command> = cmd
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .collect();
        if subs.is_empty() {
            out.push(path);
            return;
        }
        for s in subs {
            let mut p = path.clone();
            p.push(s.get_name().to_owned());
            leaves(s, p, out);
        }
    }
    let mut all = vec![Vec::new()];
    leaves(&mayfly::Cli::command(), Vec::new(), &mut all);
    assert!(all.contains(&vec!["creds".to_owned(), "mint".to_owned()]));
    assert!(all.contains(&vec!["creds".to_owned(), "inspect".to_owned()]));
    assert!(all.contains(&vec!["creds".to_owned(), "check".to_owned()]));
    for path in all {
        for flag in ["-h", "--help"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let out = mayfly(&args, &[], None);
            assert!(out.status.success(), "{args:?}");
            let text = stdout(&out);
            assert!(
                text.contains("Example:") || text.contains("Examples:"),
                "`mayfly {}` has no example",
                args.join(" ")
            );
            let name = path.last().map_or("mayfly", String::as_str);
            assert!(
                text.contains(&format!("mayfly {}", path.join(" "))) || path.is_empty(),
                "`mayfly {}`'s example does not run {name}",
                path.join(" ")
            );
        }
    }
    // The creds help documents every parent-secret source and the alias.
    let mint = stdout(&mayfly(&["creds", "mint", "--help"], &[], None));
    for want in [
        "--parent-secret-file",
        "MAYFLY_PARENT_SECRET",
        "--parent-secret ",
        "credential_process",
        "--format credential-process",
        "eval",
        "creds create",
    ] {
        assert!(mint.contains(want), "mint --help lacks {want:?}");
    }
    let inspect = stdout(&mayfly(&["creds", "inspect", "--help"], &[], None));
    for want in [
        "--parent-secret-file",
        "MAYFLY_PARENT_SECRET",
        "AWS_SESSION_TOKEN",
    ] {
        assert!(inspect.contains(want), "inspect --help lacks {want:?}");
    }
}

#[test]
fn regression_12_local_mint_refuses_a_scope_too_large_to_issue() {
    // Four 1000-byte prefixes: within the per-path limits, but the token would pass 4096 bytes.
    let long: Vec<String> = (0..4).map(|i| format!("{i}").repeat(1000)).collect();
    let mut extra = Vec::new();
    for p in &long {
        extra.extend(["--prefix", p.as_str()]);
    }
    let refused = mint_vector(&extra);
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains(
            "invalid prefixes: the path scope makes the session token longer than 4096 bytes"
        ),
        "{}",
        stderr(&refused)
    );
    // One of them fits.
    let ok = mint_vector(&extra[..2]);
    assert!(ok.status.success(), "{}", stderr(&ok));
}

/// The JSON a `creds check` that denied printed (exit status 1).
fn denied_json(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn creds_check_answers_offline_with_the_servers_words() {
    // object-read-write on photos, prefixes up/ and tmp/, object "a b.txt".
    let token = fresh_token(now() - 10, 900);
    let env_token = [("AWS_SESSION_TOKEN", token.as_str())];

    let ok = mayfly(
        &["creds", "check", "PutObject", "up/a.png"],
        &env_token,
        None,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let text = stdout(&ok);
    assert_eq!(text.lines().next(), Some("allowed"));
    assert!(text.contains("signature not verified"), "{text}");
    assert!(text.contains("assumed to allow everything"), "{text}");

    // Token from stdin, bucket in an s3:// URL, verified with the parent secret.
    let out = mayfly(
        &["creds", "check", "GetObject", "s3://photos/docs/x", "-"],
        &[("MAYFLY_PARENT_SECRET", PARENT_SECRET)],
        Some(&token),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        text.lines().next(),
        Some(
            "denied: the key is outside the credential's prefixes [\"up/\", \"tmp/\"] \
             and objects [\"a b.txt\"]"
        )
    );
    assert!(text.contains("signature and lifetime verified"), "{text}");

    // Another bucket: only the credential's own is named.
    let out = mayfly(
        &[
            "creds",
            "check",
            "--json",
            "GetObject",
            "up/a",
            "--bucket",
            "secret-x",
        ],
        &env_token,
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let v = denied_json(&out);
    assert_eq!(v["allowed"], false);
    assert_eq!(v["rule"], "bucket");
    assert_eq!(v["message"], "the credential is for bucket photos");
    assert!(
        !v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("secret-x")
    );

    // A copy reads its source, which must be in scope too.
    let out = mayfly(
        &[
            "creds",
            "check",
            "CopyObject",
            "up/copy",
            "--copy-source",
            "docs/src",
        ],
        &env_token,
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("denied: the copy source key is outside"),
        "{}",
        stdout(&out)
    );

    // A wrong parent secret: the signature does not verify.
    let wrong = "00".repeat(32);
    let out = mayfly(
        &["creds", "check", "--json", "GetObject", "up/a"],
        &[
            ("AWS_SESSION_TOKEN", token.as_str()),
            ("MAYFLY_PARENT_SECRET", wrong.as_str()),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(denied_json(&out)["rule"], "bad_signature");
}

#[test]
fn creds_check_reports_expiry_and_bad_input_clearly() {
    let expired = fresh_token(now() - 2000, 900);
    let out = mayfly(
        &["creds", "check", "--json", "GetObject", "up/a", &expired],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let v = denied_json(&out);
    assert_eq!(v["code"], "ExpiredToken");
    assert_eq!(v["message"], "The provided token has expired.");

    let token = fresh_token(now() - 10, 900);
    for (args, want) in [
        (
            &["creds", "check", "PutObjekt", "up/a", token.as_str()][..],
            "unknown operation",
        ),
        (
            &["creds", "check", "CopyObject", "up/a", token.as_str()][..],
            "--copy-source",
        ),
        (
            &[
                "creds",
                "check",
                "GetObject",
                "s3://photos/up/a",
                "--bucket",
                "photos",
                token.as_str(),
            ][..],
            "give the bucket once",
        ),
        (
            &["creds", "check", "GetObject", "up/a", "not-a-token"][..],
            "cannot decode the session token",
        ),
    ] {
        let out = mayfly(args, &[], None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
}
