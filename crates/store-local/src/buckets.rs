//! Buckets and their opaque config documents (CORS, lifecycle) in SQLite, and the bucket-row
//! lookup every object call starts with.

use mayfly_core::{AccountId, BucketName};
use mayfly_store::bucket_page::{self, Position};
use mayfly_store::query::{BucketOrder, BucketPage, ListBucketsQuery, SortDirection};
use mayfly_store::{BucketConfigKind, BucketId, BucketRecord, Entity, Jurisdiction, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::accounts::account_exists;
use crate::codec::{corrupt, from_signed, to_sql_int, usize_to_signed};
use crate::db::backend;

/// The bucket's row id, or `NotFound(Bucket)`.
pub(crate) fn bucket_row(conn: &Connection, bucket: &BucketId) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT id FROM buckets WHERE account = ?1 AND name = ?2")
        .and_then(|mut st| {
            st.query_row([bucket.account.as_str(), bucket.name.as_str()], |r| {
                r.get(0)
            })
            .optional()
        })
        .map_err(backend)?
        .ok_or(StoreError::NotFound(Entity::Bucket))
}

const COLUMNS: &str = "account, name, created_at, location, storage_class, jurisdiction";

fn bucket_from_row(row: &Row<'_>) -> Result<BucketRecord, StoreError> {
    let get_s = |i: usize| row.get::<_, String>(i).map_err(backend);
    Ok(BucketRecord {
        account: AccountId::parse(&get_s(0)?).map_err(|_| corrupt("bucket account"))?,
        name: BucketName::parse(&get_s(1)?).map_err(|_| corrupt("bucket name"))?,
        created_at: from_signed(row.get(2).map_err(backend)?)?,
        location: get_s(3)?,
        storage_class: get_s(4)?,
        jurisdiction: Jurisdiction::parse(&get_s(5)?).map_err(|_| corrupt("jurisdiction"))?,
    })
}

pub(crate) fn create_bucket(conn: &Connection, bucket: &BucketRecord) -> Result<(), StoreError> {
    if !account_exists(conn, &bucket.account)? {
        return Err(StoreError::NotFound(Entity::Account));
    }
    match bucket_row(conn, &bucket.bucket_id()) {
        Ok(_) => return Err(StoreError::AlreadyExists(Entity::Bucket)),
        Err(StoreError::NotFound(_)) => {}
        Err(other) => return Err(other),
    }
    conn.execute(
        &format!("INSERT INTO buckets ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            bucket.account.as_str(),
            bucket.name.as_str(),
            to_sql_int(bucket.created_at)?,
            bucket.location,
            bucket.storage_class,
            bucket.jurisdiction.as_str(),
        ],
    )
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn get_bucket(conn: &Connection, bucket: &BucketId) -> Result<BucketRecord, StoreError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM buckets WHERE account = ?1 AND name = ?2"
        ))
        .map_err(backend)?;
    let mut rows = st
        .query([bucket.account.as_str(), bucket.name.as_str()])
        .map_err(backend)?;
    match rows.next().map_err(backend)? {
        Some(row) => bucket_from_row(row),
        None => Err(StoreError::NotFound(Entity::Bucket)),
    }
}

pub(crate) fn list_buckets(
    conn: &Connection,
    account: &AccountId,
    q: &ListBucketsQuery,
) -> Result<BucketPage, StoreError> {
    let per_page = bucket_page::page_size(q);
    let (cmp, dir) = match q.direction {
        SortDirection::Asc => (">", "ASC"),
        SortDirection::Desc => ("<", "DESC"),
    };
    let mut sql = format!("SELECT {COLUMNS} FROM buckets WHERE account = ?");
    let mut args: Vec<Value> = vec![Value::Text(account.as_str().to_owned())];
    if let Some(needle) = q.name_contains.as_deref().filter(|s| !s.is_empty()) {
        sql.push_str(" AND instr(name, ?) > 0");
        args.push(Value::Text(needle.to_owned()));
    }
    if let Some(after) = q.start_after.as_deref().filter(|s| !s.is_empty()) {
        let op = if q.order == BucketOrder::Name {
            cmp
        } else {
            ">"
        };
        sql.push_str(&format!(" AND name {op} ?"));
        args.push(Value::Text(after.to_owned()));
    }
    match bucket_page::position(q)? {
        None => {}
        Some(Position::Name(name)) => {
            sql.push_str(&format!(" AND name {cmp} ?"));
            args.push(Value::Text(name.to_owned()));
        }
        Some(Position::Created(at, name)) => {
            sql.push_str(&format!(
                " AND (created_at {cmp} ? OR (created_at = ? AND name {cmp} ?))"
            ));
            args.extend([
                Value::Integer(at),
                Value::Integer(at),
                Value::Text(name.to_owned()),
            ]);
        }
    }
    match q.order {
        BucketOrder::Name => sql.push_str(&format!(" ORDER BY name {dir}")),
        BucketOrder::CreationDate => {
            sql.push_str(&format!(" ORDER BY created_at {dir}, name {dir}"))
        }
    }
    sql.push_str(" LIMIT ?");
    args.push(Value::Integer(usize_to_signed(per_page + 1)));

    let mut st = conn.prepare(&sql).map_err(backend)?;
    let mut rows = st.query(params_from_iter(args)).map_err(backend)?;
    let mut buckets = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        buckets.push(bucket_from_row(row)?);
    }
    Ok(bucket_page::page(buckets, q))
}

pub(crate) fn delete_bucket(conn: &Connection, bucket: &BucketId) -> Result<(), StoreError> {
    let id = bucket_row(conn, bucket)?;
    let busy = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket_id = ?1)
                 OR EXISTS (SELECT 1 FROM uploads WHERE bucket_id = ?1)",
        )
        .and_then(|mut st| st.query_row([id], |r| r.get::<_, bool>(0)))
        .map_err(backend)?;
    if busy {
        return Err(StoreError::BucketNotEmpty);
    }
    conn.execute("DELETE FROM bucket_configs WHERE bucket_id = ?1", [id])
        .map_err(backend)?;
    conn.execute("DELETE FROM buckets WHERE id = ?1", [id])
        .map_err(backend)?;
    Ok(())
}

fn config_entity(kind: BucketConfigKind) -> Entity {
    match kind {
        BucketConfigKind::Cors => Entity::Cors,
        BucketConfigKind::Lifecycle => Entity::Lifecycle,
    }
}

pub(crate) fn get_config(
    conn: &Connection,
    bucket: &BucketId,
    kind: BucketConfigKind,
) -> Result<String, StoreError> {
    let id = bucket_row(conn, bucket)?;
    conn.prepare_cached("SELECT document FROM bucket_configs WHERE bucket_id = ?1 AND kind = ?2")
        .and_then(|mut st| {
            st.query_row(params![id, kind.as_str()], |r| r.get(0))
                .optional()
        })
        .map_err(backend)?
        .ok_or(StoreError::NotFound(config_entity(kind)))
}

pub(crate) fn put_config(
    conn: &Connection,
    bucket: &BucketId,
    kind: BucketConfigKind,
    document: &str,
) -> Result<(), StoreError> {
    let id = bucket_row(conn, bucket)?;
    conn.execute(
        "INSERT INTO bucket_configs (bucket_id, kind, document) VALUES (?1, ?2, ?3)
         ON CONFLICT (bucket_id, kind) DO UPDATE SET document = excluded.document",
        params![id, kind.as_str(), document],
    )
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn delete_config(
    conn: &Connection,
    bucket: &BucketId,
    kind: BucketConfigKind,
) -> Result<(), StoreError> {
    let id = bucket_row(conn, bucket)?;
    conn.execute(
        "DELETE FROM bucket_configs WHERE bucket_id = ?1 AND kind = ?2",
        params![id, kind.as_str()],
    )
    .map_err(backend)?;
    Ok(())
}
