//! A small request signer written from the AWS documents (not from s3s): SigV4 in every payload
//! mode, presigned query, and SigV2, with knobs to break each part on purpose.
//!
//! It produces the exact bytes sent on the wire, so a case can sign a request and then tamper
//! with the result, or sign one thing and send another.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// SHA-256 of the empty string, hex.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// How a request is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthPath {
    /// Header-signed, `x-amz-content-sha256` = hex SHA-256 of the body.
    Signed,
    /// Header-signed, `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` with real chunk signatures.
    Streaming,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER` with a CRC32 trailer.
    UnsignedTrailer,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and a signed trailer.
    SignedTrailer,
    /// Presigned query (`X-Amz-Signature`).
    Presigned,
    /// SigV2 (`Authorization: AWS key:sig`), which Mayfly refuses.
    SigV2,
}

impl AuthPath {
    /// Every path, in report order.
    pub const ALL: [AuthPath; 7] = [
        AuthPath::Signed,
        AuthPath::Unsigned,
        AuthPath::Streaming,
        AuthPath::UnsignedTrailer,
        AuthPath::SignedTrailer,
        AuthPath::Presigned,
        AuthPath::SigV2,
    ];

    /// Short column name for the report.
    pub fn name(self) -> &'static str {
        match self {
            AuthPath::Signed => "sha256",
            AuthPath::Unsigned => "unsigned",
            AuthPath::Streaming => "stream",
            AuthPath::UnsignedTrailer => "unsig-trl",
            AuthPath::SignedTrailer => "sig-trl",
            AuthPath::Presigned => "presign",
            AuthPath::SigV2 => "sigv2",
        }
    }

    /// The aws-chunked modes, which only make sense with a request body.
    pub fn is_streaming(self) -> bool {
        matches!(
            self,
            AuthPath::Streaming | AuthPath::UnsignedTrailer | AuthPath::SignedTrailer
        )
    }
}

/// Credentials a request is signed with. `token` is the session token, if any.
#[derive(Clone)]
pub struct Creds {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret: String,
    /// `X-Amz-Security-Token`.
    pub token: Option<String>,
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Creds")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// An unsigned request. `path` is the request path as sent (already percent-encoded);
/// `query` holds decoded pairs, encoded the AWS way on the wire unless `raw_query` is set.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Encoded path, e.g. `/bucket/a%20b`.
    pub path: String,
    /// Exact path bytes for the wire (e.g. invalid UTF-8), overriding `path`; the signature is
    /// still computed over `path`.
    pub raw_path: Option<Vec<u8>>,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Exact query text appended to the signed one on the wire (not signed).
    pub extra_raw_query: Option<String>,
    /// Exact wire text for the pairs of `query` (same count, same order), so one meaning can
    /// be signed and another spelling sent.
    pub wire_query: Option<Vec<String>>,
    /// Headers to sign (besides the ones the signer adds).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// A request with no query, headers or body.
    pub fn new(method: &str, path: impl Into<String>) -> Self {
        Self {
            method: method.to_owned(),
            path: path.into(),
            ..Self::default()
        }
    }

    /// Adds a query pair (decoded).
    pub fn q(mut self, k: &str, v: &str) -> Self {
        self.query.push((k.to_owned(), v.to_owned()));
        self
    }

    /// Adds a header.
    pub fn h(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Self {
        self.body = b.into();
        self
    }
}

/// Where the session token goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPlace {
    /// Header for header-signed requests, query for presigned (what SDKs do).
    Natural,
    /// Always in the (signed) query.
    Query,
    /// Always in a header (for presigned: an unsigned header).
    Header,
    /// Not sent even when the credentials carry one.
    Omit,
}

/// Knobs for breaking a signature on purpose. `Default` signs correctly at `time`.
#[derive(Debug, Clone)]
pub struct SignOpts {
    /// Signing time, epoch seconds (`X-Amz-Date`).
    pub time: u64,
    /// Overrides the date in the credential scope (`YYYYMMDD`).
    pub scope_date: Option<String>,
    /// Region in the scope.
    pub region: String,
    /// Service in the scope.
    pub service: String,
    /// Where the token goes.
    pub token_place: TokenPlace,
    /// `X-Amz-Expires` for presigned requests, as text (so `0`, `-1` are possible).
    pub expires: String,
    /// aws-chunk data size.
    pub chunk_size: usize,
    /// Flip a bit of the first chunk signature.
    pub corrupt_chunk_sig: bool,
    /// Flip a bit of the trailer signature.
    pub corrupt_trailer_sig: bool,
    /// Headers added after signing (so unsigned).
    pub unsigned_headers: Vec<(String, String)>,
    /// Flip a bit of the request signature.
    pub corrupt_sig: bool,
    /// Body sent instead of the signed one (same length unless changed).
    pub swap_body: Option<Vec<u8>>,
}

impl SignOpts {
    /// Correct signing at `time`.
    pub fn at(time: u64) -> Self {
        Self {
            time,
            scope_date: None,
            region: "auto".into(),
            service: "s3".into(),
            token_place: TokenPlace::Natural,
            expires: "3600".into(),
            chunk_size: 16,
            corrupt_chunk_sig: false,
            corrupt_trailer_sig: false,
            unsigned_headers: Vec::new(),
            corrupt_sig: false,
            swap_body: None,
        }
    }
}

/// A signed request, ready to send.
#[derive(Debug, Clone)]
pub struct Wire {
    /// The HTTP/1.1 request bytes (`Connection: close`).
    pub bytes: Vec<u8>,
    /// Every signature this request carries (for the log check).
    pub signatures: Vec<String>,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut m) = HmacSha256::new_from_slice(key) else {
        unreachable!("HMAC takes any key length")
    };
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// HMAC-SHA256 as hex.
pub fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    hex(&hmac(key, data))
}

/// AWS URI encoding: every byte but `A-Za-z0-9-._~` as `%XX`, and `/` kept unless `slash`.
pub fn aws_encode(s: &[u8], encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else if b == b'/' && !encode_slash {
            out.push('/');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decodes once (invalid escapes kept literally).
pub fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hexval(b[i + 1]), hexval(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn hexval(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// `(YYYYMMDD, YYYYMMDDTHHMMSSZ)` for epoch seconds.
pub fn amz_dates(epoch: u64) -> (String, String) {
    let days = i64::try_from(epoch / 86_400).unwrap_or(0);
    let secs = epoch % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = format!("{y:04}{m:02}{d:02}");
    let full = format!(
        "{date}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    (date, full)
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut enc: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| {
            (
                aws_encode(k.as_bytes(), true),
                aws_encode(v.as_bytes(), true),
            )
        })
        .collect();
    enc.sort();
    enc.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn canonical_uri(path: &str) -> String {
    aws_encode(&percent_decode(path), false)
}

fn flip(sig: &str) -> String {
    let mut c: Vec<char> = sig.chars().collect();
    if let Some(first) = c.first_mut() {
        *first = if *first == '0' { '1' } else { '0' };
    }
    c.into_iter().collect()
}

/// Signs and frames `req` for `host` along `path`.
pub fn sign(req: &Request, creds: &Creds, host: &str, path: AuthPath, o: &SignOpts) -> Wire {
    match path {
        AuthPath::Presigned => presign(req, creds, host, o),
        AuthPath::SigV2 => sign_v2(req, creds, host, o),
        AuthPath::Signed
        | AuthPath::Unsigned
        | AuthPath::Streaming
        | AuthPath::UnsignedTrailer
        | AuthPath::SignedTrailer => sign_header(req, creds, host, path, o),
    }
}

struct Scope {
    date: String,
    full: String,
    scope: String,
    key: Vec<u8>,
}

fn scope_of(creds: &Creds, o: &SignOpts) -> Scope {
    let (date, full) = amz_dates(o.time);
    let sdate = o.scope_date.clone().unwrap_or_else(|| date.clone());
    let scope = format!("{sdate}/{}/{}/aws4_request", o.region, o.service);
    let key = signing_key(&creds.secret, &sdate, &o.region, &o.service);
    Scope {
        date,
        full,
        scope,
        key,
    }
}

fn sign_header(req: &Request, creds: &Creds, host: &str, path: AuthPath, o: &SignOpts) -> Wire {
    let sc = scope_of(creds, o);
    let _ = &sc.date;
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    headers.push(("host".into(), host.into()));
    headers.push(("x-amz-date".into(), sc.full.clone()));
    let mut query = req.query.clone();
    match (o.token_place, &creds.token) {
        (TokenPlace::Natural | TokenPlace::Header, Some(t)) => {
            headers.push(("x-amz-security-token".into(), t.clone()));
        }
        (TokenPlace::Query, Some(t)) => query.push(("X-Amz-Security-Token".into(), t.clone())),
        (TokenPlace::Omit, _) | (_, None) => {}
    }
    let payload = match path {
        AuthPath::Signed => sha256_hex(&req.body),
        AuthPath::Unsigned => "UNSIGNED-PAYLOAD".into(),
        AuthPath::Streaming => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into(),
        AuthPath::UnsignedTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER".into(),
        AuthPath::SignedTrailer => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".into(),
        AuthPath::Presigned | AuthPath::SigV2 => unreachable!("not header SigV4"),
    };
    headers.push(("x-amz-content-sha256".into(), payload.clone()));
    if path.is_streaming() {
        headers.push(("content-encoding".into(), "aws-chunked".into()));
        headers.push((
            "x-amz-decoded-content-length".into(),
            req.body.len().to_string(),
        ));
        if matches!(path, AuthPath::UnsignedTrailer | AuthPath::SignedTrailer) {
            headers.push(("x-amz-trailer".into(), "x-amz-checksum-crc32".into()));
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let signed_names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let signed_names = signed_names.join(";");
    let canon_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let creq = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(&req.path),
        canonical_query(&query),
        canon_headers,
        signed_names,
        payload
    );
    let sts = format!(
        "AWS4-HMAC-SHA256\n{}\n{}\n{}",
        sc.full,
        sc.scope,
        sha256_hex(creq.as_bytes())
    );
    let mut sig = hmac_hex(&sc.key, sts.as_bytes());
    let mut sigs = vec![sig.clone()];
    if o.corrupt_sig {
        sig = flip(&sig);
    }
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
        creds.access_key, sc.scope, signed_names, sig
    );
    headers.push(("authorization".into(), auth));
    let body_src = o.swap_body.as_deref().unwrap_or(&req.body);
    let body = if path.is_streaming() {
        // Chunk signatures and the trailer checksum cover the signed body; a swapped body is
        // sent in its place, byte for byte (same length), as a man in the middle would.
        let seed = sigs[0].clone();
        let mut framed = frame_chunks(&req.body, path, &sc, &seed, o, &mut sigs);
        if let Some(swap) = &o.swap_body {
            replace_data(&mut framed, &req.body, swap);
        }
        framed
    } else {
        body_src.to_vec()
    };
    headers.extend(o.unsigned_headers.iter().cloned());
    Wire {
        bytes: assemble(req, &query, &headers, &body),
        signatures: sigs,
    }
}

fn frame_chunks(
    body: &[u8],
    path: AuthPath,
    sc: &Scope,
    seed: &str,
    o: &SignOpts,
    sigs: &mut Vec<String>,
) -> Vec<u8> {
    let signed = matches!(path, AuthPath::Streaming | AuthPath::SignedTrailer);
    let mut out = Vec::new();
    let mut prev = seed.to_owned();
    let mut first = true;
    let chunk_sig = |prev: &str, data: &[u8]| {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}",
            sc.full,
            sc.scope,
            prev,
            EMPTY_SHA256,
            sha256_hex(data)
        );
        hmac_hex(&sc.key, sts.as_bytes())
    };
    let size = o.chunk_size.max(1);
    let mut pieces: Vec<&[u8]> = body.chunks(size).collect();
    pieces.push(&[]);
    for data in pieces {
        if signed {
            let s = chunk_sig(&prev, data);
            sigs.push(s.clone());
            let sent = if first && o.corrupt_chunk_sig {
                flip(&s)
            } else {
                s.clone()
            };
            first = false;
            out.extend_from_slice(
                format!("{:x};chunk-signature={sent}\r\n", data.len()).as_bytes(),
            );
            prev = s;
        } else {
            out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        }
        if !data.is_empty() {
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
    }
    match path {
        AuthPath::Streaming => out.extend_from_slice(b"\r\n"),
        AuthPath::UnsignedTrailer | AuthPath::SignedTrailer => {
            let crc = STANDARD.encode(crc32fast::hash(body).to_be_bytes());
            let trailer = format!("x-amz-checksum-crc32:{crc}");
            out.extend_from_slice(trailer.as_bytes());
            out.extend_from_slice(b"\r\n");
            if path == AuthPath::SignedTrailer {
                let sts = format!(
                    "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
                    sc.full,
                    sc.scope,
                    prev,
                    sha256_hex(format!("{trailer}\n").as_bytes())
                );
                let s = hmac_hex(&sc.key, sts.as_bytes());
                sigs.push(s.clone());
                let sent = if o.corrupt_trailer_sig { flip(&s) } else { s };
                out.extend_from_slice(format!("x-amz-trailer-signature:{sent}\r\n").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        AuthPath::Signed | AuthPath::Unsigned | AuthPath::Presigned | AuthPath::SigV2 => {}
    }
    out
}

/// Replaces each occurrence of the signed body's chunks in `framed` with the swapped bytes.
fn replace_data(framed: &mut [u8], signed: &[u8], swap: &[u8]) {
    if signed.len() != swap.len() || signed.is_empty() {
        return;
    }
    // Chunks are contiguous slices of the body, in order: find each and overwrite it.
    let mut from = 0;
    let mut pos = 0;
    while pos < signed.len() {
        let mut best = None;
        for len in (1..=signed.len() - pos).rev() {
            let needle = &signed[pos..pos + len];
            if let Some(i) = framed[from..].windows(len).position(|w| w == needle) {
                best = Some((from + i, len));
                break;
            }
        }
        let Some((at, len)) = best else { return };
        framed[at..at + len].copy_from_slice(&swap[pos..pos + len]);
        from = at + len;
        pos += len;
    }
}

fn presign(req: &Request, creds: &Creds, host: &str, o: &SignOpts) -> Wire {
    let sc = scope_of(creds, o);
    let mut query = req.query.clone();
    query.push(("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()));
    query.push((
        "X-Amz-Credential".into(),
        format!("{}/{}", creds.access_key, sc.scope),
    ));
    query.push(("X-Amz-Date".into(), sc.full.clone()));
    query.push(("X-Amz-Expires".into(), o.expires.clone()));
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    match (o.token_place, &creds.token) {
        (TokenPlace::Natural | TokenPlace::Query, Some(t)) => {
            query.push(("X-Amz-Security-Token".into(), t.clone()));
        }
        (TokenPlace::Header, Some(t)) => headers.push(("x-amz-security-token".into(), t.clone())),
        (TokenPlace::Omit, _) | (_, None) => {}
    }
    // Sign `host` and the request's own headers (as SDKs do when presigning with headers).
    let mut signed: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    signed.push(("host".into(), host.to_owned()));
    signed.sort();
    let names: Vec<&str> = signed.iter().map(|(k, _)| k.as_str()).collect();
    let names = names.join(";");
    query.push(("X-Amz-SignedHeaders".into(), names.clone()));
    let canon: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let creq = format!(
        "{}\n{}\n{}\n{}\n{}\nUNSIGNED-PAYLOAD",
        req.method,
        canonical_uri(&req.path),
        canonical_query(&query),
        canon,
        names
    );
    let sts = format!(
        "AWS4-HMAC-SHA256\n{}\n{}\n{}",
        sc.full,
        sc.scope,
        sha256_hex(creq.as_bytes())
    );
    let sig = hmac_hex(&sc.key, sts.as_bytes());
    let sent = if o.corrupt_sig {
        flip(&sig)
    } else {
        sig.clone()
    };
    query.push(("X-Amz-Signature".into(), sent));
    headers.push(("host".into(), host.into()));
    headers.extend(o.unsigned_headers.iter().cloned());
    let body = o.swap_body.as_deref().unwrap_or(&req.body);
    Wire {
        bytes: assemble(req, &query, &headers, body),
        signatures: vec![sig],
    }
}

fn sign_v2(req: &Request, creds: &Creds, host: &str, o: &SignOpts) -> Wire {
    let date = http_date(o.time);
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    headers.push(("host".into(), host.into()));
    headers.push(("date".into(), date.clone()));
    if let (Some(t), false) = (&creds.token, o.token_place == TokenPlace::Omit) {
        headers.push(("x-amz-security-token".into(), t.clone()));
    }
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut amz: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k.starts_with("x-amz-"))
        .cloned()
        .collect();
    amz.sort();
    let amz: String = amz.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let sub: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| {
            ["uploads", "uploadId", "partNumber", "delete", "acl"].contains(&k.as_str())
        })
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    let resource = if sub.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, sub.join("&"))
    };
    let sts = format!(
        "{}\n{}\n{}\n{}\n{}{}",
        req.method,
        get("content-md5"),
        get("content-type"),
        date,
        amz,
        resource
    );
    let Ok(mut m) = Hmac::<sha1::Sha1>::new_from_slice(creds.secret.as_bytes()) else {
        unreachable!("HMAC takes any key length")
    };
    m.update(sts.as_bytes());
    let sig = STANDARD.encode(m.finalize().into_bytes());
    headers.push((
        "authorization".into(),
        format!("AWS {}:{}", creds.access_key, sig),
    ));
    headers.extend(o.unsigned_headers.iter().cloned());
    Wire {
        bytes: assemble(req, &req.query, &headers, &req.body),
        signatures: vec![sig],
    }
}

/// SigV2 presigned query (`AWSAccessKeyId`, `Expires`, `Signature`).
pub fn presign_v2(req: &Request, creds: &Creds, host: &str, expires: u64) -> Wire {
    let sts = format!("{}\n\n\n{}\n{}", req.method, expires, req.path);
    let Ok(mut m) = Hmac::<sha1::Sha1>::new_from_slice(creds.secret.as_bytes()) else {
        unreachable!("HMAC takes any key length")
    };
    m.update(sts.as_bytes());
    let sig = STANDARD.encode(m.finalize().into_bytes());
    let mut query = req.query.clone();
    query.push(("AWSAccessKeyId".into(), creds.access_key.clone()));
    query.push(("Expires".into(), expires.to_string()));
    query.push(("Signature".into(), sig.clone()));
    if let Some(t) = &creds.token {
        query.push(("x-amz-security-token".into(), t.clone()));
    }
    let headers = vec![("host".to_owned(), host.to_owned())];
    Wire {
        bytes: assemble(req, &query, &headers, &req.body),
        signatures: vec![sig],
    }
}

/// RFC 7231 date.
pub fn http_date(epoch: u64) -> String {
    let (d, f) = amz_dates(epoch);
    let days = epoch / 86_400;
    let wd =
        ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][usize::try_from(days % 7).unwrap_or(0)];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m: usize = d[4..6].parse().unwrap_or(1);
    format!(
        "{wd}, {} {} {} {}:{}:{} GMT",
        &d[6..8],
        months[m.saturating_sub(1) % 12],
        &d[0..4],
        &f[9..11],
        &f[11..13],
        &f[13..15]
    )
}

fn assemble(
    req: &Request,
    query: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 1024);
    out.extend_from_slice(req.method.as_bytes());
    out.push(b' ');
    match &req.raw_path {
        Some(p) => out.extend_from_slice(p),
        None => out.extend_from_slice(req.path.as_bytes()),
    }
    let user = req.wire_query.as_ref().map_or(0, Vec::len);
    let mut qs: Vec<String> = req.wire_query.clone().unwrap_or_default();
    qs.extend(query.iter().skip(user).map(|(k, v)| {
        if v.is_empty() && !k.starts_with("X-Amz-") && !k.starts_with("x-amz-") {
            aws_encode(k.as_bytes(), true)
        } else {
            format!(
                "{}={}",
                aws_encode(k.as_bytes(), true),
                aws_encode(v.as_bytes(), true)
            )
        }
    }));
    if let Some(extra) = &req.extra_raw_query {
        qs.push(extra.clone());
    }
    if !qs.is_empty() {
        out.push(b'?');
        out.extend_from_slice(qs.join("&").as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format() {
        assert_eq!(amz_dates(1_750_000_000).1, "20250615T150640Z");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn aws_signing_key_matches_the_documented_example() {
        // AWS SigV4 docs: the example signing key for 20150830/us-east-1/iam.
        let k = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&k),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }
}
