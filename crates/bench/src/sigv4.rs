//! A minimal S3 client for GET and PUT of small objects: reqwest plus SigV4 header signing
//! written here, to measure how much of a small-object round trip is aws-sdk-s3's own
//! overhead (its orchestrator, interceptors and identity resolution) rather than the server's.
//!
//! It signs exactly what the SDK signs over plain HTTP: `host`, `x-amz-content-sha256` (the
//! body's SHA-256), `x-amz-date` and, for temporary credentials, `x-amz-security-token`. Path
//! style, region `auto`. The signing key is derived once per UTC day. Secrets live only in this
//! struct (whose `Debug` is not derived) and in the signature they produce.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use hmac::Mac;
use sha2::Digest as _;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// SHA-256 of the empty body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// One signer bound to one endpoint and key pair.
pub(crate) struct RawS3 {
    http: reqwest::Client,
    base: String,
    host: String,
    access_key_id: String,
    secret: String,
    session_token: Option<String>,
    /// `(yyyymmdd, signing key)` of the last day signed for.
    key_cache: Mutex<Option<(String, [u8; 32])>>,
}

impl RawS3 {
    /// `base` is `http://host:port` (path style: `base/bucket/key`).
    pub(crate) fn new(
        base: &str,
        access_key_id: &str,
        secret: &str,
        session_token: Option<String>,
    ) -> Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        let host = base
            .strip_prefix("http://")
            .context("the raw client speaks plain http:// only")?
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(RawS3 {
            http: reqwest::Client::builder().build().context("HTTP client")?,
            base,
            host,
            access_key_id: access_key_id.to_owned(),
            secret: secret.to_owned(),
            session_token,
            key_cache: Mutex::new(None),
        })
    }

    /// GetObject; returns the body length.
    pub(crate) async fn get(&self, bucket: &str, key: &str) -> Result<u64> {
        let req = self.signed(reqwest::Method::GET, bucket, key, EMPTY_SHA256.to_owned())?;
        let resp = req.send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        if !status.is_success() {
            bail!("GET {bucket}/{key}: HTTP {status}");
        }
        Ok(body.len() as u64)
    }

    /// PutObject with a signed payload; returns the body length.
    pub(crate) async fn put(&self, bucket: &str, key: &str, body: Bytes) -> Result<u64> {
        let hash = hex(&sha2::Sha256::digest(&body));
        let len = body.len() as u64;
        let resp = self
            .signed(reqwest::Method::PUT, bucket, key, hash)?
            .body(body)
            .send()
            .await?;
        let status = resp.status();
        resp.bytes().await?;
        if !status.is_success() {
            bail!("PUT {bucket}/{key}: HTTP {status}");
        }
        Ok(len)
    }

    fn signed(
        &self,
        method: reqwest::Method,
        bucket: &str,
        key: &str,
        payload_hash: String,
    ) -> Result<reqwest::RequestBuilder> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("clock before 1970")?
            .as_secs();
        let amz_date = amz_date(now);
        let day = &amz_date[..8];
        let path = format!("/{}/{}", uri_encode(bucket, false), uri_encode(key, false));
        let mut canonical = format!(
            "{method}\n{path}\n\nhost:{}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{amz_date}\n",
            self.host
        );
        let mut signed_headers = "host;x-amz-content-sha256;x-amz-date".to_owned();
        if let Some(t) = &self.session_token {
            let _ = writeln!(canonical, "x-amz-security-token:{t}");
            signed_headers.push_str(";x-amz-security-token");
        }
        let _ = write!(canonical, "\n{signed_headers}\n{payload_hash}");
        let scope = format!("{day}/auto/s3/aws4_request");
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&sha2::Sha256::digest(canonical.as_bytes()))
        );
        let signature = hex(&hmac(&self.signing_key(day)?, to_sign.as_bytes())?);
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.access_key_id
        );
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-amz-content-sha256", payload_hash)
            .header("x-amz-date", amz_date)
            .header("authorization", auth);
        if let Some(t) = &self.session_token {
            req = req.header("x-amz-security-token", t);
        }
        Ok(req)
    }

    fn signing_key(&self, day: &str) -> Result<[u8; 32]> {
        let mut cache = self
            .key_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((d, k)) = &*cache
            && d == day
        {
            return Ok(*k);
        }
        // The secret is read here, and only to derive the day's signing key.
        let k = hmac(format!("AWS4{}", self.secret).as_bytes(), day.as_bytes())?;
        let k = hmac(&k, b"auto")?;
        let k = hmac(&k, b"s3")?;
        let k = hmac(&k, b"aws4_request")?;
        *cache = Some((day.to_owned(), k));
        Ok(k)
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Result<[u8; 32]> {
    let mut mac = HmacSha256::new_from_slice(key).context("HMAC key")?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// RFC 3986 encoding as SigV4 wants it; `/` kept unless `slash`.
fn uri_encode(s: &str, slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !slash)
        {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` for epoch seconds (civil-from-days, proleptic Gregorian).
fn amz_date(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_encoding_match_sigv4() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_750_000_000), "20250615T150640Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(uri_encode("a b/c~", false), "a%20b/c~");
        assert_eq!(uri_encode("a/b", true), "a%2Fb");
    }
}
