//! Verification: every `TokenError` variant, strict decoding, claim order independence.

use crate::vector::{ACCOUNT, PARENT_ID, PARENT_VALUE, jwt_of};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::Mac;
use mayfly_core::*;

const AUD: &str = "127.0.0.1:8788";
const IAT: u64 = 1_800_000_000;

pub(crate) fn parent_secret() -> SecretAccessKey {
    SecretAccessKey::from_token_value(PARENT_VALUE)
}

/// Signs arbitrary header and payload bytes the way any HS256 minter would.
pub(crate) fn forge(header: &str, payload: &str, secret: &SecretAccessKey) -> SessionToken {
    let mut jwt = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("any key");
    mac.update(jwt.as_bytes());
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    SessionToken::from_untrusted(&STANDARD.encode(format!("jwt/{jwt}")))
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn payload(iat: u64, exp: u64) -> String {
    format!(
        r#"{{"bucket":"photos","scope":"object-read-write","sub":"{ACCOUNT}","iss":"{PARENT_ID}","aud":"{AUD}","iat":{iat},"exp":{exp}}}"#
    )
}

fn verify_at(token: &SessionToken, now: u64) -> Result<VerifiedToken, TokenError> {
    let key = AccessKeyId::parse(PARENT_ID).unwrap();
    let audiences = [AUD.to_owned()];
    let ctx = VerifyContext {
        access_key_id: &key,
        now,
        audiences: &audiences,
    };
    parse_session_token(token)?.verify(&parent_secret(), &ctx)
}

#[test]
fn a_valid_token_verifies_and_yields_sha256_of_the_jwt() {
    let t = forge(HEADER, &payload(IAT, IAT + 900), &parent_secret());
    let v = verify_at(&t, IAT + 1).unwrap();
    assert_eq!(
        v.secret_access_key().expose_secret(),
        sha256_hex(jwt_of(&t).as_bytes())
    );
    assert_eq!(v.claims().bucket().as_str(), "photos");
    assert_eq!(v.claims().paths(), None);
}

#[test]
fn another_claim_order_and_header_without_typ_verify() {
    let reordered = format!(
        r#"{{"exp":{},"iat":{IAT},"aud":"{AUD}","iss":"{PARENT_ID}","sub":"{ACCOUNT}","paths":{{"objectPaths":["a"],"prefixPaths":["p/"]}},"actions":["GetObject"],"scope":"object-read-only","bucket":"photos"}}"#,
        IAT + 60
    );
    for header in [
        HEADER,
        r#"{"typ":"JWT","alg":"HS256"}"#,
        r#"{"alg":"HS256"}"#,
    ] {
        let t = forge(header, &reordered, &parent_secret());
        let v = verify_at(&t, IAT).unwrap();
        assert_eq!(v.claims().actions(), &[S3Action::GetObject]);
        assert_eq!(v.claims().paths().unwrap().objects(), &["a".to_string()]);
    }
}

#[test]
fn expiry_is_exclusive_and_iat_leeway_is_bounded() {
    let t = forge(HEADER, &payload(IAT, IAT + 900), &parent_secret());
    assert!(verify_at(&t, IAT + 899).is_ok(), "exp - 1");
    assert_eq!(
        verify_at(&t, IAT + 900).unwrap_err(),
        TokenError::Expired,
        "exp"
    );
    assert_eq!(
        verify_at(&t, IAT + 901).unwrap_err(),
        TokenError::Expired,
        "exp + 1"
    );
    assert!(
        verify_at(&t, IAT - IAT_LEEWAY_SECS).is_ok(),
        "iat within leeway"
    );
    assert_eq!(
        verify_at(&t, IAT - IAT_LEEWAY_SECS - 1).unwrap_err(),
        TokenError::NotYetValid
    );
    assert!(TokenError::Expired.is_expired());
}

#[test]
fn lifetimes_beyond_seven_days_or_inverted_are_refused() {
    let long = forge(
        HEADER,
        &payload(IAT, IAT + MAX_TTL_SECS + 1),
        &parent_secret(),
    );
    assert_eq!(verify_at(&long, IAT).unwrap_err(), TokenError::BadLifetime);
    let max = forge(HEADER, &payload(IAT, IAT + MAX_TTL_SECS), &parent_secret());
    assert!(verify_at(&max, IAT).is_ok());
    let inverted = forge(HEADER, &payload(IAT, IAT), &parent_secret());
    assert_eq!(
        verify_at(&inverted, IAT).unwrap_err(),
        TokenError::BadLifetime
    );
}

#[test]
fn wrong_secret_issuer_and_audience_are_refused() {
    let other = SecretAccessKey::from_token_value("another-token-value");
    let t = forge(HEADER, &payload(IAT, IAT + 900), &other);
    let e = verify_at(&t, IAT).unwrap_err();
    assert_eq!(e, TokenError::BadSignature);
    assert!(e.is_signature());

    let t = forge(HEADER, &payload(IAT, IAT + 900), &parent_secret());
    let other_key = AccessKeyId::parse("ffffffffffffffffffffffffffffffff").unwrap();
    let audiences = [AUD.to_owned()];
    let ctx = VerifyContext {
        access_key_id: &other_key,
        now: IAT,
        audiences: &audiences,
    };
    let parsed = parse_session_token(&t).unwrap();
    assert_eq!(
        parsed.verify(&parent_secret(), &ctx).unwrap_err(),
        TokenError::IssuerMismatch
    );

    let key = AccessKeyId::parse(PARENT_ID).unwrap();
    let elsewhere = ["mayfly.example:443".to_owned()];
    let ctx = VerifyContext {
        access_key_id: &key,
        now: IAT,
        audiences: &elsewhere,
    };
    assert_eq!(
        parse_session_token(&t)
            .unwrap()
            .verify(&parent_secret(), &ctx)
            .unwrap_err(),
        TokenError::AudienceMismatch
    );
}

#[test]
fn headers_other_than_plain_hs256_are_refused() {
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"HS512","typ":"JWT"}"#,
        r#"{"alg":"RS256","typ":"JWT"}"#,
        r#"{"alg":"hs256"}"#,
        r#"{"alg":"HS256","typ":"JWS"}"#,
        r#"{"alg":"HS256","kid":"x"}"#,
        r#"{"alg":"HS256","jku":"http://evil/keys"}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256"} "#,
        r#"{"typ":"JWT"}"#,
        "[]",
    ] {
        let t = forge(header, &payload(IAT, IAT + 900), &parent_secret());
        assert_eq!(
            parse_session_token(&t).unwrap_err(),
            TokenError::UnsupportedHeader,
            "{header}"
        );
    }
}

#[test]
fn malformed_claims_are_refused_even_when_correctly_signed() {
    let good = payload(IAT, IAT + 900);
    let cases = [
        good.replacen(
            r#""bucket":"photos","#,
            r#""bucket":"photos","bucket":"other","#,
            1,
        ),
        good.replacen(r#""iat":"#, r#""iat":1,"iat":"#, 1),
        good.replacen(
            r#""bucket":"photos","#,
            r#""bucket":"photos","admin":true,"#,
            1,
        ),
        good.replacen(r#""bucket":"photos","#, "", 1),
        good.replacen(r#""scope":"object-read-write""#, r#""scope":"root""#, 1),
        good.replacen(r#""bucket":"photos""#, r#""bucket":"Photos""#, 1),
        good.replacen(
            r#""bucket":"photos","#,
            r#""bucket":"photos","actions":["GetObjects"],"#,
            1,
        ),
        good.replacen(
            r#""bucket":"photos","#,
            r#""bucket":"photos","paths":{"prefixPaths":["a"],"extra":[]},"#,
            1,
        ),
        good.replacen(&format!(r#""iat":{IAT}"#), r#""iat":1.8e9"#, 1),
        good.replacen(&format!(r#""iat":{IAT}"#), r#""iat":"1800000000""#, 1),
        good.replacen(&format!(r#""iat":{IAT}"#), r#""iat":-1"#, 1),
        good.replacen(&format!(r#""aud":"{AUD}""#), r#""aud":"""#, 1),
        good.replacen(&format!(r#""aud":"{AUD}""#), r#""aud":"a/b""#, 1),
        good.replacen(&format!(r#""sub":"{ACCOUNT}""#), r#""sub":"ACCOUNT""#, 1),
        format!("{good} "),
        format!(" {good}"),
        format!("{good}{{}}"),
        "{}".to_string(),
        "null".to_string(),
    ];
    for p in cases {
        let t = forge(HEADER, &p, &parent_secret());
        let e = parse_session_token(&t).unwrap_err();
        assert!(matches!(e, TokenError::Claims(_)), "{p}: {e:?}");
    }
}

#[test]
fn encodings_are_strict() {
    let t = forge(HEADER, &payload(IAT, IAT + 900), &parent_secret());
    let text = t.expose_secret();
    let jwt = jwt_of(&t);
    let wrap = |s: &str| SessionToken::from_untrusted(&STANDARD.encode(s));
    let cases: Vec<(&str, SessionToken)> = vec![
        (
            "no padding",
            SessionToken::from_untrusted(text.trim_end_matches('=')),
        ),
        (
            "url-safe alphabet",
            SessionToken::from_untrusted(&text.replace('+', "-").replace('/', "_")),
        ),
        (
            "trailing garbage",
            SessionToken::from_untrusted(&format!("{text}AAAA")),
        ),
        (
            "whitespace",
            SessionToken::from_untrusted(&format!(" {text}")),
        ),
        (
            "missing jwt/ prefix",
            SessionToken::from_untrusted(&STANDARD.encode(&jwt)),
        ),
        ("JWT/ prefix", wrap(&format!("JWT/{jwt}"))),
        ("four segments", wrap(&format!("jwt/{jwt}.x"))),
        (
            "two segments",
            wrap(&format!("jwt/{}", jwt.rsplit_once('.').unwrap().0)),
        ),
        ("padded segment", wrap(&format!("jwt/{jwt}="))),
        (
            "short signature",
            wrap(&format!("jwt/{}", &jwt[..jwt.len() - 2])),
        ),
        ("empty", SessionToken::from_untrusted("")),
        ("not base64", SessionToken::from_untrusted("!!!!")),
    ];
    for (name, token) in cases {
        if token.expose_secret() == text {
            continue; // this token's text happens to have nothing to mutate for the case
        }
        let e = parse_session_token(&token)
            .err()
            .unwrap_or_else(|| panic!("{name} parsed"));
        assert_eq!(e, TokenError::Malformed, "{name}");
    }
    let huge = SessionToken::from_untrusted(&"A".repeat(MAX_SESSION_TOKEN_LEN + 4));
    assert_eq!(
        parse_session_token(&huge).unwrap_err(),
        TokenError::TooLarge
    );
    let megabyte = SessionToken::from_untrusted(&"A".repeat(1 << 20));
    assert_eq!(
        parse_session_token(&megabyte).unwrap_err(),
        TokenError::TooLarge
    );
}

#[test]
fn too_many_paths_are_refused_at_parse() {
    let many: Vec<String> = (0..(MAX_PATHS + 1)).map(|i| format!("\"{i}/\"")).collect();
    let p = payload(IAT, IAT + 900).replacen(
        r#""bucket":"photos","#,
        &format!(
            r#""bucket":"photos","paths":{{"prefixPaths":[{}],"objectPaths":[]}},"#,
            many.join(",")
        ),
        1,
    );
    let t = forge(HEADER, &p, &parent_secret());
    assert!(matches!(
        parse_session_token(&t).unwrap_err(),
        TokenError::Claims(_)
    ));
}

#[test]
fn errors_never_display_token_material() {
    let t = forge(HEADER, &payload(IAT, IAT + 900), &parent_secret());
    let parsed = parse_session_token(&t).unwrap();
    let dbg = format!("{parsed:?}");
    assert!(!dbg.contains(&jwt_of(&t)[..20]), "{dbg}");
    let v = verify_at(&t, IAT).unwrap();
    let dbg = format!("{v:?}");
    assert!(!dbg.contains(v.secret_access_key().expose_secret()));
}
