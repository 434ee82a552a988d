//! mayfly-api integration tests: the router driven with `oneshot` against a real
//! `mayfly-store-local` in a temporary directory. One binary, one module per topic.

#![allow(clippy::unwrap_used, unreachable_pub)]

mod support;

mod auth;
mod buckets;
mod credentials;
mod matrix;
// Revoking one temporary credential (issue 15).
mod revocations;
mod robustness;
mod routes;
mod schema;
mod testing;
mod tokens;
mod wire;
