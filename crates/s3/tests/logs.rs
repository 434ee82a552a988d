//! The log-capture test in a process of its own. A thread-local tracing subscriber only sees
//! every event when no other test in the process is registering the same callsites at the same
//! time under another dispatcher (tracing caches callsite interest globally), so sharing the
//! main test binary would make it flaky under load.

#![allow(
    dead_code,
    clippy::wildcard_enum_match_arm,
    clippy::format_in_format_args
)]

#[path = "s3/common.rs"]
mod common;
#[path = "s3/logs.rs"]
mod logs;
