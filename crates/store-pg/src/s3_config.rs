//! Where [`crate::S3Blobs`] keeps blobs: [`S3BlobsConfig`], parsed from a URL such as
//! `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=auto`, plus [`S3Credentials`]
//! from the environment. Secrets print redacted under `Debug` and never appear in errors.

use std::fmt;

/// Why an upstream blob configuration was refused. Messages name the field, never a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum S3ConfigError {
    /// The URL did not parse, or is not `s3://bucket[/prefix][?query]`.
    #[error("invalid blob URL: {0}")]
    Url(&'static str),
    /// A query parameter this backend does not know (typos must not be ignored).
    #[error("unknown blob URL parameter {0:?}")]
    UnknownParameter(String),
    /// No access key id / secret in the environment.
    #[error(
        "no upstream S3 credentials: set MAYFLY_BLOBS_ACCESS_KEY_ID and \
         MAYFLY_BLOBS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    )]
    MissingCredentials,
}

/// Upstream S3 credentials. The secret and session token print redacted.
#[derive(Clone)]
pub struct S3Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl S3Credentials {
    /// Static credentials.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        }
    }

    /// Reads `MAYFLY_BLOBS_ACCESS_KEY_ID` / `MAYFLY_BLOBS_SECRET_ACCESS_KEY` /
    /// `MAYFLY_BLOBS_SESSION_TOKEN`, falling back (as a set) to `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, through `var` (e.g.
    /// `|name| std::env::var(name).ok()`).
    pub fn from_env_with(var: impl Fn(&str) -> Option<String>) -> Result<Self, S3ConfigError> {
        for prefix in ["MAYFLY_BLOBS_", "AWS_"] {
            let id = var(&format!("{prefix}ACCESS_KEY_ID")).filter(|v| !v.is_empty());
            let secret = var(&format!("{prefix}SECRET_ACCESS_KEY")).filter(|v| !v.is_empty());
            if let (Some(id), Some(secret)) = (id, secret) {
                let token = var(&format!("{prefix}SESSION_TOKEN")).filter(|v| !v.is_empty());
                return Ok(Self::new(id, secret, token));
            }
        }
        Err(S3ConfigError::MissingCredentials)
    }

    /// [`S3Credentials::from_env_with`] over the process environment.
    pub fn from_env() -> Result<Self, S3ConfigError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    pub(crate) fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret, for the request signer only.
    pub(crate) fn expose_secret(&self) -> &str {
        &self.secret_access_key
    }

    pub(crate) fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// An upstream bucket and key prefix for blobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3BlobsConfig {
    /// Upstream bucket name.
    pub bucket: String,
    /// Key prefix without leading or trailing `/` (empty: the bucket root). Blob `id` is
    /// stored at `<prefix>/<id>`.
    pub prefix: String,
    /// Endpoint URL (`http://127.0.0.1:9000`, `https://<account>.r2.cloudflarestorage.com`);
    /// `None` means AWS.
    pub endpoint: Option<String>,
    /// Signing region; `us-east-1` unless given (`auto` for R2).
    pub region: String,
    /// Virtual-hosted-style requests (`bucket.host`) instead of path style.
    pub virtual_hosted: bool,
}

impl S3BlobsConfig {
    /// Parses `s3://bucket[/prefix][?endpoint=URL&region=R&virtual_hosted=true|false]`.
    pub fn parse(url: &str) -> Result<Self, S3ConfigError> {
        let parsed = url::Url::parse(url).map_err(|_| S3ConfigError::Url("not a URL"))?;
        if parsed.scheme() != "s3" {
            return Err(S3ConfigError::Url("scheme must be s3://"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(S3ConfigError::Url(
                "credentials belong in the environment, not the URL",
            ));
        }
        let bucket = parsed
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or(S3ConfigError::Url("missing bucket"))?
            .to_owned();
        let prefix = parsed.path().trim_matches('/').to_owned();
        if prefix.split('/').any(|seg| seg == "." || seg == "..") {
            return Err(S3ConfigError::Url("prefix must not contain . or .."));
        }
        let mut config = Self {
            bucket,
            prefix,
            endpoint: None,
            region: "us-east-1".to_owned(),
            virtual_hosted: false,
        };
        for (name, value) in parsed.query_pairs() {
            match name.as_ref() {
                "endpoint" => {
                    let endpoint = url::Url::parse(&value)
                        .map_err(|_| S3ConfigError::Url("endpoint is not a URL"))?;
                    if !matches!(endpoint.scheme(), "http" | "https") {
                        return Err(S3ConfigError::Url("endpoint must be http(s)://"));
                    }
                    config.endpoint = Some(value.trim_end_matches('/').to_owned());
                }
                "region" => config.region = value.into_owned(),
                "virtual_hosted" => {
                    config.virtual_hosted = match value.as_ref() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(S3ConfigError::Url("virtual_hosted must be true or false"));
                        }
                    }
                }
                other => return Err(S3ConfigError::UnknownParameter(other.to_owned())),
            }
        }
        Ok(config)
    }

    /// True when the endpoint is plain HTTP (tests, a local upstream).
    pub fn allows_http(&self) -> bool {
        self.endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_prefix_and_query() {
        let c = S3BlobsConfig::parse(
            "s3://blobs/mayfly/node-a/?endpoint=http://127.0.0.1:9000&region=auto",
        );
        assert_eq!(
            c,
            Ok(S3BlobsConfig {
                bucket: "blobs".to_owned(),
                prefix: "mayfly/node-a".to_owned(),
                endpoint: Some("http://127.0.0.1:9000".to_owned()),
                region: "auto".to_owned(),
                virtual_hosted: false,
            })
        );
        assert!(c.is_ok_and(|c| c.allows_http()));
        let bare = S3BlobsConfig::parse("s3://b").expect("bare bucket");
        assert_eq!(
            (bare.prefix.as_str(), bare.region.as_str()),
            ("", "us-east-1")
        );
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "http://b/p",
            "s3:///p",
            "s3://key:secret@b/p",
            "s3://b/p?endpoint=ftp://x",
            "s3://b/p?regoin=auto",
        ] {
            assert!(S3BlobsConfig::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_come_from_mayfly_vars_first_and_never_print() {
        let env = |name: &str| match name {
            "MAYFLY_BLOBS_ACCESS_KEY_ID" => Some("mayfly-id".to_owned()),
            "MAYFLY_BLOBS_SECRET_ACCESS_KEY" => Some("mayfly-secret".to_owned()),
            "AWS_ACCESS_KEY_ID" => Some("aws-id".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("aws-secret".to_owned()),
            _ => None,
        };
        let creds = S3Credentials::from_env_with(env).expect("credentials");
        assert_eq!(creds.access_key_id(), "mayfly-id");
        assert!(!format!("{creds:?}").contains("mayfly-secret"));
        let aws_only = |name: &str| env(name).filter(|_| name.starts_with("AWS_"));
        let creds = S3Credentials::from_env_with(aws_only).expect("aws fallback");
        assert_eq!(creds.access_key_id(), "aws-id");
        assert_eq!(
            S3Credentials::from_env_with(|_| None).err(),
            Some(S3ConfigError::MissingCredentials)
        );
    }
}
