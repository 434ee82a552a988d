//! Class 11 (mix-ups), issue 12: credentials from mixed sources. A request names one
//! credential in one place: header auth and presigned query parameters never together, the
//! session token in the header or the query (never both, even with equal values), each SigV4
//! query parameter once and in its exact spelling. Every mix is a clear 400, never a 2xx.

use mayfly_attack::sign::{AuthPath, Request, TokenPlace, sign};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, obj};

use crate::Fx;

const C: Class = Class::MixUp;

const TWO_MECHANISMS: Expect = Expect::err(400, "InvalidArgument");
const QUERY_ERR: Expect = Expect::err(400, "AuthorizationQueryParametersError");

fn enc(s: &str) -> String {
    mayfly_attack::sign::aws_encode(s.as_bytes(), true)
}

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    let other_token = fx.whole.token.clone().unwrap_or_default();
    let own_token = s.token.clone().unwrap_or_default();
    let get = Request::new("GET", obj(MAIN, "user-1/doc"));
    let header_paths: Vec<AuthPath> = AuthPath::ALL
        .into_iter()
        .filter(|p| !matches!(p, AuthPath::Presigned | AuthPath::SigV2))
        .collect();
    let (day, _) = mayfly_attack::sign::amz_dates(mayfly_attack::world::now());
    let credential = format!("{}/{day}/auto/s3/aws4_request", fx.whole.access_key);

    // Header auth plus presigned parameters, signed into the query or appended after.
    for param in ["X-Amz-Credential", "X-Amz-Algorithm", "X-Amz-Signature"] {
        let value = match param {
            "X-Amz-Credential" => credential.clone(),
            "X-Amz-Algorithm" => "AWS4-HMAC-SHA256".into(),
            _ => "0".repeat(64),
        };
        let o = w.opts();
        w.case_on(
            C,
            &format!("Authorization + signed {param} in the query"),
            &s,
            &get.clone().q(param, &value),
            &header_paths,
            &o,
            |_| TWO_MECHANISMS,
        );
        let mut r = get.clone();
        r.extra_raw_query = Some(format!("{param}={}", enc(&value)));
        w.case_on(
            C,
            &format!("Authorization + unsigned {param} appended"),
            &s,
            &r,
            &header_paths,
            &o,
            |_| TWO_MECHANISMS,
        );
    }
    // A presigned URL plus a valid Authorization of another credential for the same request.
    let o = w.opts();
    let other = sign(&get, &fx.whole, &w.host, AuthPath::Signed, &o);
    w.signatures.extend(other.signatures.iter().cloned());
    let text = String::from_utf8_lossy(&other.bytes).into_owned();
    let auth = text
        .split("\r\n")
        .find_map(|l| l.strip_prefix("authorization: "))
        .unwrap_or_default()
        .to_owned();
    let mut o = w.opts();
    o.unsigned_headers = vec![("authorization".into(), auth)];
    w.case_on(
        C,
        "presigned URL + a valid Authorization header",
        &s,
        &get,
        &[AuthPath::Presigned],
        &o,
        |_| TWO_MECHANISMS,
    );

    // The session token in both places, both signed: different values, then equal ones.
    for (name, value) in [
        ("different values", other_token.clone()),
        ("equal values", own_token.clone()),
    ] {
        let mut o = w.opts();
        o.token_place = TokenPlace::Query;
        w.case_on(
            C,
            &format!("token in signed header and signed query, {name}"),
            &s,
            &get.clone().h("x-amz-security-token", &value),
            &header_paths,
            &o,
            |_| TWO_MECHANISMS,
        );
        let o = w.opts();
        w.case_on(
            C,
            &format!("presigned token in query and signed header, {name}"),
            &s,
            &get.clone().h("x-amz-security-token", &value),
            &[AuthPath::Presigned],
            &o,
            |_| TWO_MECHANISMS,
        );
    }
    // A second, differently spelled token (or signature) that some reader might prefer.
    let o = w.opts();
    w.case_on(
        C,
        "header token + signed query x-amz-security-token (lowercase)",
        &s,
        &get.clone().q("x-amz-security-token", &other_token),
        &header_paths,
        &o,
        |_| QUERY_ERR,
    );
    for (name, extra) in [
        (
            "lowercase x-amz-security-token",
            format!("x-amz-security-token={}", enc(&other_token)),
        ),
        (
            "lowercase x-amz-credential",
            format!("x-amz-credential={}", enc(&credential)),
        ),
        (
            "a second X-Amz-Credential",
            format!("X-Amz-Credential={}", enc(&credential)),
        ),
        (
            "a second X-Amz-Security-Token",
            format!("X-Amz-Security-Token={}", enc(&other_token)),
        ),
        (
            "a second X-Amz-Signature",
            format!("X-Amz-Signature={}", "0".repeat(64)),
        ),
    ] {
        let mut r = get.clone();
        r.extra_raw_query = Some(extra);
        let o = w.opts();
        w.case_on(
            C,
            &format!("presigned + {name} appended"),
            &s,
            &r,
            &[AuthPath::Presigned],
            &o,
            |_| QUERY_ERR,
        );
    }
}
