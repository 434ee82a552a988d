//! Object records in PostgreSQL: get, conditional atomic replace, delete, listing through the
//! shared engine, and the blob-reference probe for orphan collection. A multipart object's
//! parts live in `object_parts`, ordered by `idx`.
//!
//! Concurrency: every writer of a key (put, delete, multipart completion) first takes a
//! transaction-scoped advisory lock on (bucket, key) — see [`lock_key`] — so writers of one key
//! run one after the other on every node, whether or not a row exists yet. Each then reads the
//! current row with a fresh `READ COMMITTED` snapshot, so exactly one writer removes each
//! version and returns its blobs as garbage, once.

use deadpool_postgres::Transaction;
use mayfly_store::listing::{self, ListCursor, prefix_successor, start_cursor};
use mayfly_store::{
    BlobId, BlobRef, BucketId, ChecksumType, Entity, ListObjectsQuery, ObjectListing, ObjectPart,
    ObjectRecord, StoreError, WriteCondition,
};
use tokio_postgres::Row;

use crate::buckets::{Query, RowLock, bucket_row};
use crate::codec::{
    HEADER_COLUMNS, blob_id_from_str, corrupt, decode_checksums, decode_map, encode_checksums,
    encode_map, from_signed, headers_from_row, headers_params, key_from_bytes,
    part_number_from_signed, to_db, usize_to_signed,
};
use crate::db::{TxResult, advisory_lock, fnv1a64};

const COLUMNS: &str = "id, key, size, etag, last_modified_ms, content_type, content_encoding, \
    content_disposition, content_language, cache_control, expires, user_metadata, checksums, \
    checksum_type, blob_id";

/// Serialises every writer of `(bucket, key)` until this transaction ends.
pub(crate) async fn lock_key(tx: &Transaction<'_>, bucket_id: i64, key: &str) -> TxResult<()> {
    advisory_lock(
        tx,
        fnv1a64(&[b"object", &bucket_id.to_be_bytes(), key.as_bytes()]),
    )
    .await
}

/// Decodes a row selected with [`COLUMNS`], loading its parts if it is multipart.
async fn object_from_row(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    row: &Row,
) -> TxResult<ObjectRecord> {
    let object_id: i64 = row.try_get(0)?;
    let blob_id: Option<String> = row.try_get(14)?;
    let blob = match blob_id {
        Some(id) => BlobRef::Single(blob_id_from_str(&id)?),
        None => BlobRef::Parts(load_parts(tx, object_id).await?),
    };
    let checksum_type: String = row.try_get(13)?;
    Ok(ObjectRecord {
        bucket: bucket.clone(),
        key: key_from_bytes(row.try_get(1)?)?,
        size: from_signed(row.try_get(2)?)?,
        etag: row.try_get(3)?,
        last_modified_ms: from_signed(row.try_get(4)?)?,
        headers: headers_from_row(row, 5)?,
        user_metadata: decode_map(row.try_get(11)?)?,
        checksums: decode_checksums(row.try_get(12)?)?,
        checksum_type: ChecksumType::parse(&checksum_type).map_err(|_| corrupt("checksum type"))?,
        blob,
    })
}

async fn load_parts(tx: &Transaction<'_>, object_id: i64) -> TxResult<Vec<ObjectPart>> {
    let st = tx
        .prepare_cached(
            "SELECT part_number, size, etag, checksums, blob_id FROM object_parts
             WHERE object_id = $1 ORDER BY idx",
        )
        .await?;
    let mut parts = Vec::new();
    for row in tx.query(&st, &[&object_id]).await? {
        parts.push(ObjectPart {
            part_number: part_number_from_signed(row.try_get(0)?)?,
            size: from_signed(row.try_get(1)?)?,
            etag: row.try_get(2)?,
            checksums: decode_checksums(row.try_get(3)?)?,
            blob: blob_id_from_str(row.try_get(4)?)?,
        });
    }
    Ok(parts)
}

pub(crate) async fn get_object(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    key: &str,
) -> TxResult<ObjectRecord> {
    let bucket_id = bucket_row(tx, bucket, RowLock::None).await?;
    let st = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM objects WHERE bucket_id = $1 AND key = $2"
        ))
        .await?;
    match tx.query_opt(&st, &[&bucket_id, &key.as_bytes()]).await? {
        Some(row) => object_from_row(tx, bucket, &row).await,
        None => Err(StoreError::NotFound(Entity::Object).into()),
    }
}

/// Removes the object row (its parts cascade) if present; returns its etag and blob ids.
/// The caller holds [`lock_key`].
pub(crate) async fn remove(
    tx: &Transaction<'_>,
    bucket_id: i64,
    key: &str,
) -> TxResult<Option<(String, Vec<BlobId>)>> {
    let st = tx
        .prepare_cached(
            "SELECT id, etag, blob_id FROM objects WHERE bucket_id = $1 AND key = $2 FOR UPDATE",
        )
        .await?;
    let Some(row) = tx.query_opt(&st, &[&bucket_id, &key.as_bytes()]).await? else {
        return Ok(None);
    };
    let object_id: i64 = row.try_get(0)?;
    let etag: String = row.try_get(1)?;
    let blob_id: Option<String> = row.try_get(2)?;
    let blobs = match blob_id {
        Some(id) => vec![blob_id_from_str(&id)?],
        None => load_parts(tx, object_id)
            .await?
            .into_iter()
            .map(|p| p.blob)
            .collect(),
    };
    let st = tx
        .prepare_cached("DELETE FROM objects WHERE id = $1")
        .await?;
    tx.execute(&st, &[&object_id]).await?;
    Ok(Some((etag, blobs)))
}

/// Inserts the object row and its parts (no row for this key may exist).
pub(crate) async fn insert(
    tx: &Transaction<'_>,
    bucket_id: i64,
    object: &ObjectRecord,
) -> TxResult<()> {
    let h = headers_params(&object.headers);
    let single = match &object.blob {
        BlobRef::Single(id) => Some(id.as_str()),
        BlobRef::Parts(_) => None,
    };
    let st = tx
        .prepare_cached(&format!(
            "INSERT INTO objects (bucket_id, key, size, etag, last_modified_ms, {HEADER_COLUMNS},
                user_metadata, checksums, checksum_type, blob_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             RETURNING id"
        ))
        .await?;
    let row = tx
        .query_one(
            &st,
            &[
                &bucket_id,
                &object.key.as_bytes(),
                &to_db(object.size)?,
                &object.etag,
                &to_db(object.last_modified_ms)?,
                &h[0],
                &h[1],
                &h[2],
                &h[3],
                &h[4],
                &h[5],
                &encode_map(&object.user_metadata)?,
                &encode_checksums(&object.checksums)?,
                &object.checksum_type.as_str(),
                &single,
            ],
        )
        .await?;
    if let BlobRef::Parts(parts) = &object.blob {
        let object_id: i64 = row.try_get(0)?;
        let st = tx
            .prepare_cached(
                "INSERT INTO object_parts (object_id, idx, part_number, size, etag, checksums,
                    blob_id)
                 SELECT $1, idx::integer - 1, part_number, size, etag, checksums, blob_id
                 FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])
                    WITH ORDINALITY AS p(part_number, size, etag, checksums, blob_id, idx)",
            )
            .await?;
        let numbers: Vec<i64> = parts.iter().map(|p| i64::from(p.part_number)).collect();
        let sizes = parts
            .iter()
            .map(|p| to_db(p.size))
            .collect::<Result<Vec<_>, _>>()?;
        let etags: Vec<&str> = parts.iter().map(|p| p.etag.as_str()).collect();
        let sums = parts
            .iter()
            .map(|p| encode_checksums(&p.checksums))
            .collect::<Result<Vec<_>, _>>()?;
        let blobs: Vec<&str> = parts.iter().map(|p| p.blob.as_str()).collect();
        tx.execute(&st, &[&object_id, &numbers, &sizes, &etags, &sums, &blobs])
            .await?;
    }
    Ok(())
}

pub(crate) async fn put_object(
    tx: &Transaction<'_>,
    object: &ObjectRecord,
    condition: &WriteCondition,
) -> TxResult<Vec<BlobId>> {
    let bucket_id = bucket_row(tx, &object.bucket, RowLock::KeyShare).await?;
    lock_key(tx, bucket_id, &object.key).await?;
    // Remove first and check the condition on what was removed: the whole call is one
    // transaction, so a failed condition rolls the removal back.
    let previous = remove(tx, bucket_id, &object.key).await?;
    let holds = condition.holds(previous.as_ref().map(|(etag, _)| etag.as_str()));
    if !holds {
        return Err(StoreError::PreconditionFailed.into());
    }
    insert(tx, bucket_id, object).await?;
    Ok(previous.map(|(_, blobs)| blobs).unwrap_or_default())
}

pub(crate) async fn delete_object(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    key: &str,
) -> TxResult<Vec<BlobId>> {
    let bucket_id = bucket_row(tx, bucket, RowLock::KeyShare).await?;
    lock_key(tx, bucket_id, key).await?;
    Ok(remove(tx, bucket_id, key)
        .await?
        .map(|(_, blobs)| blobs)
        .unwrap_or_default())
}

/// Deletes the object if it still has this ETag and modification time (see
/// `MetadataStore::delete_object_if`).
pub(crate) async fn delete_object_if(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    key: &str,
    etag: &str,
    last_modified_ms: u64,
) -> TxResult<Vec<BlobId>> {
    let bucket_id = bucket_row(tx, bucket, RowLock::KeyShare).await?;
    lock_key(tx, bucket_id, key).await?;
    let st = tx
        .prepare_cached(
            "SELECT etag, last_modified_ms FROM objects WHERE bucket_id = $1 AND key = $2",
        )
        .await?;
    let Some(row) = tx.query_opt(&st, &[&bucket_id, &key.as_bytes()]).await? else {
        return Ok(Vec::new());
    };
    let current: String = row.try_get(0)?;
    let modified: i64 = row.try_get(1)?;
    if current != etag || modified != to_db(last_modified_ms)? {
        return Err(StoreError::PreconditionFailed.into());
    }
    Ok(remove(tx, bucket_id, key)
        .await?
        .map(|(_, blobs)| blobs)
        .unwrap_or_default())
}

/// Appends the key-range condition for rows within `prefix`, from `cursor`. `id_column` is the
/// tie-breaker column for [`ListCursor::AfterUpload`].
pub(crate) fn key_range(prefix: &str, cursor: &ListCursor, query: &mut Query) {
    query.push(" AND key >= ?", vec![Box::new(prefix.as_bytes().to_vec())]);
    if let Some(hi) = prefix_successor(prefix.as_bytes()) {
        query.push(" AND key < ?", vec![Box::new(hi)]);
    }
    match cursor {
        ListCursor::AtOrAfter(b) => query.push(" AND key >= ?", vec![Box::new(b.clone())]),
        ListCursor::After(b) => query.push(" AND key > ?", vec![Box::new(b.clone())]),
        ListCursor::AfterUpload(b, id) => query.push(
            " AND (key, id) > (?, ?)",
            vec![Box::new(b.clone()), Box::new(id.clone())],
        ),
    }
}

pub(crate) async fn list_objects(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    q: &ListObjectsQuery,
) -> TxResult<ObjectListing> {
    let bucket_id = bucket_row(tx, bucket, RowLock::None).await?;
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    let start = start_cursor(&q.prefix, delimiter, q.start_after.as_deref());
    let page = listing::run_async(
        &q.prefix,
        delimiter,
        start,
        q.max_keys,
        |cursor, limit| async move {
            let mut query = Query::default();
            query.push(
                &format!("SELECT {COLUMNS} FROM objects WHERE bucket_id = ?"),
                vec![Box::new(bucket_id)],
            );
            key_range(&q.prefix, &cursor, &mut query);
            query.push(
                " ORDER BY key LIMIT ?",
                vec![Box::new(usize_to_signed(limit))],
            );
            let rows = tx.query(&query.sql, &query.params()).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(object_from_row(tx, bucket, row).await?);
            }
            TxResult::Ok(out)
        },
    )
    .await?;
    Ok(listing::object_listing(page))
}

pub(crate) async fn blob_referenced(tx: &Transaction<'_>, id: &BlobId) -> TxResult<bool> {
    let st = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM objects WHERE blob_id = $1)
                 OR EXISTS (SELECT 1 FROM object_parts WHERE blob_id = $1)
                 OR EXISTS (SELECT 1 FROM parts WHERE blob_id = $1)",
        )
        .await?;
    Ok(tx.query_one(&st, &[&id.as_str()]).await?.try_get(0)?)
}
