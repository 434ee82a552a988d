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

/// The longest session token Mayfly issues, in bytes of its base64 text (`X-Amz-Security-Token`).
///
/// Cloudflare documents no limit. This one is chosen so that every credential Mayfly mints is
/// usable on every S3 path Mayfly serves: it fits in one header line beside the signature
/// headers and 8 KiB of user metadata within the S3 endpoint's 16 KiB header budget, and in a
/// presigned URL under the 8 KiB request-target limit (percent-encoding its `+`, `/` and `=`
/// grows it by a few percent). In claim terms it leaves about 1.9 KB for `paths`, comparable
/// to the 2048 characters AWS STS allows a session policy. Both minting paths (the API and
/// `mayfly creds mint --local`) go through [`ClaimsBuilder::build`], which refuses a larger
/// token. Verification accepts larger tokens (up to [`crate::MAX_SESSION_TOKEN_LEN`]) minted
/// by other tools, as far as the S3 endpoint's own header limits let them through.
pub const MAX_ISSUED_SESSION_TOKEN_LEN: usize = 4096;

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
        if claims.session_token_len() > MAX_ISSUED_SESSION_TOKEN_LEN {
            // Only the path scope is unbounded enough to get here (bucket, audience and actions
            // are capped far below): blame the larger of the two lists.
            let (prefix_bytes, object_bytes) = claims.paths.as_ref().map_or((0, 0), |p| {
                let sum = |l: &[String]| l.iter().map(String::len).sum::<usize>();
                (sum(p.prefixes()), sum(p.objects()))
            });
            let field = if object_bytes > prefix_bytes {
                "objects"
            } else {
                "prefixes"
            };
            return Err(InvalidInput::new(
                field,
                "the path scope makes the session token longer than 4096 bytes",
            ));
        }
        Ok(claims)
    }
}

/// `{"alg":"HS256","typ":"JWT"}`, the header Cloudflare's helper emits, base64url-encoded: the
/// first segment of every session token, so part of what the claims encode to.
pub(crate) const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

impl Claims {
    /// The exact length of the session token [`crate::mint`] makes from these claims:
    /// `base64("jwt/" + header + "." + base64url(json) + "." + base64url(32-byte HMAC))`.
    pub fn session_token_len(&self) -> usize {
        let json_len = match serde_json::to_vec(self) {
            Ok(v) => v.len(),
            Err(_) => unreachable!("claims always serialise"),
        };
        let b64url = |n: usize| (n * 4).div_ceil(3);
        let jwt_len = HEADER_B64.len() + 1 + b64url(json_len) + 1 + b64url(32);
        (4 + jwt_len).div_ceil(3) * 4
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
