//! Class 6: listings outside the scope. A path-scoped credential may list only with a `prefix`
//! that starts with one of its prefixes (SPEC §5); delimiters, start-after, markers and
//! continuation tokens must never surface a key outside that prefix.

use mayfly_attack::http::xml_field;
use mayfly_attack::sign::{AuthPath, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, OTHER, World};

use crate::Fx;

const C: Class = Class::Listing;

fn v2(bucket: &str) -> Request {
    Request::new("GET", format!("/{bucket}")).q("list-type", "2")
}

fn v1(bucket: &str) -> Request {
    Request::new("GET", format!("/{bucket}"))
}

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    // Refused prefixes.
    for p in [
        "",
        "user-1",
        "user-",
        "user-10/",
        "User-1/",
        "a/b",
        "a/",
        "exact.txt",
        "HIDDEN",
        "sp+ace/",
        "./user-1/",
        "/user-1/",
    ] {
        w.case(
            C,
            &format!("V2 prefix {p:?}"),
            &s,
            v2(MAIN).q("prefix", p),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("V1 prefix {p:?}"),
            &s,
            v1(MAIN).q("prefix", p),
            Expect::DENIED,
        );
    }
    w.case(C, "V2 no prefix", &s, v2(MAIN), Expect::DENIED);
    w.case(C, "V1 no prefix", &s, v1(MAIN), Expect::DENIED);
    w.case(
        C,
        "V2 other bucket, in-scope prefix",
        &s,
        v2(OTHER).q("prefix", "user-1/"),
        Expect::DENIED,
    );
    w.case(
        C,
        "ListBuckets",
        &s,
        Request::new("GET", "/"),
        Expect::DENIED,
    );
    w.case(
        C,
        "ListMultipartUploads no prefix",
        &s,
        v1(MAIN).q("uploads", ""),
        Expect::DENIED,
    );
    w.case(
        C,
        "ListMultipartUploads prefix user-10/",
        &s,
        v1(MAIN).q("uploads", "").q("prefix", "user-10/"),
        Expect::DENIED,
    );
    // Allowed prefixes, with every knob that moves the window: nothing HIDDEN may come back
    // (the tally checks every 2xx body of a scoped credential for the marker).
    let ok = Expect::OK;
    for (name, req) in [
        ("V2 prefix user-1/", v2(MAIN).q("prefix", "user-1/")),
        (
            "V2 prefix user-1/ delimiter /",
            v2(MAIN).q("prefix", "user-1/").q("delimiter", "/"),
        ),
        (
            "V2 prefix user-1/ delimiter -",
            v2(MAIN).q("prefix", "user-1/").q("delimiter", "-"),
        ),
        (
            "V2 prefix user-1/ delimiter empty",
            v2(MAIN).q("prefix", "user-1/").q("delimiter", ""),
        ),
        (
            "V2 prefix user-1/ delimiter '1'",
            v2(MAIN).q("prefix", "user-1/").q("delimiter", "1"),
        ),
        (
            "V2 prefix user-1/ start-after user-10/",
            v2(MAIN).q("prefix", "user-1/").q("start-after", "user-10/"),
        ),
        (
            "V2 prefix user-1/ start-after A",
            v2(MAIN).q("prefix", "user-1/").q("start-after", "A"),
        ),
        (
            "V2 prefix user-1/ start-after empty",
            v2(MAIN).q("prefix", "user-1/").q("start-after", ""),
        ),
        (
            "V2 prefix user-1/ max-keys 0",
            v2(MAIN).q("prefix", "user-1/").q("max-keys", "0"),
        ),
        (
            "V2 prefix dir/ fetch-owner",
            v2(MAIN).q("prefix", "dir/").q("fetch-owner", "true"),
        ),
        (
            "V2 prefix user-1/x (narrower)",
            v2(MAIN).q("prefix", "user-1/x"),
        ),
        (
            "V1 prefix user-1/ marker user-10/",
            v1(MAIN).q("prefix", "user-1/").q("marker", "user-10/"),
        ),
        (
            "V1 prefix user-1/ marker HIDDEN",
            v1(MAIN).q("prefix", "user-1/").q("marker", "HIDDEN"),
        ),
        (
            "V1 prefix user-1/ marker empty",
            v1(MAIN).q("prefix", "user-1/").q("marker", ""),
        ),
        (
            "V1 prefix user-1/ delimiter / max-keys 1",
            v1(MAIN)
                .q("prefix", "user-1/")
                .q("delimiter", "/")
                .q("max-keys", "1"),
        ),
        (
            "ListMultipartUploads prefix user-1/",
            v1(MAIN).q("uploads", "").q("prefix", "user-1/"),
        ),
        (
            "ListMultipartUploads prefix user-1/ key-marker A",
            v1(MAIN)
                .q("uploads", "")
                .q("prefix", "user-1/")
                .q("key-marker", "A"),
        ),
        (
            "ListMultipartUploads prefix user-1/ delimiter /",
            v1(MAIN)
                .q("uploads", "")
                .q("prefix", "user-1/")
                .q("delimiter", "/"),
        ),
    ] {
        w.case(C, name, &s, req, ok);
    }
    // Continuation tokens: a real one from an admin listing that points at out-of-scope keys,
    // then forged and garbage ones, all with an allowed prefix.
    let admin = w.admin.clone();
    let o = w.opts();
    let r = w.send(&v2(MAIN).q("max-keys", "1"), &admin, AuthPath::Signed, &o);
    let real = xml_field(&r.body, "NextContinuationToken").unwrap_or_default();
    let r = w.send(
        &v2(MAIN).q("prefix", "user-1/").q("max-keys", "1"),
        &s,
        AuthPath::Signed,
        &o,
    );
    let own = xml_field(&r.body, "NextContinuationToken").unwrap_or_default();
    let b64 = |t: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, t);
    let bad = Expect::err(400, "InvalidArgument");
    for (name, token, expect) in [
        ("own continuation token (control)", own.clone(), ok),
        ("admin's whole-bucket token", real.clone(), ok),
        ("garbage", "garbage".to_string(), bad),
        ("base64 of an out-of-scope key", b64("user-10/HIDDEN"), bad),
        ("base64 of a key before the prefix", b64("HIDDEN/"), bad),
        // A cursor is only a start position: listing stays inside the prefix.
        ("own token with a flipped char", flip_last(&own), ok),
        ("empty", String::new(), ok),
    ] {
        w.case(
            C,
            &format!("V2 continuation-token {name}"),
            &s,
            v2(MAIN)
                .q("prefix", "user-1/")
                .q("continuation-token", &token),
            expect,
        );
        w.case(
            C,
            &format!("V2 continuation-token {name} + start-after"),
            &s,
            v2(MAIN)
                .q("prefix", "user-1/")
                .q("continuation-token", &token)
                .q("start-after", "a"),
            expect,
        );
    }
    // Whole-bucket credential: listing is fine, the other bucket is not.
    let whole = fx.whole.clone();
    w.case(
        C,
        "whole-bucket cred lists its bucket (control)",
        &whole,
        v2(MAIN),
        Expect::OK,
    );
    w.case(
        C,
        "whole-bucket cred lists the other bucket",
        &whole,
        v2(OTHER),
        Expect::DENIED,
    );
    // Object-only scope: no listing at all.
    let admin = w.admin.clone();
    let mut c = w.claims(&admin, MAIN, "object-read-only");
    c.objects = Some(vec!["user-1/doc".into()]);
    let obj_only = w.mint(&c, &admin.secret);
    w.case(
        C,
        "object-only scope lists with the object as prefix",
        &obj_only,
        v2(MAIN).q("prefix", "user-1/doc"),
        Expect::DENIED,
    );
    w.case(
        C,
        "object-only scope lists nothing",
        &obj_only,
        v2(MAIN),
        Expect::DENIED,
    );
    // actions narrowing denies listing.
    let mut c = w.claims(&admin, MAIN, "object-read-only");
    c.actions = Some(vec!["GetObject".into(), "HeadObject".into()]);
    let get_only = w.mint(&c, &admin.secret);
    w.case(
        C,
        "actions Get+Head cannot ListObjectsV2",
        &get_only,
        v2(MAIN),
        Expect::DENIED,
    );
    w.case(
        C,
        "actions Get+Head cannot ListObjects",
        &get_only,
        v1(MAIN),
        Expect::DENIED,
    );
}

fn flip_last(s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if let Some(l) = c.iter_mut().rev().find(|c| c.is_ascii_alphanumeric()) {
        *l = if *l == 'A' { 'B' } else { 'A' };
    }
    c.into_iter().collect()
}
