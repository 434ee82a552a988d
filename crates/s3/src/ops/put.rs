//! PutObject: stream the body into a blob (size cap, Content-MD5 and client checksums checked
//! on the way), then commit the object record, honouring `If-Match` / `If-None-Match: *`.

use mayfly_store::{BlobRef, ChecksumType, ObjectRecord, WriteCondition};
use s3s::dto::{self, ETagCondition};
use s3s::{S3Request, S3Response, S3Result};

use super::{
    announced_checksums, bucket_id, caller, checksum_fields, collect_garbage, etag,
    header_checksums, http_headers, s3_checksum_type, size_i64, user_metadata,
};
use crate::body::{Expected, ingest, ingest_small};
use crate::error::store;
use crate::state::S3State;

/// The ETags an `If-Match` / `If-None-Match` header names. s3s hands a list such as
/// `"a", W/"b"` over as one ETag holding everything between the outer quotes; split it again.
fn etag_list(e: &dto::ETag) -> Vec<String> {
    e.value()
        .split(',')
        .map(|t| {
            t.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// The store condition for a write's `If-Match` and `If-None-Match` headers, as R2 documents
/// them: `If-Match` is `*` (an object must exist) or an ETag list (its ETag must be listed);
/// `If-None-Match` is `*` (no object may exist) or an ETag list (its ETag must not be listed).
/// Both together must both hold.
pub(super) fn write_condition(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> WriteCondition {
    let matching = if_match.map(|c| match c {
        ETagCondition::Any => WriteCondition::IfPresent,
        ETagCondition::ETag(e) => match etag_list(e).as_slice() {
            [one] => WriteCondition::IfEtagMatches(one.clone()),
            list => WriteCondition::IfEtagIn(list.to_vec()),
        },
    });
    let not_matching = if_none_match.map(|c| match c {
        ETagCondition::Any => WriteCondition::IfAbsent,
        ETagCondition::ETag(e) => WriteCondition::IfEtagNotIn(etag_list(e)),
    });
    match (matching, not_matching) {
        (None, None) => WriteCondition::None,
        (Some(c), None) | (None, Some(c)) => c,
        (Some(a), Some(b)) => WriteCondition::All(vec![a, b]),
    }
}

/// s3s reads an empty `Content-MD5` header as absent; S3 answers InvalidDigest. `Some("")`
/// when the header was sent empty, so the digest check refuses it.
pub(super) fn content_md5_sent<T>(req: &S3Request<T>) -> Option<String> {
    req.headers
        .get("content-md5")
        .filter(|v| v.as_bytes().iter().all(u8::is_ascii_whitespace))
        .map(|_| String::new())
}

pub(super) async fn put_object(
    state: &S3State,
    mut req: S3Request<dto::PutObjectInput>,
) -> S3Result<S3Response<dto::PutObjectOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let (algorithm, trailer) = announced_checksums(&req, req.input.checksum_algorithm.as_ref())?;
    let md5_sent = content_md5_sent(&req);
    let i = &mut req.input;
    let condition = write_condition(i.if_match.as_ref(), i.if_none_match.as_ref());
    // Fail before reading a byte when the bucket is missing.
    state.meta.get_bucket(&bucket).await.map_err(store)?;

    let expected = Expected {
        content_md5: i.content_md5.take().or(md5_sent),
        checksums: header_checksums(
            i.checksum_crc32.take(),
            i.checksum_crc32c.take(),
            i.checksum_crc64nvme.take(),
            i.checksum_sha1.take(),
            i.checksum_sha256.take(),
        ),
        trailer,
        algorithm,
    };
    let declared = i.content_length.and_then(|n| u64::try_from(n).ok());
    let body = i.body.take();
    // A body the metadata store keeps itself is committed with its record, in one
    // transaction; any other goes to the blob store first.
    let small = declared.filter(|&n| {
        state
            .meta
            .inline_body_limit()
            .is_some_and(|limit| n <= limit as u64)
    });
    let max = state.limits.max_object_size;
    let (ingested, kept) = match small {
        Some(declared) => {
            let (ingested, bytes) = ingest_small(body, declared, max, expected).await?;
            (ingested, Some(bytes))
        }
        None => (
            ingest(state.blobs.as_ref(), body, declared, max, expected).await?,
            None,
        ),
    };
    // The blob already in the blob store, if any: deleted again when the put is refused.
    let written = kept.is_none().then(|| ingested.blob.clone());
    id.still_authorized(state, written.as_ref()).await?;

    let i = req.input;
    let record = ObjectRecord {
        bucket: bucket.clone(),
        key: i.key,
        size: ingested.size,
        etag: ingested.md5_hex.clone(),
        last_modified_ms: state.clock.now_millis(),
        headers: http_headers(
            i.content_type,
            i.content_encoding,
            i.content_disposition,
            i.content_language,
            i.cache_control,
            i.expires,
        ),
        user_metadata: user_metadata(i.metadata),
        checksums: ingested.checksums.clone(),
        checksum_type: ChecksumType::FullObject,
        blob: BlobRef::Single(ingested.blob.clone()),
    };
    let put = match kept {
        Some(bytes) => {
            state
                .meta
                .put_object_with_body(record, condition, bytes)
                .await
        }
        None => state.meta.put_object(record, condition).await,
    };
    match put {
        Ok(garbage) => collect_garbage(state, garbage).await,
        Err(e) => {
            collect_garbage(state, written.into_iter().collect()).await;
            return Err(store(e));
        }
    }
    let sums = checksum_fields(&ingested.checksums);
    Ok(S3Response::new(dto::PutObjectOutput {
        e_tag: Some(etag(&ingested.md5_hex)),
        size: Some(size_i64(ingested.size)),
        checksum_type: (!ingested.checksums.is_empty())
            .then(|| s3_checksum_type(ChecksumType::FullObject)),
        checksum_crc32: sums.crc32,
        checksum_crc32c: sums.crc32c,
        checksum_crc64nvme: sums.crc64nvme,
        checksum_sha1: sums.sha1,
        checksum_sha256: sums.sha256,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(s: &str) -> ETagCondition {
        ETagCondition::parse_http_header(s.as_bytes()).expect("valid header")
    }

    #[test]
    fn write_conditions_follow_r2() {
        let c = |m: Option<&str>, n: Option<&str>| {
            write_condition(m.map(cond).as_ref(), n.map(cond).as_ref())
        };
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(c(None, None), WriteCondition::None);
        assert_eq!(c(Some("*"), None), WriteCondition::IfPresent);
        assert_eq!(c(None, Some("*")), WriteCondition::IfAbsent);
        assert_eq!(
            c(Some("\"abc\""), None),
            WriteCondition::IfEtagMatches("abc".into())
        );
        assert_eq!(
            c(Some("abc-2"), None),
            WriteCondition::IfEtagMatches("abc-2".into())
        );
        assert_eq!(
            c(Some("\"a\", W/\"b\",\"c\""), None),
            WriteCondition::IfEtagIn(list(&["a", "b", "c"]))
        );
        assert_eq!(
            c(None, Some("\"a\", \"b\"")),
            WriteCondition::IfEtagNotIn(list(&["a", "b"]))
        );
        assert_eq!(
            c(Some("*"), Some("\"a\"")),
            WriteCondition::All(vec![
                WriteCondition::IfPresent,
                WriteCondition::IfEtagNotIn(list(&["a"]))
            ])
        );
    }
}
