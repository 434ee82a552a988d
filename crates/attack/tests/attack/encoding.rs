//! Class 2: encodings. The key is the path decoded exactly once and never normalised (SPEC §5),
//! so `%2F` is `/`, `%252F` is a literal `%2F`, `+` is a literal plus, NFD is not NFC, and
//! overlong or undecodable keys are refused before any lookup.

use mayfly_attack::sign::{AuthPath, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, obj};

use crate::Fx;

const C: Class = Class::Encoding;

/// s3s decodes the path after the guard has refused SigV2.
fn undecodable(p: AuthPath) -> Expect {
    if p == AuthPath::SigV2 {
        Expect::INVALID_REQUEST
    } else {
        Expect::err(400, "InvalidURI")
    }
}

fn path(p: &str) -> Request {
    Request::new("GET", p.to_owned())
}

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    let m = format!("/{MAIN}");
    // %2F decodes to '/', once.
    w.case(
        C,
        "user-1%2Fdoc is user-1/doc",
        &s,
        path(&format!("{m}/user-1%2Fdoc")),
        Expect::OK,
    );
    w.case(
        C,
        "user-10%2FHIDDEN",
        &s,
        path(&format!("{m}/user-10%2FHIDDEN")),
        Expect::DENIED,
    );
    w.case(
        C,
        "%75ser-10/HIDDEN (encoded unreserved)",
        &s,
        path(&format!("{m}/%75ser-10/HIDDEN")),
        Expect::DENIED,
    );
    w.case(
        C,
        "%55ser-1/HIDDEN is U, not u",
        &s,
        path(&format!("{m}/%55ser-1/HIDDEN")),
        Expect::DENIED,
    );
    // Double encoding stays literal after one decode.
    w.case(
        C,
        "user-1%252F.. (double-encoded slash)",
        &s,
        path(&format!("{m}/user-1%252F..%252Fuser-10%252FHIDDEN")),
        Expect::DENIED,
    );
    w.case(
        C,
        "user-1/%252e%252e/ is a literal in-scope key",
        &s,
        path(&format!("{m}/user-1/%252e%252e/user-10/HIDDEN")),
        Expect::err(404, "NoSuchKey"),
    );
    w.case(
        C,
        "%2575ser-1/doc",
        &s,
        path(&format!("{m}/%2575ser-1/doc")),
        Expect::DENIED,
    );
    // '+' is a literal plus in a path; %20 is the space.
    w.case(
        C,
        "sp+ace/HIDDEN is not 'sp ace/'",
        &s,
        path(&format!("{m}/sp+ace/HIDDEN")),
        Expect::DENIED,
    );
    w.case(
        C,
        "sp%2Bace/HIDDEN",
        &s,
        path(&format!("{m}/sp%2Bace/HIDDEN")),
        Expect::DENIED,
    );
    w.case(
        C,
        "sp%20ace/doc in scope",
        &s,
        path(&format!("{m}/sp%20ace/doc")),
        Expect::OK,
    );
    w.case(
        C,
        "sp%2520ace/HIDDEN",
        &s,
        path(&format!("{m}/sp%2520ace/HIDDEN")),
        Expect::DENIED,
    );
    // Unicode: bytes, not characters; no normalisation.
    w.case(
        C,
        "café/doc NFC in scope",
        &s,
        Request::new("GET", obj(MAIN, "café/doc")),
        Expect::OK,
    );
    w.case(
        C,
        "cafe+U+0301/ NFD",
        &s,
        Request::new("GET", obj(MAIN, "cafe\u{301}/HIDDEN")),
        Expect::DENIED,
    );
    w.case(
        C,
        "CAFÉ/ upper",
        &s,
        Request::new("GET", obj(MAIN, "CAFÉ/doc")),
        Expect::DENIED,
    );
    w.case(
        C,
        "user-1／ fullwidth solidus",
        &s,
        Request::new("GET", obj(MAIN, "user-1\u{ff0f}doc")),
        Expect::DENIED,
    );
    w.case(
        C,
        "user\u{2010}1/ unicode hyphen",
        &s,
        Request::new("GET", obj(MAIN, "user\u{2010}1/doc")),
        Expect::DENIED,
    );
    w.case(
        C,
        "ᴜser-1/ small-cap",
        &s,
        Request::new("GET", obj(MAIN, "\u{1d1c}ser-1/doc")),
        Expect::DENIED,
    );
    w.case(
        C,
        "user-1/ + combining mark on the slash",
        &s,
        Request::new("GET", obj(MAIN, "user-1\u{338}/doc")),
        Expect::DENIED,
    );
    // Overlong keys: refused (or out of scope), never a 5xx.
    let long_in = format!("user-1/{}", "a".repeat(1100));
    let long_out = format!("user-10/{}", "a".repeat(1100));
    w.case(
        C,
        "1100-byte in-scope key PUT",
        &s,
        Request::new("PUT", obj(MAIN, &long_in)).body(b"x".to_vec()),
        Expect::err(400, "KeyTooLongError"),
    );
    // Length is checked before scope, so this says nothing about the key.
    w.case(
        C,
        "1100-byte out-of-scope key GET",
        &s,
        Request::new("GET", obj(MAIN, &long_out)),
        Expect::err(400, "KeyTooLongError"),
    );
    let huge = format!("user-1/{}", "b".repeat(9000));
    let o = w.opts();
    let uri_cap = Expect::err(400, "InvalidURI");
    w.case_on(
        C,
        "9000-byte key (URI cap)",
        &s,
        &Request::new("GET", obj(MAIN, &huge)),
        &AuthPath::ALL,
        &o,
        |_| uri_cap,
    );

    // Invalid UTF-8 after decoding, and raw non-ASCII bytes on the wire.
    let o = w.opts();
    let paths: Vec<AuthPath> = AuthPath::ALL.to_vec();
    for (name, wire) in [
        ("%FF%FE in key", format!("{m}/user-1/%FF%FE").into_bytes()),
        (
            "overlong UTF-8 %C0%AF for '/'",
            format!("{m}/user-1%C0%AFdoc").into_bytes(),
        ),
        (
            "lone surrogate %ED%A0%80",
            format!("{m}/user-1/%ED%A0%80").into_bytes(),
        ),
    ] {
        let mut req = Request::new("GET", String::from_utf8_lossy(&wire).into_owned());
        req.raw_path = Some(wire);
        w.case_on(C, name, &s, &req, &paths, &o, undecodable);
    }
    // A stray '%' is kept literally: an in-scope key that does not exist.
    w.case(
        C,
        "truncated escape %E",
        &s,
        path(&format!("{m}/user-1/%E")),
        Expect::err(404, "NoSuchKey"),
    );
    let mut raw = format!("{m}/user-1/").into_bytes();
    raw.extend_from_slice(&[0xff, 0xfe]);
    let mut req = Request::new("GET", format!("{m}/user-1/%FF%FE"));
    req.raw_path = Some(raw);
    w.case_on(
        C,
        "raw 0xFF bytes on the wire",
        &s,
        &req,
        &paths,
        &o,
        undecodable,
    );

    // Query encodings of the listing prefix: what the gate checks is what the store lists.
    let list = |p: &str| {
        Request::new("GET", m.clone())
            .q("list-type", "2")
            .q("prefix", p)
    };
    w.case(C, "list prefix user-1%2F", &s, list("user-1/"), Expect::OK);
    w.case(
        C,
        "list prefix 'sp ace/' (%20)",
        &s,
        list("sp ace/"),
        Expect::OK,
    );
    let mut plus_space = list("sp ace/");
    plus_space.wire_query = Some(vec!["list-type=2".into(), "prefix=sp+ace/".into()]);
    w.case(
        C,
        "list prefix=sp+ace/ signed as a space",
        &s,
        plus_space,
        Expect::OK,
    );
    let mut plus_lit = list("sp+ace/");
    plus_lit.wire_query = Some(vec!["list-type=2".into(), "prefix=sp+ace/".into()]);
    w.case(
        C,
        "list prefix=sp+ace/ signed as a plus",
        &s,
        plus_lit,
        Expect::BAD_SIG,
    );
    let mut dup = list("user-1/").q("prefix", "user-10/");
    dup.wire_query = Some(vec![
        "list-type=2".into(),
        "prefix=user-1/".into(),
        "%70refix=user-10/".into(),
    ]);
    w.case(
        C,
        "list prefix + %70refix duplicate (signed)",
        &s,
        dup,
        Expect::err(400, "InvalidRequest"),
    );
    let mut dup_rev = list("user-10/").q("prefix", "user-1/");
    dup_rev.wire_query = Some(vec![
        "list-type=2".into(),
        "%70refix=user-10/".into(),
        "prefix=user-1/".into(),
    ]);
    // s3s orders equal names by position, AWS by value: the signature fails first.
    w.case(
        C,
        "list %70refix first, prefix second (signed)",
        &s,
        dup_rev,
        Expect::BAD_SIG,
    );
    let mut unsigned_extra = list("user-1/");
    unsigned_extra.extra_raw_query = Some("%70refix=user-10/".into());
    w.case(
        C,
        "list with an unsigned extra %70refix",
        &s,
        unsigned_extra,
        Expect::BAD_SIG,
    );
    let dup2 = list("user-1/").q("prefix", "user-10/");
    w.case(
        C,
        "list prefix twice (signed)",
        &s,
        dup2,
        Expect::err(400, "InvalidArgument"),
    );
    let enc_name = Request::new("GET", m.clone())
        .q("list-type", "2")
        .q("Prefix", "user-10/");
    w.case(
        C,
        "list 'Prefix' (wrong case name) = no prefix",
        &s,
        enc_name,
        Expect::DENIED,
    );
}
