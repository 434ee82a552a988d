//! Entry points for `fuzz/` (not an API): each feeds arbitrary bytes to one of the endpoint's
//! parsers and panics when a property fails.
//!
//! - [`sigv4_parts`]: the guard's query decoding, credential-scope and date checks, and the
//!   access gate's `prefix` lookup, which must agree with the guard on what `prefix` is;
//! - [`aws_chunked`]: the chunk-size guard, whose verdict must not depend on where the HTTP
//!   body is split and which never changes a byte;
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

/// `data[0]` picks split points; the rest is an aws-chunked body.
pub fn aws_chunked(data: &[u8]) {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let run = |pieces: Vec<Bytes>| {
        let inner = futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
        let mut g = ChunkGuard::new(inner, 64);
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
