//! End-to-end tests against a real `mayfly serve`: one binary, a module per client.

#![allow(clippy::unwrap_used)]

mod aws_sdk_rust;
mod crash;
mod gc;
mod streaming;
mod support;
