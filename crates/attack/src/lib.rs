//! # mayfly-attack
//!
//! The adversarial suite's tools: a SigV4/SigV2 signer written from the AWS documents with knobs
//! to break every part ([`sign`]), a raw HTTP client ([`http`]), hand-built session tokens
//! ([`token`]), a real `mayfly serve` with trace logging ([`server`]), the shared fixtures and
//! case runner ([`world`]) and the class × auth-path tally ([`tally`]). The cases themselves are
//! in `tests/`, one module per attack class.
//!
//! It is not a client library: nothing else may depend on it, and it only talks to a server it
//! started itself.
//!
//! ```no_run
//! use mayfly_attack::{sign::AuthPath, tally::{Class, Expect}, world::{World, obj, MAIN}};
//! let mut w = World::start();
//! let admin = w.admin.clone();
//! w.case(Class::Prefix, "admin reads", &admin,
//!        mayfly_attack::sign::Request::new("GET", obj(MAIN, "missing")),
//!        Expect::err(404, "NoSuchKey"));
//! print!("{}", w.tally.report());
//! ```

pub mod http;
pub mod server;
pub mod sign;
pub mod tally;
pub mod token;
pub mod world;
