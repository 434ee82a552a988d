//! The test harness: a fresh store with one account and an admin token per test, and helpers
//! to send requests and read envelopes.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use mayfly_api::{ApiConfig, ApiState, router};
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission, SecretAccessKey};
use mayfly_store::{
    AccountRecord, BlobId, BlobRef, BucketRecord, ChecksumType, Clock, HttpHeaders, Jurisdiction,
    MetadataStore, ObjectRecord, TokenRecord, TokenStatus, WriteCondition,
};
use serde_json::Value;
use tower::ServiceExt;

/// The account every harness creates.
pub const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
/// A second account, for cross-account checks.
pub const OTHER_ACCOUNT: &str = "0badc0ffee0badc0ffee0badc0ffee00";
/// The S3 host minted credentials are bound to.
pub const AUDIENCE: &str = "127.0.0.1:9000";
/// The harness clock's start.
pub const NOW: u64 = 1_750_000_000;

/// A token the harness made: its id and its bearer value.
#[derive(Clone, Debug)]
pub struct Token {
    pub id: String,
    pub value: String,
}

/// A decoded answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub content_type: Option<String>,
    pub body: Value,
}

impl Answer {
    /// The first error's code.
    pub fn code(&self) -> Option<i64> {
        self.body["errors"][0]["code"].as_i64()
    }

    /// The first error's `source.pointer`.
    pub fn pointer(&self) -> Option<&str> {
        self.body["errors"][0]["source"]["pointer"].as_str()
    }

    /// Asserts a well-formed failure envelope with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: i64) {
        assert_eq!(self.status.as_u16(), status, "status; body {}", self.body);
        assert_eq!(self.code(), Some(code), "code; body {}", self.body);
        assert_eq!(self.body["success"], Value::Bool(false), "{}", self.body);
        assert_eq!(self.body["result"], Value::Null, "{}", self.body);
        assert!(self.body["messages"].is_array(), "{}", self.body);
        assert!(
            self.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(self.content_type.as_deref(), Some("application/json"));
    }

    /// Asserts a success envelope and returns its result.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "body {}", self.body);
        assert_eq!(self.body["success"], Value::Bool(true), "{}", self.body);
        assert_eq!(self.body["errors"], serde_json::json!([]), "{}", self.body);
        &self.body["result"]
    }
}

/// A router over a fresh store.
pub struct Harness {
    _dir: tempfile::TempDir,
    _local: mayfly_store_local::LocalStore,
    pub store: Arc<dyn MetadataStore>,
    pub clock: Clock,
    pub app: Router,
    pub admin: Token,
}

pub fn account() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}

pub fn bucket_name(name: &str) -> BucketName {
    BucketName::parse(name).unwrap()
}

impl Harness {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let local = mayfly_store_local::LocalStore::open(dir.path()).unwrap();
        let store = local.metadata();
        let clock = Clock::fixed(NOW);
        for id in [ACCOUNT, OTHER_ACCOUNT] {
            store
                .create_account(AccountRecord {
                    id: AccountId::parse(id).unwrap(),
                    name: format!("account {id}"),
                    created_at: NOW,
                })
                .await
                .unwrap();
        }
        let app = router(
            ApiState::new(store.clone(), clock.clone(), ApiConfig::new(AUDIENCE))
                .with_audit(mayfly_store::AuditSink::disabled(), local.audit()),
        );
        let mut h = Self {
            _dir: dir,
            _local: local,
            store,
            clock,
            app,
            admin: Token {
                id: String::new(),
                value: String::new(),
            },
        };
        h.admin = h.token(ACCOUNT, Permission::AdminReadWrite, None).await;
        h
    }

    /// Stores a token directly (as `mayfly init` would) and returns its id and value.
    pub async fn token(
        &self,
        account: &str,
        permission: Permission,
        buckets: Option<&[&str]>,
    ) -> Token {
        let n = self
            .store
            .list_tokens(&AccountId::parse(account).unwrap())
            .await
            .unwrap()
            .len();
        let value = format!("test-token-value-{account}-{n:04}-{}", permission.as_str());
        let id = mayfly_core::sha256_hex(value.as_bytes())[..32].to_owned();
        self.store
            .create_token(TokenRecord {
                id: AccessKeyId::parse(&id).unwrap(),
                account: AccountId::parse(account).unwrap(),
                name: format!("token {n}"),
                permission,
                buckets: buckets.map(|b| b.iter().map(|n| bucket_name(n)).collect()),
                secret: SecretAccessKey::from_token_value(&value),
                status: TokenStatus::Active,
                created_at: NOW,
                expires_at: None,
            })
            .await
            .unwrap();
        Token { id, value }
    }

    /// Creates a bucket directly in the store.
    pub async fn bucket(&self, account: &str, name: &str) {
        self.store
            .create_bucket(BucketRecord {
                account: AccountId::parse(account).unwrap(),
                name: bucket_name(name),
                created_at: self.clock.now(),
                location: "ENAM".into(),
                storage_class: "Standard".into(),
                jurisdiction: Jurisdiction::Default,
            })
            .await
            .unwrap();
    }

    /// Puts one object record (no blob bytes needed for metadata tests).
    pub async fn object(&self, name: &str, key: &str) {
        let record = ObjectRecord {
            bucket: mayfly_store::BucketId::new(account(), bucket_name(name)),
            key: key.into(),
            size: 0,
            etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
            last_modified_ms: NOW * 1000,
            headers: HttpHeaders::default(),
            user_metadata: Default::default(),
            checksums: Default::default(),
            checksum_type: ChecksumType::FullObject,
            blob: BlobRef::Single(BlobId::random()),
        };
        self.store
            .put_object(record, WriteCondition::None)
            .await
            .unwrap();
    }

    /// Sends a request built by the caller.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "non-JSON body ({status}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        Answer {
            status,
            headers,
            content_type,
            body,
        }
    }

    /// `method path` with a bearer token and an optional JSON body (sent as the SDKs do).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("/client/v4{path}"));
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        let request = match body {
            Some(b) => builder
                .header("content-type", "application/json")
                .body(Body::from(b.to_owned())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    /// `call` as the admin.
    pub async fn admin_call(&self, method: Method, path: &str, body: Option<&str>) -> Answer {
        let token = self.admin.value.clone();
        self.call(method, path, Some(&token), body).await
    }
}
