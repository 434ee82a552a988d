//! `/accounts/{account_id}/r2/buckets[/{bucket_name}]`: list, create, get, patch, delete.
//!
//! Permissions (D, following Cloudflare's permission groups), decided by
//! `mayfly_core::authorize_bucket_admin`:
//! - create, delete and patch need `admin-read-write`;
//! - get needs a token that covers the bucket: any admin token, or an object-level token whose
//!   bucket list includes it (or that has no list);
//! - list is open to every token but shows only the buckets it covers, so an object-level token
//!   sees exactly its own buckets. Filtering happens before paging, so pages hold up to
//!   `per_page` visible buckets and a cursor never names a bucket outside the caller's rights.
//!
//! A name the caller may not see is refused with 403 before existence is looked up, so the
//! answer never tells whether someone else's bucket exists.
//!
//! `cf-r2-jurisdiction` (default, eu, fedramp) sets the jurisdiction on create and, when sent,
//! filters list/get/delete to buckets of that jurisdiction (Cloudflare keeps jurisdictions apart).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use mayfly_core::{BucketAction, BucketName, authorize_bucket_admin};
use mayfly_store::{
    AuditKind, BucketId, BucketOrder, BucketRecord, Jurisdiction, ListBucketsQuery, SortDirection,
};
use serde::Serialize;

use crate::ApiState;
use crate::auth::{ApiPath, Caller, parse_account};
use crate::body::{JsonBody, QueryParams};
use crate::envelope::{ResultInfo, ok, ok_list};
use crate::error::{ApiError, Conflict, NotFound, RequestError};
use crate::time::rfc3339_millis;

/// Location hints R2 accepts (OpenAPI `r2_bucket_location`), lowercase on the wire.
const LOCATIONS: [&str; 6] = ["apac", "eeur", "enam", "weur", "wnam", "oc"];

/// Where a bucket is placed when no hint is given.
const DEFAULT_LOCATION: &str = "enam";

/// Storage classes (OpenAPI `r2_storage_class`).
const STORAGE_CLASSES: [&str; 2] = ["Standard", "InfrequentAccess"];

/// `per_page` when absent (OpenAPI default).
const DEFAULT_PER_PAGE: usize = 20;

/// A bucket as the v4 API shows it (OpenAPI `r2_bucket`).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct BucketJson {
    name: String,
    creation_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    storage_class: &'static str,
    jurisdiction: &'static str,
}

impl From<&BucketRecord> for BucketJson {
    fn from(b: &BucketRecord) -> Self {
        // Records may come from the S3 side with other spellings; show only schema values.
        let location = b.location.to_ascii_lowercase();
        let location = LOCATIONS.contains(&location.as_str()).then_some(location);
        let storage_class = STORAGE_CLASSES
            .into_iter()
            .find(|c| c.eq_ignore_ascii_case(&b.storage_class))
            .unwrap_or("Standard");
        Self {
            name: b.name.as_str().to_owned(),
            creation_date: rfc3339_millis(b.created_at),
            location,
            storage_class,
            jurisdiction: b.jurisdiction.as_str(),
        }
    }
}

#[derive(Serialize)]
struct BucketList {
    buckets: Vec<BucketJson>,
}

/// The empty object Cloudflare returns from DELETE (the schema requires an object).
#[derive(Serialize)]
struct Empty {}

/// `cf-r2-jurisdiction`, when sent.
fn jurisdiction_header(headers: &HeaderMap) -> Result<Option<Jurisdiction>, ApiError> {
    const NAME: &str = "cf-r2-jurisdiction";
    let Some(value) = headers.get(NAME) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| Jurisdiction::parse(&v.trim().to_ascii_lowercase()).ok())
        .map(Some)
        .ok_or_else(|| {
            RequestError::InvalidHeader {
                name: NAME,
                expected: "default, eu, fedramp",
            }
            .into()
        })
}

fn parse_name(raw: &str, pointer: Option<&str>) -> Result<BucketName, ApiError> {
    BucketName::parse(raw).map_err(|_| {
        RequestError::InvalidBucketName {
            pointer: pointer.map(str::to_owned),
        }
        .into()
    })
}

fn list_query(query: &QueryParams) -> Result<ListBucketsQuery, ApiError> {
    let per_page = match query.get("per_page") {
        None => DEFAULT_PER_PAGE,
        Some(raw) => {
            // The OpenAPI type is `number`: accept `5` and `5.0`, nothing fractional.
            let n = raw.trim().parse::<f64>().ok().filter(|n| n.fract() == 0.0);
            match n {
                Some(n) if (1.0..=1000.0).contains(&n) => n as usize,
                _ => {
                    return Err(RequestError::field(
                        "/per_page",
                        "must be an integer from 1 to 1000",
                    )
                    .into());
                }
            }
        }
    };
    let order = match query.get("order") {
        None | Some("name") => BucketOrder::Name,
        Some("creation_date") => BucketOrder::CreationDate,
        Some(_) => {
            return Err(RequestError::field("/order", "must be `name` or `creation_date`").into());
        }
    };
    let direction = match query.get("direction") {
        None | Some("asc") => SortDirection::Asc,
        Some("desc") => SortDirection::Desc,
        Some(_) => return Err(RequestError::field("/direction", "must be `asc` or `desc`").into()),
    };
    let text = |name: &str| query.get(name).filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(ListBucketsQuery {
        name_contains: text("name_contains"),
        start_after: text("start_after"),
        per_page,
        order,
        direction,
        cursor: text("cursor"),
    })
}

/// Store pages fetched while filling one visible page: the most buckets one store call returns.
const SCAN_BATCH: usize = 1000;

/// `GET /accounts/{account_id}/r2/buckets`.
///
/// Filtering happens before paging: the store is walked in the requested order, buckets the
/// caller may not see (or of another jurisdiction than asked) are dropped, and the page and its
/// cursor are cut from what is left. So a page holds up to `per_page` visible buckets, the
/// cursor always names a bucket the caller sees (the last one shown), and an object-level
/// token's listing never hints at another bucket's name.
pub(crate) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    let query = list_query(&QueryParams::parse(raw.as_deref())?)?;
    let jurisdiction = jurisdiction_header(&headers)?;
    let me = caller.api_token();
    authorize_bucket_admin(&me, &account, BucketAction::List)?;
    let wanted = query.per_page.saturating_add(1);
    let mut scan = ListBucketsQuery {
        per_page: SCAN_BATCH,
        ..query.clone()
    };
    let mut visible: Vec<BucketRecord> = Vec::new();
    loop {
        let batch = state.store.list_buckets(&account, &scan).await?;
        visible.extend(batch.buckets.into_iter().filter(|b| {
            authorize_bucket_admin(&me, &account, BucketAction::Show(&b.name)).is_ok()
                && jurisdiction.is_none_or(|j| j == b.jurisdiction)
        }));
        match batch.cursor {
            Some(next) if visible.len() < wanted => scan.cursor = Some(next),
            Some(_) | None => break,
        }
    }
    visible.truncate(wanted);
    let page = mayfly_store::bucket_page::page(visible, &query);
    let buckets: Vec<BucketJson> = page.buckets.iter().map(BucketJson::from).collect();
    let info = ResultInfo {
        cursor: page.cursor,
        per_page: query.per_page as u64,
        count: Some(buckets.len() as u64),
        ..ResultInfo::default()
    };
    Ok(ok_list(BucketList { buckets }, info))
}

/// `POST /accounts/{account_id}/r2/buckets` with `{"name","locationHint"?,"storageClass"?}`.
/// Replaying a successful create answers 409 (10004), never a second bucket.
pub(crate) async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    JsonBody(mut body): JsonBody,
) -> Result<Response, ApiError> {
    let account = parse_account(&account, uri.path())?;
    let jurisdiction = jurisdiction_header(&headers)?.unwrap_or_default();
    let name = parse_name(&body.required_str("name")?, Some("/name"))?;
    authorize_bucket_admin(&caller.api_token(), &account, BucketAction::Create(&name))?;
    let location = match body.optional_str("locationHint")? {
        None => DEFAULT_LOCATION.to_owned(),
        Some(hint) => {
            let hint = hint.to_ascii_lowercase();
            if !LOCATIONS.contains(&hint.as_str()) {
                return Err(RequestError::field(
                    "/locationHint",
                    "must be one of apac, eeur, enam, weur, wnam, oc",
                )
                .into());
            }
            hint
        }
    };
    let storage_class = match body.optional_str("storageClass")? {
        None => "Standard",
        Some(class) => STORAGE_CLASSES
            .into_iter()
            .find(|c| *c == class)
            .ok_or_else(|| {
                RequestError::field("/storageClass", "must be `Standard` or `InfrequentAccess`")
            })?,
    };
    body.finish()?;
    let record = BucketRecord {
        account,
        name,
        created_at: state.clock.now(),
        location: location.to_ascii_uppercase(),
        storage_class: storage_class.to_owned(),
        jurisdiction,
    };
    state.store.create_bucket(record.clone()).await?;
    tracing::info!(account = %record.account, bucket = %record.name, "bucket created");
    crate::audit::record(
        &state,
        &caller,
        &record.account,
        AuditKind::BucketCreate,
        |e| {
            e.bucket = Some(record.name.as_str().to_owned());
            e.operation = Some("create".to_owned());
        },
    );
    Ok(ok(BucketJson::from(&record)))
}

/// Loads a bucket once core allowed `action` (read, edit or delete) on it, honouring
/// `cf-r2-jurisdiction`. A name the caller may not touch is refused before existence is
/// looked up.
pub(crate) async fn visible_bucket(
    state: &ApiState,
    caller: &Caller,
    (account, name): (&str, &str),
    uri: &Uri,
    headers: &HeaderMap,
    action: fn(&BucketName) -> BucketAction<'_>,
) -> Result<BucketRecord, ApiError> {
    let account = parse_account(account, uri.path())?;
    let name = parse_name(name, None)?;
    authorize_bucket_admin(&caller.api_token(), &account, action(&name))?;
    let jurisdiction = jurisdiction_header(headers)?;
    let record = state
        .store
        .get_bucket(&BucketId::new(account, name))
        .await?;
    if jurisdiction.is_some_and(|j| j != record.jurisdiction) {
        return Err(NotFound::Bucket.into());
    }
    Ok(record)
}

/// `GET /accounts/{account_id}/r2/buckets/{bucket_name}`.
pub(crate) async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, name)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = visible_bucket(&state, &caller, (&account, &name), &uri, &headers, |b| {
        BucketAction::Read(b)
    })
    .await?;
    Ok(ok(BucketJson::from(&record)))
}

/// `DELETE /accounts/{account_id}/r2/buckets/{bucket_name}`: refused (409, 10008) while the
/// bucket holds objects or uploads. Result `{}`.
pub(crate) async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, name)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = visible_bucket(&state, &caller, (&account, &name), &uri, &headers, |b| {
        BucketAction::Delete(b)
    })
    .await?;
    state.store.delete_bucket(&record.bucket_id()).await?;
    tracing::info!(account = %record.account, bucket = %record.name, "bucket deleted");
    crate::audit::record(
        &state,
        &caller,
        &record.account,
        AuditKind::BucketDelete,
        |e| {
            e.bucket = Some(record.name.as_str().to_owned());
            e.operation = Some("delete".to_owned());
        },
    );
    Ok(ok(Empty {}))
}

/// `PATCH /accounts/{account_id}/r2/buckets/{bucket_name}` with `cf-r2-storage-class`.
/// The store keeps the class fixed: asking for the current class succeeds (so the SDK's
/// `edit` is idempotent), asking for another is a 409.
pub(crate) async fn patch(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, name)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const NAME: &str = "cf-r2-storage-class";
    let wanted = headers
        .get(NAME)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| STORAGE_CLASSES.into_iter().find(|c| *c == v.trim()))
        .ok_or(RequestError::InvalidHeader {
            name: NAME,
            expected: "Standard, InfrequentAccess",
        })?;
    let record = visible_bucket(&state, &caller, (&account, &name), &uri, &headers, |b| {
        BucketAction::Edit(b)
    })
    .await?;
    let current = BucketJson::from(&record);
    if current.storage_class != wanted {
        return Err(Conflict::Other("changing a bucket's storage class is not supported").into());
    }
    Ok(ok(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> Result<ListBucketsQuery, ApiError> {
        list_query(&QueryParams::parse(Some(raw))?)
    }

    #[test]
    fn list_query_defaults_and_bounds() {
        let d = q("").ok();
        assert_eq!(d.as_ref().map(|d| d.per_page), Some(20));
        assert_eq!(q("per_page=1000").ok().map(|d| d.per_page), Some(1000));
        assert_eq!(q("per_page=5.0").ok().map(|d| d.per_page), Some(5));
        for bad in [
            "per_page=0",
            "per_page=1001",
            "per_page=1.5",
            "per_page=x",
            "per_page=-1",
            "order=size",
            "direction=up",
        ] {
            assert!(q(bad).is_err(), "{bad}");
        }
        let all =
            q("cursor=abc%3D&direction=desc&name_contains=my&order=name&per_page=5&start_after=a")
                .ok();
        assert_eq!(all.as_ref().and_then(|a| a.cursor.as_deref()), Some("abc="));
        assert_eq!(all.as_ref().map(|a| a.direction), Some(SortDirection::Desc));
    }
}
