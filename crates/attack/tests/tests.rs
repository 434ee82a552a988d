//! The adversarial suite: one real server with trace logging, every attack class against it
//! along every auth path, then the log scan and the class × path report; then all of it again
//! against a two-node cluster behind a balancer. One test per target, so that the log scan
//! covers every request the suite sent to it.

mod attack;

use mayfly_attack::sign::Creds;
use mayfly_attack::world::{MAIN, OTHER, World};

/// Credentials and keys the classes share.
pub(crate) struct Fx {
    /// object-read-write on MAIN, prefixes `user-1/`, `dir/`, `sp ace/`, `café/` (NFC),
    /// objects `a/b`, `exact.txt`; minted locally under the admin key.
    pub(crate) scoped: Creds,
    /// The same scope, object-read-only.
    pub(crate) scoped_ro: Creds,
    /// object-read-write on MAIN, whole bucket.
    pub(crate) whole: Creds,
}

/// In-scope keys planted in MAIN (body `in scope`).
pub(crate) const IN_SCOPE: &[&str] = &[
    "user-1/doc",
    "dir/doc",
    "a/b",
    "exact.txt",
    "sp ace/doc",
    "café/doc",
];

/// Out-of-scope keys planted in MAIN (key and body carry the HIDDEN marker).
pub(crate) const OUT_OF_SCOPE: &[&str] = &[
    "user-10/HIDDEN",
    "user-1HIDDEN",
    "a/bcHIDDEN",
    "a/b/HIDDEN",
    "A/bHIDDEN",
    "User-1/HIDDEN",
    "USER-1/HIDDEN",
    "exact.txtHIDDEN",
    "sp+ace/HIDDEN",
    "sp%20ace/HIDDEN",
    "cafe\u{301}/HIDDEN",
    "/user-1/HIDDEN",
    "./user-1/HIDDEN",
    "HIDDEN/root",
    "user-1\u{0}/HIDDEN",
];

fn setup(w: &mut World) -> Fx {
    for k in IN_SCOPE {
        w.put(MAIN, k, "in scope");
    }
    for k in OUT_OF_SCOPE {
        w.plant_hidden(MAIN, k);
    }
    w.plant_hidden(OTHER, "user-1/HIDDEN");
    let admin = w.admin.clone();
    let mut c = w.claims(&admin, MAIN, "object-read-write");
    c.prefixes = Some(vec![
        "user-1/".into(),
        "dir/".into(),
        "sp ace/".into(),
        "café/".into(),
    ]);
    c.objects = Some(vec!["a/b".into(), "exact.txt".into()]);
    let scoped = w.mint(&c, &admin.secret);
    c.scope = "object-read-only".into();
    let scoped_ro = w.mint(&c, &admin.secret);
    let whole = {
        let c = w.claims(&admin, MAIN, "object-read-write");
        w.mint(&c, &admin.secret)
    };
    w.trust(&whole);
    Fx {
        scoped,
        scoped_ro,
        whole,
    }
}

#[test]
fn no_request_escapes_its_credential() {
    run_suite(World::start(), "one server");
}

/// The same suite against two PostgreSQL-backed nodes behind a round-robin balancer (every
/// request is a new connection, so consecutive requests alternate nodes); the log check scans
/// each node's trace log. Needs `MAYFLY_TEST_PG_URL` (`scripts/pg-test-server run ...`).
#[test]
fn no_request_escapes_its_credential_on_a_cluster() {
    run_suite(
        World::start_cluster(),
        "a two-node cluster behind a balancer",
    );
}

fn run_suite(mut w: World, target: &str) {
    let fx = setup(&mut w);
    attack::prefix::run(&mut w, &fx);
    attack::encoding::run(&mut w, &fx);
    attack::dots::run(&mut w, &fx);
    attack::copy::run(&mut w, &fx);
    attack::batch::run(&mut w, &fx);
    attack::listing::run(&mut w, &fx);
    attack::expiry::run(&mut w, &fx);
    attack::skew::run(&mut w, &fx);
    attack::binding::run(&mut w, &fx);
    attack::tamper::run(&mut w, &fx);
    attack::mixup::run(&mut w, &fx);
    attack::parent::run(&mut w, &fx);
    attack::oracle::run(&mut w, &fx);
    attack::integrity::run(&mut w, &fx);
    attack::lifetime::run(&mut w, &fx);
    attack::sources::run(&mut w, &fx);
    attack::conditional::run(&mut w, &fx);
    attack::chunked::run(&mut w, &fx);
    attack::inflight::run(&mut w, &fx);
    attack::escalation::run(&mut w, &fx);
    // issue 15: one revoked temporary credential.
    attack::revoked::run(&mut w, &fx);
    let connections = w.srv.connections();
    w.srv.stop();
    attack::logs::run(&mut w);
    if let Some(c) = &connections {
        // Every node took part: a suite that only reached one would prove nothing more.
        let all = c.iter().all(|&(api, s3)| api > 0 && s3 > 0);
        w.tally.record_extra(
            all,
            &format!("cluster: a node received no traffic through the balancers: {c:?}"),
        );
    }

    let report = w.tally.report();
    for f in &w.tally.failures {
        eprintln!("FAIL {f}");
    }
    for e in &w.tally.escapes {
        eprintln!("ESCAPE {e}");
    }
    let header = match &connections {
        Some(c) => format!("attack target: {target}; connections per node (api, s3): {c:?}"),
        None => format!("attack target: {target}"),
    };
    println!("{header}\n{report}");
    eprintln!("{header}\n{report}");
    let (_, failed, escapes, server_errors) = w.tally.totals();
    assert_eq!(escapes, 0, "requests escaped their credential");
    assert_eq!(server_errors, 0, "5xx answers");
    assert_eq!(failed, 0, "adversarial cases failed");
}
