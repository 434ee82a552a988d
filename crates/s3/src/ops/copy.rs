//! CopyObject and UploadPartCopy. The access gate has authorized read on the source and write
//! on the destination; here the source is read in the caller's account, its `x-amz-copy-source-
//! if-*` conditions are checked, and its bytes are streamed into a new blob through the same
//! ingest path as uploads (so the copy gets a fresh MD5 ETag and checksums).

use mayfly_store::{BlobRef, ChecksumType, ObjectRecord, WriteCondition};
use s3s::dto::{self, CopySource, ETagCondition, Timestamp};
use s3s::{S3Request, S3Response, S3Result, s3_error};
use sync_wrapper::SyncStream;

use super::multipart::{commit_part, part_number, upload_id};
use super::{
    bucket_id, caller, checksum_fields, collect_garbage, etag, http_headers, s3_checksum_type,
    timestamp_ms, user_metadata,
};
use crate::body::{Expected, ingest};
use crate::context::Identity;
use crate::error::store;
use crate::state::S3State;

fn source_of(identity: &Identity, src: &CopySource) -> S3Result<(mayfly_store::BucketId, String)> {
    match src {
        CopySource::Bucket {
            bucket,
            key,
            version_id: None,
        } => Ok((bucket_id(identity, bucket)?, key.to_string())),
        CopySource::Bucket {
            version_id: Some(_),
            ..
        }
        | CopySource::AccessPoint { .. }
        | CopySource::Outpost { .. } => Err(s3_error!(
            NotImplemented,
            "versioned or access-point copy sources are not supported"
        )),
    }
}

fn secs(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

fn matches(cond: &ETagCondition, current: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == current,
    }
}

fn check_source_conditions(
    obj: &ObjectRecord,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified = i64::try_from(obj.last_modified_ms / 1000).unwrap_or(i64::MAX);
    let failed = if_match.is_some_and(|m| !matches(m, &obj.etag))
        || (if_match.is_none() && if_unmodified_since.is_some_and(|t| modified > secs(t)))
        || if_none_match.is_some_and(|m| matches(m, &obj.etag))
        || (if_none_match.is_none() && if_modified_since.is_some_and(|t| modified <= secs(t)));
    if failed {
        return Err(s3_error!(
            PreconditionFailed,
            "At least one of the preconditions you specified did not hold."
        ));
    }
    Ok(())
}

pub(super) async fn copy_object(
    state: &S3State,
    req: S3Request<dto::CopyObjectInput>,
) -> S3Result<S3Response<dto::CopyObjectOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let (src_bucket, src_key) = source_of(&id, &i.copy_source)?;
    let src = state
        .meta
        .get_object(&src_bucket, &src_key)
        .await
        .map_err(store)?;
    check_source_conditions(
        &src,
        i.copy_source_if_match.as_ref(),
        i.copy_source_if_none_match.as_ref(),
        i.copy_source_if_modified_since.as_ref(),
        i.copy_source_if_unmodified_since.as_ref(),
    )?;
    let replace = match i.metadata_directive.as_ref().map(|d| d.as_str()) {
        None | Some(dto::MetadataDirective::COPY) => false,
        Some(dto::MetadataDirective::REPLACE) => true,
        Some(_) => return Err(s3_error!(InvalidArgument, "Unknown metadata directive.")),
    };
    if src_bucket == bucket && src_key == i.key && !replace {
        return Err(s3_error!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata."
        ));
    }
    if src.size > state.limits.max_object_size {
        return Err(s3_error!(
            InvalidRequest,
            "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120"
        ));
    }
    state.meta.get_bucket(&bucket).await.map_err(store)?;

    let requested = match i.checksum_algorithm.as_ref() {
        Some(a) => Some(
            crate::body::algorithm_from_name(a.as_str())
                .ok_or_else(|| s3_error!(InvalidRequest, "unsupported checksum algorithm"))?,
        ),
        None => None,
    };
    // Keep the source's checksum algorithm (recomputed over the whole copy) unless another is asked.
    let algorithm = requested.or_else(|| src.checksums.keys().next().copied());
    let stream = mayfly_store::read_object(state.blobs.clone(), &src.blob, None)
        .await
        .map_err(store)?;
    let body = dto::StreamingBlob::wrap(SyncStream::new(stream));
    let expected = Expected {
        algorithm,
        ..Expected::default()
    };
    let ingested = ingest(
        state.blobs.as_ref(),
        Some(body),
        Some(src.size),
        state.limits.max_object_size,
        expected,
    )
    .await?;
    id.still_authorized(state, Some(&ingested.blob)).await?;

    let (headers, user_meta) = if replace {
        (
            http_headers(
                i.content_type,
                i.content_encoding,
                i.content_disposition,
                i.content_language,
                i.cache_control,
                i.expires,
            ),
            user_metadata(i.metadata),
        )
    } else {
        (src.headers.clone(), src.user_metadata.clone())
    };
    let now = state.clock.now_millis();
    let record = ObjectRecord {
        bucket: bucket.clone(),
        key: i.key,
        size: ingested.size,
        etag: ingested.md5_hex.clone(),
        last_modified_ms: now,
        headers,
        user_metadata: user_meta,
        checksums: ingested.checksums.clone(),
        checksum_type: ChecksumType::FullObject,
        blob: BlobRef::Single(ingested.blob.clone()),
    };
    match state.meta.put_object(record, WriteCondition::None).await {
        Ok(garbage) => collect_garbage(state, garbage).await,
        Err(e) => {
            collect_garbage(state, vec![ingested.blob]).await;
            return Err(store(e));
        }
    }
    let sums = checksum_fields(&ingested.checksums);
    Ok(S3Response::new(dto::CopyObjectOutput {
        copy_object_result: Some(dto::CopyObjectResult {
            e_tag: Some(etag(&ingested.md5_hex)),
            last_modified: Some(timestamp_ms(now)),
            checksum_type: (!ingested.checksums.is_empty())
                .then(|| s3_checksum_type(ChecksumType::FullObject)),
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_crc64nvme: sums.crc64nvme,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
        }),
        ..Default::default()
    }))
}

/// `bytes=first-last` of `x-amz-copy-source-range`, inclusive, within `size`.
fn copy_range(value: Option<&str>, size: u64) -> S3Result<std::ops::Range<u64>> {
    let Some(v) = value else { return Ok(0..size) };
    let bad = || {
        s3_error!(
            InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"
        )
    };
    let (a, b) = v
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(bad)?;
    let first: u64 = a.parse().map_err(|_| bad())?;
    let last: u64 = b.parse().map_err(|_| bad())?;
    if first > last || last >= size {
        return Err(s3_error!(
            InvalidRange,
            "The requested range is not satisfiable"
        ));
    }
    Ok(first..last + 1)
}

pub(super) async fn upload_part_copy(
    state: &S3State,
    req: S3Request<dto::UploadPartCopyInput>,
) -> S3Result<S3Response<dto::UploadPartCopyOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let number = part_number(i.part_number)?;
    let upload = upload_id(&i.upload_id)?;
    let record = state
        .meta
        .get_upload(&bucket, &i.key, &upload)
        .await
        .map_err(store)?;
    let (src_bucket, src_key) = source_of(&id, &i.copy_source)?;
    let src = state
        .meta
        .get_object(&src_bucket, &src_key)
        .await
        .map_err(store)?;
    check_source_conditions(
        &src,
        i.copy_source_if_match.as_ref(),
        i.copy_source_if_none_match.as_ref(),
        i.copy_source_if_modified_since.as_ref(),
        i.copy_source_if_unmodified_since.as_ref(),
    )?;
    let range = copy_range(i.copy_source_range.as_deref(), src.size)?;
    let len = range.end - range.start;
    if len > state.limits.max_part_size {
        return Err(crate::guard::entity_too_large());
    }
    let stream = mayfly_store::read_object(state.blobs.clone(), &src.blob, Some(range))
        .await
        .map_err(store)?;
    let body = dto::StreamingBlob::wrap(SyncStream::new(stream));
    let expected = Expected {
        algorithm: record.checksum_algorithm,
        ..Expected::default()
    };
    let ingested = ingest(
        state.blobs.as_ref(),
        Some(body),
        Some(len),
        state.limits.max_part_size,
        expected,
    )
    .await?;
    id.still_authorized(state, Some(&ingested.blob)).await?;
    commit_part(state, &bucket, &i.key, &upload, number, &ingested).await?;
    let sums = checksum_fields(&ingested.checksums);
    Ok(S3Response::new(dto::UploadPartCopyOutput {
        copy_part_result: Some(dto::CopyPartResult {
            e_tag: Some(etag(&ingested.md5_hex)),
            last_modified: Some(timestamp_ms(state.clock.now_millis())),
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_crc64nvme: sums.crc64nvme,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
        }),
        ..Default::default()
    }))
}
