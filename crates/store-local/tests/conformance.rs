//! The whole `mayfly-store` conformance suite, each check on a fresh data directory.

use mayfly_store::testkit::Subject;
use mayfly_store_local::LocalStore;

async fn fresh() -> (Subject, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path()).expect("open store");
    (
        Subject {
            meta: store.metadata(),
            blobs: store.blobs(),
        },
        dir,
    )
}

mayfly_store::conformance_tests!(fresh());
