//! Storage-level identifiers: [`BlobId`], [`UploadId`] and [`BucketId`]. Blob and upload ids are
//! random, opaque and never derived from user input, so an object key can never become a file
//! path or collide with another object's bytes.

use std::fmt;

use mayfly_core::{AccountId, BucketName};

/// Why a storage id failed to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: expected 32 lowercase hex characters")]
pub struct InvalidId {
    /// Which id ("blob id" or "upload id").
    pub what: &'static str,
}

/// `N` bytes from the OS random source.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // Without an OS random source no id or secret can be made safely; there is no sane
    // fallback.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("OS random source unavailable");
    buf
}

fn random_hex128() -> String {
    hex_lower(&random_bytes::<16>())
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn is_hex128(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id (128 bits from the OS random source).
            pub fn random() -> Self {
                Self(random_hex128())
            }

            /// Parses an id: exactly 32 lowercase hex characters.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                if is_hex128(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidId { what: $what })
                }
            }

            /// The id as 32 lowercase hex characters.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

hex_id!(
    /// Opaque id of a blob in a [`crate::BlobStore`]. Invariant: 32 lowercase hex characters,
    /// random, never derived from an object key. Each blob id is owned by at most one record
    /// (an object or a part): records never share blobs, so deleting the ids a store call
    /// returns as garbage is always safe.
    BlobId,
    "blob id"
);

hex_id!(
    /// Id of a multipart upload. Invariant: 32 lowercase hex characters, random. A client-sent
    /// upload id that does not parse simply names no upload (`NoSuchUpload`).
    UploadId,
    "upload id"
);

/// Identifies one bucket: bucket names are unique per account, so (account, name) is the id.
/// (Not to be confused with `mayfly_core::BucketRef`, the borrowed form `authorize` takes.)
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketId {
    /// The owning account.
    pub account: AccountId,
    /// The bucket's name.
    pub name: BucketName,
}

impl BucketId {
    /// Pairs an account and a bucket name.
    pub fn new(account: AccountId, name: BucketName) -> Self {
        Self { account, name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_parse_back_and_differ() {
        let a = BlobId::random();
        let b = BlobId::random();
        assert_ne!(a, b);
        assert_eq!(BlobId::parse(a.as_str()), Ok(a));
        assert!(UploadId::parse(UploadId::random().as_str()).is_ok());
    }

    #[test]
    fn ids_reject_paths_and_upper_case() {
        for bad in [
            "",
            "../../etc/passwd",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef",
        ] {
            assert!(BlobId::parse(bad).is_err(), "{bad}");
        }
    }
}
