//! Mayfly's embedded default store: [`LocalMetadata`] (SQLite: WAL, `synchronous=FULL`, one
//! writer plus pooled readers, schema versioned by `PRAGMA user_version`) and [`LocalBlobs`]
//! (files named by random ids under `<data-dir>/blobs/`; blobs of at most 64 KiB are rows of
//! the metadata database, committed in groups). [`LocalStore::open`] lays out a data
//! directory and locks it against a second process.
//!
//! This crate is for the binary only: servers see `Arc<dyn MetadataStore>` and
//! `Arc<dyn BlobStore>`. It runs the whole `mayfly-store` conformance suite in its tests.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = mayfly_store_local::LocalStore::open(dir.path())?;
//! let (_meta, _blobs) = (store.metadata(), store.blobs());
//! assert!(dir.path().join("blobs").join("tmp").is_dir());
//! # Ok(()) }
//! ```
//!
//! Data directory layout: `meta.sqlite3` (+ `-wal`, `-shm`), `blobs/<xx>/<blob id>`,
//! `blobs/tmp/` (in-flight writes, swept at open), `lock`.

#![warn(missing_docs)]

mod accounts;
mod audit;
mod blobs;
mod buckets;
mod codec;
mod db;
mod inline;
mod metadata;
mod multipart;
mod objects;
mod revocations;
mod schema;

use std::fs::{self, File, TryLockError};
use std::path::Path;
use std::sync::Arc;

pub use blobs::LocalBlobs;
use mayfly_store::{AuditStore, BlobStore, MetadataStore, StoreError};
pub use metadata::LocalMetadata;

/// An opened data directory: metadata and blobs, plus the lock that keeps other processes out.
#[derive(Clone, Debug)]
pub struct LocalStore {
    metadata: Arc<LocalMetadata>,
    blobs: Arc<LocalBlobs>,
    // Held for the store's lifetime; the OS releases it when the last clone is dropped.
    _lock: Arc<File>,
}

impl LocalStore {
    /// Opens `data_dir`, creating its layout, migrating the schema and sweeping interrupted
    /// blob writes. Blocking: call at startup. `Conflict` if another process has it open.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = data_dir.as_ref();
        fs::create_dir_all(dir)?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Conflict(
                    "data directory is in use by another store",
                ));
            }
            Err(TryLockError::Error(err)) => return Err(err.into()),
        }
        let metadata = LocalMetadata::open(&dir.join("meta.sqlite3"))?.keeping_bodies();
        let blobs = LocalBlobs::open_with_inline(&dir.join("blobs"), metadata.db().clone())?;
        Ok(Self {
            metadata: Arc::new(metadata),
            blobs: Arc::new(blobs),
            _lock: Arc::new(lock),
        })
    }

    /// The metadata store, as servers hold it.
    pub fn metadata(&self) -> Arc<dyn MetadataStore> {
        Arc::clone(&self.metadata) as Arc<dyn MetadataStore>
    }

    /// The audit trail (same database as the metadata).
    pub fn audit(&self) -> Arc<dyn AuditStore> {
        Arc::clone(&self.metadata) as Arc<dyn AuditStore>
    }

    /// The blob store, as servers hold it.
    pub fn blobs(&self) -> Arc<dyn BlobStore> {
        Arc::clone(&self.blobs) as Arc<dyn BlobStore>
    }

    /// The concrete blob store (temp-sweep count, temp dir).
    pub fn local_blobs(&self) -> &LocalBlobs {
        &self.blobs
    }
}
