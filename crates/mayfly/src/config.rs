//! Server configuration: flags and `MAYFLY_*` variables (both parsed by clap) override the TOML
//! file, which overrides the defaults. The result, [`ServeConfig`], is plain data the wiring in
//! [`crate::serve`] consumes; nothing here opens sockets or the store.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use mayfly_store_pg::{PgOptions, PgSslMode, S3Credentials};

use crate::cli::{DEFAULT_DATA_DIR, LogFormat, ServeArgs, Switch, parse_blobs_url, parse_pg_url};

/// API listen address used when nothing else names one.
pub const DEFAULT_API_LISTEN: &str = "127.0.0.1:8787";
/// S3 listen address used when nothing else names one.
pub const DEFAULT_S3_LISTEN: &str = "127.0.0.1:8788";

/// The TOML config file. Every key is optional; unknown keys are an error (a typo should not
/// silently fall back to a default).
#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Data directory.
    pub data_dir: Option<PathBuf>,
    /// API listen address.
    pub api_listen: Option<SocketAddr>,
    /// S3 listen address.
    pub s3_listen: Option<SocketAddr>,
    /// Public S3 hosts (token audiences and virtual-host suffixes).
    #[serde(default)]
    pub public_s3_hosts: Vec<String>,
    /// Ready file path.
    pub ready_file: Option<PathBuf>,
    /// `text` or `json`.
    pub log_format: Option<LogFormat>,
    /// PostgreSQL URL for shared metadata (`--metadata`).
    pub metadata: Option<String>,
    /// Upstream bucket URL for blobs (`--blobs`).
    pub blobs: Option<String>,
    /// Upstream endpoint override.
    pub blobs_endpoint: Option<String>,
    /// Upstream region override.
    pub blobs_region: Option<String>,
    /// Upstream access key id.
    pub blobs_access_key_id: Option<String>,
    /// Upstream secret access key.
    pub blobs_secret_access_key: Option<String>,
    /// PostgreSQL pool size.
    pub pg_pool_size: Option<u32>,
    /// PostgreSQL connect timeout, seconds.
    pub pg_connect_timeout: Option<u64>,
    /// `disable`, `require` or `verify-full`.
    pub pg_sslmode: Option<String>,
    /// CA file for `verify-full`.
    pub pg_ssl_root_cert: Option<PathBuf>,
    /// Seconds between orphan-blob collections (0: off).
    pub gc_interval: Option<u64>,
    /// Minimum age, in seconds, of a collected orphan blob.
    pub gc_grace: Option<u64>,
    /// Seconds to receive a request's headers (0: off).
    pub header_read_timeout: Option<u64>,
    /// Seconds an S3 request body may go without a byte (0: off).
    pub body_read_timeout: Option<u64>,
    /// Seconds between lifecycle sweeps (0: rules are not applied).
    pub lifecycle_interval: Option<u64>,
    /// `on` or `off`: the audit trail.
    pub audit: Option<Switch>,
    /// Days audit events are kept (0: forever).
    pub audit_retention: Option<u64>,
}

impl fmt::Debug for FileConfig {
    // By hand: the metadata URL may hold a password and the blob secret is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileConfig")
            .field("data_dir", &self.data_dir)
            .field("api_listen", &self.api_listen)
            .field("s3_listen", &self.s3_listen)
            .field(
                "metadata",
                &self
                    .metadata
                    .as_ref()
                    .map(|u| mayfly_store_pg::PgUrl::new(u.clone()).redacted()),
            )
            .field("blobs", &self.blobs)
            .field("blobs_access_key_id", &self.blobs_access_key_id)
            .field(
                "blobs_secret_access_key",
                &self.blobs_secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl FileConfig {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// Everything `serve` needs, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// Where the SQLite database and blobs live.
    pub data_dir: PathBuf,
    /// API listener (port 0: any free port).
    pub api_listen: SocketAddr,
    /// S3 listener (port 0: any free port).
    pub s3_listen: SocketAddr,
    /// Extra hosts the S3 endpoint answers for.
    pub public_s3_hosts: Vec<String>,
    /// Where to write the ready file, if anywhere.
    pub ready_file: Option<PathBuf>,
    /// Log format.
    pub log_format: LogFormat,
    /// Orphan-blob collection.
    pub gc: GcConfig,
    /// Slow-client timeouts.
    pub timeouts: Timeouts,
    /// Lifecycle sweeps.
    pub lifecycle: LifecycleSweepConfig,
    /// The audit trail.
    pub audit: AuditConfig,
}

/// The audit trail's settings (a Mayfly extension; see [`crate::audit_log`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditConfig {
    /// Whether events are recorded.
    pub enabled: bool,
    /// Days events are kept; `0` keeps them forever.
    pub retention_days: u64,
}

/// Days audit events are kept when nothing else says.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u64 = 30;

impl AuditConfig {
    /// The retention in seconds (`0`: forever).
    pub fn retention_secs(&self) -> u64 {
        self.retention_days.saturating_mul(86_400)
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            retention_days: DEFAULT_AUDIT_RETENTION_DAYS,
        }
    }
}

/// How long `serve` waits for slow clients before giving up on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Time to receive a request's headers (and idle time of a keep-alive connection);
    /// `None`: wait forever.
    pub header_read: Option<Duration>,
    /// Longest gap without a byte in an S3 request body; `None`: wait forever.
    pub body_read: Option<Duration>,
}

/// Seconds to receive request headers when nothing else says.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 20;
/// Seconds an S3 body may stall when nothing else says.
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 60;

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header_read: Some(Duration::from_secs(DEFAULT_HEADER_READ_TIMEOUT_SECS)),
            body_read: Some(Duration::from_secs(DEFAULT_BODY_READ_TIMEOUT_SECS)),
        }
    }
}

/// Seconds to a timeout: `0` turns it off.
fn timeout_secs(secs: Option<u64>, default: u64) -> Option<Duration> {
    match secs.unwrap_or(default) {
        0 => None,
        s => Some(Duration::from_secs(s)),
    }
}

/// How often `serve` applies bucket lifecycle rules (see [`crate::lifecycle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleSweepConfig {
    /// Seconds between passes; `None` turns sweeping off.
    pub interval_secs: Option<u64>,
}

/// Seconds between lifecycle sweeps when nothing else says.
pub const DEFAULT_LIFECYCLE_INTERVAL_SECS: u64 = 3600;

impl Default for LifecycleSweepConfig {
    fn default() -> Self {
        Self {
            interval_secs: Some(DEFAULT_LIFECYCLE_INTERVAL_SECS),
        }
    }
}

/// Which storage implementation `serve` wires in ([`resolve_store`] builds it).
// Built once at startup: the size of the `Postgres` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum StoreChoice {
    /// SQLite + files in the data directory (one node).
    Local,
    /// PostgreSQL metadata + upstream S3 blobs (any number of nodes).
    Postgres {
        /// The database (Debug redacts its password).
        metadata: mayfly_store_pg::PgUrl,
        /// Pool size, connect timeout, TLS.
        options: mayfly_store_pg::PgOptions,
        /// The upstream bucket.
        blobs: mayfly_store_pg::S3BlobsConfig,
        /// Its credentials (Debug redacts the secret).
        credentials: mayfly_store_pg::S3Credentials,
    },
}

/// When `serve` collects orphan blobs (see [`mayfly_store::gc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcConfig {
    /// Seconds between passes; `None` turns collection off.
    pub interval_secs: Option<u64>,
    /// Blobs younger than this are never collected.
    pub grace_secs: u64,
}

/// Seconds between orphan-blob collections when nothing else says.
pub const DEFAULT_GC_INTERVAL_SECS: u64 = 3600;

impl Default for GcConfig {
    fn default() -> Self {
        Self {
            interval_secs: Some(DEFAULT_GC_INTERVAL_SECS),
            grace_secs: mayfly_store::gc::DEFAULT_GRACE_SECS,
        }
    }
}

impl ServeConfig {
    /// Flags/env first, then the file named by `--config`, then defaults.
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Self> {
        Ok(Self::resolve_with_store(args)?.0)
    }

    /// [`ServeConfig::resolve`], plus the storage choice (`--metadata`, `--blobs` and their
    /// settings), resolved with the same precedence. Upstream credentials not given as flags,
    /// `MAYFLY_BLOBS_*` variables or file keys come from `AWS_*` variables.
    pub fn resolve_with_store(mut args: ServeArgs) -> anyhow::Result<(Self, StoreChoice)> {
        let mut file = match &args.config {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };
        let store = resolve_store(&mut args, &mut file, |name| std::env::var(name).ok())?;
        Ok((Self::merge(args, file)?, store))
    }

    /// Merges already-parsed flags and file settings.
    pub fn merge(args: ServeArgs, file: FileConfig) -> anyhow::Result<Self> {
        let parse = |s: &str| {
            s.parse::<SocketAddr>()
                .context("invalid built-in default address")
        };
        Ok(Self {
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            api_listen: match args.api_listen.or(file.api_listen) {
                Some(a) => a,
                None => parse(DEFAULT_API_LISTEN)?,
            },
            s3_listen: match args.s3_listen.or(file.s3_listen) {
                Some(a) => a,
                None => parse(DEFAULT_S3_LISTEN)?,
            },
            public_s3_hosts: if args.public_s3_hosts.is_empty() {
                file.public_s3_hosts
            } else {
                args.public_s3_hosts
            },
            ready_file: args.ready_file.or(file.ready_file),
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            gc: GcConfig {
                interval_secs: match args.gc_interval.or(file.gc_interval) {
                    Some(0) => None,
                    Some(s) => Some(s),
                    None => Some(DEFAULT_GC_INTERVAL_SECS),
                },
                grace_secs: args
                    .gc_grace
                    .or(file.gc_grace)
                    .unwrap_or(mayfly_store::gc::DEFAULT_GRACE_SECS),
            },
            timeouts: Timeouts {
                header_read: timeout_secs(
                    args.header_read_timeout.or(file.header_read_timeout),
                    DEFAULT_HEADER_READ_TIMEOUT_SECS,
                ),
                body_read: timeout_secs(
                    args.body_read_timeout.or(file.body_read_timeout),
                    DEFAULT_BODY_READ_TIMEOUT_SECS,
                ),
            },
            lifecycle: LifecycleSweepConfig {
                interval_secs: match args.lifecycle_interval.or(file.lifecycle_interval) {
                    Some(0) => None,
                    Some(s) => Some(s),
                    None => Some(DEFAULT_LIFECYCLE_INTERVAL_SECS),
                },
            },
            audit: AuditConfig {
                enabled: args.audit.or(file.audit).unwrap_or(Switch::On) == Switch::On,
                retention_days: args
                    .audit_retention
                    .or(file.audit_retention)
                    .unwrap_or(DEFAULT_AUDIT_RETENTION_DAYS),
            },
        })
    }
}

/// The storage choice from flags/env (already merged by clap) over the file. Takes the store
/// settings out of both.
pub fn resolve_store(
    args: &mut ServeArgs,
    file: &mut FileConfig,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<StoreChoice> {
    let metadata = match (args.metadata.take(), file.metadata.take()) {
        (Some(url), _) => Some(url),
        (None, Some(raw)) => Some(
            parse_pg_url(&raw)
                .map_err(|e| anyhow::anyhow!("invalid `metadata` in the config file: {e}"))?,
        ),
        (None, None) => None,
    };
    let blobs = match (args.blobs.take(), file.blobs.take()) {
        (Some(b), _) => Some(b),
        (None, Some(raw)) => Some(
            parse_blobs_url(&raw)
                .map_err(|e| anyhow::anyhow!("invalid `blobs` in the config file: {e}"))?,
        ),
        (None, None) => None,
    };
    let endpoint = args.blobs_endpoint.take().or(file.blobs_endpoint.take());
    let region = args.blobs_region.take().or(file.blobs_region.take());
    let key_id = args
        .blobs_access_key_id
        .take()
        .or(file.blobs_access_key_id.take());
    let secret = args
        .blobs_secret_access_key
        .take()
        .or(file.blobs_secret_access_key.take());
    let pool_size = args.pg_pool_size.take().or(file.pg_pool_size.take());
    let connect_timeout = args
        .pg_connect_timeout
        .take()
        .or(file.pg_connect_timeout.take());
    let ssl_mode = match (args.pg_sslmode.take(), file.pg_sslmode.take()) {
        (Some(m), _) => Some(m),
        (None, Some(raw)) => Some(
            raw.parse::<PgSslMode>()
                .map_err(|e| anyhow::anyhow!("invalid `pg_sslmode` in the config file: {e}"))?,
        ),
        (None, None) => None,
    };
    let ssl_root_cert = args
        .pg_ssl_root_cert
        .take()
        .or(file.pg_ssl_root_cert.take());

    let (metadata, mut blobs) = match (metadata, blobs) {
        (Some(m), Some(b)) => (m, b),
        (None, None) => {
            let stray = [
                ("--blobs-endpoint", endpoint.is_some()),
                ("--blobs-region", region.is_some()),
                ("--pg-pool-size", pool_size.is_some()),
                ("--pg-connect-timeout", connect_timeout.is_some()),
                ("--pg-sslmode", ssl_mode.is_some()),
                ("--pg-ssl-root-cert", ssl_root_cert.is_some()),
            ];
            if let Some((flag, _)) = stray.iter().find(|(_, set)| *set) {
                anyhow::bail!(
                    "{flag} configures the scale-out store: it needs --metadata and --blobs"
                );
            }
            return Ok(StoreChoice::Local);
        }
        (Some(_), None) | (None, Some(_)) => {
            anyhow::bail!("--metadata postgres://... and --blobs s3://... go together")
        }
    };
    if ssl_root_cert.is_some() && ssl_mode != Some(PgSslMode::VerifyFull) {
        anyhow::bail!("--pg-ssl-root-cert is only used with --pg-sslmode verify-full");
    }
    if let Some(e) = endpoint {
        blobs.endpoint = Some(e);
    }
    if let Some(r) = region {
        blobs.region = r;
    }
    let credentials = match (key_id, secret) {
        (Some(id), Some(secret)) => {
            S3Credentials::new(id, secret, env("MAYFLY_BLOBS_SESSION_TOKEN"))
        }
        (None, None) => S3Credentials::from_env_with(&env)?,
        (Some(_), None) | (None, Some(_)) => anyhow::bail!(
            "give both the upstream access key id and secret access key (or neither, to use \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        ),
    };
    let options = PgOptions {
        pool_size: pool_size.map_or(mayfly_store_pg::DEFAULT_POOL_SIZE, |n| n as usize),
        connect_timeout: connect_timeout.map(Duration::from_secs),
        ssl_mode,
        ssl_root_cert,
    };
    Ok(StoreChoice::Postgres {
        metadata,
        options,
        blobs,
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = ServeConfig::merge(ServeArgs::default(), FileConfig::default()).expect("merge");
        assert_eq!(c.data_dir, PathBuf::from("./mayfly-data"));
        assert_eq!(c.api_listen.to_string(), "127.0.0.1:8787");
        assert_eq!(c.s3_listen.to_string(), "127.0.0.1:8788");
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.gc.interval_secs, Some(3600));
        assert_eq!(c.gc.grace_secs, 86_400);
    }

    #[test]
    fn gc_settings_follow_the_same_precedence_and_zero_turns_collection_off() {
        let file: FileConfig = toml::from_str("gc_interval = 60\ngc_grace = 600\n").expect("toml");
        let c = ServeConfig::merge(ServeArgs::default(), file).expect("merge");
        assert_eq!(c.gc.interval_secs, Some(60));
        assert_eq!(c.gc.grace_secs, 600);

        let file: FileConfig = toml::from_str("gc_interval = 60\n").expect("toml");
        let args = serve_args(&["--gc-interval", "0", "--gc-grace", "5"]).expect("args");
        let c = ServeConfig::merge(args, file).expect("merge");
        assert_eq!(c.gc.interval_secs, None, "0 turns collection off");
        assert_eq!(c.gc.grace_secs, 5);

        assert!(toml::from_str::<FileConfig>("gc_interval = -1\n").is_err());
        assert!(serve_args(&["--gc-grace", "soon"]).is_err());
    }

    #[test]
    fn lifecycle_interval_follows_the_same_precedence_and_zero_turns_sweeps_off() {
        let c = ServeConfig::merge(ServeArgs::default(), FileConfig::default()).expect("merge");
        assert_eq!(
            c.lifecycle.interval_secs,
            Some(DEFAULT_LIFECYCLE_INTERVAL_SECS)
        );
        let file: FileConfig = toml::from_str("lifecycle_interval = 30\n").expect("toml");
        let c = ServeConfig::merge(ServeArgs::default(), file).expect("merge");
        assert_eq!(c.lifecycle.interval_secs, Some(30));
        let file: FileConfig = toml::from_str("lifecycle_interval = 30\n").expect("toml");
        let args = serve_args(&["--lifecycle-interval", "0"]).expect("args");
        let c = ServeConfig::merge(args, file).expect("merge");
        assert_eq!(c.lifecycle.interval_secs, None, "0 turns sweeps off");
        assert!(serve_args(&["--lifecycle-interval", "daily"]).is_err());
    }

    /// `mayfly serve ARGS...` through the real parser.
    fn serve_args(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(["mayfly", "serve"].iter().chain(args))?;
        if let crate::cli::Command::Serve(a) = cli.command {
            Ok(a)
        } else {
            panic!("`mayfly serve ...` parsed as another command")
        }
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let file: FileConfig = toml::from_str(
            "data_dir = \"/srv/m\"\napi_listen = \"0.0.0.0:9000\"\npublic_s3_hosts = [\"s3.example.com\"]\nlog_format = \"json\"\n",
        )
        .expect("toml");
        let args = ServeArgs {
            api_listen: "127.0.0.1:0".parse().ok(),
            ..ServeArgs::default()
        };
        let c = ServeConfig::merge(args, file).expect("merge");
        assert_eq!(c.data_dir, PathBuf::from("/srv/m"));
        assert_eq!(c.api_listen.to_string(), "127.0.0.1:0");
        assert_eq!(c.public_s3_hosts, vec!["s3.example.com".to_owned()]);
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn timeouts_follow_the_same_precedence_and_zero_turns_them_off() {
        let c = ServeConfig::merge(ServeArgs::default(), FileConfig::default()).expect("merge");
        assert_eq!(c.timeouts.header_read, Some(Duration::from_secs(20)));
        assert_eq!(c.timeouts.body_read, Some(Duration::from_secs(60)));

        let file: FileConfig =
            toml::from_str("header_read_timeout = 5\nbody_read_timeout = 7\n").expect("toml");
        let c = ServeConfig::merge(ServeArgs::default(), file).expect("merge");
        assert_eq!(c.timeouts.header_read, Some(Duration::from_secs(5)));
        assert_eq!(c.timeouts.body_read, Some(Duration::from_secs(7)));

        let file: FileConfig = toml::from_str("body_read_timeout = 7\n").expect("toml");
        let args =
            serve_args(&["--body-read-timeout", "0", "--header-read-timeout", "3"]).expect("args");
        let c = ServeConfig::merge(args, file).expect("merge");
        assert_eq!(c.timeouts.body_read, None, "0 turns it off");
        assert_eq!(c.timeouts.header_read, Some(Duration::from_secs(3)));

        assert!(serve_args(&["--body-read-timeout", "soon"]).is_err());
        assert!(toml::from_str::<FileConfig>("header_read_timeout = -1\n").is_err());
    }

    #[test]
    fn audit_settings_follow_the_same_precedence() {
        let c = ServeConfig::merge(ServeArgs::default(), FileConfig::default()).expect("merge");
        assert_eq!(c.audit, AuditConfig::default());
        assert!(c.audit.enabled, "on by default");
        assert_eq!(c.audit.retention_secs(), 30 * 86_400);
        let file: FileConfig =
            toml::from_str("audit = \"off\"\naudit_retention = 7\n").expect("toml");
        let c = ServeConfig::merge(ServeArgs::default(), file).expect("merge");
        assert!(!c.audit.enabled);
        assert_eq!(c.audit.retention_days, 7);
        let file: FileConfig = toml::from_str("audit = \"off\"\n").expect("toml");
        let args = serve_args(&["--audit", "on", "--audit-retention", "0"]).expect("args");
        let c = ServeConfig::merge(args, file).expect("merge");
        assert!(c.audit.enabled, "the flag beats the file");
        assert_eq!(c.audit.retention_secs(), 0, "0 keeps events forever");
        assert!(serve_args(&["--audit", "maybe"]).is_err());
        assert!(toml::from_str::<FileConfig>("audit = true\n").is_err());
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        assert!(toml::from_str::<FileConfig>("data_dri = \"x\"").is_err());
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn store_settings_come_from_the_file_when_no_flag_names_them() {
        let mut file: FileConfig = toml::from_str(
            "metadata = \"postgres://m:pw@db/m\"\nblobs = \"s3://b/p\"\nblobs_endpoint = \"http://s3.local:9000\"\nblobs_region = \"auto\"\nblobs_access_key_id = \"AK\"\nblobs_secret_access_key = \"SK\"\npg_pool_size = 4\npg_connect_timeout = 3\npg_sslmode = \"verify-full\"\npg_ssl_root_cert = \"/etc/ca.pem\"\n",
        )
        .expect("toml");
        assert!(
            !format!("{file:?}").contains("pw@"),
            "file Debug hides the password"
        );
        assert!(
            !format!("{file:?}").contains("SK"),
            "file Debug hides the secret"
        );
        let mut args = ServeArgs {
            pg_pool_size: Some(9),
            ..ServeArgs::default()
        };
        let store = resolve_store(&mut args, &mut file, no_env).expect("store");
        let StoreChoice::Postgres {
            metadata,
            options,
            blobs,
            credentials,
        } = store
        else {
            panic!("expected the postgres store");
        };
        assert_eq!(metadata.redacted(), "postgres://m:***@db/m");
        assert_eq!(options.pool_size, 9, "the flag beats the file");
        assert_eq!(options.connect_timeout, Some(Duration::from_secs(3)));
        assert_eq!(options.ssl_mode, Some(PgSslMode::VerifyFull));
        assert_eq!(options.ssl_root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(blobs.endpoint.as_deref(), Some("http://s3.local:9000"));
        assert_eq!(blobs.region, "auto");
        assert!(!format!("{credentials:?}").contains("SK"));
    }

    #[test]
    fn store_settings_are_checked() {
        let local = resolve_store(
            &mut ServeArgs::default(),
            &mut FileConfig::default(),
            no_env,
        )
        .expect("local");
        assert!(matches!(local, StoreChoice::Local));
        let err = |args: ServeArgs, toml_text: &str| {
            let mut file: FileConfig = toml::from_str(toml_text).expect("toml");
            let mut args = args;
            resolve_store(&mut args, &mut file, no_env)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err(ServeArgs::default(), "pg_pool_size = 3").contains("--pg-pool-size"));
        assert!(err(ServeArgs::default(), "metadata = \"postgres://h/d\"").contains("go together"));
        assert!(
            err(
                ServeArgs::default(),
                "metadata = \"postgres://h/d\"\nblobs = \"s3://b\"\npg_sslmode = \"verify-ca\""
            )
            .contains("pg_sslmode")
        );
        assert!(
            err(
                ServeArgs::default(),
                "metadata = \"postgres://h/d\"\nblobs = \"s3://b\"\npg_ssl_root_cert = \"/x\""
            )
            .contains("verify-full")
        );
        assert!(
            err(
                ServeArgs::default(),
                "metadata = \"postgres://h/d\"\nblobs = \"s3://b\"\nblobs_access_key_id = \"a\""
            )
            .contains("both")
        );
        let bad_url = err(
            ServeArgs::default(),
            "metadata = \"mysql://u:hunter2@h/d\"\nblobs = \"s3://b\"",
        );
        assert!(
            bad_url.contains("metadata") && !bad_url.contains("hunter2"),
            "{bad_url}"
        );
    }

    #[test]
    fn upstream_credentials_fall_back_to_the_environment() {
        let env = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("from-env".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("env-secret".to_owned()),
            _ => None,
        };
        let mut file: FileConfig =
            toml::from_str("metadata = \"postgres://h/d\"\nblobs = \"s3://b\"").expect("toml");
        let store = resolve_store(&mut ServeArgs::default(), &mut file, env).expect("store");
        let StoreChoice::Postgres { credentials, .. } = store else {
            panic!("expected the postgres store");
        };
        assert!(format!("{credentials:?}").contains("from-env"));
    }
}
