#![no_main]
//! aws-chunked framing: the chunk guard never changes bytes and its verdict ignores HTTP splits.
libfuzzer_sys::fuzz_target!(|data: &[u8]| mayfly_s3::fuzzing::aws_chunked(data));
