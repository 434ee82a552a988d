//! Conformance checks for credential revocations, and for the token cache
//! ([`crate::CachedMetadata`]) over each real store.

use std::sync::Arc;
use std::time::Duration;

use mayfly_core::CredentialId;

use super::{Subject, account_id, assert_err, bucket_name, key_id, new_account, ok, token_record};
use crate::{
    CacheConfig, CachedMetadata, Entity, Invalidation, ListRevocationsQuery, MetadataStore,
    RevocationRecord, StoreError, TokenStatus,
};

fn credential(n: u32) -> CredentialId {
    CredentialId::parse(&format!("{n:032x}")).expect("valid credential id")
}

fn entry(account_n: u32, n: u32, revoked_on: u64, expires_on: u64) -> RevocationRecord {
    RevocationRecord {
        credential_id: credential(n),
        account: account_id(account_n),
        parent: Some(key_id(n)),
        bucket: Some(bucket_name("photos")),
        revoked_on,
        expires_on,
    }
}

/// Revoking records one entry per (account, credential); again is a no-op returning the first
/// entry; another account's credential with the same id is not revoked; a missing account is
/// `NotFound(Account)`.
pub async fn revocations_are_idempotent_and_per_account(s: &Subject) {
    let a = new_account(s, 1).await;
    let b = new_account(s, 2).await;
    let first = entry(1, 7, 1_750_000_000, 1_750_000_900);
    assert!(!ok(
        s.meta.credential_revoked(&a, &credential(7)).await,
        "before"
    ));
    let stored = ok(s.meta.revoke_credential(first.clone()).await, "revoke");
    assert_eq!(stored, first);
    let by_id_only = RevocationRecord {
        parent: None,
        bucket: None,
        revoked_on: 1_750_000_500,
        expires_on: 1_750_700_000,
        ..first.clone()
    };
    let again = ok(s.meta.revoke_credential(by_id_only).await, "revoke again");
    assert_eq!(again, first, "the first entry stays");
    assert!(ok(
        s.meta.credential_revoked(&a, &credential(7)).await,
        "after"
    ));
    assert!(!ok(
        s.meta.credential_revoked(&b, &credential(7)).await,
        "other account"
    ));
    assert!(!ok(
        s.meta.credential_revoked(&a, &credential(8)).await,
        "sibling"
    ));
    assert_err(
        s.meta.revoke_credential(entry(9, 1, 1, 2)).await,
        |e| matches!(e, StoreError::NotFound(Entity::Account)),
        "missing account",
    );
    let listed = ok(
        s.meta
            .list_revocations(
                &a,
                &ListRevocationsQuery {
                    limit: 10,
                    after: None,
                },
            )
            .await,
        "list",
    );
    assert_eq!(listed, vec![first]);
}

/// Listings are newest first (ties by credential id, descending), paged by the last entry,
/// and never show another account's entries.
pub async fn revocations_list_newest_first_in_pages(s: &Subject) {
    let a = new_account(s, 1).await;
    new_account(s, 2).await;
    let times = [100, 300, 200, 300, 50];
    for (n, t) in times.iter().enumerate() {
        let n = u32::try_from(n).expect("small") + 1;
        ok(
            s.meta.revoke_credential(entry(1, n, *t, 10_000)).await,
            "revoke",
        );
    }
    ok(
        s.meta.revoke_credential(entry(2, 99, 400, 10_000)).await,
        "other account",
    );
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = ok(
            s.meta
                .list_revocations(&a, &ListRevocationsQuery { limit: 2, after })
                .await,
            "page",
        );
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some((last.revoked_on, last.credential_id.clone()));
        seen.extend(page.into_iter().map(|r| (r.revoked_on, r.credential_id)));
    }
    let expected = vec![
        (300, credential(4)),
        (300, credential(2)),
        (200, credential(3)),
        (100, credential(1)),
        (50, credential(5)),
    ];
    assert_eq!(seen, expected);
}

/// Purging removes exactly the entries whose credential can no longer be used.
pub async fn revocations_purge_only_expired(s: &Subject) {
    let a = new_account(s, 1).await;
    ok(s.meta.revoke_credential(entry(1, 1, 10, 100)).await, "1");
    ok(s.meta.revoke_credential(entry(1, 2, 10, 200)).await, "2");
    ok(s.meta.revoke_credential(entry(1, 3, 10, 300)).await, "3");
    assert_eq!(ok(s.meta.purge_revocations(200).await, "purge"), 2);
    assert!(!ok(
        s.meta.credential_revoked(&a, &credential(1)).await,
        "1"
    ));
    assert!(!ok(
        s.meta.credential_revoked(&a, &credential(2)).await,
        "2"
    ));
    assert!(ok(s.meta.credential_revoked(&a, &credential(3)).await, "3"));
    assert_eq!(ok(s.meta.purge_revocations(200).await, "again"), 0);
}

/// The cache over this store: its own node's changes are seen at once; a change it is not
/// told about (another node whose notification was lost) within the TTL, not before an
/// invalidation; unknown keys are cached only for the TTL; the maps stay within capacity.
pub async fn token_cache_is_exact_locally_and_bounded_by_ttl(s: &Subject) {
    let ttl = Duration::from_millis(400);
    let cache = CachedMetadata::new(Arc::clone(&s.meta), CacheConfig { ttl, capacity: 8 });
    let a = new_account(s, 1).await;
    let t1 = token_record(&a, 1, "value-1");
    ok(cache.create_token(t1.clone()).await, "create via cache");
    assert_eq!(
        ok(cache.get_token(&t1.id).await, "get").status,
        TokenStatus::Active
    );
    let (hits, _) = cache.stats();
    ok(cache.get_token(&t1.id).await, "get again");
    assert_eq!(cache.stats().0, hits + 1, "the second look-up is a hit");

    // This node revokes: seen at once.
    ok(cache.revoke_token(&a, &t1.id).await, "revoke via cache");
    assert_eq!(
        ok(cache.get_token(&t1.id).await, "get").status,
        TokenStatus::Revoked
    );

    // Another node creates a token this cache already answered "unknown" for, and revokes a
    // credential this cache answered "not revoked" for; no notification arrives.
    let t2 = token_record(&a, 2, "value-2");
    assert_err(
        cache.get_token(&t2.id).await,
        |e| matches!(e, StoreError::NotFound(Entity::Token)),
        "unknown",
    );
    assert!(!ok(
        cache.credential_revoked(&a, &credential(5)).await,
        "not yet"
    ));
    ok(
        s.meta.create_token(t2.clone()).await,
        "create behind the cache",
    );
    ok(
        s.meta
            .revoke_credential(entry(1, 5, 1, u64::MAX >> 2))
            .await,
        "revoke behind the cache",
    );
    assert!(
        cache.get_token(&t2.id).await.is_err(),
        "negative entry still served"
    );
    assert!(!ok(
        cache.credential_revoked(&a, &credential(5)).await,
        "stale"
    ));
    // Blocking is fine here: the suite runs on a multi-threaded runtime.
    std::thread::sleep(ttl + Duration::from_millis(50));
    assert_eq!(ok(cache.get_token(&t2.id).await, "after ttl").id, t2.id);
    assert!(ok(
        cache.credential_revoked(&a, &credential(5)).await,
        "after ttl"
    ));

    // A notification makes it exact again before the TTL.
    assert!(!ok(cache.credential_revoked(&a, &credential(6)).await, "6"));
    ok(
        s.meta
            .revoke_credential(entry(1, 6, 1, u64::MAX >> 2))
            .await,
        "6 behind",
    );
    cache.invalidate(&Invalidation::Credential(a.clone(), credential(6)));
    assert!(ok(
        cache.credential_revoked(&a, &credential(6)).await,
        "6 told"
    ));

    // Capacity: a flood of unknown keys does not grow the cache past its cap.
    for n in 100..140 {
        let _ = cache.get_token(&key_id(n)).await;
    }
    let (tokens, revoked) = cache.sizes();
    assert!(tokens <= 8 && revoked <= 8, "{tokens} {revoked}");
}

/// `secret` names no token through `cache`.
async fn no_token(cache: &CachedMetadata, secret: &mayfly_core::SecretAccessKey, why: &str) {
    assert_err(
        cache.get_token_by_secret(secret).await,
        |e| matches!(e, StoreError::NotFound(Entity::Token)),
        why,
    );
}

/// The cache's bearer-secret map over this store: a hit serves the token's current record
/// (this node's revoke is seen at once), a wrong secret is refused, a token deleted through
/// the cache or behind it (then invalidated, as a notification would) is gone at once, and a
/// secret that no longer matches its token's record is never served from the map.
pub async fn bearer_cache_follows_token_changes(s: &Subject) {
    use mayfly_core::SecretAccessKey;
    // Long TTL: nothing below may pass only because an entry expired.
    let cache = CachedMetadata::new(
        Arc::clone(&s.meta),
        CacheConfig {
            ttl: Duration::from_secs(600),
            capacity: 8,
        },
    );
    let a = new_account(s, 1).await;
    let t1 = token_record(&a, 1, "value-1");
    let secret1 = SecretAccessKey::from_token_value("value-1");
    ok(cache.create_token(t1.clone()).await, "create via cache");
    assert_eq!(
        ok(cache.get_token_by_secret(&secret1).await, "first").id,
        t1.id
    );
    let (hits, misses) = cache.stats();
    assert_eq!(
        ok(cache.get_token_by_secret(&secret1).await, "again").id,
        t1.id
    );
    assert_eq!(cache.stats(), (hits + 1, misses), "served from the maps");

    no_token(
        &cache,
        &SecretAccessKey::from_token_value("value-2"),
        "wrong secret",
    )
    .await;

    ok(cache.revoke_token(&a, &t1.id).await, "revoke via cache");
    assert_eq!(
        ok(cache.get_token_by_secret(&secret1).await, "revoked").status,
        TokenStatus::Revoked
    );
    ok(cache.delete_token(&a, &t1.id).await, "delete via cache");
    no_token(&cache, &secret1, "deleted via cache").await;

    // Deleted on another node, whose notification arrives.
    let t3 = token_record(&a, 3, "value-3");
    let secret3 = SecretAccessKey::from_token_value("value-3");
    ok(cache.create_token(t3.clone()).await, "create 3");
    assert_eq!(ok(cache.get_token_by_secret(&secret3).await, "3").id, t3.id);
    ok(
        s.meta.delete_token(&a, &t3.id).await,
        "delete behind the cache",
    );
    cache.invalidate(&Invalidation::Token(t3.id.clone()));
    no_token(&cache, &secret3, "deleted behind the cache, then told").await;

    // The same id later holding another secret while the map still names it: the old secret
    // must not reach the new token.
    let t4 = token_record(&a, 4, "value-4");
    let secret4 = SecretAccessKey::from_token_value("value-4");
    ok(cache.create_token(t4.clone()).await, "create 4");
    assert_eq!(ok(cache.get_token_by_secret(&secret4).await, "4").id, t4.id);
    ok(
        s.meta.delete_token(&a, &t4.id).await,
        "delete 4 behind the cache",
    );
    let t4b = token_record(&a, 4, "value-4b");
    ok(
        s.meta.create_token(t4b.clone()).await,
        "id 4 reused behind the cache",
    );
    cache.invalidate(&Invalidation::Token(t4b.id.clone()));
    no_token(&cache, &secret4, "old secret, new token under the same id").await;
    let secret4b = SecretAccessKey::from_token_value("value-4b");
    assert_eq!(
        ok(cache.get_token_by_secret(&secret4b).await, "4b").id,
        t4b.id
    );
}
