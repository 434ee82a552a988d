//! The S3 operations Mayfly serves, over the storage traits. One file per operation family;
//! this module holds the `s3s::S3` impl that dispatches to them and the helpers they share.
//! Operations not listed here keep s3s's default answer, 501 `NotImplemented` (the access
//! gate refuses them first for the same code).

mod bucket;
mod copy;
mod delete;
mod get;
mod list;
mod multipart;
mod put;

use std::collections::BTreeMap;

use mayfly_store::{BlobId, BucketId, ChecksumAlgorithm, Checksums, HttpHeaders};
use s3s::dto::{self, ETag, Timestamp};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};

use crate::access::{Verified, parse_bucket};
use crate::context::Identity;
use crate::state::S3State;
pub(crate) use crate::timestamps::{timestamp_ms, timestamp_secs};

pub(crate) struct Mayfly {
    pub(crate) state: S3State,
}

/// The verified identity behind a request that passed the access gate: the value the gate
/// moved into the request's extensions. The one entry point handlers use; it derefs to the
/// [`Identity`], and `still_authorized` re-decides a write right before it commits.
pub(crate) fn caller<T>(req: &S3Request<T>) -> S3Result<Verified> {
    Verified::of(&req.extensions)
}

/// A bucket name resolved in the caller's account.
pub(crate) fn bucket_id(identity: &Identity, name: &str) -> S3Result<BucketId> {
    Ok(BucketId::new(
        identity.account().clone(),
        parse_bucket(name)?,
    ))
}

pub(crate) fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

pub(crate) fn size_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Deletes blobs nobody references any more. Failures only leave orphans for the collector.
pub(crate) async fn collect_garbage(state: &S3State, ids: Vec<BlobId>) {
    for id in ids {
        if let Err(e) = state.blobs.delete(&id).await {
            tracing::warn!(error = %e, "garbage blob not deleted; the orphan collector will");
        }
    }
}

/// `x-amz-meta-*` as stored: names lower-cased.
pub(crate) fn user_metadata(m: Option<dto::Metadata>) -> BTreeMap<String, String> {
    m.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

/// `Content-Encoding` without the transport-only `aws-chunked` token.
pub(crate) fn stored_content_encoding(ce: Option<String>) -> Option<String> {
    let ce = ce?;
    let kept: Vec<&str> = ce
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

pub(crate) fn http_headers(
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    expires: Option<Timestamp>,
) -> HttpHeaders {
    HttpHeaders {
        content_type,
        content_encoding: stored_content_encoding(content_encoding),
        content_disposition,
        content_language,
        cache_control,
        expires: expires.and_then(|t| format_http_date(&t)),
    }
}

pub(crate) fn format_http_date(t: &Timestamp) -> Option<String> {
    let mut buf = Vec::new();
    t.format(dto::TimestampFormat::HttpDate, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

pub(crate) fn parse_http_date(s: &str) -> Option<Timestamp> {
    Timestamp::parse(dto::TimestampFormat::HttpDate, s).ok()
}

/// Client checksums sent as `x-amz-checksum-*` headers.
pub(crate) fn header_checksums(
    crc32: Option<String>,
    crc32c: Option<String>,
    crc64nvme: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
) -> Vec<(ChecksumAlgorithm, String)> {
    [
        (ChecksumAlgorithm::Crc32, crc32),
        (ChecksumAlgorithm::Crc32c, crc32c),
        (ChecksumAlgorithm::Crc64Nvme, crc64nvme),
        (ChecksumAlgorithm::Sha1, sha1),
        (ChecksumAlgorithm::Sha256, sha256),
    ]
    .into_iter()
    .filter_map(|(a, v)| v.map(|v| (a, v)))
    .collect()
}

/// The five checksum fields every output carries, from stored values.
pub(crate) struct ChecksumFields {
    pub(crate) crc32: Option<String>,
    pub(crate) crc32c: Option<String>,
    pub(crate) crc64nvme: Option<String>,
    pub(crate) sha1: Option<String>,
    pub(crate) sha256: Option<String>,
}

pub(crate) fn checksum_fields(c: &Checksums) -> ChecksumFields {
    ChecksumFields {
        crc32: c.get(&ChecksumAlgorithm::Crc32).cloned(),
        crc32c: c.get(&ChecksumAlgorithm::Crc32c).cloned(),
        crc64nvme: c.get(&ChecksumAlgorithm::Crc64Nvme).cloned(),
        sha1: c.get(&ChecksumAlgorithm::Sha1).cloned(),
        sha256: c.get(&ChecksumAlgorithm::Sha256).cloned(),
    }
}

pub(crate) fn s3_checksum_type(t: mayfly_store::ChecksumType) -> dto::ChecksumType {
    dto::ChecksumType::from(t.as_str().to_owned())
}

/// A checksum declared with `x-amz-trailer`, and the handle s3s fills when the body ends.
pub(crate) type Trailer = (ChecksumAlgorithm, s3s::TrailingHeaders);

/// The checksum algorithm a request announced (`x-amz-checksum-algorithm`, or the SDK's
/// `x-amz-sdk-checksum-algorithm`), and the trailer it declared, if any.
pub(crate) fn announced_checksums<T>(
    req: &S3Request<T>,
    declared: Option<&dto::ChecksumAlgorithm>,
) -> S3Result<(Option<ChecksumAlgorithm>, Option<Trailer>)> {
    let header = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok());
    let algorithm = match declared
        .map(|a| a.as_str().to_owned())
        .or_else(|| header("x-amz-sdk-checksum-algorithm").map(str::to_owned))
    {
        Some(name) => Some(
            crate::body::algorithm_from_name(&name)
                .ok_or_else(|| s3_error!(InvalidRequest, "unsupported checksum algorithm"))?,
        ),
        None => None,
    };
    let trailer = match header("x-amz-trailer") {
        Some(t) => {
            let name = t.trim().to_ascii_lowercase();
            let alg = name
                .strip_prefix("x-amz-checksum-")
                .and_then(crate::body::algorithm_from_name)
                .ok_or_else(|| s3_error!(InvalidRequest, "unsupported x-amz-trailer"))?;
            let handle = req.trailing_headers.clone().ok_or_else(|| {
                s3_error!(
                    InvalidRequest,
                    "x-amz-trailer needs an aws-chunked trailer body"
                )
            })?;
            Some((alg, handle))
        }
        None => None,
    };
    Ok((algorithm, trailer))
}

/// Whether an object's stored checksums may be returned for this request: only when asked,
/// and only for the whole object (a checksum of the full object would fail a client that
/// validates a ranged body).
pub(crate) fn want_checksums(mode: Option<&dto::ChecksumMode>, whole: bool) -> bool {
    whole && mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(dto::ChecksumMode::ENABLED))
}

#[async_trait::async_trait]
impl S3 for Mayfly {
    async fn list_buckets(
        &self,
        req: S3Request<dto::ListBucketsInput>,
    ) -> S3Result<S3Response<dto::ListBucketsOutput>> {
        bucket::list_buckets(&self.state, req).await
    }
    async fn create_bucket(
        &self,
        req: S3Request<dto::CreateBucketInput>,
    ) -> S3Result<S3Response<dto::CreateBucketOutput>> {
        bucket::create_bucket(&self.state, req).await
    }
    async fn head_bucket(
        &self,
        req: S3Request<dto::HeadBucketInput>,
    ) -> S3Result<S3Response<dto::HeadBucketOutput>> {
        bucket::head_bucket(&self.state, req).await
    }
    async fn delete_bucket(
        &self,
        req: S3Request<dto::DeleteBucketInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketOutput>> {
        bucket::delete_bucket(&self.state, req).await
    }
    async fn get_bucket_location(
        &self,
        req: S3Request<dto::GetBucketLocationInput>,
    ) -> S3Result<S3Response<dto::GetBucketLocationOutput>> {
        bucket::get_bucket_location(&self.state, req).await
    }
    async fn get_bucket_encryption(
        &self,
        req: S3Request<dto::GetBucketEncryptionInput>,
    ) -> S3Result<S3Response<dto::GetBucketEncryptionOutput>> {
        bucket::get_bucket_encryption(&self.state, req).await
    }
    async fn get_bucket_cors(
        &self,
        req: S3Request<dto::GetBucketCorsInput>,
    ) -> S3Result<S3Response<dto::GetBucketCorsOutput>> {
        bucket::get_bucket_cors(&self.state, req).await
    }
    async fn put_bucket_cors(
        &self,
        req: S3Request<dto::PutBucketCorsInput>,
    ) -> S3Result<S3Response<dto::PutBucketCorsOutput>> {
        bucket::put_bucket_cors(&self.state, req).await
    }
    async fn delete_bucket_cors(
        &self,
        req: S3Request<dto::DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketCorsOutput>> {
        bucket::delete_bucket_cors(&self.state, req).await
    }
    async fn get_bucket_lifecycle_configuration(
        &self,
        req: S3Request<dto::GetBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<dto::GetBucketLifecycleConfigurationOutput>> {
        bucket::get_bucket_lifecycle(&self.state, req).await
    }
    async fn put_bucket_lifecycle_configuration(
        &self,
        req: S3Request<dto::PutBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<dto::PutBucketLifecycleConfigurationOutput>> {
        bucket::put_bucket_lifecycle(&self.state, req).await
    }
    async fn head_object(
        &self,
        req: S3Request<dto::HeadObjectInput>,
    ) -> S3Result<S3Response<dto::HeadObjectOutput>> {
        get::head_object(&self.state, req).await
    }
    async fn get_object(
        &self,
        req: S3Request<dto::GetObjectInput>,
    ) -> S3Result<S3Response<dto::GetObjectOutput>> {
        get::get_object(&self.state, req).await
    }
    async fn put_object(
        &self,
        req: S3Request<dto::PutObjectInput>,
    ) -> S3Result<S3Response<dto::PutObjectOutput>> {
        put::put_object(&self.state, req).await
    }
    async fn delete_object(
        &self,
        req: S3Request<dto::DeleteObjectInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectOutput>> {
        delete::delete_object(&self.state, req).await
    }
    async fn delete_objects(
        &self,
        req: S3Request<dto::DeleteObjectsInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectsOutput>> {
        delete::delete_objects(&self.state, req).await
    }
    async fn copy_object(
        &self,
        req: S3Request<dto::CopyObjectInput>,
    ) -> S3Result<S3Response<dto::CopyObjectOutput>> {
        copy::copy_object(&self.state, req).await
    }
    async fn list_objects(
        &self,
        req: S3Request<dto::ListObjectsInput>,
    ) -> S3Result<S3Response<dto::ListObjectsOutput>> {
        list::list_objects(&self.state, req).await
    }
    async fn list_objects_v2(
        &self,
        req: S3Request<dto::ListObjectsV2Input>,
    ) -> S3Result<S3Response<dto::ListObjectsV2Output>> {
        list::list_objects_v2(&self.state, req).await
    }
    async fn create_multipart_upload(
        &self,
        req: S3Request<dto::CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CreateMultipartUploadOutput>> {
        multipart::create(&self.state, req).await
    }
    async fn upload_part(
        &self,
        req: S3Request<dto::UploadPartInput>,
    ) -> S3Result<S3Response<dto::UploadPartOutput>> {
        multipart::upload_part(&self.state, req).await
    }
    async fn upload_part_copy(
        &self,
        req: S3Request<dto::UploadPartCopyInput>,
    ) -> S3Result<S3Response<dto::UploadPartCopyOutput>> {
        copy::upload_part_copy(&self.state, req).await
    }
    async fn complete_multipart_upload(
        &self,
        req: S3Request<dto::CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
        multipart::complete(&self.state, req).await
    }
    async fn abort_multipart_upload(
        &self,
        req: S3Request<dto::AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
        multipart::abort(&self.state, req).await
    }
    async fn list_parts(
        &self,
        req: S3Request<dto::ListPartsInput>,
    ) -> S3Result<S3Response<dto::ListPartsOutput>> {
        multipart::list_parts(&self.state, req).await
    }
    async fn list_multipart_uploads(
        &self,
        req: S3Request<dto::ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<dto::ListMultipartUploadsOutput>> {
        multipart::list_uploads(&self.state, req).await
    }
}
