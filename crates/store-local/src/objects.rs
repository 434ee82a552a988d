//! Object records in SQLite: get, conditional atomic replace, delete, listing through the shared
//! engine in [`mayfly_store::listing`], and the blob-reference probe for orphan collection.
//! A multipart object's parts live in `object_parts`, ordered by `idx`.

use mayfly_store::listing::{self, ListCursor};
use mayfly_store::{
    BlobId, BlobRef, BucketId, ChecksumType, Entity, ListObjectsQuery, ObjectListing, ObjectPart,
    ObjectRecord, StoreError, WriteCondition,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::buckets::bucket_row;
use crate::codec::{
    blob_id_from_str, corrupt, decode_checksums, decode_map, encode_checksums, encode_map,
    from_signed, headers_from_row, headers_params, key_from_bytes, to_sql_int, usize_to_signed,
};
use crate::db::backend;

const COLUMNS: &str = "id, key, size, etag, last_modified_ms, content_type, content_encoding, \
    content_disposition, content_language, cache_control, expires, user_metadata, checksums, \
    checksum_type, blob_id";

/// Decodes a row selected with [`COLUMNS`], loading its parts if it is multipart.
fn object_from_row(
    conn: &Connection,
    bucket: &BucketId,
    row: &Row<'_>,
) -> Result<ObjectRecord, StoreError> {
    let object_id: i64 = row.get(0).map_err(backend)?;
    let blob_id: Option<String> = row.get(14).map_err(backend)?;
    let blob = match blob_id {
        Some(id) => BlobRef::Single(blob_id_from_str(&id)?),
        None => BlobRef::Parts(load_parts(conn, object_id)?),
    };
    let checksum_type: String = row.get(13).map_err(backend)?;
    Ok(ObjectRecord {
        bucket: bucket.clone(),
        key: key_from_bytes(row.get(1).map_err(backend)?)?,
        size: from_signed(row.get(2).map_err(backend)?)?,
        etag: row.get(3).map_err(backend)?,
        last_modified_ms: from_signed(row.get(4).map_err(backend)?)?,
        headers: headers_from_row(row, 5).map_err(backend)?,
        user_metadata: decode_map(&row.get::<_, String>(11).map_err(backend)?)?,
        checksums: decode_checksums(&row.get::<_, String>(12).map_err(backend)?)?,
        checksum_type: ChecksumType::parse(&checksum_type).map_err(|_| corrupt("checksum type"))?,
        blob,
    })
}

fn load_parts(conn: &Connection, object_id: i64) -> Result<Vec<ObjectPart>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT part_number, size, etag, checksums, blob_id FROM object_parts
             WHERE object_id = ?1 ORDER BY idx",
        )
        .map_err(backend)?;
    let mut rows = st.query([object_id]).map_err(backend)?;
    let mut parts = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        parts.push(ObjectPart {
            part_number: row.get(0).map_err(backend)?,
            size: from_signed(row.get(1).map_err(backend)?)?,
            etag: row.get(2).map_err(backend)?,
            checksums: decode_checksums(&row.get::<_, String>(3).map_err(backend)?)?,
            blob: blob_id_from_str(&row.get::<_, String>(4).map_err(backend)?)?,
        });
    }
    Ok(parts)
}

fn find(
    conn: &Connection,
    bucket: &BucketId,
    bucket_id: i64,
    key: &str,
) -> Result<Option<ObjectRecord>, StoreError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM objects WHERE bucket_id = ?1 AND key = ?2"
        ))
        .map_err(backend)?;
    let mut rows = st
        .query(params![bucket_id, key.as_bytes()])
        .map_err(backend)?;
    match rows.next().map_err(backend)? {
        Some(row) => object_from_row(conn, bucket, row).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn get_object(
    conn: &Connection,
    bucket: &BucketId,
    key: &str,
) -> Result<ObjectRecord, StoreError> {
    let bucket_id = bucket_row(conn, bucket)?;
    find(conn, bucket, bucket_id, key)?.ok_or(StoreError::NotFound(Entity::Object))
}

/// Removes the object row (and its parts) if present; returns its etag and blob ids.
pub(crate) fn remove(
    conn: &Connection,
    bucket_id: i64,
    key: &str,
) -> Result<Option<(String, Vec<BlobId>)>, StoreError> {
    let found: Option<(i64, String, Option<String>)> = conn
        .prepare_cached("SELECT id, etag, blob_id FROM objects WHERE bucket_id = ?1 AND key = ?2")
        .and_then(|mut st| {
            st.query_row(params![bucket_id, key.as_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
        })
        .map_err(backend)?;
    let Some((object_id, etag, blob_id)) = found else {
        return Ok(None);
    };
    let blobs = match blob_id {
        Some(id) => vec![blob_id_from_str(&id)?],
        None => load_parts(conn, object_id)?
            .into_iter()
            .map(|p| p.blob)
            .collect(),
    };
    conn.execute("DELETE FROM object_parts WHERE object_id = ?1", [object_id])
        .map_err(backend)?;
    conn.execute("DELETE FROM objects WHERE id = ?1", [object_id])
        .map_err(backend)?;
    Ok(Some((etag, blobs)))
}

/// Inserts the object row (no row for this key may exist).
pub(crate) fn insert(
    conn: &Connection,
    bucket_id: i64,
    object: &ObjectRecord,
) -> Result<(), StoreError> {
    let h = headers_params(&object.headers);
    let single = match &object.blob {
        BlobRef::Single(id) => Some(id.as_str()),
        BlobRef::Parts(_) => None,
    };
    let size = to_sql_int(object.size)?;
    let last_modified = to_sql_int(object.last_modified_ms)?;
    let user_metadata = encode_map(&object.user_metadata)?;
    let checksums = encode_checksums(&object.checksums)?;
    conn.prepare_cached(
        "INSERT INTO objects (bucket_id, key, size, etag, last_modified_ms, content_type,
            content_encoding, content_disposition, content_language, cache_control, expires,
            user_metadata, checksums, checksum_type, blob_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )
    .and_then(|mut st| {
        st.execute(params![
            bucket_id,
            object.key.as_bytes(),
            size,
            object.etag,
            last_modified,
            h[0],
            h[1],
            h[2],
            h[3],
            h[4],
            h[5],
            user_metadata,
            checksums,
            object.checksum_type.as_str(),
            single,
        ])
    })
    .map_err(backend)?;
    if let BlobRef::Parts(parts) = &object.blob {
        let object_id = conn.last_insert_rowid();
        let mut st = conn
            .prepare_cached(
                "INSERT INTO object_parts (object_id, idx, part_number, size, etag, checksums, blob_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(backend)?;
        for (idx, part) in parts.iter().enumerate() {
            st.execute(params![
                object_id,
                usize_to_signed(idx),
                part.part_number,
                to_sql_int(part.size)?,
                part.etag,
                encode_checksums(&part.checksums)?,
                part.blob.as_str(),
            ])
            .map_err(backend)?;
        }
    }
    Ok(())
}

pub(crate) fn put_object(
    conn: &Connection,
    object: &ObjectRecord,
    condition: &WriteCondition,
) -> Result<Vec<BlobId>, StoreError> {
    let bucket_id = bucket_row(conn, &object.bucket)?;
    // Remove first and check the condition on what was removed: the whole call is one
    // transaction, so a failed condition rolls the removal back.
    let previous = remove(conn, bucket_id, &object.key)?;
    let holds = condition.holds(previous.as_ref().map(|(etag, _)| etag.as_str()));
    if !holds {
        return Err(StoreError::PreconditionFailed);
    }
    insert(conn, bucket_id, object)?;
    Ok(previous.map(|(_, blobs)| blobs).unwrap_or_default())
}

pub(crate) fn delete_object(
    conn: &Connection,
    bucket: &BucketId,
    key: &str,
) -> Result<Vec<BlobId>, StoreError> {
    let bucket_id = bucket_row(conn, bucket)?;
    Ok(remove(conn, bucket_id, key)?
        .map(|(_, blobs)| blobs)
        .unwrap_or_default())
}

/// Deletes the object if it still has this ETag and modification time (see
/// `MetadataStore::delete_object_if`).
pub(crate) fn delete_object_if(
    conn: &Connection,
    bucket: &BucketId,
    key: &str,
    etag: &str,
    last_modified_ms: u64,
) -> Result<Vec<BlobId>, StoreError> {
    let bucket_id = bucket_row(conn, bucket)?;
    match find(conn, bucket, bucket_id, key)? {
        None => return Ok(Vec::new()),
        Some(o) if o.etag != etag || o.last_modified_ms != last_modified_ms => {
            return Err(StoreError::PreconditionFailed);
        }
        Some(_) => {}
    }
    Ok(remove(conn, bucket_id, key)?
        .map(|(_, blobs)| blobs)
        .unwrap_or_default())
}

/// SQL condition and arguments for a key range: within `prefix`, from `cursor`.
pub(crate) fn key_range(
    prefix: &str,
    cursor: &ListCursor,
    sql: &mut String,
    args: &mut Vec<Value>,
) {
    sql.push_str(" AND key >= ?");
    args.push(Value::Blob(prefix.as_bytes().to_vec()));
    if let Some(hi) = listing::prefix_successor(prefix.as_bytes()) {
        sql.push_str(" AND key < ?");
        args.push(Value::Blob(hi));
    }
    match cursor {
        ListCursor::AtOrAfter(b) => {
            sql.push_str(" AND key >= ?");
            args.push(Value::Blob(b.clone()));
        }
        ListCursor::After(b) => {
            sql.push_str(" AND key > ?");
            args.push(Value::Blob(b.clone()));
        }
        ListCursor::AfterUpload(b, id) => {
            sql.push_str(" AND (key > ? OR (key = ? AND id > ?))");
            args.extend([
                Value::Blob(b.clone()),
                Value::Blob(b.clone()),
                Value::Text(id.clone()),
            ]);
        }
    }
}

pub(crate) fn list_objects(
    conn: &Connection,
    bucket: &BucketId,
    q: &ListObjectsQuery,
) -> Result<ObjectListing, StoreError> {
    let bucket_id = bucket_row(conn, bucket)?;
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    let start = listing::start_cursor(&q.prefix, delimiter, q.start_after.as_deref());
    let page = listing::run(
        &q.prefix,
        delimiter,
        start,
        q.max_keys,
        |cursor, limit| -> Result<_, StoreError> {
            let mut sql = format!("SELECT {COLUMNS} FROM objects WHERE bucket_id = ?");
            let mut args = vec![Value::Integer(bucket_id)];
            key_range(&q.prefix, cursor, &mut sql, &mut args);
            sql.push_str(" ORDER BY key LIMIT ?");
            args.push(Value::Integer(usize_to_signed(limit)));
            let mut st = conn.prepare_cached(&sql).map_err(backend)?;
            let mut rows = st.query(params_from_iter(args)).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(backend)? {
                out.push(object_from_row(conn, bucket, row)?);
            }
            Ok(out)
        },
    )?;
    Ok(listing::object_listing(page))
}

pub(crate) fn blob_referenced(conn: &Connection, id: &BlobId) -> Result<bool, StoreError> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM objects WHERE blob_id = ?1)
             OR EXISTS (SELECT 1 FROM object_parts WHERE blob_id = ?1)
             OR EXISTS (SELECT 1 FROM parts WHERE blob_id = ?1)",
    )
    .and_then(|mut st| st.query_row([id.as_str()], |r| r.get::<_, bool>(0)))
    .map_err(backend)
}
