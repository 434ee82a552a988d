//! Buckets and their opaque config documents (CORS, lifecycle) in PostgreSQL, and the
//! bucket-row lookup every object call starts with. Writers inside a bucket hold its row
//! `FOR KEY SHARE`; `delete_bucket` takes it `FOR UPDATE`, so a bucket cannot be deleted while
//! an object or upload is being committed into it, on any node.

use deadpool_postgres::Transaction;
use mayfly_core::{AccountId, BucketName};
use mayfly_store::bucket_page::{self, Position};
use mayfly_store::query::{BucketOrder, BucketPage, ListBucketsQuery, SortDirection};
use mayfly_store::{BucketConfigKind, BucketId, BucketRecord, Entity, Jurisdiction, StoreError};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::accounts::account_exists;
use crate::codec::{corrupt, from_signed, to_db, usize_to_signed};
use crate::db::TxResult;

/// How a bucket lookup locks the bucket row until the transaction ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowLock {
    /// A plain read.
    None,
    /// Writers of objects, uploads and configs: the bucket may not be deleted meanwhile.
    KeyShare,
    /// `delete_bucket`: waits for every writer in the bucket.
    Update,
}

/// The bucket's row id, or `NotFound(Bucket)`.
pub(crate) async fn bucket_row(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    lock: RowLock,
) -> TxResult<i64> {
    let sql = match lock {
        RowLock::None => "SELECT id FROM buckets WHERE account = $1 AND name = $2",
        RowLock::KeyShare => {
            "SELECT id FROM buckets WHERE account = $1 AND name = $2 FOR KEY SHARE"
        }
        RowLock::Update => "SELECT id FROM buckets WHERE account = $1 AND name = $2 FOR UPDATE",
    };
    let st = tx.prepare_cached(sql).await?;
    match tx
        .query_opt(&st, &[&bucket.account.as_str(), &bucket.name.as_str()])
        .await?
    {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(StoreError::NotFound(Entity::Bucket).into()),
    }
}

const COLUMNS: &str = "account, name, created_at, location, storage_class, jurisdiction";

fn bucket_from_row(row: &Row) -> TxResult<BucketRecord> {
    let text = |i: usize| -> TxResult<String> { Ok(row.try_get(i)?) };
    Ok(BucketRecord {
        account: AccountId::parse(&text(0)?).map_err(|_| corrupt("bucket account"))?,
        name: BucketName::parse(&text(1)?).map_err(|_| corrupt("bucket name"))?,
        created_at: from_signed(row.try_get(2)?)?,
        location: text(3)?,
        storage_class: text(4)?,
        jurisdiction: Jurisdiction::parse(&text(5)?).map_err(|_| corrupt("jurisdiction"))?,
    })
}

pub(crate) async fn create_bucket(tx: &Transaction<'_>, bucket: &BucketRecord) -> TxResult<()> {
    if !account_exists(tx, &bucket.account).await? {
        return Err(StoreError::NotFound(Entity::Account).into());
    }
    let st = tx
        .prepare_cached(&format!(
            "INSERT INTO buckets ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (account, name) DO NOTHING"
        ))
        .await?;
    let inserted = tx
        .execute(
            &st,
            &[
                &bucket.account.as_str(),
                &bucket.name.as_str(),
                &to_db(bucket.created_at)?,
                &bucket.location,
                &bucket.storage_class,
                &bucket.jurisdiction.as_str(),
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists(Entity::Bucket).into());
    }
    Ok(())
}

pub(crate) async fn get_bucket(tx: &Transaction<'_>, bucket: &BucketId) -> TxResult<BucketRecord> {
    let st = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM buckets WHERE account = $1 AND name = $2"
        ))
        .await?;
    match tx
        .query_opt(&st, &[&bucket.account.as_str(), &bucket.name.as_str()])
        .await?
    {
        Some(row) => bucket_from_row(&row),
        None => Err(StoreError::NotFound(Entity::Bucket).into()),
    }
}

/// SQL text and its parameters, numbered as they are pushed.
#[derive(Default)]
pub(crate) struct Query {
    pub(crate) sql: String,
    pub(crate) args: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Query {
    /// Appends `fragment`, replacing each `?` with the next parameter number, and the values.
    pub(crate) fn push(&mut self, fragment: &str, values: Vec<Box<dyn ToSql + Sync + Send>>) {
        let mut values = values.into_iter();
        for (i, piece) in fragment.split('?').enumerate() {
            if i > 0 {
                if let Some(value) = values.next() {
                    self.args.push(value);
                }
                self.sql.push_str(&format!("${}", self.args.len()));
            }
            self.sql.push_str(piece);
        }
    }

    /// The parameters as the driver takes them.
    pub(crate) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args
            .iter()
            .map(|a| a.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

pub(crate) async fn list_buckets(
    tx: &Transaction<'_>,
    account: &AccountId,
    q: &ListBucketsQuery,
) -> TxResult<BucketPage> {
    let per_page = bucket_page::page_size(q);
    let (cmp, dir) = match q.direction {
        SortDirection::Asc => (">", "ASC"),
        SortDirection::Desc => ("<", "DESC"),
    };
    let mut query = Query::default();
    query.push(
        &format!("SELECT {COLUMNS} FROM buckets WHERE account = ?"),
        vec![Box::new(account.as_str().to_owned())],
    );
    if let Some(needle) = q.name_contains.as_deref().filter(|s| !s.is_empty()) {
        query.push(
            " AND strpos(name, ?) > 0",
            vec![Box::new(needle.to_owned())],
        );
    }
    if let Some(after) = q.start_after.as_deref().filter(|s| !s.is_empty()) {
        let op = if q.order == BucketOrder::Name {
            cmp
        } else {
            ">"
        };
        query.push(
            &format!(" AND name {op} ?"),
            vec![Box::new(after.to_owned())],
        );
    }
    match bucket_page::position(q)? {
        None => {}
        Some(Position::Name(name)) => query.push(
            &format!(" AND name {cmp} ?"),
            vec![Box::new(name.to_owned())],
        ),
        Some(Position::Created(at, name)) => query.push(
            &format!(" AND (created_at, name) {cmp} (?, ?)"),
            vec![Box::new(at), Box::new(name.to_owned())],
        ),
    }
    match q.order {
        BucketOrder::Name => query.sql.push_str(&format!(" ORDER BY name {dir}")),
        BucketOrder::CreationDate => query
            .sql
            .push_str(&format!(" ORDER BY created_at {dir}, name {dir}")),
    }
    query.push(" LIMIT ?", vec![Box::new(usize_to_signed(per_page + 1))]);

    let rows = tx.query(&query.sql, &query.params()).await?;
    let buckets = rows
        .iter()
        .map(bucket_from_row)
        .collect::<TxResult<Vec<_>>>()?;
    Ok(bucket_page::page(buckets, q))
}

pub(crate) async fn delete_bucket(tx: &Transaction<'_>, bucket: &BucketId) -> TxResult<()> {
    let id = bucket_row(tx, bucket, RowLock::Update).await?;
    let st = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket_id = $1)
                 OR EXISTS (SELECT 1 FROM uploads WHERE bucket_id = $1)",
        )
        .await?;
    let busy: bool = tx.query_one(&st, &[&id]).await?.try_get(0)?;
    if busy {
        return Err(StoreError::BucketNotEmpty.into());
    }
    // Config documents go with the row (ON DELETE CASCADE).
    let st = tx
        .prepare_cached("DELETE FROM buckets WHERE id = $1")
        .await?;
    tx.execute(&st, &[&id]).await?;
    Ok(())
}

fn config_entity(kind: BucketConfigKind) -> Entity {
    match kind {
        BucketConfigKind::Cors => Entity::Cors,
        BucketConfigKind::Lifecycle => Entity::Lifecycle,
    }
}

pub(crate) async fn get_config(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    kind: BucketConfigKind,
) -> TxResult<String> {
    let id = bucket_row(tx, bucket, RowLock::None).await?;
    let st = tx
        .prepare_cached("SELECT document FROM bucket_configs WHERE bucket_id = $1 AND kind = $2")
        .await?;
    match tx.query_opt(&st, &[&id, &kind.as_str()]).await? {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(StoreError::NotFound(config_entity(kind)).into()),
    }
}

pub(crate) async fn put_config(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    kind: BucketConfigKind,
    document: &str,
) -> TxResult<()> {
    let id = bucket_row(tx, bucket, RowLock::KeyShare).await?;
    let st = tx
        .prepare_cached(
            "INSERT INTO bucket_configs (bucket_id, kind, document) VALUES ($1, $2, $3)
             ON CONFLICT (bucket_id, kind) DO UPDATE SET document = excluded.document",
        )
        .await?;
    tx.execute(&st, &[&id, &kind.as_str(), &document]).await?;
    Ok(())
}

pub(crate) async fn delete_config(
    tx: &Transaction<'_>,
    bucket: &BucketId,
    kind: BucketConfigKind,
) -> TxResult<()> {
    let id = bucket_row(tx, bucket, RowLock::KeyShare).await?;
    let st = tx
        .prepare_cached("DELETE FROM bucket_configs WHERE bucket_id = $1 AND kind = $2")
        .await?;
    tx.execute(&st, &[&id, &kind.as_str()]).await?;
    Ok(())
}
