//! Arguments and results of the list and multi-step calls of [`crate::MetadataStore`]:
//! listing queries with their pages, conditional writes, and multipart completion.
//!
//! Listing semantics shared by every implementation (the testkit checks them):
//! - keys are ordered by their UTF-8 bytes;
//! - a key is *rolled up* into a common prefix when, after `prefix`, it contains `delimiter`:
//!   the common prefix is everything up to and including the first such delimiter;
//! - objects and common prefixes are merged in key order and both count toward the limit;
//! - `start_after` excludes everything `<=` it; when it is itself a common prefix of this
//!   listing (as [`ObjectListing::next_marker`] may be), every key under it is excluded too,
//!   so a next marker can be passed back verbatim as V1 `marker` or V2 `start-after`/
//!   continuation token without repeating entries.

use crate::ids::{BlobId, BucketId, UploadId};
use crate::records::{
    BucketRecord, ChecksumType, Checksums, ObjectRecord, PartRecord, UploadRecord,
};

/// Ascending or descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// What `list_buckets` orders by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BucketOrder {
    /// By name (bytes).
    #[default]
    Name,
    /// By creation time, ties broken by name.
    CreationDate,
}

/// `list_buckets` arguments (CF `GET /accounts/{a}/r2/buckets` query).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListBucketsQuery {
    /// Only names containing this substring.
    pub name_contains: Option<String>,
    /// Only names sorting strictly after this one (before it when `direction` is `Desc`);
    /// for `CreationDate` order it is a plain `name > start_after` filter.
    pub start_after: Option<String>,
    /// Page size; the store clamps it to 1..=1000.
    pub per_page: usize,
    /// Sort key.
    pub order: BucketOrder,
    /// Sort direction.
    pub direction: SortDirection,
    /// A cursor from a previous [`BucketPage::cursor`] of the same order and direction;
    /// anything else is [`crate::StoreError::InvalidCursor`].
    pub cursor: Option<String>,
}

impl Default for ListBucketsQuery {
    fn default() -> Self {
        Self {
            name_contains: None,
            start_after: None,
            per_page: 1000,
            order: BucketOrder::Name,
            direction: SortDirection::Asc,
            cursor: None,
        }
    }
}

/// A page of buckets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketPage {
    /// The buckets, in the requested order.
    pub buckets: Vec<BucketRecord>,
    /// Opaque cursor for the next page; `None` when this was the last page.
    pub cursor: Option<String>,
}

/// `list_objects` arguments (S3 ListObjects V1 and V2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListObjectsQuery {
    /// Only keys starting with this (byte prefix). Empty means all.
    pub prefix: String,
    /// Roll keys up to common prefixes at the first occurrence after `prefix`. `None` or empty
    /// means no roll-up.
    pub delimiter: Option<String>,
    /// Exclusive start (V1 `marker`, V2 `start-after` or continuation token). See module doc.
    pub start_after: Option<String>,
    /// Maximum objects + common prefixes to return; 0 returns an empty, untruncated page.
    pub max_keys: usize,
}

impl Default for ListObjectsQuery {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            delimiter: None,
            start_after: None,
            max_keys: 1000,
        }
    }
}

/// A page of objects and common prefixes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ObjectListing {
    /// Objects, ordered by key.
    pub objects: Vec<ObjectRecord>,
    /// Distinct common prefixes, ordered.
    pub common_prefixes: Vec<String>,
    /// More entries follow.
    pub is_truncated: bool,
    /// When truncated: the last key or common prefix returned, to pass back as `start_after`.
    pub next_marker: Option<String>,
}

/// `list_parts` arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPartsQuery {
    /// Only parts with a number strictly greater than this (0 = from the start).
    pub part_number_marker: u32,
    /// Maximum parts to return.
    pub max_parts: usize,
}

impl Default for ListPartsQuery {
    fn default() -> Self {
        Self {
            part_number_marker: 0,
            max_parts: 1000,
        }
    }
}

/// A page of parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartListing {
    /// The upload the parts belong to.
    pub upload: UploadRecord,
    /// Parts ordered by part number.
    pub parts: Vec<PartRecord>,
    /// More parts follow.
    pub is_truncated: bool,
    /// When truncated: the last part number returned.
    pub next_part_number_marker: Option<u32>,
}

/// `list_uploads` arguments (S3 ListMultipartUploads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListUploadsQuery {
    /// Only keys starting with this.
    pub prefix: String,
    /// Roll keys up to common prefixes, as for objects.
    pub delimiter: Option<String>,
    /// Start after this key (with `upload_id_marker`: after that upload of this key).
    pub key_marker: Option<String>,
    /// Only used with `key_marker`: uploads of exactly `key_marker` with an id greater than
    /// this are included; without it every upload of `key_marker` is skipped.
    pub upload_id_marker: Option<String>,
    /// Maximum uploads + common prefixes to return.
    pub max_uploads: usize,
}

impl Default for ListUploadsQuery {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            delimiter: None,
            key_marker: None,
            upload_id_marker: None,
            max_uploads: 1000,
        }
    }
}

/// A page of multipart uploads, ordered by (key bytes, upload id).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UploadListing {
    /// Uploads.
    pub uploads: Vec<UploadRecord>,
    /// Common prefixes.
    pub common_prefixes: Vec<String>,
    /// More entries follow.
    pub is_truncated: bool,
    /// When truncated: key (or common prefix) of the last entry.
    pub next_key_marker: Option<String>,
    /// When truncated and the last entry was an upload: its id.
    pub next_upload_id_marker: Option<String>,
}

/// Condition for `put_object` and `complete_upload` (S3 and R2 conditional writes), checked in
/// the same transaction as the write.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum WriteCondition {
    /// Always write.
    #[default]
    None,
    /// Only if no object has this key (`If-None-Match: *`).
    IfAbsent,
    /// Only if the current object's ETag equals this (no quotes) (`If-Match`).
    IfEtagMatches(String),
    /// Only if an object has this key (`If-Match: *`).
    IfPresent,
    /// Only if the current object's ETag is one of these (no quotes) (`If-Match: "a", "b"`).
    IfEtagIn(Vec<String>),
    /// Only if no object has this key or its ETag is none of these (no quotes)
    /// (`If-None-Match: "a", "b"`).
    IfEtagNotIn(Vec<String>),
    /// Only if every one of these holds (both `If-Match` and `If-None-Match` sent).
    All(Vec<WriteCondition>),
}

impl WriteCondition {
    /// Whether the condition holds when the key's current object has ETag `current` (no
    /// quotes; `None` when no object has the key). Backends call this on the row they locked.
    pub fn holds(&self, current: Option<&str>) -> bool {
        match self {
            Self::None => true,
            Self::IfAbsent => current.is_none(),
            Self::IfPresent => current.is_some(),
            Self::IfEtagMatches(want) => current == Some(want.as_str()),
            Self::IfEtagIn(list) => current.is_some_and(|c| list.iter().any(|e| e == c)),
            Self::IfEtagNotIn(list) => current.is_none_or(|c| list.iter().all(|e| e != c)),
            Self::All(all) => all.iter().all(|c| c.holds(current)),
        }
    }
}

/// Which per-bucket configuration document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BucketConfigKind {
    /// CORS rules.
    Cors,
    /// Lifecycle rules.
    Lifecycle,
}

impl BucketConfigKind {
    /// `"cors"` or `"lifecycle"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cors => "cors",
            Self::Lifecycle => "lifecycle",
        }
    }
}

/// One part the client chose for CompleteMultipartUpload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedPart {
    /// Part number.
    pub part_number: u32,
    /// The ETag the caller validated (no quotes); the store re-checks it in the transaction so
    /// a part replaced meanwhile is an [`crate::StoreError::InvalidPart`].
    pub etag: String,
}

/// CompleteMultipartUpload, decided by the caller (which has validated part order and sizes and
/// computed ETag and checksums from a `list_parts` read) and committed by the store atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompleteUpload {
    /// The bucket.
    pub bucket: BucketId,
    /// The key (must match the upload's).
    pub key: String,
    /// The upload.
    pub upload_id: UploadId,
    /// Chosen parts, in object order (strictly ascending part numbers).
    pub parts: Vec<CompletedPart>,
    /// Final ETag (`hex-N`, no quotes).
    pub etag: String,
    /// Epoch milliseconds for the object's `last_modified_ms`.
    pub last_modified_ms: u64,
    /// Final object checksums.
    pub checksums: Checksums,
    /// Their type.
    pub checksum_type: ChecksumType,
    /// Conditional write on the key (`If-Match` / `If-None-Match` on the completion), checked
    /// against the object the completion replaces, in the same transaction.
    pub condition: WriteCondition,
}

/// What `complete_upload` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompleteOutcome {
    /// The object now stored (headers and user metadata come from the upload record).
    pub object: ObjectRecord,
    /// Blobs nobody references any more: unused parts plus the replaced object's blobs.
    /// Delete them after the call returns.
    pub garbage: Vec<BlobId>,
}
