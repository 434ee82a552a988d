#![no_main]
//! Arbitrary text as a session token: never panics, never verifies.
libfuzzer_sys::fuzz_target!(|data: &[u8]| mayfly_core::fuzzing::parse_token(data));
