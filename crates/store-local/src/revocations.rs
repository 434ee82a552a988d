//! Credential revocations in SQLite (a Mayfly extension; see `mayfly_store::revocation`).

use mayfly_core::{AccessKeyId, AccountId, BucketName, CredentialId};
use mayfly_store::codec::{REVOCATION_COLUMNS, decode_revocation};
use mayfly_store::{Entity, ListRevocationsQuery, RevocationRecord, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::accounts::account_exists;
use crate::codec::{to_sql_int, usize_to_signed};
use crate::db::backend;

fn from_row(row: &Row<'_>) -> Result<RevocationRecord, StoreError> {
    let id: String = row.get(0).map_err(backend)?;
    let account: String = row.get(1).map_err(backend)?;
    let parent: Option<String> = row.get(2).map_err(backend)?;
    let bucket: Option<String> = row.get(3).map_err(backend)?;
    decode_revocation(
        &id,
        &account,
        parent.as_deref(),
        bucket.as_deref(),
        row.get(4).map_err(backend)?,
        row.get(5).map_err(backend)?,
    )
}

fn get(
    conn: &Connection,
    account: &AccountId,
    id: &CredentialId,
) -> Result<Option<RevocationRecord>, StoreError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {REVOCATION_COLUMNS} FROM revocations WHERE account = ?1 AND credential_id = ?2"
        ))
        .map_err(backend)?;
    let mut rows = st.query([account.as_str(), id.as_str()]).map_err(backend)?;
    match rows.next().map_err(backend)? {
        Some(row) => Ok(Some(from_row(row)?)),
        None => Ok(None),
    }
}

pub(crate) fn revoke(
    conn: &Connection,
    entry: &RevocationRecord,
) -> Result<RevocationRecord, StoreError> {
    if let Some(existing) = get(conn, &entry.account, &entry.credential_id)? {
        return Ok(existing);
    }
    if !account_exists(conn, &entry.account)? {
        return Err(StoreError::NotFound(Entity::Account));
    }
    let (revoked_on, expires_on) = (to_sql_int(entry.revoked_on)?, to_sql_int(entry.expires_on)?);
    conn.prepare_cached(&format!(
        "INSERT INTO revocations ({REVOCATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ))
    .and_then(|mut st| {
        st.execute(params![
            entry.credential_id.as_str(),
            entry.account.as_str(),
            entry.parent.as_ref().map(AccessKeyId::as_str),
            entry.bucket.as_ref().map(BucketName::as_str),
            revoked_on,
            expires_on,
        ])
    })
    .map_err(backend)?;
    Ok(entry.clone())
}

pub(crate) fn is_revoked(
    conn: &Connection,
    account: &AccountId,
    id: &CredentialId,
) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM revocations WHERE account = ?1 AND credential_id = ?2")
        .and_then(|mut st| {
            st.query_row([account.as_str(), id.as_str()], |_| Ok(()))
                .optional()
        })
        .map(|found| found.is_some())
        .map_err(backend)
}

pub(crate) fn list(
    conn: &Connection,
    account: &AccountId,
    query: &ListRevocationsQuery,
) -> Result<Vec<RevocationRecord>, StoreError> {
    let limit = usize_to_signed(query.limit);
    let (on, id) = match &query.after {
        Some((on, id)) => (Some(to_sql_int(*on)?), Some(id.as_str())),
        None => (None, None),
    };
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {REVOCATION_COLUMNS} FROM revocations WHERE account = ?1 \
             AND (?2 IS NULL OR revoked_on < ?2 OR (revoked_on = ?2 AND credential_id < ?3)) \
             ORDER BY revoked_on DESC, credential_id DESC LIMIT ?4"
        ))
        .map_err(backend)?;
    let mut rows = st
        .query(params![account.as_str(), on, id, limit])
        .map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

pub(crate) fn purge(conn: &Connection, now: u64) -> Result<u64, StoreError> {
    let now = to_sql_int(now)?;
    let n = conn
        .prepare_cached("DELETE FROM revocations WHERE expires_on <= ?1")
        .and_then(|mut st| st.execute([now]))
        .map_err(backend)?;
    u64::try_from(n).map_err(StoreError::backend)
}
