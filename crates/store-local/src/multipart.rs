//! Multipart uploads and their parts in SQLite. An upload id is checked together with its
//! bucket and key on every call (an id alone is not a capability). Completion builds the object
//! from the chosen parts, replaces any previous object and drops the upload, all in the caller's
//! single transaction.

use mayfly_store::complete;
use mayfly_store::listing;
use mayfly_store::{
    BlobId, BucketId, ChecksumAlgorithm, ChecksumType, CompleteOutcome, CompleteUpload, Entity,
    ListPartsQuery, ListUploadsQuery, PartListing, PartRecord, StoreError, UploadId, UploadListing,
    UploadRecord,
};
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};

use crate::buckets::bucket_row;
use crate::codec::{
    blob_id_from_str, corrupt, decode_checksums, decode_map, encode_checksums, encode_map,
    from_signed, headers_from_row, headers_params, key_from_bytes, to_sql_int, usize_to_signed,
};
use crate::db::backend;
use crate::objects;

const COLUMNS: &str = "id, key, initiated_ms, content_type, content_encoding, content_disposition, \
    content_language, cache_control, expires, user_metadata, checksum_algorithm, checksum_type";

fn upload_from_row(bucket: &BucketId, row: &Row<'_>) -> Result<UploadRecord, StoreError> {
    let id: String = row.get(0).map_err(backend)?;
    let algorithm: Option<String> = row.get(10).map_err(backend)?;
    let kind: Option<String> = row.get(11).map_err(backend)?;
    Ok(UploadRecord {
        bucket: bucket.clone(),
        key: key_from_bytes(row.get(1).map_err(backend)?)?,
        upload_id: UploadId::parse(&id).map_err(|_| corrupt("upload id"))?,
        initiated_ms: from_signed(row.get(2).map_err(backend)?)?,
        headers: headers_from_row(row, 3).map_err(backend)?,
        user_metadata: decode_map(&row.get::<_, String>(9).map_err(backend)?)?,
        checksum_algorithm: algorithm
            .map(|a| ChecksumAlgorithm::parse(&a).map_err(|_| corrupt("checksum algorithm")))
            .transpose()?,
        checksum_type: kind
            .map(|t| ChecksumType::parse(&t).map_err(|_| corrupt("checksum type")))
            .transpose()?,
    })
}

fn find_upload(
    conn: &Connection,
    bucket: &BucketId,
    bucket_id: i64,
    key: &str,
    upload_id: &UploadId,
) -> Result<UploadRecord, StoreError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM uploads WHERE id = ?1 AND bucket_id = ?2 AND key = ?3"
        ))
        .map_err(backend)?;
    let mut rows = st
        .query(params![upload_id.as_str(), bucket_id, key.as_bytes()])
        .map_err(backend)?;
    match rows.next().map_err(backend)? {
        Some(row) => upload_from_row(bucket, row),
        None => Err(StoreError::NotFound(Entity::Upload)),
    }
}

pub(crate) fn create_upload(conn: &Connection, upload: &UploadRecord) -> Result<(), StoreError> {
    let bucket_id = bucket_row(conn, &upload.bucket)?;
    let taken = conn
        .prepare_cached("SELECT 1 FROM uploads WHERE id = ?1")
        .and_then(|mut st| st.exists([upload.upload_id.as_str()]))
        .map_err(backend)?;
    if taken {
        return Err(StoreError::AlreadyExists(Entity::Upload));
    }
    let h = headers_params(&upload.headers);
    conn.execute(
        "INSERT INTO uploads (id, bucket_id, key, initiated_ms, content_type, content_encoding,
            content_disposition, content_language, cache_control, expires, user_metadata,
            checksum_algorithm, checksum_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            upload.upload_id.as_str(),
            bucket_id,
            upload.key.as_bytes(),
            to_sql_int(upload.initiated_ms)?,
            h[0],
            h[1],
            h[2],
            h[3],
            h[4],
            h[5],
            encode_map(&upload.user_metadata)?,
            upload.checksum_algorithm.map(ChecksumAlgorithm::as_str),
            upload.checksum_type.map(ChecksumType::as_str),
        ],
    )
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn get_upload(
    conn: &Connection,
    bucket: &BucketId,
    key: &str,
    upload_id: &UploadId,
) -> Result<UploadRecord, StoreError> {
    let bucket_id = bucket_row(conn, bucket)?;
    find_upload(conn, bucket, bucket_id, key, upload_id)
}

fn part_from_row(row: &Row<'_>) -> Result<PartRecord, StoreError> {
    Ok(PartRecord {
        part_number: row.get(0).map_err(backend)?,
        size: from_signed(row.get(1).map_err(backend)?)?,
        etag: row.get(2).map_err(backend)?,
        last_modified_ms: from_signed(row.get(3).map_err(backend)?)?,
        checksums: decode_checksums(&row.get::<_, String>(4).map_err(backend)?)?,
        blob: blob_id_from_str(&row.get::<_, String>(5).map_err(backend)?)?,
    })
}

/// Parts of the upload with a number above `after`, ordered, at most `limit`.
fn load_parts(
    conn: &Connection,
    upload_id: &UploadId,
    after: u32,
    limit: usize,
) -> Result<Vec<PartRecord>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT part_number, size, etag, last_modified_ms, checksums, blob_id FROM parts
             WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3",
        )
        .map_err(backend)?;
    let mut rows = st
        .query(params![upload_id.as_str(), after, usize_to_signed(limit)])
        .map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(part_from_row(row)?);
    }
    Ok(out)
}

pub(crate) fn put_part(
    conn: &Connection,
    bucket: &BucketId,
    key: &str,
    upload_id: &UploadId,
    part: &PartRecord,
) -> Result<Vec<BlobId>, StoreError> {
    let bucket_id = bucket_row(conn, bucket)?;
    find_upload(conn, bucket, bucket_id, key, upload_id)?;
    let old = load_parts(conn, upload_id, part.part_number.saturating_sub(1), 1)?
        .into_iter()
        .filter(|p| p.part_number == part.part_number)
        .map(|p| p.blob)
        .collect();
    conn.execute(
        "INSERT INTO parts (upload_id, part_number, size, etag, last_modified_ms, checksums, blob_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size,
            etag = excluded.etag, last_modified_ms = excluded.last_modified_ms,
            checksums = excluded.checksums, blob_id = excluded.blob_id",
        params![
            upload_id.as_str(),
            part.part_number,
            to_sql_int(part.size)?,
            part.etag,
            to_sql_int(part.last_modified_ms)?,
            encode_checksums(&part.checksums)?,
            part.blob.as_str(),
        ],
    )
    .map_err(backend)?;
    Ok(old)
}

pub(crate) fn list_parts(
    conn: &Connection,
    bucket: &BucketId,
    key: &str,
    upload_id: &UploadId,
    q: &ListPartsQuery,
) -> Result<PartListing, StoreError> {
    let bucket_id = bucket_row(conn, bucket)?;
    let upload = find_upload(conn, bucket, bucket_id, key, upload_id)?;
    if q.max_parts == 0 {
        return Ok(complete::part_listing(upload, Vec::new(), 0));
    }
    let parts = load_parts(
        conn,
        upload_id,
        q.part_number_marker,
        q.max_parts.saturating_add(1),
    )?;
    Ok(complete::part_listing(upload, parts, q.max_parts))
}

pub(crate) fn list_uploads(
    conn: &Connection,
    bucket: &BucketId,
    q: &ListUploadsQuery,
) -> Result<UploadListing, StoreError> {
    let bucket_id = bucket_row(conn, bucket)?;
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    let start = listing::upload_start_cursor(
        &q.prefix,
        delimiter,
        q.key_marker.as_deref(),
        q.upload_id_marker.as_deref(),
    );
    let page = listing::run(
        &q.prefix,
        delimiter,
        start,
        q.max_uploads,
        |cursor, limit| -> Result<_, StoreError> {
            let mut sql = format!("SELECT {COLUMNS} FROM uploads WHERE bucket_id = ?");
            let mut args = vec![Value::Integer(bucket_id)];
            objects::key_range(&q.prefix, cursor, &mut sql, &mut args);
            sql.push_str(" ORDER BY key, id LIMIT ?");
            args.push(Value::Integer(usize_to_signed(limit)));
            let mut st = conn.prepare_cached(&sql).map_err(backend)?;
            let mut rows = st.query(params_from_iter(args)).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(backend)? {
                out.push(upload_from_row(bucket, row)?);
            }
            Ok(out)
        },
    )?;
    Ok(listing::upload_listing(page))
}

fn drop_upload(conn: &Connection, upload_id: &UploadId) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM parts WHERE upload_id = ?1",
        [upload_id.as_str()],
    )
    .map_err(backend)?;
    conn.execute("DELETE FROM uploads WHERE id = ?1", [upload_id.as_str()])
        .map_err(backend)?;
    Ok(())
}

pub(crate) fn complete_upload(
    conn: &Connection,
    c: &CompleteUpload,
) -> Result<CompleteOutcome, StoreError> {
    let bucket_id = bucket_row(conn, &c.bucket)?;
    let upload = find_upload(conn, &c.bucket, bucket_id, &c.key, &c.upload_id)?;
    complete::check_request(c)?;
    let parts = load_parts(conn, &c.upload_id, 0, usize::MAX)?;
    let (object, mut garbage) = complete::assemble(c, upload, parts)?;
    // The whole call is one transaction: a failed condition rolls the removal back.
    let previous = objects::remove(conn, bucket_id, &c.key)?;
    if !c
        .condition
        .holds(previous.as_ref().map(|(etag, _)| etag.as_str()))
    {
        return Err(StoreError::PreconditionFailed);
    }
    if let Some((_, old)) = previous {
        garbage.extend(old);
    }
    objects::insert(conn, bucket_id, &object)?;
    drop_upload(conn, &c.upload_id)?;
    Ok(CompleteOutcome { object, garbage })
}

pub(crate) fn abort_upload(
    conn: &Connection,
    bucket: &BucketId,
    key: &str,
    upload_id: &UploadId,
) -> Result<Vec<BlobId>, StoreError> {
    let bucket_id = bucket_row(conn, bucket)?;
    find_upload(conn, bucket, bucket_id, key, upload_id)?;
    let blobs = load_parts(conn, upload_id, 0, usize::MAX)?
        .into_iter()
        .map(|p| p.blob)
        .collect();
    drop_upload(conn, upload_id)?;
    Ok(blobs)
}
