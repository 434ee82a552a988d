//! The log-capture test in a process of its own. A thread-local tracing subscriber only sees
//! every event when no other test in the process is registering the same callsites at the same
//! time under another dispatcher (tracing caches callsite interest globally): in the shared
//! test binary the capture missed events under load and the test flaked.

#![allow(clippy::unwrap_used, unreachable_pub, dead_code)]

mod logs;
mod support;
