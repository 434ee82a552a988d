//! Test environment and an independent SigV4 signer (header, presigned, aws-chunked).

#![allow(dead_code, unreachable_pub)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use hmac::{Hmac, Mac};
use http::{Request, Response};
use http_body_util::BodyExt;
use mayfly_core::{
    AccessKeyId, AccountId, BucketName, Claims, Permission, S3Action, SecretAccessKey,
};
use mayfly_s3::{EndpointHosts, Limits, S3State, router};
use mayfly_store::{
    AccountRecord, BucketRecord, Clock, Jurisdiction, MetadataStore, TokenRecord, TokenStatus,
};
use mayfly_store_local::LocalStore;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

pub const HOST: &str = "127.0.0.1:9000";
pub const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const OTHER_ACCOUNT: &str = "99999999999999999999999999999999";
pub const BUCKET: &str = "my-bucket";

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An S3 key pair, optionally with a session token.
#[derive(Clone, Debug)]
pub struct Key {
    pub id: String,
    pub secret: String,
    pub token: Option<String>,
}

pub struct Env {
    pub app: Router,
    /// The state `app` was built from (tests rebuild the router with other settings).
    pub state: S3State,
    pub meta: std::sync::Arc<dyn MetadataStore>,
    pub clock: Clock,
    pub admin: Key,
    _store: LocalStore,
    _dir: tempfile::TempDir,
}

fn hex32(n: u8) -> String {
    format!("{:02x}", n).repeat(16)
}

impl Env {
    pub async fn new() -> Env {
        Self::with(Clock::system(), Limits::default()).await
    }

    pub async fn with(clock: Clock, limits: Limits) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::open(dir.path()).expect("store");
        let meta = store.metadata();
        let hosts = EndpointHosts::for_listener(HOST.parse().expect("addr"), &["r2.example.com"])
            .expect("hosts");
        let state =
            S3State::new(meta.clone(), store.blobs(), clock.clone(), hosts).with_limits(limits);
        let app = router(state.clone());
        for acct in [ACCOUNT, OTHER_ACCOUNT] {
            meta.create_account(AccountRecord {
                id: AccountId::parse(acct).expect("id"),
                name: "t".into(),
                created_at: 1,
            })
            .await
            .expect("account");
        }
        let mut env = Env {
            app,
            state,
            meta,
            clock,
            admin: Key {
                id: String::new(),
                secret: String::new(),
                token: None,
            },
            _store: store,
            _dir: dir,
        };
        env.admin = env.token(1, Permission::AdminReadWrite, None).await;
        env.bucket(ACCOUNT, BUCKET).await;
        env
    }

    /// A long-lived token `n` of ACCOUNT.
    pub async fn token(&self, n: u8, permission: Permission, buckets: Option<Vec<&str>>) -> Key {
        self.token_in(ACCOUNT, n, permission, buckets).await
    }

    pub async fn token_in(
        &self,
        account: &str,
        n: u8,
        permission: Permission,
        buckets: Option<Vec<&str>>,
    ) -> Key {
        let id = hex32(n);
        let secret = SecretAccessKey::from_token_value(&format!("token-value-{n}"));
        let key = Key {
            id: id.clone(),
            secret: secret.expose_secret().to_owned(),
            token: None,
        };
        self.meta
            .create_token(TokenRecord {
                id: AccessKeyId::parse(&id).expect("key id"),
                account: AccountId::parse(account).expect("account"),
                name: format!("t{n}"),
                permission,
                buckets: buckets.map(|b| {
                    b.into_iter()
                        .map(|s| BucketName::parse(s).expect("bucket"))
                        .collect()
                }),
                secret,
                status: TokenStatus::Active,
                created_at: 1,
                expires_at: None,
            })
            .await
            .expect("token");
        key
    }

    pub async fn revoke(&self, key: &Key) {
        self.meta
            .revoke_token(
                &AccountId::parse(ACCOUNT).expect("a"),
                &AccessKeyId::parse(&key.id).expect("k"),
            )
            .await
            .expect("revoke");
    }

    pub async fn bucket(&self, account: &str, name: &str) {
        self.meta
            .create_bucket(BucketRecord {
                account: AccountId::parse(account).expect("a"),
                name: BucketName::parse(name).expect("b"),
                created_at: 1,
                location: "auto".into(),
                storage_class: "Standard".into(),
                jurisdiction: Jurisdiction::Default,
            })
            .await
            .expect("bucket");
    }

    /// Temporary credentials minted from `parent` the way Cloudflare's local helper does.
    pub fn temp(&self, parent: &Key, spec: TempSpec) -> Key {
        let mut b = Claims::builder(
            BucketName::parse(spec.bucket).expect("b"),
            spec.permission,
            AccountId::parse(spec.account).expect("a"),
            AccessKeyId::parse(&parent.id).expect("k"),
            spec.audience,
        )
        .issued_at(spec.iat.unwrap_or_else(now_secs))
        .ttl_secs(spec.ttl);
        if !spec.prefixes.is_empty() {
            b = b.prefixes(spec.prefixes.iter().map(|s| s.to_string()).collect());
        }
        if !spec.objects.is_empty() {
            b = b.objects(spec.objects.iter().map(|s| s.to_string()).collect());
        }
        if !spec.actions.is_empty() {
            b = b.actions(spec.actions.clone());
        }
        let claims = b.build().expect("claims");
        let creds = mayfly_core::mint(
            &claims,
            &SecretAccessKey::parse(&parent.secret).expect("secret"),
        );
        Key {
            id: creds.access_key_id.as_str().to_owned(),
            secret: creds.secret_access_key.expose_secret().to_owned(),
            token: Some(creds.session_token.expose_secret().to_owned()),
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        Reply::read(resp).await
    }

    pub async fn call(&self, key: &Key, r: Req) -> Reply {
        self.send(r.sign(key)).await
    }
}

pub struct TempSpec {
    pub bucket: &'static str,
    pub permission: Permission,
    pub account: &'static str,
    pub audience: &'static str,
    pub prefixes: Vec<&'static str>,
    pub objects: Vec<&'static str>,
    pub actions: Vec<S3Action>,
    pub ttl: u64,
    pub iat: Option<u64>,
}

impl TempSpec {
    pub fn new(permission: Permission) -> Self {
        TempSpec {
            bucket: BUCKET,
            permission,
            account: ACCOUNT,
            audience: HOST,
            prefixes: vec![],
            objects: vec![],
            actions: vec![],
            ttl: 900,
            iat: None,
        }
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    async fn read(resp: Response<Body>) -> Reply {
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map(|c| c.to_bytes().to_vec())
            .unwrap_or_else(|e| format!("BODY ERROR {e}").into_bytes());
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The S3 `<Code>` of an error body.
    pub fn code(&self) -> String {
        let t = self.text();
        t.split("<Code>")
            .nth(1)
            .and_then(|s| s.split("</Code>").next())
            .unwrap_or("")
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    #[track_caller]
    pub fn expect(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.code().as_str()),
            (status, code),
            "body: {}",
            self.text()
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert!(
            (200..300).contains(&self.status),
            "status {} body: {}",
            self.status,
            self.text()
        );
        self
    }
}

// ---------------------------------------------------------------- signer

type HmacSha256 = Hmac<Sha256>;

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("hmac key");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding as SigV4 wants it; `/` kept when `path`.
pub fn uri_encode(s: &str, path: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b'/' if path => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn amz_date(t: u64) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(i64::try_from(t).expect("t")).expect("time");
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// `x-amz-content-sha256: <hex sha256>`.
    Signed,
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, chunk size.
    Streaming(usize),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` with a CRC32 trailer.
    StreamingTrailer(usize),
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER` with a CRC32 trailer.
    UnsignedTrailer(usize),
    /// Presigned query, `X-Amz-Expires`.
    Presigned(u64),
    /// No signature at all.
    Anonymous,
}

#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    /// Raw (decoded) path, e.g. `/my-bucket/a b.txt`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub mode: Mode,
    pub host: String,
    pub time: u64,
    pub region: String,
    /// Headers added after signing (not in SignedHeaders).
    pub unsigned_headers: Vec<(String, String)>,
    /// Override of the trailer checksum value (to test mismatches).
    pub trailer_value: Option<String>,
    /// Corrupt the Nth chunk's signature.
    pub bad_chunk_sig: Option<usize>,
}

impl Req {
    pub fn new(method: &str, path: &str) -> Req {
        Req {
            method: method.into(),
            path: path.into(),
            query: vec![],
            headers: vec![],
            body: vec![],
            mode: Mode::Signed,
            host: HOST.into(),
            time: now_secs(),
            region: "auto".into(),
            unsigned_headers: vec![],
            trailer_value: None,
            bad_chunk_sig: None,
        }
    }
    pub fn get(path: &str) -> Req {
        Self::new("GET", path)
    }
    pub fn put(path: &str, body: &[u8]) -> Req {
        Self::new("PUT", path).body(body)
    }
    pub fn q(mut self, k: &str, v: &str) -> Req {
        self.query.push((k.into(), v.into()));
        self
    }
    pub fn h(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.to_ascii_lowercase(), v.into()));
        self
    }
    pub fn body(mut self, b: &[u8]) -> Req {
        self.body = b.to_vec();
        self
    }
    pub fn mode(mut self, m: Mode) -> Req {
        self.mode = m;
        self
    }
    pub fn host(mut self, h: &str) -> Req {
        self.host = h.into();
        self
    }

    fn scope(&self) -> String {
        format!(
            "{}/{}/s3/aws4_request",
            &amz_date(self.time)[..8],
            self.region
        )
    }

    fn signing_key(&self, secret: &str) -> Vec<u8> {
        let k = hmac(
            format!("AWS4{secret}").as_bytes(),
            &amz_date(self.time).as_bytes()[..8],
        );
        let k = hmac(&k, self.region.as_bytes());
        let k = hmac(&k, b"s3");
        hmac(&k, b"aws4_request")
    }

    fn canonical_query(q: &[(String, String)]) -> String {
        let mut pairs: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
            .collect();
        pairs.sort();
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Builds and signs the HTTP request.
    pub fn sign(mut self, key: &Key) -> Request<Body> {
        let date = amz_date(self.time);
        let scope = self.scope();
        let crc = crc32_b64(&self.body);
        let mut body = self.body.clone();
        let payload_hash: String;
        match self.mode.clone() {
            Mode::Signed => {
                payload_hash = sha256_hex(&self.body);
            }
            Mode::Unsigned => payload_hash = "UNSIGNED-PAYLOAD".into(),
            Mode::Streaming(_) | Mode::StreamingTrailer(_) | Mode::UnsignedTrailer(_) => {
                payload_hash = match self.mode {
                    Mode::Streaming(_) => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                    Mode::StreamingTrailer(_) => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                    _ => "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                }
                .into();
                self.headers
                    .push(("content-encoding".into(), "aws-chunked".into()));
                self.headers.push((
                    "x-amz-decoded-content-length".into(),
                    self.body.len().to_string(),
                ));
                if !matches!(self.mode, Mode::Streaming(_)) {
                    self.headers
                        .push(("x-amz-trailer".into(), "x-amz-checksum-crc32".into()));
                }
            }
            Mode::Presigned(_) | Mode::Anonymous => payload_hash = String::new(),
        }
        if let Mode::Presigned(expires) = self.mode {
            self.query
                .push(("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()));
            self.query
                .push(("X-Amz-Credential".into(), format!("{}/{}", key.id, scope)));
            self.query.push(("X-Amz-Date".into(), date.clone()));
            self.query
                .push(("X-Amz-Expires".into(), expires.to_string()));
            if let Some(t) = &key.token {
                self.query.push(("X-Amz-Security-Token".into(), t.clone()));
            }
            self.query
                .push(("X-Amz-SignedHeaders".into(), "host".into()));
        } else if self.mode != Mode::Anonymous {
            self.headers.push(("x-amz-date".into(), date.clone()));
            self.headers
                .push(("x-amz-content-sha256".into(), payload_hash.clone()));
            if let Some(t) = &key.token {
                self.headers
                    .push(("x-amz-security-token".into(), t.clone()));
            }
        }
        self.headers.push(("host".into(), self.host.clone()));

        let mut signed: Vec<(String, String)> = self.headers.clone();
        signed.sort();
        let signed_names = signed
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical_headers: String = signed
            .iter()
            .map(|(k, v)| format!("{k}:{}\n", v.trim()))
            .collect();
        let path = uri_encode(&self.path, true);
        let hash_line = if matches!(self.mode, Mode::Presigned(_)) {
            "UNSIGNED-PAYLOAD".to_string()
        } else {
            payload_hash.clone()
        };
        let canonical_request = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            path,
            Self::canonical_query(&self.query),
            canonical_headers,
            signed_names,
            hash_line
        );
        let sts = format!(
            "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
            sha256_hex(canonical_request.as_bytes())
        );
        let skey = self.signing_key(&key.secret);
        let signature = hex(&hmac(&skey, sts.as_bytes()));

        let mut auth_header = None;
        match self.mode {
            Mode::Presigned(_) => self
                .query
                .push(("X-Amz-Signature".into(), signature.clone())),
            Mode::Anonymous => {}
            _ => {
                auth_header = Some(format!(
                    "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_names}, Signature={signature}",
                    key.id
                ))
            }
        }

        // aws-chunked framing
        if let Mode::Streaming(n) | Mode::StreamingTrailer(n) | Mode::UnsignedTrailer(n) = self.mode
        {
            let signed_chunks = !matches!(self.mode, Mode::UnsignedTrailer(_));
            let mut out = Vec::new();
            let mut prev = signature.clone();
            let chunks: Vec<&[u8]> = self
                .body
                .chunks(n.max(1))
                .chain(std::iter::once(&[][..]))
                .collect();
            for (i, c) in chunks.iter().enumerate() {
                if signed_chunks {
                    let sts = format!(
                        "AWS4-HMAC-SHA256-PAYLOAD\n{date}\n{scope}\n{prev}\n{}\n{}",
                        sha256_hex(b""),
                        sha256_hex(c)
                    );
                    let mut sig = hex(&hmac(&skey, sts.as_bytes()));
                    if self.bad_chunk_sig == Some(i) {
                        sig = "0".repeat(64);
                    }
                    out.extend(format!("{:x};chunk-signature={sig}\r\n", c.len()).as_bytes());
                    prev = sig;
                } else {
                    out.extend(format!("{:x}\r\n", c.len()).as_bytes());
                }
                out.extend_from_slice(c);
                if !c.is_empty() {
                    out.extend(b"\r\n");
                }
            }
            if matches!(self.mode, Mode::Streaming(_)) {
                out.extend(b"\r\n");
            } else {
                let value = self.trailer_value.clone().unwrap_or(crc.clone());
                let trailer = format!("x-amz-checksum-crc32:{value}");
                out.extend(trailer.as_bytes());
                out.extend(b"\r\n");
                if signed_chunks {
                    let sts = format!(
                        "AWS4-HMAC-SHA256-TRAILER\n{date}\n{scope}\n{prev}\n{}",
                        sha256_hex(format!("{trailer}\n").as_bytes())
                    );
                    let sig = hex(&hmac(&skey, sts.as_bytes()));
                    out.extend(format!("x-amz-trailer-signature:{sig}\r\n").as_bytes());
                }
                out.extend(b"\r\n");
            }
            body = out;
        }

        let mut uri = path;
        if !self.query.is_empty() {
            uri.push('?');
            uri.push_str(&Self::canonical_query(&self.query));
        }
        let mut b = Request::builder().method(self.method.as_str()).uri(uri);
        for (k, v) in self.headers.iter().chain(self.unsigned_headers.iter()) {
            b = b.header(k.as_str(), v.as_str());
        }
        if let Some(a) = auth_header {
            b = b.header("authorization", a);
        }
        b = b.header("content-length", body.len().to_string());
        b.body(Body::from(body)).expect("request")
    }
}

pub fn crc32_b64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(crc32(data).to_be_bytes())
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc: u32 = 0xffff_ffff;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub fn md5_b64(data: &[u8]) -> String {
    use base64::Engine as _;
    use s3s::crypto::Checksum as _;
    base64::engine::general_purpose::STANDARD.encode(s3s::crypto::Md5::checksum(data).as_ref())
}

pub fn md5_hex(data: &[u8]) -> String {
    use s3s::crypto::Checksum as _;
    hex(s3s::crypto::Md5::checksum(data).as_ref())
}
