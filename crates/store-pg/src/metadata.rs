//! [`PgMetadata`]: the [`MetadataStore`] implementation over PostgreSQL. Each trait call is one
//! transaction on a pooled connection (see [`crate::db`]); the SQL lives in the per-family
//! modules.

use std::fmt;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use mayfly_core::{AccessKeyId, AccountId, SecretAccessKey};
use mayfly_store::{
    AccountRecord, BlobId, BucketConfigKind, BucketId, BucketPage, BucketRecord, CompleteOutcome,
    CompleteUpload, ListBucketsQuery, ListObjectsQuery, ListPartsQuery, ListUploadsQuery,
    MetadataStore, ObjectListing, ObjectRecord, PartListing, PartRecord, StoreError, TokenRecord,
    TokenUpdate, UploadId, UploadListing, UploadRecord, WriteCondition,
};

use crate::db::{PgUrl, in_tx, pool};
use crate::options::PgOptions;
use crate::{accounts, buckets, multipart, objects, schema};

/// PostgreSQL-backed metadata. Cheap to clone (shares the pool). Any number of Mayfly nodes may
/// use one database at once: every write takes the row or advisory locks it depends on.
#[derive(Clone)]
pub struct PgMetadata {
    pool: Pool,
    url: PgUrl,
}

impl PgMetadata {
    /// Connects to `url` with a pool of at most `pool_size` connections, checks that the
    /// server answers, and migrates the schema (safe while other nodes do the same).
    pub async fn connect(url: &PgUrl, pool_size: usize) -> Result<Self, StoreError> {
        let options = PgOptions {
            pool_size,
            ..PgOptions::default()
        };
        Self::connect_with(url, &options).await
    }

    /// [`PgMetadata::connect`] with every connection setting.
    pub async fn connect_with(url: &PgUrl, options: &PgOptions) -> Result<Self, StoreError> {
        let pool = pool(url.config()?, options)?;
        schema::migrate(&pool).await?;
        Ok(Self {
            pool,
            url: url.clone(),
        })
    }

    /// The connection pool (the audit trail's module shares it).
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// True when a pooled connection is encrypted (asks the server: `pg_stat_ssl`), for the
    /// startup log and tests.
    pub async fn tls_in_use(&self) -> Result<bool, StoreError> {
        in_tx!(self.pool, Read, |tx| {
            let row = tx
                .query_one(
                    "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                    &[],
                )
                .await?;
            row.try_get::<_, bool>(0)?
        })
    }

    /// The URL it connected to, password redacted (for logs).
    pub fn redacted_url(&self) -> String {
        self.url.redacted()
    }
}

impl fmt::Debug for PgMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgMetadata")
            .field("url", &self.url)
            .field("pool", &self.pool.status())
            .finish()
    }
}

#[async_trait]
impl MetadataStore for PgMetadata {
    async fn create_account(&self, account: AccountRecord) -> Result<(), StoreError> {
        in_tx!(self.pool, Write, |tx| accounts::create_account(
            &tx, &account
        )
        .await?)
    }

    async fn get_account(&self, id: &AccountId) -> Result<AccountRecord, StoreError> {
        in_tx!(self.pool, Read, |tx| accounts::get_account(&tx, id).await?)
    }

    async fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        in_tx!(self.pool, Read, |tx| accounts::list_accounts(&tx).await?)
    }

    async fn create_first_account(
        &self,
        account: AccountRecord,
        token: TokenRecord,
    ) -> Result<bool, StoreError> {
        in_tx!(self.pool, Write, |tx| accounts::create_first_account(
            &tx, &account, &token
        )
        .await?)
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        in_tx!(self.pool, Write, |tx| accounts::create_token(&tx, &token)
            .await?)
    }

    async fn get_token(&self, id: &AccessKeyId) -> Result<TokenRecord, StoreError> {
        in_tx!(self.pool, Read, |tx| accounts::get_token(&tx, id).await?)
    }

    async fn get_token_by_secret(
        &self,
        secret: &SecretAccessKey,
    ) -> Result<TokenRecord, StoreError> {
        in_tx!(self.pool, Read, |tx| accounts::get_token_by_secret(
            &tx, secret
        )
        .await?)
    }

    async fn list_tokens(&self, account: &AccountId) -> Result<Vec<TokenRecord>, StoreError> {
        in_tx!(self.pool, Read, |tx| accounts::list_tokens(&tx, account)
            .await?)
    }

    async fn update_token(
        &self,
        account: &AccountId,
        id: &AccessKeyId,
        update: TokenUpdate,
    ) -> Result<TokenRecord, StoreError> {
        in_tx!(self.pool, Write, |tx| accounts::update_token(
            &tx, account, id, &update
        )
        .await?)
    }

    async fn revoke_token(&self, account: &AccountId, id: &AccessKeyId) -> Result<(), StoreError> {
        in_tx!(self.pool, Write, |tx| accounts::revoke_token(
            &tx, account, id
        )
        .await?)
    }

    async fn delete_token(&self, account: &AccountId, id: &AccessKeyId) -> Result<(), StoreError> {
        in_tx!(self.pool, Write, |tx| accounts::delete_token(
            &tx, account, id
        )
        .await?)
    }

    async fn create_bucket(&self, bucket: BucketRecord) -> Result<(), StoreError> {
        in_tx!(self.pool, Write, |tx| buckets::create_bucket(&tx, &bucket)
            .await?)
    }

    async fn get_bucket(&self, bucket: &BucketId) -> Result<BucketRecord, StoreError> {
        in_tx!(self.pool, Read, |tx| buckets::get_bucket(&tx, bucket)
            .await?)
    }

    async fn list_buckets(
        &self,
        account: &AccountId,
        query: &ListBucketsQuery,
    ) -> Result<BucketPage, StoreError> {
        in_tx!(self.pool, Read, |tx| buckets::list_buckets(
            &tx, account, query
        )
        .await?)
    }

    async fn delete_bucket(&self, bucket: &BucketId) -> Result<(), StoreError> {
        in_tx!(self.pool, Write, |tx| buckets::delete_bucket(&tx, bucket)
            .await?)
    }

    async fn get_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
    ) -> Result<String, StoreError> {
        in_tx!(self.pool, Read, |tx| buckets::get_config(&tx, bucket, kind)
            .await?)
    }

    async fn put_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
        document: String,
    ) -> Result<(), StoreError> {
        in_tx!(self.pool, Write, |tx| buckets::put_config(
            &tx, bucket, kind, &document
        )
        .await?)
    }

    async fn delete_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
    ) -> Result<(), StoreError> {
        in_tx!(self.pool, Write, |tx| buckets::delete_config(
            &tx, bucket, kind
        )
        .await?)
    }

    async fn get_object(&self, bucket: &BucketId, key: &str) -> Result<ObjectRecord, StoreError> {
        in_tx!(self.pool, Read, |tx| objects::get_object(&tx, bucket, key)
            .await?)
    }

    async fn put_object(
        &self,
        object: ObjectRecord,
        condition: WriteCondition,
    ) -> Result<Vec<BlobId>, StoreError> {
        in_tx!(self.pool, Write, |tx| objects::put_object(
            &tx, &object, &condition
        )
        .await?)
    }

    async fn delete_object(&self, bucket: &BucketId, key: &str) -> Result<Vec<BlobId>, StoreError> {
        in_tx!(self.pool, Write, |tx| objects::delete_object(
            &tx, bucket, key
        )
        .await?)
    }

    async fn delete_object_if(
        &self,
        bucket: &BucketId,
        key: &str,
        etag: &str,
        last_modified_ms: u64,
    ) -> Result<Vec<BlobId>, StoreError> {
        in_tx!(self.pool, Write, |tx| objects::delete_object_if(
            &tx,
            bucket,
            key,
            etag,
            last_modified_ms
        )
        .await?)
    }

    async fn list_objects(
        &self,
        bucket: &BucketId,
        query: &ListObjectsQuery,
    ) -> Result<ObjectListing, StoreError> {
        // A Read transaction: every batch the listing engine fetches sees one snapshot.
        in_tx!(self.pool, Read, |tx| objects::list_objects(
            &tx, bucket, query
        )
        .await?)
    }

    async fn create_upload(&self, upload: UploadRecord) -> Result<(), StoreError> {
        in_tx!(self.pool, Write, |tx| multipart::create_upload(
            &tx, &upload
        )
        .await?)
    }

    async fn get_upload(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
    ) -> Result<UploadRecord, StoreError> {
        in_tx!(self.pool, Read, |tx| multipart::get_upload(
            &tx, bucket, key, upload_id
        )
        .await?)
    }

    async fn put_part(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
        part: PartRecord,
    ) -> Result<Vec<BlobId>, StoreError> {
        in_tx!(self.pool, Write, |tx| multipart::put_part(
            &tx, bucket, key, upload_id, &part
        )
        .await?)
    }

    async fn list_parts(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
        query: &ListPartsQuery,
    ) -> Result<PartListing, StoreError> {
        in_tx!(self.pool, Read, |tx| multipart::list_parts(
            &tx, bucket, key, upload_id, query
        )
        .await?)
    }

    async fn list_uploads(
        &self,
        bucket: &BucketId,
        query: &ListUploadsQuery,
    ) -> Result<UploadListing, StoreError> {
        in_tx!(self.pool, Read, |tx| multipart::list_uploads(
            &tx, bucket, query
        )
        .await?)
    }

    async fn complete_upload(
        &self,
        complete: CompleteUpload,
    ) -> Result<CompleteOutcome, StoreError> {
        in_tx!(self.pool, Write, |tx| multipart::complete_upload(
            &tx, &complete
        )
        .await?)
    }

    async fn abort_upload(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
    ) -> Result<Vec<BlobId>, StoreError> {
        in_tx!(self.pool, Write, |tx| multipart::abort_upload(
            &tx, bucket, key, upload_id
        )
        .await?)
    }

    async fn blob_referenced(&self, id: &BlobId) -> Result<bool, StoreError> {
        in_tx!(self.pool, Read, |tx| objects::blob_referenced(&tx, id)
            .await?)
    }
}
