//! The audit trail on the API (a Mayfly extension, issue 15 §3): the events management
//! handlers record ([`record`]), and `GET /client/v4/mayfly/accounts/{account_id}/audit`,
//! which lists an account's events newest first.
//!
//! Who may read: decided by `mayfly_core::authorize_audit_read` (an active account-wide admin
//! token of the account; docs/SECURITY.md). Query parameters (snake_case, each at most once):
//! `credential_id`, `parent`, `bucket`, `kind` (one of the kinds below), `since`, `until`
//! (RFC 3339; `since` inclusive, `until` exclusive), `per_page` (1..=1000, default 100),
//! `cursor` (from `result_info.cursor`). A bad value is 400 with `source.pointer` `/<name>`,
//! the form every query-parameter error of this API takes.
//!
//! Each event: `time` (RFC 3339, milliseconds), `kind`, `credentialId`, `parentAccessKeyId`,
//! `bucket`, `key`, `operation`, `status`, `bytes`, `requestId`, `caller`, `detail` (an
//! object, or null); absent values are null. Kinds: `credential.mint`, `credential.revoke`,
//! `token.create`, `token.update`, `token.delete`, `bucket.create`, `bucket.delete`,
//! `bucket.cors`, `bucket.lifecycle`, `s3`.

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::Response;
use mayfly_core::{AccountId, CREDENTIAL_ID_LEN, authorize_audit_read};
use mayfly_store::{AuditCursor, AuditEvent, AuditKind, AuditQuery, MAX_AUDIT_PAGE};
use serde::Serialize;

use crate::ApiState;
use crate::auth::{ApiPath, Caller, parse_account};
use crate::body::QueryParams;
use crate::envelope::{ResultInfo, ok_list};
use crate::error::{ApiError, RequestError};
use crate::time::parse_rfc3339;

/// Events per page when `per_page` is absent.
const DEFAULT_PER_PAGE: usize = 100;

/// Records a management event made by `caller` on `account`: `fill` sets the event's own
/// fields. Never waits (see [`mayfly_store::AuditSink::record`]); does nothing when the audit
/// trail is off.
pub(crate) fn record(
    state: &ApiState,
    caller: &Caller,
    account: &AccountId,
    kind: AuditKind,
    fill: impl FnOnce(&mut AuditEvent),
) {
    if !state.audit.is_enabled() {
        return;
    }
    let mut e = AuditEvent::new(account.clone(), state.clock.now_millis(), kind);
    e.caller = Some(caller.token().id.as_str().to_owned());
    e.status = Some(200);
    fill(&mut e);
    state.audit.record(e);
}

/// One event on the wire.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventJson {
    time: String,
    kind: &'static str,
    credential_id: Option<String>,
    parent_access_key_id: Option<String>,
    bucket: Option<String>,
    key: Option<String>,
    operation: Option<String>,
    status: Option<u16>,
    bytes: Option<u64>,
    request_id: Option<String>,
    caller: Option<String>,
    detail: Option<serde_json::Value>,
}

/// `2026-12-05T11:17:38.123Z`.
fn rfc3339_ms(ms: u64) -> String {
    let secs = crate::time::rfc3339(ms / 1000);
    format!("{}.{:03}Z", secs.trim_end_matches('Z'), ms % 1000)
}

impl From<AuditEvent> for EventJson {
    fn from(e: AuditEvent) -> Self {
        Self {
            time: rfc3339_ms(e.time_ms),
            kind: e.kind.as_str(),
            credential_id: e.credential_id,
            parent_access_key_id: e.parent,
            bucket: e.bucket,
            key: e.key,
            operation: e.operation,
            status: e.status,
            bytes: e.bytes,
            request_id: e.request_id,
            caller: e.caller,
            detail: e.detail.and_then(|d| serde_json::from_str(&d).ok()),
        }
    }
}

/// An RFC 3339 time parameter as epoch milliseconds (fractions below a second dropped).
fn time_param(q: &QueryParams, name: &str) -> Result<Option<u64>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(raw) => parse_rfc3339(raw.trim())
            .map(|s| Some(s.saturating_mul(1000)))
            .ok_or_else(|| {
                RequestError::field(
                    format!("/{name}"),
                    "must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z",
                )
                .into()
            }),
    }
}

/// A text filter: non-empty, at most `max` printable ASCII characters.
fn text_param(q: &QueryParams, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(v) if !v.is_empty() && v.len() <= max && v.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(v.to_owned()))
        }
        Some(_) => Err(RequestError::field(
            format!("/{name}"),
            "must be a non-empty id without spaces or control characters",
        )
        .into()),
    }
}

/// The query string as a store query for `account`.
fn audit_query(account: AccountId, q: &QueryParams) -> Result<AuditQuery, ApiError> {
    let mut query = AuditQuery::new(account);
    query.credential_id = match q.get("credential_id") {
        None => None,
        Some(v) => Some(
            mayfly_core::CredentialId::parse(v)
                .ok_or_else(|| {
                    RequestError::field(
                        "/credential_id",
                        format!(
                            "must be a credential id: {CREDENTIAL_ID_LEN} lowercase hex digits"
                        ),
                    )
                })?
                .as_str()
                .to_owned(),
        ),
    };
    query.parent = text_param(q, "parent", 64)?;
    query.bucket = match q.get("bucket") {
        None => None,
        Some(v) => Some(
            mayfly_core::BucketName::parse(v)
                .map_err(|_| RequestError::field("/bucket", "must be a bucket name"))?
                .as_str()
                .to_owned(),
        ),
    };
    query.kind = match q.get("kind") {
        None => None,
        Some(v) => Some(AuditKind::parse(v).ok_or_else(|| {
            RequestError::field(
                "/kind",
                "must be one of credential.mint, credential.revoke, token.create, \
                 token.update, token.delete, bucket.create, bucket.delete, bucket.cors, \
                 bucket.lifecycle, s3",
            )
        })?),
    };
    query.since_ms = time_param(q, "since")?;
    query.until_ms = time_param(q, "until")?;
    query.limit = match q.get("per_page") {
        None => DEFAULT_PER_PAGE,
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_AUDIT_PAGE).contains(&n) => n,
            _ => {
                return Err(
                    RequestError::field("/per_page", "must be an integer from 1 to 1000").into(),
                );
            }
        },
    };
    query.after = match q.get("cursor") {
        None => None,
        Some(c) => Some(AuditCursor::decode(c).ok_or_else(|| {
            RequestError::field("/cursor", "is not a cursor this listing returned")
        })?),
    };
    Ok(query)
}

/// `GET /client/v4/mayfly/accounts/{account_id}/audit`.
pub(crate) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    // The decision first: who may not read learns nothing, not even whether a filter is valid.
    authorize_audit_read(&caller.api_token(), &account)?;
    let query = audit_query(account, &QueryParams::parse(raw.as_deref())?)?;
    let Some(store) = &state.audit_store else {
        return Err(crate::error::NotFound::Route.into());
    };
    let page = store.list_audit(&query).await?;
    let events: Vec<EventJson> = page
        .events
        .into_iter()
        .map(|s| EventJson::from(s.event))
        .collect();
    let info = ResultInfo {
        cursor: page.next.map(|c| c.encode()),
        per_page: query.clamped_limit() as u64,
        count: Some(events.len() as u64),
        ..ResultInfo::default()
    };
    Ok(ok_list(events, info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn pointer(raw: &str) -> Option<String> {
        let account = AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect("valid");
        QueryParams::parse(Some(raw))
            .and_then(|q| audit_query(account, &q))
            .err()
            .and_then(|e| e.pointer().map(str::to_owned))
    }

    #[test]
    fn bad_filters_point_at_their_parameter() {
        assert_eq!(pointer("since=yesterday"), Some("/since".into()));
        assert_eq!(pointer("until=2026-13-01T00:00:00Z"), Some("/until".into()));
        assert_eq!(pointer("kind=s4"), Some("/kind".into()));
        assert_eq!(pointer("credential_id=XYZ"), Some("/credential_id".into()));
        assert_eq!(pointer("bucket=Not_A_Bucket"), Some("/bucket".into()));
        assert_eq!(pointer("per_page=0"), Some("/per_page".into()));
        assert_eq!(pointer("per_page=1001"), Some("/per_page".into()));
        assert_eq!(pointer("cursor=abc"), Some("/cursor".into()));
        assert_eq!(pointer("parent=a%20b"), Some("/parent".into()));
        assert_eq!(pointer("kind=s3&kind=s3"), Some("/kind".into()));
    }

    #[test]
    fn good_filters_parse() {
        let account = AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect("valid");
        let q = QueryParams::parse(Some(
            "kind=credential.mint&since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00.5Z&per_page=5&cursor=10.2&bucket=photos",
        ))
        .expect("parse");
        let q = audit_query(account, &q).expect("valid");
        assert_eq!(q.kind, Some(AuditKind::CredentialMint));
        assert_eq!(q.since_ms, Some(1_767_225_600_000));
        assert_eq!(q.until_ms, Some(1_767_312_000_000));
        assert_eq!(q.limit, 5);
        assert_eq!(
            q.after,
            Some(AuditCursor {
                time_ms: 10,
                seq: 2
            })
        );
        assert_eq!(q.bucket.as_deref(), Some("photos"));
    }

    #[test]
    fn times_are_rendered_with_milliseconds() {
        assert_eq!(rfc3339_ms(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
    }
}
