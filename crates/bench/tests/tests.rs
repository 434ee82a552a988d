//! Integration tests of `mayfly-bench`: one test binary, one module per topic.

#![allow(clippy::unwrap_used)]

mod smoke;
