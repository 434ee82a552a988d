//! Class 10: token tampering. Only a JWT whose HS256 signature over the received bytes checks
//! out under the parent's secret is accepted; every other header, encoding or shape is refused.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use mayfly_attack::sign::{AuthPath, Creds, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::token::{HS256_HEADER, creds, jwt, sign_input, wrap};
use mayfly_attack::world::{MAIN, World, obj};

use crate::Fx;

const C: Class = Class::Tamper;

/// hyper refuses a header section over its limit before Mayfly sees the request: 431, no body.
const HYPER_431: Expect = Expect {
    status: 431,
    code: None,
};

fn with_token(access_key: &str, jwt_text: &str, token: String) -> Creds {
    let mut c = creds(access_key, jwt_text);
    c.token = Some(token);
    c
}

pub(crate) fn run(w: &mut World, _fx: &Fx) {
    let admin = w.admin.clone();
    let key = admin.access_key.clone();
    let mut claims = w.claims(&admin, MAIN, "object-read-only");
    claims.prefixes = Some(vec!["user-1/".into()]);
    // Pick an iat whose token exercises both alphabets: '-' or '_' in the JWT, '+' or '/' in
    // the base64 wrapper, so the alphabet-confusion cases below are real.
    let base_iat = claims.iat;
    let mut good = jwt(HS256_HEADER, &claims.json(), &admin.secret);
    for i in 0..500 {
        claims.iat = base_iat - i;
        good = jwt(HS256_HEADER, &claims.json(), &admin.secret);
        let w = wrap(&good);
        if good.contains(['-', '_']) && w.contains(['+', '/']) {
            break;
        }
    }
    let get_in = Request::new("GET", obj(MAIN, "user-1/doc"));
    let get_out = Request::new("GET", obj(MAIN, "user-10/HIDDEN"));
    let control = creds(&key, &good);
    w.case(
        C,
        "untampered token (control)",
        &control,
        get_in.clone(),
        Expect::OK,
    );

    // Payload edits keeping the old signature: widen the scope, switch bucket, extend exp.
    let sig = good.rsplit('.').next().unwrap_or_default().to_owned();
    let h64 = URL_SAFE_NO_PAD.encode(HS256_HEADER);
    for (name, edit) in [
        (
            "paths removed",
            claims.json().replace(
                r#""paths":{"prefixPaths":["user-1/"],"objectPaths":[]},"#,
                "",
            ),
        ),
        (
            "prefix widened to user-",
            claims.json().replace(r#""user-1/""#, r#""user-""#),
        ),
        (
            "scope upgraded",
            claims
                .json()
                .replace("object-read-only", "admin-read-write"),
        ),
        (
            "exp extended",
            claims.json().replace(
                &format!("\"exp\":{}", claims.exp),
                &format!("\"exp\":{}", claims.exp + 999_999),
            ),
        ),
    ] {
        let t = format!("{h64}.{}.{sig}", URL_SAFE_NO_PAD.encode(&edit));
        w.case(
            C,
            &format!("payload edit: {name}"),
            &creds(&key, &t),
            get_out.clone(),
            Expect::DENIED,
        );
    }
    // Headers: only HS256 (with typ JWT or none), no extra members.
    for (name, header, signature_key) in [
        ("alg none", r#"{"alg":"none","typ":"JWT"}"#, None),
        ("alg None", r#"{"alg":"None"}"#, None),
        (
            "alg HS512",
            r#"{"alg":"HS512","typ":"JWT"}"#,
            Some(admin.secret.clone()),
        ),
        (
            "alg RS256",
            r#"{"alg":"RS256","typ":"JWT"}"#,
            Some(admin.secret.clone()),
        ),
        (
            "alg hs256 (case)",
            r#"{"alg":"hs256","typ":"JWT"}"#,
            Some(admin.secret.clone()),
        ),
        (
            "kid header",
            r#"{"alg":"HS256","typ":"JWT","kid":"other"}"#,
            Some(admin.secret.clone()),
        ),
        (
            "jku header",
            r#"{"alg":"HS256","typ":"JWT","jku":"http://evil/keys"}"#,
            Some(admin.secret.clone()),
        ),
        (
            "crit header",
            r#"{"alg":"HS256","crit":["exp"]}"#,
            Some(admin.secret.clone()),
        ),
        (
            "duplicate alg",
            r#"{"alg":"none","alg":"HS256"}"#,
            Some(admin.secret.clone()),
        ),
        (
            "typ JWE",
            r#"{"alg":"HS256","typ":"JWE"}"#,
            Some(admin.secret.clone()),
        ),
        ("header array", r#"["HS256"]"#, Some(admin.secret.clone())),
    ] {
        let t = match signature_key {
            Some(k) => jwt(header, &claims.json(), &k),
            None => format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims.json())
            ),
        };
        w.case(
            C,
            &format!("header: {name}"),
            &creds(&key, &t),
            get_in.clone(),
            Expect::BAD_TOKEN,
        );
    }
    let t = jwt(
        r#"{"typ":"JWT","alg":"HS256"}"#,
        &claims.json(),
        &admin.secret,
    );
    w.case(
        C,
        "header: members reordered (same meaning)",
        &creds(&key, &t),
        get_in.clone(),
        Expect::OK,
    );
    let t = jwt(r#"{"alg":"HS256"}"#, &claims.json(), &admin.secret);
    w.case(
        C,
        "header: no typ",
        &creds(&key, &t),
        get_in.clone(),
        Expect::OK,
    );
    // Claim shapes, all properly signed by the parent.
    let j = claims.json();
    for (name, payload) in [
        (
            "duplicate bucket",
            j.replacen(
                r#""bucket":"atk-main""#,
                r#""bucket":"atk-main","bucket":"atk-other""#,
                1,
            ),
        ),
        (
            "duplicate bucket, same value",
            j.replacen(
                r#""bucket":"atk-main""#,
                r#""bucket":"atk-main","bucket":"atk-main""#,
                1,
            ),
        ),
        (
            "duplicate exp",
            j.replacen(r#""exp":"#, r#""exp":1,"exp":"#, 1),
        ),
        (
            "duplicate scope",
            j.replacen(
                r#""scope":"object-read-only","#,
                r#""scope":"object-read-only","scope":"admin-read-write","#,
                1,
            ),
        ),
        (
            "duplicate paths",
            j.replacen(
                r#""paths":"#,
                r#""paths":{"prefixPaths":[""],"objectPaths":[]},"paths":"#,
                1,
            ),
        ),
        ("unknown claim", j.replacen('{', r#"{"admin":true,"#, 1)),
        (
            "exp as string",
            j.replace(
                &format!("\"exp\":{}", claims.exp),
                &format!("\"exp\":\"{}\"", claims.exp),
            ),
        ),
        (
            "exp as float",
            j.replace(
                &format!("\"exp\":{}", claims.exp),
                &format!("\"exp\":{}.5", claims.exp),
            ),
        ),
        (
            "iat negative",
            j.replace(&format!("\"iat\":{}", claims.iat), "\"iat\":-1"),
        ),
        (
            "bucket null",
            j.replace(r#""bucket":"atk-main""#, r#""bucket":null"#),
        ),
        (
            "scope unknown",
            j.replace("object-read-only", "super-admin"),
        ),
        (
            "actions unknown",
            j.replacen(
                r#""sub""#,
                r#""actions":["GetObject","Everything"],"sub""#,
                1,
            ),
        ),
        ("leading whitespace", format!(" {j}")),
        ("trailing whitespace", format!("{j} ")),
        ("two objects", format!("{j}{j}")),
        ("nested in array", format!("[{j}]")),
        ("BOM", format!("\u{feff}{j}")),
        ("not JSON", "hello".into()),
        ("empty object", "{}".into()),
    ] {
        let t = jwt(HS256_HEADER, &payload, &admin.secret);
        w.case(
            C,
            &format!("claims: {name}"),
            &creds(&key, &t),
            get_in.clone(),
            Expect::BAD_TOKEN,
        );
    }
    let mut shaped = claims.clone();
    shaped.prefixes = Some((0..257).map(|i| format!("p{i}/")).collect());
    let t = jwt(HS256_HEADER, &shaped.json(), &admin.secret);
    w.case(
        C,
        "claims: 257 prefixes (over the limit)",
        &creds(&key, &t),
        get_in.clone(),
        Expect::BAD_TOKEN,
    );
    // Encodings of the wrapper and the segments.
    let wrapped = wrap(&good);
    let inner = format!("jwt/{good}");
    let padded_sig = {
        let (input, s) = good.rsplit_once('.').unwrap_or_default();
        format!(
            "{input}.{}",
            URL_SAFE.encode(URL_SAFE_NO_PAD.decode(s).unwrap_or_default())
        )
    };
    let bad = Expect::BAD_TOKEN;
    for (name, token) in [
        ("no padding", STANDARD_NO_PAD.encode(&inner)),
        ("extra padding", format!("{wrapped}==")),
        (
            "whitespace inside",
            format!("{} {}", &wrapped[..8], &wrapped[8..]),
        ),
        ("missing jwt/ prefix", STANDARD.encode(&good)),
        ("JWT/ prefix", STANDARD.encode(format!("JWT/{good}"))),
        ("jwt: prefix", STANDARD.encode(format!("jwt:{good}"))),
        ("trailing dot", STANDARD.encode(format!("{inner}."))),
        ("trailing bytes", STANDARD.encode(format!("{inner}AAAA"))),
        ("trailing NUL", STANDARD.encode(format!("{inner}\0"))),
        ("fourth segment", STANDARD.encode(format!("{inner}.e30"))),
        (
            "padded signature segment",
            STANDARD.encode(format!("jwt/{padded_sig}")),
        ),
        ("bare JWT, not base64", good.clone()),
        ("empty", String::new()),
    ] {
        w.case(
            C,
            &format!("wrapper: {name}"),
            &with_token(&key, &good, token),
            get_in.clone(),
            bad,
        );
    }
    // The url-safe alphabet differs from the standard one only where '+' or '/' occur.
    let url = URL_SAFE.encode(&inner);
    let url_expect = if url == wrapped { Expect::OK } else { bad };
    w.case(
        C,
        "wrapper: url-safe alphabet",
        &with_token(&key, &good, url),
        get_in.clone(),
        url_expect,
    );
    let std_alpha = format!("jwt/{}", good.replace('-', "+").replace('_', "/"));
    let std_expect = if std_alpha == inner { Expect::OK } else { bad };
    w.case(
        C,
        "wrapper: std-alphabet JWT segments",
        &with_token(&key, &good, STANDARD.encode(&std_alpha)),
        get_in.clone(),
        std_expect,
    );
    // A raw LF in a header ends the header section early (hyper), so the request arrives
    // without its Authorization: anonymous, refused. In a presigned query it is %0A: malformed.
    let o = w.opts();
    let lf = with_token(&key, &good, format!("{wrapped}\n"));
    w.case_exact(C, "wrapper: trailing newline", &lf, &get_in, |p| {
        if p == AuthPath::Presigned {
            bad
        } else {
            Expect::DENIED
        }
    });
    // Past the guard's 16 KiB token cap: the header section (or the URI) is too large.
    let big = with_token(
        &key,
        &good,
        STANDARD.encode(format!("{inner}{}", "A".repeat(20 * 1024))),
    );
    w.case_on(
        C,
        "wrapper: 20 KiB token",
        &big,
        &get_in,
        &AuthPath::ALL,
        &o,
        |p| {
            if p == AuthPath::Presigned {
                Expect::err(400, "InvalidURI")
            } else {
                Expect::err(400, "RequestHeaderSectionTooLarge")
            }
        },
    );
    // Size attacks: 1 MB token, 100k prefixes (both properly signed).
    let big = STANDARD.encode(format!("{inner}{}", "A".repeat(1024 * 1024)));
    w.case_exact(
        C,
        "1 MB token",
        &with_token(&key, &good, big),
        &get_in,
        |_| HYPER_431,
    );
    let mut many = claims.clone();
    many.prefixes = Some((0..100_000).map(|i| format!("p{i}/")).collect());
    let t = jwt(HS256_HEADER, &many.json(), &admin.secret);
    w.case_exact(C, "100k prefixes", &creds(&key, &t), &get_in, |_| HYPER_431);
    let mut some = claims.clone();
    some.prefixes = Some(
        (0..255)
            .map(|i| format!("p{i}/"))
            .chain(["user-1/".to_string()])
            .collect(),
    );
    let t = jwt(HS256_HEADER, &some.json(), &admin.secret);
    w.case(
        C,
        "256 prefixes (the limit)",
        &creds(&key, &t),
        get_in.clone(),
        Expect::OK,
    );
    // Signature segment edits.
    let (input, _) = good.rsplit_once('.').unwrap_or_default();
    for (name, t) in [
        (
            "signature of another input",
            sign_input(&format!("{input}x"), &admin.secret).replace(&format!("{input}x"), input),
        ),
        (
            "signature zeroed",
            format!("{input}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
        ),
        (
            "signature truncated",
            format!("{input}.{}", URL_SAFE_NO_PAD.encode([1u8; 31])),
        ),
        (
            "signed with the temp secret",
            sign_input(input, &control.secret),
        ),
        (
            "signed with the hex-decoded parent secret",
            sign_input(input, &String::from_utf8_lossy(&decode_hex(&admin.secret))),
        ),
    ] {
        let e = if name == "signature truncated" {
            Expect::BAD_TOKEN
        } else {
            Expect::DENIED
        };
        w.case(
            C,
            &format!("signature: {name}"),
            &creds(&key, &t),
            get_in.clone(),
            e,
        );
    }
}

fn decode_hex(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .filter_map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok())
        .collect()
}
