//! Revoking one temporary credential (a Mayfly extension: Cloudflare can only revoke the
//! parent token, which kills every sibling too), under a path Cloudflare's API cannot grow into:
//!
//! - `POST /client/v4/mayfly/accounts/{account_id}/r2/temp-access-credentials/revocations`
//!   with `{"credentialId": "…"}` or `{"sessionToken": "…"}` (exactly one) → the entry
//!   `{"credentialId", "bucket"?, "parentAccessKeyId"?, "revokedOn", "expiresOn"}`. Idempotent:
//!   revoking again answers 200 with the entry stored first.
//! - `GET` on the same path → the account's entries, newest first, `per_page` (1..1000,
//!   default 20) and `cursor` (from `result_info.cursor`, present when there is more).
//!
//! Who may (decided by `mayfly_core::authorize_revoke`): by session token, the parent token
//! itself or an `admin-read-write` token of the account; by id alone and listing, only
//! `admin-read-write`. A temporary credential is never a caller (the API takes R2 API token
//! values only). A session token must be of this account and verify under its parent's
//! secret (its lifetime and audience do not matter: an expired credential may be revoked,
//! uselessly); the entry then lives until its `exp` plus the allowed clock skew. By id alone
//! nobody knows `exp`, so the entry lives as long as any credential could
//! ([`mayfly_store::MAX_CREDENTIAL_LIFETIME_SECS`]). Expired entries are purged periodically.

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::Response;
use mayfly_core::{
    CredentialId, IAT_LEEWAY_SECS, RevokeAction, SessionToken, VerifyContext, authorize_revoke,
    parse_session_token,
};
use mayfly_store::{
    Entity, ListRevocationsQuery, MAX_CREDENTIAL_LIFETIME_SECS, RevocationRecord, StoreError,
};
use serde::Serialize;

use crate::ApiState;
use crate::auth::{ApiPath, Caller, parse_account};
use crate::body::{JsonBody, QueryParams};
use crate::envelope::{ResultInfo, ok, ok_list};
use crate::error::{ApiError, RequestError};
use crate::time::rfc3339;

/// `per_page` when absent.
const DEFAULT_PER_PAGE: usize = 20;

/// One entry as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RevocationJson {
    credential_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    bucket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_access_key_id: Option<String>,
    revoked_on: String,
    expires_on: String,
}

impl From<&RevocationRecord> for RevocationJson {
    fn from(r: &RevocationRecord) -> Self {
        Self {
            credential_id: r.credential_id.to_string(),
            bucket: r.bucket.as_ref().map(ToString::to_string),
            parent_access_key_id: r.parent.as_ref().map(ToString::to_string),
            revoked_on: rfc3339(r.revoked_on),
            expires_on: rfc3339(r.expires_on),
        }
    }
}

/// What the body names.
enum Target {
    Id(CredentialId),
    Token(SessionToken),
}

fn parse_body(mut body: crate::body::Fields) -> Result<Target, ApiError> {
    let id = body.optional_str("credentialId")?;
    let token = body.optional_str("sessionToken")?;
    body.finish()?;
    match (id, token) {
        (Some(id), None) => CredentialId::parse(&id).map(Target::Id).ok_or_else(|| {
            RequestError::field("/credentialId", "must be 32 lowercase hex digits").into()
        }),
        (None, Some(t)) => Ok(Target::Token(SessionToken::from_untrusted(&t))),
        (Some(_), Some(_)) => Err(RequestError::field(
            "/sessionToken",
            "give either credentialId or sessionToken, not both",
        )
        .into()),
        (None, None) => Err(RequestError::field(
            "/credentialId",
            "required: the credential's id, or instead sessionToken",
        )
        .into()),
    }
}

fn bad_token(reason: &'static str) -> ApiError {
    RequestError::field("/sessionToken", reason).into()
}

/// `POST …/revocations`.
pub(crate) async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    let target = parse_body(body)?;
    let now = state.clock.now();
    let entry = match target {
        Target::Id(credential_id) => {
            authorize_revoke(&caller.api_token(), &account, RevokeAction::ById)?;
            RevocationRecord {
                credential_id,
                account: account.clone(),
                parent: None,
                bucket: None,
                revoked_on: now,
                expires_on: now.saturating_add(MAX_CREDENTIAL_LIFETIME_SECS),
            }
        }
        Target::Token(token) => {
            let parsed = parse_session_token(&token)
                .map_err(|_| bad_token("is not a session token of the R2 format"))?;
            let parent_id = parsed.issuer().clone();
            authorize_revoke(
                &caller.api_token(),
                &account,
                RevokeAction::BySessionToken { parent: &parent_id },
            )?;
            let claims = parsed.dangerous_unverified_claims();
            if claims.account() != &account {
                return Err(bad_token("belongs to another account"));
            }
            let parent = if caller.token().id == parent_id {
                caller.token().clone()
            } else {
                match state.store.get_token(&parent_id).await {
                    Ok(t) if t.account == account => t,
                    Ok(_) | Err(StoreError::NotFound(Entity::Token)) => {
                        return Err(bad_token("was not minted by a token of this account"));
                    }
                    Err(other) => return Err(other.into()),
                }
            };
            // Signature only: when and for which endpoint it was valid does not matter here.
            let audiences = [claims.audience().to_owned()];
            let ctx = VerifyContext {
                access_key_id: &parent_id,
                now: claims.issued_at(),
                audiences: &audiences,
            };
            let verified = parsed
                .verify(&parent.secret, &ctx)
                .map_err(|_| bad_token("does not verify under its parent token"))?;
            let claims = verified.claims();
            RevocationRecord {
                credential_id: verified.credential_id().clone(),
                account: account.clone(),
                parent: Some(parent_id),
                bucket: Some(claims.bucket().clone()),
                revoked_on: now,
                expires_on: claims.expires_at().saturating_add(IAT_LEEWAY_SECS),
            }
        }
    };
    let stored = state.store.revoke_credential(entry).await?;
    tracing::info!(
        account = %stored.account,
        credential_id = %stored.credential_id,
        caller = %caller.token().id,
        expires_on = stored.expires_on,
        "temporary credential revoked"
    );
    crate::audit::record(
        &state,
        &caller,
        &account,
        mayfly_store::AuditKind::CredentialRevoke,
        |e| {
            e.credential_id = Some(stored.credential_id.as_str().to_owned());
            e.parent = stored.parent.as_ref().map(|p| p.as_str().to_owned());
            e.bucket = stored.bucket.as_ref().map(|b| b.as_str().to_owned());
            e.operation = Some("revoke".to_owned());
        },
    );
    Ok(ok(RevocationJson::from(&stored)))
}

/// `cursor`: `<revoked_on>-<credential id>` of the last entry shown.
fn parse_cursor(raw: &str) -> Option<(u64, CredentialId)> {
    let (on, id) = raw.split_once('-')?;
    Some((on.parse().ok()?, CredentialId::parse(id)?))
}

/// `GET …/revocations`.
pub(crate) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    let query = QueryParams::parse(raw.as_deref())?;
    let per_page = match query.get("per_page") {
        None => DEFAULT_PER_PAGE,
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(
                    RequestError::field("/per_page", "must be an integer from 1 to 1000").into(),
                );
            }
        },
    };
    let after = match query.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(parse_cursor(c).ok_or_else(|| -> ApiError {
            RequestError::field("/cursor", "is not a cursor this listing returned").into()
        })?),
    };
    authorize_revoke(&caller.api_token(), &account, RevokeAction::List)?;
    let mut entries = state
        .store
        .list_revocations(
            &account,
            &ListRevocationsQuery {
                limit: per_page + 1,
                after,
            },
        )
        .await?;
    let more = entries.len() > per_page;
    entries.truncate(per_page);
    let cursor = more
        .then(|| entries.last())
        .flatten()
        .map(|r| format!("{}-{}", r.revoked_on, r.credential_id));
    let result: Vec<RevocationJson> = entries.iter().map(RevocationJson::from).collect();
    let info = ResultInfo {
        cursor,
        per_page: per_page as u64,
        count: Some(result.len() as u64),
        ..ResultInfo::default()
    };
    Ok(ok_list(result, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let id = CredentialId::parse("00112233445566778899aabbccddeeff").expect("valid");
        assert_eq!(
            parse_cursor(&format!("1750000000-{id}")),
            Some((1_750_000_000, id))
        );
        for junk in ["", "-", "x-00112233445566778899aabbccddeeff", "12-zz", "12"] {
            assert_eq!(parse_cursor(junk), None, "{junk}");
        }
    }
}
