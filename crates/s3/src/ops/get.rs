//! HeadObject and GetObject: conditionals, ranges, `partNumber`, `response-*` overrides and
//! stored checksums on `x-amz-checksum-mode: ENABLED`.

use std::ops::Range;

use mayfly_store::ObjectRecord;
use s3s::dto::{self, ETagCondition, Timestamp};
use s3s::{S3Request, S3Response, S3Result, s3_error};
use sync_wrapper::SyncStream;

use super::{
    bucket_id, caller, checksum_fields, etag, parse_http_date, s3_checksum_type, size_i64,
    timestamp_ms, want_checksums,
};
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
        Some(m) if etag_matches(m, &obj.etag) => return Err(s3_error!(NotModified)),
        Some(_) => {}
        None => {
            if c.if_modified_since.is_some_and(|t| modified <= secs_of(t)) {
                return Err(s3_error!(NotModified));
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

pub(super) async fn head_object(
    state: &S3State,
    req: S3Request<dto::HeadObjectInput>,
) -> S3Result<S3Response<dto::HeadObjectOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let obj = state
        .meta
        .get_object(&bucket, &i.key)
        .await
        .map_err(store)?;
    check_conditions(
        &obj,
        &Conditions {
            if_match: i.if_match.as_ref(),
            if_none_match: i.if_none_match.as_ref(),
            if_modified_since: i.if_modified_since.as_ref(),
            if_unmodified_since: i.if_unmodified_since.as_ref(),
        },
    )?;
    let range = resolve_range(&obj, i.range.as_ref(), i.part_number)?;
    let m = meta_of(&obj, range.as_ref());
    let sums = want_checksums(i.checksum_mode.as_ref(), m.whole && i.part_number.is_none())
        .then(|| checksum_fields(&obj.checksums));
    let h = obj.headers;
    Ok(S3Response::new(dto::HeadObjectOutput {
        accept_ranges: Some("bytes".to_owned()),
        cache_control: i.response_cache_control.or(h.cache_control),
        content_disposition: i.response_content_disposition.or(h.content_disposition),
        content_encoding: i.response_content_encoding.or(h.content_encoding),
        content_language: i.response_content_language.or(h.content_language),
        content_type: i.response_content_type.or(h.content_type),
        expires: i
            .response_expires
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
            .filter(|_| i.part_number.is_some()),
        checksum_type: sums
            .as_ref()
            .filter(|_| !obj.checksums.is_empty())
            .map(|_| s3_checksum_type(obj.checksum_type)),
        checksum_crc32: sums.as_ref().and_then(|s| s.crc32.clone()),
        checksum_crc32c: sums.as_ref().and_then(|s| s.crc32c.clone()),
        checksum_crc64nvme: sums.as_ref().and_then(|s| s.crc64nvme.clone()),
        checksum_sha1: sums.as_ref().and_then(|s| s.sha1.clone()),
        checksum_sha256: sums.as_ref().and_then(|s| s.sha256.clone()),
        ..Default::default()
    }))
}

pub(super) async fn get_object(
    state: &S3State,
    req: S3Request<dto::GetObjectInput>,
) -> S3Result<S3Response<dto::GetObjectOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let obj = state
        .meta
        .get_object(&bucket, &i.key)
        .await
        .map_err(store)?;
    check_conditions(
        &obj,
        &Conditions {
            if_match: i.if_match.as_ref(),
            if_none_match: i.if_none_match.as_ref(),
            if_modified_since: i.if_modified_since.as_ref(),
            if_unmodified_since: i.if_unmodified_since.as_ref(),
        },
    )?;
    let range = resolve_range(&obj, i.range.as_ref(), i.part_number)?;
    let m = meta_of(&obj, range.as_ref());
    let stream = mayfly_store::read_object(state.blobs.clone(), &obj.blob, range)
        .await
        .map_err(store)?;
    let body = s3s::dto::StreamingBlob::wrap(SyncStream::new(stream));
    let sums = want_checksums(i.checksum_mode.as_ref(), m.whole && i.part_number.is_none())
        .then(|| checksum_fields(&obj.checksums));
    let h = obj.headers;
    Ok(S3Response::new(dto::GetObjectOutput {
        body: Some(body),
        accept_ranges: Some("bytes".to_owned()),
        cache_control: i.response_cache_control.or(h.cache_control),
        content_disposition: i.response_content_disposition.or(h.content_disposition),
        content_encoding: i.response_content_encoding.or(h.content_encoding),
        content_language: i.response_content_language.or(h.content_language),
        content_type: i.response_content_type.or(h.content_type),
        expires: i
            .response_expires
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
            .filter(|_| i.part_number.is_some()),
        checksum_type: sums
            .as_ref()
            .filter(|_| !obj.checksums.is_empty())
            .map(|_| s3_checksum_type(obj.checksum_type)),
        checksum_crc32: sums.as_ref().and_then(|s| s.crc32.clone()),
        checksum_crc32c: sums.as_ref().and_then(|s| s.crc32c.clone()),
        checksum_crc64nvme: sums.as_ref().and_then(|s| s.crc64nvme.clone()),
        checksum_sha1: sums.as_ref().and_then(|s| s.sha1.clone()),
        checksum_sha256: sums.as_ref().and_then(|s| s.sha256.clone()),
        ..Default::default()
    }))
}
