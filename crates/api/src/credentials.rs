//! `POST /accounts/{account_id}/r2/temp-access-credentials` (SPEC §3): mints a temporary
//! credential from a parent R2 API token, through `mayfly_core::mint` only.
//!
//! Checks, in order (each failure is a 4xx envelope):
//! 1. the caller's token is active and of this account (401/403, [`crate::auth`]);
//! 2. the body (all of it, path scope included, before any lookup): `bucket`,
//!    `parentAccessKeyId`, `permission`, `ttlSeconds` (a number: `3600.0`
//!    is fine; non-integral, <= 0, > 604800 or a string is 400 at `/ttlSeconds`; absent is 900),
//!    optional `objects` and `prefixes`, and (a Mayfly extension: Cloudflare's API does not take
//!    it yet) `actions`, S3 action names of the local-signing format, unknown names 400 at
//!    `/actions/N`, carried in the token exactly as a locally signed one carries them;
//!    unknown fields and wrong types are 400 at their pointer;
//! 3. `mayfly_core::authorize_mint`, which decides, in this order: the caller is the parent
//!    itself, or holds `admin-read-write` (403); the parent exists in this account and is
//!    active (400 at `/parentAccessKeyId`: the same answer for unknown, revoked, expired and
//!    foreign tokens); the parent covers the bucket and the requested permission (403);
//! 4. the bucket exists (404, 10006), asked only once the mint is allowed;
//! 5. the claims builder, which refuses a path scope whose session token would be longer
//!    than `mayfly_core::MAX_ISSUED_SESSION_TOKEN_LEN` (400 at `/prefixes` or `/objects`).
//!
//! Minting has no side effect, so a replayed request (the SDKs retry) simply mints again.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use mayfly_core::{
    AccessKeyId, BucketName, Claims, MAX_TTL_SECS, MintRequest, PathScope, Permission, S3Action,
    authorize_mint, mint,
};
use mayfly_store::{AuditKind, BucketId, Entity, StoreError, TokenRecord};
use serde::Serialize;

use crate::ApiState;
use crate::auth::{ApiPath, Caller, api_token, is_usable, parse_account};
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, Internal, RequestError};

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
    actions: Vec<S3Action>,
}

/// Most entries `actions` may hold (each of Cloudflare's 16 names, a few times over at most).
const MAX_ACTIONS: usize = 64;

/// `actions` (Mayfly extension; Cloudflare takes it only in locally signed tokens): S3 action
/// names exactly as the local-signing format spells them, kept in the order given, as that
/// format does. An unknown name is a 400 at its own index.
fn parse_actions(body: &mut Fields) -> Result<Vec<S3Action>, ApiError> {
    let Some(names) = body.optional_str_list("actions")? else {
        return Ok(Vec::new());
    };
    if names.len() > MAX_ACTIONS {
        return Err(RequestError::field("/actions", "must list at most 64 actions").into());
    }
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            S3Action::parse(name).ok_or_else(|| {
                RequestError::field(
                    format!("/actions/{i}"),
                    "is not an S3 action of the R2 token format (HeadObject, GetObject, \
                     GetBucketLocation, ListObjectsV1, ListObjectsV2, ListMultipartUploads, \
                     ListParts, PutObject, DeleteObject, DeleteObjects, CopyObject, \
                     CreateMultipartUpload, UploadPart, UploadPartCopy, AbortMultipartUpload, \
                     CompleteMultipartUpload)",
                )
                .into()
            })
        })
        .collect()
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
        let actions = parse_actions(&mut body)?;
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
            actions,
        })
    }
}

/// The parent token as core's mint decision needs it: the caller itself when it names itself,
/// else the stored token of that id (with `active` = usable now), if any.
async fn parent_token(
    state: &ApiState,
    caller: &Caller,
    request: &TempCredsRequest,
) -> Result<Option<TokenRecord>, ApiError> {
    if caller.token().id == request.parent {
        return Ok(Some(caller.token().clone()));
    }
    match state.store.get_token(&request.parent).await {
        Ok(token) => Ok(Some(token)),
        Err(StoreError::NotFound(Entity::Token)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// The audit detail of a mint: the scope the credential carries (never a secret).
fn mint_detail(claims: &Claims, ttl_secs: u64) -> String {
    let (prefixes, objects) = claims
        .paths()
        .map(|p| (p.prefixes().to_vec(), p.objects().to_vec()))
        .unwrap_or_default();
    let actions: Vec<&str> = claims.actions().iter().map(|a| a.as_str()).collect();
    serde_json::json!({
        "permission": claims.permission().as_str(),
        "prefixes": prefixes,
        "objects": objects,
        "actions": actions,
        "ttlSeconds": ttl_secs,
        "expiresOn": crate::time::rfc3339(claims.expires_at()),
    })
    .to_string()
}

/// The handler.
pub(crate) async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    let request = TempCredsRequest::parse(body)?;
    let now = state.clock.now();
    // Built before any lookup: a scope too large to issue is a 400 whoever asks.
    let claims = Claims::builder(
        request.bucket.clone(),
        request.permission,
        account.clone(),
        request.parent.clone(),
        state.config.audience.clone(),
    )
    .prefixes(request.prefixes.clone())
    .objects(request.objects.clone())
    .actions(request.actions.clone())
    .issued_at(now)
    .ttl_secs(request.ttl_secs)
    .build()
    .map_err(|e| -> ApiError {
        // The request fields were validated by the parse; what is left is the encoded size
        // (blamed on `/prefixes` or `/objects`) and the configured audience, a bad one being
        // the operator's mistake, not the caller's.
        if e.field == "aud" {
            Internal::new(format!("configured S3 audience rejected: {e}")).into()
        } else {
            e.into()
        }
    })?;
    let parent = parent_token(&state, &caller, &request).await?;
    let parent_view = parent.as_ref().map(|p| api_token(p, is_usable(p, now)));
    authorize_mint(
        &caller.api_token(),
        &account,
        parent_view.as_ref(),
        &MintRequest {
            parent: &request.parent,
            bucket: &request.bucket,
            permission: request.permission,
        },
    )?;
    let Some(parent) = parent else {
        return Err(Internal::new("mint allowed without a parent").into());
    };
    state
        .store
        .get_bucket(&BucketId::new(account, request.bucket))
        .await?;
    let creds = mint(&claims, &parent.secret);
    crate::audit::record(
        &state,
        &caller,
        claims.account(),
        AuditKind::CredentialMint,
        |e| {
            e.credential_id = Some(creds.id.as_str().to_owned());
            e.parent = Some(claims.issuer().as_str().to_owned());
            e.bucket = Some(claims.bucket().as_str().to_owned());
            e.operation = Some("mint".to_owned());
            e.detail = Some(mint_detail(&claims, request.ttl_secs));
        },
    );
    tracing::info!(
        account = %claims.account(),
        bucket = %claims.bucket(),
        parent = %claims.issuer(),
        permission = %claims.permission(),
        actions = claims.actions().len(),
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
