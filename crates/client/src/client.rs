//! The HTTP core: [`Client`], its [`ClientBuilder`], the v4 envelope decoder and the retry
//! policy. Endpoint methods live in [`crate::r2`] and [`crate::tokens`]; this module knows
//! nothing about what they send.
//!
//! Retries copy the official (Stainless-generated) SDKs: up to 2 retries on 408, 409, 429, 5xx
//! and connection failures, honouring `x-should-retry`, `retry-after-ms` and `retry-after`,
//! otherwise exponential backoff from 0.5 s (capped at 8 s) with up to 25% jitter. Requests
//! are replayed byte for byte, which the R2 API makes safe.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{ApiError, ConfigError, Error, ErrorItem};

/// Cloudflare's API base URL, used when neither the builder nor `CLOUDFLARE_BASE_URL` sets one.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";
/// Environment variable for the base URL (the same one the official SDKs read).
pub const ENV_BASE_URL: &str = "CLOUDFLARE_BASE_URL";
/// Environment variable for the bearer token (the same one the official SDKs read).
pub const ENV_API_TOKEN: &str = "CLOUDFLARE_API_TOKEN";
/// Environment variable for the account id (used by the `mayfly` CLI).
pub const ENV_ACCOUNT_ID: &str = "CLOUDFLARE_ACCOUNT_ID";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_MAX_RETRIES: u32 = 2;
const INITIAL_RETRY_DELAY: Duration = Duration::from_millis(500);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(8);

/// An API token value, sent as `Authorization: Bearer ...`.
///
/// A bearer secret: zeroized on drop, redacted under `Debug`, no `Display`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token value. Checked for header-safe characters when the client is built.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The token's characters. Only the `Authorization` header and the CLI's explicit
    /// `--json` output of a freshly created token read them.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// Builds a [`Client`]. Unset fields fall back to the environment, then to defaults.
#[derive(Debug, Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    api_token: Option<ApiToken>,
    timeout: Option<Duration>,
    max_retries: Option<u32>,
    initial_retry_delay: Option<Duration>,
}

impl ClientBuilder {
    /// API base URL including `/client/v4` (default: `CLOUDFLARE_BASE_URL`, then Cloudflare).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Bearer token (default: `CLOUDFLARE_API_TOKEN`).
    pub fn api_token(mut self, token: ApiToken) -> Self {
        self.api_token = Some(token);
        self
    }

    /// Whole-request timeout for one attempt (default 60 s, as the official SDKs).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt (default 2).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// First backoff delay when the server gives no `retry-after` (default 0.5 s; tests shorten it).
    pub fn initial_retry_delay(mut self, d: Duration) -> Self {
        self.initial_retry_delay = Some(d);
        self
    }

    /// Builds the client, reading `CLOUDFLARE_BASE_URL` / `CLOUDFLARE_API_TOKEN` for unset fields.
    pub fn build(self) -> Result<Client, Error> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let base = self
            .base_url
            .or_else(|| env(ENV_BASE_URL))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = parse_base_url(&base)?;
        let token = self
            .api_token
            .or_else(|| env(ENV_API_TOKEN).map(ApiToken::new))
            .ok_or(ConfigError::MissingToken)?;
        let mut auth = header::HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
            .map_err(|_| ConfigError::InvalidToken)?;
        auth.set_sensitive(true);
        let mut headers = header::HeaderMap::new();
        headers.insert(header::AUTHORIZATION, auth);
        headers.insert(
            header::ACCEPT,
            header::HeaderValue::from_static("application/json"),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("mayfly-client/", env!("CARGO_PKG_VERSION")))
            .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(Error::Transport)?;
        Ok(Client {
            http,
            base_url,
            max_retries: self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
            initial_retry_delay: self.initial_retry_delay.unwrap_or(INITIAL_RETRY_DELAY),
        })
    }
}

fn parse_base_url(s: &str) -> Result<Url, ConfigError> {
    let bad = |reason| ConfigError::InvalidBaseUrl {
        url: s.to_owned(),
        reason,
    };
    let mut url = Url::parse(s).map_err(|_| bad("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("scheme must be http or https"));
    }
    if url.cannot_be_a_base() {
        return Err(bad("cannot be a base URL"));
    }
    // Segments are appended, so a trailing slash would make an empty segment.
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// A typed client for the R2 management API. Cheap to clone (the connection pool is shared).
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base_url: Url,
    max_retries: u32,
    initial_retry_delay: Duration,
}

/// The v4 envelope as received. Every field is optional so that a partial body still yields
/// whatever errors it carries.
#[derive(serde::Deserialize)]
struct Envelope {
    success: Option<bool>,
    #[serde(default)]
    errors: Vec<WireErrorItem>,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    result_info: Option<serde_json::Value>,
}

#[derive(serde::Deserialize)]
struct WireErrorItem {
    code: u32,
    #[serde(default)]
    message: String,
    #[serde(default)]
    source: Option<WireErrorSource>,
}

#[derive(serde::Deserialize)]
struct WireErrorSource {
    #[serde(default)]
    pointer: Option<String>,
}

impl From<WireErrorItem> for ErrorItem {
    fn from(w: WireErrorItem) -> Self {
        ErrorItem {
            code: w.code,
            message: w.message,
            pointer: w.source.and_then(|s| s.pointer),
        }
    }
}

/// A decoded successful envelope.
pub(crate) struct Success {
    pub(crate) status: u16,
    pub(crate) result: Option<serde_json::Value>,
    pub(crate) result_info: Option<serde_json::Value>,
}

impl Success {
    /// Decodes `result` as `T`; a missing or null result is a decode error.
    pub(crate) fn into_result<T: DeserializeOwned>(self) -> Result<T, Error> {
        let status = self.status;
        let value = self
            .result
            .filter(|v| !v.is_null())
            .ok_or_else(|| Error::Decode {
                status,
                reason: "the envelope has no result".into(),
            })?;
        serde_json::from_value(value).map_err(|e| Error::Decode {
            status,
            reason: format!("result: {e}"),
        })
    }
}

impl Client {
    /// A builder; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured entirely from `CLOUDFLARE_BASE_URL` and `CLOUDFLARE_API_TOKEN`.
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// The base URL requests go to (ends in `/client/v4` for Cloudflare and Mayfly).
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Sends one API call with retries and decodes the envelope.
    ///
    /// `segments` are appended to the base URL, each percent-encoded as one path segment.
    pub(crate) async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<Success, Error> {
        self.call_with_headers(method, segments, query, &[], body)
            .await
    }

    /// [`Client::call`] with extra request headers (Cloudflare's `cf-r2-jurisdiction`, ...).
    pub(crate) async fn call_with_headers<B: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        headers: &[(&'static str, String)],
        body: Option<&B>,
    ) -> Result<Success, Error> {
        let mut url = self.base_url.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| ConfigError::InvalidBaseUrl {
                    url: self.base_url.to_string(),
                    reason: "cannot be a base URL",
                })?;
            for s in segments {
                if s.is_empty() {
                    return Err(ConfigError::EmptyPathParam("path parameter").into());
                }
                path.push(s);
            }
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        // Serialize once, so every retry sends identical bytes.
        let body_bytes = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| Error::Decode {
                status: 0,
                reason: format!("cannot encode request: {e}"),
            })?),
            None => None,
        };

        let mut attempt = 0u32;
        loop {
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("x-stainless-retry-count", attempt.to_string());
            for (name, value) in headers {
                req = req.header(*name, value.as_str());
            }
            if let Some(b) = &body_bytes {
                req = req
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            let retries_left = attempt < self.max_retries;
            match req.send().await {
                Err(e) => {
                    if retries_left && (e.is_connect() || e.is_timeout()) {
                        tokio::time::sleep(self.backoff(attempt, None)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(Error::Transport(e));
                }
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    if retries_left && should_retry(status, &headers) {
                        // Drain so the connection can be reused.
                        let _ = resp.bytes().await;
                        tokio::time::sleep(self.backoff(attempt, retry_after(&headers))).await;
                        attempt += 1;
                        continue;
                    }
                    let bytes = resp.bytes().await.map_err(Error::Transport)?;
                    return decode(status, &bytes);
                }
            }
        }
    }

    fn backoff(&self, attempt: u32, server_hint: Option<Duration>) -> Duration {
        if let Some(d) = server_hint.filter(|d| *d <= Duration::from_secs(60)) {
            return d;
        }
        let exp = self
            .initial_retry_delay
            .saturating_mul(1u32 << attempt.min(16));
        let capped = exp.min(MAX_RETRY_DELAY);
        // Up to 25% jitter, so clients that failed together do not retry together.
        let jitter = f64::from(u32::try_from(random_u64() % 1000).unwrap_or(0)) / 1000.0;
        capped.mul_f64(1.0 - 0.25 * jitter)
    }
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded per instance from the OS; enough for jitter, never for secrets.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish()
}

fn should_retry(status: StatusCode, headers: &header::HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => return true,
        Some("false") => return false,
        _ => {}
    }
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    if let Some(ms) = get("retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    // An HTTP-date `retry-after` is ignored: exponential backoff is a fine fallback.
    get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

fn decode(status: StatusCode, bytes: &[u8]) -> Result<Success, Error> {
    let code = status.as_u16();
    let envelope: Option<Envelope> = serde_json::from_slice(bytes).ok();
    if !status.is_success() {
        return Err(match envelope {
            Some(env) => {
                ApiError::new(code, env.errors.into_iter().map(Into::into).collect(), None)
            }
            None => ApiError::new(
                code,
                Vec::new(),
                Some(String::from_utf8_lossy(bytes).into_owned()),
            ),
        }
        .into());
    }
    let env = envelope.ok_or_else(|| Error::Decode {
        status: code,
        reason: "body is not a JSON v4 envelope".into(),
    })?;
    if env.success == Some(false) {
        return Err(
            ApiError::new(code, env.errors.into_iter().map(Into::into).collect(), None).into(),
        );
    }
    Ok(Success {
        status: code,
        result: env.result,
        result_info: env.result_info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_loses_trailing_slash_and_rejects_other_schemes() {
        assert_eq!(
            parse_base_url("http://127.0.0.1:8787/client/v4/").map(|u| u.to_string()),
            Ok("http://127.0.0.1:8787/client/v4".to_owned())
        );
        assert!(parse_base_url("ftp://x/").is_err());
        assert!(parse_base_url("not a url").is_err());
    }

    #[test]
    fn retryable_statuses_follow_the_sdks() {
        let none = header::HeaderMap::new();
        for s in [408u16, 409, 429, 500, 502, 503] {
            assert!(
                should_retry(StatusCode::from_u16(s).unwrap_or(StatusCode::OK), &none),
                "{s}"
            );
        }
        for s in [400u16, 401, 403, 404, 422] {
            assert!(
                !should_retry(StatusCode::from_u16(s).unwrap_or(StatusCode::OK), &none),
                "{s}"
            );
        }
        let mut no = header::HeaderMap::new();
        no.insert("x-should-retry", header::HeaderValue::from_static("false"));
        assert!(!should_retry(StatusCode::INTERNAL_SERVER_ERROR, &no));
    }

    #[test]
    fn retry_after_prefers_milliseconds() {
        let mut h = header::HeaderMap::new();
        h.insert("retry-after", header::HeaderValue::from_static("1"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(1)));
        h.insert("retry-after-ms", header::HeaderValue::from_static("200"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(200)));
    }

    #[test]
    fn success_false_on_200_is_an_error() {
        let body = br#"{"success":false,"errors":[{"code":1000,"message":"m"}],"messages":[],"result":null}"#;
        let err = decode(StatusCode::OK, body).err();
        assert_eq!(
            err.and_then(|e| e.as_api().map(|a| (a.status(), a.code()))),
            Some((200, Some(1000)))
        );
    }

    #[test]
    fn non_json_error_keeps_the_raw_body() {
        let err = decode(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>").err();
        let api = err.as_ref().and_then(Error::as_api);
        assert_eq!(
            api.and_then(ApiError::raw_body),
            Some("<html>bad gateway</html>")
        );
    }

    #[test]
    fn api_token_debug_is_redacted() {
        assert_eq!(
            format!("{:?}", ApiToken::new("abc")),
            "ApiToken(<redacted>)"
        );
    }
}
