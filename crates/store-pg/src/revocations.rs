//! Credential revocations in PostgreSQL (a Mayfly extension; see `mayfly_store::revocation`),
//! and the notification every token or revocation change sends to the other nodes' caches.

use deadpool_postgres::Transaction;
use mayfly_core::{AccessKeyId, AccountId, BucketName, CredentialId};
use mayfly_store::codec::{REVOCATION_COLUMNS, decode_revocation};
use mayfly_store::{Entity, Invalidation, ListRevocationsQuery, RevocationRecord, StoreError};
use tokio_postgres::Row;

use crate::accounts::account_exists;
use crate::codec::{to_db, usize_to_signed};
use crate::db::TxResult;

/// The `LISTEN/NOTIFY` channel cache invalidations travel on.
pub(crate) const CHANNEL: &str = "mayfly_invalidate";

/// Queues `what` for every listening node; PostgreSQL delivers it when (and only if) the
/// surrounding transaction commits.
pub(crate) async fn notify(tx: &Transaction<'_>, what: &Invalidation) -> TxResult<()> {
    let st = tx.prepare_cached("SELECT pg_notify($1, $2)").await?;
    tx.execute(&st, &[&CHANNEL, &what.encode()]).await?;
    Ok(())
}

fn from_row(row: &Row) -> TxResult<RevocationRecord> {
    let id: String = row.try_get(0)?;
    let account: String = row.try_get(1)?;
    let parent: Option<String> = row.try_get(2)?;
    let bucket: Option<String> = row.try_get(3)?;
    Ok(decode_revocation(
        &id,
        &account,
        parent.as_deref(),
        bucket.as_deref(),
        row.try_get(4)?,
        row.try_get(5)?,
    )?)
}

pub(crate) async fn revoke(
    tx: &Transaction<'_>,
    entry: &RevocationRecord,
) -> TxResult<RevocationRecord> {
    if !account_exists(tx, &entry.account).await? {
        return Err(StoreError::NotFound(Entity::Account).into());
    }
    // Concurrent revocations of one credential: the first insert wins, the others read it.
    let st = tx
        .prepare_cached(&format!(
            "INSERT INTO revocations ({REVOCATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account, credential_id) DO NOTHING"
        ))
        .await?;
    tx.execute(
        &st,
        &[
            &entry.credential_id.as_str(),
            &entry.account.as_str(),
            &entry.parent.as_ref().map(AccessKeyId::as_str),
            &entry.bucket.as_ref().map(BucketName::as_str),
            &to_db(entry.revoked_on)?,
            &to_db(entry.expires_on)?,
        ],
    )
    .await?;
    let st = tx
        .prepare_cached(&format!(
            "SELECT {REVOCATION_COLUMNS} FROM revocations WHERE account = $1 AND credential_id = $2"
        ))
        .await?;
    let row = tx
        .query_one(
            &st,
            &[&entry.account.as_str(), &entry.credential_id.as_str()],
        )
        .await?;
    let stored = from_row(&row)?;
    notify(
        tx,
        &Invalidation::Credential(stored.account.clone(), stored.credential_id.clone()),
    )
    .await?;
    Ok(stored)
}

pub(crate) async fn is_revoked(
    tx: &Transaction<'_>,
    account: &AccountId,
    id: &CredentialId,
) -> TxResult<bool> {
    let st = tx
        .prepare_cached("SELECT 1 FROM revocations WHERE account = $1 AND credential_id = $2")
        .await?;
    Ok(tx
        .query_opt(&st, &[&account.as_str(), &id.as_str()])
        .await?
        .is_some())
}

pub(crate) async fn list(
    tx: &Transaction<'_>,
    account: &AccountId,
    query: &ListRevocationsQuery,
) -> TxResult<Vec<RevocationRecord>> {
    let limit = usize_to_signed(query.limit);
    let (on, id): (Option<i64>, Option<&str>) = match &query.after {
        Some((on, id)) => (Some(to_db(*on)?), Some(id.as_str())),
        None => (None, None),
    };
    let st = tx
        .prepare_cached(&format!(
            "SELECT {REVOCATION_COLUMNS} FROM revocations WHERE account = $1 \
             AND ($2::bigint IS NULL OR (revoked_on, credential_id) < ($2::bigint, $3::text)) \
             ORDER BY revoked_on DESC, credential_id DESC LIMIT $4"
        ))
        .await?;
    let rows = tx
        .query(&st, &[&account.as_str(), &on, &id, &limit])
        .await?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn purge(tx: &Transaction<'_>, now: u64) -> TxResult<u64> {
    let st = tx
        .prepare_cached("DELETE FROM revocations WHERE expires_on <= $1")
        .await?;
    Ok(tx.execute(&st, &[&to_db(now)?]).await?)
}
