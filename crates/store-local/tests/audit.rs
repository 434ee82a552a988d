//! The `mayfly-store` audit conformance checks on SQLite, each on a fresh data directory.

use std::sync::Arc;

use mayfly_store::AuditStore;
use mayfly_store_local::LocalStore;

async fn fresh() -> (Arc<dyn AuditStore>, (LocalStore, tempfile::TempDir)) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open store");
    (store.audit(), (store, dir))
}

mayfly_store::audit_conformance_tests!(fresh());
