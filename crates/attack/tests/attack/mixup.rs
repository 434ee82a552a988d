//! Class 11: credential mix-ups. A token with a long-lived key's secret, a temporary key
//! without its token, token A with secret B, the token only in the query of a header-signed
//! request, unsigned `x-amz-*` headers, and broken chunk/trailer signatures.

use mayfly_attack::sign::{AuthPath, Creds, Request, TokenPlace, presign_v2};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, now, obj};

use crate::Fx;

const C: Class = Class::MixUp;

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let admin = w.admin.clone();
    let s = fx.scoped.clone();
    let get_in = Request::new("GET", obj(MAIN, "user-1/doc"));
    let put_in = Request::new("PUT", obj(MAIN, "user-1/mix"))
        .body(b"mix-up body bytes, long enough to chunk".to_vec());
    let mix = |secret: &str, token: Option<&String>| Creds {
        access_key: admin.access_key.clone(),
        secret: secret.to_owned(),
        token: token.cloned(),
    };
    w.case(
        C,
        "token + long-lived key's secret",
        &mix(&admin.secret, s.token.as_ref()),
        get_in.clone(),
        Expect::BAD_SIG,
    );
    w.case(
        C,
        "temporary secret without its token",
        &mix(&s.secret, None),
        get_in.clone(),
        Expect::BAD_SIG,
    );
    w.case(
        C,
        "token A + secret B",
        &mix(&fx.whole.secret, s.token.as_ref()),
        get_in.clone(),
        Expect::BAD_SIG,
    );
    w.case(
        C,
        "PUT: token A + secret B",
        &mix(&fx.whole.secret, s.token.as_ref()),
        put_in.clone(),
        Expect::BAD_SIG,
    );
    let (other, _) = w.create_token("object-read-write", &[]);
    let wrong_key = Creds {
        access_key: other.creds.access_key.clone(),
        ..s.clone()
    };
    w.case(
        C,
        "token under another access key id (iss mismatch)",
        &wrong_key,
        get_in.clone(),
        Expect::DENIED,
    );
    let unknown = Creds {
        access_key: "0123456789abcdef0123456789abcdef".into(),
        ..s.clone()
    };
    w.case(
        C,
        "token under an unknown access key id",
        &unknown,
        get_in.clone(),
        Expect::UNAUTHORIZED,
    );
    let unknown_plain = Creds {
        access_key: "fedcba9876543210fedcba9876543210".into(),
        secret: admin.secret.clone(),
        token: None,
    };
    w.case(
        C,
        "unknown access key",
        &unknown_plain,
        get_in.clone(),
        Expect::UNAUTHORIZED,
    );
    let malformed_key = Creds {
        access_key: "AKIA/../x".into(),
        secret: admin.secret.clone(),
        token: None,
    };
    w.case(
        C,
        "malformed access key id",
        &malformed_key,
        get_in.clone(),
        Expect::INVALID_REQUEST,
    );

    // Token placement.
    let header_paths: Vec<AuthPath> = AuthPath::ALL
        .into_iter()
        .filter(|p| *p != AuthPath::Presigned)
        .collect();
    let mut o = w.opts();
    o.token_place = TokenPlace::Query;
    // The query is part of the canonical request: a signed query token is as good as a header.
    w.case_on(
        C,
        "token only in the signed query (in scope)",
        &s,
        &get_in,
        &header_paths,
        &o,
        |_| Expect::OK,
    );
    w.case_on(
        C,
        "token only in the signed query (out of scope)",
        &s,
        &Request::new("GET", obj(MAIN, "user-10/HIDDEN")),
        &header_paths,
        &o,
        |_| Expect::DENIED,
    );
    let mut o = w.opts();
    o.token_place = TokenPlace::Header;
    w.case_on(
        C,
        "presigned with the token in an unsigned header",
        &s,
        &get_in,
        &[AuthPath::Presigned],
        &o,
        |_| Expect::DENIED,
    );
    let mut o = w.opts();
    o.token_place = TokenPlace::Omit;
    o.unsigned_headers = vec![(
        "x-amz-security-token".into(),
        s.token.clone().unwrap_or_default(),
    )];
    w.case_on(
        C,
        "token header added after signing",
        &s,
        &get_in,
        &header_paths,
        &o,
        |_| Expect::DENIED,
    );
    let mut unsigned_q = get_in.clone();
    unsigned_q.extra_raw_query = Some(format!(
        "X-Amz-Security-Token={}",
        urlenc(s.token.as_deref().unwrap_or_default())
    ));
    let mut o = w.opts();
    o.token_place = TokenPlace::Omit;
    w.case_on(
        C,
        "token query param appended after signing",
        &s,
        &unsigned_q,
        &header_paths,
        &o,
        |_| Expect::BAD_SIG,
    );
    let mut o = w.opts();
    o.token_place = TokenPlace::Query;
    o.unsigned_headers = vec![(
        "x-amz-security-token".into(),
        s.token.clone().unwrap_or_default(),
    )];
    // The second copy cannot be signed by this signer: the unsigned-header rule refuses first.
    w.case_on(
        C,
        "token in both header and query",
        &s,
        &get_in,
        &header_paths,
        &o,
        |_| Expect::DENIED,
    );
    let mut o = w.opts();
    o.unsigned_headers = vec![(
        "x-amz-security-token".into(),
        s.token.clone().unwrap_or_default(),
    )];
    w.case_on(
        C,
        "token header twice",
        &s,
        &get_in,
        &header_paths,
        &o,
        |_| Expect::err(400, "InvalidArgument"),
    );

    // Unsigned x-amz-* headers that would change the meaning.
    for (name, h, v) in [
        (
            "x-amz-copy-source",
            "x-amz-copy-source",
            format!("{MAIN}/user-10/HIDDEN"),
        ),
        ("x-amz-meta-*", "x-amz-meta-evil", "1".to_string()),
        ("x-amz-acl", "x-amz-acl", "public-read".to_string()),
        (
            "x-amz-checksum-mode",
            "x-amz-checksum-mode",
            "ENABLED".to_string(),
        ),
        (
            "X-Amz-Date (second)",
            "X-Amz-Date",
            "20200101T000000Z".to_string(),
        ),
    ] {
        let mut o = w.opts();
        o.unsigned_headers = vec![(h.into(), v)];
        let paths: Vec<AuthPath> = AuthPath::ALL
            .into_iter()
            .filter(|p| *p != AuthPath::SigV2)
            .collect();
        // A second X-Amz-Date: the name is signed, and a signed header must be sent once.
        let expect = if h == "X-Amz-Date" {
            Expect::err(400, "InvalidArgument")
        } else {
            Expect::DENIED
        };
        w.case_on(
            C,
            &format!("unsigned {name}"),
            &s,
            &put_in,
            &paths,
            &o,
            move |p| {
                if h == "X-Amz-Date" && p == AuthPath::Presigned {
                    Expect::DENIED
                } else {
                    expect
                }
            },
        );
    }
    // Both auth mechanisms at once.
    let mut o = w.opts();
    o.unsigned_headers = vec![("authorization".into(), "AWS4-HMAC-SHA256 Credential=x/20250101/auto/s3/aws4_request, SignedHeaders=host, Signature=00".into())];
    w.case_on(
        C,
        "presigned + Authorization header",
        &s,
        &get_in,
        &[AuthPath::Presigned],
        &o,
        |_| Expect::BAD_TOKEN,
    );
    // Body and signature tampering in every payload mode.
    let mut o = w.opts();
    o.corrupt_sig = true;
    w.case_on(
        C,
        "request signature flipped",
        &s,
        &put_in,
        &AuthPath::ALL[..6],
        &o,
        |_| Expect::BAD_SIG,
    );
    let mut o = w.opts();
    o.swap_body = Some(b"MIX-UP BODY BYTES, LONG ENOUGH TO CHUNK".to_vec());
    w.case_on(
        C,
        "body swapped after signing (sha256)",
        &s,
        &put_in,
        &[AuthPath::Signed],
        &o,
        |_| Expect::err(400, "XAmzContentSHA256Mismatch"),
    );
    w.case_on(
        C,
        "body swapped after signing (chunks)",
        &s,
        &put_in,
        &[AuthPath::Streaming, AuthPath::SignedTrailer],
        &o,
        |_| Expect::BAD_SIG,
    );
    w.case_on(
        C,
        "body swapped after signing (crc trailer)",
        &s,
        &put_in,
        &[AuthPath::UnsignedTrailer],
        &o,
        |_| Expect::err(400, "BadDigest"),
    );
    let mut o = w.opts();
    o.corrupt_chunk_sig = true;
    w.case_on(
        C,
        "first chunk signature flipped",
        &s,
        &put_in,
        &[AuthPath::Streaming, AuthPath::SignedTrailer],
        &o,
        |_| Expect::BAD_SIG,
    );
    let mut o = w.opts();
    o.corrupt_trailer_sig = true;
    w.case_on(
        C,
        "trailer signature flipped",
        &s,
        &put_in,
        &[AuthPath::SignedTrailer],
        &o,
        |_| Expect::BAD_SIG,
    );
    // The object written by none of the tampered PUTs.
    let o = w.opts();
    let r = w.send(
        &Request::new("HEAD", obj(MAIN, "user-1/mix")),
        &admin,
        AuthPath::Signed,
        &o,
    );
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "no tampered PUT stored user-1/mix",
        r.status == 404,
        &format!("HEAD answered {}", r.status),
    );

    // SigV2 in its query form, with a temporary and with a long-lived key.
    for (name, creds) in [("temporary", &s), ("long-lived", &admin)] {
        let wire = presign_v2(&get_in, creds, &w.host, now() + 600);
        w.signatures.extend(wire.signatures.iter().cloned());
        let r = w.raw(&wire.bytes);
        w.check(
            C,
            AuthPath::SigV2,
            &format!("SigV2 presigned query ({name})"),
            Expect::INVALID_REQUEST,
            &r,
        );
    }
    // No auth at all.
    let r = w.raw(
        format!(
            "GET {} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            obj(MAIN, "user-1/doc"),
            w.host
        )
        .as_bytes(),
    );
    w.check(C, AuthPath::Signed, "anonymous GET", Expect::DENIED, &r);
}

fn urlenc(s: &str) -> String {
    mayfly_attack::sign::aws_encode(s.as_bytes(), true)
}
