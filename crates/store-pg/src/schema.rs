//! Schema migrations, recorded in `mayfly_schema_migrations` (one row per applied version).
//! Entry `i` of [`MIGRATIONS`] moves the schema from version `i` to `i + 1`; applied entries
//! never change, new ones are appended.
//!
//! [`migrate`] runs every missing entry in ONE transaction that first takes a
//! transaction-scoped advisory lock, so nodes starting at once run it one after the other:
//! the first applies the migrations, the others wait, then find nothing left to do. A database
//! newer than this binary is refused rather than used.
//!
//! Object and upload keys are `bytea`, so PostgreSQL compares them byte-wise (S3 listing
//! order) whatever the database collation; the text columns that are sorted or compared by
//! range (ids, bucket names) are `COLLATE "C"` for the same reason.

use deadpool_postgres::Pool;
use mayfly_store::StoreError;

use crate::db::{self, TxError, TxResult};

/// Advisory lock id held while migrating ("mayfly-migrate" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x6d61_7966_6c79_6d67;

const V1: &str = r#"
CREATE TABLE accounts (
    id          text COLLATE "C" PRIMARY KEY,
    name        text NOT NULL,
    created_at  bigint NOT NULL
);

CREATE TABLE tokens (
    id          text COLLATE "C" PRIMARY KEY,
    account     text COLLATE "C" NOT NULL REFERENCES accounts(id),
    name        text NOT NULL,
    permission  text NOT NULL,
    buckets     text[],                 -- NULL = every bucket
    secret      text COLLATE "C" NOT NULL UNIQUE,
    status      text NOT NULL,
    created_at  bigint NOT NULL,
    expires_at  bigint
);
CREATE INDEX tokens_by_account ON tokens (account, id);

CREATE TABLE buckets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account       text COLLATE "C" NOT NULL REFERENCES accounts(id),
    name          text COLLATE "C" NOT NULL,
    created_at    bigint NOT NULL,
    location      text NOT NULL,
    storage_class text NOT NULL,
    jurisdiction  text NOT NULL,
    UNIQUE (account, name)
);
CREATE INDEX buckets_by_creation ON buckets (account, created_at, name);

CREATE TABLE bucket_configs (
    bucket_id   bigint NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
    kind        text NOT NULL,
    document    text NOT NULL,
    PRIMARY KEY (bucket_id, kind)
);

CREATE TABLE objects (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket_id           bigint NOT NULL REFERENCES buckets(id),
    key                 bytea NOT NULL,
    size                bigint NOT NULL,
    etag                text NOT NULL,
    last_modified_ms    bigint NOT NULL,
    content_type        text,
    content_encoding    text,
    content_disposition text,
    content_language    text,
    cache_control       text,
    expires             text,
    user_metadata       text NOT NULL,  -- JSON object
    checksums           text NOT NULL,  -- JSON object: algorithm name -> base64
    checksum_type       text NOT NULL,
    blob_id             text,           -- single-blob objects; NULL for multipart
    UNIQUE (bucket_id, key)
);
CREATE INDEX objects_by_blob ON objects (blob_id) WHERE blob_id IS NOT NULL;

CREATE TABLE object_parts (
    object_id   bigint NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
    idx         integer NOT NULL,
    part_number bigint NOT NULL,
    size        bigint NOT NULL,
    etag        text NOT NULL,
    checksums   text NOT NULL,
    blob_id     text NOT NULL,
    PRIMARY KEY (object_id, idx)
);
CREATE INDEX object_parts_by_blob ON object_parts (blob_id);

CREATE TABLE uploads (
    id                  text COLLATE "C" PRIMARY KEY,
    bucket_id           bigint NOT NULL REFERENCES buckets(id),
    key                 bytea NOT NULL,
    initiated_ms        bigint NOT NULL,
    content_type        text,
    content_encoding    text,
    content_disposition text,
    content_language    text,
    cache_control       text,
    expires             text,
    user_metadata       text NOT NULL,
    checksum_algorithm  text,
    checksum_type       text
);
CREATE INDEX uploads_by_key ON uploads (bucket_id, key, id);

CREATE TABLE parts (
    upload_id        text COLLATE "C" NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    part_number      bigint NOT NULL,
    size             bigint NOT NULL,
    etag             text NOT NULL,
    last_modified_ms bigint NOT NULL,
    checksums        text NOT NULL,
    blob_id          text NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE INDEX parts_by_blob ON parts (blob_id);
"#;

/// The audit trail (issue 15; a Mayfly extension). No foreign keys: events outlive the tokens
/// and buckets they name. Each index serves one filter of `list_audit`, newest first; the time
/// index serves the retention purge. Numbered V2 on this branch; renumber (V3) if the
/// revocation table lands first.
const V_AUDIT: &str = r#"
CREATE TABLE audit_events (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account       text COLLATE "C" NOT NULL,
    time_ms       bigint NOT NULL,
    kind          text COLLATE "C" NOT NULL,
    credential_id text COLLATE "C",
    parent        text COLLATE "C",
    bucket        text COLLATE "C",
    key           text,
    operation     text,
    status        integer,
    bytes         bigint,
    request_id    text,
    caller        text,
    detail        text              -- JSON object
);
CREATE INDEX audit_by_time ON audit_events (account, time_ms, seq);
CREATE INDEX audit_by_credential ON audit_events (account, credential_id, time_ms, seq)
    WHERE credential_id IS NOT NULL;
CREATE INDEX audit_by_parent ON audit_events (account, parent, time_ms, seq)
    WHERE parent IS NOT NULL;
CREATE INDEX audit_by_bucket ON audit_events (account, bucket, time_ms, seq)
    WHERE bucket IS NOT NULL;
CREATE INDEX audit_by_kind ON audit_events (account, kind, time_ms, seq);
CREATE INDEX audit_purge ON audit_events (time_ms);
"#;

/// Migration `i` upgrades version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V_AUDIT];

/// The schema version this binary writes.
pub fn latest_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// Brings the schema up to [`latest_version`]; returns how many migrations this call applied.
pub(crate) async fn migrate(pool: &Pool) -> Result<u32, StoreError> {
    db::in_tx!(pool, Write, |tx| {
        db::advisory_lock(&tx, MIGRATION_LOCK).await?;
        // "relation already exists, skipping" on every start after the first is noise.
        tx.batch_execute("SET LOCAL client_min_messages TO warning")
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS mayfly_schema_migrations (
                version    integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await?;
        let current: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM mayfly_schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        apply_missing(&tx, current).await?
    })
}

async fn apply_missing(tx: &deadpool_postgres::Transaction<'_>, current: i32) -> TxResult<u32> {
    let latest = latest_version();
    let current = u32::try_from(current)
        .map_err(|_| TxError::Store(StoreError::Backend("negative schema version".to_owned())))?;
    if current > latest {
        return Err(TxError::Store(StoreError::Backend(format!(
            "database schema version {current} is newer than this binary's {latest}"
        ))));
    }
    let mut applied = 0;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(sql).await?;
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO mayfly_schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        applied += 1;
    }
    Ok(applied)
}
