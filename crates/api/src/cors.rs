//! `/accounts/{account_id}/r2/buckets/{bucket_name}/cors`: get, put, delete a bucket's CORS
//! rules in the shape the official SDKs' `r2.buckets.cors` sends and reads:
//! `{"rules":[{"id"?,"allowed":{"origins","methods","headers"?},"exposeHeaders"?,"maxAgeSeconds"?}]}`.
//!
//! The rules are the same document S3's `PutBucketCors` stores: both go through
//! `mayfly_store::cors::CorsConfig`, which applies S3's validation, so rules set here are what
//! `GetBucketCors` returns and what the S3 endpoint applies (and the other way round). A refused
//! field answers 400 (10040) with its JSON pointer.
//!
//! Permissions follow the bucket configuration routes: reading needs a token that may read
//! bucket configuration (admin read-only or read-write), changing needs admin read-write. The
//! bucket is resolved like `GET .../buckets/{name}` (its jurisdiction header included).

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use mayfly_core::{Access, BucketAction};
use mayfly_store::cors::{CorsConfig, CorsField, CorsRule, CorsRuleInput, InvalidCors};
use mayfly_store::{AuditKind, BucketConfigKind, BucketRecord, Entity, StoreError};
use serde::Serialize;
use serde_json::Number;

use crate::ApiState;
use crate::auth::{ApiPath, Caller};
use crate::body::{Fields, JsonBody};
use crate::buckets::visible_bucket;
use crate::envelope::ok;
use crate::error::{ApiError, Internal, NotFound, RequestError};

/// `allowed` of one rule (OpenAPI `r2_cors_rule.allowed`).
#[derive(Debug, Serialize)]
struct AllowedJson<'a> {
    methods: Vec<&'static str>,
    origins: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    headers: &'a [String],
}

/// One rule as the API shows it; absent members are omitted, as R2 does.
#[derive(Debug, Serialize)]
struct RuleJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    allowed: AllowedJson<'a>,
    #[serde(rename = "exposeHeaders", skip_serializing_if = "<[String]>::is_empty")]
    expose_headers: &'a [String],
    #[serde(rename = "maxAgeSeconds", skip_serializing_if = "Option::is_none")]
    max_age_seconds: Option<u32>,
}

impl<'a> From<&'a CorsRule> for RuleJson<'a> {
    fn from(r: &'a CorsRule) -> Self {
        Self {
            id: r.id(),
            allowed: AllowedJson {
                methods: r.allowed_methods().iter().map(|m| m.as_str()).collect(),
                origins: r.allowed_origins(),
                headers: r.allowed_headers(),
            },
            expose_headers: r.expose_headers(),
            max_age_seconds: r.max_age_seconds(),
        }
    }
}

#[derive(Serialize)]
struct RulesJson<'a> {
    rules: Vec<RuleJson<'a>>,
}

/// The empty object R2 returns from PUT and DELETE.
#[derive(Serialize)]
struct Empty {}

/// `maxAgeSeconds`: a JSON number that is a whole number (`3600` and `3600.0` alike).
fn max_age(n: &Number, pointer: &str) -> Result<i64, ApiError> {
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| RequestError::field(pointer, "must be a whole number of seconds").into())
}

/// Reads one rule object; shape errors point into it.
fn read_rule(mut rule: Fields) -> Result<CorsRuleInput, ApiError> {
    let id = rule.optional_str("id")?;
    let allowed_pointer = rule.pointer("allowed");
    let mut allowed = rule
        .optional_object("allowed")?
        .ok_or_else(|| RequestError::field(allowed_pointer, "is required"))?;
    let required = |f: &mut Fields, name: &str| -> Result<Vec<String>, ApiError> {
        let pointer = f.pointer(name);
        f.optional_str_list(name)?
            .ok_or_else(|| RequestError::field(pointer, "is required").into())
    };
    let allowed_origins = required(&mut allowed, "origins")?;
    let allowed_methods = required(&mut allowed, "methods")?;
    let allowed_headers = allowed.optional_str_list("headers")?.unwrap_or_default();
    allowed.finish()?;
    let expose_headers = rule.optional_str_list("exposeHeaders")?.unwrap_or_default();
    let age_pointer = rule.pointer("maxAgeSeconds");
    let max_age_seconds = rule
        .optional_number("maxAgeSeconds")?
        .map(|n| max_age(&n, &age_pointer))
        .transpose()?;
    rule.finish()?;
    Ok(CorsRuleInput {
        id,
        allowed_origins,
        allowed_methods,
        allowed_headers,
        expose_headers,
        max_age_seconds,
    })
}

/// The JSON pointer of a validation failure.
fn pointer_of(e: &InvalidCors) -> String {
    let Some(rule) = e.rule else {
        return "/rules".to_owned();
    };
    let field = match e.field {
        CorsField::Rules => return "/rules".to_owned(),
        CorsField::Id => "id",
        CorsField::AllowedOrigins => "allowed/origins",
        CorsField::AllowedMethods => "allowed/methods",
        CorsField::AllowedHeaders => "allowed/headers",
        CorsField::ExposeHeaders => "exposeHeaders",
        CorsField::MaxAgeSeconds => "maxAgeSeconds",
    };
    match e.item {
        Some(i) => format!("/rules/{rule}/{field}/{i}"),
        None => format!("/rules/{rule}/{field}"),
    }
}

fn parse_rules(mut body: Fields) -> Result<CorsConfig, ApiError> {
    let rules = body
        .optional_object_list("rules")?
        .unwrap_or_default()
        .into_iter()
        .map(read_rule)
        .collect::<Result<Vec<_>, _>>()?;
    body.finish()?;
    CorsConfig::parse(rules).map_err(|e| RequestError::field(pointer_of(&e), e.to_string()).into())
}

/// The bucket named in the path, once the caller may read (`ConfigRead`) or change
/// (`ConfigWrite`) its configuration. The one place this module decides who may do what.
async fn configurable_bucket(
    state: &ApiState,
    caller: &Caller,
    (account, name): (&str, &str),
    uri: &Uri,
    headers: &HeaderMap,
    access: Access,
) -> Result<BucketRecord, ApiError> {
    if access == Access::ConfigWrite {
        visible_bucket(state, caller, (account, name), uri, headers, |b| {
            BucketAction::Edit(b)
        })
        .await
    } else {
        visible_bucket(state, caller, (account, name), uri, headers, |b| {
            BucketAction::ReadConfig(b)
        })
        .await
    }
}

/// `GET .../cors`: the rules, or 404 (10059) when the bucket has none.
pub(crate) async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, name)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = configurable_bucket(
        &state,
        &caller,
        (&account, &name),
        &uri,
        &headers,
        Access::ConfigRead,
    )
    .await?;
    let doc = match state
        .store
        .get_bucket_config(&record.bucket_id(), BucketConfigKind::Cors)
        .await
    {
        Ok(doc) => doc,
        Err(StoreError::NotFound(Entity::Cors)) => return Err(NotFound::Cors.into()),
        Err(e) => return Err(e.into()),
    };
    let config = CorsConfig::from_document(&doc).map_err(Internal::new)?;
    Ok(ok(RulesJson {
        rules: config.rules().iter().map(RuleJson::from).collect(),
    }))
}

/// `PUT .../cors` with `{"rules":[...]}`: replaces the rules. Result `{}`.
pub(crate) async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, name)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let record = configurable_bucket(
        &state,
        &caller,
        (&account, &name),
        &uri,
        &headers,
        Access::ConfigWrite,
    )
    .await?;
    let config = parse_rules(body)?;
    state
        .store
        .put_bucket_config(
            &record.bucket_id(),
            BucketConfigKind::Cors,
            config.to_document(),
        )
        .await?;
    tracing::info!(account = %record.account, bucket = %record.name, rules = config.rules().len(), "bucket CORS rules set");
    crate::audit::record(
        &state,
        &caller,
        &record.account,
        AuditKind::BucketCors,
        |e| {
            e.bucket = Some(record.name.as_str().to_owned());
            e.operation = Some("put".to_owned());
        },
    );
    Ok(ok(Empty {}))
}

/// `DELETE .../cors`: removes the rules (succeeds when there were none). Result `{}`.
pub(crate) async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account, name)): ApiPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = configurable_bucket(
        &state,
        &caller,
        (&account, &name),
        &uri,
        &headers,
        Access::ConfigWrite,
    )
    .await?;
    state
        .store
        .delete_bucket_config(&record.bucket_id(), BucketConfigKind::Cors)
        .await?;
    tracing::info!(account = %record.account, bucket = %record.name, "bucket CORS rules deleted");
    crate::audit::record(
        &state,
        &caller,
        &record.account,
        AuditKind::BucketCors,
        |e| {
            e.bucket = Some(record.name.as_str().to_owned());
            e.operation = Some("delete".to_owned());
        },
    );
    Ok(ok(Empty {}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_object;
    use crate::error::ErrorCode;

    fn pointer(body: &str) -> Option<String> {
        let fields = parse_object(body.as_bytes()).ok()?;
        parse_rules(fields)
            .err()
            .and_then(|e| e.pointer().map(str::to_owned))
    }

    #[test]
    fn bad_rules_point_at_the_field() {
        let cases = [
            (r#"{}"#, "/rules"),
            (r#"{"rules":[]}"#, "/rules"),
            (r#"{"rules":{}}"#, "/rules"),
            (r#"{"rules":[{}]}"#, "/rules/0/allowed"),
            (
                r#"{"rules":[{"allowed":{"origins":["*"]}}]}"#,
                "/rules/0/allowed/methods",
            ),
            (
                r#"{"rules":[{"allowed":{"origins":["*"],"methods":["GET","PATCH"]}}]}"#,
                "/rules/0/allowed/methods/1",
            ),
            (
                r#"{"rules":[{"allowed":{"origins":["*"],"methods":["GET"]}},{"allowed":{"origins":["http://*.*"],"methods":["GET"]}}]}"#,
                "/rules/1/allowed/origins/0",
            ),
            (
                r#"{"rules":[{"allowed":{"origins":["*"],"methods":["GET"],"headers":[1]}}]}"#,
                "/rules/0/allowed/headers/0",
            ),
            (
                r#"{"rules":[{"allowed":{"origins":["*"],"methods":["GET"]},"exposeHeaders":["*"]}]}"#,
                "/rules/0/exposeHeaders/0",
            ),
            (
                r#"{"rules":[{"allowed":{"origins":["*"],"methods":["GET"]},"maxAgeSeconds":1.5}]}"#,
                "/rules/0/maxAgeSeconds",
            ),
            (
                r#"{"rules":[{"allowed":{"origins":["*"],"methods":["GET"]},"maxAgeSeconds":-1}]}"#,
                "/rules/0/maxAgeSeconds",
            ),
            (
                r#"{"rules":[{"allowed":{"origins":["*"],"methods":["GET"],"extra":1}}]}"#,
                "/rules/0/allowed/extra",
            ),
            (
                r#"{"rules":[{"allowed":{"origins":["*"],"methods":["GET"]},"AllowedOrigins":["*"]}]}"#,
                "/rules/0/AllowedOrigins",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(pointer(body).as_deref(), Some(want), "{body}");
        }
    }

    #[test]
    fn good_rules_read_back_in_the_sdk_shape() {
        let body = r#"{"rules":[{"id":"r1","allowed":{"origins":["https://a"],"methods":["PUT","GET"],"headers":["content-type"]},"exposeHeaders":["ETag"],"maxAgeSeconds":3600.0},{"allowed":{"origins":["*"],"methods":["GET"]}}]}"#;
        let config = parse_object(body.as_bytes())
            .ok()
            .and_then(|f| parse_rules(f).ok())
            .expect("valid rules");
        let json = serde_json::to_value(RulesJson {
            rules: config.rules().iter().map(RuleJson::from).collect(),
        })
        .expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({"rules":[
                {"id":"r1","allowed":{"origins":["https://a"],"methods":["PUT","GET"],"headers":["content-type"]},"exposeHeaders":["ETag"],"maxAgeSeconds":3600},
                {"allowed":{"origins":["*"],"methods":["GET"]}}
            ]})
        );
    }
}
