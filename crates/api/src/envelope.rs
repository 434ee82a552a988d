//! The Cloudflare API v4 envelope every answer is wrapped in:
//! `{"success","errors":[{"code","message","documentation_url"?,"source"?:{"pointer"}}],
//! "messages":[],"result", "result_info"?}`.
//!
//! Success answers are built here ([`ok`], [`ok_list`]); error answers are built only by
//! [`crate::error::ApiError`]'s `IntoResponse`, which calls [`error_response`]. Nothing else
//! in the crate writes a response body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One entry of `errors`. `code` is always >= 1000 (the OpenAPI `r2_errors` schema).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ErrorItem {
    pub(crate) code: u32,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) documentation_url: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) source: Option<ErrorSource>,
}

/// Where in the request the problem is: an RFC 6901 JSON pointer into the body (`/ttlSeconds`),
/// or, for query parameters, `/` + the parameter name (`/per_page`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ErrorSource {
    pub(crate) pointer: String,
}

/// `result_info` of list answers (OpenAPI `r2_result_info`, plus Cloudflare's usual
/// page counters where the listing is not cursor-based).
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub(crate) struct ResultInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cursor: Option<String>,
    pub(crate) per_page: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) total_count: Option<u64>,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    success: bool,
    errors: &'a [ErrorItem],
    messages: [&'static str; 0],
    result: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    result_info: Option<&'a ResultInfo>,
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The body every handler-level failure turns into. Serialising these plain structs cannot
/// fail; should it ever, the fixed fallback still is a valid envelope.
const FALLBACK_ERROR: &str = r#"{"success":false,"errors":[{"code":10001,"message":"Internal error"}],"messages":[],"result":null}"#;

fn serialize_or_fallback<T: Serialize>(value: &T) -> (bool, Vec<u8>) {
    match serde_json::to_vec(value) {
        Ok(body) => (true, body),
        Err(err) => {
            tracing::error!(error = %err, "serialising a response envelope failed");
            (false, FALLBACK_ERROR.as_bytes().to_vec())
        }
    }
}

/// `200` with `result`.
pub(crate) fn ok<T: Serialize>(result: T) -> Response {
    respond(result, None)
}

/// `200` with `result` and `result_info`.
pub(crate) fn ok_list<T: Serialize>(result: T, info: ResultInfo) -> Response {
    respond(result, Some(&info))
}

fn respond<T: Serialize>(result: T, info: Option<&ResultInfo>) -> Response {
    let envelope = Envelope {
        success: true,
        errors: &[],
        messages: [],
        result,
        result_info: info,
    };
    match serialize_or_fallback(&envelope) {
        (true, body) => json_response(StatusCode::OK, body),
        (false, body) => json_response(StatusCode::INTERNAL_SERVER_ERROR, body),
    }
}

/// A failure envelope (`success:false`, `result:null`) with a non-2xx status.
pub(crate) fn error_response(status: StatusCode, errors: &[ErrorItem]) -> Response {
    debug_assert!(!status.is_success());
    let envelope: Envelope<'_, Option<()>> = Envelope {
        success: false,
        errors,
        messages: [],
        result: None,
        result_info: None,
    };
    let (_, body) = serialize_or_fallback(&envelope);
    json_response(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        serde_json::from_slice(&bytes.unwrap_or_default()).unwrap_or_default()
    }

    #[tokio::test]
    async fn success_envelope_has_every_key() {
        let response = ok(serde_json::json!({"a": 1}));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            body_json(response).await,
            serde_json::json!({"success": true, "errors": [], "messages": [], "result": {"a": 1}})
        );
    }

    #[tokio::test]
    async fn error_envelope_omits_absent_optional_keys() {
        let item = ErrorItem {
            code: 10006,
            message: "The specified bucket does not exist.".into(),
            documentation_url: None,
            source: None,
        };
        let response = error_response(StatusCode::NOT_FOUND, &[item]);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            body_json(response).await,
            serde_json::json!({"success": false, "errors": [{"code": 10006,
                "message": "The specified bucket does not exist."}], "messages": [], "result": null})
        );
    }
}
