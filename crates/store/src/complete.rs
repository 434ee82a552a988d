//! The backend-independent half of multipart uploads: checking a completion request against the
//! parts uploaded, assembling the object it creates and the blobs it leaves behind, and paging a
//! part listing. Backends load and lock rows; these functions only decide.

use std::collections::BTreeMap;

use crate::error::StoreError;
use crate::ids::BlobId;
use crate::query::{CompleteUpload, PartListing};
use crate::records::{BlobRef, ObjectPart, ObjectRecord, PartRecord, UploadRecord};

/// Checks the shape of a completion request before any part is read: at least one part, part
/// numbers strictly ascending.
///
/// # Errors
///
/// [`StoreError::Conflict`] naming the rule broken.
#[doc(hidden)]
pub fn check_request(c: &CompleteUpload) -> Result<(), StoreError> {
    if c.parts.is_empty() {
        return Err(StoreError::Conflict(
            "a multipart upload needs at least one part",
        ));
    }
    if c.parts
        .windows(2)
        .any(|w| w[0].part_number >= w[1].part_number)
    {
        return Err(StoreError::Conflict(
            "part numbers must be strictly ascending",
        ));
    }
    Ok(())
}

/// Builds the object a completion commits from the upload and every part uploaded to it (any
/// order), and returns it with the blobs of the uploaded parts the request did not choose: they
/// become garbage once the object is committed. The previous object's blobs are the caller's to
/// add.
///
/// # Errors
///
/// [`StoreError::InvalidPart`] for the first requested part that was not uploaded or whose ETag
/// differs.
#[doc(hidden)]
pub fn assemble(
    c: &CompleteUpload,
    upload: UploadRecord,
    uploaded: Vec<PartRecord>,
) -> Result<(ObjectRecord, Vec<BlobId>), StoreError> {
    let mut uploaded: BTreeMap<u32, PartRecord> =
        uploaded.into_iter().map(|p| (p.part_number, p)).collect();
    let mut chosen = Vec::with_capacity(c.parts.len());
    for want in &c.parts {
        let part = uploaded
            .remove(&want.part_number)
            .filter(|p| p.etag == want.etag)
            .ok_or(StoreError::InvalidPart {
                part_number: want.part_number,
            })?;
        chosen.push(ObjectPart {
            part_number: part.part_number,
            size: part.size,
            etag: part.etag,
            checksums: part.checksums,
            blob: part.blob,
        });
    }
    let object = ObjectRecord {
        bucket: c.bucket.clone(),
        key: c.key.clone(),
        size: chosen.iter().map(|p| p.size).sum(),
        etag: c.etag.clone(),
        last_modified_ms: c.last_modified_ms,
        headers: upload.headers,
        user_metadata: upload.user_metadata,
        checksums: c.checksums.clone(),
        checksum_type: c.checksum_type,
        blob: BlobRef::Parts(chosen),
    };
    let garbage = uploaded.into_values().map(|p| p.blob).collect();
    Ok((object, garbage))
}

/// A page of parts: `parts` are the ones after the marker, in order, at most `max_parts + 1` (the
/// extra one only tells that the listing is truncated).
#[doc(hidden)]
pub fn part_listing(
    upload: UploadRecord,
    mut parts: Vec<PartRecord>,
    max_parts: usize,
) -> PartListing {
    let is_truncated = parts.len() > max_parts;
    parts.truncate(max_parts);
    let next_part_number_marker = if is_truncated {
        parts.last().map(|p| p.part_number)
    } else {
        None
    };
    PartListing {
        upload,
        parts,
        is_truncated,
        next_part_number_marker,
    }
}
