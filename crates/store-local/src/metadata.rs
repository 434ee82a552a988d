//! [`LocalMetadata`]: the [`MetadataStore`] implementation over SQLite. Each trait call is one
//! closure run in one transaction (reads on a reader connection, writes in the writer's next
//! group commit); point reads by key run on the calling thread, scans on a blocking thread.
//! The SQL lives in the per-family modules.

use std::path::Path;

use async_trait::async_trait;
use bytes::Bytes;
use mayfly_core::{AccessKeyId, AccountId, CredentialId, SecretAccessKey};
use mayfly_store::{
    AccountRecord, BlobId, BlobRef, BucketConfigKind, BucketId, BucketPage, BucketRecord,
    CompleteOutcome, CompleteUpload, ListBucketsQuery, ListObjectsQuery, ListPartsQuery,
    ListUploadsQuery, MetadataStore, ObjectListing, ObjectRecord, PartListing, PartRecord,
    StoreError, TokenRecord, TokenStatus, TokenUpdate, UploadId, UploadListing, UploadRecord,
    WriteCondition,
};
use mayfly_store::{ListRevocationsQuery, RevocationRecord};
use rusqlite::{Connection, params};

use crate::codec::to_sql_int;
use crate::db::{Db, backend};
use crate::inline::{self, INLINE_MAX};
use crate::{accounts, buckets, multipart, objects, revocations};

/// SQLite-backed metadata. Cheap to clone (shares the connections).
#[derive(Clone)]
pub struct LocalMetadata {
    db: Db,
    /// Whether small object bodies may be written here (`put_object_with_body`): only when
    /// the blob store reads this database's inline blobs, as [`crate::LocalStore`]'s does.
    keeps_bodies: bool,
}

impl LocalMetadata {
    /// Opens (creating and migrating) the database file at `path`. Blocking: call at startup.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Db::open(path)?,
            keeps_bodies: false,
        })
    }

    /// Lets `put_object_with_body` keep small bodies as inline blobs: for a metadata store
    /// paired with a blob store that reads them ([`crate::LocalBlobs::open_with_inline`]).
    pub(crate) fn keeping_bodies(mut self) -> Self {
        self.keeps_bodies = true;
        self
    }

    /// The connection set, shared with the audit trail's module and with the blob store for
    /// inline blobs.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }
}

impl std::fmt::Debug for LocalMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMetadata").finish_non_exhaustive()
    }
}

#[async_trait]
impl MetadataStore for LocalMetadata {
    async fn create_account(&self, account: AccountRecord) -> Result<(), StoreError> {
        self.db
            .write(move |tx| accounts::create_account(tx, &account))
            .await
    }

    async fn get_account(&self, id: &AccountId) -> Result<AccountRecord, StoreError> {
        self.db.read_now(|tx| accounts::get_account(tx, id))
    }

    async fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        self.db.read(accounts::list_accounts).await
    }

    async fn create_first_account(
        &self,
        account: AccountRecord,
        token: TokenRecord,
    ) -> Result<bool, StoreError> {
        // `write` is one BEGIN IMMEDIATE transaction: it holds SQLite's write lock from the
        // emptiness check to the commit, so no other connection or process can slip in.
        self.db
            .write(move |tx| {
                let any = tx
                    .prepare_cached("SELECT 1 FROM accounts LIMIT 1")
                    .and_then(|mut st| st.exists([]))
                    .map_err(backend)?;
                if any {
                    return Ok(false);
                }
                accounts::create_account(tx, &account)?;
                accounts::create_token(tx, &token)?;
                Ok(true)
            })
            .await
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.db
            .write(move |tx| accounts::create_token(tx, &token))
            .await
    }

    async fn get_token(&self, id: &AccessKeyId) -> Result<TokenRecord, StoreError> {
        self.db.read_now(|tx| accounts::get_token(tx, id))
    }

    async fn get_token_by_secret(
        &self,
        secret: &SecretAccessKey,
    ) -> Result<TokenRecord, StoreError> {
        self.db
            .read_now(|tx| accounts::get_token_by_secret(tx, secret))
    }

    async fn list_tokens(&self, account: &AccountId) -> Result<Vec<TokenRecord>, StoreError> {
        let account = account.clone();
        self.db
            .read(move |tx| accounts::list_tokens(tx, &account))
            .await
    }

    async fn update_token(
        &self,
        account: &AccountId,
        id: &AccessKeyId,
        update: TokenUpdate,
    ) -> Result<TokenRecord, StoreError> {
        let (account, id) = (account.clone(), id.clone());
        self.db
            .write(move |tx| update_token(tx, &account, &id, &update))
            .await
    }

    async fn revoke_token(&self, account: &AccountId, id: &AccessKeyId) -> Result<(), StoreError> {
        let (account, id) = (account.clone(), id.clone());
        self.db
            .write(move |tx| accounts::revoke_token(tx, &account, &id))
            .await
    }

    async fn delete_token(&self, account: &AccountId, id: &AccessKeyId) -> Result<(), StoreError> {
        let (account, id) = (account.clone(), id.clone());
        self.db
            .write(move |tx| accounts::delete_token(tx, &account, &id))
            .await
    }

    async fn create_bucket(&self, bucket: BucketRecord) -> Result<(), StoreError> {
        self.db
            .write(move |tx| buckets::create_bucket(tx, &bucket))
            .await
    }

    async fn get_bucket(&self, bucket: &BucketId) -> Result<BucketRecord, StoreError> {
        self.db.read_now(|tx| buckets::get_bucket(tx, bucket))
    }

    async fn list_buckets(
        &self,
        account: &AccountId,
        query: &ListBucketsQuery,
    ) -> Result<BucketPage, StoreError> {
        let (account, query) = (account.clone(), query.clone());
        self.db
            .read(move |tx| buckets::list_buckets(tx, &account, &query))
            .await
    }

    async fn delete_bucket(&self, bucket: &BucketId) -> Result<(), StoreError> {
        let bucket = bucket.clone();
        self.db
            .write(move |tx| buckets::delete_bucket(tx, &bucket))
            .await
    }

    async fn get_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
    ) -> Result<String, StoreError> {
        self.db.read_now(|tx| buckets::get_config(tx, bucket, kind))
    }

    async fn put_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
        document: String,
    ) -> Result<(), StoreError> {
        let bucket = bucket.clone();
        self.db
            .write(move |tx| buckets::put_config(tx, &bucket, kind, &document))
            .await
    }

    async fn delete_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
    ) -> Result<(), StoreError> {
        let bucket = bucket.clone();
        self.db
            .write(move |tx| buckets::delete_config(tx, &bucket, kind))
            .await
    }

    async fn get_object(&self, bucket: &BucketId, key: &str) -> Result<ObjectRecord, StoreError> {
        self.db.read_now(|tx| objects::get_object(tx, bucket, key))
    }

    async fn get_object_and_body(
        &self,
        bucket: &BucketId,
        key: &str,
    ) -> Result<(ObjectRecord, Option<Bytes>), StoreError> {
        // A small single-blob object's bytes may be a row of this same database (inline
        // blobs): read them in the record's transaction rather than in a second one.
        self.db.read_now(|tx| {
            let object = objects::get_object(tx, bucket, key)?;
            let body = match &object.blob {
                BlobRef::Single(id) if object.size <= INLINE_MAX as u64 => inline::get(tx, id)?,
                BlobRef::Single(_) | BlobRef::Parts(_) => None,
            };
            Ok((object, body))
        })
    }

    async fn put_object(
        &self,
        object: ObjectRecord,
        condition: WriteCondition,
    ) -> Result<Vec<BlobId>, StoreError> {
        self.db
            .write(move |tx| objects::put_object(tx, &object, &condition))
            .await
    }

    fn inline_body_limit(&self) -> Option<usize> {
        self.keeps_bodies.then_some(INLINE_MAX)
    }

    async fn put_object_with_body(
        &self,
        object: ObjectRecord,
        condition: WriteCondition,
        body: Bytes,
    ) -> Result<Vec<BlobId>, StoreError> {
        let id = match &object.blob {
            BlobRef::Single(id)
                if self.keeps_bodies
                    && body.len() <= INLINE_MAX
                    && object.size == body.len() as u64 =>
            {
                id.clone()
            }
            BlobRef::Single(_) | BlobRef::Parts(_) => {
                return Err(StoreError::backend(
                    "put_object_with_body: not a single blob this store keeps",
                ));
            }
        };
        let at = crate::blobs::now_secs();
        // One job, so one savepoint: the blob row and the record commit together or not at
        // all (a failed condition rolls the blob back too; no orphan to collect).
        self.db
            .write(move |tx| {
                inline::insert(tx, &id, &body, at)?;
                objects::put_object(tx, &object, &condition)
            })
            .await
    }

    async fn delete_object(&self, bucket: &BucketId, key: &str) -> Result<Vec<BlobId>, StoreError> {
        let (bucket, key) = (bucket.clone(), key.to_owned());
        self.db
            .write(move |tx| objects::delete_object(tx, &bucket, &key))
            .await
    }

    async fn delete_object_if(
        &self,
        bucket: &BucketId,
        key: &str,
        etag: &str,
        last_modified_ms: u64,
    ) -> Result<Vec<BlobId>, StoreError> {
        let (bucket, key, etag) = (bucket.clone(), key.to_owned(), etag.to_owned());
        self.db
            .write(move |tx| objects::delete_object_if(tx, &bucket, &key, &etag, last_modified_ms))
            .await
    }

    async fn list_objects(
        &self,
        bucket: &BucketId,
        query: &ListObjectsQuery,
    ) -> Result<ObjectListing, StoreError> {
        let (bucket, query) = (bucket.clone(), query.clone());
        self.db
            .read(move |tx| objects::list_objects(tx, &bucket, &query))
            .await
    }

    async fn create_upload(&self, upload: UploadRecord) -> Result<(), StoreError> {
        self.db
            .write(move |tx| multipart::create_upload(tx, &upload))
            .await
    }

    async fn get_upload(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
    ) -> Result<UploadRecord, StoreError> {
        self.db
            .read_now(|tx| multipart::get_upload(tx, bucket, key, upload_id))
    }

    async fn put_part(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
        part: PartRecord,
    ) -> Result<Vec<BlobId>, StoreError> {
        let (bucket, key, upload_id) = (bucket.clone(), key.to_owned(), upload_id.clone());
        self.db
            .write(move |tx| multipart::put_part(tx, &bucket, &key, &upload_id, &part))
            .await
    }

    async fn list_parts(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
        query: &ListPartsQuery,
    ) -> Result<PartListing, StoreError> {
        let (bucket, key, upload_id, query) = (
            bucket.clone(),
            key.to_owned(),
            upload_id.clone(),
            query.clone(),
        );
        self.db
            .read(move |tx| multipart::list_parts(tx, &bucket, &key, &upload_id, &query))
            .await
    }

    async fn list_uploads(
        &self,
        bucket: &BucketId,
        query: &ListUploadsQuery,
    ) -> Result<UploadListing, StoreError> {
        let (bucket, query) = (bucket.clone(), query.clone());
        self.db
            .read(move |tx| multipart::list_uploads(tx, &bucket, &query))
            .await
    }

    async fn complete_upload(
        &self,
        complete: CompleteUpload,
    ) -> Result<CompleteOutcome, StoreError> {
        self.db
            .write(move |tx| multipart::complete_upload(tx, &complete))
            .await
    }

    async fn abort_upload(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
    ) -> Result<Vec<BlobId>, StoreError> {
        let (bucket, key, upload_id) = (bucket.clone(), key.to_owned(), upload_id.clone());
        self.db
            .write(move |tx| multipart::abort_upload(tx, &bucket, &key, &upload_id))
            .await
    }

    async fn blob_referenced(&self, id: &BlobId) -> Result<bool, StoreError> {
        let id = id.clone();
        self.db
            .read(move |tx| objects::blob_referenced(tx, &id))
            .await
    }

    // ----- credential revocations (SQL in `revocations.rs`) -----

    async fn revoke_credential(
        &self,
        entry: RevocationRecord,
    ) -> Result<RevocationRecord, StoreError> {
        self.db
            .write(move |tx| revocations::revoke(tx, &entry))
            .await
    }

    async fn credential_revoked(
        &self,
        account: &AccountId,
        id: &CredentialId,
    ) -> Result<bool, StoreError> {
        let (account, id) = (account.clone(), id.clone());
        self.db
            .read(move |tx| revocations::is_revoked(tx, &account, &id))
            .await
    }

    async fn list_revocations(
        &self,
        account: &AccountId,
        query: &ListRevocationsQuery,
    ) -> Result<Vec<RevocationRecord>, StoreError> {
        let (account, query) = (account.clone(), query.clone());
        self.db
            .read(move |tx| revocations::list(tx, &account, &query))
            .await
    }

    async fn purge_revocations(&self, now: u64) -> Result<u64, StoreError> {
        self.db.write(move |tx| revocations::purge(tx, now)).await
    }
}

/// [`MetadataStore::update_token`] inside the write transaction: the read, the revoked check and
/// the update see one state.
fn update_token(
    conn: &Connection,
    account: &AccountId,
    id: &AccessKeyId,
    update: &TokenUpdate,
) -> Result<TokenRecord, StoreError> {
    let current = accounts::get_token(conn, id)?;
    if current.account != *account {
        return Err(StoreError::NotFound(mayfly_store::Entity::Token));
    }
    if current.status == TokenStatus::Revoked {
        return Err(StoreError::Conflict("the token is revoked"));
    }
    let buckets = match &update.buckets {
        None => None,
        Some(list) => Some(
            serde_json::to_string(
                &list
                    .iter()
                    .map(mayfly_core::BucketName::as_str)
                    .collect::<Vec<_>>(),
            )
            .map_err(backend)?,
        ),
    };
    conn.execute(
        "UPDATE tokens SET name = ?3, permission = ?4, buckets = ?5, status = ?6, expires_at = ?7
         WHERE account = ?1 AND id = ?2",
        params![
            account.as_str(),
            id.as_str(),
            update.name,
            update.permission.as_str(),
            buckets,
            update.status.unwrap_or(current.status).as_str(),
            update.expires_at.map(to_sql_int).transpose()?,
        ],
    )
    .map_err(backend)?;
    Ok(update.apply(&current))
}
