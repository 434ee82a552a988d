//! Identifier and secret newtypes. Each type's constructor is the only place its invariant is
//! checked; every other module may rely on it.
//!
//! Secrets ([`SecretAccessKey`], [`SessionToken`]) are zeroized on drop, print as `<redacted>`
//! under `Debug`, have no `Display` or `Serialize`, and reveal their bytes only through an
//! explicit `expose_secret` call.

use crate::error::InvalidInput;
use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A Cloudflare account id. Invariant: exactly 32 lowercase hex characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Validates an untrusted account id.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        if s.len() != 32 || !is_lower_hex(s) {
            return Err(InvalidInput::new(
                "account_id",
                "must be 32 lowercase hex characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An S3 access key id: the id of an R2 API token, which is also the `iss` of every temporary
/// credential minted from it. Invariant: 1..=128 ASCII characters from `[A-Za-z0-9_-]`
/// (Cloudflare's are 32 lowercase hex; the wider set accepts other issuers' ids without
/// admitting separators that could confuse a SigV4 credential scope).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    /// Validates an untrusted access key id.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(InvalidInput::new(
                "accessKeyId",
                "must be 1 to 128 characters of A-Z, a-z, 0-9, '-' or '_'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessKeyId({})", self.0)
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An R2 bucket name. Invariant (Cloudflare's rule): 3..=63 characters of `[a-z0-9-]`, not
/// starting or ending with `-`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketName(String);

impl BucketName {
    /// Validates an untrusted bucket name.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        let len_ok = (3..=63).contains(&s.len());
        let chars_ok = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !len_ok || !chars_ok || s.starts_with('-') || s.ends_with('-') {
            return Err(InvalidInput::new(
                "bucket",
                "must be 3 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BucketName({})", self.0)
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An S3 secret access key as R2 defines it: the lowercase hex SHA-256 of a token value (for a
/// long-lived key) or of a JWT (for a temporary credential). Invariant: 64 lowercase hex chars.
///
/// Used as an HMAC key *as its 64 ASCII characters*, both for SigV4 and for signing session
/// tokens. Zeroized on drop; `Debug` is redacted; no `Display`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretAccessKey(String);

impl SecretAccessKey {
    /// Validates an untrusted secret.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        if s.len() != 64 || !is_lower_hex(s) {
            return Err(InvalidInput::new(
                "secretAccessKey",
                "must be 64 lowercase hex characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The secret R2 derives from an API token value: `hex(sha256(value))`.
    pub fn from_token_value(value: &str) -> Self {
        Self(crate::hex::sha256_hex(value.as_bytes()))
    }

    /// Builds from a string already known to be 64 lowercase hex chars.
    pub(crate) fn from_hex_unchecked(hex: String) -> Self {
        debug_assert!(hex.len() == 64 && is_lower_hex(&hex));
        Self(hex)
    }

    /// The secret's characters. Every caller is a signing or storage site; keep it that way.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Constant-time equality: secrets are compared where an attacker controls one side, so the
    /// comparison must not leak the length of the common prefix through timing.
    pub fn ct_eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretAccessKey(<redacted>)")
    }
}

/// A session token as sent in `X-Amz-Security-Token`: standard padded base64 of `jwt/` + a
/// compact JWT. Holding one is holding the temporary secret (it is derived from the JWT), so it
/// is treated as a secret: zeroized on drop, redacted under `Debug`, no `Display`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SessionToken(String);

impl SessionToken {
    pub(crate) fn new(s: String) -> Self {
        Self(s)
    }

    /// Wraps untrusted text; nothing is checked until [`crate::parse_session_token`].
    pub fn from_untrusted(s: &str) -> Self {
        Self(s.to_owned())
    }

    /// The token text, to put on the wire.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_requires_32_lower_hex() {
        assert!(AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").is_ok());
        assert!(AccountId::parse("023E105F4ECEF8AD9CA31A8372D0C353").is_err());
        assert!(AccountId::parse("023e105f4ecef8ad9ca31a8372d0c35").is_err());
        assert!(AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353a").is_err());
        assert!(AccountId::parse("").is_err());
    }

    #[test]
    fn bucket_names_follow_cloudflare_rules() {
        for ok in ["abc", "my-bucket", "a1-2b", &"a".repeat(63)] {
            assert!(BucketName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "ABC",
            "a_b",
            "a.b",
            "a b",
            &"a".repeat(64),
            "ünï",
        ] {
            assert!(BucketName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn access_key_ids_reject_separators() {
        assert!(AccessKeyId::parse("0123456789abcdef0123456789abcdef").is_ok());
        assert!(AccessKeyId::parse("example-access-key-id").is_ok());
        for bad in ["", "a/b", "a b", "a=b", "a\0", &"a".repeat(129)] {
            assert!(AccessKeyId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = SecretAccessKey::from_token_value("example-parent-api-token-value-0000000000");
        assert_eq!(format!("{s:?}"), "SecretAccessKey(<redacted>)");
        assert!(!format!("{s:?}").contains(s.expose_secret()));
        let t = SessionToken::from_untrusted("and0L2V5");
        assert_eq!(format!("{t:?}"), "SessionToken(<redacted>)");
    }

    #[test]
    fn secret_from_token_value_matches_spec_vector() {
        let s = SecretAccessKey::from_token_value("example-parent-api-token-value-0000000000");
        assert_eq!(
            s.expose_secret(),
            "185c3470580df7f25e8ff38cd591f6966c393160cd4d1c7f1a27e7850054aead"
        );
        assert!(SecretAccessKey::parse(s.expose_secret()).is_ok());
        assert!(s.ct_eq(&s.clone()));
        assert!(!s.ct_eq(&SecretAccessKey::from_token_value("other")));
        assert!(SecretAccessKey::parse(&"A".repeat(64)).is_err());
    }
}
