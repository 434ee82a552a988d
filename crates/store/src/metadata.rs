//! [`MetadataStore`]: accounts, R2 API tokens, buckets (and their config documents), objects,
//! multipart uploads and parts. It stores no object bytes: records point at blobs in a
//! [`crate::BlobStore`] by [`BlobId`].
//!
//! Ordering rule for writes that carry bytes: write the blob first, then commit the record; on a
//! store error the caller still owns the blob it wrote and deletes it. Every call that replaces
//! or removes records returns the blob ids nobody references any more ("garbage"); the caller
//! deletes them after the call. A crash between the two steps leaves orphan blobs, which
//! [`crate::gc::collect_orphans`] removes.

use async_trait::async_trait;
use bytes::Bytes;
use mayfly_core::{AccessKeyId, AccountId, CredentialId, SecretAccessKey};

use crate::error::StoreError;
use crate::ids::{BlobId, BucketId, UploadId};
use crate::query::{
    BucketConfigKind, BucketPage, CompleteOutcome, CompleteUpload, ListBucketsQuery,
    ListObjectsQuery, ListPartsQuery, ListUploadsQuery, ObjectListing, PartListing, UploadListing,
    WriteCondition,
};
use crate::records::{
    AccountRecord, BucketRecord, ObjectRecord, PartRecord, TokenRecord, TokenUpdate, UploadRecord,
};
use crate::revocation::{ListRevocationsQuery, RevocationRecord};

/// Metadata persistence. Object-safe; servers hold it as `Arc<dyn MetadataStore>`.
///
/// Every call is atomic: a multi-row change commits in one transaction or not at all.
/// Lookups of missing things return [`StoreError::NotFound`] naming the outermost missing entity.
#[async_trait]
pub trait MetadataStore: Send + Sync {
    // ----- accounts -----

    /// Creates an account. `AlreadyExists(Account)` if the id is taken.
    async fn create_account(&self, account: AccountRecord) -> Result<(), StoreError>;

    /// The account with this id.
    async fn get_account(&self, id: &AccountId) -> Result<AccountRecord, StoreError>;

    /// Every account, ordered by id.
    async fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError>;

    /// Bootstrap: in ONE transaction, and only if the store holds no account at all, creates
    /// `account` and `token` (which must belong to it). Returns `true` if it created them,
    /// `false` (changing nothing) if any account already existed. Any number of callers racing
    /// on one empty store, in one process or on many nodes, see exactly one `true`.
    async fn create_first_account(
        &self,
        account: AccountRecord,
        token: TokenRecord,
    ) -> Result<bool, StoreError>;

    // ----- R2 API tokens -----

    /// Stores a token. `NotFound(Account)` if its account is missing; `AlreadyExists(Token)` if
    /// the id or the secret is already used.
    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError>;

    /// The token with this id (= S3 access key id), whatever its status.
    async fn get_token(&self, id: &AccessKeyId) -> Result<TokenRecord, StoreError>;

    /// The token whose secret (lowercase hex SHA-256 of its value) is `secret`, whatever its
    /// status. Used to authenticate bearer tokens: hash the presented value, then look it up.
    async fn get_token_by_secret(
        &self,
        secret: &SecretAccessKey,
    ) -> Result<TokenRecord, StoreError>;

    /// The account's tokens, ordered by id.
    async fn list_tokens(&self, account: &AccountId) -> Result<Vec<TokenRecord>, StoreError>;

    /// Replaces the token's name, permission, buckets, status and expiry in one statement and
    /// returns the updated record; every later lookup (on any node) sees the new values.
    /// `NotFound(Token)` if the account has no such token; `Conflict` if the token is revoked
    /// (revocation is final).
    async fn update_token(
        &self,
        account: &AccountId,
        id: &AccessKeyId,
        update: TokenUpdate,
    ) -> Result<TokenRecord, StoreError>;

    /// Sets the token's status to `Revoked` and keeps the row. Idempotent.
    /// `NotFound(Token)` if the account has no such token.
    async fn revoke_token(&self, account: &AccountId, id: &AccessKeyId) -> Result<(), StoreError>;

    /// Removes the token row. `NotFound(Token)` if the account has no such token.
    async fn delete_token(&self, account: &AccountId, id: &AccessKeyId) -> Result<(), StoreError>;

    // ----- buckets -----

    /// Creates a bucket. `NotFound(Account)` if the account is missing;
    /// `AlreadyExists(Bucket)` if the account already has a bucket with this name.
    async fn create_bucket(&self, bucket: BucketRecord) -> Result<(), StoreError>;

    /// The bucket.
    async fn get_bucket(&self, bucket: &BucketId) -> Result<BucketRecord, StoreError>;

    /// A page of the account's buckets.
    async fn list_buckets(
        &self,
        account: &AccountId,
        query: &ListBucketsQuery,
    ) -> Result<BucketPage, StoreError>;

    /// Deletes an empty bucket and its config documents. `BucketNotEmpty` if it holds any object
    /// or in-progress multipart upload.
    async fn delete_bucket(&self, bucket: &BucketId) -> Result<(), StoreError>;

    /// The stored config document. `NotFound(Cors)` / `NotFound(Lifecycle)` when none is set.
    /// Documents are opaque to the store; adapters agree on their format.
    async fn get_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
    ) -> Result<String, StoreError>;

    /// Sets (replaces) a config document.
    async fn put_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
        document: String,
    ) -> Result<(), StoreError>;

    /// Removes a config document. Succeeds when none was set.
    async fn delete_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
    ) -> Result<(), StoreError>;

    // ----- objects -----

    /// The object's record.
    async fn get_object(&self, bucket: &BucketId, key: &str) -> Result<ObjectRecord, StoreError>;

    /// [`get_object`](Self::get_object), plus the object's bytes when this store keeps them
    /// itself (the embedded store's inline small blobs), read in the same look-up: a small GET
    /// then costs one read instead of two. `None`: read the blob store as usual.
    async fn get_object_and_body(
        &self,
        bucket: &BucketId,
        key: &str,
    ) -> Result<(ObjectRecord, Option<Bytes>), StoreError> {
        Ok((self.get_object(bucket, key).await?, None))
    }

    /// Atomically replaces the object `(object.bucket, object.key)` if `condition` holds;
    /// returns the previous version's blob ids (garbage). `NotFound(Bucket)` if the bucket is
    /// missing; `PreconditionFailed` if the condition does not hold. Concurrent puts of one key
    /// leave exactly one winner, and every loser's blobs are returned to some caller.
    async fn put_object(
        &self,
        object: ObjectRecord,
        condition: WriteCondition,
    ) -> Result<Vec<BlobId>, StoreError>;

    /// The largest body [`put_object_with_body`](Self::put_object_with_body) takes: `Some`
    /// when this store keeps small object bodies itself (the embedded store's inline blobs),
    /// `None` (the default) when bodies always go to the blob store.
    fn inline_body_limit(&self) -> Option<usize> {
        None
    }

    /// [`put_object`](Self::put_object), with the object's bytes kept by this store in the
    /// same transaction: `object.blob` is `BlobRef::Single` of a fresh id nothing was written
    /// to, and `body` (at most [`inline_body_limit`](Self::inline_body_limit) bytes) becomes
    /// that blob, durable and visible exactly when the record is. On any error neither is
    /// stored. One commit instead of two for a small PUT (blob, then record).
    async fn put_object_with_body(
        &self,
        object: ObjectRecord,
        condition: WriteCondition,
        body: Bytes,
    ) -> Result<Vec<BlobId>, StoreError> {
        let _ = (object, condition, body);
        Err(StoreError::backend(
            "put_object_with_body: this store does not keep object bodies",
        ))
    }

    /// Deletes the object if present and returns its blob ids (empty if it was absent).
    async fn delete_object(&self, bucket: &BucketId, key: &str) -> Result<Vec<BlobId>, StoreError>;

    /// Deletes the object only if it is still the one a caller judged (same ETag and
    /// `last_modified_ms`) and returns its blob ids; `Ok` and empty if the key holds no object
    /// (someone else deleted it), `PreconditionFailed` if it was replaced meanwhile. Lifecycle
    /// sweepers on several nodes use it so that none deletes an object written after its
    /// judgement.
    async fn delete_object_if(
        &self,
        bucket: &BucketId,
        key: &str,
        etag: &str,
        last_modified_ms: u64,
    ) -> Result<Vec<BlobId>, StoreError>;

    /// A page of objects and common prefixes (see [`crate::query`] for the exact semantics).
    async fn list_objects(
        &self,
        bucket: &BucketId,
        query: &ListObjectsQuery,
    ) -> Result<ObjectListing, StoreError>;

    // ----- multipart uploads -----

    /// Registers an upload (id chosen by the caller, see [`UploadId::random`]).
    /// `NotFound(Bucket)`; `AlreadyExists(Upload)` on an id collision.
    async fn create_upload(&self, upload: UploadRecord) -> Result<(), StoreError>;

    /// The upload, which must belong to `(bucket, key)`; else `NotFound(Upload)`.
    async fn get_upload(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
    ) -> Result<UploadRecord, StoreError>;

    /// Stores a part, replacing any part with the same number; returns the replaced part's
    /// blob (garbage). `NotFound(Upload)` if the upload is gone (completed or aborted).
    async fn put_part(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
        part: PartRecord,
    ) -> Result<Vec<BlobId>, StoreError>;

    /// A page of the upload's parts, with the upload record.
    async fn list_parts(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
        query: &ListPartsQuery,
    ) -> Result<PartListing, StoreError>;

    /// A page of the bucket's in-progress uploads.
    async fn list_uploads(
        &self,
        bucket: &BucketId,
        query: &ListUploadsQuery,
    ) -> Result<UploadListing, StoreError>;

    /// In ONE transaction: checks every chosen part exists with the given ETag
    /// (`InvalidPart` otherwise), writes the object (headers and user metadata from the upload,
    /// size = sum of parts, [`crate::BlobRef::Parts`]), replaces any previous object, removes
    /// the upload and its parts. Returns the object and the garbage (unused parts' and the
    /// replaced object's blobs). `NotFound(Upload)` if the upload is gone.
    async fn complete_upload(
        &self,
        complete: CompleteUpload,
    ) -> Result<CompleteOutcome, StoreError>;

    /// Removes the upload and its parts; returns their blob ids. `NotFound(Upload)` if gone.
    async fn abort_upload(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
    ) -> Result<Vec<BlobId>, StoreError>;

    // ----- garbage collection -----

    /// True if any object or part record references this blob. Used by
    /// [`crate::gc::collect_orphans`] to decide that a blob is an orphan.
    async fn blob_referenced(&self, id: &BlobId) -> Result<bool, StoreError>;

    // ----- credential revocations (a Mayfly extension; see `crate::revocation`) -----

    /// Records that one temporary credential is revoked. Idempotent: if the account already
    /// revoked this credential, nothing changes and the entry stored first is returned.
    /// `NotFound(Account)` if the account is missing. Every later
    /// [`MetadataStore::credential_revoked`] (on any node) sees it.
    async fn revoke_credential(
        &self,
        entry: RevocationRecord,
    ) -> Result<RevocationRecord, StoreError>;

    /// Whether the account revoked this credential (an entry exists, expired or not).
    async fn credential_revoked(
        &self,
        account: &AccountId,
        id: &CredentialId,
    ) -> Result<bool, StoreError>;

    /// A page of the account's revocations, newest first.
    async fn list_revocations(
        &self,
        account: &AccountId,
        query: &ListRevocationsQuery,
    ) -> Result<Vec<RevocationRecord>, StoreError>;

    /// Removes every entry whose `expires_on <= now`; returns how many.
    async fn purge_revocations(&self, now: u64) -> Result<u64, StoreError>;
}
