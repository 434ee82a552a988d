//! Conversions between records and PostgreSQL values. The backend-independent part (integer
//! range checks — `bigint` is signed —, JSON-encoded maps in `text` columns, the header column
//! list, re-validation of values read back) is [`mayfly_store::codec`], re-exported here; this
//! file adds what needs a `tokio_postgres` row or names PostgreSQL's types.

use mayfly_store::{HttpHeaders, StoreError};
use tokio_postgres::Row;

pub(crate) use mayfly_store::codec::{
    HEADER_COLUMNS, blob_id_from_str, corrupt, decode_checksums, decode_map, encode_checksums,
    encode_map, from_signed, headers_params, key_from_bytes, part_number_from_signed,
    usize_to_signed,
};

use crate::db::TxResult;

/// u64 to `bigint`.
pub(crate) fn to_db(n: u64) -> Result<i64, StoreError> {
    mayfly_store::codec::to_signed(n, "bigint")
}

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
