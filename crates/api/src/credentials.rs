//! `POST /accounts/{account_id}/r2/temp-access-credentials` (SPEC §3): mints a temporary
//! credential from a parent R2 API token, through `mayfly_core::mint` only.
//!
//! Checks, in order (each failure is a 4xx envelope):
//! 1. the caller's token is active and of this account (401/403, [`crate::auth`]);
//! 2. the body (all of it, path scope included, before any lookup): `bucket`,
//!    `parentAccessKeyId`, `permission`, `ttlSeconds` (a number: `3600.0`
//!    is fine; non-integral, <= 0, > 604800 or a string is 400 at `/ttlSeconds`; absent is 900),
//!    optional `objects` and `prefixes`; unknown fields and wrong types are 400 at their pointer;
//! 3. the caller is the parent itself, or holds `admin-read-write` (403);
//! 4. the parent exists in this account and is active (400 at `/parentAccessKeyId`: the same
//!    answer for unknown, revoked, expired and foreign tokens);
//! 5. the parent covers the bucket and the requested permission (403);
//! 6. the bucket exists (404, 10006).
//!
//! Minting has no side effect, so a replayed request (the SDKs retry) simply mints again.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use mayfly_core::{
    AccessKeyId, BucketName, Claims, MAX_TTL_SECS, PathScope, Permission, TokenRights, mint,
};
use mayfly_store::{BucketId, Entity, StoreError, TokenRecord};
use serde::Serialize;

use crate::ApiState;
use crate::auth::{ApiPath, Caller, is_usable};
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, Forbidden, Internal, RequestError};

/// Lifetime when `ttlSeconds` is absent (the OpenAPI default).
const DEFAULT_TTL_SECS: u64 = 900;

/// A validated request body.
#[derive(Debug)]
struct TempCredsRequest {
    bucket: BucketName,
    parent: AccessKeyId,
    permission: Permission,
    ttl_secs: u64,
    objects: Vec<String>,
    prefixes: Vec<String>,
}

/// The result (OpenAPI `r2_temp_access_creds_response`). Holds secrets: built only to be
/// serialised into the response, never logged.
#[derive(Serialize)]
struct TempCredsResponse<'a> {
    #[serde(rename = "accessKeyId")]
    access_key_id: &'a str,
    #[serde(rename = "secretAccessKey")]
    secret_access_key: &'a str,
    #[serde(rename = "sessionToken")]
    session_token: &'a str,
}

/// `ttlSeconds`: a JSON number that is a whole number of seconds in 1..=604800.
fn parse_ttl(body: &mut Fields) -> Result<u64, ApiError> {
    const POINTER: &str = "/ttlSeconds";
    let Some(n) = body.optional_number("ttlSeconds")? else {
        return Ok(DEFAULT_TTL_SECS);
    };
    // 3600 and 3600.0 are the same duration; anything not whole, or out of range, is not.
    let secs = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| {
                f.is_finite() && f.fract() == 0.0 && (1.0..=MAX_TTL_SECS as f64).contains(f)
            })
            .map(|f| f as u64)
    });
    match secs {
        Some(s) if (1..=MAX_TTL_SECS).contains(&s) => Ok(s),
        Some(_) | None => {
            let fractional = n
                .as_f64()
                .is_some_and(|f| f.is_finite() && f.fract() != 0.0);
            let reason = if fractional {
                "must be a whole number of seconds"
            } else {
                "must be greater than 0 and at most 604800"
            };
            Err(RequestError::field(POINTER, reason).into())
        }
    }
}

impl TempCredsRequest {
    fn parse(mut body: Fields) -> Result<Self, ApiError> {
        let bucket = body.required_str("bucket")?;
        let bucket = BucketName::parse(&bucket).map_err(|_| RequestError::InvalidBucketName {
            pointer: Some("/bucket".into()),
        })?;
        let parent = body.required_str("parentAccessKeyId")?;
        let parent = AccessKeyId::parse(&parent)
            .map_err(|e| RequestError::field("/parentAccessKeyId", e.reason))?;
        let permission = Permission::parse(&body.required_str("permission")?)?;
        let ttl_secs = parse_ttl(&mut body)?;
        let objects = body.optional_str_list("objects")?.unwrap_or_default();
        let prefixes = body.optional_str_list("prefixes")?.unwrap_or_default();
        body.finish()?;
        // Validate the scope with the rest of the input, before any lookup: a bad prefix is a
        // 400 whatever the bucket or parent (minting re-checks it through the claims builder).
        PathScope::new(prefixes.clone(), objects.clone())?;
        Ok(Self {
            bucket,
            parent,
            permission,
            ttl_secs,
            objects,
            prefixes,
        })
    }
}

/// Finds the parent token: the caller itself, or (for an admin caller) a token of the account.
async fn parent_token(
    state: &ApiState,
    caller: &Caller,
    request: &TempCredsRequest,
    now: u64,
) -> Result<TokenRecord, ApiError> {
    if caller.token().id == request.parent {
        return Ok(caller.token().clone());
    }
    if caller.token().permission != Permission::AdminReadWrite {
        return Err(
            Forbidden::because("only the parent or an admin-read-write token may mint").into(),
        );
    }
    let not_usable = || -> ApiError {
        RequestError::field(
            "/parentAccessKeyId",
            "does not name an active R2 API token of this account",
        )
        .into()
    };
    match state.store.get_token(&request.parent).await {
        Ok(token) if token.account == caller.token().account && is_usable(&token, now) => Ok(token),
        Ok(_) | Err(StoreError::NotFound(Entity::Token)) => Err(not_usable()),
        Err(other) => Err(other.into()),
    }
}

/// The handler.
pub(crate) async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let account = caller.account(&account, uri.path())?;
    let request = TempCredsRequest::parse(body)?;
    let now = state.clock.now();
    let parent = parent_token(&state, &caller, &request, now).await?;
    let rights = TokenRights::new(
        parent.account.clone(),
        parent.permission,
        parent.buckets.clone(),
        true,
    );
    if !rights.covers_bucket(&request.bucket) {
        return Err(Forbidden::because("bucket outside the parent's bucket list").into());
    }
    if !parent.permission.covers(request.permission) {
        return Err(Forbidden::because("permission exceeds the parent's").into());
    }
    state
        .store
        .get_bucket(&BucketId::new(account.clone(), request.bucket.clone()))
        .await?;
    let claims = Claims::builder(
        request.bucket,
        request.permission,
        account,
        parent.id.clone(),
        state.config.audience.clone(),
    )
    .prefixes(request.prefixes)
    .objects(request.objects)
    .issued_at(now)
    .ttl_secs(request.ttl_secs)
    .build()
    .map_err(|e| -> ApiError {
        // Every request field was validated above; only the configured audience is left, and
        // a bad one is the operator's mistake, not the caller's.
        if e.field == "aud" {
            Internal::new(format!("configured S3 audience rejected: {e}")).into()
        } else {
            e.into()
        }
    })?;
    let creds = mint(&claims, &parent.secret);
    tracing::info!(
        account = %claims.account(),
        bucket = %claims.bucket(),
        parent = %claims.issuer(),
        permission = %claims.permission(),
        exp = claims.expires_at(),
        "temporary credential minted"
    );
    // The one place the temporary secret and session token leave the server: the response.
    Ok(crate::envelope::ok(TempCredsResponse {
        access_key_id: creds.access_key_id.as_str(),
        secret_access_key: creds.secret_access_key.expose_secret(),
        session_token: creds.session_token.expose_secret(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_object;
    use crate::error::ErrorCode;

    fn ttl(json: &str) -> Result<u64, Option<String>> {
        let mut f = parse_object(json.as_bytes()).map_err(|e| e.pointer().map(str::to_owned))?;
        parse_ttl(&mut f).map_err(|e| e.pointer().map(str::to_owned))
    }

    #[test]
    fn ttl_accepts_whole_numbers_in_range() {
        assert_eq!(ttl("{}"), Ok(900));
        assert_eq!(ttl(r#"{"ttlSeconds":3600}"#), Ok(3600));
        assert_eq!(ttl(r#"{"ttlSeconds":3600.0}"#), Ok(3600));
        assert_eq!(ttl(r#"{"ttlSeconds":3.6e3}"#), Ok(3600));
        assert_eq!(ttl(r#"{"ttlSeconds":604800}"#), Ok(604800));
        assert_eq!(ttl(r#"{"ttlSeconds":1}"#), Ok(1));
        assert_eq!(ttl(r#"{"ttlSeconds":null}"#), Ok(900));
    }

    #[test]
    fn ttl_refuses_everything_else_at_its_pointer() {
        for bad in [
            "0",
            "-1",
            "604801",
            "1.5",
            "\"3600\"",
            "true",
            "[]",
            "-0.5",
            "1e300",
            "18446744073709551616",
            "-9223372036854775809",
        ] {
            let body = format!(r#"{{"ttlSeconds":{bad}}}"#);
            assert_eq!(ttl(&body), Err(Some("/ttlSeconds".to_owned())), "{bad}");
        }
    }
}
