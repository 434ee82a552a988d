//! PutObject: stream the body into a blob (size cap, Content-MD5 and client checksums checked
//! on the way), then commit the object record, honouring `If-Match` / `If-None-Match: *`.

use mayfly_store::{BlobRef, ChecksumType, ObjectRecord, WriteCondition};
use s3s::dto::{self, ETagCondition};
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::{
    announced_checksums, bucket_id, caller, checksum_fields, collect_garbage, etag,
    header_checksums, http_headers, s3_checksum_type, size_i64, user_metadata,
};
use crate::body::{Expected, ingest};
use crate::error::store;
use crate::state::S3State;

pub(super) fn write_condition(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<WriteCondition> {
    match (if_match, if_none_match) {
        (None, None) => Ok(WriteCondition::None),
        (None, Some(ETagCondition::Any)) => Ok(WriteCondition::IfAbsent),
        (Some(ETagCondition::ETag(e)), None) => {
            Ok(WriteCondition::IfEtagMatches(e.value().to_owned()))
        }
        (None, Some(ETagCondition::ETag(_)))
        | (Some(ETagCondition::Any), None)
        | (Some(_), Some(_)) => Err(s3_error!(
            NotImplemented,
            "only If-None-Match: * and If-Match: <etag> are supported on writes"
        )),
    }
}

pub(super) async fn put_object(
    state: &S3State,
    mut req: S3Request<dto::PutObjectInput>,
) -> S3Result<S3Response<dto::PutObjectOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let (algorithm, trailer) = announced_checksums(&req, req.input.checksum_algorithm.as_ref())?;
    let i = &mut req.input;
    let condition = write_condition(i.if_match.as_ref(), i.if_none_match.as_ref())?;
    // Fail before reading a byte when the bucket is missing.
    state.meta.get_bucket(&bucket).await.map_err(store)?;

    let expected = Expected {
        content_md5: i.content_md5.take(),
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
    let ingested = ingest(
        state.blobs.as_ref(),
        body,
        declared,
        state.limits.max_object_size,
        expected,
    )
    .await?;
    id.still_authorized(state, Some(&ingested.blob)).await?;

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
    match state.meta.put_object(record, condition).await {
        Ok(garbage) => collect_garbage(state, garbage).await,
        Err(e) => {
            collect_garbage(state, vec![ingested.blob]).await;
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
