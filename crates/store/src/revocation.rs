//! Revocations of single temporary credentials (a Mayfly extension): the record the metadata
//! store keeps per revoked credential, the listing query, and how long an entry must live.
//!
//! An entry only has to outlive the credential it names: once the credential's own `exp` has
//! passed it is refused as expired anyway. Revoked by session token, the entry expires with
//! the token's `exp`; revoked by id alone nobody knows `exp`, so the entry lives as long as
//! any credential could: [`MAX_CREDENTIAL_LIFETIME_SECS`] from now. Stores purge expired
//! entries on the periodic schedule ([`crate::MetadataStore::purge_revocations`]).

use mayfly_core::{
    AccessKeyId, AccountId, BucketName, CredentialId, IAT_LEEWAY_SECS, MAX_TTL_SECS,
};

/// The longest a credential can stay usable after it was first seen: the longest lifetime a
/// token may carry (`exp - iat <= 604800`) plus the clock skew a token's `iat` may be ahead by.
pub const MAX_CREDENTIAL_LIFETIME_SECS: u64 = MAX_TTL_SECS + IAT_LEEWAY_SECS;

/// One revoked credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRecord {
    /// The credential's id.
    pub credential_id: CredentialId,
    /// The account the credential belongs to (its `sub`); a revocation never reaches another.
    pub account: AccountId,
    /// The token it was minted from, when revoked by session token.
    pub parent: Option<AccessKeyId>,
    /// Its bucket, when revoked by session token.
    pub bucket: Option<BucketName>,
    /// When it was revoked, epoch seconds.
    pub revoked_on: u64,
    /// When the entry may be forgotten (the credential cannot be used any more), epoch seconds.
    pub expires_on: u64,
}

/// A page of an account's revocations, newest first (by `revoked_on`, then credential id,
/// both descending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRevocationsQuery {
    /// At most this many entries (the store caps nothing; callers bound it).
    pub limit: usize,
    /// Only entries strictly after this one in the order (the last entry of the previous page).
    pub after: Option<(u64, CredentialId)>,
}

/// What a change to tokens or revocations makes stale in a cache of them (see
/// [`crate::cache`]); sent between nodes by the scale-out store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Invalidation {
    /// The token with this id (created, changed, revoked or deleted).
    Token(AccessKeyId),
    /// The revocation state of one credential of one account.
    Credential(AccountId, CredentialId),
    /// Anything may have changed (e.g. notifications were lost).
    All,
}

impl Invalidation {
    /// The wire form used between nodes: `t:<id>`, `c:<account>:<credential id>` or `*`.
    pub fn encode(&self) -> String {
        match self {
            Self::Token(id) => format!("t:{id}"),
            Self::Credential(account, id) => format!("c:{account}:{id}"),
            Self::All => "*".to_owned(),
        }
    }

    /// Parses [`Invalidation::encode`]'s form; anything else is read as [`Invalidation::All`]
    /// (a message this node does not understand may have changed anything).
    pub fn decode(text: &str) -> Self {
        let parsed = if let Some(id) = text.strip_prefix("t:") {
            AccessKeyId::parse(id).ok().map(Self::Token)
        } else if let Some(rest) = text.strip_prefix("c:") {
            rest.split_once(':').and_then(|(a, c)| {
                Some(Self::Credential(
                    AccountId::parse(a).ok()?,
                    CredentialId::parse(c)?,
                ))
            })
        } else {
            None
        };
        parsed.unwrap_or(Self::All)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidations_round_trip_and_garbage_means_all() {
        let a = AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect("valid");
        let t = AccessKeyId::parse("0123456789abcdef0123456789abcdef").expect("valid");
        let c = CredentialId::parse("00112233445566778899aabbccddeeff").expect("valid");
        for inv in [
            Invalidation::Token(t),
            Invalidation::Credential(a, c),
            Invalidation::All,
        ] {
            assert_eq!(Invalidation::decode(&inv.encode()), inv);
        }
        for junk in ["", "t:", "c:x:y", "t:not a key", "t:/../x", "hello"] {
            assert_eq!(Invalidation::decode(junk), Invalidation::All, "{junk}");
        }
    }
}
