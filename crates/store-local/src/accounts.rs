//! Accounts and R2 API tokens in SQLite. Token rows keep only the secret (sha256 of the token
//! value), which is unique; the value itself never reaches this module.

use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission, SecretAccessKey};
use mayfly_store::{AccountRecord, Entity, StoreError, TokenRecord, TokenStatus};
use rusqlite::{Connection, Row, params};

use crate::codec::{corrupt, from_signed, to_sql_int};
use crate::db::backend;

fn account_from_row(row: &Row<'_>) -> Result<AccountRecord, StoreError> {
    let id: String = row.get(0).map_err(backend)?;
    Ok(AccountRecord {
        id: AccountId::parse(&id).map_err(|_| corrupt("account id"))?,
        name: row.get(1).map_err(backend)?,
        created_at: from_signed(row.get(2).map_err(backend)?)?,
    })
}

pub(crate) fn account_exists(conn: &Connection, id: &AccountId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM accounts WHERE id = ?1")
        .and_then(|mut st| st.exists([id.as_str()]))
        .map_err(backend)
}

pub(crate) fn create_account(conn: &Connection, account: &AccountRecord) -> Result<(), StoreError> {
    if account_exists(conn, &account.id)? {
        return Err(StoreError::AlreadyExists(Entity::Account));
    }
    conn.execute(
        "INSERT INTO accounts (id, name, created_at) VALUES (?1, ?2, ?3)",
        params![
            account.id.as_str(),
            account.name,
            to_sql_int(account.created_at)?
        ],
    )
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn get_account(conn: &Connection, id: &AccountId) -> Result<AccountRecord, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT id, name, created_at FROM accounts WHERE id = ?1")
        .map_err(backend)?;
    let mut rows = st.query([id.as_str()]).map_err(backend)?;
    match rows.next().map_err(backend)? {
        Some(row) => account_from_row(row),
        None => Err(StoreError::NotFound(Entity::Account)),
    }
}

pub(crate) fn list_accounts(conn: &Connection) -> Result<Vec<AccountRecord>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT id, name, created_at FROM accounts ORDER BY id")
        .map_err(backend)?;
    let mut rows = st.query([]).map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(account_from_row(row)?);
    }
    Ok(out)
}

const TOKEN_COLUMNS: &str =
    "id, account, name, permission, buckets, secret, status, created_at, expires_at";

fn token_from_row(row: &Row<'_>) -> Result<TokenRecord, StoreError> {
    let get_s = |i: usize| row.get::<_, String>(i).map_err(backend);
    let buckets: Option<String> = row.get(4).map_err(backend)?;
    let buckets = match buckets {
        None => None,
        Some(json) => {
            let names: Vec<String> =
                serde_json::from_str(&json).map_err(|_| corrupt("token buckets"))?;
            Some(
                names
                    .iter()
                    .map(|n| BucketName::parse(n).map_err(|_| corrupt("token bucket name")))
                    .collect::<Result<Vec<_>, _>>()?,
            )
        }
    };
    let expires_at: Option<i64> = row.get(8).map_err(backend)?;
    Ok(TokenRecord {
        id: AccessKeyId::parse(&get_s(0)?).map_err(|_| corrupt("token id"))?,
        account: AccountId::parse(&get_s(1)?).map_err(|_| corrupt("token account"))?,
        name: get_s(2)?,
        permission: Permission::parse(&get_s(3)?).map_err(|_| corrupt("token permission"))?,
        buckets,
        secret: SecretAccessKey::parse(&get_s(5)?).map_err(|_| corrupt("token secret"))?,
        status: TokenStatus::parse(&get_s(6)?).map_err(|_| corrupt("token status"))?,
        created_at: from_signed(row.get(7).map_err(backend)?)?,
        expires_at: expires_at.map(from_signed).transpose()?,
    })
}

fn query_tokens(
    conn: &Connection,
    filter: &str,
    arg: &str,
) -> Result<Vec<TokenRecord>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE {filter} ORDER BY id");
    let mut st = conn.prepare_cached(&sql).map_err(backend)?;
    let mut rows = st.query([arg]).map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(token_from_row(row)?);
    }
    Ok(out)
}

fn one_token(tokens: Vec<TokenRecord>) -> Result<TokenRecord, StoreError> {
    tokens
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound(Entity::Token))
}

pub(crate) fn create_token(conn: &Connection, token: &TokenRecord) -> Result<(), StoreError> {
    if !account_exists(conn, &token.account)? {
        return Err(StoreError::NotFound(Entity::Account));
    }
    // Storage site of the secret: it is the S3 signing key and the bearer lookup key.
    let secret = token.secret.expose_secret();
    let taken = conn
        .prepare_cached("SELECT 1 FROM tokens WHERE id = ?1 OR secret = ?2")
        .and_then(|mut st| st.exists([token.id.as_str(), secret]))
        .map_err(backend)?;
    if taken {
        return Err(StoreError::AlreadyExists(Entity::Token));
    }
    let buckets = match &token.buckets {
        None => None,
        Some(list) => Some(
            serde_json::to_string(&list.iter().map(BucketName::as_str).collect::<Vec<_>>())
                .map_err(backend)?,
        ),
    };
    conn.execute(
        &format!(
            "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params![
            token.id.as_str(),
            token.account.as_str(),
            token.name,
            token.permission.as_str(),
            buckets,
            secret,
            token.status.as_str(),
            to_sql_int(token.created_at)?,
            token.expires_at.map(to_sql_int).transpose()?,
        ],
    )
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn get_token(conn: &Connection, id: &AccessKeyId) -> Result<TokenRecord, StoreError> {
    one_token(query_tokens(conn, "id = ?1", id.as_str())?)
}

pub(crate) fn get_token_by_secret(
    conn: &Connection,
    secret: &SecretAccessKey,
) -> Result<TokenRecord, StoreError> {
    // Lookup by the secret's hash value through a unique index; the secret is sha256 output, so
    // an index probe reveals nothing useful about other tokens' secrets.
    one_token(query_tokens(conn, "secret = ?1", secret.expose_secret())?)
}

pub(crate) fn list_tokens(
    conn: &Connection,
    account: &AccountId,
) -> Result<Vec<TokenRecord>, StoreError> {
    query_tokens(conn, "account = ?1", account.as_str())
}

pub(crate) fn revoke_token(
    conn: &Connection,
    account: &AccountId,
    id: &AccessKeyId,
) -> Result<(), StoreError> {
    let changed = conn
        .execute(
            "UPDATE tokens SET status = ?3 WHERE account = ?1 AND id = ?2",
            params![account.as_str(), id.as_str(), TokenStatus::Revoked.as_str()],
        )
        .map_err(backend)?;
    if changed == 0 {
        Err(StoreError::NotFound(Entity::Token))
    } else {
        Ok(())
    }
}

pub(crate) fn delete_token(
    conn: &Connection,
    account: &AccountId,
    id: &AccessKeyId,
) -> Result<(), StoreError> {
    let changed = conn
        .execute(
            "DELETE FROM tokens WHERE account = ?1 AND id = ?2",
            params![account.as_str(), id.as_str()],
        )
        .map_err(backend)?;
    if changed == 0 {
        Err(StoreError::NotFound(Entity::Token))
    } else {
        Ok(())
    }
}
