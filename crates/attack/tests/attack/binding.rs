//! Class 9: a token for another bucket, another account, or another endpoint (`aud`), and the
//! `Host` header variants that could move a request to another bucket.

use mayfly_attack::http::send;
use mayfly_attack::sign::{AuthPath, Request, sign};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, OTHER, World, obj};

use crate::Fx;

const C: Class = Class::Binding;

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let admin = w.admin.clone();
    let s = fx.scoped.clone();
    let get_main = Request::new("GET", obj(MAIN, "user-1/doc"));
    let get_other = Request::new("GET", obj(OTHER, "user-1/HIDDEN"));
    w.case(
        C,
        "MAIN token on OTHER bucket",
        &s,
        get_other.clone(),
        Expect::DENIED,
    );
    w.case(
        C,
        "MAIN token PUT on OTHER bucket",
        &s,
        Request::new("PUT", obj(OTHER, "user-1/x")).body(b"x".to_vec()),
        Expect::DENIED,
    );
    w.case(
        C,
        "MAIN token HeadBucket OTHER",
        &s,
        Request::new("HEAD", format!("/{OTHER}")),
        Expect::DENIED,
    );
    w.case(
        C,
        "MAIN token on a missing bucket",
        &s,
        Request::new("GET", obj("atk-nope", "user-1/doc")),
        Expect::DENIED,
    );
    let mut c = w.claims(&admin, OTHER, "object-read-write");
    c.prefixes = Some(vec!["user-1/".into()]);
    let other = w.mint(&c, &admin.secret);
    w.case(
        C,
        "OTHER token on MAIN",
        &other,
        get_main.clone(),
        Expect::DENIED,
    );
    w.case(
        C,
        "OTHER token on OTHER (control)",
        &other,
        Request::new("GET", obj(OTHER, "user-1/HIDDEN-not")),
        Expect::err(404, "NoSuchKey"),
    );
    for (name, sub) in [
        ("sub: another account", "0123456789abcdef0123456789abcdef"),
        ("sub: all zeros", "00000000000000000000000000000000"),
    ] {
        let mut c = w.claims(&admin, MAIN, "object-read-write");
        c.sub = sub.to_owned();
        let cr = w.mint(&c, &admin.secret);
        w.case(C, name, &cr, get_main.clone(), Expect::DENIED);
    }
    for (name, sub) in [
        ("sub: malformed", "not-an-account".to_string()),
        ("sub: upper-case account", w.account.to_ascii_uppercase()),
    ] {
        let mut c = w.claims(&admin, MAIN, "object-read-write");
        c.sub = sub;
        let cr = w.mint(&c, &admin.secret);
        w.case(C, name, &cr, get_main.clone(), Expect::BAD_TOKEN);
    }
    let port = w.host.rsplit(':').next().unwrap_or_default().to_owned();
    let host = w.host.clone();
    for (name, aud, expect) in [
        ("aud: same host (control)", host.clone(), Expect::OK),
        (
            "aud: localhost:port (loopback alias)",
            format!("localhost:{port}"),
            Expect::OK,
        ),
        (
            "aud: LOCALHOST:port",
            format!("LOCALHOST:{port}"),
            Expect::OK,
        ),
        (
            "aud: another port",
            "127.0.0.1:1".to_string(),
            Expect::DENIED,
        ),
        (
            "aud: host without port",
            "127.0.0.1".to_string(),
            Expect::DENIED,
        ),
        (
            "aud: R2 endpoint",
            format!("{}.r2.cloudflarestorage.com", w.account),
            Expect::DENIED,
        ),
        ("aud: bucket.host", format!("{MAIN}.{host}"), Expect::DENIED),
        (
            "aud: host with trailing dot",
            format!("127.0.0.1.:{port}"),
            Expect::DENIED,
        ),
        ("aud: host + path", format!("{host}/"), Expect::BAD_TOKEN),
        ("aud: http URL", format!("http://{host}"), Expect::BAD_TOKEN),
    ] {
        let mut c = w.claims(&admin, MAIN, "object-read-only");
        c.aud = aud;
        let cr = w.mint(&c, &admin.secret);
        w.case(C, name, &cr, get_main.clone(), expect);
    }
    // Host header variants (signed, so only the server's interpretation is tested).
    let o = w.opts();
    for (name, h, path, expect) in [
        (
            "virtual-hosted MAIN (control)",
            format!("{MAIN}.{host}"),
            "/user-1/doc".to_string(),
            Expect::OK,
        ),
        (
            "virtual-hosted OTHER",
            format!("{OTHER}.{host}"),
            "/user-1/HIDDEN".to_string(),
            Expect::DENIED,
        ),
        (
            "virtual-hosted OTHER, MAIN in path",
            format!("{OTHER}.{host}"),
            format!("/{MAIN}/user-1/doc"),
            Expect::DENIED,
        ),
        (
            "virtual-hosted MAIN, OTHER in path",
            format!("{MAIN}.{host}"),
            format!("/{OTHER}/user-1/HIDDEN"),
            Expect::DENIED,
        ),
        (
            "unserved host",
            "evil.example.com".to_string(),
            obj(MAIN, "user-1/doc"),
            Expect::INVALID_REQUEST,
        ),
        (
            "MAIN under an unserved host",
            format!("{MAIN}.evil.example.com"),
            "/user-1/doc".to_string(),
            Expect::INVALID_REQUEST,
        ),
        (
            "host with userinfo",
            format!("x@{host}"),
            obj(MAIN, "user-1/doc"),
            Expect::INVALID_REQUEST,
        ),
        (
            "host without port",
            "127.0.0.1".to_string(),
            obj(MAIN, "user-1/doc"),
            Expect::INVALID_REQUEST,
        ),
    ] {
        for p in [
            AuthPath::Signed,
            AuthPath::Unsigned,
            AuthPath::Streaming,
            AuthPath::Presigned,
            AuthPath::SigV2,
        ] {
            let req = Request::new("GET", path.clone());
            let wire = sign(&req, &s, &h, p, &o);
            w.signatures.extend(wire.signatures.iter().cloned());
            let r = send(&w.host, &wire.bytes);
            let e = if p == AuthPath::SigV2 && expect != Expect::INVALID_REQUEST {
                Expect::INVALID_REQUEST
            } else {
                expect
            };
            w.check(C, p, &format!("Host {name}"), e, &r);
        }
    }
}
