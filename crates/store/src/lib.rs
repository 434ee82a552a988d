//! Mayfly's storage boundary: the [`MetadataStore`] and [`BlobStore`] traits, the records they
//! keep, the [`Clock`] servers read, and (feature `testkit`) the conformance suite every
//! implementation runs.
//!
//! This crate is not an implementation: `mayfly-store-local` (SQLite + files) and later
//! `mayfly-store-pg` implement it, and only the binary picks one. `mayfly-api` and `mayfly-s3`
//! see `Arc<dyn MetadataStore>` and `Arc<dyn BlobStore>` only.
//!
//! Write protocol for anything with bytes: [`BlobStore::write`] first (durable on return), then
//! commit the record; delete the blob ids a call returns as garbage afterwards. Crashes in
//! between leave orphan blobs, collected by [`gc::collect_orphans`].
//!
//! ```
//! use mayfly_store::Clock;
//!
//! let clock = Clock::fixed(1_750_000_000);
//! clock.advance(60);
//! assert_eq!(clock.now(), 1_750_000_060);
//! ```

#![warn(missing_docs)]

pub mod audit;
mod blob;
#[doc(hidden)]
pub mod bucket_page;
pub mod cache;
mod clock;
#[doc(hidden)]
pub mod codec;
#[doc(hidden)]
pub mod complete;
pub mod cors;
mod error;
mod fresh;
pub mod gc;
mod ids;
pub mod lifecycle;
pub mod listing;
mod metadata;
pub mod query;
mod records;
pub mod revocation;
pub mod schema;
pub mod sweep;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use audit::{
    AuditCursor, AuditEvent, AuditKind, AuditPage, AuditQuery, AuditReceiver, AuditSink,
    AuditStore, MAX_AUDIT_PAGE, StoredAuditEvent, retention_cutoff,
};
pub use blob::{
    BlobStore, BlobWritten, ByteStream, READ_CHUNK, bytes_stream, collect_stream, read_object,
    slice_stream,
};
pub use cache::{CacheConfig, CachedMetadata};
pub use clock::Clock;
pub use error::{Entity, StoreError};
pub use fresh::{TOKEN_VALUE_LEN, TokenValue, new_account_id, new_token_id};
pub use ids::{BlobId, BucketId, InvalidId, UploadId};
pub use metadata::MetadataStore;
pub use query::{
    BucketConfigKind, BucketOrder, BucketPage, CompleteOutcome, CompleteUpload, CompletedPart,
    ListBucketsQuery, ListObjectsQuery, ListPartsQuery, ListUploadsQuery, ObjectListing,
    PartListing, SortDirection, UploadListing, WriteCondition,
};
pub use records::{
    AccountRecord, BlobRef, BucketRecord, ChecksumAlgorithm, ChecksumType, Checksums, HttpHeaders,
    Jurisdiction, ObjectPart, ObjectRecord, PartRecord, TokenRecord, TokenStatus, TokenUpdate,
    UnknownName, UploadRecord,
};
pub use revocation::{
    Invalidation, ListRevocationsQuery, MAX_CREDENTIAL_LIFETIME_SECS, RevocationRecord,
};
