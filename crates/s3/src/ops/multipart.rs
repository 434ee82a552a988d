//! The multipart family: create, upload part, complete, abort, list parts, list uploads.
//!
//! Every call names the key in its path and the access gate authorized that key; here the
//! upload must also belong to exactly that bucket and key (`get_upload` checks both), so an
//! upload id is never a capability on its own.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mayfly_store::{
    BlobRef, BucketId, ChecksumAlgorithm, ChecksumType, Checksums, CompleteUpload, CompletedPart,
    Entity, ListPartsQuery, ListUploadsQuery, ObjectRecord, PartRecord, UploadId, UploadRecord,
};
use s3s::crypto::Checksum as _;
use s3s::dto;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::{
    announced_checksums, bucket_id, caller, checksum_fields, collect_garbage, etag,
    header_checksums, http_headers, s3_checksum_type, size_i64, timestamp_ms, user_metadata,
};
use crate::body::{Expected, Ingested, hex, ingest};
use crate::error::store;
use crate::state::S3State;

const MAX_PART_NUMBER: i32 = 10_000;

pub(super) fn upload_id(s: &str) -> S3Result<UploadId> {
    UploadId::parse(s).map_err(|_| {
        s3_error!(
            NoSuchUpload,
            "The specified multipart upload does not exist."
        )
    })
}

pub(super) fn part_number(n: i32) -> S3Result<u32> {
    if !(1..=MAX_PART_NUMBER).contains(&n) {
        return Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive"
        ));
    }
    u32::try_from(n).map_err(|_| s3_error!(InvalidArgument, "invalid part number"))
}

fn checksum_algorithm(a: Option<&dto::ChecksumAlgorithm>) -> S3Result<Option<ChecksumAlgorithm>> {
    a.map(|a| {
        crate::body::algorithm_from_name(a.as_str())
            .ok_or_else(|| s3_error!(InvalidRequest, "unsupported checksum algorithm"))
    })
    .transpose()
}

pub(super) async fn create(
    state: &S3State,
    req: S3Request<dto::CreateMultipartUploadInput>,
) -> S3Result<S3Response<dto::CreateMultipartUploadOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let algorithm = checksum_algorithm(i.checksum_algorithm.as_ref())?;
    let checksum_type = match i.checksum_type.as_ref().map(|t| t.as_str()) {
        None => None,
        Some(t) => Some(
            ChecksumType::parse(t)
                .map_err(|_| s3_error!(InvalidRequest, "unsupported checksum type"))?,
        ),
    };
    let record = UploadRecord {
        bucket: bucket.clone(),
        key: i.key.clone(),
        upload_id: UploadId::random(),
        initiated_ms: state.clock.now_millis(),
        headers: http_headers(
            i.content_type,
            i.content_encoding,
            i.content_disposition,
            i.content_language,
            i.cache_control,
            i.expires,
        ),
        user_metadata: user_metadata(i.metadata),
        checksum_algorithm: algorithm,
        checksum_type,
    };
    let upload = record.upload_id.as_str().to_owned();
    state.meta.create_upload(record).await.map_err(store)?;
    Ok(S3Response::new(dto::CreateMultipartUploadOutput {
        bucket: Some(i.bucket),
        key: Some(i.key),
        upload_id: Some(upload),
        checksum_algorithm: i.checksum_algorithm,
        checksum_type: i.checksum_type,
        ..Default::default()
    }))
}

/// Commits an ingested part; on failure the blob is removed again.
pub(super) async fn commit_part(
    state: &S3State,
    bucket: &BucketId,
    key: &str,
    upload: &UploadId,
    number: u32,
    ingested: &Ingested,
) -> S3Result<()> {
    let part = PartRecord {
        part_number: number,
        size: ingested.size,
        etag: ingested.md5_hex.clone(),
        last_modified_ms: state.clock.now_millis(),
        checksums: ingested.checksums.clone(),
        blob: ingested.blob.clone(),
    };
    match state.meta.put_part(bucket, key, upload, part).await {
        Ok(garbage) => {
            collect_garbage(state, garbage).await;
            Ok(())
        }
        Err(e) => {
            collect_garbage(state, vec![ingested.blob.clone()]).await;
            Err(store(e))
        }
    }
}

pub(super) async fn upload_part(
    state: &S3State,
    mut req: S3Request<dto::UploadPartInput>,
) -> S3Result<S3Response<dto::UploadPartOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let (algorithm, trailer) = announced_checksums(&req, req.input.checksum_algorithm.as_ref())?;
    let md5_sent = super::put::content_md5_sent(&req);
    let i = &mut req.input;
    let number = part_number(i.part_number)?;
    let upload = upload_id(&i.upload_id)?;
    // The upload must belong to this bucket and key before any byte is read.
    let record = state
        .meta
        .get_upload(&bucket, &i.key, &upload)
        .await
        .map_err(store)?;
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
        algorithm: algorithm.or(record.checksum_algorithm),
    };
    let declared = i.content_length.and_then(|n| u64::try_from(n).ok());
    let ingested = ingest(
        state.blobs.as_ref(),
        i.body.take(),
        declared,
        state.limits.max_part_size,
        expected,
    )
    .await?;
    id.still_authorized(state, Some(&ingested.blob)).await?;
    commit_part(state, &bucket, &i.key, &upload, number, &ingested).await?;
    let sums = checksum_fields(&ingested.checksums);
    Ok(S3Response::new(dto::UploadPartOutput {
        e_tag: Some(etag(&ingested.md5_hex)),
        checksum_crc32: sums.crc32,
        checksum_crc32c: sums.crc32c,
        checksum_crc64nvme: sums.crc64nvme,
        checksum_sha1: sums.sha1,
        checksum_sha256: sums.sha256,
        ..Default::default()
    }))
}

fn unquote(s: &str) -> &str {
    s.trim().trim_start_matches("W/").trim_matches('"')
}

fn raw_md5(hex_etag: &str) -> S3Result<[u8; 16]> {
    let mut out = [0u8; 16];
    if hex_etag.len() != 32 {
        return Err(s3_error!(
            InvalidPart,
            "One or more of the specified parts could not be found."
        ));
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex_etag[i * 2..i * 2 + 2], 16).map_err(|_| {
            s3_error!(
                InvalidPart,
                "One or more of the specified parts could not be found."
            )
        })?;
    }
    Ok(out)
}

/// A composite checksum: the algorithm over the concatenated raw part checksums, `-N`.
fn composite(alg: ChecksumAlgorithm, parts: &[&PartRecord]) -> Option<String> {
    let mut raw = Vec::new();
    for p in parts {
        raw.extend(STANDARD.decode(p.checksums.get(&alg)?).ok()?);
    }
    let digest: Vec<u8> = match alg {
        ChecksumAlgorithm::Crc32 => s3s::crypto::Crc32::checksum(&raw).to_vec(),
        ChecksumAlgorithm::Crc32c => s3s::crypto::Crc32c::checksum(&raw).to_vec(),
        // CRC64NVME objects are full-object only in S3; a composite of them is not defined.
        ChecksumAlgorithm::Crc64Nvme => return None,
        ChecksumAlgorithm::Sha1 => s3s::crypto::Sha1::checksum(&raw).as_ref().to_vec(),
        ChecksumAlgorithm::Sha256 => s3s::crypto::Sha256::checksum(&raw).as_ref().to_vec(),
    };
    Some(format!("{}-{}", STANDARD.encode(digest), parts.len()))
}

/// A full-object CRC from the parts' CRCs and sizes (S3 `FULL_OBJECT` multipart checksums).
fn full_object(alg: ChecksumAlgorithm, parts: &[&PartRecord]) -> Option<String> {
    let (crc, width) = match alg {
        ChecksumAlgorithm::Crc32 => (crc_fast::CrcAlgorithm::Crc32IsoHdlc, 4),
        ChecksumAlgorithm::Crc32c => (crc_fast::CrcAlgorithm::Crc32Iscsi, 4),
        ChecksumAlgorithm::Crc64Nvme => (crc_fast::CrcAlgorithm::Crc64Nvme, 8),
        ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => return None,
    };
    let mut acc: Option<u64> = None;
    for p in parts {
        let raw = STANDARD.decode(p.checksums.get(&alg)?).ok()?;
        if raw.len() != width {
            return None;
        }
        let value = raw.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
        acc = Some(match acc {
            None => value,
            Some(prev) => crc_fast::checksum_combine(crc, prev, value, p.size),
        });
    }
    let v = acc?;
    let bytes = v.to_be_bytes();
    Some(STANDARD.encode(&bytes[8 - width..]))
}

/// The per-part checksums a CompleteMultipartUpload body names must match the stored ones.
fn part_checksums_match(c: &dto::CompletedPart, stored: &PartRecord) -> bool {
    let named = [
        (ChecksumAlgorithm::Crc32, c.checksum_crc32.as_ref()),
        (ChecksumAlgorithm::Crc32c, c.checksum_crc32c.as_ref()),
        (ChecksumAlgorithm::Crc64Nvme, c.checksum_crc64nvme.as_ref()),
        (ChecksumAlgorithm::Sha1, c.checksum_sha1.as_ref()),
        (ChecksumAlgorithm::Sha256, c.checksum_sha256.as_ref()),
    ];
    named.iter().all(|(alg, want)| {
        want.is_none_or(|w| stored.checksums.get(alg).is_some_and(|s| s == w.trim()))
    })
}

pub(super) async fn complete(
    state: &S3State,
    req: S3Request<dto::CompleteMultipartUploadInput>,
) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let upload = upload_id(&i.upload_id)?;
    let chosen = i
        .multipart_upload
        .as_ref()
        .and_then(|m| m.parts.clone())
        .unwrap_or_default();
    let record = match state.meta.get_upload(&bucket, &i.key, &upload).await {
        Ok(r) => r,
        Err(e) if e.is_not_found(Entity::Upload) => {
            // A retry of a completion whose response was lost: the upload is gone, but the
            // object it made is there with exactly these parts. Answer as the first time.
            return match already_completed(state, &bucket, &i.key, &chosen).await {
                Some(obj) => Ok(S3Response::new(completed_output(
                    &i.bucket,
                    &i.key,
                    &obj.etag,
                    &obj.checksums,
                    obj.checksum_type,
                ))),
                None => Err(store(e)),
            };
        }
        Err(e) => return Err(store(e)),
    };
    if chosen.is_empty() {
        return Err(s3_error!(
            MalformedXML,
            "You must specify at least one part"
        ));
    }

    // Every stored part, paged.
    let mut stored: Vec<PartRecord> = Vec::new();
    let mut marker = 0u32;
    loop {
        let page = state
            .meta
            .list_parts(
                &bucket,
                &i.key,
                &upload,
                &ListPartsQuery {
                    part_number_marker: marker,
                    max_parts: 1000,
                },
            )
            .await
            .map_err(store)?;
        stored.extend(page.parts);
        match page.next_part_number_marker {
            Some(m) if page.is_truncated && m > marker => marker = m,
            _ => break,
        }
    }

    let mut picked: Vec<&PartRecord> = Vec::with_capacity(chosen.len());
    let mut last = 0u32;
    for c in &chosen {
        let n = part_number(
            c.part_number
                .ok_or_else(|| s3_error!(MalformedXML, "PartNumber missing"))?,
        )?;
        if n <= last {
            return Err(s3_error!(
                InvalidPartOrder,
                "The list of parts was not in ascending order."
            ));
        }
        last = n;
        let want = c
            .e_tag
            .as_ref()
            .map(|e| unquote(e.value()).to_owned())
            .unwrap_or_default();
        let part = stored
            .iter()
            .find(|p| p.part_number == n && p.etag == want && part_checksums_match(c, p))
            .ok_or_else(|| {
                s3_error!(
                    InvalidPart,
                    "One or more of the specified parts could not be found."
                )
            })?;
        picked.push(part);
    }
    if let Some((_, init)) = picked.split_last()
        && init.iter().any(|p| p.size < state.limits.min_part_size)
    {
        return Err(s3_error!(
            EntityTooSmall,
            "Your proposed upload is smaller than the minimum allowed object size."
        ));
    }
    let total: u64 = picked.iter().map(|p| p.size).sum();
    if total > state.limits.max_object_size.saturating_mul(1000) {
        return Err(crate::guard::entity_too_large());
    }

    let mut md5s = Vec::with_capacity(picked.len() * 16);
    for p in &picked {
        md5s.extend_from_slice(&raw_md5(&p.etag)?);
    }
    let final_etag = format!(
        "{}-{}",
        hex(s3s::crypto::Md5::checksum(&md5s).as_ref()),
        picked.len()
    );

    // CRC64NVME is full-object only in S3; the other algorithms default to composite.
    let checksum_type = match (record.checksum_type, record.checksum_algorithm) {
        (Some(t), _) => t,
        (None, Some(ChecksumAlgorithm::Crc64Nvme)) => ChecksumType::FullObject,
        (None, _) => ChecksumType::Composite,
    };
    let mut checksums = Checksums::new();
    if let Some(alg) = record.checksum_algorithm {
        let value = match checksum_type {
            ChecksumType::FullObject => full_object(alg, &picked),
            ChecksumType::Composite => composite(alg, &picked),
        };
        if let Some(v) = value {
            checksums.insert(alg, v);
        }
    }
    // A whole-object checksum sent with the completion must match what the parts add up to.
    let claimed = header_checksums(
        i.checksum_crc32.clone(),
        i.checksum_crc32c.clone(),
        i.checksum_crc64nvme.clone(),
        i.checksum_sha1.clone(),
        i.checksum_sha256.clone(),
    );
    for (alg, want) in &claimed {
        if let Some(have) = checksums.get(alg)
            && have.split('-').next() != Some(want.trim().split('-').next().unwrap_or_default())
        {
            return Err(crate::error::Failure::Ingest(crate::body::IngestError::BadDigest).into());
        }
    }
    let complete = CompleteUpload {
        bucket: bucket.clone(),
        key: i.key.clone(),
        upload_id: upload,
        parts: picked
            .iter()
            .map(|p| CompletedPart {
                part_number: p.part_number,
                etag: p.etag.clone(),
            })
            .collect(),
        etag: final_etag.clone(),
        last_modified_ms: state.clock.now_millis(),
        checksums: checksums.clone(),
        checksum_type,
        condition: super::put::write_condition(i.if_match.as_ref(), i.if_none_match.as_ref()),
    };
    id.still_authorized(state, None).await?;
    let outcome = state.meta.complete_upload(complete).await.map_err(store)?;
    collect_garbage(state, outcome.garbage).await;
    Ok(S3Response::new(completed_output(
        &i.bucket,
        &i.key,
        &final_etag,
        &checksums,
        checksum_type,
    )))
}

/// The CompleteMultipartUpload answer for an object with this ETag and these checksums.
fn completed_output(
    bucket: &str,
    key: &str,
    final_etag: &str,
    checksums: &Checksums,
    checksum_type: ChecksumType,
) -> dto::CompleteMultipartUploadOutput {
    let sums = checksum_fields(checksums);
    dto::CompleteMultipartUploadOutput {
        bucket: Some(bucket.to_owned()),
        key: Some(key.to_owned()),
        e_tag: Some(etag(final_etag)),
        location: Some(format!("/{bucket}/{key}")),
        checksum_type: (!checksums.is_empty()).then(|| s3_checksum_type(checksum_type)),
        checksum_crc32: sums.crc32,
        checksum_crc32c: sums.crc32c,
        checksum_crc64nvme: sums.crc64nvme,
        checksum_sha1: sums.sha1,
        checksum_sha256: sums.sha256,
        ..Default::default()
    }
}

/// The object a completion with exactly these parts (numbers and ETags, in order) already
/// made at `key`, if that object is still the current one.
async fn already_completed(
    state: &S3State,
    bucket: &BucketId,
    key: &str,
    chosen: &[dto::CompletedPart],
) -> Option<ObjectRecord> {
    if chosen.is_empty() {
        return None;
    }
    let obj = state.meta.get_object(bucket, key).await.ok()?;
    let BlobRef::Parts(parts) = &obj.blob else {
        return None;
    };
    let same = parts.len() == chosen.len()
        && parts.iter().zip(chosen).all(|(p, c)| {
            c.part_number.and_then(|n| u32::try_from(n).ok()) == Some(p.part_number)
                && c.e_tag.as_ref().map(|e| unquote(e.value())) == Some(p.etag.as_str())
        });
    same.then_some(obj)
}

pub(super) async fn abort(
    state: &S3State,
    req: S3Request<dto::AbortMultipartUploadInput>,
) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let upload = upload_id(&req.input.upload_id)?;
    let garbage = state
        .meta
        .abort_upload(&bucket, &req.input.key, &upload)
        .await
        .map_err(store)?;
    collect_garbage(state, garbage).await;
    Ok(S3Response::new(dto::AbortMultipartUploadOutput::default()))
}

pub(super) async fn list_parts(
    state: &S3State,
    req: S3Request<dto::ListPartsInput>,
) -> S3Result<S3Response<dto::ListPartsOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let upload = upload_id(&i.upload_id)?;
    let max_parts = i
        .max_parts
        .map_or(1000, |n| usize::try_from(n.clamp(0, 1000)).unwrap_or(1000));
    let marker = i
        .part_number_marker
        .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(0));
    let listing = state
        .meta
        .list_parts(
            &bucket,
            &i.key,
            &upload,
            &ListPartsQuery {
                part_number_marker: marker,
                max_parts,
            },
        )
        .await
        .map_err(store)?;
    let parts = listing
        .parts
        .into_iter()
        .map(|p| {
            let sums = checksum_fields(&p.checksums);
            dto::Part {
                e_tag: Some(etag(&p.etag)),
                last_modified: Some(timestamp_ms(p.last_modified_ms)),
                part_number: i32::try_from(p.part_number).ok(),
                size: Some(size_i64(p.size)),
                checksum_crc32: sums.crc32,
                checksum_crc32c: sums.crc32c,
                checksum_crc64nvme: sums.crc64nvme,
                checksum_sha1: sums.sha1,
                checksum_sha256: sums.sha256,
            }
        })
        .collect();
    Ok(S3Response::new(dto::ListPartsOutput {
        bucket: Some(i.bucket),
        key: Some(i.key),
        upload_id: Some(i.upload_id),
        is_truncated: Some(listing.is_truncated),
        max_parts: i32::try_from(max_parts).ok(),
        part_number_marker: i.part_number_marker,
        next_part_number_marker: listing
            .next_part_number_marker
            .and_then(|n| i32::try_from(n).ok()),
        parts: Some(parts),
        checksum_algorithm: listing
            .upload
            .checksum_algorithm
            .map(|a| dto::ChecksumAlgorithm::from(a.as_str().to_owned())),
        ..Default::default()
    }))
}

pub(super) async fn list_uploads(
    state: &S3State,
    req: S3Request<dto::ListMultipartUploadsInput>,
) -> S3Result<S3Response<dto::ListMultipartUploadsOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let max_uploads = i
        .max_uploads
        .map_or(1000, |n| usize::try_from(n.clamp(0, 1000)).unwrap_or(1000));
    let query = ListUploadsQuery {
        prefix: i.prefix.clone().unwrap_or_default(),
        delimiter: i.delimiter.clone().filter(|d| !d.is_empty()),
        key_marker: i.key_marker.clone().filter(|k| !k.is_empty()),
        upload_id_marker: i.upload_id_marker.clone().filter(|k| !k.is_empty()),
        max_uploads,
    };
    let listing = state
        .meta
        .list_uploads(&bucket, &query)
        .await
        .map_err(store)?;
    let uploads = listing
        .uploads
        .into_iter()
        .map(|u| dto::MultipartUpload {
            initiated: Some(timestamp_ms(u.initiated_ms)),
            key: Some(u.key),
            upload_id: Some(u.upload_id.as_str().to_owned()),
            checksum_algorithm: u
                .checksum_algorithm
                .map(|a| dto::ChecksumAlgorithm::from(a.as_str().to_owned())),
            ..Default::default()
        })
        .collect();
    Ok(S3Response::new(dto::ListMultipartUploadsOutput {
        bucket: Some(i.bucket),
        prefix: i.prefix,
        delimiter: i.delimiter,
        key_marker: i.key_marker,
        upload_id_marker: i.upload_id_marker,
        max_uploads: i32::try_from(max_uploads).ok(),
        is_truncated: Some(listing.is_truncated),
        next_key_marker: listing.next_key_marker,
        next_upload_id_marker: listing.next_upload_id_marker,
        uploads: Some(uploads),
        common_prefixes: Some(
            listing
                .common_prefixes
                .into_iter()
                .map(|p| dto::CommonPrefix { prefix: Some(p) })
                .collect(),
        ),
        encoding_type: i.encoding_type,
        request_charged: None,
    }))
}
