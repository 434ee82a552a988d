//! The claims of an R2 session token, and the builder that validates them before minting.
//!
//! Field order here is the order Cloudflare's documented local-signing helper emits
//! (`bucket, scope, actions?, paths?, sub, iss, aud, iat, exp`), so a token minted here is
//! byte-identical to one minted by that helper. Verification never re-serialises: the HMAC is
//! checked over the bytes received, and any claim order parses.

use crate::error::InvalidInput;
use crate::ids::{AccessKeyId, AccountId, BucketName};
use crate::permission::{Permission, S3Action};
use crate::scope::PathScope;
use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// The longest lifetime R2 allows a temporary credential: 7 days.
pub const MAX_TTL_SECS: u64 = 604_800;

/// The longest `aud` host accepted.
const MAX_AUDIENCE_LEN: usize = 255;

/// Claims of a temporary credential. Invariants: `aud` is a non-empty host without whitespace or `/`, and the
/// newtypes' own invariants. Built claims also satisfy `0 < exp - iat <= MAX_TTL_SECS`;
/// parsed ones are held to that by verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    #[serde(with = "bucket_serde")]
    bucket: BucketName,
    #[serde(with = "permission_serde")]
    scope: Permission,
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "actions_serde")]
    actions: Vec<S3Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    paths: Option<PathScope>,
    #[serde(with = "account_serde")]
    sub: AccountId,
    #[serde(with = "access_key_serde")]
    iss: AccessKeyId,
    aud: String,
    iat: u64,
    exp: u64,
}

impl Claims {
    /// Starts a builder with the five claims every token carries. Defaults: whole bucket, no
    /// action narrowing, `iat` = 0 (set it), lifetime 900 s.
    pub fn builder(
        bucket: BucketName,
        permission: Permission,
        account: AccountId,
        issuer: AccessKeyId,
        audience: impl Into<String>,
    ) -> ClaimsBuilder {
        ClaimsBuilder {
            bucket,
            permission,
            account,
            issuer,
            audience: audience.into(),
            prefixes: Vec::new(),
            objects: Vec::new(),
            actions: Vec::new(),
            issued_at: 0,
            ttl_secs: 900,
        }
    }

    /// The one bucket the credential is bound to.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// The permission (`scope` claim).
    pub fn permission(&self) -> Permission {
        self.scope
    }

    /// The `actions` narrowing; empty means no narrowing.
    pub fn actions(&self) -> &[S3Action] {
        &self.actions
    }

    /// The path scope; `None` means the whole bucket.
    pub fn paths(&self) -> Option<&PathScope> {
        self.paths.as_ref()
    }

    /// The account (`sub`).
    pub fn account(&self) -> &AccountId {
        &self.sub
    }

    /// The parent access key id (`iss`).
    pub fn issuer(&self) -> &AccessKeyId {
        &self.iss
    }

    /// The S3 endpoint host the credential is for (`aud`).
    pub fn audience(&self) -> &str {
        &self.aud
    }

    /// Issued-at, epoch seconds.
    pub fn issued_at(&self) -> u64 {
        self.iat
    }

    /// Expiry, epoch seconds: the credential is valid while `now < exp`.
    pub fn expires_at(&self) -> u64 {
        self.exp
    }

    /// Checks the invariants that serde cannot, except the lifetime (the builder checks it
    /// before minting; verification checks it after the signature): audience, scope sizes.
    pub(crate) fn validate_shape(&self) -> Result<(), InvalidInput> {
        let aud_ok = !self.aud.is_empty()
            && self.aud.len() <= MAX_AUDIENCE_LEN
            && self
                .aud
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'\\');
        if !aud_ok {
            return Err(InvalidInput::new("aud", "must be a host[:port]"));
        }
        if let Some(p) = &self.paths {
            p.validate()?;
        }
        Ok(())
    }
}

/// Builds [`Claims`]; see [`Claims::builder`].
#[derive(Debug, Clone)]
pub struct ClaimsBuilder {
    bucket: BucketName,
    permission: Permission,
    account: AccountId,
    issuer: AccessKeyId,
    audience: String,
    prefixes: Vec<String>,
    objects: Vec<String>,
    actions: Vec<S3Action>,
    issued_at: u64,
    ttl_secs: u64,
}

impl ClaimsBuilder {
    /// Limits the credential to keys starting with these prefixes.
    pub fn prefixes(mut self, prefixes: Vec<String>) -> Self {
        self.prefixes = prefixes;
        self
    }

    /// Limits the credential to these exact keys.
    pub fn objects(mut self, objects: Vec<String>) -> Self {
        self.objects = objects;
        self
    }

    /// Narrows the permission to these S3 actions (kept in the given order, as Cloudflare's
    /// helper does).
    pub fn actions(mut self, actions: Vec<S3Action>) -> Self {
        self.actions = actions;
        self
    }

    /// Sets `iat`, epoch seconds (the caller's clock: core reads none).
    pub fn issued_at(mut self, iat: u64) -> Self {
        self.issued_at = iat;
        self
    }

    /// Sets the lifetime; `exp = iat + ttl`. Must be 1..=604800.
    pub fn ttl_secs(mut self, ttl: u64) -> Self {
        self.ttl_secs = ttl;
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<Claims, InvalidInput> {
        if self.ttl_secs == 0 || self.ttl_secs > MAX_TTL_SECS {
            return Err(InvalidInput::new(
                "ttlSeconds",
                "must be 1 to 604800 seconds",
            ));
        }
        let exp = self
            .issued_at
            .checked_add(self.ttl_secs)
            .ok_or(InvalidInput::new("ttlSeconds", "expiry overflows"))?;
        let claims = Claims {
            bucket: self.bucket,
            scope: self.permission,
            actions: self.actions,
            paths: PathScope::new(self.prefixes, self.objects)?,
            sub: self.account,
            iss: self.issuer,
            aud: self.audience,
            iat: self.issued_at,
            exp,
        };
        claims.validate_shape()?;
        Ok(claims)
    }
}

/// serde adapters: each newtype is (de)serialised through its validating `parse`, so a token
/// with an invalid bucket, account, issuer, permission or action fails to parse at all.
macro_rules! via_parse {
    ($module:ident, $ty:ty, $parse:expr, $as_str:expr) => {
        mod $module {
            use super::*;
            pub(super) fn serialize<S: Serializer>(v: &$ty, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($as_str(v))
            }
            pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                let s = String::deserialize(d)?;
                $parse(&s).map_err(|e: InvalidInput| de::Error::custom(e.field))
            }
        }
    };
}

via_parse!(
    bucket_serde,
    BucketName,
    BucketName::parse,
    BucketName::as_str
);
via_parse!(
    account_serde,
    AccountId,
    AccountId::parse,
    AccountId::as_str
);
via_parse!(
    access_key_serde,
    AccessKeyId,
    AccessKeyId::parse,
    AccessKeyId::as_str
);
via_parse!(
    permission_serde,
    Permission,
    Permission::parse,
    |p: &Permission| p.as_str()
);

mod actions_serde {
    use super::*;
    use serde::ser::SerializeSeq;

    pub(super) fn serialize<S: Serializer>(v: &[S3Action], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for a in v {
            seq.serialize_element(a.as_str())?;
        }
        seq.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<S3Action>, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names
            .iter()
            .map(|n| S3Action::parse(n).ok_or_else(|| de::Error::custom("unknown action")))
            .collect()
    }
}
