//! R2 endpoints: temporary access credentials and buckets, with their request and result types.
//! Wire structs stay private; callers see core's newtypes (`BucketName`, `AccessKeyId`,
//! `Permission`, `TemporaryCredentials`).

use mayfly_core::{
    AccessKeyId, AccountId, BucketName, Permission, S3Action, SecretAccessKey, SessionToken,
    TemporaryCredentials,
};
use reqwest::Method;

use crate::client::Client;
use crate::error::Error;

/// The body of `POST /accounts/{account_id}/r2/temp-access-credentials`.
///
/// Built with [`TempCredentialsRequest::new`] and refined with its setters; unset `ttl_seconds`
/// is sent as 900 (the documented default).
#[derive(Debug, Clone)]
pub struct TempCredentialsRequest {
    bucket: BucketName,
    parent_access_key_id: AccessKeyId,
    permission: Permission,
    ttl_seconds: u64,
    objects: Vec<String>,
    prefixes: Vec<String>,
    actions: Vec<String>,
}

impl TempCredentialsRequest {
    /// Credentials on `bucket`, signed by the token `parent_access_key_id`, for 900 seconds.
    pub fn new(
        bucket: BucketName,
        parent_access_key_id: AccessKeyId,
        permission: Permission,
    ) -> Self {
        Self {
            bucket,
            parent_access_key_id,
            permission,
            ttl_seconds: 900,
            objects: Vec::new(),
            prefixes: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// Lifetime in seconds (1..=604800; the server checks).
    pub fn ttl_seconds(mut self, ttl: u64) -> Self {
        self.ttl_seconds = ttl;
        self
    }

    /// Exact object keys the credentials may touch.
    pub fn objects(mut self, objects: Vec<String>) -> Self {
        self.objects = objects;
        self
    }

    /// Key prefixes the credentials may touch.
    pub fn prefixes(mut self, prefixes: Vec<String>) -> Self {
        self.prefixes = prefixes;
        self
    }

    /// S3 actions the credentials are narrowed to (a Mayfly extension of the API: Cloudflare
    /// takes `actions` only in locally signed tokens; sent only when non-empty).
    pub fn actions(mut self, actions: Vec<S3Action>) -> Self {
        self.actions = actions.iter().map(|a| a.as_str().to_owned()).collect();
        self
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct WireTempCredentialsRequest<'a> {
    bucket: &'a str,
    parent_access_key_id: &'a str,
    permission: &'static str,
    ttl_seconds: u64,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    objects: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    prefixes: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    actions: &'a [String],
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTempCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
}

/// An R2 bucket as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The bucket's name.
    pub name: BucketName,
    /// RFC 3339 creation time, as sent.
    pub creation_date: String,
    /// Location hint (`wnam`, `weur`, ...), when the server reports one.
    pub location: Option<String>,
    /// `Standard` or `InfrequentAccess`, when reported.
    pub storage_class: Option<String>,
    /// `default`, `eu` or `fedramp`, when reported.
    pub jurisdiction: Option<String>,
}

#[derive(serde::Deserialize)]
struct WireBucket {
    name: String,
    #[serde(default)]
    creation_date: String,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    storage_class: Option<String>,
    #[serde(default)]
    jurisdiction: Option<String>,
}

impl WireBucket {
    fn into_bucket(self, status: u16) -> Result<Bucket, Error> {
        let name = BucketName::parse(&self.name).map_err(|e| Error::Decode {
            status,
            reason: format!("bucket name {:?}: {e}", self.name),
        })?;
        Ok(Bucket {
            name,
            creation_date: self.creation_date,
            location: self.location,
            storage_class: self.storage_class,
            jurisdiction: self.jurisdiction,
        })
    }
}

#[derive(serde::Deserialize)]
struct WireBucketList {
    #[serde(default)]
    buckets: Vec<WireBucket>,
}

#[derive(serde::Deserialize, Default)]
struct WireResultInfo {
    #[serde(default)]
    cursor: Option<String>,
}

/// Options of `GET /accounts/{account_id}/r2/buckets`; all optional.
#[derive(Debug, Clone, Default)]
pub struct ListBucketsParams {
    /// Only names containing this text.
    pub name_contains: Option<String>,
    /// Only names after this one.
    pub start_after: Option<String>,
    /// Page size, 1..=1000.
    pub per_page: Option<u32>,
    /// A continuation cursor from a previous page.
    pub cursor: Option<String>,
    /// Sort field (`name`).
    pub order: Option<String>,
    /// `asc` or `desc`.
    pub direction: Option<String>,
    /// Jurisdiction to list in (`default`, `eu`, `fedramp`), sent as the `cf-r2-jurisdiction`
    /// header as the official SDKs do.
    pub jurisdiction: Option<String>,
}

/// One page of buckets.
#[derive(Debug, Clone)]
pub struct BucketPage {
    /// The buckets on this page.
    pub buckets: Vec<Bucket>,
    /// The cursor for the next page, if there is one.
    pub cursor: Option<String>,
}

/// The body of `POST /accounts/{account_id}/r2/buckets`.
#[derive(Debug, Clone)]
pub struct CreateBucketRequest {
    name: BucketName,
    location_hint: Option<String>,
    storage_class: Option<String>,
    jurisdiction: Option<String>,
}

impl CreateBucketRequest {
    /// A bucket named `name` with server defaults.
    pub fn new(name: BucketName) -> Self {
        Self {
            name,
            location_hint: None,
            storage_class: None,
            jurisdiction: None,
        }
    }

    /// Jurisdiction (`default`, `eu`, `fedramp`), sent as the `cf-r2-jurisdiction` header as
    /// the official SDKs do.
    pub fn jurisdiction(mut self, jurisdiction: impl Into<String>) -> Self {
        self.jurisdiction = Some(jurisdiction.into());
        self
    }

    /// Where the bucket should live (`wnam`, `enam`, `weur`, `eeur`, `apac`, `oc`).
    pub fn location_hint(mut self, hint: impl Into<String>) -> Self {
        self.location_hint = Some(hint.into());
        self
    }

    /// `Standard` or `InfrequentAccess`.
    pub fn storage_class(mut self, class: impl Into<String>) -> Self {
        self.storage_class = Some(class.into());
        self
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct WireCreateBucket<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location_hint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_class: Option<&'a str>,
}

fn decode_err(status: u16, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Decode {
        status,
        reason: format!("{what}: {e}"),
    }
}

impl Client {
    /// `POST /accounts/{account_id}/r2/temp-access-credentials`: mints temporary S3 credentials
    /// on one bucket from a parent token.
    pub async fn create_temp_credentials(
        &self,
        account: &AccountId,
        req: &TempCredentialsRequest,
    ) -> Result<TemporaryCredentials, Error> {
        let body = WireTempCredentialsRequest {
            bucket: req.bucket.as_str(),
            parent_access_key_id: req.parent_access_key_id.as_str(),
            permission: req.permission.as_str(),
            ttl_seconds: req.ttl_seconds,
            objects: &req.objects,
            prefixes: &req.prefixes,
            actions: &req.actions,
        };
        let ok = self
            .call(
                Method::POST,
                &[
                    "accounts",
                    account.as_str(),
                    "r2",
                    "temp-access-credentials",
                ],
                &[],
                Some(&body),
            )
            .await?;
        let status = ok.status;
        let wire: WireTempCredentials = ok.into_result()?;
        let session_token = SessionToken::from_untrusted(&wire.session_token);
        // The id names the credential (for revocation and the audit trail); a token that does
        // not even parse cannot have been issued by a server speaking R2's format.
        let id = mayfly_core::parse_session_token(&session_token)
            .map_err(|e| decode_err(status, "sessionToken", e))?
            .credential_id()
            .clone();
        Ok(TemporaryCredentials {
            access_key_id: AccessKeyId::parse(&wire.access_key_id)
                .map_err(|e| decode_err(status, "accessKeyId", e))?,
            secret_access_key: SecretAccessKey::parse(&wire.secret_access_key)
                .map_err(|e| decode_err(status, "secretAccessKey", e))?,
            session_token,
            id,
        })
    }

    /// `GET /accounts/{account_id}/r2/buckets`: one page of the account's buckets.
    pub async fn list_buckets(
        &self,
        account: &AccountId,
        params: &ListBucketsParams,
    ) -> Result<BucketPage, Error> {
        // Alphabetical, the order both official SDKs send.
        let query: Vec<(&str, String)> = [
            ("cursor", params.cursor.clone()),
            ("direction", params.direction.clone()),
            ("name_contains", params.name_contains.clone()),
            ("order", params.order.clone()),
            ("per_page", params.per_page.map(|n| n.to_string())),
            ("start_after", params.start_after.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let headers: Vec<(&'static str, String)> = params
            .jurisdiction
            .iter()
            .map(|j| ("cf-r2-jurisdiction", j.clone()))
            .collect();
        let ok = self
            .call_with_headers::<()>(
                Method::GET,
                &["accounts", account.as_str(), "r2", "buckets"],
                &query,
                &headers,
                None,
            )
            .await?;
        let status = ok.status;
        let info: WireResultInfo = match &ok.result_info {
            Some(v) => serde_json::from_value(v.clone()).unwrap_or_default(),
            None => WireResultInfo::default(),
        };
        let list: WireBucketList = ok.into_result()?;
        let buckets = list
            .buckets
            .into_iter()
            .map(|b| b.into_bucket(status))
            .collect::<Result<_, _>>()?;
        Ok(BucketPage {
            buckets,
            cursor: info.cursor.filter(|c| !c.is_empty()),
        })
    }

    /// `POST /accounts/{account_id}/r2/buckets`: creates a bucket.
    pub async fn create_bucket(
        &self,
        account: &AccountId,
        req: &CreateBucketRequest,
    ) -> Result<Bucket, Error> {
        let body = WireCreateBucket {
            name: req.name.as_str(),
            location_hint: req.location_hint.as_deref(),
            storage_class: req.storage_class.as_deref(),
        };
        let headers: Vec<(&'static str, String)> = req
            .jurisdiction
            .iter()
            .map(|j| ("cf-r2-jurisdiction", j.clone()))
            .collect();
        let ok = self
            .call_with_headers(
                Method::POST,
                &["accounts", account.as_str(), "r2", "buckets"],
                &[],
                &headers,
                Some(&body),
            )
            .await?;
        let status = ok.status;
        ok.into_result::<WireBucket>()?.into_bucket(status)
    }

    /// `GET /accounts/{account_id}/r2/buckets/{name}`.
    pub async fn get_bucket(
        &self,
        account: &AccountId,
        name: &BucketName,
    ) -> Result<Bucket, Error> {
        let ok = self
            .call::<()>(
                Method::GET,
                &["accounts", account.as_str(), "r2", "buckets", name.as_str()],
                &[],
                None,
            )
            .await?;
        let status = ok.status;
        ok.into_result::<WireBucket>()?.into_bucket(status)
    }

    /// `DELETE /accounts/{account_id}/r2/buckets/{name}` (the bucket must be empty).
    pub async fn delete_bucket(&self, account: &AccountId, name: &BucketName) -> Result<(), Error> {
        self.call::<()>(
            Method::DELETE,
            &["accounts", account.as_str(), "r2", "buckets", name.as_str()],
            &[],
            None,
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_credentials_body_is_camel_case_and_omits_empty_scopes() {
        let body = WireTempCredentialsRequest {
            bucket: "b1c",
            parent_access_key_id: "k",
            permission: Permission::ObjectReadWrite.as_str(),
            ttl_seconds: 3600,
            objects: &[],
            prefixes: &["p/".to_owned()],
            actions: &[],
        };
        assert_eq!(
            serde_json::to_string(&body).ok().as_deref(),
            Some(
                r#"{"bucket":"b1c","parentAccessKeyId":"k","permission":"object-read-write","ttlSeconds":3600,"prefixes":["p/"]}"#
            )
        );
    }
}
