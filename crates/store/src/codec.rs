//! Record <-> column conversions every SQL backend shares: signed-integer range checks, JSON
//! encoding of metadata maps and checksums, the header column list, and re-validation of values
//! read back (a row that no longer decodes is a [`StoreError::Backend`], never silently
//! trusted). Reading a column out of a driver's row stays in each backend.

use std::collections::BTreeMap;

use crate::ChecksumAlgorithm;
use crate::error::StoreError;
use crate::ids::BlobId;
use crate::records::{Checksums, HttpHeaders};

/// The six header columns, in schema order, as one SQL list fragment.
pub const HEADER_COLUMNS: &str =
    "content_type, content_encoding, content_disposition, content_language, cache_control, expires";

/// A stored row failed to decode.
pub fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}"))
}

/// u64 to a signed 64-bit column; `sql_type` names the column type in the error.
///
/// # Errors
///
/// [`StoreError::Backend`] when `n` exceeds `i64::MAX`.
pub fn to_signed(n: u64, sql_type: &str) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Backend(format!("value {n} exceeds {sql_type}")))
}

/// usize to a signed 64-bit column (limits, counts), saturating.
pub fn usize_to_signed(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A signed 64-bit column back to u64.
///
/// # Errors
///
/// [`corrupt`] when negative.
pub fn from_signed(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt("negative integer"))
}

/// A signed 64-bit part-number column back to u32.
///
/// # Errors
///
/// [`corrupt`] when out of range.
pub fn part_number_from_signed(n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| corrupt("part number"))
}

/// Encodes string pairs as a JSON object.
///
/// # Errors
///
/// [`StoreError::Backend`] if serialisation fails.
pub fn encode_map(map: &BTreeMap<String, String>) -> Result<String, StoreError> {
    serde_json::to_string(map).map_err(StoreError::backend)
}

/// Inverse of [`encode_map`].
///
/// # Errors
///
/// [`corrupt`] when `json` is not an object of strings.
pub fn decode_map(json: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt("metadata map"))
}

/// Encodes checksums as a JSON object keyed by S3 algorithm name.
///
/// # Errors
///
/// [`StoreError::Backend`] if serialisation fails.
pub fn encode_checksums(sums: &Checksums) -> Result<String, StoreError> {
    let named: BTreeMap<&str, &str> = sums.iter().map(|(a, v)| (a.as_str(), v.as_str())).collect();
    serde_json::to_string(&named).map_err(StoreError::backend)
}

/// Inverse of [`encode_checksums`].
///
/// # Errors
///
/// [`corrupt`] on bad JSON or an unknown algorithm name.
pub fn decode_checksums(json: &str) -> Result<Checksums, StoreError> {
    let named: BTreeMap<String, String> =
        serde_json::from_str(json).map_err(|_| corrupt("checksums"))?;
    named
        .into_iter()
        .map(|(name, value)| {
            ChecksumAlgorithm::parse(&name)
                .map(|a| (a, value))
                .map_err(|_| corrupt("checksum algorithm"))
        })
        .collect()
}

/// Key bytes back to the string they were stored from.
///
/// # Errors
///
/// [`corrupt`] when not UTF-8.
pub fn key_from_bytes(bytes: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(bytes).map_err(|_| corrupt("key is not UTF-8"))
}

/// A stored blob id.
///
/// # Errors
///
/// [`corrupt`] when it no longer parses.
pub fn blob_id_from_str(s: &str) -> Result<BlobId, StoreError> {
    BlobId::parse(s).map_err(|_| corrupt("blob id"))
}

/// The six header values, in schema order, for binding.
pub fn headers_params(h: &HttpHeaders) -> [Option<&str>; 6] {
    [
        h.content_type.as_deref(),
        h.content_encoding.as_deref(),
        h.content_disposition.as_deref(),
        h.content_language.as_deref(),
        h.cache_control.as_deref(),
        h.expires.as_deref(),
    ]
}

/// The revocation columns, in the order [`decode_revocation`] takes them.
pub const REVOCATION_COLUMNS: &str =
    "credential_id, account, parent, bucket, revoked_on, expires_on";

/// A revocation row read back (columns as in [`REVOCATION_COLUMNS`]), every value re-validated.
pub fn decode_revocation(
    id: &str,
    account: &str,
    parent: Option<&str>,
    bucket: Option<&str>,
    revoked_on: i64,
    expires_on: i64,
) -> Result<crate::RevocationRecord, StoreError> {
    use mayfly_core::{AccessKeyId, AccountId, BucketName, CredentialId};
    Ok(crate::RevocationRecord {
        credential_id: CredentialId::parse(id).ok_or_else(|| corrupt("credential id"))?,
        account: AccountId::parse(account).map_err(|_| corrupt("account id"))?,
        parent: parent
            .map(|p| AccessKeyId::parse(p).map_err(|_| corrupt("parent token id")))
            .transpose()?,
        bucket: bucket
            .map(|b| BucketName::parse(b).map_err(|_| corrupt("bucket name")))
            .transpose()?,
        revoked_on: from_signed(revoked_on)?,
        expires_on: from_signed(expires_on)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_round_trip_by_name() {
        let mut sums = Checksums::new();
        sums.insert(ChecksumAlgorithm::Crc64Nvme, "AAAAAAAAAAA=".to_owned());
        sums.insert(ChecksumAlgorithm::Sha256, "x-2".to_owned());
        let json = encode_checksums(&sums).unwrap_or_default();
        assert!(json.contains("CRC64NVME"));
        assert_eq!(decode_checksums(&json).ok(), Some(sums));
        assert!(decode_checksums(r#"{"MD5":"x"}"#).is_err());
    }

    #[test]
    fn integers_out_of_range_are_errors() {
        assert!(to_signed(u64::MAX, "bigint").is_err());
        assert!(from_signed(-1).is_err());
        assert!(part_number_from_signed(i64::from(u32::MAX) + 1).is_err());
        assert_eq!(
            from_signed(to_signed(42, "bigint").unwrap_or(0)).ok(),
            Some(42)
        );
    }
}
