//! Integration tests for mayfly-store-pg against a real PostgreSQL and a real upstream S3
//! (see `harness`): the whole conformance suite, then PostgreSQL- and S3-specific properties.

mod audit;
mod conformance;
mod harness;
mod pg;
mod s3;
mod tls;
