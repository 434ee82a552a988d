#![no_main]
//! A request head through the guard's credential checks: what it accepts, s3s signs over.
libfuzzer_sys::fuzz_target!(|data: &[u8]| mayfly_s3::fuzzing::sigv4_request(data));
