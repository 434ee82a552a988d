//! Who is calling: bearer-token authentication. What the caller may do is decided in
//! `mayfly_core` (`authorize_mint`, `authorize_token_admin`, `authorize_bucket_admin`).
//!
//! A request carries `Authorization: Bearer <token value>`. The value itself is never stored
//! or logged: it is hashed (lowercase hex SHA-256, which is also the token's S3 secret) and the
//! hash is looked up. Unknown, revoked and expired tokens are refused alike (401, 9109), so a
//! revoked token fails on the very next request. The Global API Key headers are refused with
//! a message saying what to send instead.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use mayfly_core::{AccountId, ApiToken, SecretAccessKey, TokenRights};
use mayfly_store::{Entity, StoreError, TokenRecord, TokenStatus};
use serde::de::DeserializeOwned;

use crate::ApiState;
use crate::error::{ApiError, AuthError, RequestError};

/// Longest bearer value accepted; Cloudflare's are 40 characters.
const MAX_TOKEN_LEN: usize = 512;

/// The authenticated caller: an active, unexpired R2 API token.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    token: TokenRecord,
}

/// Extracts the bearer value, or says why there is none.
fn bearer(headers: &HeaderMap) -> Result<&str, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        if headers.contains_key("x-auth-key") || headers.contains_key("x-auth-email") {
            return Err(AuthError::GlobalKey);
        }
        return Err(AuthError::Missing);
    };
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
    let token = token.trim_matches(' ');
    let token_ok = !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token.bytes().all(|b| b.is_ascii_graphic());
    if !scheme.eq_ignore_ascii_case("bearer") || !token_ok {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

/// Whether a stored token may be used at `now`.
pub(crate) fn is_usable(token: &TokenRecord, now: u64) -> bool {
    token.status == TokenStatus::Active && token.expires_at.is_none_or(|exp| now < exp)
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let value = bearer(&parts.headers)?;
        let secret = SecretAccessKey::from_token_value(value);
        // The lookup compares sha256(value) with stored hashes; timing can at most reveal
        // whether a hash prefix matches, which says nothing usable about any token value.
        let token = match state.store.get_token_by_secret(&secret).await {
            Ok(token) => token,
            Err(StoreError::NotFound(Entity::Token)) => return Err(AuthError::InvalidToken.into()),
            Err(other) => return Err(other.into()),
        };
        if !is_usable(&token, state.clock.now()) {
            return Err(AuthError::InvalidToken.into());
        }
        Ok(Self { token })
    }
}

impl Caller {
    /// The caller's token record.
    pub(crate) fn token(&self) -> &TokenRecord {
        &self.token
    }

    /// The caller as core's decisions see it. The extractor only lets usable tokens through,
    /// so it is active.
    pub(crate) fn api_token(&self) -> ApiToken {
        api_token(&self.token, true)
    }
}

/// Parses the path's account id: a malformed id is 400/7003 (Cloudflare's "could not route").
/// Whether the caller may act on that account is core's decision, asked by every handler.
pub(crate) fn parse_account(raw: &str, path: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(raw).map_err(|_| {
        RequestError::BadIdentifier {
            path: path.to_owned(),
        }
        .into()
    })
}

/// A stored token in core's terms; `active` is whether it is usable now (see [`is_usable`]).
pub(crate) fn api_token(token: &TokenRecord, active: bool) -> ApiToken {
    let rights = TokenRights::new(
        token.account.clone(),
        token.permission,
        token.buckets.clone(),
        active,
    );
    ApiToken::new(token.id.clone(), rights, token.expires_at)
}

/// `axum::extract::Path` whose rejection is an envelope (400/7003) instead of plain text.
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(_) => Err(RequestError::BadIdentifier {
                path: parts.uri.path().to_owned(),
            }
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(*k, v);
            }
        }
        h
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(
            bearer(&headers(&[("authorization", "Bearer abc")])),
            Ok("abc")
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "bearer abc")])),
            Ok("abc")
        );
        assert_eq!(bearer(&headers(&[])), Err(AuthError::Missing));
        assert_eq!(
            bearer(&headers(&[("x-auth-key", "k")])),
            Err(AuthError::GlobalKey)
        );
        for bad in [
            "Bearer",
            "Bearer ",
            "Basic abc",
            "abc",
            "Bearer a b",
            "Token abc",
        ] {
            assert_eq!(
                bearer(&headers(&[("authorization", bad)])),
                Err(AuthError::Malformed),
                "{bad}"
            );
        }
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(
            bearer(&headers(&[("authorization", &long)])),
            Err(AuthError::Malformed)
        );
    }
}
