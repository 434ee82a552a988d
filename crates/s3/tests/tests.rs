#![allow(clippy::wildcard_enum_match_arm, clippy::format_in_format_args)]

//! Integration tests: the router in process, store-local in a tempdir, requests signed by a
//! small SigV4 signer written from the AWS spec (independent of s3s's verifier).

mod s3;
