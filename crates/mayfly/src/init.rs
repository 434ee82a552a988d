//! Bootstrapping a data directory: the first account and its admin-read-write API token.
//!
//! Used by `mayfly init` and by `mayfly serve` on an empty directory. A directory that already
//! holds an account is refused without any write, so bootstrap credentials can only ever be
//! produced (and printed) once. The token value exists only in the returned [`Bootstrap`]: the
//! store keeps its SHA-256, which is also the token's S3 secret (SPEC §1).

use std::fmt;
use std::path::Path;

use anyhow::Context;
use mayfly_core::{AccessKeyId, AccountId, Permission, SecretAccessKey};
use mayfly_store::{
    AccountRecord, MetadataStore, TokenRecord, TokenStatus, TokenValue, new_account_id,
    new_token_id,
};

/// Why bootstrapping refused to run.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The directory already has an account; nothing was changed.
    #[error("data directory is already initialised (account {account}); nothing was changed")]
    AlreadyInitialised {
        /// The existing account.
        account: AccountId,
    },
    /// The store failed.
    #[error("storage error: {0}")]
    Store(#[from] mayfly_store::StoreError),
}

/// The credentials a fresh data directory starts with. `Debug` is redacted.
pub struct Bootstrap {
    /// The new account.
    pub account_id: AccountId,
    /// The admin token's id, which is also its S3 access key id.
    pub token_id: AccessKeyId,
    /// The token value (bearer secret). Shown once, never stored.
    pub api_token: TokenValue,
    /// `hex(sha256(api_token))`: the token's S3 secret access key.
    pub secret_access_key: SecretAccessKey,
}

impl fmt::Debug for Bootstrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bootstrap")
            .field("account_id", &self.account_id)
            .field("token_id", &self.token_id)
            .field("api_token", &"<redacted>")
            .field("secret_access_key", &self.secret_access_key)
            .finish()
    }
}

impl Bootstrap {
    /// The documented `mayfly init --json` object. Contains secrets: print it only on request.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "account_id": self.account_id.as_str(),
            "api_token": self.api_token.expose_secret(),
            "token_id": self.token_id.as_str(),
            "access_key_id": self.token_id.as_str(),
            // Printing the secret is the point of bootstrap output.
            "secret_access_key": self.secret_access_key.expose_secret(),
        })
    }

    /// Human-readable lines for a terminal.
    pub fn to_text(&self) -> String {
        format!(
            "account_id:        {}\napi_token:         {}\ntoken_id:          {}\naccess_key_id:     {}\nsecret_access_key: {}\n",
            self.account_id,
            self.api_token.expose_secret(),
            self.token_id,
            self.token_id,
            self.secret_access_key.expose_secret(),
        )
    }
}

/// Creates the first account and its admin token, unless the store already has an account.
/// Atomic in the store ([`MetadataStore::create_first_account`]): when several nodes start at
/// once on one empty database, exactly one gets `Ok` and prints credentials; the others get
/// [`InitError::AlreadyInitialised`] and serve normally.
pub async fn bootstrap(meta: &dyn MetadataStore, now: u64) -> Result<Bootstrap, InitError> {
    // Cheap early exit for the common case (every start after the first), without generating
    // secrets; the decision itself is the store's.
    if let Some(existing) = meta.list_accounts().await?.into_iter().next() {
        return Err(InitError::AlreadyInitialised {
            account: existing.id,
        });
    }
    let account_id = new_account_id();
    let token_id = new_token_id();
    let api_token = TokenValue::generate();
    let secret_access_key = api_token.secret_access_key();
    let account = AccountRecord {
        id: account_id.clone(),
        name: "default".to_owned(),
        created_at: now,
    };
    let token = TokenRecord {
        id: token_id.clone(),
        account: account_id.clone(),
        name: "bootstrap admin".to_owned(),
        permission: Permission::AdminReadWrite,
        buckets: None,
        secret: secret_access_key.clone(),
        status: TokenStatus::Active,
        created_at: now,
        expires_at: None,
    };
    if !meta.create_first_account(account, token).await? {
        // Another node (or process) won the race between our check and our write.
        let winner = meta.list_accounts().await?.into_iter().next();
        return Err(InitError::AlreadyInitialised {
            account: winner.map_or(account_id, |a| a.id),
        });
    }
    Ok(Bootstrap {
        account_id,
        token_id,
        api_token,
        secret_access_key,
    })
}

/// `mayfly init`: opens (creating) the data directory and bootstraps it.
pub async fn init_data_dir(data_dir: &Path, now: u64) -> anyhow::Result<Bootstrap> {
    let store = mayfly_store_local::LocalStore::open(data_dir)
        .with_context(|| format!("cannot open data directory {}", data_dir.display()))?;
    Ok(bootstrap(store.metadata().as_ref(), now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn second_bootstrap_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = mayfly_store_local::LocalStore::open(dir.path()).expect("open");
        let meta = store.metadata();
        let first = bootstrap(meta.as_ref(), 1_750_000_000)
            .await
            .expect("first");
        let token = meta.get_token(&first.token_id).await.expect("token");
        assert_eq!(token.permission, Permission::AdminReadWrite);
        assert!(token.secret.ct_eq(&first.secret_access_key));
        assert!(format!("{first:?}").contains("<redacted>"));
        assert!(!format!("{first:?}").contains(first.api_token.expose_secret()));

        let again = bootstrap(meta.as_ref(), 1_750_000_001).await;
        assert!(matches!(again, Err(InitError::AlreadyInitialised { .. })));
        assert_eq!(meta.list_accounts().await.expect("accounts").len(), 1);
        assert_eq!(
            meta.list_tokens(&first.account_id)
                .await
                .expect("tokens")
                .len(),
            1
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_bootstraps_create_one_account() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = mayfly_store_local::LocalStore::open(dir.path()).expect("open");
        let meta = store.metadata();
        let results = futures_join(meta.as_ref()).await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "exactly one bootstrap wins");
        assert!(
            results
                .iter()
                .all(|r| matches!(r, Ok(_) | Err(InitError::AlreadyInitialised { .. }))),
            "losers are told the store is initialised"
        );
        let accounts = meta.list_accounts().await.expect("accounts");
        assert_eq!(accounts.len(), 1);
        assert_eq!(
            meta.list_tokens(&accounts[0].id)
                .await
                .expect("tokens")
                .len(),
            1
        );
    }

    async fn futures_join(meta: &dyn MetadataStore) -> Vec<Result<Bootstrap, InitError>> {
        let (a, b, c, d) = tokio::join!(
            bootstrap(meta, 1),
            bootstrap(meta, 2),
            bootstrap(meta, 3),
            bootstrap(meta, 4)
        );
        vec![a, b, c, d]
    }
}
