//! R2 API tokens under Cloudflare's own paths (`/accounts/{a}/tokens`, `/user/tokens/verify`).
//!
//! Create and update send Cloudflare's `policies` body (R2 permission groups by id, account or
//! bucket resources), which Mayfly accepts too, so the same call works against either. The S3 key
//! pair is derived locally from the answer (access key id = token id, secret = sha256 hex of
//! the value) when the server does not send it, as Cloudflare does not.

use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission, SecretAccessKey};
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{ApiToken, Client};
use crate::error::Error;

/// Cloudflare's resource key of a whole account.
const ACCOUNT_RESOURCE: &str = "com.cloudflare.api.account.";
/// Cloudflare's resource key prefix of one R2 bucket (`<account>_<jurisdiction>_<bucket>`).
const BUCKET_RESOURCE: &str = "com.cloudflare.edge.r2.bucket.";

/// Cloudflare's permission-group id for each R2 permission.
fn permission_group_id(p: Permission) -> &'static str {
    match p {
        Permission::AdminReadWrite => "bf7481a1826f439697cb59a20b22293e",
        Permission::AdminReadOnly => "b4992e1108244f5d8bfbd5744320c2e1",
        Permission::ObjectReadWrite => "2efd5506f9c8494dacb1fa10a3e7d5b6",
        Permission::ObjectReadOnly => "6a018a9f2fc74eb6b293b0c548f38b39",
    }
}

/// What a new token may do.
#[derive(Debug, Clone)]
pub struct CreateTokenRequest {
    name: String,
    permission: Permission,
    buckets: Vec<BucketName>,
}

impl CreateTokenRequest {
    /// A token named `name` with `permission` on every bucket of the account.
    pub fn new(name: impl Into<String>, permission: Permission) -> Self {
        Self {
            name: name.into(),
            permission,
            buckets: Vec::new(),
        }
    }

    /// Limits an object-level token to these buckets (admin permissions are account-wide, and
    /// the server refuses a bucket list with them).
    pub fn buckets(mut self, buckets: Vec<BucketName>) -> Self {
        self.buckets = buckets;
        self
    }

    fn to_wire(&self, account: &AccountId) -> Value {
        json!({
            "name": self.name,
            "policies": policies(account, self.permission, &self.buckets),
        })
    }
}

/// Cloudflare's `policies` array granting `permission` on the whole account (no buckets) or
/// on each named bucket: the body shape the official SDKs send for create and update.
fn policies(account: &AccountId, permission: Permission, buckets: &[BucketName]) -> Value {
    let mut resources = Map::new();
    if buckets.is_empty() {
        resources.insert(format!("{ACCOUNT_RESOURCE}{account}"), json!("*"));
    } else {
        for b in buckets {
            resources.insert(
                format!("{BUCKET_RESOURCE}{account}_default_{b}"),
                json!("*"),
            );
        }
    }
    json!([{
        "effect": "allow",
        "permission_groups": [{"id": permission_group_id(permission)}],
        "resources": resources,
    }])
}

/// The status an update may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    /// The token works again (a revoked token stays revoked: the server answers 409).
    Active,
    /// The token, and every temporary credential minted from it, stop working until it is
    /// made active again.
    Disabled,
}

impl UpdateStatus {
    /// The wire value: `active` or `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

/// A full replacement of a token's settings (`PUT`): like Cloudflare's update, every field is
/// sent, so fields left out here are not "kept" by the server. In particular a missing
/// `expires_on` means "no expiry" (or the caller's own expiry, when the caller's token
/// expires); to keep the current one, send it back (see [`TokenInfo::expires_on`]). A missing
/// status keeps the current one. The id, value and S3 secret never change.
#[derive(Debug, Clone)]
pub struct UpdateTokenRequest {
    name: String,
    permission: Permission,
    buckets: Vec<BucketName>,
    status: Option<UpdateStatus>,
    expires_on: Option<String>,
}

impl UpdateTokenRequest {
    /// The token becomes `name` with `permission` on every bucket of the account.
    pub fn new(name: impl Into<String>, permission: Permission) -> Self {
        Self {
            name: name.into(),
            permission,
            buckets: Vec::new(),
            status: None,
            expires_on: None,
        }
    }

    /// Limits an object-level token to these buckets (empty: every bucket).
    pub fn buckets(mut self, buckets: Vec<BucketName>) -> Self {
        self.buckets = buckets;
        self
    }

    /// Enables or disables the token (default: the status stays as it is).
    pub fn status(mut self, status: UpdateStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// RFC 3339 expiry, e.g. `2030-01-01T00:00:00Z` (must be in the future; the server
    /// checks it and answers a 400 pointing at `/expires_on` otherwise).
    pub fn expires_on(mut self, rfc3339: impl Into<String>) -> Self {
        self.expires_on = Some(rfc3339.into());
        self
    }

    fn to_wire(&self, account: &AccountId) -> Value {
        let mut body = json!({
            "name": self.name,
            "policies": policies(account, self.permission, &self.buckets),
        });
        if let Some(status) = self.status {
            body["status"] = json!(status.as_str());
        }
        if let Some(expires_on) = &self.expires_on {
            body["expires_on"] = json!(expires_on);
        }
        body
    }
}

/// A token as listed (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The token id, which is also its S3 access key id.
    pub id: AccessKeyId,
    /// Display name.
    pub name: String,
    /// `active`, `disabled` (revoked) or `expired`.
    pub status: String,
    /// The R2 permission, when the server reports one (Mayfly does; Cloudflare tokens may
    /// carry non-R2 policies instead).
    pub permission: Option<Permission>,
    /// Buckets an object-level token is limited to, when reported.
    pub buckets: Option<Vec<String>>,
    /// RFC 3339 creation time, when reported.
    pub issued_on: Option<String>,
    /// RFC 3339 expiry, if the token expires.
    pub expires_on: Option<String>,
}

/// A freshly created token: the only time its value is available.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    /// The token's metadata.
    pub info: TokenInfo,
    /// The bearer value.
    pub value: ApiToken,
    /// `hex(sha256(value))`: the S3 secret access key (access key id = `info.id`).
    pub secret_access_key: SecretAccessKey,
}

#[derive(serde::Deserialize)]
struct WireToken {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    permission: Option<String>,
    #[serde(default)]
    buckets: Option<Vec<String>>,
    #[serde(default)]
    issued_on: Option<String>,
    #[serde(default)]
    expires_on: Option<String>,
}

impl WireToken {
    fn into_info(self, status: u16) -> Result<TokenInfo, Error> {
        let id = AccessKeyId::parse(&self.id).map_err(|e| Error::Decode {
            status,
            reason: format!("token id: {e}"),
        })?;
        Ok(TokenInfo {
            id,
            name: self.name,
            status: self.status,
            permission: self
                .permission
                .as_deref()
                .and_then(|p| Permission::parse(p).ok()),
            buckets: self.buckets,
            issued_on: self.issued_on,
            expires_on: self.expires_on,
        })
    }
}

#[derive(serde::Deserialize)]
struct WireCreated {
    #[serde(flatten)]
    token: WireToken,
    value: String,
}

/// The result of `GET /user/tokens/verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The token id.
    pub id: String,
    /// `active`, `disabled` or `expired`.
    pub status: String,
}

#[derive(serde::Deserialize)]
struct WireVerify {
    id: String,
    #[serde(default)]
    status: String,
}

impl Client {
    /// `POST /accounts/{account_id}/tokens`: creates an R2 API token.
    pub async fn create_token(
        &self,
        account: &AccountId,
        req: &CreateTokenRequest,
    ) -> Result<CreatedToken, Error> {
        let body = req.to_wire(account);
        let ok = self
            .call(
                Method::POST,
                &["accounts", account.as_str(), "tokens"],
                &[],
                Some(&body),
            )
            .await?;
        let status = ok.status;
        let wire: WireCreated = ok.into_result()?;
        let secret_access_key = SecretAccessKey::from_token_value(&wire.value);
        Ok(CreatedToken {
            info: wire.token.into_info(status)?,
            value: ApiToken::new(wire.value),
            secret_access_key,
        })
    }

    /// `GET /accounts/{account_id}/tokens`.
    pub async fn list_tokens(&self, account: &AccountId) -> Result<Vec<TokenInfo>, Error> {
        let ok = self
            .call::<()>(
                Method::GET,
                &["accounts", account.as_str(), "tokens"],
                &[],
                None,
            )
            .await?;
        let status = ok.status;
        let list: Vec<WireToken> = ok.into_result()?;
        list.into_iter().map(|t| t.into_info(status)).collect()
    }

    /// `GET /accounts/{account_id}/tokens/{token_id}`: one token (never its value).
    pub async fn get_token(
        &self,
        account: &AccountId,
        id: &AccessKeyId,
    ) -> Result<TokenInfo, Error> {
        let ok = self
            .call::<()>(
                Method::GET,
                &["accounts", account.as_str(), "tokens", id.as_str()],
                &[],
                None,
            )
            .await?;
        let status = ok.status;
        let wire: WireToken = ok.into_result()?;
        wire.into_info(status)
    }

    /// `PUT /accounts/{account_id}/tokens/{token_id}`: replaces the token's name,
    /// permission/buckets, status and expiry (see [`UpdateTokenRequest`]), in the `policies`
    /// shape the official SDKs send, so it works against Cloudflare too. A downgrade or a
    /// disable binds the temporary credentials already minted from the token on their next
    /// request. Like every call it is retried on 408/409/429/5xx, as the official SDKs retry
    /// it: the body is a full replacement, so a replay converges on the same state.
    pub async fn update_token(
        &self,
        account: &AccountId,
        id: &AccessKeyId,
        req: &UpdateTokenRequest,
    ) -> Result<TokenInfo, Error> {
        let body = req.to_wire(account);
        let ok = self
            .call(
                Method::PUT,
                &["accounts", account.as_str(), "tokens", id.as_str()],
                &[],
                Some(&body),
            )
            .await?;
        let status = ok.status;
        let wire: WireToken = ok.into_result()?;
        wire.into_info(status)
    }

    /// `DELETE /accounts/{account_id}/tokens/{token_id}`: the token and every temporary
    /// credential minted from it stop working at once.
    pub async fn revoke_token(&self, account: &AccountId, id: &AccessKeyId) -> Result<(), Error> {
        self.call::<()>(
            Method::DELETE,
            &["accounts", account.as_str(), "tokens", id.as_str()],
            &[],
            None,
        )
        .await?;
        Ok(())
    }

    /// `GET /user/tokens/verify`: checks the client's own token.
    pub async fn verify_token(&self) -> Result<VerifiedToken, Error> {
        let ok = self
            .call::<()>(Method::GET, &["user", "tokens", "verify"], &[], None)
            .await?;
        let wire: WireVerify = ok.into_result()?;
        Ok(VerifiedToken {
            id: wire.id,
            status: wire.status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_token_body_names_each_bucket_resource() {
        let account = AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect("account");
        let req = CreateTokenRequest::new("reader", Permission::ObjectReadOnly)
            .buckets(vec![BucketName::parse("photos").expect("bucket")]);
        let body = req.to_wire(&account);
        assert_eq!(
            body["policies"][0]["permission_groups"][0]["id"],
            "6a018a9f2fc74eb6b293b0c548f38b39"
        );
        assert_eq!(
            body["policies"][0]["resources"]["com.cloudflare.edge.r2.bucket.023e105f4ecef8ad9ca31a8372d0c353_default_photos"],
            "*"
        );
    }

    #[test]
    fn update_body_is_cloudflares_shape_with_optional_status_and_expiry() {
        let account = AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect("account");
        let plain = UpdateTokenRequest::new("ops", Permission::AdminReadOnly).to_wire(&account);
        assert_eq!(
            plain,
            json!({
                "name": "ops",
                "policies": [{
                    "effect": "allow",
                    "permission_groups": [{"id": "b4992e1108244f5d8bfbd5744320c2e1"}],
                    "resources": {"com.cloudflare.api.account.023e105f4ecef8ad9ca31a8372d0c353": "*"},
                }],
            })
        );
        let full = UpdateTokenRequest::new("reader", Permission::ObjectReadOnly)
            .buckets(vec![BucketName::parse("photos").expect("bucket")])
            .status(UpdateStatus::Disabled)
            .expires_on("2030-01-01T00:00:00Z")
            .to_wire(&account);
        assert_eq!(full["status"], "disabled");
        assert_eq!(full["expires_on"], "2030-01-01T00:00:00Z");
        assert_eq!(
            full["policies"][0]["resources"]["com.cloudflare.edge.r2.bucket.023e105f4ecef8ad9ca31a8372d0c353_default_photos"],
            "*"
        );
    }

    #[test]
    fn admin_token_body_names_the_account() {
        let account = AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect("account");
        let body = CreateTokenRequest::new("ops", Permission::AdminReadWrite).to_wire(&account);
        assert_eq!(
            body["policies"][0]["resources"]["com.cloudflare.api.account.023e105f4ecef8ad9ca31a8372d0c353"],
            "*"
        );
    }
}
