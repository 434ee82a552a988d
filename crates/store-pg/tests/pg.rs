//! PostgreSQL-specific properties: migrations when several nodes start at once, reconnecting,
//! refusing a newer schema, races between two nodes (separate pools on one database), and no
//! password in Debug output.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures_util::future::join_all;
use mayfly_store::testkit::{
    account_id, new_account, new_bucket, object_record, ok, part_record, upload_record,
};
use mayfly_store::{
    BlobId, CompleteUpload, CompletedPart, Entity, MetadataStore, StoreError, WriteCondition,
};
use mayfly_store_pg::{PgMetadata, latest_version};

use crate::harness::{TestDb, pg_client};

fn subject_of(
    meta: &PgMetadata,
    blobs_from: &mayfly_store::testkit::Subject,
) -> mayfly_store::testkit::Subject {
    mayfly_store::testkit::Subject {
        meta: Arc::new(meta.clone()),
        blobs: Arc::clone(&blobs_from.blobs),
    }
}

async fn node(db: &TestDb) -> PgMetadata {
    ok(PgMetadata::connect(&db.url, 4).await, "connect node")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_at_once_migrate_once() {
    let db = TestDb::create().await;
    let nodes = join_all((0..6).map(|_| PgMetadata::connect(&db.url, 2))).await;
    for n in nodes {
        ok(n, "every node connects");
    }
    let client = pg_client(Some(&db.name)).await;
    let rows = client
        .query(
            "SELECT version FROM mayfly_schema_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("versions");
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    let want: Vec<i32> = (1..=i32::try_from(latest_version()).unwrap_or(1)).collect();
    assert_eq!(versions, want, "each migration applied exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_keeps_data() {
    let db = TestDb::create().await;
    {
        let meta = node(&db).await;
        let record = mayfly_store::AccountRecord {
            id: account_id(1),
            name: "kept".to_owned(),
            created_at: 1,
        };
        ok(meta.create_account(record).await, "create");
    }
    let meta = node(&db).await;
    assert_eq!(
        ok(meta.get_account(&account_id(1)).await, "get").name,
        "kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_schema_is_refused() {
    let db = TestDb::create().await;
    drop(node(&db).await);
    let client = pg_client(Some(&db.name)).await;
    client
        .execute(
            "INSERT INTO mayfly_schema_migrations (version) VALUES (999)",
            &[],
        )
        .await
        .expect("insert future version");
    match PgMetadata::connect(&db.url, 2).await {
        Err(StoreError::Backend(detail)) => assert!(detail.contains("newer"), "{detail}"),
        other => panic!("a newer schema must be refused, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_output_never_shows_the_password() {
    let db = TestDb::create().await;
    let url = db.url_with_password("pg-pass-do-not-print");
    let meta = ok(
        PgMetadata::connect(&url, 2).await,
        "connect with a password",
    );
    for shown in [format!("{meta:?}"), format!("{url:?}"), meta.redacted_url()] {
        assert!(!shown.contains("pg-pass-do-not-print"), "{shown}");
    }
}

/// Two nodes (separate pools) racing puts and deletes on one key: at the end every blob is
/// either the live object's or was returned as garbage to exactly one caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_racing_on_one_key_lose_no_blob() {
    let (s, _guard) = crate::harness::fresh().await;
    let db = &_guard.db;
    let other = node(db).await;
    let b = new_bucket(&s, 1, "race").await;
    let nodes: [Arc<dyn MetadataStore>; 2] = [Arc::clone(&s.meta), Arc::new(other)];
    let records: Vec<_> = (0..40u64)
        .map(|i| object_record(&b, "hot", BlobId::random(), i))
        .collect();
    let ops = records.iter().enumerate().map(|(i, o)| {
        let meta = Arc::clone(&nodes[i % 2]);
        let (o, b) = (o.clone(), b.clone());
        async move {
            let mut garbage = ok(meta.put_object(o, WriteCondition::None).await, "put");
            if i % 5 == 4 {
                garbage.extend(ok(meta.delete_object(&b, "hot").await, "delete"));
            }
            garbage
        }
    });
    let garbage: Vec<BlobId> = join_all(ops).await.into_iter().flatten().collect();
    let unique: BTreeSet<BlobId> = garbage.iter().cloned().collect();
    assert_eq!(unique.len(), garbage.len(), "no blob returned twice");
    let mut accounted = unique;
    match s.meta.get_object(&b, "hot").await {
        Ok(live) => accounted.extend(live.blob.blob_ids()),
        Err(err) => assert!(err.is_not_found(Entity::Object), "{err:?}"),
    }
    let all: BTreeSet<BlobId> = records.iter().flat_map(|o| o.blob.blob_ids()).collect();
    assert_eq!(accounted, all, "every blob is live or garbage");
}

/// A part re-uploaded on one node while another completes the upload: either the completion
/// used the old part and the new part finds the upload gone, or the new part replaced the old
/// one and the completion (naming the old ETag) is InvalidPart. Never both succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_and_part_replacement_race_consistently() {
    let (s, guard) = crate::harness::fresh().await;
    let other: Arc<dyn MetadataStore> = Arc::new(node(&guard.db).await);
    let other_subject = subject_of(&node(&guard.db).await, &s);
    let b = new_bucket(&s, 1, "mp-race").await;
    new_account(&other_subject, 2).await;
    for round in 0..12 {
        let key = format!("k{round}");
        let u = upload_record(&b, &key);
        ok(s.meta.create_upload(u.clone()).await, "create");
        let old = part_record(1, 10);
        ok(
            s.meta.put_part(&b, &key, &u.upload_id, old.clone()).await,
            "old part",
        );
        let mut new = part_record(1, 20);
        new.etag = "ffffffffffffffffffffffffffffffff".to_owned();
        let complete = CompleteUpload {
            bucket: b.clone(),
            key: key.clone(),
            upload_id: u.upload_id.clone(),
            parts: vec![CompletedPart {
                part_number: 1,
                etag: old.etag.clone(),
            }],
            etag: "00000000000000000000000000000000-1".to_owned(),
            last_modified_ms: 1,
            checksums: Default::default(),
            checksum_type: Default::default(),
            condition: Default::default(),
        };
        let (done, replaced) = tokio::join!(
            s.meta.complete_upload(complete),
            other.put_part(&b, &key, &u.upload_id, new.clone())
        );
        match (done, replaced) {
            (Ok(outcome), Err(err)) => {
                assert!(err.is_not_found(Entity::Upload), "{err:?}");
                assert_eq!(outcome.object.blob.blob_ids(), vec![old.blob.clone()]);
            }
            (Err(StoreError::InvalidPart { part_number: 1 }), Ok(garbage)) => {
                assert_eq!(garbage, vec![old.blob.clone()], "old part returned once");
                ok(s.meta.abort_upload(&b, &key, &u.upload_id).await, "abort");
            }
            other => panic!("inconsistent outcome in round {round}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_prompt_error_without_the_password() {
    // A port nobody listens on: bind one, then drop the listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = mayfly_store_pg::PgUrl::new(format!(
        "postgres://mayfly:unreachable-pass@127.0.0.1:{port}/mayfly"
    ));
    let started = std::time::Instant::now();
    match PgMetadata::connect(&url, 2).await {
        Err(StoreError::Backend(detail)) => {
            assert!(!detail.contains("unreachable-pass"), "{detail}");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}

/// Everything PostgreSQL records about one schema's tables, in a comparable form: columns
/// (type, collation, nullability, identity, default), constraints (keys, uniques, foreign keys
/// with their ON DELETE) and index definitions, with the schema's own name taken out.
async fn pg_catalog(client: &tokio_postgres::Client, schema: &str) -> Vec<String> {
    let mut out = Vec::new();
    let queries = [
        "SELECT table_name || '.' || column_name || ' ' || udt_name || ' ' \
             || coalesce(collation_name, '-') || ' ' || is_nullable || ' ' || is_identity \
             || ' ' || coalesce(identity_generation, '-') || ' ' || coalesce(column_default, '-') \
         FROM information_schema.columns WHERE table_schema = $1 \
         ORDER BY table_name, ordinal_position",
        "SELECT cl.relname || ' ' || c.conname || ' ' || c.contype::text || ' ' || pg_get_constraintdef(c.oid) \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         JOIN pg_class cl ON cl.oid = c.conrelid \
         WHERE n.nspname = $1 ORDER BY cl.relname, c.conname",
        "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname",
    ];
    for sql in queries {
        for row in client.query(sql, &[&schema]).await.expect("catalog") {
            let line: String = row.get(0);
            out.push(line.replace(&format!("{schema}."), "SCHEMA."));
        }
    }
    out
}

#[tokio::test]
async fn rendered_schema_v1_builds_exactly_what_the_first_release_built() {
    let db = TestDb::create().await;
    let client = pg_client(Some(&db.name)).await;
    let rendered = mayfly_store::schema::Dialect::Postgres.migrations()[0].clone();
    for (schema, sql) in [
        (
            "first_release",
            include_str!("fixtures/schema-v1.sql").to_owned(),
        ),
        ("rendered", rendered),
    ] {
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {schema}; SET search_path TO {schema};"
            ))
            .await
            .expect("schema");
        client.batch_execute(&sql).await.expect("V1");
    }
    client
        .batch_execute("SET search_path TO public")
        .await
        .expect("reset");
    let first = pg_catalog(&client, "first_release").await;
    let now = pg_catalog(&client, "rendered").await;
    assert!(first.len() > 80, "the catalog lists the schema: {first:#?}");
    assert_eq!(first, now);
}
