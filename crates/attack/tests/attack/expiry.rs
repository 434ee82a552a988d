//! Class 7: expiry. A credential works until `exp` (exclusive), not at or after it; a future
//! `iat` beyond the leeway is refused; a presigned URL never outlives its token; presigned
//! `X-Amz-Expires` must be 1..=604800.

use mayfly_attack::http::send;
use mayfly_attack::sign::{AuthPath, Request, sign};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, now, obj};

use crate::Fx;

const C: Class = Class::Expiry;

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let admin = w.admin.clone();
    let get = Request::new("GET", obj(MAIN, "user-1/doc"));
    let at = |w: &World, iat: i64, exp: i64| {
        let mut c = w.claims(&admin, MAIN, "object-read-only");
        c.prefixes = Some(vec!["user-1/".into()]);
        c.iat = iat;
        c.exp = exp;
        c
    };
    let t = i64::try_from(now()).unwrap_or(0);
    // exp - 1 (and a little more, so the seven requests fit before exp).
    let c = at(w, t - 60, t + 30);
    let live = w.mint(&c, &admin.secret);
    w.case(
        C,
        "exp in 30 s (valid until exp)",
        &live,
        get.clone(),
        Expect::OK,
    );
    for (name, exp) in [
        ("exp == now", t),
        ("exp == now - 1", t - 1),
        ("exp long past", t - 86_400),
    ] {
        let c = at(w, exp - 900, exp);
        let cr = w.mint(&c, &admin.secret);
        w.case(C, name, &cr, get.clone(), Expect::EXPIRED);
    }
    for (name, iat, exp, expect) in [
        (
            "iat 30 s ahead (within leeway)",
            t + 30,
            t + 900,
            Expect::OK,
        ),
        ("iat 1 h ahead", t + 3600, t + 7200, Expect::DENIED),
        (
            "iat far future",
            t + 86_400 * 365,
            t + 86_400 * 366,
            Expect::DENIED,
        ),
        (
            "lifetime 604801 s",
            t - 10,
            t - 10 + 604_801,
            Expect::DENIED,
        ),
        ("exp == iat", t, t, Expect::DENIED),
        ("exp < iat", t, t - 100, Expect::DENIED),
    ] {
        let c = at(w, iat, exp);
        let cr = w.mint(&c, &admin.secret);
        w.case(C, name, &cr, get.clone(), expect);
    }
    let c = at(w, t - 10, t - 10 + 604_800);
    let week = w.mint(&c, &admin.secret);
    w.case(
        C,
        "lifetime exactly 604800 s",
        &week,
        get.clone(),
        Expect::OK,
    );

    // Presigned URLs: X-Amz-Expires bounds.
    let s = fx.scoped.clone();
    let qerr = Expect::err(400, "AuthorizationQueryParametersError");
    for (exp, expect) in [
        ("0", qerr),
        ("-1", qerr),
        ("604801", qerr),
        ("99999999999", qerr),
        ("1e3", qerr),
        (" 60", qerr),
        ("", qerr),
        ("1", Expect::OK),
        ("604800", Expect::OK),
    ] {
        let mut o = w.opts();
        o.expires = exp.into();
        w.case_on(
            C,
            &format!("X-Amz-Expires {exp:?}"),
            &s,
            &get,
            &[AuthPath::Presigned],
            &o,
            |_| expect,
        );
    }
    // A URL signed two hours ago for one hour has expired.
    let mut o = w.opts();
    o.time = now() - 7200;
    w.case_on(
        C,
        "presigned 2 h ago for 1 h",
        &s,
        &get,
        &[AuthPath::Presigned],
        &o,
        |_| Expect::DENIED,
    );
    // A URL valid for a week outlives a token that dies in 3 s: the URL dies with the token.
    // A fresh clock: the cases above may take seconds (a cluster adds a balancer and a
    // database round trip to each).
    let t = i64::try_from(now()).unwrap_or(0);
    let c = at(w, t - 60, t + 3);
    let short = w.mint(&c, &admin.secret);
    let mut o = w.opts();
    o.expires = "604800".into();
    let wire = sign(&get, &short, &w.host, AuthPath::Presigned, &o);
    w.signatures.extend(wire.signatures.iter().cloned());
    let r = send(&w.host, &wire.bytes);
    w.check(
        C,
        AuthPath::Presigned,
        "week-long URL, token alive",
        Expect::OK,
        &r,
    );
    // Header-signed with the same token, signed now, sent after exp.
    let o = w.opts();
    let late = sign(&get, &short, &w.host, AuthPath::Signed, &o);
    w.signatures.extend(late.signatures.iter().cloned());
    while now() < u64::try_from(t + 4).unwrap_or(0) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let r = send(&w.host, &wire.bytes);
    w.check(
        C,
        AuthPath::Presigned,
        "week-long URL after the token's exp",
        Expect::EXPIRED,
        &r,
    );
    let r = send(&w.host, &late.bytes);
    w.check(
        C,
        AuthPath::Signed,
        "request signed before exp, sent after",
        Expect::EXPIRED,
        &r,
    );
}
