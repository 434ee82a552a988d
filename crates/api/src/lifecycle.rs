//! `GET/PUT /accounts/{account_id}/r2/buckets/{bucket_name}/lifecycle`: a bucket's lifecycle
//! rules in R2's JSON shape (the official SDKs' `r2.buckets.lifecycle`), stored as the same
//! document S3's `PutBucketLifecycleConfiguration` writes ([`mayfly_store::lifecycle`]).
//!
//! R2's shape: `{"rules": [{"id", "enabled", "conditions": {"prefix"},
//! "deleteObjectsTransition"?: {"condition": {"type": "Age", "maxAge": secs} | {"type": "Date",
//! "date": RFC 3339}}, "abortMultipartUploadsTransition"?: {"condition": {"type": "Age",
//! "maxAge": secs}}}]}`. Storage-class transitions are refused (Mayfly has one storage class).
//! Validation is S3's (unique ids of at most 255 characters, midnight-UTC dates, at least one
//! action); a refusal is a 400 whose `source.pointer` names the field.
//!
//! Permissions follow the other bucket endpoints: reading needs a token that sees the bucket,
//! writing needs admin-read-write as well.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use mayfly_core::BucketAction;
use mayfly_store::lifecycle::{Expiry, LifecycleConfig, LifecycleRule};
use mayfly_store::{AuditKind, BucketConfigKind, BucketId, Entity, StoreError};
use serde_json::{Value, json};

use crate::ApiState;
use crate::auth::{ApiPath, Caller};
use crate::body::{Fields, JsonBody};
use crate::buckets::visible_bucket;
use crate::envelope::ok;
use crate::error::{ApiError, RequestError};
use crate::time::{parse_rfc3339, rfc3339};

fn field(pointer: impl Into<String>, reason: &'static str) -> ApiError {
    RequestError::field(pointer, reason).into()
}

fn bool_field(f: &mut Fields, name: &str) -> Result<bool, ApiError> {
    match f.take(name) {
        Some(Value::Bool(b)) => Ok(b),
        None => Err(field(f.pointer(name), "is required")),
        Some(_) => Err(field(f.pointer(name), "must be a boolean")),
    }
}

fn max_age(c: &mut Fields) -> Result<u64, ApiError> {
    let n = c
        .optional_number("maxAge")?
        .ok_or_else(|| field(c.pointer("maxAge"), "is required"))?;
    n.as_u64()
        .filter(|n| *n > 0)
        .ok_or_else(|| field(c.pointer("maxAge"), "must be a positive number of seconds"))
}

/// A transition's `condition`: `Age` (and, when `dates`, `Date`).
fn condition(t: &mut Fields, dates: bool) -> Result<Expiry, ApiError> {
    let mut c = t
        .optional_object("condition")?
        .ok_or_else(|| field(t.pointer("condition"), "is required"))?;
    let kind = c.required_str("type")?;
    let out = match kind.as_str() {
        "Age" => Expiry::AfterSecs(max_age(&mut c)?),
        "Date" if dates => {
            let pointer = c.pointer("date");
            let when = parse_rfc3339(&c.required_str("date")?)
                .ok_or_else(|| field(pointer.clone(), "must be an RFC 3339 date"))?;
            Expiry::OnDate(when)
        }
        _ => {
            return Err(field(
                c.pointer("type"),
                if dates {
                    "must be `Age` or `Date`"
                } else {
                    "must be `Age`"
                },
            ));
        }
    };
    c.finish()?;
    Ok(out)
}

fn rule_of(mut r: Fields) -> Result<LifecycleRule, ApiError> {
    let id = r.optional_str("id")?.unwrap_or_default();
    let enabled = bool_field(&mut r, "enabled")?;
    let mut conditions = r
        .optional_object("conditions")?
        .ok_or_else(|| field(r.pointer("conditions"), "is required"))?;
    let prefix = conditions.required_str("prefix")?;
    conditions.finish()?;
    let expire_objects = match r.optional_object("deleteObjectsTransition")? {
        None => None,
        Some(mut t) => {
            let e = condition(&mut t, true)?;
            t.finish()?;
            Some(e)
        }
    };
    let abort_uploads_after_secs = match r.optional_object("abortMultipartUploadsTransition")? {
        None => None,
        Some(mut t) => {
            let Expiry::AfterSecs(s) = condition(&mut t, false)? else {
                return Err(field(t.pointer("condition"), "must be an `Age` condition"));
            };
            t.finish()?;
            Some(s)
        }
    };
    if r.optional_object_list("storageClassTransitions")?
        .is_some_and(|l| !l.is_empty())
    {
        return Err(field(
            r.pointer("storageClassTransitions"),
            "storage class transitions are not supported",
        ));
    }
    r.finish()?;
    Ok(LifecycleRule {
        id,
        enabled,
        prefix,
        expire_objects,
        abort_uploads_after_secs,
    })
}

/// The R2 JSON for stored rules.
fn rules_json(cfg: &LifecycleConfig) -> Value {
    let rules: Vec<Value> = cfg
        .rules
        .iter()
        .map(|r| {
            let mut v = json!({
                "id": r.id,
                "enabled": r.enabled,
                "conditions": {"prefix": r.prefix},
            });
            if let Some(e) = r.expire_objects {
                v["deleteObjectsTransition"] = json!({"condition": match e {
                    Expiry::AfterSecs(s) => json!({"type": "Age", "maxAge": s}),
                    Expiry::OnDate(d) => json!({"type": "Date", "date": rfc3339(d)}),
                }});
            }
            if let Some(s) = r.abort_uploads_after_secs {
                v["abortMultipartUploadsTransition"] =
                    json!({"condition": {"type": "Age", "maxAge": s}});
            }
            v
        })
        .collect();
    json!({ "rules": rules })
}

/// `GET .../r2/buckets/{bucket_name}/lifecycle`: `{"rules": [...]}` (empty when none is set).
pub(crate) async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, name)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = visible_bucket(&state, &caller, (&account, &name), &uri, &headers, |b| {
        BucketAction::ReadConfig(b)
    })
    .await?;
    let cfg = match state
        .store
        .get_bucket_config(&record.bucket_id(), BucketConfigKind::Lifecycle)
        .await
    {
        Ok(doc) => LifecycleConfig::from_document(&doc).unwrap_or_default(),
        Err(StoreError::NotFound(Entity::Lifecycle)) => LifecycleConfig::default(),
        Err(e) => return Err(e.into()),
    };
    Ok(ok(rules_json(&cfg)))
}

/// `PUT .../r2/buckets/{bucket_name}/lifecycle` with `{"rules": [...]}`; an empty list removes
/// the configuration. Result `{}`.
pub(crate) async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, name)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    JsonBody(mut body): JsonBody,
) -> Result<Response, ApiError> {
    let record = visible_bucket(&state, &caller, (&account, &name), &uri, &headers, |b| {
        BucketAction::Edit(b)
    })
    .await?;
    let rules = body
        .optional_object_list("rules")?
        .unwrap_or_default()
        .into_iter()
        .map(rule_of)
        .collect::<Result<Vec<_>, _>>()?;
    body.finish()?;
    let mut cfg = LifecycleConfig { rules };
    cfg.validate(|| mayfly_store::BlobId::random().as_str().to_owned())
        .map_err(|e| RequestError::field(format!("/{}", e.field), e.reason))?;
    let bucket: BucketId = record.bucket_id();
    if cfg.rules.is_empty() {
        state
            .store
            .delete_bucket_config(&bucket, BucketConfigKind::Lifecycle)
            .await?;
    } else {
        state
            .store
            .put_bucket_config(&bucket, BucketConfigKind::Lifecycle, cfg.to_document())
            .await?;
    }
    tracing::info!(account = %record.account, bucket = %record.name, rules = cfg.rules.len(), "lifecycle rules set");
    crate::audit::record(
        &state,
        &caller,
        &record.account,
        AuditKind::BucketLifecycle,
        |e| {
            e.bucket = Some(record.name.as_str().to_owned());
            e.operation = Some("put".to_owned());
        },
    );
    Ok(ok(json!({})))
}
