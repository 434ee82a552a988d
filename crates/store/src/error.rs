//! The one error type every storage trait returns. Adapters map it to the wire in exactly one
//! place each; [`StoreError::Backend`] carries detail for logs only and must be shown to
//! clients as a generic internal error.

use std::fmt;
use std::io;

/// What was not found, or already existed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entity {
    /// An account.
    Account,
    /// An R2 API token (looked up by id or by secret).
    Token,
    /// A bucket.
    Bucket,
    /// An object (bucket and key).
    Object,
    /// A multipart upload (bucket, key and upload id).
    Upload,
    /// A part of a multipart upload.
    Part,
    /// A bucket's CORS document.
    Cors,
    /// A bucket's lifecycle document.
    Lifecycle,
    /// A blob in a [`crate::BlobStore`].
    Blob,
}

impl Entity {
    /// A stable lower-case name, for logs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Token => "token",
            Self::Bucket => "bucket",
            Self::Object => "object",
            Self::Upload => "multipart upload",
            Self::Part => "part",
            Self::Cors => "CORS configuration",
            Self::Lifecycle => "lifecycle configuration",
            Self::Blob => "blob",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors from [`crate::MetadataStore`] and [`crate::BlobStore`].
///
/// No variant's `Display` contains a secret: token secrets are never part of an error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The entity does not exist. For nested lookups the outermost missing one is reported:
    /// `get_object` on a missing bucket is `NotFound(Bucket)`, not `NotFound(Object)`.
    #[error("{0} not found")]
    NotFound(Entity),
    /// A create collided with an existing entity (same id, name or token secret).
    #[error("{0} already exists")]
    AlreadyExists(Entity),
    /// `delete_bucket` refused: the bucket still has objects or in-progress multipart uploads.
    #[error("bucket is not empty")]
    BucketNotEmpty,
    /// `complete_upload` named a part that does not exist or whose ETag differs.
    #[error("invalid part {part_number}")]
    InvalidPart {
        /// The offending part number.
        part_number: u32,
    },
    /// A conditional write's condition ([`crate::WriteCondition`]) did not hold.
    #[error("precondition failed")]
    PreconditionFailed,
    /// A list cursor or marker this store did not issue, or one from another ordering.
    #[error("invalid cursor")]
    InvalidCursor,
    /// A byte range outside the blob (`start > end` or `end > size`).
    #[error("invalid byte range")]
    InvalidRange,
    /// The request conflicts with the current state (reason is a fixed phrase).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The caller's body stream failed while a blob was being written. The original error is
    /// kept so the adapter can recognise its own errors (e.g. a checksum mismatch) with
    /// [`io::Error::get_ref`] and downcasting.
    #[error("body stream failed: {0}")]
    Body(#[source] io::Error),
    /// The backend failed (I/O, database). The detail is for logs; clients get a generic message.
    #[error("storage backend error: {0}")]
    Backend(String),
}

impl StoreError {
    /// A backend error from anything displayable (the detail goes to logs only).
    pub fn backend(detail: impl fmt::Display) -> Self {
        Self::Backend(detail.to_string())
    }

    /// True for `NotFound(entity)`.
    pub fn is_not_found(&self, entity: Entity) -> bool {
        matches!(self, Self::NotFound(e) if *e == entity)
    }
}

impl From<io::Error> for StoreError {
    fn from(err: io::Error) -> Self {
        Self::Backend(format!("io: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_entity() {
        assert_eq!(
            StoreError::NotFound(Entity::Upload).to_string(),
            "multipart upload not found"
        );
        assert!(StoreError::NotFound(Entity::Bucket).is_not_found(Entity::Bucket));
        assert!(!StoreError::NotFound(Entity::Bucket).is_not_found(Entity::Object));
    }
}
