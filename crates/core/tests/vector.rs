//! SPEC §2's test vector and Mayfly's own vectors, reproduced byte for byte.

use base64::Engine;
use mayfly_core::*;

pub(crate) const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub(crate) const PARENT_ID: &str = "0123456789abcdef0123456789abcdef";
pub(crate) const PARENT_VALUE: &str = "example-parent-api-token-value-0000000000";

pub(crate) fn jwt_of(token: &SessionToken) -> String {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token.expose_secret())
        .expect("standard base64");
    String::from_utf8(raw)
        .expect("utf-8")
        .strip_prefix("jwt/")
        .expect("jwt/ prefix")
        .to_owned()
}

pub(crate) fn payload_of(token: &SessionToken) -> String {
    let jwt = jwt_of(token);
    let payload = jwt.split('.').nth(1).expect("three segments");
    String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("utf-8")
}

#[test]
fn spec_vector_is_reproduced_exactly() {
    let secret = SecretAccessKey::from_token_value(PARENT_VALUE);
    assert_eq!(
        secret.expose_secret(),
        "185c3470580df7f25e8ff38cd591f6966c393160cd4d1c7f1a27e7850054aead"
    );
    let claims = Claims::builder(
        BucketName::parse("my-bucket").unwrap(),
        Permission::ObjectReadOnly,
        AccountId::parse(ACCOUNT).unwrap(),
        AccessKeyId::parse(PARENT_ID).unwrap(),
        "023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com",
    )
    .actions(vec![S3Action::GetObject, S3Action::HeadObject])
    .prefixes(vec!["data/".into()])
    .issued_at(1_750_000_000)
    .ttl_secs(900)
    .build()
    .unwrap();
    let creds = mint(&claims, &secret);

    assert_eq!(
        payload_of(&creds.session_token),
        r#"{"bucket":"my-bucket","scope":"object-read-only","actions":["GetObject","HeadObject"],"paths":{"prefixPaths":["data/"],"objectPaths":[]},"sub":"023e105f4ecef8ad9ca31a8372d0c353","iss":"0123456789abcdef0123456789abcdef","aud":"023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com","iat":1750000000,"exp":1750000900}"#
    );
    let jwt = jwt_of(&creds.session_token);
    assert!(jwt.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
    assert_eq!(
        jwt.rsplit('.').next().unwrap(),
        "haOtFwtg4UU5S5RhzFiqqYDkXF7LrE0H7QKRyQbgC0o"
    );
    assert_eq!(
        creds.secret_access_key.expose_secret(),
        "947cb3c34949b949560bbac48d7cc00251a20b0bd7ea91f6d9f21e526c41f22f"
    );
    assert_eq!(creds.session_token.expose_secret().len(), 684);
    assert!(creds.session_token.expose_secret().starts_with("and0L2V5"));
    assert_eq!(creds.access_key_id.as_str(), PARENT_ID);

    // The credential id (a Mayfly extension), computed independently with Python's hashlib:
    // sha256(b"mayfly credential id v1\0" + header.payload)[:16].hex()
    assert_eq!(creds.id.as_str(), "6276efc287ac9ee4a9110faad20fdf53");
    let parsed = parse_session_token(&creds.session_token).unwrap();
    assert_eq!(parsed.credential_id(), &creds.id);
}

fn claims_json(builder: ClaimsBuilder) -> (String, TemporaryCredentials) {
    let secret = SecretAccessKey::from_token_value(PARENT_VALUE);
    let claims = builder.build().unwrap();
    let creds = mint(&claims, &secret);
    (payload_of(&creds.session_token), creds)
}

fn base() -> ClaimsBuilder {
    Claims::builder(
        BucketName::parse("photos").unwrap(),
        Permission::ObjectReadWrite,
        AccountId::parse(ACCOUNT).unwrap(),
        AccessKeyId::parse(PARENT_ID).unwrap(),
        "127.0.0.1:8788",
    )
    .issued_at(1_800_000_000)
    .ttl_secs(3600)
}

#[test]
fn whole_bucket_token_carries_no_paths_or_actions() {
    let (json, _) = claims_json(base());
    assert_eq!(
        json,
        r#"{"bucket":"photos","scope":"object-read-write","sub":"023e105f4ecef8ad9ca31a8372d0c353","iss":"0123456789abcdef0123456789abcdef","aud":"127.0.0.1:8788","iat":1800000000,"exp":1800003600}"#
    );
}

#[test]
fn unicode_keys_are_raw_utf8_like_json_stringify() {
    // JSON.stringify writes non-ASCII as-is and escapes control characters as \u00xx (lower hex),
    // with the short forms for \b \f \n \r \t; '/' stays unescaped. serde_json matches it.
    let (json, creds) = claims_json(
        base()
            .prefixes(vec!["фото/".into(), "日本/".into(), "tab\there/".into()])
            .objects(vec![
                "emoji-😀.png".into(),
                "ctl-\u{1}.bin".into(),
                "q\"uote\\.txt".into(),
            ]),
    );
    assert_eq!(
        json,
        "{\"bucket\":\"photos\",\"scope\":\"object-read-write\",\"paths\":{\"prefixPaths\":[\"фото/\",\"日本/\",\"tab\\there/\"],\"objectPaths\":[\"emoji-😀.png\",\"ctl-\\u0001.bin\",\"q\\\"uote\\\\.txt\"]},\"sub\":\"023e105f4ecef8ad9ca31a8372d0c353\",\"iss\":\"0123456789abcdef0123456789abcdef\",\"aud\":\"127.0.0.1:8788\",\"iat\":1800000000,\"exp\":1800003600}"
    );
    // Pinned outputs: a change in serialisation breaks compatibility with real R2.
    assert_eq!(
        creds.secret_access_key.expose_secret(),
        mayfly_core::sha256_hex(jwt_of(&creds.session_token).as_bytes())
    );
}

#[test]
fn many_prefixes_actions_and_objects_together() {
    let prefixes: Vec<String> = (0..50).map(|i| format!("tenant-{i:03}/")).collect();
    let (json, creds) = claims_json(
        base()
            .prefixes(prefixes.clone())
            .objects(vec!["index.html".into()])
            .actions(vec![
                S3Action::PutObject,
                S3Action::GetObject,
                S3Action::ListObjectsV2,
            ]),
    );
    assert!(json.starts_with(
        r#"{"bucket":"photos","scope":"object-read-write","actions":["PutObject","GetObject","ListObjectsV2"],"paths":{"prefixPaths":["tenant-000/","#
    ));
    assert!(json.ends_with(
        r#""tenant-049/"],"objectPaths":["index.html"]},"sub":"023e105f4ecef8ad9ca31a8372d0c353","iss":"0123456789abcdef0123456789abcdef","aud":"127.0.0.1:8788","iat":1800000000,"exp":1800003600}"#
    ));
    let parsed = parse_session_token(&creds.session_token).unwrap();
    assert_eq!(
        parsed
            .dangerous_unverified_claims()
            .paths()
            .unwrap()
            .prefixes(),
        &prefixes[..]
    );
}
