//! Conformance checks for accounts, R2 API tokens, buckets and bucket config documents.

use mayfly_core::{AccountId, Permission, SecretAccessKey};

use super::{
    Subject, account_id, assert_err, bucket_name, bucket_record, key_id, new_account, new_bucket,
    ok, put_key, token_record,
};
use crate::{
    AccountRecord, BucketConfigKind, BucketId, BucketOrder, Entity, Jurisdiction, ListBucketsQuery,
    SortDirection, StoreError, TokenStatus, TokenUpdate, UploadId, UploadRecord,
};

/// Accounts: create, get, list in id order, duplicates and missing ids.
pub async fn accounts_create_get_list(s: &Subject) {
    assert!(ok(s.meta.list_accounts().await, "list empty").is_empty());
    let b = new_account(s, 2).await;
    let a = new_account(s, 1).await;
    let got = ok(s.meta.get_account(&a).await, "get account");
    assert_eq!(
        got,
        AccountRecord {
            id: a.clone(),
            name: "account 1".to_owned(),
            created_at: 1_750_000_000
        }
    );
    let ids: Vec<_> = ok(s.meta.list_accounts().await, "list")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec![a.clone(), b], "accounts listed by id");
    let dup = AccountRecord {
        id: a,
        name: "again".to_owned(),
        created_at: 1,
    };
    assert_err(
        s.meta.create_account(dup).await,
        |e| matches!(e, StoreError::AlreadyExists(Entity::Account)),
        "dup account",
    );
    assert_err(
        s.meta.get_account(&account_id(9)).await,
        |e| e.is_not_found(Entity::Account),
        "missing account",
    );
}

/// Tokens: every field round-trips; lookup by id and by secret; list by account.
pub async fn tokens_round_trip_and_lookup_by_secret(s: &Subject) {
    let a = new_account(s, 1).await;
    let other = new_account(s, 2).await;
    let mut t = token_record(&a, 7, "value-7");
    t.permission = Permission::AdminReadOnly;
    t.buckets = Some(vec![bucket_name("photos"), bucket_name("logs-2")]);
    t.expires_at = Some(1_760_000_000);
    ok(s.meta.create_token(t.clone()).await, "create token");
    ok(
        s.meta.create_token(token_record(&a, 3, "value-3")).await,
        "create token 3",
    );
    ok(
        s.meta
            .create_token(token_record(&other, 5, "value-5"))
            .await,
        "create other token",
    );

    assert_eq!(ok(s.meta.get_token(&t.id).await, "get by id"), t);
    let by_secret = ok(
        s.meta
            .get_token_by_secret(&SecretAccessKey::from_token_value("value-7"))
            .await,
        "by secret",
    );
    assert_eq!(by_secret, t);
    assert!(by_secret.secret.ct_eq(&t.secret));
    assert_err(
        s.meta
            .get_token_by_secret(&SecretAccessKey::from_token_value("nope"))
            .await,
        |e| e.is_not_found(Entity::Token),
        "unknown secret",
    );
    assert_err(
        s.meta.get_token(&key_id(99)).await,
        |e| e.is_not_found(Entity::Token),
        "unknown id",
    );
    let listed: Vec<_> = ok(s.meta.list_tokens(&a).await, "list")
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(
        listed,
        vec![key_id(3), key_id(7)],
        "only this account's tokens, by id"
    );
    assert!(
        !format!("{t:?}").contains(t.secret.expose_secret()),
        "Debug must not print the secret"
    );
}

/// Revoking keeps the row with status Revoked (idempotent); delete removes it; both are
/// scoped to the account.
pub async fn tokens_revoke_keeps_row_and_delete_removes_it(s: &Subject) {
    let a = new_account(s, 1).await;
    let b = new_account(s, 2).await;
    let t = token_record(&a, 1, "v1");
    ok(s.meta.create_token(t.clone()).await, "create");
    assert_err(
        s.meta.revoke_token(&b, &t.id).await,
        |e| e.is_not_found(Entity::Token),
        "revoke from other account",
    );
    assert_err(
        s.meta.delete_token(&b, &t.id).await,
        |e| e.is_not_found(Entity::Token),
        "delete from other account",
    );
    ok(s.meta.revoke_token(&a, &t.id).await, "revoke");
    ok(s.meta.revoke_token(&a, &t.id).await, "revoke again");
    let got = ok(s.meta.get_token(&t.id).await, "get revoked");
    assert_eq!(got.status, TokenStatus::Revoked);
    let by_secret = ok(
        s.meta.get_token_by_secret(&t.secret).await,
        "revoked still found by secret",
    );
    assert_eq!(by_secret.status, TokenStatus::Revoked);
    assert_eq!(
        ok(s.meta.list_tokens(&a).await, "list").len(),
        1,
        "revoked token still listed"
    );
    ok(s.meta.delete_token(&a, &t.id).await, "delete");
    assert_err(
        s.meta.get_token(&t.id).await,
        |e| e.is_not_found(Entity::Token),
        "deleted",
    );
    assert_err(
        s.meta.delete_token(&a, &t.id).await,
        |e| e.is_not_found(Entity::Token),
        "delete twice",
    );
}

/// Bootstrap: many callers racing on an empty store, exactly one creates its account and token;
/// later calls change nothing.
pub async fn accounts_first_account_is_created_once(s: &Subject) {
    const RACERS: u32 = 8;
    // Concurrent calls on the shared handle: SQLite serialises them on its write lock,
    // PostgreSQL runs them on separate pooled connections.
    let results = futures_util::future::join_all((1..=RACERS).map(|n| {
        let account = AccountRecord {
            id: account_id(n),
            name: format!("first {n}"),
            created_at: 1_750_000_000,
        };
        let token = token_record(&account.id, n, &format!("boot-{n}"));
        async move { (n, s.meta.create_first_account(account, token).await) }
    }))
    .await;
    let mut winners = Vec::new();
    for (n, result) in results {
        if ok(result, "create_first_account") {
            winners.push(n);
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one racer bootstraps: {winners:?}"
    );
    let winner = winners[0];
    let accounts = ok(s.meta.list_accounts().await, "list accounts");
    assert_eq!(accounts.len(), 1, "one account after the race");
    assert_eq!(accounts[0].id, account_id(winner));
    let tokens = ok(s.meta.list_tokens(&account_id(winner)).await, "tokens");
    assert_eq!(tokens.len(), 1, "one token after the race");
    assert_eq!(
        tokens[0],
        token_record(&account_id(winner), winner, &format!("boot-{winner}"))
    );
    for n in (1..=RACERS).filter(|n| *n != winner) {
        assert_err(
            s.meta.get_token(&key_id(n)).await,
            |e| e.is_not_found(Entity::Token),
            "a losing racer's token was not stored",
        );
    }
    let late = AccountRecord {
        id: account_id(99),
        name: "late".to_owned(),
        created_at: 1,
    };
    assert!(
        !ok(
            s.meta
                .create_first_account(late, token_record(&account_id(99), 99, "late"))
                .await,
            "late bootstrap"
        ),
        "a store with an account is never bootstrapped again"
    );
    assert_eq!(ok(s.meta.list_accounts().await, "list").len(), 1);
}

/// Updates replace name, permission, buckets, status and expiry (and nothing else), are scoped
/// to the account, can disable and re-enable, and never touch a revoked token.
pub async fn tokens_update_replaces_fields_and_refuses_revoked(s: &Subject) {
    let a = new_account(s, 1).await;
    let b = new_account(s, 2).await;
    let t = token_record(&a, 1, "v1");
    ok(s.meta.create_token(t.clone()).await, "create");
    let down = TokenUpdate {
        name: "downgraded".to_owned(),
        permission: Permission::ObjectReadOnly,
        buckets: Some(vec![bucket_name("photos")]),
        status: Some(TokenStatus::Active),
        expires_at: Some(1_760_000_000),
    };
    let updated = ok(s.meta.update_token(&a, &t.id, down.clone()).await, "update");
    assert_eq!(updated, down.apply(&t));
    assert!(updated.secret.ct_eq(&t.secret), "the secret never changes");
    assert_eq!(updated.created_at, t.created_at);
    assert_eq!(ok(s.meta.get_token(&t.id).await, "get"), updated);
    assert_eq!(
        ok(s.meta.get_token_by_secret(&t.secret).await, "by secret"),
        updated
    );

    let disabled = TokenUpdate {
        status: Some(TokenStatus::Disabled),
        buckets: None,
        expires_at: None,
        ..down.clone()
    };
    ok(s.meta.update_token(&a, &t.id, disabled).await, "disable");
    let got = ok(s.meta.get_token(&t.id).await, "get disabled");
    assert_eq!(got.status, TokenStatus::Disabled);
    assert_eq!(got.buckets, None, "buckets cleared");
    assert_eq!(got.expires_at, None, "expiry cleared");
    ok(
        s.meta.update_token(&a, &t.id, down.clone()).await,
        "re-enable",
    );
    assert_eq!(
        ok(s.meta.get_token(&t.id).await, "get").status,
        TokenStatus::Active
    );

    assert_err(
        s.meta.update_token(&b, &t.id, down.clone()).await,
        |e| e.is_not_found(Entity::Token),
        "update from another account",
    );
    assert_err(
        s.meta.update_token(&a, &key_id(42), down.clone()).await,
        |e| e.is_not_found(Entity::Token),
        "update of a missing token",
    );
    ok(s.meta.revoke_token(&a, &t.id).await, "revoke");
    let before = ok(s.meta.get_token(&t.id).await, "revoked");
    assert_err(
        s.meta.update_token(&a, &t.id, down).await,
        |e| matches!(e, StoreError::Conflict(_)),
        "update of a revoked token",
    );
    assert_eq!(
        ok(s.meta.get_token(&t.id).await, "still revoked"),
        before,
        "a refused update changes nothing"
    );
}

/// Duplicate ids or secrets are AlreadyExists; a token needs its account.
pub async fn tokens_reject_duplicates_and_unknown_accounts(s: &Subject) {
    let a = new_account(s, 1).await;
    ok(
        s.meta.create_token(token_record(&a, 1, "same")).await,
        "create",
    );
    let is_dup = |e: &StoreError| matches!(e, StoreError::AlreadyExists(Entity::Token));
    assert_err(
        s.meta.create_token(token_record(&a, 1, "other")).await,
        is_dup,
        "same id",
    );
    assert_err(
        s.meta.create_token(token_record(&a, 2, "same")).await,
        is_dup,
        "same secret",
    );
    assert_err(
        s.meta
            .create_token(token_record(&account_id(9), 3, "x"))
            .await,
        |e| e.is_not_found(Entity::Account),
        "unknown account",
    );
    assert_eq!(
        ok(s.meta.list_tokens(&a).await, "list").len(),
        1,
        "failed creates left nothing"
    );
}

/// Buckets: every field round-trips; duplicates; unknown account; missing bucket.
pub async fn buckets_create_get_and_reject_duplicates(s: &Subject) {
    let a = new_account(s, 1).await;
    let mut record = bucket_record(&a, "my-bucket", 1_750_000_001);
    record.location = "weur".to_owned();
    record.jurisdiction = Jurisdiction::Eu;
    ok(s.meta.create_bucket(record.clone()).await, "create");
    assert_eq!(
        ok(s.meta.get_bucket(&record.bucket_id()).await, "get"),
        record
    );
    assert_err(
        s.meta
            .create_bucket(bucket_record(&a, "my-bucket", 5))
            .await,
        |e| matches!(e, StoreError::AlreadyExists(Entity::Bucket)),
        "duplicate name",
    );
    assert_err(
        s.meta
            .create_bucket(bucket_record(&account_id(9), "x-bucket", 5))
            .await,
        |e| e.is_not_found(Entity::Account),
        "unknown account",
    );
    let missing = BucketId::new(a, bucket_name("nope"));
    assert_err(
        s.meta.get_bucket(&missing).await,
        |e| e.is_not_found(Entity::Bucket),
        "missing bucket",
    );
}

/// The same bucket name in two accounts is two buckets with separate objects.
pub async fn buckets_are_scoped_per_account(s: &Subject) {
    let one = new_bucket(s, 1, "shared").await;
    let two = new_bucket(s, 2, "shared").await;
    put_key(s, &one, "only-in-one").await;
    assert_err(
        s.meta.get_object(&two, "only-in-one").await,
        |e| e.is_not_found(Entity::Object),
        "isolated",
    );
    let page = ok(
        s.meta
            .list_buckets(&account_id(2), &ListBucketsQuery::default())
            .await,
        "list",
    );
    assert_eq!(page.buckets.len(), 1);
    ok(
        s.meta.delete_bucket(&two).await,
        "delete empty twin while the other has objects",
    );
}

fn names(page: &crate::BucketPage) -> Vec<String> {
    page.buckets
        .iter()
        .map(|b| b.name.as_str().to_owned())
        .collect()
}

async fn all_pages(
    s: &Subject,
    account: &AccountId,
    order: BucketOrder,
    direction: SortDirection,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut q = ListBucketsQuery {
        per_page: 2,
        order,
        direction,
        ..ListBucketsQuery::default()
    };
    loop {
        let page = ok(s.meta.list_buckets(account, &q).await, "page");
        assert!(page.buckets.len() <= 2, "per_page respected");
        seen.extend(names(&page));
        match page.cursor {
            Some(c) => q.cursor = Some(c),
            None => return seen,
        }
    }
}

/// Bucket listing: name_contains, start_after, both orders and directions, cursor paging.
pub async fn bucket_listing_filters_orders_and_pages(s: &Subject) {
    let a = new_account(s, 1).await;
    // Creation order differs from name order; two share a creation time (tie broken by name).
    let made = [
        ("delta", 10),
        ("alpha", 30),
        ("charlie", 20),
        ("bravo", 20),
        ("echo-x", 5),
    ];
    for (name, at) in made {
        ok(
            s.meta.create_bucket(bucket_record(&a, name, at)).await,
            "create",
        );
    }
    ok(
        s.meta
            .create_bucket(bucket_record(&new_account(s, 2).await, "zulu", 1))
            .await,
        "other account",
    );
    let by_name = ["alpha", "bravo", "charlie", "delta", "echo-x"];
    assert_eq!(
        all_pages(s, &a, BucketOrder::Name, SortDirection::Asc).await,
        by_name
    );
    let mut rev = by_name;
    rev.reverse();
    assert_eq!(
        all_pages(s, &a, BucketOrder::Name, SortDirection::Desc).await,
        rev
    );
    let by_date = ["echo-x", "delta", "bravo", "charlie", "alpha"];
    assert_eq!(
        all_pages(s, &a, BucketOrder::CreationDate, SortDirection::Asc).await,
        by_date
    );
    let mut rev = by_date;
    rev.reverse();
    assert_eq!(
        all_pages(s, &a, BucketOrder::CreationDate, SortDirection::Desc).await,
        rev
    );

    let filtered = ListBucketsQuery {
        name_contains: Some("lph".to_owned()),
        ..ListBucketsQuery::default()
    };
    assert_eq!(
        names(&ok(s.meta.list_buckets(&a, &filtered).await, "contains")),
        ["alpha"]
    );
    let after = ListBucketsQuery {
        start_after: Some("bravo".to_owned()),
        ..ListBucketsQuery::default()
    };
    assert_eq!(
        names(&ok(s.meta.list_buckets(&a, &after).await, "after")),
        ["charlie", "delta", "echo-x"]
    );
    let single = ok(
        s.meta.list_buckets(&a, &ListBucketsQuery::default()).await,
        "one page",
    );
    assert!(single.cursor.is_none(), "no cursor on the last page");
    let foreign = ListBucketsQuery {
        cursor: Some("definitely-not-a-cursor".to_owned()),
        ..ListBucketsQuery::default()
    };
    assert_err(
        s.meta.list_buckets(&a, &foreign).await,
        |e| matches!(e, StoreError::InvalidCursor),
        "bad cursor",
    );
}

/// A bucket with objects or uploads is not deleted; an empty one is, with its configs.
pub async fn bucket_delete_refuses_non_empty(s: &Subject) {
    let b = new_bucket(s, 1, "busy").await;
    put_key(s, &b, "k").await;
    let not_empty = |e: &StoreError| matches!(e, StoreError::BucketNotEmpty);
    assert_err(s.meta.delete_bucket(&b).await, not_empty, "object present");
    ok(s.meta.delete_object(&b, "k").await, "delete object");
    let upload = UploadRecord {
        bucket: b.clone(),
        key: "mp".to_owned(),
        upload_id: UploadId::random(),
        initiated_ms: 1,
        headers: Default::default(),
        user_metadata: Default::default(),
        checksum_algorithm: None,
        checksum_type: None,
    };
    ok(s.meta.create_upload(upload.clone()).await, "create upload");
    assert_err(
        s.meta.delete_bucket(&b).await,
        not_empty,
        "upload in progress",
    );
    ok(
        s.meta.abort_upload(&b, "mp", &upload.upload_id).await,
        "abort",
    );
    ok(
        s.meta
            .put_bucket_config(&b, BucketConfigKind::Cors, "[]".to_owned())
            .await,
        "cors",
    );
    ok(s.meta.delete_bucket(&b).await, "delete empty");
    assert_err(
        s.meta.get_bucket(&b).await,
        |e| e.is_not_found(Entity::Bucket),
        "gone",
    );
    assert_err(
        s.meta.delete_bucket(&b).await,
        |e| e.is_not_found(Entity::Bucket),
        "delete twice",
    );
    // Recreating the name starts clean: no leftover config.
    ok(
        s.meta
            .create_bucket(bucket_record(&b.account, "busy", 2))
            .await,
        "recreate",
    );
    assert_err(
        s.meta.get_bucket_config(&b, BucketConfigKind::Cors).await,
        |e| e.is_not_found(Entity::Cors),
        "no config",
    );
}

/// Config documents: opaque round trip, replace, delete (idempotent), per kind.
pub async fn bucket_configs_round_trip(s: &Subject) {
    let b = new_bucket(s, 1, "configured").await;
    for (kind, entity) in [
        (BucketConfigKind::Cors, Entity::Cors),
        (BucketConfigKind::Lifecycle, Entity::Lifecycle),
    ] {
        assert_err(
            s.meta.get_bucket_config(&b, kind).await,
            move |e| e.is_not_found(entity),
            "unset",
        );
        let doc = format!(
            "<{}>é\u{1}\n  \"quoted\"</{}>",
            kind.as_str(),
            kind.as_str()
        );
        ok(s.meta.put_bucket_config(&b, kind, doc.clone()).await, "put");
        assert_eq!(
            ok(s.meta.get_bucket_config(&b, kind).await, "get"),
            doc,
            "byte-exact"
        );
        ok(
            s.meta.put_bucket_config(&b, kind, "v2".to_owned()).await,
            "replace",
        );
        assert_eq!(ok(s.meta.get_bucket_config(&b, kind).await, "get v2"), "v2");
    }
    ok(
        s.meta
            .delete_bucket_config(&b, BucketConfigKind::Cors)
            .await,
        "delete cors",
    );
    ok(
        s.meta
            .delete_bucket_config(&b, BucketConfigKind::Cors)
            .await,
        "delete cors again",
    );
    assert_err(
        s.meta.get_bucket_config(&b, BucketConfigKind::Cors).await,
        |e| e.is_not_found(Entity::Cors),
        "deleted",
    );
    assert_eq!(
        ok(
            s.meta
                .get_bucket_config(&b, BucketConfigKind::Lifecycle)
                .await,
            "other kind kept"
        ),
        "v2"
    );
    let missing = BucketId::new(b.account.clone(), bucket_name("missing"));
    assert_err(
        s.meta
            .put_bucket_config(&missing, BucketConfigKind::Cors, "x".to_owned())
            .await,
        |e| e.is_not_found(Entity::Bucket),
        "missing bucket",
    );
}
