//! The SQLite connection set: one writer connection behind a mutex (writes serialise in-process,
//! so `busy_timeout` only matters against another process) and a small pool of reader
//! connections (WAL lets them read a consistent snapshot while the writer commits). Every call
//! runs on `tokio::task::spawn_blocking` inside one transaction.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mayfly_store::StoreError;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::schema;

/// Readers kept open for reuse; more may be opened under load and are dropped after use.
/// Opening one parses the schema again, so this covers the usual request concurrency.
const MAX_IDLE_READERS: usize = 16;

/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Maps any displayable error to [`StoreError::Backend`] (detail for logs only).
pub(crate) fn backend(err: impl std::fmt::Display) -> StoreError {
    StoreError::backend(err)
}

/// Shared handle to the database.
#[derive(Clone)]
pub(crate) struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: std::path::PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(backend)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(backend)?;
    // FULL: a commit that returned is on disk, so garbage handed to the caller can be deleted
    // without risking a record that points at deleted bytes after a power loss.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(backend)?;
    Ok(conn)
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `path`. Blocking.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let mut writer = open_connection(path)?;
        schema::migrate(&mut writer)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Runs `f` in one read transaction on a reader connection.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let mut conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&inner.path)?,
            };
            let result = (|| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Deferred)
                    .map_err(backend)?;
                let value = f(&tx)?;
                tx.commit().map_err(backend)?;
                Ok(value)
            })();
            let mut idle = inner.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            result
        })
        .await
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`) on the writer connection; commits
    /// if it returns `Ok`, rolls back otherwise.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            // A panic inside a transaction rolled it back (Transaction's Drop), so the
            // connection is still sound: recover from poisoning instead of failing forever.
            let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let value = f(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(value)
        })
        .await
    }
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|err| StoreError::Backend(format!("blocking task failed: {err}")))?
}
