//! Conversions between records and SQLite values. The backend-independent part (integer range
//! checks, JSON-encoded maps, re-validation of values read back) is [`mayfly_store::codec`],
//! re-exported here; this file adds what needs a `rusqlite` row or names SQLite's types.

use mayfly_store::{HttpHeaders, StoreError};
use rusqlite::Row;

pub(crate) use mayfly_store::codec::{
    blob_id_from_str, corrupt, decode_checksums, decode_map, encode_checksums, encode_map,
    from_signed, headers_params, key_from_bytes, usize_to_signed,
};

/// u64 to SQLite INTEGER.
pub(crate) fn to_sql_int(n: u64) -> Result<i64, StoreError> {
    mayfly_store::codec::to_signed(n, "SQLite INTEGER")
}

/// The six header columns, in schema order, starting at column `at`.
pub(crate) fn headers_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<HttpHeaders> {
    Ok(HttpHeaders {
        content_type: row.get(at)?,
        content_encoding: row.get(at + 1)?,
        content_disposition: row.get(at + 2)?,
        content_language: row.get(at + 3)?,
        cache_control: row.get(at + 4)?,
        expires: row.get(at + 5)?,
    })
}
