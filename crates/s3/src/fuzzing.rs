//! Entry points for `fuzz/` (not an API): each feeds arbitrary bytes to one of the endpoint's
//! parsers and panics when a property fails.
//!
//! - [`sigv4_parts`]: the guard's query decoding, credential-scope and date checks, and the
//!   access gate's `prefix` lookup, which must agree with the guard on what `prefix` is;
//! - [`sigv4_request`]: the guard's credential checks over a whole request head (the
//!   `Authorization` split, `SignedHeaders` / `X-Amz-SignedHeaders`, host, presigned
//!   lifetime): whatever it accepts, s3s signs over exactly the names the guard checked;
//! - [`aws_chunked`]: the chunk-size and decoded-length guard, whose verdict must not depend
//!   on where the HTTP body is split and which never changes a byte;
//! - [`xml_bodies`]: the XML documents s3s parses for us (DeleteObjects, CompleteMultipartUpload,
//!   CORS, lifecycle), which must never panic and whose DeleteObjects keys are bounded.

use bytes::Bytes;
use futures::StreamExt;

use crate::chunked::ChunkGuard;

/// `data` = first line: an `Authorization` value; rest: a query string.
pub fn sigv4_parts(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (auth, query) = text.split_once('\n').unwrap_or((text, ""));
    for part in auth.split(',').map(str::trim) {
        if let Some(c) = part
            .strip_prefix("AWS4-HMAC-SHA256 Credential=")
            .or_else(|| part.strip_prefix("Credential="))
        {
            let _ = crate::guard::check_scope(c, s3s::S3ErrorCode::AuthorizationHeaderMalformed);
        }
    }
    let _ = crate::guard::parse_amz_date(auth);
    let Ok(uri) = format!("/b?{query}").parse::<http::Uri>() else {
        return;
    };
    let Ok(pairs) = crate::guard::parse_query(uri.query()) else {
        return;
    };
    // Whatever `prefix` the gate authorizes must be the one the listing uses: if the decoded
    // query holds exactly one `prefix`, the gate's lookup finds that value or nothing.
    let decoded: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "prefix")
        .map(|(_, v)| v.as_str())
        .collect();
    if let Ok(Some(gate)) = crate::access::query_param(&uri, "prefix") {
        assert!(
            decoded.len() != 1 || decoded[0] == gate,
            "gate checks prefix {gate:?}, listing uses {:?}",
            decoded[0]
        );
    }
}

/// `data` = a request head: `METHOD target [2]` (a trailing `2` makes it HTTP/2), then
/// `name: value` lines. Runs the guard's credential checks at a fixed `now` and, when they
/// accept a signed request, asserts what makes a tampered one impossible to pass off:
///
/// - the list is written exactly as the names the guard checked (`;`-joined, nothing
///   normalised), and those names are lowercase, sorted and unique;
/// - each name is a header the request carries once (or the HTTP/2 `:authority` for `host`),
///   so s3s, which skips absent names, signs over every one of them;
/// - `host` and every `x-amz-*` header present are signed (presigned: bar the payload hash);
/// - a presigned URL ends within 604800 s of `now`.
pub fn sigv4_request(data: &[u8]) {
    const NOW: u64 = 1_750_000_000;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let mut start = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target)) = (start.next(), start.next()) else {
        return;
    };
    let version = if start.next() == Some("2") {
        http::Version::HTTP_2
    } else {
        http::Version::HTTP_11
    };
    let mut b = http::Request::builder()
        .method(method)
        .uri(target)
        .version(version);
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        b = b.header(k.trim(), v.trim_start());
    }
    let Ok(req) = b.body(axum::body::Body::empty()) else {
        return;
    };
    let Ok(query) = crate::guard::parse_query(req.uri().query()) else {
        return;
    };
    // The host check runs first in the guard; keep its verdict, then the credential checks.
    let _ = crate::guard::host_of(&req);
    let Ok(Some(signed)) = crate::guard::check_credentials(&req, &query, NOW) else {
        return;
    };
    let written = if signed.presigned {
        query
            .iter()
            .find(|(k, _)| k == "X-Amz-SignedHeaders")
            .map(|(_, v)| v.clone())
    } else {
        req.headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::guard::parse_authorization(v).ok())
            .map(|p| p.signed_headers.to_owned())
    };
    assert_eq!(
        written.as_deref(),
        Some(signed.names.join(";").as_str()),
        "the guard checked other names than the ones written"
    );
    assert!(
        signed.names.windows(2).all(|w| w[0] < w[1]),
        "unsorted or repeated: {:?}",
        signed.names
    );
    for n in &signed.names {
        assert!(
            !n.is_empty() && n.bytes().all(|b| !b.is_ascii_uppercase() && b > b' '),
            "not a lowercase name: {n:?}"
        );
        let count = req.headers().get_all(*n).iter().count();
        let authority =
            *n == "host" && version == http::Version::HTTP_2 && req.uri().authority().is_some();
        assert!(
            count == 1 || (count == 0 && authority),
            "{n} is signed but sent {count} times"
        );
    }
    assert!(signed.names.contains(&"host"), "host not signed");
    for name in req.headers().keys() {
        let n = name.as_str();
        if n.starts_with("x-amz-") && !(signed.presigned && n == "x-amz-content-sha256") {
            assert!(signed.names.contains(&n), "{n} present but not signed");
        }
    }
    if signed.presigned {
        let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
        let date = get("X-Amz-Date").and_then(crate::guard::parse_amz_date);
        let expires = get("X-Amz-Expires").and_then(|v| v.parse::<u64>().ok());
        let (Some(date), Some(expires)) = (date, expires) else {
            panic!("presigned accepted without a date or lifetime");
        };
        assert!(
            date + expires <= NOW + crate::guard::MAX_PRESIGN_EXPIRES,
            "presigned URL outlives a week"
        );
    }
}

/// `data[0]` picks split points; when its high bit is set, `data[1]` is a declared decoded
/// length the chunk sizes are held to; the rest is an aws-chunked body.
pub fn aws_chunked(data: &[u8]) {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let (decoded, body) = match rest.split_first() {
        Some((&d, body)) if seed & 0x80 != 0 => (Some(u64::from(d)), body),
        _ => (None, rest),
    };
    let run = |pieces: Vec<Bytes>| {
        let inner = futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
        let mut g = ChunkGuard::new(inner, 64);
        if let Some(d) = decoded {
            g = g.with_decoded_length(d);
        }
        // Every inner item is ready at once, so polling with a no-op waker runs it to the end.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut out = Vec::new();
        loop {
            match g.poll_next_unpin(&mut cx) {
                std::task::Poll::Ready(Some(Ok(b))) => out.extend_from_slice(&b),
                std::task::Poll::Ready(Some(Err(_))) => return (out, true),
                std::task::Poll::Ready(None) | std::task::Poll::Pending => return (out, false),
            }
        }
    };
    let whole = run(vec![Bytes::copy_from_slice(body)]);
    let step = usize::from(seed % 7) + 1;
    let split = run(body.chunks(step).map(Bytes::copy_from_slice).collect());
    assert_eq!(whole.1, split.1, "verdict depends on HTTP chunk boundaries");
    assert!(body.starts_with(&whole.0), "guard changed the bytes");
    assert!(body.starts_with(&split.0), "guard changed the bytes");
}

/// `data` as each XML request document.
pub fn xml_bodies(data: &[u8]) {
    fn parse<T: for<'x> s3s::xml::Deserialize<'x>>(data: &[u8]) -> Option<T> {
        let mut d = s3s::xml::Deserializer::new(data);
        let v = T::deserialize(&mut d).ok()?;
        d.expect_eof().ok()?;
        Some(v)
    }
    if let Some(del) = parse::<s3s::dto::Delete>(data) {
        assert!(del.objects.len() <= data.len(), "more keys than bytes");
    }
    let _ = parse::<s3s::dto::CompletedMultipartUpload>(data);
    let _ = parse::<s3s::dto::CORSConfiguration>(data);
    let _ = parse::<s3s::dto::BucketLifecycleConfiguration>(data);
}
