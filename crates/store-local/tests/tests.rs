//! Integration tests for mayfly-store-local: the shared conformance suite, then properties only
//! a local store has (layout, locking, migrations, crash leftovers). Real SQLite, real files.

mod audit;
mod conformance;
mod local;
