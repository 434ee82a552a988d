#![no_main]
//! XML request documents (DeleteObjects, Complete, CORS, lifecycle): s3s never panics on them.
libfuzzer_sys::fuzz_target!(|data: &[u8]| mayfly_s3::fuzzing::xml_bodies(data));
