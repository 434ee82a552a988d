//! Class 1: prefix and exact-object confusion. Prefixes match as plain byte prefixes and
//! object paths exactly (SPEC §5): `a/b` does not cover `a/bc` or `a/b/`, `user-1/` does not
//! cover `user-10/`, case matters, and NUL or control bytes are just bytes.

use mayfly_attack::sign::Request;
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, obj};

use crate::{Fx, IN_SCOPE};

const C: Class = Class::Prefix;

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    for k in IN_SCOPE {
        w.case(
            C,
            &format!("GET in-scope {k:?}"),
            &s,
            Request::new("GET", obj(MAIN, k)),
            Expect::OK,
        );
    }
    let denied = [
        "user-10/HIDDEN",
        "user-1HIDDEN",
        "user-1",
        "a/bcHIDDEN",
        "a/b/HIDDEN",
        "a/",
        "A/bHIDDEN",
        "User-1/HIDDEN",
        "USER-1/HIDDEN",
        "exact.txtHIDDEN",
        "exact.txt/",
        "exact.tx",
        "user-1\u{0}/HIDDEN",
        "\u{0}user-1/x",
        "a/b\u{0}",
        "a/b\n",
        "a/b\t",
        "a/b\r\n",
        "exact.txt\u{7f}",
        " user-1/x",
        "dir",
        "di",
        "HIDDEN/root",
    ];
    for k in denied {
        w.case(
            C,
            &format!("GET {k:?}"),
            &s,
            Request::new("GET", obj(MAIN, k)),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("HEAD {k:?}"),
            &s,
            Request::new("HEAD", obj(MAIN, k)),
            Expect::DENIED,
        );
    }
    for k in [
        "user-10/new",
        "a/bc",
        "a/b/c",
        "User-1/x",
        "exact.txt.bak",
        "user-1\u{1}/x",
    ] {
        let body = b"attacker bytes".to_vec();
        w.case(
            C,
            &format!("PUT {k:?}"),
            &s,
            Request::new("PUT", obj(MAIN, k)).body(body),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("DELETE {k:?}"),
            &s,
            Request::new("DELETE", obj(MAIN, k)),
            Expect::DENIED,
        );
    }
    // Controls: writes inside the scope work on every path.
    w.case(
        C,
        "PUT in-scope user-1/new",
        &s,
        Request::new("PUT", obj(MAIN, "user-1/new"))
            .body(b"hello chunked world, more than sixteen bytes".to_vec()),
        Expect::OK,
    );
    w.case(
        C,
        "PUT in-scope user-1/\\x01 (control byte inside a prefix)",
        &s,
        Request::new("PUT", obj(MAIN, "user-1/\u{1}")).body(b"x".to_vec()),
        Expect::OK,
    );
    w.case(
        C,
        "DELETE in-scope a/b missing is fine",
        &s,
        Request::new("DELETE", obj(MAIN, "user-1/never-existed")),
        Expect::NO_CONTENT,
    );
    // Read-only scope: reads yes, writes never.
    let ro = fx.scoped_ro.clone();
    w.case(
        C,
        "read-only GET in-scope",
        &ro,
        Request::new("GET", obj(MAIN, "user-1/doc")),
        Expect::OK,
    );
    w.case(
        C,
        "read-only PUT in-scope",
        &ro,
        Request::new("PUT", obj(MAIN, "user-1/ro")).body(b"x".to_vec()),
        Expect::DENIED,
    );
    w.case(
        C,
        "read-only DELETE in-scope",
        &ro,
        Request::new("DELETE", obj(MAIN, "user-1/doc")),
        Expect::DENIED,
    );
}
