//! The connection pool and the transaction discipline every [`crate::PgMetadata`] call follows:
//! one pooled connection, one `READ COMMITTED` transaction, row locks and transaction-scoped
//! advisory locks for the rows a write depends on, and a bounded retry when PostgreSQL aborts
//! the transaction for a deadlock or a serialization failure. No SQL about records lives here.

use std::fmt;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use mayfly_store::StoreError;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;

use crate::options::PgOptions;
use crate::tls::{PgSslMode, connector};

/// How long opening (or checking) a connection may take, unless the options or the URL say.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a call waits for a free pooled connection.
const POOL_WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a transaction PostgreSQL aborted as a deadlock victim or serialization failure is
/// tried again before the error reaches the caller.
pub(crate) const MAX_ATTEMPTS: u32 = 8;

/// An error inside a transaction: either a decided store outcome, or a PostgreSQL error that
/// may be retryable. Kept apart so the retry loop can see the SQLSTATE.
#[derive(Debug)]
pub(crate) enum TxError {
    /// A store outcome (not found, precondition failed, ...): returned as is.
    Store(StoreError),
    /// A database error.
    Pg(tokio_postgres::Error),
}

impl From<StoreError> for TxError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<tokio_postgres::Error> for TxError {
    fn from(err: tokio_postgres::Error) -> Self {
        Self::Pg(err)
    }
}

/// Result inside a transaction.
pub(crate) type TxResult<T> = Result<T, TxError>;

impl TxError {
    /// True when running the whole transaction again may succeed.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Self::Store(_) => false,
            Self::Pg(err) => matches!(
                err.code(),
                Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED
            ),
        }
    }

    /// The error as callers see it.
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            Self::Store(err) => err,
            Self::Pg(err) => pg_error(err),
        }
    }
}

/// Maps a PostgreSQL error to [`StoreError::Backend`]; the detail (SQLSTATE and message) goes
/// to logs only. Connection errors never carry the password.
pub(crate) fn pg_error(err: tokio_postgres::Error) -> StoreError {
    match err.as_db_error() {
        Some(db) => StoreError::Backend(format!("postgres {}: {}", db.code().code(), db.message())),
        None => StoreError::backend(format_args!("postgres: {err}")),
    }
}

/// Maps a pool error (connect failure, timeout) to [`StoreError::Backend`], with the chain of
/// causes (e.g. why a TLS handshake failed). Connection errors never carry the password.
pub(crate) fn pool_error(err: deadpool_postgres::PoolError) -> StoreError {
    let mut text = format!("postgres pool: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    StoreError::Backend(text)
}

/// Runs `$body` (an expression using the transaction `$tx` and `?` on [`TxResult`]) in one
/// transaction of [`Mode`] `$mode` on a pooled connection: commit on `Ok`, roll back on `Err`, and run everything
/// again when PostgreSQL chose this transaction as a deadlock victim or serialization failure.
/// A macro rather than a closure-taking function so the body can borrow freely.
macro_rules! in_tx {
    ($pool:expr, $mode:ident, |$tx:ident| $body:expr) => {{
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut client = $pool.get().await.map_err($crate::db::pool_error)?;
            let outcome: $crate::db::TxResult<_> = async {
                let $tx = $crate::db::begin(&mut client, $crate::db::Mode::$mode).await?;
                let value = { $body };
                $tx.commit().await?;
                Ok(value)
            }
            .await;
            match outcome {
                Ok(value) => break Ok(value),
                Err(err) if err.is_retryable() && attempt < $crate::db::MAX_ATTEMPTS => continue,
                Err(err) => break Err(err.into_store()),
            }
        }
    }};
}
pub(crate) use in_tx;

/// What a transaction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Reads only: `REPEATABLE READ, READ ONLY`, so a record and its parts (read by separate
    /// statements) come from one snapshot. Never a serialization failure.
    Read,
    /// Writes: `READ COMMITTED`, each statement seeing what committed before it, plus the
    /// explicit locks each write takes.
    Write,
}

/// Starts a transaction in `mode`.
pub(crate) async fn begin(
    client: &mut deadpool_postgres::Client,
    mode: Mode,
) -> Result<deadpool_postgres::Transaction<'_>, tokio_postgres::Error> {
    let builder = client.build_transaction();
    match mode {
        Mode::Read => {
            builder
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
        }
        Mode::Write => builder.start().await,
    }
}

/// Applies the connect timeout and TLS mode of `options` to `config` (the URL's own settings
/// where the options say nothing) and returns the TLS connector to connect with: every
/// connection Mayfly opens, pooled or the invalidation listener's, is set up alike.
pub(crate) fn apply_options(
    config: &mut tokio_postgres::Config,
    options: &PgOptions,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    let connect_timeout = match (options.connect_timeout, config.get_connect_timeout()) {
        (Some(t), _) => t,
        (None, Some(t)) => *t,
        (None, None) => CONNECT_TIMEOUT,
    };
    config.connect_timeout(connect_timeout);
    match options.ssl_mode {
        None => {}
        Some(PgSslMode::Disable) => {
            config.ssl_mode(SslMode::Disable);
        }
        Some(PgSslMode::Require | PgSslMode::VerifyFull) => {
            config.ssl_mode(SslMode::Require);
        }
    }
    connector(options.ssl_mode, options.ssl_root_cert.as_deref())
}

/// Builds the pool for `config`. Connections are opened lazily, `options.pool_size` at most.
/// A server that stops answering fails calls after the timeouts below instead of hanging them.
pub(crate) fn pool(
    mut config: tokio_postgres::Config,
    options: &PgOptions,
) -> Result<Pool, StoreError> {
    let tls = apply_options(&mut config, options)?;
    let connect_timeout = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(CONNECT_TIMEOUT);
    let manager = Manager::from_config(
        config,
        tls,
        ManagerConfig {
            // Fast: a connection whose socket closed is detected by the next query anyway,
            // which then fails that call once; the test query would cost a round trip per call.
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(options.pool_size.max(1))
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(connect_timeout))
        .wait_timeout(Some(POOL_WAIT_TIMEOUT))
        .recycle_timeout(Some(connect_timeout))
        .build()
        .map_err(|err| StoreError::backend(format_args!("postgres pool: {err}")))
}

/// 64-bit FNV-1a: a hash that is the same on every node and every build (advisory lock ids
/// must agree across a cluster, so `std`'s randomised hashers are unusable here).
pub(crate) fn fnv1a64(parts: &[&[u8]]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(&[0xff]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Takes a transaction-scoped advisory lock on `id` (released at commit or rollback).
pub(crate) async fn advisory_lock(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
) -> TxResult<()> {
    let st = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1)")
        .await?;
    tx.execute(&st, &[&id]).await?;
    Ok(())
}

/// A PostgreSQL URL whose password never reaches `Debug` or logs.
#[derive(Clone)]
pub struct PgUrl {
    url: String,
}

impl PgUrl {
    /// Wraps a `postgres://` / `postgresql://` URL (or a libpq key=value string).
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }

    /// The URL with any password replaced by `***`, for logs.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }

    /// Parses the URL for the driver. The error names no part of the URL.
    pub(crate) fn config(&self) -> Result<tokio_postgres::Config, StoreError> {
        // Reading the URL (and its password) is needed here and only here.
        self.url
            .parse()
            .map_err(|_| StoreError::Backend("invalid PostgreSQL URL".to_owned()))
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PgUrl").field(&self.redacted()).finish()
    }
}

/// Replaces the password in `postgres://user:password@host/...` and in `password=...`
/// key/value pairs (URL query or libpq style) with `***`.
fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    let lower = out.to_ascii_lowercase();
    let mut result = String::with_capacity(out.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("password=") {
        let value_start = i + found + "password=".len();
        result.push_str(&out[i..value_start]);
        result.push_str("***");
        let value_end = out[value_start..]
            .find(['&', ' '])
            .map_or(out.len(), |e| value_start + e);
        i = value_end;
    }
    result.push_str(&out[i..]);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        for (url, want) in [
            (
                "postgres://mayfly:s3cr3t@db.internal:5432/mayfly",
                "postgres://mayfly:***@db.internal:5432/mayfly",
            ),
            (
                "postgresql://u:p%40ss@h/db?sslmode=require&password=again",
                "postgresql://u:***@h/db?sslmode=require&password=***",
            ),
            (
                "host=h user=u password=hunter2 dbname=d",
                "host=h user=u password=*** dbname=d",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
        ] {
            let pg = PgUrl::new(url);
            assert_eq!(pg.redacted(), want);
            let debug = format!("{pg:?}");
            for secret in ["s3cr3t", "p%40ss", "again", "hunter2"] {
                assert!(!debug.contains(secret), "{debug}");
            }
        }
    }

    #[test]
    fn lock_ids_are_stable() {
        // Fixed values: every node of a cluster must compute the same id for the same row.
        assert_eq!(
            fnv1a64(&[]),
            i64::from_ne_bytes(0xcbf2_9ce4_8422_2325u64.to_ne_bytes())
        );
        assert_ne!(fnv1a64(&[b"ab", b"c"]), fnv1a64(&[b"a", b"bc"]));
    }
}
