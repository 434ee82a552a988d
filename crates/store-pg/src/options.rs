//! How a [`crate::PgMetadata`] connects: pool size, connect timeout and TLS. Its own module so
//! the connection code (`db`) and the store (`metadata`) both use it without importing each
//! other.

use std::path::PathBuf;
use std::time::Duration;

use crate::tls::PgSslMode;

/// Connections a store keeps open at most, unless told otherwise.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How [`crate::PgMetadata`] connects: pool size, connect timeout and TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgOptions {
    /// Connections kept open at most (at least 1).
    pub pool_size: usize,
    /// How long opening a connection may take; `None`: the URL's `connect_timeout`, else 10 s.
    pub connect_timeout: Option<Duration>,
    /// TLS mode; `None`: the URL's `sslmode` (`prefer` when absent), certificate unchecked.
    pub ssl_mode: Option<PgSslMode>,
    /// PEM CA certificates for `verify-full`; `None`: the system's trust store.
    pub ssl_root_cert: Option<PathBuf>,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout: None,
            ssl_mode: None,
            ssl_root_cert: None,
        }
    }
}
