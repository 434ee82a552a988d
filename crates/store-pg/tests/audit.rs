//! The `mayfly-store` audit conformance checks on PostgreSQL, each on a fresh database.

use std::sync::Arc;

use mayfly_store::AuditStore;
use mayfly_store_pg::PgMetadata;

use crate::harness::TestDb;

async fn fresh() -> (Arc<dyn AuditStore>, TestDb) {
    let db = TestDb::create().await;
    let meta = PgMetadata::connect(&db.url, 4)
        .await
        .expect("connect + migrate");
    (Arc::new(meta), db)
}

mayfly_store::audit_conformance_tests!(fresh());
