//! Applies the schema's migrations (written once for both backends in [`mayfly_store::schema`])
//! to SQLite, versioned with `PRAGMA user_version`: migration `i` moves the database from
//! version `i` to `i + 1` in one transaction.
//!
//! Object and upload keys are BLOBs, so SQLite compares them with `memcmp`: byte order, which
//! is the S3 listing order, and byte-exact storage whatever the key contains.

use rusqlite::{Connection, TransactionBehavior};

use mayfly_store::StoreError;
use mayfly_store::schema::Dialect;

/// Brings the database up to the latest version. Refuses a database newer than this binary.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(StoreError::backend)?;
    let migrations = Dialect::Sqlite.migrations();
    let latest = i64::try_from(migrations.len()).map_err(StoreError::backend)?;
    if current > latest {
        return Err(StoreError::Backend(format!(
            "database schema version {current} is newer than this binary's {latest}"
        )));
    }
    for (version, sql) in migrations
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
