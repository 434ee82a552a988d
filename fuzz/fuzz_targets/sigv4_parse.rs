#![no_main]
//! SigV4 Authorization value + query string: the guard and the gate agree on `prefix`, never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| mayfly_s3::fuzzing::sigv4_parts(data));
