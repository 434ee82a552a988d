//! Fresh identities for new accounts and R2 API tokens, from the OS random source. One
//! generator for every creator (the API's token endpoint and `mayfly init`), so ids and values
//! have one shape and one entropy budget.

use std::fmt;

use mayfly_core::{AccessKeyId, AccountId, SecretAccessKey};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::ids::{hex_lower, random_bytes};

/// The 64 symbols of a token value: the URL-safe base64 alphabet.
const VALUE_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Length of a token value (Cloudflare's API tokens are 40 characters).
pub const TOKEN_VALUE_LEN: usize = 40;

/// A new account id: 32 lowercase hex characters (128 random bits).
pub fn new_account_id() -> AccountId {
    match AccountId::parse(&hex_lower(&random_bytes::<16>())) {
        Ok(id) => id,
        Err(_) => unreachable!("32 lowercase hex characters are an account id"),
    }
}

/// A new token id, which is also the token's S3 access key id: 32 lowercase hex characters.
pub fn new_token_id() -> AccessKeyId {
    match AccessKeyId::parse(&hex_lower(&random_bytes::<16>())) {
        Ok(id) => id,
        Err(_) => unreachable!("32 lowercase hex characters are an access key id"),
    }
}

/// A freshly generated token value: the bearer secret, shown to its owner once and never
/// stored (only [`TokenValue::secret_access_key`], its SHA-256, is). Zeroized on drop,
/// redacted under `Debug`, no `Display`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct TokenValue(String);

impl TokenValue {
    /// 40 symbols from the OS CSPRNG; each byte picks one of 64 symbols (256 = 4 × 64, so the
    /// choice is uniform): 240 bits.
    pub fn generate() -> Self {
        let mut bytes = random_bytes::<TOKEN_VALUE_LEN>();
        let value = bytes
            .iter()
            .map(|b| char::from(VALUE_ALPHABET[usize::from(b & 63)]))
            .collect();
        bytes.zeroize();
        Self(value)
    }

    /// The value, for the one response or printout that carries it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The S3 secret access key R2 derives from the value: `hex(sha256(value))`.
    pub fn secret_access_key(&self) -> SecretAccessKey {
        SecretAccessKey::from_token_value(&self.0)
    }
}

impl fmt::Debug for TokenValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenValue(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_40_url_safe_chars_and_differ() {
        let (a, b) = (TokenValue::generate(), TokenValue::generate());
        assert_eq!(a.expose_secret().len(), TOKEN_VALUE_LEN);
        assert!(
            a.expose_secret()
                .bytes()
                .all(|c| VALUE_ALPHABET.contains(&c))
        );
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(!format!("{a:?}").contains(a.expose_secret()));
        assert_eq!(
            a.secret_access_key().expose_secret(),
            mayfly_core::sha256_hex(a.expose_secret().as_bytes())
        );
    }

    #[test]
    fn ids_are_fresh() {
        assert_ne!(new_token_id(), new_token_id());
        assert_ne!(new_account_id(), new_account_id());
    }
}
