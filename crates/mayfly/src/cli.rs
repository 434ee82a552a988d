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

/// Data directory used when nothing else names one.
pub const DEFAULT_DATA_DIR: &str = "./mayfly-data";

/// The `mayfly` command line.
#[derive(Debug, Parser)]
#[command(name = "mayfly", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level subcommands.
// Parsed once per process: the size of the `serve` variant does not matter.
#[allow(clippy::large_enum_variant)]
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
        after_help = "Examples:\n  mayfly serve\n  mayfly serve --api-listen 0.0.0.0:8787 --s3-listen 0.0.0.0:8788 --public-s3-host s3.example.com\n  mayfly serve --api-listen 127.0.0.1:0 --s3-listen 127.0.0.1:0 --ready-file /tmp/mayfly.ready\n\n  # Scale-out: every node shares one PostgreSQL and one upstream bucket.\n  export MAYFLY_METADATA='postgres://mayfly:PASSWORD@db.internal/mayfly'\n  export MAYFLY_BLOBS_ACCESS_KEY_ID=... MAYFLY_BLOBS_SECRET_ACCESS_KEY=...\n  mayfly serve --blobs 's3://mayfly-blobs/prod?region=auto' \\\n      --blobs-endpoint https://ACCOUNT.r2.cloudflarestorage.com \\\n      --pg-sslmode verify-full --pg-ssl-root-cert /etc/mayfly/pg-ca.pem --pg-pool-size 32\n\nConfig file (TOML), every key optional; flags beat MAYFLY_* variables, which beat the file:\n  data_dir = \"/var/lib/mayfly\"\n  api_listen = \"127.0.0.1:8787\"\n  s3_listen = \"127.0.0.1:8788\"\n  public_s3_hosts = [\"s3.example.com\"]\n  log_format = \"json\"\n  ready_file = \"/run/mayfly.ready\"\n  metadata = \"postgres://mayfly@db.internal/mayfly\"\n  blobs = \"s3://mayfly-blobs/prod\"\n  blobs_endpoint = \"https://ACCOUNT.r2.cloudflarestorage.com\"\n  blobs_region = \"auto\"\n  blobs_access_key_id = \"...\"\n  blobs_secret_access_key = \"...\"\n  pg_pool_size = 16\n  pg_connect_timeout = 10\n  pg_sslmode = \"verify-full\"\n  pg_ssl_root_cert = \"/etc/mayfly/pg-ca.pem\"\n  gc_interval = 3600\n  gc_grace = 86400\n  header_read_timeout = 20\n  body_read_timeout = 60\n  lifecycle_interval = 3600\n  token_cache_ttl_ms = 1000\n  audit = \"on\"\n  audit_retention = 30\n\nSee docs/DEPLOY.md for load balancing, systemd, containers and backups."
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
    /// Show an account's audit trail (Mayfly extension).
    #[command(long_about = AUDIT_LONG_ABOUT, after_help = AUDIT_EXAMPLES)]
    Audit(AuditArgs),
}

/// `mayfly init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Data directory (created if missing).
    #[arg(long, env = "MAYFLY_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
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

/// An on/off setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
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
    /// Object bytes in an upstream S3 bucket: s3://bucket/prefix?endpoint=URL&region=R.
    /// Needs --metadata [default: files in the data directory].
    #[arg(long, env = "MAYFLY_BLOBS", value_parser = parse_blobs_url)]
    pub blobs: Option<mayfly_store_pg::S3BlobsConfig>,
    /// Upstream S3 endpoint URL, overriding the one in --blobs (e.g.
    /// https://<account>.r2.cloudflarestorage.com) [default: AWS].
    #[arg(long, env = "MAYFLY_BLOBS_ENDPOINT")]
    pub blobs_endpoint: Option<String>,
    /// Upstream signing region, overriding the one in --blobs (`auto` for R2)
    /// [default: us-east-1].
    #[arg(long, env = "MAYFLY_BLOBS_REGION")]
    pub blobs_region: Option<String>,
    /// Upstream access key id [default: AWS_ACCESS_KEY_ID].
    #[arg(long, env = "MAYFLY_BLOBS_ACCESS_KEY_ID")]
    pub blobs_access_key_id: Option<String>,
    /// Upstream secret access key. Prefer the environment variable: flags show up in `ps`
    /// [default: AWS_SECRET_ACCESS_KEY].
    #[arg(long, env = "MAYFLY_BLOBS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub blobs_secret_access_key: Option<String>,
    /// Most PostgreSQL connections this node keeps open [default: 16].
    #[arg(long, env = "MAYFLY_PG_POOL_SIZE", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub pg_pool_size: Option<u32>,
    /// Seconds a new PostgreSQL connection may take before the call fails
    /// [default: the URL's connect_timeout, else 10].
    #[arg(long, env = "MAYFLY_PG_CONNECT_TIMEOUT", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub pg_connect_timeout: Option<u64>,
    /// TLS to PostgreSQL: disable, require (encrypted, certificate unchecked) or verify-full
    /// (certificate must chain to --pg-ssl-root-cert, or the system CAs, and name the host)
    /// [default: the URL's sslmode, else prefer].
    #[arg(long, env = "MAYFLY_PG_SSLMODE")]
    pub pg_sslmode: Option<mayfly_store_pg::PgSslMode>,
    /// PEM file of CA certificates for --pg-sslmode verify-full [default: the system's].
    #[arg(long, env = "MAYFLY_PG_SSL_ROOT_CERT")]
    pub pg_ssl_root_cert: Option<PathBuf>,
    /// Seconds between orphan-blob collections (bytes whose metadata commit never happened,
    /// e.g. after a crash mid-upload); the first pass runs at startup. 0 turns collection off
    /// [default: 3600].
    #[arg(long, env = "MAYFLY_GC_INTERVAL", value_name = "SECONDS")]
    pub gc_interval: Option<u64>,
    /// Orphan blobs younger than this many seconds are left alone, so an upload still on its
    /// way to its metadata commit is never collected [default: 86400].
    #[arg(long, env = "MAYFLY_GC_GRACE", value_name = "SECONDS")]
    pub gc_grace: Option<u64>,
    // ----- slow-client timeouts (issue 12) -----
    /// Seconds a client may take to send a request's headers (also how long an idle
    /// keep-alive connection stays open), on both listeners; then the connection is closed.
    /// 0 turns it off [default: 20].
    #[arg(long, env = "MAYFLY_HEADER_READ_TIMEOUT", value_name = "SECONDS")]
    pub header_read_timeout: Option<u64>,
    /// Seconds a request body may go without a byte; then the request fails (S3: 400
    /// RequestTimeout, storing nothing; API: 408 in the v4 envelope, changing nothing).
    /// 0 turns it off [default: 60].
    #[arg(long, env = "MAYFLY_BODY_READ_TIMEOUT", value_name = "SECONDS")]
    pub body_read_timeout: Option<u64>,
    /// Seconds between lifecycle sweeps, which delete the objects and abort the multipart
    /// uploads that bucket lifecycle rules expire; the first runs at startup. 0 turns them off
    /// [default: 3600].
    #[arg(long, env = "MAYFLY_LIFECYCLE_INTERVAL", value_name = "SECONDS")]
    pub lifecycle_interval: Option<u64>,
    /// Milliseconds a node serves a token record or a credential's revocation state from
    /// memory. Changes made on this node are seen at once, and in scale-out mode other nodes'
    /// changes arrive through PostgreSQL LISTEN/NOTIFY; this bounds how stale a node can be if
    /// those notifications are lost. 0 turns the cache off [default: 1000].
    #[arg(long, env = "MAYFLY_TOKEN_CACHE_TTL_MS", value_name = "MILLISECONDS")]
    pub token_cache_ttl_ms: Option<u64>,
    /// Record the audit trail (a Mayfly extension): every mint, token and bucket change, and
    /// every S3 request made with a temporary credential, written in batches off the request
    /// path and read with `mayfly audit` [default: on].
    #[arg(long, env = "MAYFLY_AUDIT", value_enum, value_name = "on|off")]
    pub audit: Option<Switch>,
    /// Days audit events are kept; older ones are purged at startup and hourly. 0 keeps them
    /// forever [default: 30].
    #[arg(long, env = "MAYFLY_AUDIT_RETENTION", value_name = "DAYS")]
    pub audit_retention: Option<u64>,
    /// A throwaway server for tests: data in a fresh temporary directory removed at exit
    /// (also on SIGTERM/SIGINT; in $TMPDIR, else in memory under /dev/shm on Linux, else the
    /// system temp dir), both listeners on free ports unless given, the testing API on,
    /// and once both listeners accept, one JSON line on stdout: api_url, s3_url, account_id,
    /// api_token, access_key_id, secret_access_key, pid. Ignores --data-dir, --metadata and
    /// --blobs.
    #[arg(long, env = "MAYFLY_EPHEMERAL")]
    pub ephemeral: bool,
    /// With --ephemeral: stop (removing the data) when standard input closes, so a test runner
    /// that dies, even by SIGKILL, leaves no server behind.
    #[arg(long, env = "MAYFLY_EXIT_ON_STDIN_EOF", requires = "ephemeral")]
    pub exit_on_stdin_eof: bool,
    /// Mount the testing API (POST /client/v4/mayfly/accounts: a fresh account with its own
    /// admin token). For test servers only; --ephemeral turns it on.
    #[arg(long, env = "MAYFLY_ENABLE_TESTING_API")]
    pub enable_testing_api: bool,
}

pub(crate) fn parse_pg_url(s: &str) -> Result<mayfly_store_pg::PgUrl, String> {
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(mayfly_store_pg::PgUrl::new(s))
    } else {
        // The value may hold a password: never echo it.
        Err("expected a postgres:// or postgresql:// URL".to_owned())
    }
}

pub(crate) fn parse_blobs_url(s: &str) -> Result<mayfly_store_pg::S3BlobsConfig, String> {
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
    #[command(after_help = "Examples:\n  mayfly token list\n  mayfly token list --json")]
    List {
        /// Connection settings.
        #[command(flatten)]
        target: ApiTarget,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a token's name, permission, buckets, status or expiry; its value and S3 key pair
    /// stay the same.
    #[command(long_about = TOKEN_UPDATE_LONG_ABOUT, after_help = TOKEN_UPDATE_EXAMPLES)]
    Update(Box<TokenUpdateArgs>),
    /// Revoke a token: it and every credential minted from it stop working at once.
    #[command(after_help = "Example:\n  mayfly token revoke 0123456789abcdef0123456789abcdef")]
    Revoke {
        /// Connection settings.
        #[command(flatten)]
        target: ApiTarget,
        /// The token id (= its S3 access key id).
        id: String,
    },
}

const TOKEN_UPDATE_LONG_ABOUT: &str = "\
Change an R2 API token in place: its name, permission, the buckets an object-level token is
limited to, its status (--disable / --enable) and its expiry. The token id, its value and its S3
key pair stay the same. Needs an admin-read-write token.

What is not given is kept: the command reads the token first and sends its current settings
back with the changes (the API replaces them all at once, like Cloudflare's token update). With
--permission but no --bucket, an object-level token keeps its bucket list; an admin permission
is always account-wide. --all-buckets lifts a bucket limit, --no-expiry removes the expiry.

A downgrade or --disable binds at once: temporary credentials already minted from the token are
checked against its current permission on their next request, and stop working while it is
disabled. --enable brings a disabled token back; a revoked token cannot be brought back.";

const TOKEN_UPDATE_EXAMPLES: &str = "\
Examples:
  # Make a token read-only on its buckets (temporary credentials minted from it lose write too).
  mayfly token update 0123456789abcdef0123456789abcdef --permission object-read-only

  # Limit it to two buckets and rename it.
  mayfly token update 0123456789abcdef0123456789abcdef --bucket photos --bucket logs --name uploader

  # Switch it off for now, then on again.
  mayfly token update 0123456789abcdef0123456789abcdef --disable
  mayfly token update 0123456789abcdef0123456789abcdef --enable

  # Let it expire at the end of the year, and print the result as JSON.
  mayfly token update 0123456789abcdef0123456789abcdef --expires-on 2030-12-31T23:59:59Z --json";

/// `mayfly token update`.
#[derive(Debug, Args)]
pub struct TokenUpdateArgs {
    /// Connection settings.
    #[command(flatten)]
    pub target: ApiTarget,
    /// The token id (= its S3 access key id).
    #[arg(value_name = "TOKEN_ID")]
    pub id: String,
    /// New display name [default: unchanged].
    #[arg(long)]
    pub name: Option<String>,
    /// New permission: admin-read-write, admin-read-only, object-read-write or
    /// object-read-only [default: unchanged].
    #[arg(long, value_parser = parse_permission)]
    pub permission: Option<mayfly_core::Permission>,
    /// Limit an object-level token to this bucket, replacing its current list (repeatable)
    /// [default: unchanged].
    #[arg(long = "bucket", value_name = "BUCKET", value_parser = parse_bucket)]
    pub buckets: Vec<mayfly_core::BucketName>,
    /// Let an object-level token reach every bucket of the account again.
    #[arg(long, conflicts_with = "buckets")]
    pub all_buckets: bool,
    /// Disable the token, and every temporary credential minted from it, until --enable.
    #[arg(long, conflicts_with = "enable")]
    pub disable: bool,
    /// Enable a disabled token again.
    #[arg(long)]
    pub enable: bool,
    /// New expiry, RFC 3339 (e.g. 2030-12-31T23:59:59Z); must be in the future
    /// [default: unchanged].
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339_arg)]
    pub expires_on: Option<String>,
    /// Remove the expiry (the token then lives until revoked, or as long as the token making
    /// the call, if that one expires).
    #[arg(long, conflicts_with = "expires_on")]
    pub no_expiry: bool,
    /// Print the updated token as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_permission(s: &str) -> Result<mayfly_core::Permission, String> {
    mayfly_core::Permission::parse(s).map_err(|_| {
        "expected admin-read-write, admin-read-only, object-read-write or object-read-only"
            .to_owned()
    })
}

fn parse_bucket(s: &str) -> Result<mayfly_core::BucketName, String> {
    mayfly_core::BucketName::parse(s).map_err(|e| e.to_string())
}

/// Checks the shape `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; the server checks the
/// rest (a real date, in the future).
fn parse_rfc3339_arg(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let head_ok = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let mut rest = b.get(19..).unwrap_or_default();
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|d| d.is_ascii_digit()).count();
        rest = if n == 0 { b"!" } else { &frac[n..] };
    }
    let zone_ok = matches!(rest, [b'Z' | b'z'])
        || (rest.len() == 6
            && matches!(rest[0], b'+' | b'-')
            && rest[1..3].iter().all(u8::is_ascii_digit)
            && rest[3] == b':'
            && rest[4..6].iter().all(u8::is_ascii_digit));
    if head_ok && zone_ok {
        Ok(s.to_owned())
    } else {
        Err("expected an RFC 3339 timestamp such as 2030-12-31T23:59:59Z".to_owned())
    }
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
    #[command(
        after_help = "Examples:\n  mayfly bucket list\n  mayfly bucket list --name-contains logs --json"
    )]
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
    #[command(after_help = "Example:\n  mayfly bucket delete photos")]
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
    /// Mint temporary S3 credentials on one bucket, remotely (API) or offline (--local).
    #[command(
        visible_alias = "create",
        long_about = MINT_LONG_ABOUT,
        after_help = MINT_EXAMPLES
    )]
    Mint(Box<MintArgs>),
    /// Decode a session token and show its scope and lifetime; verify it with the parent secret.
    #[command(long_about = INSPECT_LONG_ABOUT, after_help = INSPECT_EXAMPLES)]
    Inspect(InspectArgs),
    /// Would this credential allow an operation on a key? Offline, with the server's own
    /// decision and denial text (a Mayfly extension).
    #[command(long_about = CHECK_LONG_ABOUT, after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Revoke one temporary credential by id or session token, leaving its siblings working
    /// (a Mayfly extension).
    #[command(long_about = REVOKE_LONG_ABOUT, after_help = REVOKE_EXAMPLES)]
    Revoke(RevokeArgs),
}

const REVOKE_LONG_ABOUT: &str = "\
Revoke one temporary credential on a Mayfly server (a Mayfly extension: Cloudflare R2 can only
revoke the parent token, which kills every credential minted from it). Every node refuses the
credential within a second, on every S3 request, with AccessDenied \"this credential was
revoked\"; other credentials from the same parent keep working.

CREDENTIAL is the credential's id (32 hex characters, shown by `mayfly creds inspect` and in the
mint answer's credentialId) or its session token (AWS_SESSION_TOKEN), or `-` to read either from
standard input. By session token, the parent token itself or an admin-read-write token may
revoke; by id alone, only an admin-read-write token. Revoking twice is not an error.

Uses CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID like the other API
commands. Prints the stored entry (--json: as JSON).";

const REVOKE_EXAMPLES: &str = "\
Examples:
  # The credential in my shell leaked: revoke it with the token that minted it.
  mayfly creds revoke \"$AWS_SESSION_TOKEN\"

  # By id, as an admin (the id from `mayfly creds inspect` or the audit trail).
  mayfly creds revoke 5f0c6a1e2b7d4c3a9e8f7a6b5c4d3e2f --json";

const CHECK_LONG_ABOUT: &str = "\
Answer, offline, whether a temporary credential allows one S3 operation on one key (a Mayfly
extension; Cloudflare has no such command). The decision is made by the same function the Mayfly
S3 endpoint uses, and a denial is explained with the same text the endpoint sends as the
AccessDenied <Message>, e.g. `object-read-only does not allow PutObject` or `the key is outside
the credential's prefixes [\"uploads/\"] and objects []`.

OPERATION is an S3 operation name as the endpoint knows it (GetObject, PutObject, DeleteObject,
ListObjectsV2, CopyObject, ...). TARGET is a key in the credential's bucket (or in --bucket), or
s3://BUCKET/KEY; for listings it is the listing prefix, for bucket operations s3://BUCKET/ or an
empty string. CopyObject and UploadPartCopy also need --copy-source.

The parent token's current rights cannot be known offline: the check assumes the parent still
allows everything, and says so; the server may still refuse if the parent was revoked or its
rights reduced. Without the parent secret the token is only decoded (its expiry is still
checked against this machine's clock); with it (--parent-secret-file, MAYFLY_PARENT_SECRET or
--parent-secret) the signature, lifetime, issuer and audience are verified as the server does.

The token comes from the argument, from standard input with `-`, or, with no argument, from
AWS_SESSION_TOKEN. Prints `allowed` (exit status 0) or `denied: <reason>` (exit status 1);
--json prints one JSON object instead. Nothing secret is printed.";

const CHECK_EXAMPLES: &str = "\
Examples:
  # Would the credential in my shell let me upload this file?
  mayfly creds check PutObject photos/uploads/a.png --bucket photos

  # The same with an s3:// URL, the token from a file, and the signature verified too.
  MAYFLY_PARENT_SECRET=$(cat ~/.config/r2/secret) \\
      mayfly creds check PutObject s3://photos/uploads/a.png - < token.txt

  # For scripts: one JSON object, exit status 1 when denied.
  mayfly creds check --json DeleteObject s3://photos/tmp/x.bin";

const MINT_LONG_ABOUT: &str = "\
Mint temporary S3 credentials bound to one bucket, optionally narrowed to key prefixes
(--prefix), exact keys (--object) and S3 actions (--action; remotely a Mayfly extension).

By default the credentials are minted remotely, by the temp-access-credentials endpoint of
Mayfly or Cloudflare (CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, as
for the other API commands).

With --local nothing is sent anywhere: the session token is signed here with the parent token's
S3 secret, byte for byte in Cloudflare's documented format, so it works against real R2 as well
as Mayfly. The parent secret (the parent token's secret access key, 64 hex characters) comes
from, in order: --parent-secret, --parent-secret-file, the MAYFLY_PARENT_SECRET environment
variable. Prefer the file or the variable: flags show up in `ps`.

Output (--format): `env` prints `export` lines for AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, AWS_ENDPOINT_URL, AWS_REGION=auto and AWS_DEFAULT_REGION=auto, quoted for the
shell, to `eval`; `json` prints accessKeyId, secretAccessKey, sessionToken, expiration and
endpoint; `credential-process` prints the JSON an AWS profile's `credential_process` expects
(Version 1, with Expiration), so the AWS CLI and SDKs mint fresh credentials by themselves
when the old ones are about to expire.

Anyone holding the session token can derive the secret: treat all three values as secrets.";

const MINT_EXAMPLES: &str = "\
Examples:
  # Remote: ask Mayfly (or Cloudflare) for a read-only credential on thumbs/ for an hour.
  export CLOUDFLARE_BASE_URL=http://127.0.0.1:8787/client/v4
  export CLOUDFLARE_API_TOKEN=<api token> CLOUDFLARE_ACCOUNT_ID=<account id>
  eval \"$(mayfly creds mint --bucket photos --parent-key-id <token id> \\
      --permission object-read-only --prefix thumbs/ --ttl 3600 \\
      --endpoint http://127.0.0.1:8788)\"
  aws s3 cp s3://photos/thumbs/cat.png .

  # Offline: sign locally with the parent's secret (here from a file), no API call.
  mayfly creds mint --local --bucket photos --permission object-read-write \\
      --parent-key-id <token id> --parent-secret-file ~/.config/r2/secret \\
      --account-id <account id> --endpoint https://<account id>.r2.cloudflarestorage.com \\
      --prefix uploads/ --action PutObject --ttl 900 --format json

  # An AWS profile that mints its own credentials and refreshes them before they expire
  # (~/.aws/config; indented lines continue the value):
  [profile photos]
  credential_process = mayfly creds mint --local --format credential-process
      --bucket photos --permission object-read-only --ttl 900
      --parent-key-id <token id> --parent-secret-file /etc/r2/secret
      --account-id <account id> --endpoint https://<account id>.r2.cloudflarestorage.com
  endpoint_url = https://<account id>.r2.cloudflarestorage.com
  region = auto

`mayfly creds create` is the same command.";

const INSPECT_LONG_ABOUT: &str = "\
Decode a session token (the AWS_SESSION_TOKEN of a temporary credential) and show what it
grants: bucket, permission, actions, prefixes and objects, issuer (the parent access key id),
account, audience (the S3 host it is for), issue and expiry times and the time left. Decoding
needs no secret and checks nothing.

Given the parent secret (--parent-secret, --parent-secret-file or MAYFLY_PARENT_SECRET), it also
verifies the token: the signature, the lifetime against this machine's clock, the issuer against
--parent-key-id (or MAYFLY_PARENT_KEY_ID) and the audience against --endpoint, when given. It
prints a verdict and exits 1 if the token does not verify. The token comes from the argument,
from standard input with `-`, or, with no argument, from AWS_SESSION_TOKEN (else standard input).
Prefer `-` or the variable: arguments show up in `ps`. Nothing secret is printed.";

const INSPECT_EXAMPLES: &str = "\
Examples:
  # What does the credential in my shell allow, and for how long?
  mayfly creds inspect

  # Decode a token from a file, as JSON.
  mayfly creds inspect --json - < token.txt

  # Verify it against its parent (exit status 1 if it does not verify).
  MAYFLY_PARENT_SECRET=$(cat ~/.config/r2/secret) \\
      mayfly creds inspect --parent-key-id <token id> --endpoint http://127.0.0.1:8788 - < token.txt";

/// Output of `mayfly creds mint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CredsFormat {
    /// `export AWS_...=...` lines for `eval`.
    Env,
    /// One JSON object: accessKeyId, secretAccessKey, sessionToken, expiration, endpoint.
    Json,
    /// The AWS `credential_process` JSON (Version 1, with Expiration).
    CredentialProcess,
}

/// Where the parent token's S3 secret comes from (`--local` minting, `inspect` verification).
#[derive(Debug, Args, Clone, Default)]
pub struct ParentSecretArgs {
    /// The parent token's S3 secret access key (64 hex characters). Visible in `ps`: prefer
    /// --parent-secret-file or the MAYFLY_PARENT_SECRET environment variable.
    #[arg(long, value_name = "SECRET", conflicts_with = "parent_secret_file")]
    pub parent_secret: Option<String>,
    /// Read the parent secret from this file (surrounding whitespace ignored).
    #[arg(long, value_name = "PATH")]
    pub parent_secret_file: Option<PathBuf>,
}

/// `mayfly creds mint` (alias `create`).
#[derive(Debug, Args)]
pub struct MintArgs {
    /// API connection (remote minting); --account-id is needed by --local too.
    #[command(flatten)]
    pub target: ApiTarget,
    /// The bucket the credentials are bound to.
    #[arg(long)]
    pub bucket: String,
    /// admin-read-write, admin-read-only, object-read-write or object-read-only; at most the
    /// parent's (the server enforces that on every request).
    #[arg(long)]
    pub permission: String,
    /// Access key id (= token id) of the parent token. Needed by --local; remotely it defaults
    /// to the id of the API token making the call (asked from /user/tokens/verify).
    #[arg(
        long,
        visible_alias = "parent-access-key-id",
        env = "MAYFLY_PARENT_KEY_ID",
        value_name = "ID"
    )]
    pub parent_key_id: Option<String>,
    /// Lifetime in seconds (1..=604800).
    #[arg(long, default_value_t = 900, value_name = "SECONDS")]
    pub ttl: u64,
    /// Allow keys starting with this prefix (repeatable).
    #[arg(long = "prefix", value_name = "PREFIX")]
    pub prefixes: Vec<String>,
    /// Allow exactly this key (repeatable).
    #[arg(long = "object", value_name = "KEY")]
    pub objects: Vec<String>,
    /// Sign offline with the parent secret instead of calling the API.
    #[arg(long)]
    pub local: bool,
    /// Parent secret, for --local.
    #[command(flatten)]
    pub secret: ParentSecretArgs,
    /// Narrow to this S3 action (repeatable): GetObject, HeadObject, PutObject, ListObjectsV2,
    /// DeleteObject, ... (Cloudflare's names). Remotely a Mayfly extension: Cloudflare's API
    /// does not take `actions` yet.
    #[arg(long = "action", value_name = "OP")]
    pub actions: Vec<String>,
    /// The S3 endpoint URL the credentials are for. --local: its host is the token's audience
    /// [default: https://<account id>.r2.cloudflarestorage.com]. Remote: printed as
    /// AWS_ENDPOINT_URL [default: the minted token's audience host, http:// for loopback].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// --local only: the issue time, epoch seconds, instead of now (reproducible tokens, test
    /// vectors).
    #[arg(long, value_name = "EPOCH", requires = "local", hide_short_help = true)]
    pub issued_at: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CredsFormat::Env)]
    pub format: CredsFormat,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

/// `mayfly creds revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// API connection.
    #[command(flatten)]
    pub target: ApiTarget,
    /// The credential id (32 hex characters), its session token, or `-` for standard input.
    #[arg(value_name = "ID|SESSION_TOKEN|-")]
    pub credential: String,
    /// Print the stored entry as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `mayfly creds inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The session token, or `-` for standard input [default: $AWS_SESSION_TOKEN, else
    /// standard input].
    #[arg(value_name = "TOKEN|-")]
    pub token: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Parent secret: verify the token with it.
    #[command(flatten)]
    pub secret: ParentSecretArgs,
    /// When verifying, the token's issuer must be this access key id [default: not checked].
    #[arg(long, env = "MAYFLY_PARENT_KEY_ID", value_name = "ID")]
    pub parent_key_id: Option<String>,
    /// When verifying, the token's audience must be this endpoint's host [default: not
    /// checked].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

/// `mayfly creds check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The S3 operation, as the endpoint names it: GetObject, PutObject, DeleteObject,
    /// ListObjectsV2, CopyObject, HeadBucket, ...
    #[arg(value_name = "OPERATION")]
    pub operation: String,
    /// The key (the listing prefix for listings), or s3://BUCKET/KEY.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// The session token, or `-` for standard input [default: $AWS_SESSION_TOKEN, else
    /// standard input].
    #[arg(value_name = "TOKEN|-")]
    pub token: Option<String>,
    /// The bucket, when TARGET is a bare key [default: the credential's own bucket].
    #[arg(long)]
    pub bucket: Option<String>,
    /// CopyObject and UploadPartCopy: the source key (same bucket), or s3://BUCKET/KEY.
    #[arg(long, value_name = "KEY|S3_URL")]
    pub copy_source: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Parent secret: also verify the token's signature and lifetime with it.
    #[command(flatten)]
    pub secret: ParentSecretArgs,
    /// When verifying, the token's issuer must be this access key id [default: not checked].
    #[arg(long, env = "MAYFLY_PARENT_KEY_ID", value_name = "ID")]
    pub parent_key_id: Option<String>,
    /// When verifying, the token's audience must be this endpoint's host [default: not
    /// checked].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn expires_on_takes_rfc3339_shapes_only() {
        for ok in [
            "2030-12-31T23:59:59Z",
            "2030-12-31T23:59:59.123Z",
            "2030-12-31T23:59:59+02:00",
        ] {
            assert_eq!(parse_rfc3339_arg(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "",
            "2030-12-31",
            "2030-12-31 23:59:59Z",
            "2030-12-31T23:59:59",
            "2030-12-31T23:59:59.Z",
            "tomorrow",
        ] {
            assert!(parse_rfc3339_arg(bad).is_err(), "{bad}");
        }
    }
}

/// `mayfly audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Connection settings.
    #[command(flatten)]
    pub target: ApiTarget,
    /// Only events of this temporary credential (its id, as `creds inspect` shows it).
    #[arg(long, value_name = "ID")]
    pub credential: Option<String>,
    /// Only events of credentials minted from this parent access key id (or about that token).
    #[arg(long, value_name = "ACCESS_KEY_ID")]
    pub parent: Option<String>,
    /// Only events on this bucket.
    #[arg(long)]
    pub bucket: Option<String>,
    /// Only events at or after this time: RFC 3339 (2026-01-31T12:00:00Z) or an age (90s, 15m,
    /// 2h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time: RFC 3339 or an age.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only events of this kind: credential.mint, credential.revoke, token.create,
    /// token.update, token.delete, bucket.create, bucket.delete, bucket.cors,
    /// bucket.lifecycle or s3.
    #[arg(long)]
    pub kind: Option<String>,
    /// Most events to print, newest first.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub limit: u64,
    /// One JSON object per event per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The help texts (the command is a Mayfly extension: Cloudflare has no audit endpoint).
pub(crate) const AUDIT_LONG_ABOUT: &str = "Show an account's audit trail, newest first: every temporary \
credential minted, every token and bucket change, and every S3 request made with a temporary \
credential (its id, operation, bucket, key, status, bytes and request id). A Mayfly extension: \
Cloudflare's API has no audit endpoint. Needs an account-wide admin token (admin-read-write or \
admin-read-only); connection settings come from CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN and \
CLOUDFLARE_ACCOUNT_ID like every remote command.";

/// Examples for `--help`.
pub(crate) const AUDIT_EXAMPLES: &str = "Examples:\n  mayfly audit --credential 3f1c0d9e8b7a65432100fedcba987654\n  mayfly audit --bucket photos --kind s3 --since 1h\n  mayfly audit --parent 0123456789abcdef0123456789abcdef --json | jq .key";
