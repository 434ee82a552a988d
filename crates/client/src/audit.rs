//! `GET /client/v4/mayfly/accounts/{account_id}/audit`: a page of an account's audit trail
//! (a Mayfly extension; Cloudflare has no such endpoint). Events are returned as JSON objects,
//! exactly as the server sent them, so new fields pass through untouched.

use mayfly_core::AccountId;
use reqwest::Method;

use crate::{Client, Error};

/// One page of audit events, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// The events (`time`, `kind`, `credentialId`, `parentAccessKeyId`, `bucket`, `key`,
    /// `operation`, `status`, `bytes`, `requestId`, `caller`, `detail`).
    pub events: Vec<serde_json::Value>,
    /// Pass back as the `cursor` parameter for the next page; `None` on the last.
    pub cursor: Option<String>,
}

impl Client {
    /// A page of `account`'s audit events. `query` holds the filters as the endpoint names
    /// them (`credential_id`, `parent`, `bucket`, `kind`, `since`, `until`, `per_page`,
    /// `cursor`).
    pub async fn list_audit(
        &self,
        account: &AccountId,
        query: &[(&str, String)],
    ) -> Result<AuditPage, Error> {
        let ok = self
            .call::<()>(
                Method::GET,
                &["mayfly", "accounts", account.as_str(), "audit"],
                query,
                None,
            )
            .await?;
        let cursor = ok
            .result_info
            .as_ref()
            .and_then(|i| i.get("cursor"))
            .and_then(|c| c.as_str())
            .map(str::to_owned);
        let events = ok.into_result()?;
        Ok(AuditPage { events, cursor })
    }
}
