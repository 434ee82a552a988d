//! Typed errors of the credential model: invalid input, token failures and denials.
//!
//! `core` never names an HTTP status; each adapter maps these to its wire format in exactly one
//! place (`mayfly-api` to a v4 envelope, `mayfly-s3` to an S3 error code). No `Display` here ever
//! contains a secret, a token or a signature.

/// A value that failed validation: which field, and why. Both are static strings so that an
/// error can never echo attacker-controlled (or secret) bytes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    /// The field that was rejected, in the wire spelling (`bucket`, `ttlSeconds`, ...).
    pub field: &'static str,
    /// Why it was rejected.
    pub reason: &'static str,
}

impl InvalidInput {
    pub(crate) const fn new(field: &'static str, reason: &'static str) -> Self {
        Self { field, reason }
    }
}

/// Why a session token was refused. Variants are grouped by the S3 error an adapter should send:
/// [`TokenError::is_expired`] maps to `ExpiredToken`, [`TokenError::is_signature`] to
/// `SignatureDoesNotMatch`/`AccessDenied`, everything else to `InvalidArgument`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is larger than [`crate::MAX_SESSION_TOKEN_LEN`].
    #[error("session token too large")]
    TooLarge,
    /// Not standard padded base64, or not `jwt/` followed by a compact JWS.
    #[error("session token is not base64 of `jwt/` + a compact JWT")]
    Malformed,
    /// The JOSE header is not exactly `{"alg":"HS256"}` with an optional `"typ":"JWT"`.
    #[error("unsupported JWT header (only HS256 without extra parameters)")]
    UnsupportedHeader,
    /// The claims are not a JSON object of the expected shape (missing, duplicate, wrongly
    /// typed or invalid claims, trailing bytes).
    #[error("invalid token claims: {0}")]
    Claims(&'static str),
    /// `iss` differs from the access key id that signed the request.
    #[error("token issuer does not match the access key id")]
    IssuerMismatch,
    /// `aud` is not a host this server answers for.
    #[error("token audience is not this endpoint")]
    AudienceMismatch,
    /// The HMAC does not verify under the parent's secret.
    #[error("token signature does not verify")]
    BadSignature,
    /// `iat` lies in the future beyond the allowed leeway.
    #[error("token issued in the future")]
    NotYetValid,
    /// `now >= exp`.
    #[error("token expired")]
    Expired,
    /// `exp <= iat` or `exp - iat > 604800`.
    #[error("token lifetime out of range")]
    BadLifetime,
}

impl TokenError {
    /// True when the only problem is time: the S3 adapter answers `ExpiredToken`.
    pub fn is_expired(&self) -> bool {
        matches!(self, TokenError::Expired)
    }

    /// True when the token is well-formed but its signature or binding is wrong.
    pub fn is_signature(&self) -> bool {
        matches!(
            self,
            TokenError::BadSignature | TokenError::IssuerMismatch | TokenError::AudienceMismatch
        )
    }
}

/// A refused authorization, with the reason for the log. Adapters send a generic
/// `AccessDenied`: the reason is never shown to the client, and it never lists what would
/// have been allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("access denied: {reason}")]
pub struct Denied {
    /// Why, for logs and tests.
    pub reason: DenyReason,
}

/// The rule that refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// The credential's permission does not include the operation.
    Permission,
    /// The token's `actions` list does not include the operation.
    Action,
    /// The bucket is not the credential's bucket, or not in the token's bucket list.
    Bucket,
    /// The bucket belongs to another account than the credential.
    Account,
    /// The key (or listing prefix) is outside the credential's paths.
    Path,
    /// The parent token's current rights do not allow it.
    Parent,
    /// The parent token is revoked, expired or unknown.
    ParentInactive,
    /// The operation needs a bucket or key the request did not carry.
    MissingTarget,
    /// The calling token itself is revoked, disabled or expired (management API).
    Inactive,
    /// Minting from a parent that is not the calling token needs `admin-read-write`.
    NotParent,
    /// The token or credential asked for would outlive the token creating it.
    Lifetime,
    /// The temporary credential itself was revoked (by id or session token; a Mayfly
    /// extension), while its parent may still be active.
    Revoked,
}

impl DenyReason {
    /// The reason as a fixed phrase, for logs (the same text as `Display`).
    pub const fn as_str(self) -> &'static str {
        match self {
            DenyReason::Permission => "permission does not include the operation",
            DenyReason::Action => "operation not in the token's actions",
            DenyReason::Bucket => "bucket not covered by the credential",
            DenyReason::Account => "bucket belongs to another account",
            DenyReason::Path => "key or prefix outside the credential's paths",
            DenyReason::Parent => "parent token's rights do not allow it",
            DenyReason::ParentInactive => "parent token is not active",
            DenyReason::MissingTarget => "operation target missing",
            DenyReason::Inactive => "calling token is not active",
            DenyReason::NotParent => {
                "only the parent token itself or an admin-read-write token may mint from it"
            }
            DenyReason::Lifetime => "would outlive the token creating it",
            DenyReason::Revoked => "this credential was revoked",
        }
    }
}

impl core::fmt::Display for DenyReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
