//! Session tokens: minting, parsing and verification.
//!
//! A hand-written HS256 JWT rather than a general JWT library, on purpose: the format admits
//! exactly one algorithm, so there is no `alg` negotiation to get wrong (no `none`, no
//! RS256-with-an-HMAC-key confusion, no `kid`/`jku` key fetching), and the whole path from
//! bytes to a verified credential fits on one screen.
//!
//! Pipeline: [`parse_session_token`] (bounded, strict decoding; no crypto) gives an
//! [`UnverifiedToken`] whose only trusted use is looking up the parent's secret by
//! [`UnverifiedToken::issuer`]; [`UnverifiedToken::verify`] checks the issuer binding, the HMAC
//! over the received bytes in constant time, the lifetime and the audience, and returns a
//! [`VerifiedToken`], the only type that yields usable claims and the temporary secret.

use crate::claims::{Claims, HEADER_B64, MAX_TTL_SECS};
use crate::credential_id::CredentialId;
use crate::error::TokenError;
use crate::hex;
use crate::ids::{AccessKeyId, SecretAccessKey, SessionToken};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::Mac;
use serde::Deserialize;

/// The largest session token accepted, in bytes of its base64 text. Generous for R2's claim
/// set (hundreds of paths), small enough that parsing one costs microseconds.
pub const MAX_SESSION_TOKEN_LEN: usize = 32 * 1024;

/// How far in the future `iat` may lie, for clients minting locally with a clock slightly
/// ahead of the server's.
pub const IAT_LEEWAY_SECS: u64 = 60;

/// `jwt/`, the prefix inside the base64 session token.
const JWT_PREFIX: &str = "jwt/";

/// What a minted credential hands to an S3 client.
#[derive(Debug, Clone)]
pub struct TemporaryCredentials {
    /// The access key id: the parent's.
    pub access_key_id: AccessKeyId,
    /// `hex(sha256(jwt))`.
    pub secret_access_key: SecretAccessKey,
    /// `base64("jwt/" + jwt)`, sent as `X-Amz-Security-Token`.
    pub session_token: SessionToken,
    /// The credential's id (a Mayfly extension; see [`CredentialId`]).
    pub id: CredentialId,
}

/// Signs `claims` with the parent's secret and derives the temporary credentials, byte-for-byte
/// as Cloudflare's documented local-signing helper does.
pub fn mint(claims: &Claims, parent_secret: &SecretAccessKey) -> TemporaryCredentials {
    // Serialising a struct of strings, integers and vectors cannot fail.
    let payload = match serde_json::to_vec(claims) {
        Ok(p) => p,
        Err(_) => unreachable!("claims always serialise"),
    };
    let mut jwt = String::with_capacity(HEADER_B64.len() + payload.len() * 2 + 48);
    jwt.push_str(HEADER_B64);
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut jwt);
    let signature = sign(parent_secret, jwt.as_bytes());
    let id = CredentialId::of_signing_input(jwt.as_bytes());
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut jwt);

    let secret = SecretAccessKey::from_hex_unchecked(hex::sha256_hex(jwt.as_bytes()));
    let mut wrapped = String::with_capacity(JWT_PREFIX.len() + jwt.len());
    wrapped.push_str(JWT_PREFIX);
    wrapped.push_str(&jwt);
    TemporaryCredentials {
        access_key_id: claims.issuer().clone(),
        secret_access_key: secret,
        session_token: SessionToken::new(STANDARD.encode(wrapped.as_bytes())),
        id,
    }
}

/// HMAC-SHA256 keyed with the secret's 64 ASCII hex characters (R2's convention).
fn sign(secret: &SecretAccessKey, signing_input: &[u8]) -> [u8; 32] {
    // The secret is used as the HMAC key: the one place token signing reads it.
    let mut mac = hex::hmac(secret.expose_secret().as_bytes());
    mac.update(signing_input);
    mac.finalize().into_bytes().into()
}

/// A session token whose structure is valid but whose signature has not been checked yet.
/// Nothing in it may be trusted except to choose which parent secret to verify with.
pub struct UnverifiedToken {
    /// `header.payload.signature`, exactly as received; secret-equivalent, so zeroized.
    jwt: zeroize::Zeroizing<String>,
    /// Byte offset of the second `.`.
    signing_input_len: usize,
    signature: [u8; 32],
    claims: Claims,
    id: CredentialId,
}

impl core::fmt::Debug for UnverifiedToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The JWT is as secret as the credential (its hash is the secret): never print it.
        f.debug_struct("UnverifiedToken")
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// The secret the S3 adapter needs to verify a temporary credential's request signature.
#[derive(Debug)]
pub struct VerifiedToken {
    claims: Claims,
    secret: SecretAccessKey,
    id: CredentialId,
}

impl VerifiedToken {
    /// The verified claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The temporary secret access key, `hex(sha256(jwt))`.
    pub fn secret_access_key(&self) -> &SecretAccessKey {
        &self.secret
    }

    /// The credential's id (see [`CredentialId`]).
    pub fn credential_id(&self) -> &CredentialId {
        &self.id
    }
}

/// What verification checks a token against.
#[derive(Debug, Clone, Copy)]
pub struct VerifyContext<'a> {
    /// The access key id the request was signed with; must equal `iss`.
    pub access_key_id: &'a AccessKeyId,
    /// The server's clock, epoch seconds.
    pub now: u64,
    /// The hosts this endpoint answers for; `aud` must be one of them (exact, ASCII
    /// case-insensitive as hosts are).
    pub audiences: &'a [String],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    typ: Option<String>,
}

/// Decodes a session token strictly: bounded size, canonical padded base64, the `jwt/` prefix,
/// three canonical base64url segments, a header that is exactly HS256, and claims that are one
/// JSON object with no unknown, duplicate or wrongly-typed members and nothing after it.
pub fn parse_session_token(token: &SessionToken) -> Result<UnverifiedToken, TokenError> {
    let text = token.expose_secret();
    if text.len() > MAX_SESSION_TOKEN_LEN {
        return Err(TokenError::TooLarge);
    }
    let decoded = STANDARD.decode(text).map_err(|_| TokenError::Malformed)?;
    let mut jwt =
        zeroize::Zeroizing::new(String::from_utf8(decoded).map_err(|_| TokenError::Malformed)?);
    if !jwt.starts_with(JWT_PREFIX) {
        return Err(TokenError::Malformed);
    }
    // In place: no second copy of secret-equivalent bytes left behind un-zeroized.
    jwt.drain(..JWT_PREFIX.len());

    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let signing_input_len = h.len() + 1 + p.len();

    // Fast path for the header every known minter writes; any other spelling goes through the
    // strict parser, which accepts only the same meaning.
    if h != HEADER_B64 {
        let header = URL_SAFE_NO_PAD
            .decode(h)
            .map_err(|_| TokenError::Malformed)?;
        let header: Header = strict_json(&header).map_err(|_| TokenError::UnsupportedHeader)?;
        if header.alg != "HS256" || header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return Err(TokenError::UnsupportedHeader);
        }
    }

    let payload = URL_SAFE_NO_PAD
        .decode(p)
        .map_err(|_| TokenError::Malformed)?;
    let claims: Claims = strict_json(&payload).map_err(TokenError::Claims)?;
    claims
        .validate_shape()
        .map_err(|e| TokenError::Claims(e.field))?;

    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| TokenError::Malformed)?;
    let signature: [u8; 32] = sig.try_into().map_err(|_| TokenError::Malformed)?;

    let id = CredentialId::of_signing_input(&jwt.as_bytes()[..signing_input_len]);
    Ok(UnverifiedToken {
        jwt,
        signing_input_len,
        signature,
        claims,
        id,
    })
}

/// One JSON object, nothing before or after it (not even whitespace), no duplicate members
/// (serde's derive refuses duplicates of known fields; `deny_unknown_fields` leaves no others).
fn strict_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, &'static str> {
    if bytes.first() != Some(&b'{') || bytes.last() != Some(&b'}') {
        return Err("not a bare JSON object");
    }
    serde_json::from_slice(bytes).map_err(|_| "malformed, duplicate, unknown or mistyped claim")
}

impl UnverifiedToken {
    /// The claimed parent access key id: use it only to look up the parent's secret.
    pub fn issuer(&self) -> &AccessKeyId {
        self.claims.issuer()
    }

    /// The credential's id: computable by anyone holding the token, verified or not (it names
    /// the token; it proves nothing). See [`CredentialId`].
    pub fn credential_id(&self) -> &CredentialId {
        &self.id
    }

    /// The claims, for display only (e.g. `mayfly creds inspect`): NOT verified.
    pub fn dangerous_unverified_claims(&self) -> &Claims {
        &self.claims
    }

    /// Verifies the token: issuer binding, HMAC under `parent_secret` over the received bytes
    /// (constant time), `iat`/`exp` against `ctx.now`, lifetime bound, and audience.
    ///
    /// The signature is checked before any claim-dependent time or audience check, so a forged
    /// token always fails as [`TokenError::BadSignature`] and learns nothing more.
    pub fn verify(
        self,
        parent_secret: &SecretAccessKey,
        ctx: &VerifyContext<'_>,
    ) -> Result<VerifiedToken, TokenError> {
        if self.claims.issuer() != ctx.access_key_id {
            return Err(TokenError::IssuerMismatch);
        }
        let mut mac = hex::hmac(parent_secret.expose_secret().as_bytes());
        mac.update(&self.jwt.as_bytes()[..self.signing_input_len]);
        // `verify_slice` compares in constant time: the signature is attacker-supplied.
        mac.verify_slice(&self.signature)
            .map_err(|_| TokenError::BadSignature)?;

        let (iat, exp) = (self.claims.issued_at(), self.claims.expires_at());
        if exp <= iat || exp - iat > MAX_TTL_SECS {
            return Err(TokenError::BadLifetime);
        }
        if iat > ctx.now.saturating_add(IAT_LEEWAY_SECS) {
            return Err(TokenError::NotYetValid);
        }
        if ctx.now >= exp {
            return Err(TokenError::Expired);
        }
        let aud = self.claims.audience();
        if !ctx.audiences.iter().any(|a| a.eq_ignore_ascii_case(aud)) {
            return Err(TokenError::AudienceMismatch);
        }
        let secret = SecretAccessKey::from_hex_unchecked(hex::sha256_hex(self.jwt.as_bytes()));
        Ok(VerifiedToken {
            claims: self.claims,
            secret,
            id: self.id,
        })
    }
}
