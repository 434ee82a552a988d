//! Every way a v4 request can fail, and the one place failures become envelopes.
//!
//! Errors are grouped by what went wrong ([`AuthError`], [`RequestError`], [`NotFound`],
//! [`Conflict`], [`Forbidden`], [`Internal`]) and joined in [`ApiError`]. Each implements
//! [`ErrorCode`], which says its HTTP status, its v4 `code` and its public message; the
//! `IntoResponse` impl of [`ApiError`] is the only code that turns an error into a response.
//!
//! Code table (CF = Cloudflare's, D = Mayfly's choice where Cloudflare documents nothing):
//!
//! | status | code  | when |
//! |--------|-------|------|
//! | 400    | 6003  | `Authorization` present but not `Bearer <token>`; bad `cf-r2-*` header (CF) |
//! | 400    | 6007  | body is not JSON (CF "Malformed JSON in request body") |
//! | 400    | 7003  | malformed account or token id in the path (CF "Could not route to ...") |
//! | 400    | 10005 | invalid bucket name (CF R2 `InvalidBucketName`) |
//! | 400    | 10040 | any other invalid field, unknown field, wrong type, duplicate key, bad cursor (CF R2 generic invalid argument) |
//! | 401    | 10000 | no credentials (CF "Authentication error") |
//! | 401    | 9103  | `X-Auth-Email`/`X-Auth-Key` (Global API Key) sent: not supported (D) |
//! | 401    | 9109  | unknown, revoked or expired token (CF "Invalid access token") |
//! | 403    | 9109  | token of another account (CF "Unauthorized to access requested resource") |
//! | 403    | 10000 | token lacks the permission (CF, observed on R2 endpoints) |
//! | 404    | 10006 | bucket does not exist (CF) |
//! | 404    | 10059 | bucket has no CORS rules (CF R2 "The CORS configuration does not exist.") |
//! | 404    | 7003  | API token does not exist (D) |
//! | 404    | 7000  | no such route (CF "No route for that URI") |
//! | 405    | 7001  | method not allowed on this route (D) |
//! | 409    | 10004 | bucket already exists (CF) |
//! | 409    | 10008 | bucket not empty (CF) |
//! | 409    | 10073 | other state conflict (CF R2 `BucketConflict`) |
//! | 413    | 6005  | body larger than the limit (D) |
//! | 415    | 6003  | `Content-Type` present and not JSON (D) |
//! | 500    | 10001 | internal failure: generic message, detail only in the log (CF wire) |
//!
//! 409 answers carry `x-should-retry: false`, which the official SDKs honour (wire captures),
//! so a deterministic conflict is raised at once instead of after three retries.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mayfly_core::{Denied, DenyReason, InvalidInput};
use mayfly_store::{Entity, StoreError};

use crate::envelope::{ErrorItem, ErrorSource, error_response};

/// v4 error codes used by this crate (see the module table).
pub(crate) mod codes {
    /// Invalid request headers.
    pub(crate) const INVALID_HEADERS: u32 = 6003;
    /// Body too large.
    pub(crate) const BODY_TOO_LARGE: u32 = 6005;
    /// Malformed JSON in request body.
    pub(crate) const MALFORMED_JSON: u32 = 6007;
    /// No route for that URI.
    pub(crate) const NO_ROUTE: u32 = 7000;
    /// Method not allowed.
    pub(crate) const METHOD_NOT_ALLOWED: u32 = 7001;
    /// Could not route (bad object identifier).
    pub(crate) const BAD_IDENTIFIER: u32 = 7003;
    /// Global API Key authentication is not supported.
    pub(crate) const GLOBAL_KEY: u32 = 9103;
    /// Invalid access token / unauthorized to access the resource.
    pub(crate) const INVALID_TOKEN: u32 = 9109;
    /// Authentication error.
    pub(crate) const AUTHENTICATION: u32 = 10000;
    /// Internal error.
    pub(crate) const INTERNAL: u32 = 10001;
    /// Bucket already exists.
    pub(crate) const BUCKET_EXISTS: u32 = 10004;
    /// Invalid bucket name.
    pub(crate) const INVALID_BUCKET_NAME: u32 = 10005;
    /// No such bucket.
    pub(crate) const NO_SUCH_BUCKET: u32 = 10006;
    /// The bucket has no CORS configuration.
    pub(crate) const NO_SUCH_CORS: u32 = 10059;
    /// Bucket not empty.
    pub(crate) const BUCKET_NOT_EMPTY: u32 = 10008;
    /// Invalid argument.
    pub(crate) const INVALID_ARGUMENT: u32 = 10040;
    /// Conflict.
    pub(crate) const CONFLICT: u32 = 10073;
}

/// What every error of this crate says about itself on the wire. Implemented by every error
/// type; read only by `IntoResponse for ApiError`.
pub(crate) trait ErrorCode {
    /// HTTP status (never 2xx; 5xx only for [`Internal`]).
    fn status(&self) -> StatusCode;
    /// The v4 `code` (>= 1000).
    fn code(&self) -> u32;
    /// The client-facing message: never a secret, never an internal detail.
    fn message(&self) -> Cow<'static, str>;
    /// `source.pointer`, when the error is about one field.
    fn pointer(&self) -> Option<&str> {
        None
    }
}

/// Who is calling could not be established, or may not touch this account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthError {
    /// No `Authorization` header.
    #[error("no credentials")]
    Missing,
    /// `Authorization` is not `Bearer <token>`.
    #[error("malformed Authorization header")]
    Malformed,
    /// Global API Key headers instead of a token.
    #[error("X-Auth-Email/X-Auth-Key authentication is not supported")]
    GlobalKey,
    /// The token is unknown, revoked or expired (indistinguishable on purpose).
    #[error("unknown, revoked or expired API token")]
    InvalidToken,
    /// The token belongs to another account than the path names.
    #[error("token belongs to another account")]
    WrongAccount,
}

impl ErrorCode for AuthError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Missing | Self::GlobalKey | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::Malformed => StatusCode::BAD_REQUEST,
            Self::WrongAccount => StatusCode::FORBIDDEN,
        }
    }

    fn code(&self) -> u32 {
        match self {
            Self::Missing => codes::AUTHENTICATION,
            Self::Malformed => codes::INVALID_HEADERS,
            Self::GlobalKey => codes::GLOBAL_KEY,
            Self::InvalidToken | Self::WrongAccount => codes::INVALID_TOKEN,
        }
    }

    fn message(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::Missing => "Authentication error",
            Self::Malformed => {
                "Invalid request headers: the Authorization header must be `Bearer <API token>`"
            }
            Self::GlobalKey => {
                "X-Auth-Email/X-Auth-Key (Global API Key) authentication is not supported: \
                 send `Authorization: Bearer <API token>`"
            }
            Self::InvalidToken => "Invalid access token",
            Self::WrongAccount => "Unauthorized to access requested resource",
        })
    }
}

/// The request itself is wrong: body, query, path or headers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RequestError {
    /// The body is not JSON at all (or not a JSON object).
    #[error("malformed JSON body: {reason}")]
    MalformedJson {
        /// Usually `""` (the whole document).
        pointer: String,
        /// Why, without echoing the body.
        reason: &'static str,
    },
    /// One field (body or query) is invalid, unknown, duplicated or of the wrong type.
    #[error("invalid {pointer}: {reason}")]
    InvalidField {
        /// JSON pointer of the field (`/ttlSeconds`, `/objects/2`, `/per_page`).
        pointer: String,
        /// Why; may name the field, never echoes its value.
        reason: Cow<'static, str>,
    },
    /// A bucket name breaks the naming rules.
    #[error("invalid bucket name")]
    InvalidBucketName {
        /// Where the name came from in the body (`/name`, `/bucket`); `None` for the path.
        pointer: Option<String>,
    },
    /// A path identifier (account id, token id) is malformed.
    #[error("malformed identifier in {path}")]
    BadIdentifier {
        /// The request path, echoed as Cloudflare does.
        path: String,
    },
    /// A `cf-r2-*` header has a value outside its enum.
    #[error("invalid header {name}")]
    InvalidHeader {
        /// Header name.
        name: &'static str,
        /// Allowed values, for the message.
        expected: &'static str,
    },
    /// `Content-Type` present and not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Body over the size limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body stalled longer than the idle timeout.
    #[error("request body timed out")]
    BodyTimeout,
}

impl RequestError {
    /// An invalid field at `pointer`.
    pub(crate) fn field(pointer: impl Into<String>, reason: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidField {
            pointer: pointer.into(),
            reason: reason.into(),
        }
    }
}

impl ErrorCode for RequestError {
    fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson { .. }
            | Self::InvalidField { .. }
            | Self::InvalidBucketName { .. }
            | Self::BadIdentifier { .. }
            | Self::InvalidHeader { .. } => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    fn code(&self) -> u32 {
        match self {
            Self::MalformedJson { .. } => codes::MALFORMED_JSON,
            Self::InvalidField { .. } => codes::INVALID_ARGUMENT,
            Self::InvalidBucketName { .. } => codes::INVALID_BUCKET_NAME,
            Self::BadIdentifier { .. } => codes::BAD_IDENTIFIER,
            Self::InvalidHeader { .. } | Self::UnsupportedMediaType => codes::INVALID_HEADERS,
            Self::PayloadTooLarge => codes::BODY_TOO_LARGE,
            // Cloudflare documents no code for this; the body is what failed to arrive.
            Self::BodyTimeout => codes::MALFORMED_JSON,
        }
    }

    fn message(&self) -> Cow<'static, str> {
        match self {
            Self::MalformedJson { reason, .. } => {
                Cow::Owned(format!("Malformed JSON in request body: {reason}"))
            }
            Self::InvalidField { pointer, reason } => {
                let field = pointer.strip_prefix('/').unwrap_or(pointer);
                Cow::Owned(format!("{field}: {reason}"))
            }
            Self::InvalidBucketName { .. } => Cow::Borrowed(
                "The specified bucket name is not valid: use 3 to 63 characters of a-z, 0-9 \
                 and '-', not starting or ending with '-'.",
            ),
            Self::BadIdentifier { path } => Cow::Owned(format!(
                "Could not route to {path}, perhaps your object identifier is invalid?"
            )),
            Self::InvalidHeader { name, expected } => Cow::Owned(format!(
                "Invalid request headers: {name} must be one of {expected}"
            )),
            Self::UnsupportedMediaType => {
                Cow::Borrowed("Invalid request headers: Content-Type must be application/json")
            }
            Self::PayloadTooLarge => Cow::Borrowed("Request body too large"),
            Self::BodyTimeout => {
                Cow::Borrowed("Request body not received in time: the client stopped sending it")
            }
        }
    }

    fn pointer(&self) -> Option<&str> {
        match self {
            Self::MalformedJson { pointer, .. } | Self::InvalidField { pointer, .. } => {
                Some(pointer)
            }
            Self::InvalidBucketName { pointer } => pointer.as_deref(),
            Self::BadIdentifier { .. }
            | Self::InvalidHeader { .. }
            | Self::UnsupportedMediaType
            | Self::PayloadTooLarge => None,
            Self::BodyTimeout => Some(""),
        }
    }
}

impl From<InvalidInput> for RequestError {
    /// Core's validation errors name the field in its wire spelling; the pointer is that name.
    fn from(err: InvalidInput) -> Self {
        let pointer = match err.field {
            // PathScope reports the combined count as "paths"; the request fields are these.
            "paths" => "/prefixes".to_owned(),
            field => format!("/{field}"),
        };
        Self::field(pointer, err.reason)
    }
}

/// The thing the request names does not exist (or the route does not).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotFound {
    /// No such bucket in this account.
    #[error("bucket not found")]
    Bucket,
    /// The bucket has no CORS rules.
    #[error("no CORS configuration")]
    Cors,
    /// No such API token in this account.
    #[error("API token not found")]
    Token,
    /// No route for the path.
    #[error("no route")]
    Route,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    Method,
}

impl ErrorCode for NotFound {
    fn status(&self) -> StatusCode {
        match self {
            Self::Bucket | Self::Cors | Self::Token | Self::Route => StatusCode::NOT_FOUND,
            Self::Method => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    fn code(&self) -> u32 {
        match self {
            Self::Bucket => codes::NO_SUCH_BUCKET,
            Self::Cors => codes::NO_SUCH_CORS,
            Self::Token => codes::BAD_IDENTIFIER,
            Self::Route => codes::NO_ROUTE,
            Self::Method => codes::METHOD_NOT_ALLOWED,
        }
    }

    fn message(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::Bucket => "The specified bucket does not exist.",
            Self::Cors => "The CORS configuration does not exist.",
            Self::Token => "The specified API token does not exist.",
            Self::Route => "No route for that URI",
            Self::Method => "Method not allowed for this route",
        })
    }
}

/// The request collides with the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Conflict {
    /// Bucket name already used in this account.
    #[error("bucket exists")]
    BucketExists,
    /// Delete of a bucket that still holds objects or uploads.
    #[error("bucket not empty")]
    BucketNotEmpty,
    /// Any other conflict the store reports (fixed phrase).
    #[error("conflict: {0}")]
    Other(&'static str),
}

impl ErrorCode for Conflict {
    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }

    fn code(&self) -> u32 {
        match self {
            Self::BucketExists => codes::BUCKET_EXISTS,
            Self::BucketNotEmpty => codes::BUCKET_NOT_EMPTY,
            Self::Other(_) => codes::CONFLICT,
        }
    }

    fn message(&self) -> Cow<'static, str> {
        match self {
            Self::BucketExists => {
                Cow::Borrowed("The bucket you tried to create already exists, and you own it.")
            }
            Self::BucketNotEmpty => Cow::Borrowed("The bucket you tried to delete is not empty."),
            Self::Other(reason) => Cow::Owned(format!("Conflict: {reason}")),
        }
    }
}

/// The caller is authenticated but not allowed. The reason goes to the log only: a denial
/// never tells what would have been allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forbidden: {reason}")]
pub(crate) struct Forbidden {
    /// For the log.
    pub(crate) reason: &'static str,
}

impl Forbidden {
    /// A denial for `reason` (logged, not sent).
    pub(crate) fn because(reason: &'static str) -> Self {
        Self { reason }
    }
}

impl ErrorCode for Forbidden {
    fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    fn code(&self) -> u32 {
        codes::AUTHENTICATION
    }

    fn message(&self) -> Cow<'static, str> {
        Cow::Borrowed("Authentication error: the API token is not allowed to perform this request")
    }
}

/// A failure that is not the caller's fault. The detail is logged; the client sees a generic
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error: {detail}")]
pub(crate) struct Internal {
    detail: String,
}

impl Internal {
    /// Wraps a detail for the log.
    pub(crate) fn new(detail: impl std::fmt::Display) -> Self {
        Self {
            detail: detail.to_string(),
        }
    }
}

impl ErrorCode for Internal {
    fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn code(&self) -> u32 {
        codes::INTERNAL
    }

    fn message(&self) -> Cow<'static, str> {
        Cow::Borrowed("Internal error")
    }
}

/// Every error a handler or extractor of this crate returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    /// See [`AuthError`].
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// See [`RequestError`].
    #[error(transparent)]
    Request(#[from] RequestError),
    /// See [`NotFound`].
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// See [`Conflict`].
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// See [`Forbidden`].
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// See [`Internal`].
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl ApiError {
    fn inner(&self) -> &dyn ErrorCode {
        match self {
            Self::Auth(e) => e,
            Self::Request(e) => e,
            Self::NotFound(e) => e,
            Self::Conflict(e) => e,
            Self::Forbidden(e) => e,
            Self::Internal(e) => e,
        }
    }
}

impl ErrorCode for ApiError {
    fn status(&self) -> StatusCode {
        self.inner().status()
    }

    fn code(&self) -> u32 {
        self.inner().code()
    }

    fn message(&self) -> Cow<'static, str> {
        self.inner().message()
    }

    fn pointer(&self) -> Option<&str> {
        self.inner().pointer()
    }
}

impl From<InvalidInput> for ApiError {
    fn from(err: InvalidInput) -> Self {
        Self::Request(err.into())
    }
}

impl From<Denied> for ApiError {
    /// Core's management decisions on the wire. Most denials are a plain 403 whose reason
    /// goes to the log only; a few keep the answer the API gave before the decisions moved to
    /// core: another account is 403/9109, an unusable parent is 400 at `/parentAccessKeyId`
    /// (the same for unknown, revoked, expired and foreign tokens), an expiry beyond the
    /// caller's is 400 at `/expires_on`.
    fn from(denied: Denied) -> Self {
        match denied.reason {
            DenyReason::Account => AuthError::WrongAccount.into(),
            DenyReason::Inactive => AuthError::InvalidToken.into(),
            DenyReason::ParentInactive => RequestError::field(
                "/parentAccessKeyId",
                "does not name an active R2 API token of this account",
            )
            .into(),
            DenyReason::Lifetime => RequestError::field(
                "/expires_on",
                "must not be later than the expiry of the token creating it",
            )
            .into(),
            reason @ (DenyReason::Permission
            | DenyReason::Action
            | DenyReason::Bucket
            | DenyReason::Path
            | DenyReason::Parent
            | DenyReason::MissingTarget
            | DenyReason::NotParent
            | DenyReason::Revoked) => Forbidden::because(reason.as_str()).into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(Entity::Bucket) => NotFound::Bucket.into(),
            StoreError::NotFound(Entity::Token) => NotFound::Token.into(),
            // The caller's own account vanished under it: treat like a foreign account.
            StoreError::NotFound(Entity::Account) => AuthError::WrongAccount.into(),
            StoreError::AlreadyExists(Entity::Bucket) => Conflict::BucketExists.into(),
            StoreError::BucketNotEmpty => Conflict::BucketNotEmpty.into(),
            StoreError::Conflict(reason) => Conflict::Other(reason).into(),
            StoreError::InvalidCursor => {
                RequestError::field("/cursor", "is not a cursor this listing issued").into()
            }
            other @ (StoreError::NotFound(_)
            | StoreError::AlreadyExists(_)
            | StoreError::InvalidPart { .. }
            | StoreError::PreconditionFailed
            | StoreError::InvalidRange
            | StoreError::Body(_)
            | StoreError::Backend(_)) => Internal::new(format!("store: {other}")).into(),
        }
    }
}

impl IntoResponse for ApiError {
    /// The one place an error becomes a response.
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(e) => tracing::error!(error = %e, "request failed"),
            Self::Forbidden(e) => tracing::info!(reason = e.reason, "request denied"),
            Self::Auth(e) => tracing::info!(reason = %e, "authentication failed"),
            Self::Request(_) | Self::NotFound(_) | Self::Conflict(_) => {
                tracing::debug!(error = %self, "request refused")
            }
        }
        let item = ErrorItem {
            code: self.code(),
            message: self.message().into_owned(),
            documentation_url: None,
            source: self.pointer().map(|p| ErrorSource {
                pointer: p.to_owned(),
            }),
        };
        let mut response = error_response(self.status(), &[item]);
        if self.status() == StatusCode::CONFLICT {
            // The SDKs retry 409 three times unless told otherwise; our conflicts are
            // deterministic (the bucket exists, is not empty), so retrying only delays the error.
            response.headers_mut().insert(
                "x-should-retry",
                axum::http::HeaderValue::from_static("false"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_samples() -> Vec<ApiError> {
        vec![
            AuthError::Missing.into(),
            AuthError::Malformed.into(),
            AuthError::GlobalKey.into(),
            AuthError::InvalidToken.into(),
            AuthError::WrongAccount.into(),
            RequestError::MalformedJson {
                pointer: String::new(),
                reason: "x",
            }
            .into(),
            RequestError::field("/ttlSeconds", "must be an integer").into(),
            RequestError::InvalidBucketName {
                pointer: Some("/name".into()),
            }
            .into(),
            RequestError::BadIdentifier { path: "/x".into() }.into(),
            RequestError::InvalidHeader {
                name: "cf-r2-jurisdiction",
                expected: "a",
            }
            .into(),
            RequestError::UnsupportedMediaType.into(),
            RequestError::PayloadTooLarge.into(),
            NotFound::Bucket.into(),
            NotFound::Token.into(),
            NotFound::Route.into(),
            NotFound::Method.into(),
            Conflict::BucketExists.into(),
            Conflict::BucketNotEmpty.into(),
            Conflict::Other("x").into(),
            Forbidden::because("x").into(),
            Internal::new("secret detail").into(),
        ]
    }

    #[test]
    fn every_error_is_non_2xx_with_a_code_of_at_least_1000() {
        for e in all_samples() {
            assert!(!e.status().is_success(), "{e:?}");
            assert!(e.code() >= 1000, "{e:?}");
            assert!(!e.message().is_empty(), "{e:?}");
        }
    }

    #[test]
    fn only_internal_errors_are_5xx_and_they_hide_their_detail() {
        for e in all_samples() {
            let internal = matches!(e, ApiError::Internal(_));
            assert_eq!(e.status().is_server_error(), internal, "{e:?}");
            assert!(!e.message().contains("secret detail"));
        }
    }

    #[test]
    fn core_invalid_input_points_at_its_field() {
        let err: ApiError = mayfly_core::Permission::parse("bogus")
            .err()
            .map(ApiError::from)
            .unwrap_or_else(|| Internal::new("parsed").into());
        assert_eq!(err.pointer(), Some("/permission"));
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
}
