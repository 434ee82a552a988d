//! The log check: the server ran with `MAYFLY_LOG=trace`/`RUST_LOG=trace` for the whole suite;
//! its log must hold no secret, token value, session token (or the JWT inside, or its
//! signature segment) and no request, chunk or trailer signature the suite sent.

use std::collections::BTreeSet;

use mayfly_attack::world::World;

pub(crate) fn run(w: &mut World) {
    // One log per server process (one per node for a cluster): each must have seen traffic.
    let mut log = String::new();
    for path in w.srv.log_paths.clone() {
        let one = std::fs::read_to_string(&path).unwrap_or_default();
        let lines = one.lines().count();
        w.tally.record_extra(
            lines > 100,
            &format!(
                "log check: the trace log {} has only {lines} lines",
                path.display()
            ),
        );
        log.push_str(&one);
    }
    let lines = log.lines().count();
    w.tally.record_extra(
        !w.srv.log_paths.is_empty(),
        "log check: the server wrote no log file",
    );
    // Hex runs of 40+ chars and base64ish runs of 40+ chars: every candidate secret token.
    let mut runs: BTreeSet<&str> = BTreeSet::new();
    for part in log.split(|c: char| {
        !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_' | '.'))
    }) {
        if part.len() >= 40 {
            runs.insert(part);
        }
    }
    let mut leaked = Vec::new();
    for sig in &w.signatures {
        if sig.len() >= 20 && (runs.contains(sig.as_str()) || log.contains(sig.as_str())) {
            leaked.push(format!("signature {}…", &sig[..12]));
        }
    }
    for secret in &w.secrets {
        if secret.len() >= 20 && log.contains(secret.as_str()) {
            leaked.push(format!("secret {}…", &secret[..8]));
        }
        // Percent-encoded forms (tokens travel in query strings).
        let enc = mayfly_attack::sign::aws_encode(secret.as_bytes(), true);
        if enc != *secret && enc.len() >= 20 && log.contains(enc.as_str()) {
            leaked.push(format!("encoded secret {}…", &secret[..8]));
        }
    }
    let ok = leaked.is_empty();
    let why = format!(
        "log check: {} item(s) in the trace log: {:?}",
        leaked.len(),
        leaked.iter().take(5).collect::<Vec<_>>()
    );
    w.tally.record_extra(ok, &why);
    println!(
        "log check: {lines} trace lines scanned for {} secrets/tokens and {} signatures: {}",
        w.secrets.len(),
        w.signatures.len(),
        if ok { "none found" } else { "LEAK" }
    );
}
