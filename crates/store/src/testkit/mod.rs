//! The conformance suite (feature `testkit`): generic async checks that take any
//! [`MetadataStore`] + [`BlobStore`] pair and assert the behaviour the traits document. Every
//! implementation runs all of them with [`conformance_tests!`](crate::conformance_tests), one
//! `#[tokio::test]` per check, each on a fresh store:
//!
//! ```text
//! async fn fresh() -> (mayfly_store::testkit::Subject, tempfile::TempDir) { /* open a store */ }
//! mayfly_store::conformance_tests!(fresh());
//! ```
//!
//! Checks panic with a message naming the broken property. They assume an empty store.

use std::sync::Arc;

use bytes::Bytes;
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission, SecretAccessKey};

use crate::{
    AccountRecord, BlobId, BlobRef, BlobStore, BucketId, BucketRecord, ChecksumType, HttpHeaders,
    Jurisdiction, MetadataStore, ObjectRecord, StoreError, TokenRecord, TokenStatus,
    WriteCondition, bytes_stream,
};

mod audit;
mod blobs;
mod meta;
mod multipart;
mod objects;
mod revocations;
mod sweep;

pub use audit::*;
pub use blobs::*;
pub use meta::*;
pub use multipart::*;
pub use objects::*;
pub use revocations::*;
pub use sweep::*;

/// The stores under test.
#[derive(Clone)]
pub struct Subject {
    /// Metadata store under test.
    pub meta: Arc<dyn MetadataStore>,
    /// Blob store under test.
    pub blobs: Arc<dyn BlobStore>,
}

/// Generates one `#[tokio::test]` per conformance check. `$make` is an expression evaluated
/// afresh for each test, yielding a future of `(Subject, guard)`; the guard (e.g. a temp dir)
/// lives until the test ends. The calling crate needs `tokio` with `macros` and
/// `rt-multi-thread`.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            accounts_create_get_list,
            tokens_round_trip_and_lookup_by_secret,
            tokens_revoke_keeps_row_and_delete_removes_it,
            tokens_reject_duplicates_and_unknown_accounts,
            accounts_first_account_is_created_once,
            tokens_update_replaces_fields_and_refuses_revoked,
            buckets_create_get_and_reject_duplicates,
            buckets_are_scoped_per_account,
            bucket_listing_filters_orders_and_pages,
            bucket_delete_refuses_non_empty,
            bucket_configs_round_trip,
            object_record_round_trips_every_field,
            object_put_replaces_and_returns_old_blobs,
            object_delete_returns_blobs_and_is_idempotent,
            object_calls_on_missing_bucket_report_the_bucket,
            object_conditional_puts,
            object_delete_if_unchanged,
            object_keys_are_stored_and_ordered_byte_exact,
            object_listing_matches_model,
            object_listing_pages_over_many_keys,
            concurrent_puts_leave_one_winner,
            blob_referenced_tracks_records,
            upload_complete_builds_object_from_chosen_parts,
            upload_complete_rejects_bad_parts,
            upload_complete_honours_write_condition,
            upload_abort_returns_blobs,
            upload_is_bound_to_bucket_and_key,
            parts_replace_and_list_in_pages,
            uploads_list_orders_and_pages,
            blob_round_trip_and_ranges,
            blob_reads_are_chunked,
            blob_writes_any_chunking,
            blob_delete_is_idempotent,
            blob_failed_write_leaves_nothing,
            blob_list_respects_cutoff,
            read_object_spans_parts,
            object_and_body_agree_with_separate_reads,
            object_put_with_body,
            gc_deletes_only_orphans,
            lifecycle_sweep_applies_rules_once,
            // credential revocations and the token cache (issue 15)
            revocations_are_idempotent_and_per_account,
            revocations_list_newest_first_in_pages,
            revocations_purge_only_expired,
            token_cache_is_exact_locally_and_bounded_by_ttl,
            bearer_cache_follows_token_changes,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (subject, _guard) = $make.await;
                $crate::testkit::$name(&subject).await;
            }
        )*
    };
}

/// Unwraps a store result, panicking with `what` and the error.
#[track_caller]
pub fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{what}: unexpected error {err:?}"),
    }
}

/// Asserts a store result is a specific error shape.
#[track_caller]
pub fn assert_err<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    check: impl Fn(&StoreError) -> bool,
    what: &str,
) {
    match result {
        Err(err) if check(&err) => {}
        other => panic!("{what}: got {other:?}"),
    }
}

/// A valid 32-hex account id derived from `n`.
pub fn account_id(n: u32) -> AccountId {
    AccountId::parse(&format!("{n:032x}")).expect("valid account id")
}

/// A valid 32-hex access key id derived from `n`.
pub fn key_id(n: u32) -> AccessKeyId {
    AccessKeyId::parse(&format!("{:032x}", 0xabc0_0000_u64 + u64::from(n))).expect("valid key id")
}

/// A bucket name.
pub fn bucket_name(name: &str) -> BucketName {
    BucketName::parse(name).expect("valid bucket name")
}

/// Creates account `n`.
pub async fn new_account(s: &Subject, n: u32) -> AccountId {
    let id = account_id(n);
    let record = AccountRecord {
        id: id.clone(),
        name: format!("account {n}"),
        created_at: 1_750_000_000,
    };
    ok(s.meta.create_account(record).await, "create account");
    id
}

/// A bucket record with default location and class.
pub fn bucket_record(account: &AccountId, name: &str, created_at: u64) -> BucketRecord {
    BucketRecord {
        account: account.clone(),
        name: bucket_name(name),
        created_at,
        location: "WNAM".to_owned(),
        storage_class: "Standard".to_owned(),
        jurisdiction: Jurisdiction::Default,
    }
}

/// Creates an account (if needed) and a bucket in it.
pub async fn new_bucket(s: &Subject, account_n: u32, name: &str) -> BucketId {
    let account = account_id(account_n);
    if s.meta.get_account(&account).await.is_err() {
        new_account(s, account_n).await;
    }
    let record = bucket_record(&account, name, 1_750_000_000);
    ok(s.meta.create_bucket(record.clone()).await, "create bucket");
    record.bucket_id()
}

/// A token record for `account`, id from `n`, secret from `value`.
pub fn token_record(account: &AccountId, n: u32, value: &str) -> TokenRecord {
    TokenRecord {
        id: key_id(n),
        account: account.clone(),
        name: format!("token {n}"),
        permission: Permission::ObjectReadWrite,
        buckets: None,
        secret: SecretAccessKey::from_token_value(value),
        status: TokenStatus::Active,
        created_at: 1_750_000_000,
        expires_at: None,
    }
}

/// Deterministic pseudo-random bytes.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u8
        })
        .collect()
}

/// Writes `data` as a blob in chunks of 1000 bytes.
pub async fn put_blob(s: &Subject, data: &[u8]) -> BlobId {
    let written = ok(
        s.blobs
            .write(bytes_stream(Bytes::copy_from_slice(data), 1000))
            .await,
        "write blob",
    );
    assert_eq!(
        written.size,
        data.len() as u64,
        "write reports the byte count"
    );
    written.id
}

/// A minimal object record pointing at `blob`.
pub fn object_record(bucket: &BucketId, key: &str, blob: BlobId, size: u64) -> ObjectRecord {
    ObjectRecord {
        bucket: bucket.clone(),
        key: key.to_owned(),
        size,
        etag: "d41d8cd98f00b204e9800998ecf8427e".to_owned(),
        last_modified_ms: 1_750_000_000_123,
        headers: HttpHeaders::default(),
        user_metadata: Default::default(),
        checksums: Default::default(),
        checksum_type: ChecksumType::FullObject,
        blob: BlobRef::Single(blob),
    }
}

/// Stores an object record pointing at a fresh (fake, never written) blob id.
pub async fn put_key(s: &Subject, bucket: &BucketId, key: &str) -> BlobId {
    let blob = BlobId::random();
    let garbage = ok(
        s.meta
            .put_object(
                object_record(bucket, key, blob.clone(), 0),
                WriteCondition::None,
            )
            .await,
        "put object",
    );
    assert!(
        garbage.is_empty() || !garbage.contains(&blob),
        "new blob is never garbage"
    );
    blob
}
