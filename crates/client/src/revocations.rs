//! Revoking one temporary credential (a Mayfly extension, issue 15):
//! `POST /mayfly/accounts/{account_id}/r2/temp-access-credentials/revocations`.

use mayfly_core::{AccountId, CredentialId, SessionToken};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Error;

/// What to revoke.
#[derive(Debug, Clone)]
pub enum RevokeTarget {
    /// A credential by its id (needs an `admin-read-write` caller).
    Id(CredentialId),
    /// A credential by its session token (the parent token itself may revoke it).
    SessionToken(SessionToken),
}

/// A revocation as the server stored it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revocation {
    /// The credential's id.
    pub credential_id: String,
    /// Its bucket, when revoked by session token.
    #[serde(default)]
    pub bucket: Option<String>,
    /// The token it was minted from, when revoked by session token.
    #[serde(default)]
    pub parent_access_key_id: Option<String>,
    /// When it was revoked (RFC 3339).
    pub revoked_on: String,
    /// When the server forgets the entry (RFC 3339): the credential cannot be used past it.
    pub expires_on: String,
}

#[derive(Serialize)]
struct WireRevoke<'a> {
    #[serde(rename = "credentialId", skip_serializing_if = "Option::is_none")]
    credential_id: Option<&'a str>,
    #[serde(rename = "sessionToken", skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
}

impl Client {
    /// Revokes one temporary credential on a Mayfly server. Idempotent: revoking again returns
    /// the entry stored first.
    pub async fn revoke_credential(
        &self,
        account: &AccountId,
        target: &RevokeTarget,
    ) -> Result<Revocation, Error> {
        let body = match target {
            RevokeTarget::Id(id) => WireRevoke {
                credential_id: Some(id.as_str()),
                session_token: None,
            },
            RevokeTarget::SessionToken(t) => WireRevoke {
                credential_id: None,
                session_token: Some(t.expose_secret()),
            },
        };
        self.call(
            Method::POST,
            &[
                "mayfly",
                "accounts",
                account.as_str(),
                "r2",
                "temp-access-credentials",
                "revocations",
            ],
            &[],
            Some(&body),
        )
        .await?
        .into_result()
    }
}
