//! Command-line definitions (clap derive). Parsing only: no I/O and no defaults that depend on
//! the environment beyond what clap reads; [`crate::config`] merges these with the config
//! file, and [`crate::run`] dispatches.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Cloudflare R2 temporary access credentials, plus an S3-compatible object store that enforces them.";

const LONG_ABOUT: &str = "\
Mayfly serves two things on two listeners:

  * the Cloudflare v4 management API (base URL ending in /client/v4): buckets, R2 API tokens and
    POST /accounts/{account_id}/r2/temp-access-credentials, compatible with the official
    `cloudflare` SDKs;
  * an S3 endpoint that accepts R2 API tokens (access key id = token id, secret = sha256 of the
    token value) and the temporary credentials minted from them, enforcing their bucket,
    prefix/object and permission scope on every request.

The `token`, `bucket` and `creds` subcommands are API clients: they work against Mayfly or
against Cloudflare itself (set CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID).";

const AFTER_HELP: &str = "\
Examples:
  # Run a server on the defaults (API 127.0.0.1:8787, S3 127.0.0.1:8788, data in ./mayfly-data).
  # The first start prints the admin credentials once: save them.
  mayfly serve

  # Point the client subcommands (and the official SDKs) at it:
  export CLOUDFLARE_BASE_URL=http://127.0.0.1:8787/client/v4
  export CLOUDFLARE_API_TOKEN=<api_token printed by the first start>
  export CLOUDFLARE_ACCOUNT_ID=<account_id printed by the first start>
  mayfly bucket create photos
  mayfly token create --permission object-read-only --bucket photos --name reader --json
  mayfly creds create --bucket photos --parent-access-key-id <token id> \\
      --permission object-read-only --prefix thumbs/ --ttl 3600

Exit codes: 0 success, 1 failure (the message says why), 2 bad command line.";

/// The `mayfly` command line.
#[derive(Debug, Parser)]
#[command(name = "mayfly", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the first account and its admin token in a new data directory.
    #[command(
        long_about = "Create the first account and an admin-read-write API token in a new data \
directory, and print them. The token value is shown only here: Mayfly stores its SHA-256, never \
the value. Fails, changing nothing, if the directory is already initialised.",
        after_help = "Examples:\n  mayfly init --data-dir ./mayfly-data\n  mayfly init --data-dir /var/lib/mayfly --json > bootstrap.json"
    )]
    Init(InitArgs),
    /// Run the API and S3 servers.
    #[command(
        long_about = "Run the Cloudflare v4 API and the S3 endpoint. On an empty data directory the \
server initialises itself first and prints the bootstrap credentials once; later starts never \
print them again. Settings come from flags, then MAYFLY_* environment variables, then the TOML \
file given by --config, then defaults. SIGTERM or SIGINT drains in-flight requests and exits 0.",
        after_help = "Examples:\n  mayfly serve\n  mayfly serve --api-listen 0.0.0.0:8787 --s3-listen 0.0.0.0:8788 --public-s3-host s3.example.com\n  mayfly serve --api-listen 127.0.0.1:0 --s3-listen 127.0.0.1:0 --ready-file /tmp/mayfly.ready\n\nConfig file (TOML), every key optional:\n  data_dir = \"/var/lib/mayfly\"\n  api_listen = \"127.0.0.1:8787\"\n  s3_listen = \"127.0.0.1:8788\"\n  public_s3_hosts = [\"s3.example.com\"]\n  log_format = \"json\"\n  ready_file = \"/run/mayfly.ready\""
    )]
    Serve(ServeArgs),
    /// Manage R2 API tokens (Mayfly or Cloudflare).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage R2 buckets (Mayfly or Cloudflare).
    #[command(subcommand)]
    Bucket(BucketCommand),
    /// Mint temporary access credentials (Mayfly or Cloudflare).
    #[command(subcommand)]
    Creds(CredsCommand),
}

/// `mayfly init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Data directory (created if missing).
    #[arg(long, env = "MAYFLY_DATA_DIR", default_value = crate::config::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `mayfly serve`. Every setting is optional here: [`crate::config::ServeConfig::resolve`]
/// fills the gaps from the config file and defaults.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Data directory [default: ./mayfly-data].
    #[arg(long, env = "MAYFLY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// API listen address; port 0 picks a free port [default: 127.0.0.1:8787].
    #[arg(long, env = "MAYFLY_API_LISTEN")]
    pub api_listen: Option<SocketAddr>,
    /// S3 listen address; port 0 picks a free port [default: 127.0.0.1:8788].
    #[arg(long, env = "MAYFLY_S3_LISTEN")]
    pub s3_listen: Option<SocketAddr>,
    /// Public host (`host` or `host:port`) clients use for S3; minted credentials name it as
    /// their audience. Repeatable; the environment variable takes a comma-separated list.
    #[arg(
        long = "public-s3-host",
        env = "MAYFLY_PUBLIC_S3_HOST",
        value_delimiter = ','
    )]
    pub public_s3_hosts: Vec<String>,
    /// Write `{"api_url","s3_url","pid"}` here (atomically) once both listeners accept.
    #[arg(long, env = "MAYFLY_READY_FILE")]
    pub ready_file: Option<PathBuf>,
    /// TOML config file.
    #[arg(long, env = "MAYFLY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format [default: text].
    #[arg(long, env = "MAYFLY_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Metadata in PostgreSQL (shared by every node): a postgres:// URL. Needs --blobs.
    /// Prefer the environment variable when the URL holds a password [default: SQLite in the
    /// data directory].
    #[arg(long, env = "MAYFLY_METADATA", hide_env_values = true, value_parser = parse_pg_url)]
    pub metadata: Option<mayfly_store_pg::PgUrl>,
    /// Object bytes in an upstream S3 bucket:
    /// s3://bucket/prefix?endpoint=URL&region=R, credentials from MAYFLY_BLOBS_ACCESS_KEY_ID /
    /// MAYFLY_BLOBS_SECRET_ACCESS_KEY (or AWS_*). Needs --metadata [default: files in the data
    /// directory].
    #[arg(long, env = "MAYFLY_BLOBS", value_parser = parse_blobs_url)]
    pub blobs: Option<mayfly_store_pg::S3BlobsConfig>,
}

fn parse_pg_url(s: &str) -> Result<mayfly_store_pg::PgUrl, String> {
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(mayfly_store_pg::PgUrl::new(s))
    } else {
        // The value may hold a password: never echo it.
        Err("expected a postgres:// or postgresql:// URL".to_owned())
    }
}

fn parse_blobs_url(s: &str) -> Result<mayfly_store_pg::S3BlobsConfig, String> {
    mayfly_store_pg::S3BlobsConfig::parse(s).map_err(|e| e.to_string())
}

/// Where the API client subcommands connect. Also read by the official SDKs.
#[derive(Debug, Args, Clone)]
pub struct ApiTarget {
    /// API base URL ending in /client/v4 [default: Cloudflare's].
    #[arg(long, env = "CLOUDFLARE_BASE_URL")]
    pub api_url: Option<String>,
    /// API token (prefer the environment variable: flags show up in `ps`).
    #[arg(long, env = "CLOUDFLARE_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// Account id (32 hex characters).
    #[arg(long, env = "CLOUDFLARE_ACCOUNT_ID")]
    pub account_id: Option<String>,
}

/// `mayfly token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an R2 API token; its value and S3 key pair are printed once.
    #[command(
        after_help = "Examples:\n  mayfly token create --permission admin-read-write --name ops --json\n  mayfly token create --permission object-read-write --bucket photos --bucket logs"
    )]
    Create {
        /// Connection settings.
        #[command(flatten)]
        target: ApiTarget,
        /// admin-read-write, admin-read-only, object-read-write or object-read-only.
        #[arg(long)]
        permission: String,
        /// Limit an object-level token to this bucket (repeatable; default: every bucket).
        #[arg(long = "bucket")]
        buckets: Vec<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Print JSON: id, value, access_key_id, secret_access_key.
        #[arg(long)]
        json: bool,
    },
    /// List the account's R2 API tokens (never their values).
    List {
        /// Connection settings.
        #[command(flatten)]
        target: ApiTarget,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it and every credential minted from it stop working at once.
    Revoke {
        /// Connection settings.
        #[command(flatten)]
        target: ApiTarget,
        /// The token id (= its S3 access key id).
        id: String,
    },
}

/// `mayfly bucket ...`.
#[derive(Debug, Subcommand)]
pub enum BucketCommand {
    /// Create a bucket.
    #[command(after_help = "Example:\n  mayfly bucket create photos")]
    Create {
        /// Connection settings.
        #[command(flatten)]
        target: ApiTarget,
        /// 3 to 63 characters of a-z, 0-9 and '-'.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List buckets.
    List {
        /// Connection settings.
        #[command(flatten)]
        target: ApiTarget,
        /// Only names containing this text.
        #[arg(long)]
        name_contains: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete an empty bucket.
    Delete {
        /// Connection settings.
        #[command(flatten)]
        target: ApiTarget,
        /// The bucket's name.
        name: String,
    },
}

/// `mayfly creds ...`.
#[derive(Debug, Subcommand)]
pub enum CredsCommand {
    /// Mint temporary S3 credentials on one bucket from a parent token.
    #[command(
        after_help = "Example:\n  mayfly creds create --bucket photos --parent-access-key-id 0123...cdef \\\n      --permission object-read-only --prefix thumbs/ --ttl 3600\n\nPrints shell exports for AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN\n(or JSON with --json). Anyone holding the session token can derive the secret."
    )]
    Create {
        /// Connection settings.
        #[command(flatten)]
        target: ApiTarget,
        /// The bucket the credentials are bound to.
        #[arg(long)]
        bucket: String,
        /// Access key id (= token id) of the parent token.
        #[arg(long)]
        parent_access_key_id: String,
        /// Permission; at most the parent's.
        #[arg(long)]
        permission: String,
        /// Lifetime in seconds (1..=604800).
        #[arg(long, default_value_t = 900)]
        ttl: u64,
        /// Allow keys starting with this prefix (repeatable).
        #[arg(long = "prefix")]
        prefixes: Vec<String>,
        /// Allow exactly this key (repeatable).
        #[arg(long = "object")]
        objects: Vec<String>,
        /// Print JSON instead of shell exports.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
