//! Multipart uploads and their parts in PostgreSQL. An upload id is checked together with its
//! bucket and key on every call (an id alone is not a capability).
//!
//! Locks: `put_part` holds the upload row `FOR SHARE` plus an advisory lock on (upload, part
//! number), so parts upload in parallel while two uploads of one part number serialise and the
//! loser's blob comes back as garbage. `complete_upload` and `abort_upload` take the upload row
//! `FOR UPDATE`: they wait for in-flight parts, and parts arriving later find the upload gone.
//! Completion also holds the object key lock, like any other writer of the key, and re-reads the
//! parts after locking, so the ETags it checks are the ones it commits.

use deadpool_postgres::Transaction;
use mayfly_store::complete;
use mayfly_store::listing;
use mayfly_store::{
    BlobId, BucketId, ChecksumAlgorithm, ChecksumType, CompleteOutcome, CompleteUpload, Entity,
    ListPartsQuery, ListUploadsQuery, PartListing, PartRecord, StoreError, UploadId, UploadListing,
    UploadRecord,
};
use tokio_postgres::Row;

use crate::buckets::{Query, RowLock, bucket_row};
use crate::codec::{
    HEADER_COLUMNS, blob_id_from_str, corrupt, decode_checksums, decode_map, encode_checksums,
    encode_map, from_signed, headers_from_row, headers_params, key_from_bytes,
    part_number_from_signed, to_db, usize_to_signed,
};
use crate::db::{TxResult, advisory_lock, fnv1a64};
use crate::objects;

const COLUMNS: &str = "id, key, initiated_ms, content_type, content_encoding, content_disposition, \
    content_language, cache_control, expires, user_metadata, checksum_algorithm, checksum_type";

/// How [`find_upload`] locks the upload row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UploadLock {
    None,
    Share,
    Update,
}

fn upload_from_row(bucket: &BucketId, row: &Row) -> TxResult<UploadRecord> {
    let id: &str = row.try_get(0)?;
    let algorithm: Option<&str> = row.try_get(10)?;
    let kind: Option<&str> = row.try_get(11)?;
    Ok(UploadRecord {
        bucket: bucket.clone(),
        key: key_from_bytes(row.try_get(1)?)?,
        upload_id: UploadId::parse(id).map_err(|_| corrupt("upload id"))?,
        initiated_ms: from_signed(row.try_get(2)?)?,
        headers: headers_from_row(row, 3)?,
        user_metadata: decode_map(row.try_get(9)?)?,
        checksum_algorithm: algorithm
            .map(|a| ChecksumAlgorithm::parse(a).map_err(|_| corrupt("checksum algorithm")))
            .transpose()?,
        checksum_type: kind
            .map(|t| ChecksumType::parse(t).map_err(|_| corrupt("checksum type")))
            .transpose()?,
    })
}

async fn find_upload(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    bucket_id: i64,
    key: &str,
    upload_id: &UploadId,
    lock: UploadLock,
) -> TxResult<UploadRecord> {
    let suffix = match lock {
        UploadLock::None => "",
        UploadLock::Share => " FOR SHARE",
        UploadLock::Update => " FOR UPDATE",
    };
    let st = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM uploads WHERE id = $1 AND bucket_id = $2 AND key = $3{suffix}"
        ))
        .await?;
    match tx
        .query_opt(&st, &[&upload_id.as_str(), &bucket_id, &key.as_bytes()])
        .await?
    {
        Some(row) => upload_from_row(bucket, &row),
        None => Err(StoreError::NotFound(Entity::Upload).into()),
    }
}

pub(crate) async fn create_upload(tx: &Transaction<'_>, upload: &UploadRecord) -> TxResult<()> {
    let bucket_id = bucket_row(tx, &upload.bucket, RowLock::KeyShare).await?;
    let h = headers_params(&upload.headers);
    let st = tx
        .prepare_cached(&format!(
            "INSERT INTO uploads (id, bucket_id, key, initiated_ms, {HEADER_COLUMNS},
                user_metadata, checksum_algorithm, checksum_type)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (id) DO NOTHING"
        ))
        .await?;
    let inserted = tx
        .execute(
            &st,
            &[
                &upload.upload_id.as_str(),
                &bucket_id,
                &upload.key.as_bytes(),
                &to_db(upload.initiated_ms)?,
                &h[0],
                &h[1],
                &h[2],
                &h[3],
                &h[4],
                &h[5],
                &encode_map(&upload.user_metadata)?,
                &upload.checksum_algorithm.map(ChecksumAlgorithm::as_str),
                &upload.checksum_type.map(ChecksumType::as_str),
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists(Entity::Upload).into());
    }
    Ok(())
}

pub(crate) async fn get_upload(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    key: &str,
    upload_id: &UploadId,
) -> TxResult<UploadRecord> {
    let bucket_id = bucket_row(tx, bucket, RowLock::None).await?;
    find_upload(tx, bucket, bucket_id, key, upload_id, UploadLock::None).await
}

fn part_from_row(row: &Row) -> TxResult<PartRecord> {
    Ok(PartRecord {
        part_number: part_number_from_signed(row.try_get(0)?)?,
        size: from_signed(row.try_get(1)?)?,
        etag: row.try_get(2)?,
        last_modified_ms: from_signed(row.try_get(3)?)?,
        checksums: decode_checksums(row.try_get(4)?)?,
        blob: blob_id_from_str(row.try_get(5)?)?,
    })
}

/// Parts of the upload with a number above `after`, ordered, at most `limit`.
async fn load_parts(
    tx: &Transaction<'_>,
    upload_id: &UploadId,
    after: u32,
    limit: usize,
) -> TxResult<Vec<PartRecord>> {
    let st = tx
        .prepare_cached(
            "SELECT part_number, size, etag, last_modified_ms, checksums, blob_id FROM parts
             WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3",
        )
        .await?;
    tx.query(
        &st,
        &[
            &upload_id.as_str(),
            &i64::from(after),
            &usize_to_signed(limit),
        ],
    )
    .await?
    .iter()
    .map(part_from_row)
    .collect()
}

pub(crate) async fn put_part(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    key: &str,
    upload_id: &UploadId,
    part: &PartRecord,
) -> TxResult<Vec<BlobId>> {
    let bucket_id = bucket_row(tx, bucket, RowLock::None).await?;
    find_upload(tx, bucket, bucket_id, key, upload_id, UploadLock::Share).await?;
    let number = i64::from(part.part_number);
    advisory_lock(
        tx,
        fnv1a64(&[
            b"part",
            upload_id.as_str().as_bytes(),
            &number.to_be_bytes(),
        ]),
    )
    .await?;
    let st = tx
        .prepare_cached(
            "SELECT blob_id FROM parts WHERE upload_id = $1 AND part_number = $2 FOR UPDATE",
        )
        .await?;
    let old = match tx.query_opt(&st, &[&upload_id.as_str(), &number]).await? {
        Some(row) => vec![blob_id_from_str(row.try_get(0)?)?],
        None => Vec::new(),
    };
    let st = tx
        .prepare_cached(
            "INSERT INTO parts (upload_id, part_number, size, etag, last_modified_ms, checksums,
                blob_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size,
                etag = excluded.etag, last_modified_ms = excluded.last_modified_ms,
                checksums = excluded.checksums, blob_id = excluded.blob_id",
        )
        .await?;
    tx.execute(
        &st,
        &[
            &upload_id.as_str(),
            &number,
            &to_db(part.size)?,
            &part.etag,
            &to_db(part.last_modified_ms)?,
            &encode_checksums(&part.checksums)?,
            &part.blob.as_str(),
        ],
    )
    .await?;
    Ok(old)
}

pub(crate) async fn list_parts(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    key: &str,
    upload_id: &UploadId,
    q: &ListPartsQuery,
) -> TxResult<PartListing> {
    let bucket_id = bucket_row(tx, bucket, RowLock::None).await?;
    let upload = find_upload(tx, bucket, bucket_id, key, upload_id, UploadLock::None).await?;
    if q.max_parts == 0 {
        return Ok(complete::part_listing(upload, Vec::new(), 0));
    }
    let parts = load_parts(
        tx,
        upload_id,
        q.part_number_marker,
        q.max_parts.saturating_add(1),
    )
    .await?;
    Ok(complete::part_listing(upload, parts, q.max_parts))
}

pub(crate) async fn list_uploads(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    q: &ListUploadsQuery,
) -> TxResult<UploadListing> {
    let bucket_id = bucket_row(tx, bucket, RowLock::None).await?;
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    let start = listing::upload_start_cursor(
        &q.prefix,
        delimiter,
        q.key_marker.as_deref(),
        q.upload_id_marker.as_deref(),
    );
    let page = listing::run_async(
        &q.prefix,
        delimiter,
        start,
        q.max_uploads,
        |cursor, limit| async move {
            let mut query = Query::default();
            query.push(
                &format!("SELECT {COLUMNS} FROM uploads WHERE bucket_id = ?"),
                vec![Box::new(bucket_id)],
            );
            objects::key_range(&q.prefix, &cursor, &mut query);
            query.push(
                " ORDER BY key, id LIMIT ?",
                vec![Box::new(usize_to_signed(limit))],
            );
            let rows = tx.query(&query.sql, &query.params()).await?;
            rows.iter()
                .map(|row| upload_from_row(bucket, row))
                .collect::<TxResult<Vec<_>>>()
        },
    )
    .await?;
    Ok(listing::upload_listing(page))
}

/// Removes the upload row; its parts go with it (ON DELETE CASCADE).
async fn drop_upload(tx: &Transaction<'_>, upload_id: &UploadId) -> TxResult<()> {
    let st = tx
        .prepare_cached("DELETE FROM uploads WHERE id = $1")
        .await?;
    tx.execute(&st, &[&upload_id.as_str()]).await?;
    Ok(())
}

pub(crate) async fn complete_upload(
    tx: &Transaction<'_>,
    c: &CompleteUpload,
) -> TxResult<CompleteOutcome> {
    let bucket_id = bucket_row(tx, &c.bucket, RowLock::KeyShare).await?;
    // Key lock before the upload row: the order every writer of a key uses.
    objects::lock_key(tx, bucket_id, &c.key).await?;
    let upload = find_upload(
        tx,
        &c.bucket,
        bucket_id,
        &c.key,
        &c.upload_id,
        UploadLock::Update,
    )
    .await?;
    complete::check_request(c)?;
    let parts = load_parts(tx, &c.upload_id, 0, usize::MAX).await?;
    let (object, mut garbage) = complete::assemble(c, upload, parts)?;
    // The whole call is one transaction: a failed condition rolls the removal back.
    let previous = objects::remove(tx, bucket_id, &c.key).await?;
    if !c
        .condition
        .holds(previous.as_ref().map(|(etag, _)| etag.as_str()))
    {
        return Err(StoreError::PreconditionFailed.into());
    }
    if let Some((_, old)) = previous {
        garbage.extend(old);
    }
    objects::insert(tx, bucket_id, &object).await?;
    drop_upload(tx, &c.upload_id).await?;
    Ok(CompleteOutcome { object, garbage })
}

pub(crate) async fn abort_upload(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    key: &str,
    upload_id: &UploadId,
) -> TxResult<Vec<BlobId>> {
    let bucket_id = bucket_row(tx, bucket, RowLock::None).await?;
    find_upload(tx, bucket, bucket_id, key, upload_id, UploadLock::Update).await?;
    let blobs = load_parts(tx, upload_id, 0, usize::MAX)
        .await?
        .into_iter()
        .map(|p| p.blob)
        .collect();
    drop_upload(tx, upload_id).await?;
    Ok(blobs)
}
