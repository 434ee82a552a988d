//! The client's error type: API errors decoded from the v4 envelope (one class per HTTP status
//! family, as the official SDKs raise them), transport failures, undecodable answers and bad
//! configuration. No `Display` here contains the API token or a returned secret.

use std::fmt;

/// Everything a [`crate::Client`] call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error (a non-2xx status, or `success: false`).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request never got an answer: connection refused, timeout, TLS failure.
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// A 2xx answer whose body is not the expected v4 envelope or result shape.
    #[error("unexpected response from the API (HTTP {status}): {reason}")]
    Decode {
        /// The HTTP status of the answer.
        status: u16,
        /// What did not match.
        reason: String,
    },
    /// The client was built without something it needs.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Error {
    /// The API error, when the server answered with one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            Error::Transport(_) | Error::Decode { .. } | Error::Config(_) => None,
        }
    }
}

/// A missing or invalid client setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No API token was given and `CLOUDFLARE_API_TOKEN` is unset.
    #[error("no API token: pass one explicitly or set CLOUDFLARE_API_TOKEN")]
    MissingToken,
    /// The API token contains characters that cannot go in an HTTP header.
    #[error("the API token contains characters that cannot be sent in an HTTP header")]
    InvalidToken,
    /// The base URL does not parse or is not http(s).
    #[error("invalid API base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The rejected URL.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// A path parameter (account id, bucket name, token id) is empty.
    #[error("{0} must not be empty")]
    EmptyPathParam(&'static str),
}

/// The class of an API error, named after the exception classes of the official SDKs
/// (`BadRequestError`, `AuthenticationError`, ...), chosen by HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400.
    BadRequest,
    /// 401.
    Authentication,
    /// 403.
    PermissionDenied,
    /// 404.
    NotFound,
    /// 409.
    Conflict,
    /// 422.
    UnprocessableEntity,
    /// 429.
    RateLimited,
    /// 5xx.
    InternalServer,
    /// Any other status, including `200` with `success: false`.
    Other,
}

impl ErrorKind {
    /// The class of an HTTP status.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            422 => ErrorKind::UnprocessableEntity,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::InternalServer,
            _ => ErrorKind::Other,
        }
    }
}

/// Cloudflare v4 error codes the R2 API answers with, for matching on [`ApiError::code`].
pub mod codes {
    /// Malformed JSON in the request body.
    pub const MALFORMED_JSON: u32 = 6007;
    /// Invalid (unknown, revoked, expired or foreign) API token.
    pub const INVALID_TOKEN: u32 = 9109;
    /// Authentication error: no credentials, or the token lacks the permission.
    pub const AUTHENTICATION: u32 = 10000;
    /// The bucket already exists (R2 `BucketAlreadyExists`).
    pub const BUCKET_EXISTS: u32 = 10004;
    /// Invalid bucket name (R2 `InvalidBucketName`).
    pub const INVALID_BUCKET_NAME: u32 = 10005;
    /// "The specified bucket does not exist." (R2 `NoSuchBucket`).
    pub const NO_SUCH_BUCKET: u32 = 10006;
    /// The bucket is not empty (R2 `BucketNotEmpty`).
    pub const BUCKET_NOT_EMPTY: u32 = 10008;
    /// Invalid argument: a field failed validation (see the error's pointer).
    pub const INVALID_ARGUMENT: u32 = 10040;
}

/// The R2 error codes a caller typically branches on, as a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum R2Code {
    /// [`codes::MALFORMED_JSON`].
    MalformedJson,
    /// [`codes::INVALID_TOKEN`].
    InvalidToken,
    /// [`codes::AUTHENTICATION`].
    Authentication,
    /// [`codes::BUCKET_EXISTS`].
    BucketExists,
    /// [`codes::INVALID_BUCKET_NAME`].
    InvalidBucketName,
    /// [`codes::NO_SUCH_BUCKET`].
    NoSuchBucket,
    /// [`codes::BUCKET_NOT_EMPTY`].
    BucketNotEmpty,
    /// [`codes::INVALID_ARGUMENT`].
    InvalidArgument,
}

impl R2Code {
    /// The named code for a numeric one, if it is one of the above.
    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            codes::MALFORMED_JSON => R2Code::MalformedJson,
            codes::INVALID_TOKEN => R2Code::InvalidToken,
            codes::AUTHENTICATION => R2Code::Authentication,
            codes::BUCKET_EXISTS => R2Code::BucketExists,
            codes::INVALID_BUCKET_NAME => R2Code::InvalidBucketName,
            codes::NO_SUCH_BUCKET => R2Code::NoSuchBucket,
            codes::BUCKET_NOT_EMPTY => R2Code::BucketNotEmpty,
            codes::INVALID_ARGUMENT => R2Code::InvalidArgument,
            _ => return None,
        })
    }
}

/// One entry of the envelope's `errors` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorItem {
    /// Numeric error code (>= 1000 in Cloudflare's API).
    pub code: u32,
    /// Human-readable message.
    pub message: String,
    /// A JSON pointer to the offending request field (`source.pointer`), when the server gave one.
    pub pointer: Option<String>,
}

/// An error answer from the API: its HTTP status and the envelope's `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: u16,
    errors: Vec<ErrorItem>,
    raw_body: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: u16, errors: Vec<ErrorItem>, raw_body: Option<String>) -> Self {
        Self {
            status,
            errors,
            raw_body,
        }
    }

    /// The HTTP status (200 for an envelope with `success: false`).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The error class the status maps to.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::from_status(self.status)
    }

    /// The first error's code, if the body was an envelope with errors.
    pub fn code(&self) -> Option<u32> {
        self.errors.first().map(|e| e.code)
    }

    /// The first error's code as a named [`R2Code`], when it is a well-known one.
    pub fn r2_code(&self) -> Option<R2Code> {
        self.code().and_then(R2Code::from_code)
    }

    /// Every error of the envelope.
    pub fn errors(&self) -> &[ErrorItem] {
        &self.errors
    }

    /// The body as received, when it was not a v4 envelope (a proxy's HTML page, say).
    pub fn raw_body(&self) -> Option<&str> {
        self.raw_body.as_deref()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "API error (HTTP {})", self.status)?;
        for (i, e) in self.errors.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            write!(f, "{sep}{} {}", e.code, e.message)?;
            if let Some(p) = &e.pointer {
                write!(f, " (at {p})")?;
            }
        }
        if let (true, Some(raw)) = (self.errors.is_empty(), &self.raw_body) {
            // Bounded, so a huge error page does not flood the terminal.
            let cut: String = raw.chars().take(200).collect();
            write!(f, ": {cut}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_sdk_error_classes() {
        assert_eq!(ErrorKind::from_status(400), ErrorKind::BadRequest);
        assert_eq!(ErrorKind::from_status(401), ErrorKind::Authentication);
        assert_eq!(ErrorKind::from_status(403), ErrorKind::PermissionDenied);
        assert_eq!(ErrorKind::from_status(404), ErrorKind::NotFound);
        assert_eq!(ErrorKind::from_status(409), ErrorKind::Conflict);
        assert_eq!(ErrorKind::from_status(503), ErrorKind::InternalServer);
        assert_eq!(ErrorKind::from_status(200), ErrorKind::Other);
    }

    #[test]
    fn display_lists_codes_and_pointers() {
        let e = ApiError::new(
            400,
            vec![ErrorItem {
                code: 10040,
                message: "bad ttl".into(),
                pointer: Some("/ttlSeconds".into()),
            }],
            None,
        );
        assert_eq!(
            e.to_string(),
            "API error (HTTP 400): 10040 bad ttl (at /ttlSeconds)"
        );
        assert_eq!(e.code(), Some(10040));
        assert_eq!(e.r2_code(), Some(R2Code::InvalidArgument));
        assert_eq!(R2Code::from_code(10006), Some(R2Code::NoSuchBucket));
        assert_eq!(R2Code::from_code(1), None);
    }
}
