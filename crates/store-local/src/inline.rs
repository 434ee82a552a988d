//! Small blobs stored in the metadata database instead of as files (`inline_blobs`, schema
//! migration "inline blobs"). A blob of at most [`INLINE_MAX`] bytes is one row written in the
//! writer's group commit, so concurrent small PUTs share one WAL fsync instead of paying a file
//! fsync and a directory fsync each; reading it back is one point read. Ids come from the same
//! random [`BlobId`] space as files, so the metadata tables, orphan collection and every caller
//! of [`mayfly_store::BlobStore`] treat both kinds alike.

use bytes::Bytes;
use mayfly_store::{BlobId, READ_CHUNK, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::to_sql_int;
use crate::db::backend;

/// Largest blob kept inline: one [`READ_CHUNK`], so an inline blob is always read as one chunk.
pub(crate) const INLINE_MAX: usize = READ_CHUNK;

/// Inserts a new inline blob, stamped `written_at` (epoch seconds).
pub(crate) fn insert(
    conn: &Connection,
    id: &BlobId,
    data: &[u8],
    written_at: u64,
) -> Result<(), StoreError> {
    let written_at = to_sql_int(written_at)?;
    conn.prepare_cached("INSERT INTO inline_blobs (id, written_at, data) VALUES (?1, ?2, ?3)")
        .and_then(|mut st| st.execute(params![id.as_str(), written_at, data]))
        .map_err(backend)?;
    Ok(())
}

/// The blob's bytes, if it is stored inline.
pub(crate) fn get(conn: &Connection, id: &BlobId) -> Result<Option<Bytes>, StoreError> {
    conn.prepare_cached("SELECT data FROM inline_blobs WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row([id.as_str()], |r| r.get::<_, Vec<u8>>(0))
                .optional()
        })
        .map(|data| data.map(Bytes::from))
        .map_err(backend)
}

/// The blob's size, if it is stored inline.
pub(crate) fn size(conn: &Connection, id: &BlobId) -> Result<Option<u64>, StoreError> {
    conn.prepare_cached("SELECT length(data) FROM inline_blobs WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row([id.as_str()], |r| r.get::<_, i64>(0))
                .optional()
        })
        .map_err(backend)?
        .map(|n| u64::try_from(n).map_err(backend))
        .transpose()
}

/// Deletes the blob; `false` if it was not stored inline.
pub(crate) fn delete(conn: &Connection, id: &BlobId) -> Result<bool, StoreError> {
    conn.prepare_cached("DELETE FROM inline_blobs WHERE id = ?1")
        .and_then(|mut st| st.execute([id.as_str()]))
        .map(|n| n > 0)
        .map_err(backend)
}

/// Ids of inline blobs written before `written_before` (epoch seconds).
pub(crate) fn list(conn: &Connection, written_before: u64) -> Result<Vec<BlobId>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT id FROM inline_blobs WHERE written_at < ?1")
        .map_err(backend)?;
    let mut rows = st
        .query([i64::try_from(written_before).unwrap_or(i64::MAX)])
        .map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        let id: String = row.get(0).map_err(backend)?;
        out.push(crate::codec::blob_id_from_str(&id)?);
    }
    Ok(out)
}
