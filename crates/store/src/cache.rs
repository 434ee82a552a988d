//! [`CachedMetadata`]: a [`MetadataStore`] that keeps token records and credential revocation
//! states in memory, so a hot S3 request does no store round trip for them, and maps API
//! bearer secrets to token ids, so a hot API request does none either.
//!
//! Exactness, in three layers:
//!
//! - **This node's changes** go through the wrapper, which drops the affected entries as soon
//!   as the store call returns (token create, update, revoke, delete; credential revocation).
//! - **Other nodes' changes** arrive as [`Invalidation`]s through [`CachedMetadata::invalidate`]
//!   (the scale-out store's PostgreSQL `LISTEN/NOTIFY` listener calls it; a listener that
//!   reconnects sends [`Invalidation::All`], since it may have missed some).
//! - **Lost notifications**: every entry, found or not found, lives at most
//!   [`CacheConfig::ttl`], so any change converges within it whatever happened to the channel.
//!
//! A load that raced an invalidation is not stored: every invalidation bumps a generation
//! counter, and a value read from the store is cached only if the counter did not move while
//! it was read. The bearer map holds only positive answers, keyed by SHA-256 of the secret, and
//! only ever names a token id: the record itself comes through the exactly invalidated token
//! map and must carry the same secret (compared in constant time), so a deleted or changed
//! token is never served from it. The maps are capped ([`CacheConfig::capacity`] entries each; when full,
//! expired entries go first, then arbitrary ones), so unknown access keys sent by anyone
//! cannot grow memory. Errors other than "not found" are never cached.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use mayfly_core::{AccessKeyId, AccountId, CredentialId, SecretAccessKey};
use sha2::{Digest, Sha256};

use crate::error::{Entity, StoreError};
use crate::ids::{BlobId, BucketId, UploadId};
use crate::metadata::MetadataStore;
use crate::query::{
    BucketConfigKind, BucketPage, CompleteOutcome, CompleteUpload, ListBucketsQuery,
    ListObjectsQuery, ListPartsQuery, ListUploadsQuery, ObjectListing, PartListing, UploadListing,
    WriteCondition,
};
use crate::records::{
    AccountRecord, BucketRecord, ObjectRecord, PartRecord, TokenRecord, TokenUpdate, UploadRecord,
};
use crate::revocation::{Invalidation, ListRevocationsQuery, RevocationRecord};

/// How long and how much [`CachedMetadata`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// The longest an entry is served without asking the store again; the bound on how stale
    /// a lost notification can leave a node. Zero turns the cache off.
    pub ttl: Duration,
    /// At most this many entries per map (token records; revocation states).
    pub capacity: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(1),
            capacity: 100_000,
        }
    }
}

struct Slot<V> {
    value: V,
    loaded: Instant,
}

/// One capped, TTL-bounded map.
struct Map<K, V> {
    entries: Mutex<HashMap<K, Slot<V>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Map<K, V> {
    fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Slot<V>>> {
        // A panic while holding this lock cannot leave a map half-changed in a way that
        // matters: every entry is whole. Keep serving.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, key: &K, ttl: Duration) -> Option<V> {
        let map = self.lock();
        map.get(key)
            .filter(|s| s.loaded.elapsed() < ttl)
            .map(|s| s.value.clone())
    }

    fn put(&self, key: K, value: V, config: &CacheConfig) {
        let mut map = self.lock();
        if map.len() >= config.capacity && !map.contains_key(&key) {
            map.retain(|_, s| s.loaded.elapsed() < config.ttl);
            while map.len() >= config.capacity {
                let Some(victim) = map.keys().next().cloned() else {
                    break;
                };
                map.remove(&victim);
            }
        }
        if config.capacity > 0 {
            map.insert(
                key,
                Slot {
                    value,
                    loaded: Instant::now(),
                },
            );
        }
    }

    fn remove(&self, key: &K) {
        self.lock().remove(key);
    }

    fn clear(&self) {
        self.lock().clear();
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// A token look-up's cacheable outcome: the record, or "no such token".
type TokenOutcome = Option<TokenRecord>;

struct Inner {
    store: Arc<dyn MetadataStore>,
    config: CacheConfig,
    generation: AtomicU64,
    tokens: Map<AccessKeyId, TokenOutcome>,
    revoked: Map<(AccountId, CredentialId), bool>,
    /// SHA-256 of an API bearer secret → the token it belongs to (found answers only).
    bearers: Map<[u8; 32], AccessKeyId>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A caching [`MetadataStore`] wrapper (see the module docs). Cheap to clone; clones share
/// the cache, so wrap once and hand the same value to every user of the store.
#[derive(Clone)]
pub struct CachedMetadata {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CachedMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedMetadata")
            .field("config", &self.inner.config)
            .field("tokens", &self.inner.tokens.len())
            .field("revoked", &self.inner.revoked.len())
            .finish_non_exhaustive()
    }
}

impl CachedMetadata {
    /// Wraps `store`.
    pub fn new(store: Arc<dyn MetadataStore>, config: CacheConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                config,
                generation: AtomicU64::new(0),
                tokens: Map::new(),
                revoked: Map::new(),
                bearers: Map::new(),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> CacheConfig {
        self.inner.config
    }

    /// Drops what `what` makes stale. Called for this node's own changes by the wrapper itself,
    /// and by whatever carries other nodes' changes here.
    pub fn invalidate(&self, what: &Invalidation) {
        // Bump first: a load already under way when the change happened must not be stored.
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        match what {
            Invalidation::Token(id) => self.inner.tokens.remove(id),
            Invalidation::Credential(account, id) => {
                self.inner.revoked.remove(&(account.clone(), id.clone()));
            }
            Invalidation::All => {
                self.inner.tokens.clear();
                self.inner.revoked.clear();
                self.inner.bearers.clear();
            }
        }
    }

    /// (hits, misses) of the cached look-ups so far, for metrics and tests.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.inner.hits.load(Ordering::Relaxed),
            self.inner.misses.load(Ordering::Relaxed),
        )
    }

    /// How many entries each map holds now (token records, revocation states).
    pub fn sizes(&self) -> (usize, usize) {
        (self.inner.tokens.len(), self.inner.revoked.len())
    }

    fn enabled(&self) -> bool {
        !self.inner.config.ttl.is_zero() && self.inner.config.capacity > 0
    }

    fn count(&self, hit: bool) {
        let c = if hit {
            &self.inner.hits
        } else {
            &self.inner.misses
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

fn token_outcome(r: Result<TokenRecord, StoreError>) -> Result<TokenOutcome, StoreError> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(StoreError::NotFound(Entity::Token)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl MetadataStore for CachedMetadata {
    // ----- the cached look-ups -----

    async fn get_token(&self, id: &AccessKeyId) -> Result<TokenRecord, StoreError> {
        let i = &self.inner;
        if self.enabled() {
            if let Some(found) = i.tokens.get(id, i.config.ttl) {
                self.count(true);
                return found.ok_or(StoreError::NotFound(Entity::Token));
            }
            self.count(false);
        }
        let generation = i.generation.load(Ordering::SeqCst);
        let outcome = token_outcome(i.store.get_token(id).await)?;
        if self.enabled() && i.generation.load(Ordering::SeqCst) == generation {
            i.tokens.put(id.clone(), outcome.clone(), &i.config);
        }
        outcome.ok_or(StoreError::NotFound(Entity::Token))
    }

    async fn credential_revoked(
        &self,
        account: &AccountId,
        id: &CredentialId,
    ) -> Result<bool, StoreError> {
        let i = &self.inner;
        let key = (account.clone(), id.clone());
        if self.enabled() {
            if let Some(found) = i.revoked.get(&key, i.config.ttl) {
                self.count(true);
                return Ok(found);
            }
            self.count(false);
        }
        let generation = i.generation.load(Ordering::SeqCst);
        let revoked = i.store.credential_revoked(account, id).await?;
        if self.enabled() && i.generation.load(Ordering::SeqCst) == generation {
            i.revoked.put(key, revoked, &i.config);
        }
        Ok(revoked)
    }

    // ----- changes that make entries stale (invalidated once the store call returns,
    // whatever its outcome: a failed call may still have committed) -----

    async fn create_first_account(
        &self,
        account: AccountRecord,
        token: TokenRecord,
    ) -> Result<bool, StoreError> {
        let id = token.id.clone();
        let r = self.inner.store.create_first_account(account, token).await;
        self.invalidate(&Invalidation::Token(id));
        r
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        let id = token.id.clone();
        let r = self.inner.store.create_token(token).await;
        self.invalidate(&Invalidation::Token(id));
        r
    }

    async fn update_token(
        &self,
        account: &AccountId,
        id: &AccessKeyId,
        update: TokenUpdate,
    ) -> Result<TokenRecord, StoreError> {
        let r = self.inner.store.update_token(account, id, update).await;
        self.invalidate(&Invalidation::Token(id.clone()));
        r
    }

    async fn revoke_token(&self, account: &AccountId, id: &AccessKeyId) -> Result<(), StoreError> {
        let r = self.inner.store.revoke_token(account, id).await;
        self.invalidate(&Invalidation::Token(id.clone()));
        r
    }

    async fn delete_token(&self, account: &AccountId, id: &AccessKeyId) -> Result<(), StoreError> {
        let r = self.inner.store.delete_token(account, id).await;
        self.invalidate(&Invalidation::Token(id.clone()));
        r
    }

    async fn revoke_credential(
        &self,
        entry: RevocationRecord,
    ) -> Result<RevocationRecord, StoreError> {
        let key = Invalidation::Credential(entry.account.clone(), entry.credential_id.clone());
        let r = self.inner.store.revoke_credential(entry).await;
        self.invalidate(&key);
        r
    }

    async fn purge_revocations(&self, now: u64) -> Result<u64, StoreError> {
        // Purged entries are past their credentials' expiry: a stale "revoked" is harmless.
        self.inner.store.purge_revocations(now).await
    }

    // ----- everything else passes through -----

    async fn list_revocations(
        &self,
        account: &AccountId,
        query: &ListRevocationsQuery,
    ) -> Result<Vec<RevocationRecord>, StoreError> {
        self.inner.store.list_revocations(account, query).await
    }

    async fn create_account(&self, account: AccountRecord) -> Result<(), StoreError> {
        self.inner.store.create_account(account).await
    }

    async fn get_account(&self, id: &AccountId) -> Result<AccountRecord, StoreError> {
        self.inner.store.get_account(id).await
    }

    async fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        self.inner.store.list_accounts().await
    }

    async fn get_token_by_secret(
        &self,
        secret: &SecretAccessKey,
    ) -> Result<TokenRecord, StoreError> {
        let i = &self.inner;
        if !self.enabled() {
            return i.store.get_token_by_secret(secret).await;
        }
        let digest: [u8; 32] = Sha256::digest(secret.expose_secret().as_bytes()).into();
        if let Some(id) = i.bearers.get(&digest, i.config.ttl) {
            // The record comes through the exactly invalidated token map; it must still be
            // the token this secret belongs to.
            match self.get_token(&id).await {
                Ok(record) if record.secret.ct_eq(secret) => return Ok(record),
                Ok(_) | Err(StoreError::NotFound(Entity::Token)) => i.bearers.remove(&digest),
                Err(e) => return Err(e),
            }
        }
        let generation = i.generation.load(Ordering::SeqCst);
        let record = i.store.get_token_by_secret(secret).await?;
        i.bearers.put(digest, record.id.clone(), &i.config);
        if i.generation.load(Ordering::SeqCst) == generation {
            i.tokens
                .put(record.id.clone(), Some(record.clone()), &i.config);
        }
        Ok(record)
    }

    async fn list_tokens(&self, account: &AccountId) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.store.list_tokens(account).await
    }

    async fn create_bucket(&self, bucket: BucketRecord) -> Result<(), StoreError> {
        self.inner.store.create_bucket(bucket).await
    }

    async fn get_bucket(&self, bucket: &BucketId) -> Result<BucketRecord, StoreError> {
        self.inner.store.get_bucket(bucket).await
    }

    async fn list_buckets(
        &self,
        account: &AccountId,
        query: &ListBucketsQuery,
    ) -> Result<BucketPage, StoreError> {
        self.inner.store.list_buckets(account, query).await
    }

    async fn delete_bucket(&self, bucket: &BucketId) -> Result<(), StoreError> {
        self.inner.store.delete_bucket(bucket).await
    }

    async fn get_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
    ) -> Result<String, StoreError> {
        self.inner.store.get_bucket_config(bucket, kind).await
    }

    async fn put_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
        document: String,
    ) -> Result<(), StoreError> {
        self.inner
            .store
            .put_bucket_config(bucket, kind, document)
            .await
    }

    async fn delete_bucket_config(
        &self,
        bucket: &BucketId,
        kind: BucketConfigKind,
    ) -> Result<(), StoreError> {
        self.inner.store.delete_bucket_config(bucket, kind).await
    }

    async fn get_object(&self, bucket: &BucketId, key: &str) -> Result<ObjectRecord, StoreError> {
        self.inner.store.get_object(bucket, key).await
    }

    async fn get_object_and_body(
        &self,
        bucket: &BucketId,
        key: &str,
    ) -> Result<(ObjectRecord, Option<Bytes>), StoreError> {
        self.inner.store.get_object_and_body(bucket, key).await
    }

    async fn put_object(
        &self,
        object: ObjectRecord,
        condition: WriteCondition,
    ) -> Result<Vec<BlobId>, StoreError> {
        self.inner.store.put_object(object, condition).await
    }

    fn inline_body_limit(&self) -> Option<usize> {
        self.inner.store.inline_body_limit()
    }

    async fn put_object_with_body(
        &self,
        object: ObjectRecord,
        condition: WriteCondition,
        body: Bytes,
    ) -> Result<Vec<BlobId>, StoreError> {
        self.inner
            .store
            .put_object_with_body(object, condition, body)
            .await
    }

    async fn delete_object(&self, bucket: &BucketId, key: &str) -> Result<Vec<BlobId>, StoreError> {
        self.inner.store.delete_object(bucket, key).await
    }

    async fn delete_object_if(
        &self,
        bucket: &BucketId,
        key: &str,
        etag: &str,
        last_modified_ms: u64,
    ) -> Result<Vec<BlobId>, StoreError> {
        self.inner
            .store
            .delete_object_if(bucket, key, etag, last_modified_ms)
            .await
    }

    async fn list_objects(
        &self,
        bucket: &BucketId,
        query: &ListObjectsQuery,
    ) -> Result<ObjectListing, StoreError> {
        self.inner.store.list_objects(bucket, query).await
    }

    async fn create_upload(&self, upload: UploadRecord) -> Result<(), StoreError> {
        self.inner.store.create_upload(upload).await
    }

    async fn get_upload(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
    ) -> Result<UploadRecord, StoreError> {
        self.inner.store.get_upload(bucket, key, upload_id).await
    }

    async fn put_part(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
        part: PartRecord,
    ) -> Result<Vec<BlobId>, StoreError> {
        self.inner
            .store
            .put_part(bucket, key, upload_id, part)
            .await
    }

    async fn list_parts(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
        query: &ListPartsQuery,
    ) -> Result<PartListing, StoreError> {
        self.inner
            .store
            .list_parts(bucket, key, upload_id, query)
            .await
    }

    async fn list_uploads(
        &self,
        bucket: &BucketId,
        query: &ListUploadsQuery,
    ) -> Result<UploadListing, StoreError> {
        self.inner.store.list_uploads(bucket, query).await
    }

    async fn complete_upload(
        &self,
        complete: CompleteUpload,
    ) -> Result<CompleteOutcome, StoreError> {
        self.inner.store.complete_upload(complete).await
    }

    async fn abort_upload(
        &self,
        bucket: &BucketId,
        key: &str,
        upload_id: &UploadId,
    ) -> Result<Vec<BlobId>, StoreError> {
        self.inner.store.abort_upload(bucket, key, upload_id).await
    }

    async fn blob_referenced(&self, id: &BlobId) -> Result<bool, StoreError> {
        self.inner.store.blob_referenced(id).await
    }
}
