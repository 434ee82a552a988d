//! R2 API tokens: create, list, get, verify, revoke, under Cloudflare's own paths.
//!
//! | method | path | who |
//! |--------|------|-----|
//! | POST   | `/accounts/{a}/tokens` | admin-read-write |
//! | GET    | `/accounts/{a}/tokens` | admin-read-write |
//! | GET    | `/accounts/{a}/tokens/permission_groups` | any token of the account |
//! | GET    | `/accounts/{a}/tokens/verify`, `/user/tokens/verify` | the token itself |
//! | GET    | `/accounts/{a}/tokens/{token_id}` | admin-read-write, or the token itself |
//! | PUT    | `/accounts/{a}/tokens/{token_id}` | admin-read-write |
//! | DELETE | `/accounts/{a}/tokens/{token_id}` | admin-read-write, or the token itself |
//!
//! Create accepts two bodies:
//! - Cloudflare's (what `client.accounts.tokens.create(account_id=, name=, policies=[...])`
//!   sends): `{"name", "policies":[{"effect":"allow","permission_groups":[{"id"}|{"name"}],
//!   "resources":{"com.cloudflare.api.account.<a>":"*"} or
//!   {"com.cloudflare.edge.r2.bucket.<a>_<jurisdiction>_<bucket>":"*", ...}}], "expires_on"?}`.
//!   R2's four permission groups map to the four permissions: "Workers R2 Storage Write" →
//!   admin-read-write, "Workers R2 Storage Read" → admin-read-only, "Workers R2 Storage Bucket
//!   Item Write" → object-read-write, "... Item Read" → object-read-only. Groups in one token
//!   must combine into one permission (the strongest must cover the others) and object-level
//!   policies must all grant the same permission; anything else is refused rather than widened.
//! - Mayfly's simpler one (for the CLI): `{"name", "permission", "buckets"?, "expires_on"?}`.
//!
//! The answer carries the token `value` once, plus `access_key_id` (= id) and
//! `secret_access_key` (= sha256 hex of the value): the S3 key pair. Only the hash is stored.
//!
//! A new token never outlives the token that creates it: without `expires_on` it inherits the
//! creator's expiry, and a later `expires_on` is refused.
//!
//! PUT replaces a token's name, permission/buckets (either body shape, validated exactly like
//! create), `status` (`active` or `disabled`; absent keeps the current one) and `expires_on`
//! (absent: none, or the caller's own expiry, as on create). The id, value and S3 secret stay.
//! Every check of a parent token reads its current record, so a downgrade, a disable or a
//! revocation binds every temporary credential minted from it on the next request, on every
//! node. A revoked token cannot be updated (409).
//!
//! DELETE revokes (the row stays, status `disabled`), so a replayed DELETE succeeds again and
//! every temporary credential minted from the token dies at once. Creating is not idempotent:
//! the SDKs only replay after a 408/409/429/5xx, which a successful create never answers.

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::Response;
use mayfly_core::{
    AccessKeyId, AccountId, BucketName, Permission, TokenAction, TokenGrant, authorize_token_admin,
};
use mayfly_store::{
    AuditKind, Entity, StoreError, TokenRecord, TokenStatus, TokenUpdate, TokenValue, new_token_id,
};
use serde::Serialize;
use serde_json::Value;

use crate::ApiState;
use crate::auth::{ApiPath, Caller, parse_account};
use crate::body::{Fields, JsonBody, QueryParams};
use crate::envelope::{ResultInfo, ok, ok_list};
use crate::error::{ApiError, Internal, NotFound, RequestError};
use crate::policies::{
    ACCOUNT_RESOURCE, BUCKET_RESOURCE, PERMISSION_GROUPS, group_of, parse_policies,
};
use crate::time::{parse_rfc3339, rfc3339};

/// Longest token name (Cloudflare's limit).
const MAX_NAME_LEN: usize = 120;

/// Tokens per page when `per_page` is absent, and the most a page may hold.
const DEFAULT_PER_PAGE: u64 = 20;
const MAX_PER_PAGE: u64 = 1000;

/// Most buckets one token may be limited to.
const MAX_BUCKETS: usize = 1000;

/// What a create request asks for, whichever body shape it used.
#[derive(Debug, PartialEq, Eq)]
struct NewToken {
    name: String,
    permission: Permission,
    buckets: Option<Vec<BucketName>>,
    expires_at: Option<u64>,
}

fn parse_name(body: &mut Fields) -> Result<String, ApiError> {
    let name = body.required_str("name")?;
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(RequestError::field("/name", "must be 1 to 120 characters").into());
    }
    Ok(name)
}

fn parse_expiry(body: &mut Fields, now: u64) -> Result<Option<u64>, ApiError> {
    let Some(raw) = body.optional_str("expires_on")? else {
        return Ok(None);
    };
    match parse_rfc3339(&raw) {
        Some(t) if t > now => Ok(Some(t)),
        Some(_) => Err(RequestError::field("/expires_on", "must be in the future").into()),
        None => Err(RequestError::field("/expires_on", "must be an RFC 3339 timestamp").into()),
    }
}

fn parse_buckets(body: &mut Fields) -> Result<Option<Vec<BucketName>>, ApiError> {
    let Some(list) = body.optional_str_list("buckets")? else {
        return Ok(None);
    };
    if list.is_empty() || list.len() > MAX_BUCKETS {
        return Err(RequestError::field(
            "/buckets",
            "must name 1 to 1000 buckets (omit it for all)",
        )
        .into());
    }
    let mut buckets = list
        .iter()
        .enumerate()
        .map(|(i, b)| {
            BucketName::parse(b).map_err(|_| RequestError::InvalidBucketName {
                pointer: Some(format!("/buckets/{i}")),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    buckets.sort();
    buckets.dedup();
    Ok(Some(buckets))
}

impl NewToken {
    fn parse(mut body: Fields, account: &AccountId, now: u64) -> Result<Self, ApiError> {
        let name = parse_name(&mut body)?;
        let expires_at = parse_expiry(&mut body, now)?;
        for unsupported in ["not_before", "condition"] {
            if body.take(unsupported).is_some() {
                return Err(
                    RequestError::field(body.pointer(unsupported), "is not supported").into(),
                );
            }
        }
        let (permission, buckets) = match (body.has("policies"), body.has("permission")) {
            (true, true) => {
                return Err(RequestError::field(
                    "/permission",
                    "give either `policies` or `permission`",
                )
                .into());
            }
            (true, false) => {
                let policies = body.optional_object_list("policies")?.unwrap_or_default();
                parse_policies(policies, account)?
            }
            (false, _) => {
                let permission = Permission::parse(&body.required_str("permission")?)?;
                let buckets = parse_buckets(&mut body)?;
                if permission.is_admin() && buckets.is_some() {
                    return Err(RequestError::field(
                        "/buckets",
                        "only object-level permissions take a bucket list",
                    )
                    .into());
                }
                (permission, buckets)
            }
        };
        body.finish()?;
        Ok(Self {
            name,
            permission,
            buckets,
            expires_at,
        })
    }
}

#[derive(Serialize)]
struct GroupJson {
    id: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct PolicyJson {
    id: String,
    effect: &'static str,
    permission_groups: [GroupJson; 1],
    resources: serde_json::Map<String, Value>,
}

/// A token as listed (Cloudflare's token object plus Mayfly's `permission`/`buckets`).
#[derive(Serialize)]
struct TokenJson {
    id: String,
    name: String,
    status: &'static str,
    issued_on: String,
    modified_on: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_on: Option<String>,
    policies: [PolicyJson; 1],
    access_key_id: String,
    permission: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    buckets: Option<Vec<String>>,
}

impl TokenJson {
    fn new(t: &TokenRecord, now: u64) -> Self {
        let status = match t.status {
            TokenStatus::Revoked | TokenStatus::Disabled => "disabled",
            TokenStatus::Active if t.expires_at.is_some_and(|e| now >= e) => "expired",
            TokenStatus::Active => "active",
        };
        let (gid, gname) = group_of(t.permission);
        let mut resources = serde_json::Map::new();
        match (&t.buckets, t.permission.is_admin()) {
            (Some(list), false) => {
                for b in list {
                    resources.insert(
                        format!("{BUCKET_RESOURCE}{}_default_{}", t.account, b),
                        Value::String("*".into()),
                    );
                }
            }
            (None, _) | (Some(_), true) => {
                resources.insert(
                    format!("{ACCOUNT_RESOURCE}{}", t.account),
                    Value::String("*".into()),
                );
            }
        }
        Self {
            id: t.id.as_str().to_owned(),
            name: t.name.clone(),
            status,
            issued_on: rfc3339(t.created_at),
            modified_on: rfc3339(t.created_at),
            expires_on: t.expires_at.map(rfc3339),
            policies: [PolicyJson {
                id: t.id.as_str().to_owned(),
                effect: "allow",
                permission_groups: [GroupJson {
                    id: gid,
                    name: gname,
                }],
                resources,
            }],
            access_key_id: t.id.as_str().to_owned(),
            permission: t.permission.as_str(),
            buckets: t
                .buckets
                .as_ref()
                .map(|l| l.iter().map(|b| b.as_str().to_owned()).collect()),
        }
    }
}

/// The create answer: the token plus its value and S3 secret, shown this once.
#[derive(Serialize)]
struct CreatedJson<'a> {
    #[serde(flatten)]
    token: TokenJson,
    value: &'a str,
    secret_access_key: &'a str,
}

/// A token cannot outlive the token that creates (or updates) it: an absent expiry inherits
/// the caller's; a later one is refused by core (`DenyReason::Lifetime`, 400 at `/expires_on`),
/// otherwise a short-lived admin token could mint a permanent one.
fn inherited_expiry(caller: &Caller, asked: Option<u64>) -> Option<u64> {
    asked.or(caller.token().expires_at)
}

/// Core's view of what a create or update body grants.
fn grant(request: &NewToken, expires_at: Option<u64>) -> TokenGrant<'_> {
    TokenGrant {
        permission: request.permission,
        buckets: request.buckets.as_deref(),
        expires_at,
    }
}

/// `POST /accounts/{account_id}/tokens`.
pub(crate) async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    let now = state.clock.now();
    let mut request = NewToken::parse(body, &account, now)?;
    request.expires_at = inherited_expiry(&caller, request.expires_at);
    authorize_token_admin(
        &caller.api_token(),
        &account,
        TokenAction::Create(grant(&request, request.expires_at)),
    )?;
    // An id or hash collision is a 2^-128 event; one retry with fresh values settles it.
    for _ in 0..2 {
        let value = TokenValue::generate();
        let record = TokenRecord {
            id: new_token_id(),
            account: account.clone(),
            name: request.name.clone(),
            permission: request.permission,
            buckets: request.buckets.clone(),
            secret: value.secret_access_key(),
            status: TokenStatus::Active,
            created_at: now,
            expires_at: request.expires_at,
        };
        match state.store.create_token(record.clone()).await {
            Ok(()) => {
                tracing::info!(account = %account, token = %record.id, permission = %record.permission, "API token created");
                crate::audit::record(&state, &caller, &account, AuditKind::TokenCreate, |e| {
                    e.parent = Some(record.id.as_str().to_owned());
                    e.operation = Some("create".to_owned());
                    e.detail = Some(token_detail(&record));
                });
                return Ok(ok(CreatedJson {
                    token: TokenJson::new(&record, now),
                    // The one response that carries the value and its derived S3 secret.
                    value: value.expose_secret(),
                    secret_access_key: record.secret.expose_secret(),
                }));
            }
            Err(StoreError::AlreadyExists(Entity::Token)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(Internal::new("token id or secret collided twice").into())
}

/// `page`/`per_page` of a page-numbered listing (1-based; 1..=1000 per page).
fn page_params(query: &QueryParams) -> Result<(u64, u64), ApiError> {
    let number = |name: &str, default: u64, max: u64| -> Result<u64, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    RequestError::field(
                        format!("/{name}"),
                        format!("must be an integer from 1 to {max}"),
                    )
                    .into()
                }),
        }
    };
    Ok((
        number("page", 1, u64::from(u32::MAX))?,
        number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
    ))
}

/// `GET /accounts/{account_id}/tokens?page=&per_page=`: page-numbered like Cloudflare's, so
/// the SDKs' auto-pagination stops at the first empty page.
pub(crate) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    authorize_token_admin(&caller.api_token(), &account, TokenAction::List)?;
    let (page, per_page) = page_params(&QueryParams::parse(raw.as_deref())?)?;
    let now = state.clock.now();
    let all = state.store.list_tokens(&account).await?;
    let total = all.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(usize::MAX);
    let tokens: Vec<TokenJson> = all
        .iter()
        .skip(skip)
        .take(take)
        .map(|t| TokenJson::new(t, now))
        .collect();
    let info = ResultInfo {
        cursor: None,
        per_page,
        page: Some(page),
        count: Some(tokens.len() as u64),
        total_count: Some(total),
    };
    Ok(ok_list(tokens, info))
}

/// Loads a token of the account once core allowed `action` (read or revoke) on it.
async fn managed_token(
    state: &ApiState,
    caller: &Caller,
    account: &str,
    token_id: &str,
    uri: &Uri,
    action: fn(&AccessKeyId) -> TokenAction<'_>,
) -> Result<TokenRecord, ApiError> {
    let account = parse_account(account, uri.path())?;
    let id = AccessKeyId::parse(token_id).map_err(|_| RequestError::BadIdentifier {
        path: uri.path().to_owned(),
    })?;
    authorize_token_admin(&caller.api_token(), &account, action(&id))?;
    let token = state.store.get_token(&id).await?;
    if token.account != account {
        return Err(NotFound::Token.into());
    }
    Ok(token)
}

/// `GET /accounts/{account_id}/tokens/{token_id}`.
pub(crate) async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, token_id)): ApiPath<(String, String)>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let token = managed_token(&state, &caller, &account, &token_id, &uri, |t| {
        TokenAction::Read(t)
    })
    .await?;
    Ok(ok(TokenJson::new(&token, state.clock.now())))
}

/// The `status` of an update body: `active` or `disabled` (absent: unchanged).
fn parse_status(body: &mut Fields) -> Result<Option<TokenStatus>, ApiError> {
    match body.optional_str("status")?.as_deref() {
        None => Ok(None),
        Some("active") => Ok(Some(TokenStatus::Active)),
        Some("disabled") => Ok(Some(TokenStatus::Disabled)),
        Some(_) => Err(RequestError::field("/status", "must be `active` or `disabled`").into()),
    }
}

/// `PUT /accounts/{account_id}/tokens/{token_id}`: replaces name, permission/buckets, status
/// and expiry. Answers the updated token (without value or secret).
pub(crate) async fn update(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, token_id)): ApiPath<(String, String)>,
    uri: Uri,
    JsonBody(mut body): JsonBody,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    let id = AccessKeyId::parse(&token_id).map_err(|_| RequestError::BadIdentifier {
        path: uri.path().to_owned(),
    })?;
    let now = state.clock.now();
    let status = parse_status(&mut body)?;
    let request = NewToken::parse(body, &account, now)?;
    let expires_at = inherited_expiry(&caller, request.expires_at);
    // Even on itself: an update can raise a permission, which only an admin may grant, and
    // never beyond the caller's own rights.
    authorize_token_admin(
        &caller.api_token(),
        &account,
        TokenAction::Update(&id, grant(&request, expires_at)),
    )?;
    let update = TokenUpdate {
        name: request.name,
        permission: request.permission,
        buckets: request.buckets,
        status,
        expires_at,
    };
    let updated = state.store.update_token(&account, &id, update).await?;
    tracing::info!(account = %account, token = %updated.id, permission = %updated.permission, status = updated.status.as_str(), "API token updated");
    crate::audit::record(&state, &caller, &account, AuditKind::TokenUpdate, |e| {
        e.parent = Some(updated.id.as_str().to_owned());
        e.operation = Some("update".to_owned());
        e.detail = Some(token_detail(&updated));
    });
    Ok(ok(TokenJson::new(&updated, now)))
}

/// The audit detail of a token change: name, permission, buckets, status, expiry (never the
/// value or its secret).
fn token_detail(t: &TokenRecord) -> String {
    serde_json::json!({
        "name": t.name,
        "permission": t.permission.as_str(),
        "buckets": t.buckets.as_ref().map(|b| b.iter().map(|n| n.as_str()).collect::<Vec<_>>()),
        "status": t.status.as_str(),
        "expiresOn": t.expires_at.map(crate::time::rfc3339),
    })
    .to_string()
}

#[derive(Serialize)]
struct IdJson {
    id: String,
}

/// `DELETE /accounts/{account_id}/tokens/{token_id}`: revokes; idempotent. Result `{"id"}`.
pub(crate) async fn revoke(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, token_id)): ApiPath<(String, String)>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let token = managed_token(&state, &caller, &account, &token_id, &uri, |t| {
        TokenAction::Revoke(t)
    })
    .await?;
    state.store.revoke_token(&token.account, &token.id).await?;
    tracing::info!(account = %token.account, token = %token.id, "API token revoked");
    crate::audit::record(
        &state,
        &caller,
        &token.account,
        AuditKind::TokenDelete,
        |e| {
            e.parent = Some(token.id.as_str().to_owned());
            e.operation = Some("revoke".to_owned());
        },
    );
    Ok(ok(IdJson {
        id: token.id.as_str().to_owned(),
    }))
}

#[derive(Serialize)]
struct VerifyJson {
    id: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_on: Option<String>,
}

fn verify_answer(caller: &Caller) -> Response {
    let t = caller.token();
    ok(VerifyJson {
        id: t.id.as_str().to_owned(),
        status: "active",
        expires_on: t.expires_at.map(rfc3339),
    })
}

/// `GET /user/tokens/verify`: the caller's token is valid (else the extractor answered 401).
pub(crate) async fn verify_user(caller: Caller) -> Response {
    verify_answer(&caller)
}

/// `GET /accounts/{account_id}/tokens/verify`.
pub(crate) async fn verify_account(
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    authorize_token_admin(&caller.api_token(), &account, TokenAction::Verify)?;
    Ok(verify_answer(&caller))
}

#[derive(Serialize)]
struct GroupListJson {
    id: &'static str,
    name: &'static str,
    scopes: [&'static str; 1],
}

/// `GET /accounts/{account_id}/tokens/permission_groups`: R2's four groups, so tools that look
/// groups up by name find them.
pub(crate) async fn permission_groups(
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    authorize_token_admin(
        &caller.api_token(),
        &account,
        TokenAction::ListPermissionGroups,
    )?;
    let groups: Vec<GroupListJson> = PERMISSION_GROUPS
        .iter()
        .map(|(id, name, p)| GroupListJson {
            id,
            name,
            scopes: [if p.is_admin() {
                "com.cloudflare.api.account"
            } else {
                "com.cloudflare.edge.r2.bucket"
            }],
        })
        .collect();
    Ok(ok(groups))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_object;
    use crate::error::ErrorCode;

    const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

    fn parse(json: &str) -> Result<NewToken, Option<String>> {
        let account = AccountId::parse(ACCOUNT).map_err(|_| None)?;
        let body = parse_object(json.as_bytes()).map_err(|e| e.pointer().map(str::to_owned))?;
        NewToken::parse(body, &account, 1_750_000_000).map_err(|e| e.pointer().map(str::to_owned))
    }

    fn bucket(b: &str) -> BucketName {
        BucketName::parse(b).unwrap_or_else(|_| panic!("valid bucket {b}"))
    }

    #[test]
    fn mayfly_shape() {
        let t = parse(r#"{"name":"ci","permission":"object-read-write","buckets":["b-2","b-1"]}"#);
        assert_eq!(
            t,
            Ok(NewToken {
                name: "ci".into(),
                permission: Permission::ObjectReadWrite,
                buckets: Some(vec![bucket("b-1"), bucket("b-2")]),
                expires_at: None,
            })
        );
        assert_eq!(
            parse(r#"{"name":"x","permission":"admin-read-write","buckets":["abc"]}"#).err(),
            Some(Some("/buckets".into()))
        );
        assert_eq!(
            parse(r#"{"name":"x","permission":"root"}"#).err(),
            Some(Some("/permission".into()))
        );
        assert_eq!(
            parse(r#"{"name":"x","permission":"object-read-only","extra":1}"#).err(),
            Some(Some("/extra".into()))
        );
        assert_eq!(
            parse(r#"{"permission":"object-read-only"}"#).err(),
            Some(Some("/name".into()))
        );
        assert_eq!(parse(r#"{"name":"x","permission":"object-read-only","expires_on":"2020-01-01T00:00:00Z"}"#).err(), Some(Some("/expires_on".into())));
        assert_eq!(
            parse(r#"{"name":"x","permission":"object-read-only","expires_on":"2030-01-01T00:00:00Z"}"#).ok().and_then(|t| t.expires_at),
            Some(1_893_456_000)
        );
    }

    #[test]
    fn cloudflare_shape_maps_permission_groups() {
        let admin = format!(
            r#"{{"name":"a","policies":[{{"effect":"allow","permission_groups":[{{"id":"bf7481a1826f439697cb59a20b22293e"}},{{"id":"b4992e1108244f5d8bfbd5744320c2e1"}}],"resources":{{"com.cloudflare.api.account.{ACCOUNT}":"*"}}}}]}}"#
        );
        assert_eq!(
            parse(&admin).map(|t| (t.permission, t.buckets)),
            Ok((Permission::AdminReadWrite, None))
        );
        let item = format!(
            r#"{{"name":"a","policies":[{{"effect":"allow","permission_groups":[{{"name":"Workers R2 Storage Bucket Item Read"}}],"resources":{{"com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_logs":"*","com.cloudflare.edge.r2.bucket.{ACCOUNT}_eu_data":"*"}}}}]}}"#
        );
        assert_eq!(
            parse(&item).map(|t| (t.permission, t.buckets)),
            Ok((
                Permission::ObjectReadOnly,
                Some(vec![bucket("data"), bucket("logs")])
            ))
        );
    }

    #[test]
    fn cloudflare_shape_refuses_what_it_cannot_express() {
        let other = "0123456789abcdef0123456789abcdef";
        let cases = [
            // Read (admin) + Item Write: neither covers the other.
            (
                format!(
                    r#"{{"name":"a","policies":[{{"effect":"allow","permission_groups":[{{"id":"b4992e1108244f5d8bfbd5744320c2e1"}},{{"id":"2efd5506f9c8494dacb1fa10a3e7d5b6"}}],"resources":{{"com.cloudflare.api.account.{ACCOUNT}":"*"}}}}]}}"#
                ),
                "/policies/0/permission_groups",
            ),
            (
                format!(
                    r#"{{"name":"a","policies":[{{"effect":"deny","permission_groups":[{{"id":"bf7481a1826f439697cb59a20b22293e"}}],"resources":{{"com.cloudflare.api.account.{ACCOUNT}":"*"}}}}]}}"#
                ),
                "/policies/0/effect",
            ),
            (
                format!(
                    r#"{{"name":"a","policies":[{{"effect":"allow","permission_groups":[{{"id":"ffffffffffffffffffffffffffffffff"}}],"resources":{{"com.cloudflare.api.account.{ACCOUNT}":"*"}}}}]}}"#
                ),
                "/policies/0/permission_groups/0/id",
            ),
            (
                format!(
                    r#"{{"name":"a","policies":[{{"effect":"allow","permission_groups":[{{"id":"bf7481a1826f439697cb59a20b22293e"}}],"resources":{{"com.cloudflare.api.account.{other}":"*"}}}}]}}"#
                ),
                "/policies/0/resources/com.cloudflare.api.account.0123456789abcdef0123456789abcdef",
            ),
            (
                format!(
                    r#"{{"name":"a","policies":[{{"effect":"allow","permission_groups":[{{"id":"bf7481a1826f439697cb59a20b22293e"}}],"resources":{{"com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_bkt1":"*"}}}}]}}"#
                ),
                "/policies/0/resources",
            ),
            // Item Write on one bucket + Item Read on another would widen the second.
            (
                format!(
                    r#"{{"name":"a","policies":[{{"effect":"allow","permission_groups":[{{"id":"2efd5506f9c8494dacb1fa10a3e7d5b6"}}],"resources":{{"com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_b1a":"*"}}}},{{"effect":"allow","permission_groups":[{{"id":"6a018a9f2fc74eb6b293b0c548f38b39"}}],"resources":{{"com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_b2a":"*"}}}}]}}"#
                ),
                "/policies",
            ),
            (r#"{"name":"a","policies":[]}"#.to_owned(), "/policies"),
            (
                r#"{"name":"a","permission":"admin-read-write","policies":[]}"#.to_owned(),
                "/permission",
            ),
        ];
        for (body, pointer) in cases {
            assert_eq!(parse(&body).err(), Some(Some(pointer.to_owned())), "{body}");
        }
    }
}
