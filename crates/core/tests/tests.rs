//! Integration tests of mayfly-core: one binary, one module per topic.

#![allow(
    clippy::unwrap_used,
    clippy::wildcard_enum_match_arm,
    clippy::collapsible_if
)]

mod explain;
mod manage;
mod matrix;
mod props;
mod vector;
mod verify;
