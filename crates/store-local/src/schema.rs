//! Schema migrations, versioned with `PRAGMA user_version`. Each entry of [`MIGRATIONS`] moves
//! the database from version `i` to `i + 1` in one transaction; applied entries never change,
//! new ones are appended.
//!
//! Object and upload keys are stored as BLOBs so SQLite compares them with `memcmp`: byte order,
//! which is the S3 listing order, and byte-exact storage whatever the key contains.

use rusqlite::{Connection, TransactionBehavior};

use mayfly_store::StoreError;

const V1: &str = r"
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    account     TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    permission  TEXT NOT NULL,
    buckets     TEXT,              -- JSON array of bucket names, NULL = all buckets
    secret      TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
) STRICT;
CREATE INDEX tokens_by_account ON tokens(account, id);

CREATE TABLE buckets (
    id            INTEGER PRIMARY KEY,
    account       TEXT NOT NULL REFERENCES accounts(id),
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    location      TEXT NOT NULL,
    storage_class TEXT NOT NULL,
    jurisdiction  TEXT NOT NULL,
    UNIQUE (account, name)
) STRICT;
CREATE INDEX buckets_by_creation ON buckets(account, created_at, name);

CREATE TABLE bucket_configs (
    bucket_id   INTEGER NOT NULL REFERENCES buckets(id),
    kind        TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (bucket_id, kind)
) STRICT;

CREATE TABLE objects (
    id                  INTEGER PRIMARY KEY,
    bucket_id           INTEGER NOT NULL REFERENCES buckets(id),
    key                 BLOB NOT NULL,
    size                INTEGER NOT NULL,
    etag                TEXT NOT NULL,
    last_modified_ms    INTEGER NOT NULL,
    content_type        TEXT,
    content_encoding    TEXT,
    content_disposition TEXT,
    content_language    TEXT,
    cache_control       TEXT,
    expires             TEXT,
    user_metadata       TEXT NOT NULL,  -- JSON object
    checksums           TEXT NOT NULL,  -- JSON object: algorithm name -> base64
    checksum_type       TEXT NOT NULL,
    blob_id             TEXT,           -- single-blob objects; NULL for multipart
    UNIQUE (bucket_id, key)
) STRICT;
CREATE INDEX objects_by_blob ON objects(blob_id) WHERE blob_id IS NOT NULL;

CREATE TABLE object_parts (
    object_id   INTEGER NOT NULL REFERENCES objects(id),
    idx         INTEGER NOT NULL,
    part_number INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    etag        TEXT NOT NULL,
    checksums   TEXT NOT NULL,
    blob_id     TEXT NOT NULL,
    PRIMARY KEY (object_id, idx)
) STRICT;
CREATE INDEX object_parts_by_blob ON object_parts(blob_id);

CREATE TABLE uploads (
    id                  TEXT PRIMARY KEY NOT NULL,
    bucket_id           INTEGER NOT NULL REFERENCES buckets(id),
    key                 BLOB NOT NULL,
    initiated_ms        INTEGER NOT NULL,
    content_type        TEXT,
    content_encoding    TEXT,
    content_disposition TEXT,
    content_language    TEXT,
    cache_control       TEXT,
    expires             TEXT,
    user_metadata       TEXT NOT NULL,
    checksum_algorithm  TEXT,
    checksum_type       TEXT
) STRICT;
CREATE INDEX uploads_by_key ON uploads(bucket_id, key, id);

CREATE TABLE parts (
    upload_id        TEXT NOT NULL REFERENCES uploads(id),
    part_number      INTEGER NOT NULL,
    size             INTEGER NOT NULL,
    etag             TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    checksums        TEXT NOT NULL,
    blob_id          TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) STRICT;
CREATE INDEX parts_by_blob ON parts(blob_id);
";

/// The audit trail (issue 15; a Mayfly extension). No foreign keys: events outlive the
/// tokens and buckets they name, and a batch insert checks nothing. Each index serves one
/// filter of `list_audit`, newest first; the time index serves the retention purge.
/// Numbered V2 on this branch; renumber (V3) if the revocation table lands first.
const V_AUDIT: &str = r"
CREATE TABLE audit_events (
    seq           INTEGER PRIMARY KEY,
    account       TEXT NOT NULL,
    time_ms       INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    credential_id TEXT,
    parent        TEXT,
    bucket        TEXT,
    key           TEXT,
    operation     TEXT,
    status        INTEGER,
    bytes         INTEGER,
    request_id    TEXT,
    caller        TEXT,
    detail        TEXT            -- JSON object
) STRICT;
CREATE INDEX audit_by_time ON audit_events(account, time_ms, seq);
CREATE INDEX audit_by_credential ON audit_events(account, credential_id, time_ms, seq)
    WHERE credential_id IS NOT NULL;
CREATE INDEX audit_by_parent ON audit_events(account, parent, time_ms, seq)
    WHERE parent IS NOT NULL;
CREATE INDEX audit_by_bucket ON audit_events(account, bucket, time_ms, seq)
    WHERE bucket IS NOT NULL;
CREATE INDEX audit_by_kind ON audit_events(account, kind, time_ms, seq);
CREATE INDEX audit_purge ON audit_events(time_ms);
";

/// Migration `i` upgrades `user_version` `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V_AUDIT];

/// Brings the database up to the latest version. Refuses a database newer than this binary.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(StoreError::backend)?;
    let latest = i64::try_from(MIGRATIONS.len()).map_err(StoreError::backend)?;
    if current > latest {
        return Err(StoreError::Backend(format!(
            "database schema version {current} is newer than this binary's {latest}"
        )));
    }
    for (version, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(current).map_err(StoreError::backend)?)
    {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::backend)?;
        tx.execute_batch(sql).map_err(StoreError::backend)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(version + 1).map_err(StoreError::backend)?,
        )
        .map_err(StoreError::backend)?;
        tx.commit().map_err(StoreError::backend)?;
    }
    Ok(())
}
