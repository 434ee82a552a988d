//! Class 7 (expiry), issue 12 weakness 4: a presigned URL may be dated up to 15 minutes ahead
//! (clock skew), so `X-Amz-Expires=604800` alone let it live past the 7-day maximum. The end
//! of validity, `X-Amz-Date + X-Amz-Expires`, must be at most 604800 s from now.

use mayfly_attack::sign::{AuthPath, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, now, obj};

use crate::Fx;

const C: Class = Class::Expiry;

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    let get = Request::new("GET", obj(MAIN, "user-1/doc"));
    let past_week = Expect::err(400, "AuthorizationQueryParametersError");
    for (name, ahead, expires, expect) in [
        (
            "dated 14 min ahead, X-Amz-Expires 604800",
            840i64,
            604_800u64,
            past_week,
        ),
        (
            "dated 5 min ahead, X-Amz-Expires 604800",
            300,
            604_800,
            past_week,
        ),
        (
            "dated 14 min ahead, X-Amz-Expires 604000",
            840,
            604_000,
            past_week,
        ),
        (
            "dated 14 min ahead, ends 6 days 23 h 45 min from now",
            840,
            604_800 - 900,
            Expect::OK,
        ),
        (
            "dated 1 h ago, X-Amz-Expires 604800",
            -3600,
            604_800,
            Expect::OK,
        ),
        ("dated now, X-Amz-Expires 604800", 0, 604_800, Expect::OK),
    ] {
        let mut o = w.opts();
        o.time = now().saturating_add_signed(ahead);
        o.expires = expires.to_string();
        w.case_on(
            C,
            &format!("presigned {name}"),
            &s,
            &get,
            &[AuthPath::Presigned],
            &o,
            |_| expect,
        );
    }
    // The same bound for a PUT URL: nothing is written by the refused one.
    let put = Request::new("PUT", obj(MAIN, "user-1/lifetime")).body(b"week".to_vec());
    let mut o = w.opts();
    o.time = now() + 840;
    o.expires = "604800".into();
    w.case_on(
        C,
        "presigned PUT dated 14 min ahead, X-Amz-Expires 604800",
        &s,
        &put,
        &[AuthPath::Presigned],
        &o,
        |_| past_week,
    );
    let admin = w.admin.clone();
    let o = w.opts();
    let r = w.send(
        &Request::new("HEAD", obj(MAIN, "user-1/lifetime")),
        &admin,
        AuthPath::Signed,
        &o,
    );
    w.tally.record_check(
        C,
        AuthPath::Presigned,
        "the refused week-plus PUT stored nothing",
        r.status == 404,
        &format!("HEAD answered {}", r.status),
    );
}
