//! Conversions between records and PostgreSQL values: integer range checks (`bigint` is
//! signed), JSON-encoded maps in `text` columns, header columns, and re-validation of ids read
//! back (a row that no longer parses is a backend error, never silently trusted).

use std::collections::BTreeMap;

use mayfly_store::{BlobId, ChecksumAlgorithm, Checksums, HttpHeaders, StoreError};
use tokio_postgres::Row;

use crate::db::TxResult;

/// u64 to `bigint`.
pub(crate) fn to_db(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Backend(format!("value {n} exceeds bigint")))
}

/// usize to `bigint` (limits, counts), saturating.
pub(crate) fn usize_to_db(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `bigint` to u64.
pub(crate) fn from_db(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt("negative integer"))
}

/// `bigint` part number to u32.
pub(crate) fn part_number_from_db(n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| corrupt("part number"))
}

/// A stored row failed to decode.
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}"))
}

/// Encodes string pairs as a JSON object.
pub(crate) fn encode_map(map: &BTreeMap<String, String>) -> Result<String, StoreError> {
    serde_json::to_string(map).map_err(StoreError::backend)
}

/// Inverse of [`encode_map`].
pub(crate) fn decode_map(json: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt("metadata map"))
}

/// Encodes checksums as a JSON object keyed by S3 algorithm name.
pub(crate) fn encode_checksums(sums: &Checksums) -> Result<String, StoreError> {
    let named: BTreeMap<&str, &str> = sums.iter().map(|(a, v)| (a.as_str(), v.as_str())).collect();
    serde_json::to_string(&named).map_err(StoreError::backend)
}

/// Inverse of [`encode_checksums`].
pub(crate) fn decode_checksums(json: &str) -> Result<Checksums, StoreError> {
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

/// Key `bytea` back to the string it was stored from.
pub(crate) fn key_from_db(bytes: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(bytes).map_err(|_| corrupt("key is not UTF-8"))
}

/// A stored blob id.
pub(crate) fn blob_from_db(s: &str) -> Result<BlobId, StoreError> {
    BlobId::parse(s).map_err(|_| corrupt("blob id"))
}

/// The six header columns, in schema order, as one SQL list fragment.
pub(crate) const HEADER_COLUMNS: &str =
    "content_type, content_encoding, content_disposition, content_language, cache_control, expires";

/// The six header columns, starting at column `at`.
pub(crate) fn headers_from_row(row: &Row, at: usize) -> TxResult<HttpHeaders> {
    Ok(HttpHeaders {
        content_type: row.try_get(at)?,
        content_encoding: row.try_get(at + 1)?,
        content_disposition: row.try_get(at + 2)?,
        content_language: row.try_get(at + 3)?,
        cache_control: row.try_get(at + 4)?,
        expires: row.try_get(at + 5)?,
    })
}

/// The six header values, in schema order, for binding.
pub(crate) fn headers_params(h: &HttpHeaders) -> [Option<&str>; 6] {
    [
        h.content_type.as_deref(),
        h.content_encoding.as_deref(),
        h.content_disposition.as_deref(),
        h.content_language.as_deref(),
        h.cache_control.as_deref(),
        h.expires.as_deref(),
    ]
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
        assert!(to_db(u64::MAX).is_err());
        assert!(from_db(-1).is_err());
        assert_eq!(from_db(to_db(42).unwrap_or(0)).ok(), Some(42));
    }
}
