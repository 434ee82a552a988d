//! Applies the schema's migrations (written once for both backends in [`mayfly_store::schema`])
//! to PostgreSQL, recorded in `mayfly_schema_migrations` (one row per applied version):
//! migration `i` moves the schema from version `i` to `i + 1`.
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
use mayfly_store::schema::{self, Dialect};

use crate::db::{self, TxError, TxResult};

/// Advisory lock id held while migrating ("mayfly-migrate" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x6d61_7966_6c79_6d67;

/// The schema version this binary writes.
pub fn latest_version() -> u32 {
    u32::try_from(schema::MIGRATIONS.len()).unwrap_or(u32::MAX)
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
    for (index, sql) in Dialect::Postgres
        .migrations()
        .iter()
        .enumerate()
        .skip(current as usize)
    {
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
