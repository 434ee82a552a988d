#![no_main]
//! A freshly minted token with one bit flipped never verifies.
libfuzzer_sys::fuzz_target!(|data: &[u8]| mayfly_core::fuzzing::mutate_minted(data));
