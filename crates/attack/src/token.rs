//! Session tokens built by hand from SPEC §2 (not with mayfly-core), so that every byte can be
//! chosen: headers, claim order, duplicates, padding, trailing garbage.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use crate::sign::{Creds, hmac_hex, sha256_hex};

/// `{"alg":"HS256","typ":"JWT"}`.
pub const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// A claim set. Serialised with members in sorted order (claim order is not fixed, SPEC §2:
/// the HMAC covers the bytes received, whatever their order).
#[derive(Debug, Clone)]
pub struct Claims {
    /// `bucket`.
    pub bucket: String,
    /// `scope` (the permission).
    pub scope: String,
    /// `actions`, omitted when `None`.
    pub actions: Option<Vec<String>>,
    /// `paths.prefixPaths`; `paths` is omitted when both lists are `None`.
    pub prefixes: Option<Vec<String>>,
    /// `paths.objectPaths`.
    pub objects: Option<Vec<String>>,
    /// `sub` (account).
    pub sub: String,
    /// `iss` (parent access key id).
    pub iss: String,
    /// `aud` (S3 host).
    pub aud: String,
    /// `iat`.
    pub iat: i64,
    /// `exp`.
    pub exp: i64,
}

impl Claims {
    /// Compact JSON, members sorted.
    pub fn json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("bucket".into(), json!(self.bucket));
        m.insert("scope".into(), json!(self.scope));
        if let Some(a) = &self.actions {
            m.insert("actions".into(), json!(a));
        }
        if self.prefixes.is_some() || self.objects.is_some() {
            m.insert(
                "paths".into(),
                json!({
                    "prefixPaths": self.prefixes.clone().unwrap_or_default(),
                    "objectPaths": self.objects.clone().unwrap_or_default(),
                }),
            );
        }
        m.insert("sub".into(), json!(self.sub));
        m.insert("iss".into(), json!(self.iss));
        m.insert("aud".into(), json!(self.aud));
        m.insert("iat".into(), json!(self.iat));
        m.insert("exp".into(), json!(self.exp));
        serde_json::Value::Object(m).to_string()
    }
}

/// `b64url(header).b64url(payload).b64url(HMAC(parent secret hex, signing input))`.
pub fn jwt(header: &str, payload: &str, parent_secret: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    sign_input(&input, parent_secret)
}

/// Appends the HS256 signature of `input` under `parent_secret`.
pub fn sign_input(input: &str, parent_secret: &str) -> String {
    let mac = hex_to_bytes(&hmac_hex(parent_secret.as_bytes(), input.as_bytes()));
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
}

fn hex_to_bytes(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .filter_map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// `base64("jwt/" + jwt)`.
pub fn wrap(jwt: &str) -> String {
    STANDARD.encode(format!("jwt/{jwt}"))
}

/// The temporary credentials a JWT yields: parent key id, `sha256(jwt)`, wrapped token.
pub fn creds(access_key: &str, jwt: &str) -> Creds {
    Creds {
        access_key: access_key.to_owned(),
        secret: sha256_hex(jwt.as_bytes()),
        token: Some(wrap(jwt)),
    }
}

/// Mints `claims` under `parent_secret` as Cloudflare's helper does (member order aside).
pub fn mint(claims: &Claims, parent_secret: &str) -> Creds {
    creds(
        &claims.iss,
        &jwt(HS256_HEADER, &claims.json(), parent_secret),
    )
}
