//! HeadObject and GetObject: conditionals, ranges, `partNumber`, `response-*` overrides and
//! stored checksums on `x-amz-checksum-mode: ENABLED`.

use std::ops::Range;

use bytes::Bytes;
use mayfly_store::ObjectRecord;
use s3s::dto::{self, ETagCondition, Timestamp};
use s3s::{S3Request, S3Response, S3Result, s3_error};
use sync_wrapper::SyncStream;

use super::{
    bucket_id, caller, checksum_fields, etag, format_http_date, parse_http_date, s3_checksum_type,
    size_i64, timestamp_ms, want_checksums,
};
use crate::context::Identity;
use crate::error::store;
use crate::state::S3State;

struct Conditions<'a> {
    if_match: Option<&'a ETagCondition>,
    if_none_match: Option<&'a ETagCondition>,
    if_modified_since: Option<&'a Timestamp>,
    if_unmodified_since: Option<&'a Timestamp>,
}

fn etag_matches(cond: &ETagCondition, current: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == current,
    }
}

fn secs_of(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

/// 304 Not Modified, carrying the `ETag` and `Last-Modified` a cache revalidates with
/// (RFC 9110 §15.4.5), as S3 sends them.
fn not_modified(obj: &ObjectRecord) -> s3s::S3Error {
    let mut e = s3_error!(NotModified);
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(&format!("\"{}\"", obj.etag)) {
        headers.insert(http::header::ETAG, v);
    }
    if let Some(v) = format_http_date(&timestamp_ms(obj.last_modified_ms))
        .and_then(|d| http::HeaderValue::from_str(&d).ok())
    {
        headers.insert(http::header::LAST_MODIFIED, v);
    }
    e.set_headers(headers);
    e
}

/// RFC 9110 §13.2.2 order, as S3 applies it.
fn check_conditions(obj: &ObjectRecord, c: &Conditions<'_>) -> S3Result<()> {
    let modified = i64::try_from(obj.last_modified_ms / 1000).unwrap_or(i64::MAX);
    match c.if_match {
        Some(m) if !etag_matches(m, &obj.etag) => {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the preconditions you specified did not hold."
            ));
        }
        Some(_) => {}
        None => {
            if c.if_unmodified_since.is_some_and(|t| modified > secs_of(t)) {
                return Err(s3_error!(
                    PreconditionFailed,
                    "At least one of the preconditions you specified did not hold."
                ));
            }
        }
    }
    match c.if_none_match {
        Some(m) if etag_matches(m, &obj.etag) => return Err(not_modified(obj)),
        Some(_) => {}
        None => {
            if c.if_modified_since.is_some_and(|t| modified <= secs_of(t)) {
                return Err(not_modified(obj));
            }
        }
    }
    Ok(())
}

/// The byte range to serve: from `Range`, from `partNumber`, or the whole object.
fn resolve_range(
    obj: &ObjectRecord,
    range: Option<&dto::Range>,
    part: Option<i32>,
) -> S3Result<Option<Range<u64>>> {
    match (range, part) {
        (Some(_), Some(_)) => Err(s3_error!(
            InvalidRequest,
            "Cannot specify both Range header and partNumber query parameter"
        )),
        (Some(r), None) => Ok(Some(r.check(obj.size)?)),
        (None, Some(n)) => {
            let n = usize::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
                s3_error!(
                    InvalidArgument,
                    "Part number must be an integer between 1 and 10000"
                )
            })?;
            let (r, _) = obj.part_range(n).ok_or_else(|| {
                s3_error!(InvalidRange, "The requested partnumber is not satisfiable")
            })?;
            Ok(Some(r))
        }
        (None, None) => Ok(None),
    }
}

struct Meta {
    content_length: i64,
    content_range: Option<String>,
    whole: bool,
}

fn meta_of(obj: &ObjectRecord, range: Option<&Range<u64>>) -> Meta {
    match range {
        Some(r) => Meta {
            content_length: size_i64(r.end - r.start),
            content_range: Some(if r.end > r.start {
                format!("bytes {}-{}/{}", r.start, r.end - 1, obj.size)
            } else {
                format!("bytes */{}", obj.size)
            }),
            whole: r.start == 0 && r.end == obj.size,
        },
        None => Meta {
            content_length: size_i64(obj.size),
            content_range: None,
            whole: true,
        },
    }
}

/// What HeadObject and GetObject ask for: the same fields in two s3s input types.
struct Ask {
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
    range: Option<dto::Range>,
    part_number: Option<i32>,
    checksum_mode: Option<dto::ChecksumMode>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    content_type: Option<String>,
    expires: Option<Timestamp>,
}

macro_rules! ask_of {
    ($i:expr) => {
        Ask {
            if_match: $i.if_match,
            if_none_match: $i.if_none_match,
            if_modified_since: $i.if_modified_since,
            if_unmodified_since: $i.if_unmodified_since,
            range: $i.range,
            part_number: $i.part_number,
            checksum_mode: $i.checksum_mode,
            cache_control: $i.response_cache_control,
            content_disposition: $i.response_content_disposition,
            content_encoding: $i.response_content_encoding,
            content_language: $i.response_content_language,
            content_type: $i.response_content_type,
            expires: $i.response_expires,
        }
    };
}

/// The response fields HeadObject and GetObject share, computed once.
struct Head {
    accept_ranges: Option<String>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    content_type: Option<String>,
    expires: Option<Timestamp>,
    content_length: Option<i64>,
    content_range: Option<String>,
    e_tag: Option<dto::ETag>,
    last_modified: Option<Timestamp>,
    metadata: Option<dto::Metadata>,
    parts_count: Option<i32>,
    checksum_type: Option<dto::ChecksumType>,
    checksum_crc32: Option<String>,
    checksum_crc32c: Option<String>,
    checksum_crc64nvme: Option<String>,
    checksum_sha1: Option<String>,
    checksum_sha256: Option<String>,
}

/// Fills an s3s output type from a [`Head`] (plus any extra fields, such as the body).
macro_rules! output_of {
    ($ty:path, $h:expr $(, $field:ident: $value:expr)*) => {{
        let h: Head = $h;
        $ty {
            $($field: $value,)*
            accept_ranges: h.accept_ranges,
            cache_control: h.cache_control,
            content_disposition: h.content_disposition,
            content_encoding: h.content_encoding,
            content_language: h.content_language,
            content_type: h.content_type,
            expires: h.expires,
            content_length: h.content_length,
            content_range: h.content_range,
            e_tag: h.e_tag,
            last_modified: h.last_modified,
            metadata: h.metadata,
            parts_count: h.parts_count,
            checksum_type: h.checksum_type,
            checksum_crc32: h.checksum_crc32,
            checksum_crc32c: h.checksum_crc32c,
            checksum_crc64nvme: h.checksum_crc64nvme,
            checksum_sha1: h.checksum_sha1,
            checksum_sha256: h.checksum_sha256,
            ..Default::default()
        }
    }};
}

/// Looks the object up (with its bytes, when `body` and the store keeps them with the
/// record), applies the conditionals and resolves the range.
async fn resolve(
    state: &S3State,
    id: &Identity,
    bucket: &str,
    key: &str,
    ask: &Ask,
    body: bool,
) -> S3Result<((ObjectRecord, Option<Bytes>), Option<Range<u64>>)> {
    let bucket = bucket_id(id, bucket)?;
    let (obj, bytes) = if body {
        state.meta.get_object_and_body(&bucket, key).await
    } else {
        state.meta.get_object(&bucket, key).await.map(|o| (o, None))
    }
    .map_err(store)?;
    check_conditions(
        &obj,
        &Conditions {
            if_match: ask.if_match.as_ref(),
            if_none_match: ask.if_none_match.as_ref(),
            if_modified_since: ask.if_modified_since.as_ref(),
            if_unmodified_since: ask.if_unmodified_since.as_ref(),
        },
    )?;
    let range = resolve_range(&obj, ask.range.as_ref(), ask.part_number)?;
    Ok(((obj, bytes), range))
}

/// The shared response fields: stored headers unless a `response-*` override replaces them,
/// length and range, checksums when asked for the whole object.
fn head_of(obj: ObjectRecord, range: Option<&Range<u64>>, ask: Ask) -> Head {
    let m = meta_of(&obj, range);
    let sums = want_checksums(
        ask.checksum_mode.as_ref(),
        m.whole && ask.part_number.is_none(),
    )
    .then(|| checksum_fields(&obj.checksums));
    let checksum_type = sums
        .as_ref()
        .filter(|_| !obj.checksums.is_empty())
        .map(|_| s3_checksum_type(obj.checksum_type));
    let h = obj.headers;
    let (crc32, crc32c, crc64nvme, sha1, sha256) = match sums {
        Some(s) => (s.crc32, s.crc32c, s.crc64nvme, s.sha1, s.sha256),
        None => (None, None, None, None, None),
    };
    Head {
        accept_ranges: Some("bytes".to_owned()),
        cache_control: ask.cache_control.or(h.cache_control),
        content_disposition: ask.content_disposition.or(h.content_disposition),
        content_encoding: ask.content_encoding.or(h.content_encoding),
        content_language: ask.content_language.or(h.content_language),
        content_type: ask.content_type.or(h.content_type),
        expires: ask
            .expires
            .or_else(|| h.expires.as_deref().and_then(parse_http_date)),
        content_length: Some(m.content_length),
        content_range: m.content_range,
        e_tag: Some(etag(&obj.etag)),
        last_modified: Some(timestamp_ms(obj.last_modified_ms)),
        metadata: Some(obj.user_metadata.into_iter().collect()),
        parts_count: obj
            .blob
            .parts_count()
            .and_then(|n| i32::try_from(n).ok())
            .filter(|_| ask.part_number.is_some()),
        checksum_type,
        checksum_crc32: crc32,
        checksum_crc32c: crc32c,
        checksum_crc64nvme: crc64nvme,
        checksum_sha1: sha1,
        checksum_sha256: sha256,
    }
}

pub(super) async fn head_object(
    state: &S3State,
    req: S3Request<dto::HeadObjectInput>,
) -> S3Result<S3Response<dto::HeadObjectOutput>> {
    let id = caller(&req)?;
    let i = req.input;
    let ask = ask_of!(i);
    let ((obj, _), range) = resolve(state, &id, &i.bucket, &i.key, &ask, false).await?;
    let head = head_of(obj, range.as_ref(), ask);
    Ok(S3Response::new(output_of!(dto::HeadObjectOutput, head)))
}

pub(super) async fn get_object(
    state: &S3State,
    req: S3Request<dto::GetObjectInput>,
) -> S3Result<S3Response<dto::GetObjectOutput>> {
    let id = caller(&req)?;
    let i = req.input;
    let ask = ask_of!(i);
    let ((obj, body), range) = resolve(state, &id, &i.bucket, &i.key, &ask, true).await?;
    let stream = match body {
        Some(bytes) => mayfly_store::slice_stream(bytes, range.clone()),
        None => mayfly_store::read_object(state.blobs.clone(), &obj.blob, range.clone()).await,
    }
    .map_err(store)?;
    let body = s3s::dto::StreamingBlob::wrap(SyncStream::new(stream));
    let head = head_of(obj, range.as_ref(), ask);
    Ok(S3Response::new(output_of!(
        dto::GetObjectOutput,
        head,
        body: Some(body)
    )))
}
