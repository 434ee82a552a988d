//! The testing API: a clean slate for a test in one request, without a restart.
//!
//! `POST /client/v4/mayfly/accounts` creates a fresh, empty account and an admin-read-write token
//! in it, and answers with everything a test needs (the same fields `mayfly init --json`
//! prints): `account_id`, `api_token`, `token_id`, `access_key_id`, `secret_access_key`.
//! Accounts share nothing (buckets, tokens and credentials are per account), so giving each test
//! its own account isolates it from every other test on the same server, in one store write.
//!
//! The route lives under `/client/v4/mayfly/`, a path Cloudflare's API does not use, and it
//! exists only when the server was started with the testing API on (`mayfly serve --ephemeral`,
//! or `--enable-testing-api`): on a normal server the path answers 404 (7000) like any unknown
//! route. Even then it needs an active admin-read-write token of some account (the one
//! `--ephemeral` prints), so the port alone does not let a stranger create accounts.

use axum::extract::State;
use axum::response::Response;
use mayfly_core::{Permission, authorize_test_account};
use mayfly_store::{
    AccountRecord, TokenRecord, TokenStatus, TokenValue, new_account_id, new_token_id,
};
use serde::Serialize;

use crate::ApiState;
use crate::auth::Caller;
use crate::envelope::ok;
use crate::error::ApiError;

/// The answer: a new account and its admin token, shown once.
#[derive(Serialize)]
struct FreshAccount {
    account_id: String,
    api_token: String,
    token_id: String,
    access_key_id: String,
    secret_access_key: String,
}

/// `POST /mayfly/accounts`: a new empty account with its own admin-read-write token.
pub(crate) async fn create_account(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    authorize_test_account(&caller.api_token())?;
    let now = state.clock.now();
    let account_id = new_account_id();
    let token_id = new_token_id();
    let value = TokenValue::generate();
    let secret = value.secret_access_key();
    state
        .store
        .create_account(AccountRecord {
            id: account_id.clone(),
            name: "test".to_owned(),
            created_at: now,
        })
        .await?;
    state
        .store
        .create_token(TokenRecord {
            id: token_id.clone(),
            account: account_id.clone(),
            name: "test admin".to_owned(),
            permission: Permission::AdminReadWrite,
            buckets: None,
            secret: secret.clone(),
            status: TokenStatus::Active,
            created_at: now,
            expires_at: None,
        })
        .await?;
    tracing::info!(account = %account_id, token = %token_id, "testing api: created a fresh account");
    Ok(ok(FreshAccount {
        account_id: account_id.as_str().to_owned(),
        api_token: value.expose_secret().to_owned(),
        token_id: token_id.as_str().to_owned(),
        access_key_id: token_id.as_str().to_owned(),
        // Printing the secret is the point of this answer (throwaway test credentials).
        secret_access_key: secret.expose_secret().to_owned(),
    }))
}
