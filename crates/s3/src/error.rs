//! The one place Mayfly's errors become S3 error codes and statuses.
//!
//! Core's token and authorization errors, storage errors and this crate's own failures all
//! convert through [`Failure`] into an `S3Error`; the few errors the adapters raise directly
//! (a bare denial, an unsupported operation, a timed-out body) are built by the functions at
//! the end. Client-facing messages are generic, but for one exception: a temporary credential's
//! scope denial carries core's `explain_denial` text, which names only what the holder can read
//! from its own token (a Mayfly extension). The precise reason goes to the request's log line (`logs::note_reason`), and
//! internal details of real faults to an ERROR line.
//!
//! This module depends on no other module of the crate but `logs`: the body ingest and the
//! adapters use it, never the other way round.

use http::StatusCode;
use mayfly_core::{Denied, TokenError};
use mayfly_store::{Entity, StoreError};
use s3s::{S3Error, S3ErrorCode};

use crate::logs::note_reason;

/// Why a request body failed its ingest (`body::ingest`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum IngestError {
    /// More bytes than the object or part limit.
    #[error("body larger than the limit")]
    TooLarge,
    /// Fewer or more bytes than `Content-Length` / `x-amz-decoded-content-length`.
    #[error("body shorter or longer than declared")]
    LengthMismatch,
    /// `Content-MD5` is not the base64 of 16 bytes.
    #[error("Content-MD5 is not a base64 MD5")]
    InvalidDigest,
    /// A digest the client sent does not match the body.
    #[error("checksum mismatch")]
    BadDigest,
    /// `x-amz-trailer` named a checksum the trailer did not carry.
    #[error("declared trailer checksum missing")]
    MissingTrailer,
    /// The body does not hash to `x-amz-content-sha256`.
    #[error("x-amz-content-sha256 mismatch")]
    Sha256Mismatch,
    /// An aws-chunk signature does not verify.
    #[error("chunk signature mismatch")]
    ChunkSignature,
    /// An aws-chunk larger than the chunk cap.
    #[error("aws-chunk too large")]
    ChunkTooLarge,
    /// The body stream broke off (client gone, malformed framing).
    #[error("body stream failed")]
    Body,
}

/// Everything that can fail an S3 request inside Mayfly.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// The access key id names no token.
    #[error("unknown access key")]
    UnknownAccessKey,
    /// The session token failed to parse or verify.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Core's `authorize` refused the request.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The store failed or found nothing.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A request body failed its size, length or checksum checks.
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

impl From<Failure> for S3Error {
    fn from(f: Failure) -> S3Error {
        match f {
            Failure::UnknownAccessKey => {
                note_reason("unknown access key");
                // SPEC §4 (CF): an unknown key is 401 Unauthorized, not AWS's 403.
                let mut e = S3Error::with_message(
                    S3ErrorCode::Custom("Unauthorized".into()),
                    "The access key id you provided does not exist in our records.",
                );
                e.set_status_code(StatusCode::UNAUTHORIZED);
                e
            }
            Failure::Token(t) => token_error(t),
            Failure::Denied(d) => {
                note_reason(format!("denied: {}", d.reason));
                access_denied()
            }
            Failure::Store(e) => store_error(e),
            Failure::Ingest(e) => {
                note_reason(format!("body refused: {e}"));
                ingest_error(e)
            }
        }
    }
}

/// A temporary credential's denial with its explanation as the `<Message>`; the log line keeps
/// core's fixed reason.
pub(crate) fn denied_explained(d: &Denied, message: String) -> S3Error {
    note_reason(format!("denied: {}", d.reason));
    S3Error::with_message(S3ErrorCode::AccessDenied, message)
}

fn token_error(t: TokenError) -> S3Error {
    note_reason(format!("session token refused: {t}"));
    match t {
        TokenError::Expired => S3Error::with_message(
            S3ErrorCode::ExpiredToken,
            mayfly_core::EXPIRED_TOKEN_MESSAGE,
        ),
        TokenError::BadSignature
        | TokenError::IssuerMismatch
        | TokenError::AudienceMismatch
        | TokenError::NotYetValid
        | TokenError::BadLifetime => access_denied(),
        TokenError::TooLarge
        | TokenError::Malformed
        | TokenError::UnsupportedHeader
        | TokenError::Claims(_) => S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Invalid Argument: X-Amz-Security-Token",
        ),
    }
}

fn store_error(e: StoreError) -> S3Error {
    use S3ErrorCode as C;
    let (code, msg): (S3ErrorCode, &'static str) = match &e {
        StoreError::NotFound(entity) => match entity {
            Entity::Bucket => (C::NoSuchBucket, "The specified bucket does not exist."),
            Entity::Object => (C::NoSuchKey, "The specified key does not exist."),
            Entity::Upload => (
                C::NoSuchUpload,
                "The specified multipart upload does not exist.",
            ),
            Entity::Part => (
                C::InvalidPart,
                "One or more of the specified parts could not be found.",
            ),
            Entity::Cors => (
                C::NoSuchCORSConfiguration,
                "The CORS configuration does not exist",
            ),
            Entity::Lifecycle => (
                C::NoSuchLifecycleConfiguration,
                "The lifecycle configuration does not exist",
            ),
            Entity::Account | Entity::Token | Entity::Blob => {
                tracing::error!(error = %e, "store lookup failed");
                (
                    C::InternalError,
                    "We encountered an internal error. Please try again.",
                )
            }
        },
        StoreError::AlreadyExists(Entity::Bucket) => (
            C::BucketAlreadyOwnedByYou,
            "Your previous request to create the named bucket succeeded and you already own it.",
        ),
        StoreError::AlreadyExists(_) => (
            C::OperationAborted,
            "A conflicting operation is in progress. Please try again.",
        ),
        StoreError::BucketNotEmpty => (
            C::BucketNotEmpty,
            "The bucket you tried to delete is not empty.",
        ),
        StoreError::InvalidPart { .. } => (
            C::InvalidPart,
            "One or more of the specified parts could not be found.",
        ),
        StoreError::PreconditionFailed => (
            C::PreconditionFailed,
            "At least one of the preconditions you specified did not hold.",
        ),
        StoreError::InvalidCursor => (
            C::InvalidArgument,
            "The continuation token provided is incorrect",
        ),
        StoreError::InvalidRange => (C::InvalidRange, "The requested range is not satisfiable"),
        StoreError::Conflict(_) => (
            C::OperationAborted,
            "A conflicting operation is in progress. Please try again.",
        ),
        StoreError::Body(_) => (
            C::IncompleteBody,
            "The request body could not be read completely.",
        ),
        StoreError::Backend(_) => {
            tracing::error!(error = %e, "store backend failed");
            (
                C::InternalError,
                "We encountered an internal error. Please try again.",
            )
        }
    };
    S3Error::with_message(code, msg)
}

fn ingest_error(e: IngestError) -> S3Error {
    use S3ErrorCode as C;
    let (code, msg) = match e {
        IngestError::TooLarge => (
            C::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed size",
        ),
        IngestError::LengthMismatch | IngestError::Body => (
            C::IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ),
        IngestError::InvalidDigest => (
            C::InvalidDigest,
            "The Content-MD5 or checksum value that you specified is not valid.",
        ),
        IngestError::BadDigest => (
            C::BadDigest,
            "The Content-MD5 or checksum value that you specified did not match what the server received.",
        ),
        IngestError::MissingTrailer => (
            C::InvalidRequest,
            "The declared trailing checksum was not sent.",
        ),
        IngestError::Sha256Mismatch => (
            C::Custom("XAmzContentSHA256Mismatch".into()),
            "The provided x-amz-content-sha256 header does not match what was computed.",
        ),
        IngestError::ChunkSignature => (
            C::SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided.",
        ),
        IngestError::ChunkTooLarge => (
            C::InvalidRequest,
            "An aws-chunked chunk exceeds the maximum chunk size.",
        ),
    };
    let custom = matches!(code, C::Custom(_));
    let mut err = S3Error::with_message(code, msg);
    if custom {
        err.set_status_code(StatusCode::BAD_REQUEST);
    }
    err
}

/// Shorthand for handlers: `store_call().await.map_err(store)?`.
pub(crate) fn store(e: StoreError) -> S3Error {
    Failure::Store(e).into()
}

/// A generic internal error; the detail goes to the log only.
pub(crate) fn internal(detail: &dyn std::fmt::Display) -> S3Error {
    tracing::error!(error = %detail, "internal error");
    S3Error::with_message(
        S3ErrorCode::InternalError,
        "We encountered an internal error. Please try again.",
    )
}

/// 403 `AccessDenied` with AWS's generic message; the reason, if any, is noted separately.
pub(crate) fn access_denied() -> S3Error {
    S3Error::with_message(S3ErrorCode::AccessDenied, "Access Denied")
}

/// 501 for an operation Mayfly does not serve (the same answer s3s's default gives).
pub(crate) fn not_implemented() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        "This operation is not implemented.",
    )
}

/// 400 `RequestTimeout`: the request body stopped arriving.
pub(crate) fn request_timeout() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::RequestTimeout,
        "Your socket connection to the server was not read from or written to within the timeout period.",
    )
}

/// 500 for a broken invariant of the adapters themselves.
pub(crate) fn context_missing() -> S3Error {
    internal(&"request context missing")
}

/// 501 for a form of an operation Mayfly does not serve, saying which.
pub(crate) fn unsupported(what: &'static str) -> S3Error {
    note_reason(what);
    S3Error::with_message(S3ErrorCode::NotImplemented, what)
}

/// 400 `InvalidArgument` with a fixed message.
pub(crate) fn invalid_argument(what: &'static str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, what)
}

/// 400 `InvalidURI`: the request target does not decode.
pub(crate) fn invalid_uri() -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidURI, "Couldn't parse the specified URI.")
}

/// 400 `InvalidBucketName`.
pub(crate) fn invalid_bucket_name() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidBucketName,
        "The specified bucket is not valid.",
    )
}

/// An S3 error as the HTTP answer (XML body); 500 if it cannot be rendered.
pub(crate) fn error_response(e: S3Error) -> axum::response::Response {
    match e.to_http_response() {
        Ok(resp) => resp.map(axum::body::Body::new),
        Err(_) => axum::response::IntoResponse::into_response(StatusCode::INTERNAL_SERVER_ERROR),
    }
}
