//! A second SigV4 signer for the request-integrity, presign-lifetime and aws-chunked cases:
//! unlike `mayfly_attack::sign`, which always signs every header it sends, this one signs
//! exactly the names in `covered` (what s3s will find and hash), writes whatever `list` text it
//! is told into `SignedHeaders` / `X-Amz-SignedHeaders`, and frames aws-chunked bodies with
//! any declared sizes. That is how a careless signer, or a party in the middle editing a
//! captured request, produces requests whose signature verifies over less than they say.

use hmac::{Hmac, Mac};
use mayfly_attack::sign::{
    Creds, EMPTY_SHA256, amz_dates, aws_encode, hex, percent_decode, sha256_hex,
};
use sha2::Sha256;

/// How the body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// Sent as is.
    Raw,
    /// aws-chunked with a chunk signature per chunk (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
    Signed,
    /// aws-chunked, no chunk signatures, a CRC32 trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    UnsignedTrailer,
}

/// One aws-chunked chunk: the size written in its header, and the bytes that follow it.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    pub(crate) declared: usize,
    pub(crate) data: Vec<u8>,
}

impl Chunk {
    /// A truthful chunk.
    pub(crate) fn of(data: &[u8]) -> Self {
        Self {
            declared: data.len(),
            data: data.to_vec(),
        }
    }
}

/// One request to sign by hand. Header auth unless `presign` is set.
#[derive(Debug, Clone)]
pub(crate) struct Hand {
    pub(crate) method: String,
    /// Encoded path.
    pub(crate) path: String,
    /// Decoded query pairs (signed).
    pub(crate) query: Vec<(String, String)>,
    /// Headers the request carries besides the ones the signer adds (`host`, `x-amz-date`,
    /// `x-amz-content-sha256`, the session token), lowercase names.
    pub(crate) headers: Vec<(String, String)>,
    /// Names the canonical request covers; `None`: every header sent, sorted.
    pub(crate) covered: Option<Vec<String>>,
    /// `SignedHeaders` text written on the wire; `None`: `covered` joined by `;`.
    pub(crate) list: Option<String>,
    /// Headers added after signing (never in `covered` or `list`).
    pub(crate) unsigned: Vec<(String, String)>,
    /// Send no `Host` header (its value is still what `covered` signs if it names `host`).
    pub(crate) no_host: bool,
    /// Request target written instead of `path?query` (e.g. absolute-form).
    pub(crate) target: Option<String>,
    /// Presigned, with this `X-Amz-Expires` text.
    pub(crate) presign: Option<String>,
    /// Signing time (`X-Amz-Date`).
    pub(crate) time: u64,
    /// Body framing.
    pub(crate) frame: Frame,
    /// Raw body (for [`Frame::Raw`]).
    pub(crate) body: Vec<u8>,
    /// Chunks (for the aws-chunked frames), the final zero-size chunk included by the caller.
    pub(crate) chunks: Vec<Chunk>,
    /// `x-amz-decoded-content-length` for aws-chunked bodies; `None`: not sent.
    pub(crate) decoded_length: Option<String>,
    /// `Content-Length` of the wire body; `false` with `http_chunked`: none.
    pub(crate) content_length: bool,
    /// Wrap the wire body in HTTP/1.1 chunked transfer coding (what the SDKs do for
    /// aws-chunked uploads) instead of sending `Content-Length`.
    pub(crate) http_chunked: bool,
}

impl Hand {
    /// A header-signed request with a hashed payload, signed now.
    pub(crate) fn new(method: &str, path: &str, time: u64) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            covered: None,
            list: None,
            unsigned: Vec::new(),
            no_host: false,
            target: None,
            presign: None,
            time,
            frame: Frame::Raw,
            body: Vec::new(),
            chunks: Vec::new(),
            decoded_length: None,
            content_length: true,
            http_chunked: false,
        }
    }

    pub(crate) fn q(mut self, k: &str, v: &str) -> Self {
        self.query.push((k.into(), v.into()));
        self
    }

    pub(crate) fn h(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_ascii_lowercase(), v.into()));
        self
    }

    /// The bytes on the wire and the request signature.
    pub(crate) fn wire(&self, creds: &Creds, host: &str) -> (Vec<u8>, String) {
        let (date, full) = amz_dates(self.time);
        let scope = format!("{date}/auto/s3/aws4_request");
        let key = signing_key(&creds.secret, &date);
        let mut headers = self.headers.clone();
        headers.push(("host".into(), host.into()));
        let mut query = self.query.clone();
        let payload = match (self.presign.is_some(), self.frame) {
            (true, _) => "UNSIGNED-PAYLOAD".to_owned(),
            (false, Frame::Raw) => sha256_hex(&self.body),
            (false, Frame::Signed) => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into(),
            (false, Frame::UnsignedTrailer) => "STREAMING-UNSIGNED-PAYLOAD-TRAILER".into(),
        };
        if self.frame != Frame::Raw {
            headers.push(("content-encoding".into(), "aws-chunked".into()));
            if let Some(d) = &self.decoded_length {
                headers.push(("x-amz-decoded-content-length".into(), d.clone()));
            }
            if self.frame == Frame::UnsignedTrailer {
                headers.push(("x-amz-trailer".into(), "x-amz-checksum-crc32".into()));
            }
        }
        if self.presign.is_none() {
            headers.push(("x-amz-date".into(), full.clone()));
            headers.push(("x-amz-content-sha256".into(), payload.clone()));
            if let Some(t) = &creds.token {
                headers.push(("x-amz-security-token".into(), t.clone()));
            }
        }
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        let covered: Vec<String> = self
            .covered
            .clone()
            .unwrap_or_else(|| headers.iter().map(|(k, _)| k.clone()).collect());
        let list = self.list.clone().unwrap_or_else(|| covered.join(";"));
        if let Some(expires) = &self.presign {
            query.push(("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()));
            query.push((
                "X-Amz-Credential".into(),
                format!("{}/{scope}", creds.access_key),
            ));
            query.push(("X-Amz-Date".into(), full.clone()));
            query.push(("X-Amz-Expires".into(), expires.clone()));
            query.push(("X-Amz-SignedHeaders".into(), list.clone()));
            if let Some(t) = &creds.token {
                query.push(("X-Amz-Security-Token".into(), t.clone()));
            }
        }
        let canon_headers: String = covered
            .iter()
            .filter_map(|n| headers.iter().find(|(k, _)| k == n))
            .map(|(k, v)| format!("{k}:{}\n", v.trim()))
            .collect();
        let creq = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            aws_encode(&percent_decode(&self.path), false),
            canonical_query(&query),
            canon_headers,
            covered.join(";"),
            payload
        );
        let sts = format!(
            "AWS4-HMAC-SHA256\n{full}\n{scope}\n{}",
            sha256_hex(creq.as_bytes())
        );
        let sig = hex(&hmac(&key, sts.as_bytes()));
        if self.presign.is_some() {
            query.push(("X-Amz-Signature".into(), sig.clone()));
        } else {
            headers.push((
                "authorization".into(),
                format!(
                    "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={list}, Signature={sig}",
                    creds.access_key
                ),
            ));
        }
        if self.no_host {
            headers.retain(|(k, _)| k != "host");
        }
        headers.extend(self.unsigned.iter().cloned());

        let body = match self.frame {
            Frame::Raw => self.body.clone(),
            Frame::Signed | Frame::UnsignedTrailer => {
                self.framed(&key, &format!("{full}\n{scope}"), &sig)
            }
        };
        let mut out = Vec::new();
        let target = self.target.clone().unwrap_or_else(|| {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        aws_encode(k.as_bytes(), true),
                        aws_encode(v.as_bytes(), true)
                    )
                })
                .collect();
            if q.is_empty() {
                self.path.clone()
            } else {
                format!("{}?{}", self.path, q.join("&"))
            }
        });
        out.extend_from_slice(format!("{} {target} HTTP/1.1\r\n", self.method).as_bytes());
        for (k, v) in &headers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        if self.http_chunked {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n");
        } else if self.content_length {
            out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        }
        out.extend_from_slice(b"connection: close\r\n\r\n");
        if self.http_chunked {
            // Two HTTP chunks, so the aws-chunked framing straddles a boundary.
            let mid = body.len() / 2;
            for part in [&body[..mid], &body[mid..]] {
                if !part.is_empty() {
                    out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                    out.extend_from_slice(part);
                    out.extend_from_slice(b"\r\n");
                }
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(&body);
        }
        (out, sig)
    }

    fn framed(&self, key: &[u8], date_scope: &str, seed: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if self.chunks.is_empty() {
            return out;
        }
        let mut prev = seed.to_owned();
        let mut all = Vec::new();
        for c in &self.chunks {
            all.extend_from_slice(&c.data);
            if self.frame == Frame::Signed {
                let sts = format!(
                    "AWS4-HMAC-SHA256-PAYLOAD\n{date_scope}\n{prev}\n{EMPTY_SHA256}\n{}",
                    sha256_hex(&c.data)
                );
                prev = hex(&hmac(key, sts.as_bytes()));
                out.extend_from_slice(
                    format!("{:x};chunk-signature={prev}\r\n", c.declared).as_bytes(),
                );
            } else {
                out.extend_from_slice(format!("{:x}\r\n", c.declared).as_bytes());
            }
            out.extend_from_slice(&c.data);
            if c.declared > 0 || !c.data.is_empty() {
                out.extend_from_slice(b"\r\n");
            }
        }
        if self.frame == Frame::UnsignedTrailer {
            let crc = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                crc32fast::hash(&all).to_be_bytes(),
            );
            out.extend_from_slice(format!("x-amz-checksum-crc32:{crc}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC takes any key length")
    };
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &str, date: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, b"auto");
    let k = hmac(&k, b"s3");
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
    let enc: Vec<String> = enc.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    enc.join("&")
}
