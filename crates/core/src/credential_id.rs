//! Credential ids: a name for one temporary credential that anyone holding its session token
//! can compute, offline, and that reveals nothing usable about it.
//!
//! `id = lowercase hex of the first 16 bytes of SHA-256("mayfly credential id v1" 0x00 ||
//! header.payload)`, where `header.payload` is the JWT's signing input exactly as signed.
//!
//! - Over the *signed* bytes, not the token text: the holder cannot change those bytes without
//!   the parent's secret, so every spelling of a token that verifies names the same credential
//!   (revoking one id cannot be dodged by re-encoding the token).
//! - Domain-separated and truncated: the temporary secret is `sha256(jwt)` over other input;
//!   the id is a one-way function of public-to-the-holder bytes and says nothing about it.
//!   128 bits leave collisions out of reach for any number of credentials a server will see.
//! - A Mayfly extension: Cloudflare's format has no credential id.

use core::fmt;

use sha2::{Digest, Sha256};

use crate::hex;

const DOMAIN: &[u8] = b"mayfly credential id v1\0";

/// Length of a credential id in characters (32 lowercase hex digits).
pub const CREDENTIAL_ID_LEN: usize = 32;

/// The id of one temporary credential (see the module docs for how it is derived).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialId(String);

impl CredentialId {
    /// Derives the id from a JWT signing input (`header.payload`).
    pub(crate) fn of_signing_input(signing_input: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(DOMAIN);
        h.update(signing_input);
        let digest = h.finalize();
        Self(hex::encode(&digest[..CREDENTIAL_ID_LEN / 2]))
    }

    /// Parses an id as printed: exactly 32 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == CREDENTIAL_ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lowercase_hex_and_parse_back() {
        let id = CredentialId::of_signing_input(b"a.b");
        assert_eq!(id.as_str().len(), CREDENTIAL_ID_LEN);
        assert_eq!(CredentialId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(id, CredentialId::of_signing_input(b"a.c"));
        for bad in [
            "",
            "ABCDEF0123456789abcdef0123456789",
            "0123456789abcdef0123456789abcde",
            "g123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(CredentialId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_id_is_domain_separated_from_a_plain_hash() {
        let input = b"header.payload";
        let id = CredentialId::of_signing_input(input);
        assert!(!hex::sha256_hex(input).starts_with(id.as_str()));
    }
}
