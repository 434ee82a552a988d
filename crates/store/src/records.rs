//! The records the stores keep: accounts, R2 API tokens, buckets, objects, multipart uploads
//! and parts. Records are plain data with public fields; validation of untrusted input happens
//! in the adapters (and in `mayfly-core` newtypes) before a record is built.
//!
//! Time units: accounts, tokens and buckets carry epoch **seconds**; objects, uploads and parts
//! carry epoch **milliseconds** (`*_ms`), because S3 lists and conditionals compare them finely.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission, SecretAccessKey};

use crate::ids::{BlobId, BucketId, UploadId};

/// A name that did not match any variant of a storage enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}")]
pub struct UnknownName {
    /// What kind of name it was ("jurisdiction", "checksum algorithm", ...).
    pub what: &'static str,
}

/// An account hosted by this server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    /// 32 lowercase hex characters.
    pub id: AccountId,
    /// Free-form display name.
    pub name: String,
    /// Epoch seconds.
    pub created_at: u64,
}

/// Whether a token may still be used. Revoked tokens keep their row (for audit and for listing)
/// and kill every temporary credential minted from them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenStatus {
    /// Usable (subject to `expires_at`).
    Active,
    /// Disabled by an update: refused like a revoked token (and so is every credential minted
    /// from it), but an update may make it active again.
    Disabled,
    /// Revoked: every use must be refused, for good ([`crate::MetadataStore::update_token`]
    /// refuses to change a revoked token).
    Revoked,
}

impl TokenStatus {
    /// `"active"`, `"disabled"` or `"revoked"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Revoked => "revoked",
        }
    }

    /// Inverse of [`TokenStatus::as_str`].
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        match s {
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            "revoked" => Ok(Self::Revoked),
            _ => Err(UnknownName {
                what: "token status",
            }),
        }
    }
}

/// An R2 API token. The token *value* is never stored: only `secret`, the lowercase hex SHA-256
/// of the value, which is also the token's S3 secret access key (SPEC §1). A bearer token is
/// authenticated by hashing it and calling [`crate::MetadataStore::get_token_by_secret`].
#[derive(Clone)]
pub struct TokenRecord {
    /// The token id, which is also its S3 access key id (32 lowercase hex).
    pub id: AccessKeyId,
    /// The account the token belongs to.
    pub account: AccountId,
    /// Display name.
    pub name: String,
    /// What the token may do.
    pub permission: Permission,
    /// For object-level tokens, the buckets it is limited to; `None` means every bucket.
    pub buckets: Option<Vec<BucketName>>,
    /// Lowercase hex SHA-256 of the token value = the S3 secret. Unique across all tokens.
    pub secret: SecretAccessKey,
    /// Active or revoked.
    pub status: TokenStatus,
    /// Epoch seconds.
    pub created_at: u64,
    /// Epoch seconds after which the token is expired; `None` never expires.
    pub expires_at: Option<u64>,
}

impl PartialEq for TokenRecord {
    fn eq(&self, other: &Self) -> bool {
        // Secrets compare in constant time, even here, so no code path leaks them by timing.
        self.secret.ct_eq(&other.secret)
            && self.id == other.id
            && self.account == other.account
            && self.name == other.name
            && self.permission == other.permission
            && self.buckets == other.buckets
            && self.status == other.status
            && self.created_at == other.created_at
            && self.expires_at == other.expires_at
    }
}

impl Eq for TokenRecord {}

impl fmt::Debug for TokenRecord {
    // Written by hand so the secret can never reach a log, whatever its own Debug does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRecord")
            .field("id", &self.id)
            .field("account", &self.account)
            .field("name", &self.name)
            .field("permission", &self.permission)
            .field("buckets", &self.buckets)
            .field("secret", &"<redacted>")
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The fields [`crate::MetadataStore::update_token`] replaces. The id, account, secret and
/// creation time of a token never change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenUpdate {
    /// Display name.
    pub name: String,
    /// What the token may do from now on.
    pub permission: Permission,
    /// For object-level tokens, the buckets it is limited to; `None` means every bucket.
    pub buckets: Option<Vec<BucketName>>,
    /// Active or disabled; `None` keeps the current status (revoked is final: the update
    /// is refused).
    pub status: Option<TokenStatus>,
    /// Epoch seconds after which the token is refused; `None`: never.
    pub expires_at: Option<u64>,
}

impl TokenUpdate {
    /// `token` with this update applied.
    pub fn apply(&self, token: &TokenRecord) -> TokenRecord {
        TokenRecord {
            name: self.name.clone(),
            permission: self.permission,
            buckets: self.buckets.clone(),
            status: self.status.unwrap_or(token.status),
            expires_at: self.expires_at,
            ..token.clone()
        }
    }
}

/// Where a bucket's data must stay (CF `jurisdiction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Jurisdiction {
    /// No restriction.
    #[default]
    Default,
    /// European Union.
    Eu,
    /// FedRAMP.
    Fedramp,
}

impl Jurisdiction {
    /// `"default"`, `"eu"` or `"fedramp"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Eu => "eu",
            Self::Fedramp => "fedramp",
        }
    }

    /// Inverse of [`Jurisdiction::as_str`].
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        match s {
            "default" => Ok(Self::Default),
            "eu" => Ok(Self::Eu),
            "fedramp" => Ok(Self::Fedramp),
            _ => Err(UnknownName {
                what: "jurisdiction",
            }),
        }
    }
}

/// A bucket. Names are unique per account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketRecord {
    /// The owning account.
    pub account: AccountId,
    /// The bucket name.
    pub name: BucketName,
    /// Epoch seconds.
    pub created_at: u64,
    /// Location, e.g. `"WNAM"` (or the hint given at creation).
    pub location: String,
    /// Storage class, e.g. `"Standard"`.
    pub storage_class: String,
    /// Data jurisdiction.
    pub jurisdiction: Jurisdiction,
}

impl BucketRecord {
    /// The (account, name) pair object calls take.
    pub fn bucket_id(&self) -> BucketId {
        BucketId::new(self.account.clone(), self.name.clone())
    }
}

/// The HTTP representation headers S3 stores with an object and returns on GET/HEAD.
/// Values are kept exactly as received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpHeaders {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires`, as the HTTP date string received.
    pub expires: Option<String>,
}

/// S3 checksum algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChecksumAlgorithm {
    /// CRC32 (ISO-HDLC).
    Crc32,
    /// CRC32C (Castagnoli).
    Crc32c,
    /// CRC64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in a fixed order.
    pub const ALL: [Self; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    /// The S3 name: `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// Inverse of [`ChecksumAlgorithm::as_str`] (exact, upper-case).
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(UnknownName {
                what: "checksum algorithm",
            })
    }
}

/// Whether a checksum covers the whole object's bytes or is a checksum of part checksums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ChecksumType {
    /// Computed over the full object bytes (every single-part object).
    #[default]
    FullObject,
    /// Checksum of the parts' checksums, value suffixed `-N` (multipart only).
    Composite,
}

impl ChecksumType {
    /// `"FULL_OBJECT"` or `"COMPOSITE"` (the S3 spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullObject => "FULL_OBJECT",
            Self::Composite => "COMPOSITE",
        }
    }

    /// Inverse of [`ChecksumType::as_str`].
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        match s {
            "FULL_OBJECT" => Ok(Self::FullObject),
            "COMPOSITE" => Ok(Self::Composite),
            _ => Err(UnknownName {
                what: "checksum type",
            }),
        }
    }
}

/// Checksum values by algorithm (base64, as S3 sends them).
pub type Checksums = BTreeMap<ChecksumAlgorithm, String>;

/// One part of a completed multipart object, in object order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectPart {
    /// The part number the client uploaded it as (ascending within the object, may have gaps).
    pub part_number: u32,
    /// Bytes in this part.
    pub size: u64,
    /// The part's ETag (hex MD5, no quotes).
    pub etag: String,
    /// The part's checksums, as uploaded.
    pub checksums: Checksums,
    /// Where the part's bytes are.
    pub blob: BlobId,
}

/// Where an object's bytes live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobRef {
    /// One blob holds the whole object (PutObject, CopyObject; empty objects too).
    Single(BlobId),
    /// A completed multipart upload: the parts' blobs concatenated in this order.
    Parts(Vec<ObjectPart>),
}

impl BlobRef {
    /// Every blob id this reference owns, in byte order.
    pub fn blob_ids(&self) -> Vec<BlobId> {
        match self {
            Self::Single(id) => vec![id.clone()],
            Self::Parts(parts) => parts.iter().map(|p| p.blob.clone()).collect(),
        }
    }

    /// Number of parts for a multipart object, `None` for a single blob.
    pub fn parts_count(&self) -> Option<usize> {
        match self {
            Self::Single(_) => None,
            Self::Parts(parts) => Some(parts.len()),
        }
    }
}

/// An object's metadata. `key` is opaque data (any UTF-8, up to 1024 bytes by S3 rules): it is
/// compared and ordered byte-wise and never used as a file path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRecord {
    /// The bucket.
    pub bucket: BucketId,
    /// The key, byte-exact as the client sent it (decoded once, never normalised).
    pub key: String,
    /// Total size in bytes.
    pub size: u64,
    /// ETag without quotes: hex MD5 for single-part objects, `hex-N` for multipart.
    pub etag: String,
    /// Epoch milliseconds of the write (S3 shows it at second precision).
    pub last_modified_ms: u64,
    /// Representation headers.
    pub headers: HttpHeaders,
    /// `x-amz-meta-*` pairs, names lower-cased by the adapter, ordered by name.
    pub user_metadata: BTreeMap<String, String>,
    /// Stored checksums by algorithm.
    pub checksums: Checksums,
    /// Whether `checksums` are full-object or composite.
    pub checksum_type: ChecksumType,
    /// Where the bytes are (single blob or ordered parts).
    pub blob: BlobRef,
}

impl ObjectRecord {
    /// For `GetObject?partNumber=n` (1-based index into the object's parts): the byte range of
    /// that part within the object, and the part. A single-blob object has exactly one part,
    /// the whole object. `None` when `n` is out of range.
    pub fn part_range(&self, n: usize) -> Option<(Range<u64>, Option<&ObjectPart>)> {
        match &self.blob {
            BlobRef::Single(_) => (n == 1).then_some((0..self.size, None)),
            BlobRef::Parts(parts) => {
                let index = n.checked_sub(1)?;
                let part = parts.get(index)?;
                let start: u64 = parts[..index].iter().map(|p| p.size).sum();
                Some((start..start + part.size, Some(part)))
            }
        }
    }
}

/// An in-progress multipart upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRecord {
    /// The bucket.
    pub bucket: BucketId,
    /// The key the object will have.
    pub key: String,
    /// Random id (see [`UploadId::random`]).
    pub upload_id: UploadId,
    /// Epoch milliseconds of CreateMultipartUpload.
    pub initiated_ms: u64,
    /// Representation headers the completed object gets.
    pub headers: HttpHeaders,
    /// User metadata the completed object gets.
    pub user_metadata: BTreeMap<String, String>,
    /// Checksum algorithm announced at creation, if any.
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// Checksum type announced at creation, if any.
    pub checksum_type: Option<ChecksumType>,
}

/// An uploaded part of a multipart upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartRecord {
    /// 1..=10000.
    pub part_number: u32,
    /// Bytes in the part.
    pub size: u64,
    /// Hex MD5 without quotes.
    pub etag: String,
    /// Epoch milliseconds of the upload.
    pub last_modified_ms: u64,
    /// Checksums sent with the part.
    pub checksums: Checksums,
    /// Where the bytes are.
    pub blob: BlobId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_round_trip() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::parse(a.as_str()), Ok(a));
        }
        for j in [
            Jurisdiction::Default,
            Jurisdiction::Eu,
            Jurisdiction::Fedramp,
        ] {
            assert_eq!(Jurisdiction::parse(j.as_str()), Ok(j));
        }
        for t in [ChecksumType::FullObject, ChecksumType::Composite] {
            assert_eq!(ChecksumType::parse(t.as_str()), Ok(t));
        }
        for t in [
            TokenStatus::Active,
            TokenStatus::Disabled,
            TokenStatus::Revoked,
        ] {
            assert_eq!(TokenStatus::parse(t.as_str()), Ok(t));
        }
        assert!(TokenStatus::parse("Active").is_err());
    }
}
