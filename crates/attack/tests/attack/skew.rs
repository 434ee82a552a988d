//! Class 8: clock skew beyond 15 minutes and credential-scope mismatches (date, region,
//! service). A signature made for another date, region or service must not be accepted.

use mayfly_attack::sign::{AuthPath, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, now, obj};

use crate::Fx;

const C: Class = Class::Skew;

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    let get = Request::new("GET", obj(MAIN, "user-1/doc"));
    let header_paths: Vec<AuthPath> = AuthPath::ALL
        .into_iter()
        .filter(|p| *p != AuthPath::Presigned)
        .collect();
    let skewed = Expect::err(403, "RequestTimeTooSkewed");
    for (name, delta, expect) in [
        ("16 min behind", -960i64, skewed),
        ("16 min ahead", 960, skewed),
        ("1 day behind", -86_400, skewed),
        ("14 min behind", -840, Expect::OK),
        ("14 min ahead", 840, Expect::OK),
    ] {
        let mut o = w.opts();
        o.time = now().saturating_add_signed(delta);
        w.case_on(
            C,
            &format!("header-signed {name}"),
            &s,
            &get,
            &header_paths,
            &o,
            |_| expect,
        );
    }
    // Presigned: a date in the future beyond the skew is refused too.
    for (name, delta, expect) in [
        ("presigned 16 min ahead", 960i64, skewed),
        ("presigned 1 day ahead", 86_400, skewed),
        ("presigned 14 min ahead", 840, Expect::OK),
    ] {
        let mut o = w.opts();
        o.time = now().saturating_add_signed(delta);
        w.case_on(C, name, &s, &get, &[AuthPath::Presigned], &o, |_| expect);
    }
    let sigv4 = |p: AuthPath| p != AuthPath::SigV2;
    let paths: Vec<AuthPath> = AuthPath::ALL.into_iter().filter(|p| sigv4(*p)).collect();
    let bad_scope = Expect::err(400, "AuthorizationHeaderMalformed");
    let scope_expect = |p: AuthPath| {
        if p == AuthPath::Presigned {
            Expect::err(400, "AuthorizationQueryParametersError")
        } else {
            bad_scope
        }
    };
    let (yesterday, _) = mayfly_attack::sign::amz_dates(now() - 86_400);
    let (tomorrow, _) = mayfly_attack::sign::amz_dates(now() + 86_400);
    // A scope date other than X-Amz-Date's day: s3s refuses it as a signature mismatch.
    for (name, date, expect) in [
        ("scope date yesterday", yesterday, Expect::BAD_SIG),
        ("scope date tomorrow", tomorrow, Expect::BAD_SIG),
        (
            "scope date garbage",
            "2025-01-01".into(),
            Expect::INVALID_REQUEST,
        ),
    ] {
        let mut o = w.opts();
        o.scope_date = Some(date);
        w.case_on(C, name, &s, &get, &paths, &o, |_| expect);
    }
    for (name, region, expect) in [
        ("region auto", "auto", None),
        ("region us-east-1", "us-east-1", None),
        ("region empty", "", None),
        ("region eu-west-1", "eu-west-1", Some(())),
        ("region AUTO", "AUTO", Some(())),
    ] {
        let mut o = w.opts();
        o.region = region.into();
        w.case_on(C, name, &s, &get, &paths, &o, |p| {
            if expect.is_some() {
                scope_expect(p)
            } else {
                Expect::OK
            }
        });
    }
    for service in ["iam", "S3", "s3-object-lambda", "sts", ""] {
        let mut o = w.opts();
        o.service = service.into();
        w.case_on(
            C,
            &format!("service {service:?}"),
            &s,
            &get,
            &paths,
            &o,
            scope_expect,
        );
    }
}
