//! The whole `mayfly-store` conformance suite on PostgreSQL metadata + upstream S3 blobs, the
//! pairing a scale-out deployment runs; each check on a fresh database and a fresh prefix.

use crate::harness::fresh;

mayfly_store::conformance_tests!(fresh());
