//! Server configuration: flags and `MAYFLY_*` variables (both parsed by clap) override the TOML
//! file, which overrides the defaults. The result, [`ServeConfig`], is plain data the wiring in
//! [`crate::serve`] consumes; nothing here opens sockets or the store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::{LogFormat, ServeArgs};

/// Data directory used when nothing else names one.
pub const DEFAULT_DATA_DIR: &str = "./mayfly-data";
/// API listen address used when nothing else names one.
pub const DEFAULT_API_LISTEN: &str = "127.0.0.1:8787";
/// S3 listen address used when nothing else names one.
pub const DEFAULT_S3_LISTEN: &str = "127.0.0.1:8788";

/// The TOML config file. Every key is optional; unknown keys are an error (a typo should not
/// silently fall back to a default).
#[derive(Debug, Default, serde::Deserialize)]
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
}

impl ServeConfig {
    /// Flags/env first, then the file named by `--config`, then defaults.
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };
        Self::merge(args, file)
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
        })
    }
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
    fn unknown_file_keys_are_rejected() {
        assert!(toml::from_str::<FileConfig>("data_dri = \"x\"").is_err());
    }
}
