//! Accounts and R2 API tokens in PostgreSQL. Token rows keep only the secret (sha256 of the
//! token value), which is unique; the value itself never reaches this module. Creates rely on
//! the primary-key and unique constraints, so two nodes racing on one id cannot both win.

use deadpool_postgres::Transaction;
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission, SecretAccessKey};
use mayfly_store::{AccountRecord, Entity, StoreError, TokenRecord, TokenStatus, TokenUpdate};
use tokio_postgres::Row;

use crate::codec::{corrupt, from_signed, to_db};
use crate::db::{TxError, TxResult, advisory_lock};

/// Advisory lock id held while bootstrapping ("mayfly-bootstr" in ASCII, truncated): nodes
/// starting together on an empty database bootstrap one after the other.
const BOOTSTRAP_LOCK: i64 = 0x6d61_7966_6c79_6273;

fn account_from_row(row: &Row) -> TxResult<AccountRecord> {
    let id: String = row.try_get(0)?;
    Ok(AccountRecord {
        id: AccountId::parse(&id).map_err(|_| corrupt("account id"))?,
        name: row.try_get(1)?,
        created_at: from_signed(row.try_get(2)?)?,
    })
}

/// True if the account exists; with `lock`, also keeps it from being deleted meanwhile.
pub(crate) async fn account_exists(tx: &Transaction<'_>, id: &AccountId) -> TxResult<bool> {
    let st = tx
        .prepare_cached("SELECT 1 FROM accounts WHERE id = $1 FOR KEY SHARE")
        .await?;
    Ok(tx.query_opt(&st, &[&id.as_str()]).await?.is_some())
}

pub(crate) async fn create_account(tx: &Transaction<'_>, account: &AccountRecord) -> TxResult<()> {
    let st = tx
        .prepare_cached(
            "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
        )
        .await?;
    let inserted = tx
        .execute(
            &st,
            &[
                &account.id.as_str(),
                &account.name,
                &to_db(account.created_at)?,
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists(Entity::Account).into());
    }
    Ok(())
}

/// Creates the first account and its token unless an account exists. The advisory lock
/// serialises racing callers; under READ COMMITTED the emptiness check, run after the lock is
/// granted, sees whatever the previous holder committed.
pub(crate) async fn create_first_account(
    tx: &Transaction<'_>,
    account: &AccountRecord,
    token: &TokenRecord,
) -> TxResult<bool> {
    advisory_lock(tx, BOOTSTRAP_LOCK).await?;
    let st = tx.prepare_cached("SELECT 1 FROM accounts LIMIT 1").await?;
    if tx.query_opt(&st, &[]).await?.is_some() {
        return Ok(false);
    }
    create_account(tx, account).await?;
    create_token(tx, token).await?;
    Ok(true)
}

pub(crate) async fn get_account(tx: &Transaction<'_>, id: &AccountId) -> TxResult<AccountRecord> {
    let st = tx
        .prepare_cached("SELECT id, name, created_at FROM accounts WHERE id = $1")
        .await?;
    match tx.query_opt(&st, &[&id.as_str()]).await? {
        Some(row) => account_from_row(&row),
        None => Err(StoreError::NotFound(Entity::Account).into()),
    }
}

pub(crate) async fn list_accounts(tx: &Transaction<'_>) -> TxResult<Vec<AccountRecord>> {
    let st = tx
        .prepare_cached("SELECT id, name, created_at FROM accounts ORDER BY id")
        .await?;
    tx.query(&st, &[])
        .await?
        .iter()
        .map(account_from_row)
        .collect()
}

const TOKEN_COLUMNS: &str =
    "id, account, name, permission, buckets, secret, status, created_at, expires_at";

fn token_from_row(row: &Row) -> TxResult<TokenRecord> {
    let text = |i: usize| -> TxResult<String> { Ok(row.try_get(i)?) };
    let buckets: Option<Vec<String>> = row.try_get(4)?;
    let buckets = match buckets {
        None => None,
        Some(names) => Some(
            names
                .iter()
                .map(|n| BucketName::parse(n).map_err(|_| corrupt("token bucket name")))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let expires_at: Option<i64> = row.try_get(8)?;
    Ok(TokenRecord {
        id: AccessKeyId::parse(&text(0)?).map_err(|_| corrupt("token id"))?,
        account: AccountId::parse(&text(1)?).map_err(|_| corrupt("token account"))?,
        name: text(2)?,
        permission: Permission::parse(&text(3)?).map_err(|_| corrupt("token permission"))?,
        buckets,
        secret: SecretAccessKey::parse(&text(5)?).map_err(|_| corrupt("token secret"))?,
        status: TokenStatus::parse(&text(6)?).map_err(|_| corrupt("token status"))?,
        created_at: from_signed(row.try_get(7)?)?,
        expires_at: expires_at.map(from_signed).transpose()?,
    })
}

async fn query_tokens(tx: &Transaction<'_>, filter: &str, arg: &str) -> TxResult<Vec<TokenRecord>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE {filter} ORDER BY id");
    let st = tx.prepare_cached(&sql).await?;
    tx.query(&st, &[&arg])
        .await?
        .iter()
        .map(token_from_row)
        .collect()
}

fn one_token(tokens: Vec<TokenRecord>) -> TxResult<TokenRecord> {
    tokens
        .into_iter()
        .next()
        .ok_or(TxError::Store(StoreError::NotFound(Entity::Token)))
}

pub(crate) async fn create_token(tx: &Transaction<'_>, token: &TokenRecord) -> TxResult<()> {
    if !account_exists(tx, &token.account).await? {
        return Err(StoreError::NotFound(Entity::Account).into());
    }
    // Storage site of the secret: it is the S3 signing key and the bearer lookup key.
    let secret = token.secret.expose_secret();
    let buckets: Option<Vec<&str>> = token
        .buckets
        .as_ref()
        .map(|list| list.iter().map(BucketName::as_str).collect());
    // ON CONFLICT DO NOTHING covers both unique constraints (id and secret) without aborting
    // the transaction, so a racing create is reported as AlreadyExists, not a backend error.
    let st = tx
        .prepare_cached(&format!(
            "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT DO NOTHING"
        ))
        .await?;
    let inserted = tx
        .execute(
            &st,
            &[
                &token.id.as_str(),
                &token.account.as_str(),
                &token.name,
                &token.permission.as_str(),
                &buckets,
                &secret,
                &token.status.as_str(),
                &to_db(token.created_at)?,
                &token.expires_at.map(to_db).transpose()?,
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists(Entity::Token).into());
    }
    Ok(())
}

pub(crate) async fn get_token(tx: &Transaction<'_>, id: &AccessKeyId) -> TxResult<TokenRecord> {
    one_token(query_tokens(tx, "id = $1", id.as_str()).await?)
}

pub(crate) async fn get_token_by_secret(
    tx: &Transaction<'_>,
    secret: &SecretAccessKey,
) -> TxResult<TokenRecord> {
    // Lookup by the secret's hash value through a unique index; the secret is sha256 output, so
    // an index probe reveals nothing useful about other tokens' secrets.
    one_token(query_tokens(tx, "secret = $1", secret.expose_secret()).await?)
}

pub(crate) async fn list_tokens(
    tx: &Transaction<'_>,
    account: &AccountId,
) -> TxResult<Vec<TokenRecord>> {
    query_tokens(tx, "account = $1", account.as_str()).await
}

pub(crate) async fn revoke_token(
    tx: &Transaction<'_>,
    account: &AccountId,
    id: &AccessKeyId,
) -> TxResult<()> {
    let st = tx
        .prepare_cached("UPDATE tokens SET status = $3 WHERE account = $1 AND id = $2")
        .await?;
    let changed = tx
        .execute(
            &st,
            &[
                &account.as_str(),
                &id.as_str(),
                &TokenStatus::Revoked.as_str(),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound(Entity::Token).into());
    }
    Ok(())
}

pub(crate) async fn delete_token(
    tx: &Transaction<'_>,
    account: &AccountId,
    id: &AccessKeyId,
) -> TxResult<()> {
    let st = tx
        .prepare_cached("DELETE FROM tokens WHERE account = $1 AND id = $2")
        .await?;
    if tx.execute(&st, &[&account.as_str(), &id.as_str()]).await? == 0 {
        return Err(StoreError::NotFound(Entity::Token).into());
    }
    Ok(())
}

/// Updates the token under its row lock, so a concurrent revoke either lands first (and the
/// update is refused) or after (and wins).
pub(crate) async fn update_token(
    tx: &Transaction<'_>,
    account: &AccountId,
    id: &AccessKeyId,
    update: &TokenUpdate,
) -> TxResult<TokenRecord> {
    let st = tx
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE account = $1 AND id = $2 FOR UPDATE"
        ))
        .await?;
    let current = match tx
        .query_opt(&st, &[&account.as_str(), &id.as_str()])
        .await?
    {
        Some(row) => token_from_row(&row)?,
        None => return Err(StoreError::NotFound(Entity::Token).into()),
    };
    if current.status == TokenStatus::Revoked {
        return Err(StoreError::Conflict("the token is revoked").into());
    }
    let buckets: Option<Vec<&str>> = update
        .buckets
        .as_ref()
        .map(|list| list.iter().map(BucketName::as_str).collect());
    let st = tx
        .prepare_cached(
            "UPDATE tokens SET name = $3, permission = $4, buckets = $5, status = $6,
             expires_at = $7 WHERE account = $1 AND id = $2",
        )
        .await?;
    tx.execute(
        &st,
        &[
            &account.as_str(),
            &id.as_str(),
            &update.name,
            &update.permission.as_str(),
            &buckets,
            &update.status.unwrap_or(current.status).as_str(),
            &update.expires_at.map(to_db).transpose()?,
        ],
    )
    .await?;
    Ok(update.apply(&current))
}
