//! The attack context: one server, its planted buckets, objects and tokens, the credentials the
//! cases use, and the runner that signs a case along every auth path and tallies the answer.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::http::{Response, send, xml_field};
use crate::server::Server;
use crate::sign::{AuthPath, Creds, Request, SignOpts, aws_encode, sign};
use crate::tally::{Class, Expect, HIDDEN, Tally};
use crate::token::{Claims, mint};

/// The main bucket every scoped credential is bound to.
pub const MAIN: &str = "atk-main";
/// A second bucket of the same account.
pub const OTHER: &str = "atk-other";

/// Epoch seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Path of `key` in `bucket`, AWS-encoded (slashes kept).
pub fn obj(bucket: &str, key: &str) -> String {
    format!("/{bucket}/{}", aws_encode(key.as_bytes(), false))
}

/// An API token created for the suite.
#[derive(Debug, Clone)]
pub struct Token {
    /// Its S3 key pair.
    pub creds: Creds,
}

/// Everything the cases share.
pub struct World {
    /// The server.
    pub srv: Server,
    /// The S3 `Host`.
    pub host: String,
    /// Bootstrap admin (admin-read-write) S3 credentials.
    pub admin: Creds,
    /// The account.
    pub account: String,
    /// Results.
    pub tally: Tally,
    /// Every secret, token value and session token handed out (for the log scan).
    pub secrets: BTreeSet<String>,
    /// Every signature sent (for the log scan).
    pub signatures: BTreeSet<String>,
    /// Secrets of credentials allowed to see the planted out-of-scope data.
    trusted: BTreeSet<String>,
}

impl World {
    /// Starts one server and plants the fixtures.
    pub fn start() -> World {
        match Server::start() {
            Ok(s) => Self::on(s),
            Err(e) => panic!("cannot start mayfly: {e}"),
        }
    }

    /// Starts a two-node cluster behind a balancer (needs `MAYFLY_TEST_PG_URL`) and plants
    /// the fixtures through it.
    pub fn start_cluster() -> World {
        match Server::start_cluster(2) {
            Ok(s) => Self::on(s),
            Err(e) => panic!("cannot start a mayfly cluster: {e}"),
        }
    }

    /// Plants the fixtures on a started target.
    pub fn on(srv: Server) -> World {
        let admin = Creds {
            access_key: srv.access_key_id.clone(),
            secret: srv.secret_access_key.clone(),
            token: None,
        };
        let mut w = World {
            host: srv.s3_addr.clone(),
            account: srv.account_id.clone(),
            admin: admin.clone(),
            tally: Tally::default(),
            secrets: BTreeSet::new(),
            signatures: BTreeSet::new(),
            trusted: BTreeSet::new(),
            srv,
        };
        w.secrets.insert(w.srv.api_token.clone());
        w.secrets.insert(admin.secret.clone());
        for b in [MAIN, OTHER] {
            w.create_bucket(b);
        }
        w
    }

    /// Opts signing correctly now.
    pub fn opts(&self) -> SignOpts {
        SignOpts::at(now())
    }

    fn remember(&mut self, creds: &Creds) {
        self.secrets.insert(creds.secret.clone());
        if let Some(t) = &creds.token {
            self.secrets.insert(t.clone());
            // The JWT inside, and its signature segment, are as secret as the token.
            if let Ok(raw) = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, t)
                && let Ok(text) = String::from_utf8(raw)
                && let Some(jwt) = text.strip_prefix("jwt/")
            {
                self.secrets.insert(jwt.to_owned());
                if let Some(sig) = jwt.rsplit('.').next()
                    && sig.len() >= 40
                {
                    self.secrets.insert(sig.to_owned());
                }
            }
        }
    }

    /// Signs and sends one request.
    pub fn send(&mut self, req: &Request, creds: &Creds, path: AuthPath, o: &SignOpts) -> Response {
        if creds.token.as_ref().is_none_or(|t| t.len() < 4096) {
            self.remember(creds);
        }
        let wire = sign(req, creds, &self.host, path, o);
        self.signatures.extend(wire.signatures.iter().cloned());
        send(&self.host, &wire.bytes)
    }

    /// Sends raw bytes to the S3 listener.
    pub fn raw(&self, bytes: &[u8]) -> Response {
        send(&self.host, bytes)
    }

    /// Default auth paths for a request: all seven.
    pub fn paths_for(_req: &Request) -> Vec<AuthPath> {
        AuthPath::ALL.to_vec()
    }

    /// Runs a case along every auth path, with `expect` for SigV4 and the SigV2 refusal for
    /// SigV2 (unless the request fails before authentication, when `expect` holds there too).
    pub fn case(&mut self, class: Class, name: &str, creds: &Creds, req: Request, expect: Expect) {
        let o = self.opts();
        self.case_on(class, name, creds, &req, &Self::paths_for(&req), &o, |_| {
            expect
        });
    }

    /// Runs a case on chosen paths with a per-path expectation.
    #[allow(clippy::too_many_arguments)]
    pub fn case_on(
        &mut self,
        class: Class,
        name: &str,
        creds: &Creds,
        req: &Request,
        paths: &[AuthPath],
        o: &SignOpts,
        expect: impl Fn(AuthPath) -> Expect,
    ) {
        for &p in paths {
            let mut e = expect(p);
            if p == AuthPath::SigV2 && !is_pre_auth(e) {
                e = Expect::INVALID_REQUEST;
            }
            let r = self.send(req, creds, p, o);
            let scoped = self.is_scoped(creds);
            self.tally.record(class, p, name, e, &r, scoped);
        }
    }

    /// Like [`World::case_on`] on every path, with no SigV2 rule: `expect` decides SigV2 too
    /// (for requests that fail before the guard looks at the auth scheme).
    pub fn case_exact(
        &mut self,
        class: Class,
        name: &str,
        creds: &Creds,
        req: &Request,
        expect: impl Fn(AuthPath) -> Expect,
    ) {
        let o = self.opts();
        for p in AuthPath::ALL {
            let r = self.send(req, creds, p, &o);
            let scoped = self.is_scoped(creds);
            self.tally.record(class, p, name, expect(p), &r, scoped);
        }
    }

    /// Records an answer obtained some other way.
    pub fn check(
        &mut self,
        class: Class,
        path: AuthPath,
        name: &str,
        expect: Expect,
        r: &Response,
    ) {
        self.tally.record(class, path, name, expect, r, true);
    }

    fn is_scoped(&self, creds: &Creds) -> bool {
        !self.trusted.contains(&creds.secret)
            && (creds.token.is_some() || creds.access_key != self.admin.access_key)
    }

    /// Marks a credential whose scope covers the planted out-of-scope data (a whole-bucket
    /// credential), so seeing it is not a leak.
    pub fn trust(&mut self, creds: &Creds) {
        self.trusted.insert(creds.secret.clone());
    }

    // ----- fixtures, all through the admin key and asserted ------------------------------

    /// Creates a bucket through the management API.
    pub fn create_bucket(&mut self, name: &str) {
        let path = format!("/accounts/{}/r2/buckets", self.account);
        let r = self.srv.api("POST", &path, Some(&json!({"name": name})));
        assert!(
            r.status == 200 || r.status == 409,
            "create bucket {name}: {}",
            r.text()
        );
    }

    /// Puts an object with the admin key (header-signed).
    pub fn put(&mut self, bucket: &str, key: &str, body: &str) {
        let admin = self.admin.clone();
        let o = self.opts();
        let req = Request::new("PUT", obj(bucket, key)).body(body.as_bytes().to_vec());
        let r = self.send(&req, &admin, AuthPath::Signed, &o);
        assert_eq!(r.status, 200, "planting {bucket}/{key}: {}", r.text());
    }

    /// Plants an out-of-scope object: its body carries the [`HIDDEN`] marker.
    pub fn plant_hidden(&mut self, bucket: &str, key: &str) {
        self.put(bucket, key, &format!("{HIDDEN} data of {key}"));
    }

    /// Creates an R2 API token with `permission` (limited to `buckets` when non-empty) and
    /// returns it with its id.
    pub fn create_token(&mut self, permission: &str, buckets: &[&str]) -> (Token, String) {
        let body = self.token_body(permission, buckets);
        let path = format!("/accounts/{}/tokens", self.account);
        let r = self.srv.api("POST", &path, Some(&body));
        assert_eq!(r.status, 200, "create token: {}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let id = v["result"]["id"].as_str().unwrap_or_default().to_owned();
        let value = v["result"]["value"].as_str().unwrap_or_default().to_owned();
        let secret = crate::sign::sha256_hex(value.as_bytes());
        self.secrets.insert(value);
        self.secrets.insert(secret.clone());
        let creds = Creds {
            access_key: id.clone(),
            secret,
            token: None,
        };
        (Token { creds }, id)
    }

    /// The create/update body of a token with `permission` (limited to `buckets` when
    /// non-empty).
    fn token_body(&self, permission: &str, buckets: &[&str]) -> serde_json::Value {
        let group = match permission {
            "admin-read-write" => "bf7481a1826f439697cb59a20b22293e",
            "admin-read-only" => "b4992e1108244f5d8bfbd5744320c2e1",
            "object-read-write" => "2efd5506f9c8494dacb1fa10a3e7d5b6",
            _ => "6a018a9f2fc74eb6b293b0c548f38b39",
        };
        let mut resources = serde_json::Map::new();
        if buckets.is_empty() {
            resources.insert(
                format!("com.cloudflare.api.account.{}", self.account),
                json!("*"),
            );
        } else {
            for b in buckets {
                resources.insert(
                    format!("com.cloudflare.edge.r2.bucket.{}_default_{b}", self.account),
                    json!("*"),
                );
            }
        }
        json!({
            "name": format!("attack-{permission}"),
            "policies": [{"effect": "allow", "permission_groups": [{"id": group}], "resources": resources}],
        })
    }

    /// Changes a token's permission (and bucket list) through the API.
    pub fn update_token(&mut self, id: &str, permission: &str, buckets: &[&str]) {
        let body = self.token_body(permission, buckets);
        let path = format!("/accounts/{}/tokens/{id}", self.account);
        let r = self.srv.api("PUT", &path, Some(&body));
        assert_eq!(r.status, 200, "update token: {}", r.text());
    }

    /// Revokes a token through the API.
    pub fn revoke(&mut self, id: &str) {
        let path = format!("/accounts/{}/tokens/{id}", self.account);
        let r = self.srv.api("DELETE", &path, None);
        assert_eq!(r.status, 200, "revoke: {}", r.text());
    }

    /// Claims for `bucket` under `parent`, valid for an hour from now.
    pub fn claims(&self, parent: &Creds, bucket: &str, scope: &str) -> Claims {
        let t = i64::try_from(now()).unwrap_or(0);
        Claims {
            bucket: bucket.into(),
            scope: scope.into(),
            actions: None,
            prefixes: None,
            objects: None,
            sub: self.account.clone(),
            iss: parent.access_key.clone(),
            aud: self.host.clone(),
            iat: t - 5,
            exp: t + 3600,
        }
    }

    /// A temporary credential minted locally under `parent_secret`.
    pub fn mint(&mut self, claims: &Claims, parent_secret: &str) -> Creds {
        let c = mint(claims, parent_secret);
        self.remember(&c);
        c
    }

    /// Mints through the API (`POST .../temp-access-credentials`).
    pub fn mint_api(
        &mut self,
        parent: &str,
        bucket: &str,
        permission: &str,
        prefixes: &[&str],
        objects: &[&str],
        ttl: u64,
    ) -> Creds {
        let path = format!("/accounts/{}/r2/temp-access-credentials", self.account);
        let body = json!({
            "bucket": bucket, "parentAccessKeyId": parent, "permission": permission,
            "ttlSeconds": ttl, "prefixes": prefixes, "objects": objects,
        });
        let r = self.srv.api("POST", &path, Some(&body));
        assert_eq!(r.status, 200, "mint: {}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let s = |k: &str| v["result"][k].as_str().unwrap_or_default().to_owned();
        let c = Creds {
            access_key: s("accessKeyId"),
            secret: s("secretAccessKey"),
            token: Some(s("sessionToken")),
        };
        self.remember(&c);
        c
    }

    /// Starts a multipart upload with `creds` (header-signed) and returns its id.
    pub fn create_upload(&mut self, creds: &Creds, bucket: &str, key: &str) -> String {
        let o = self.opts();
        let req = Request::new("POST", obj(bucket, key)).q("uploads", "");
        let r = self.send(&req, creds, AuthPath::Signed, &o);
        assert_eq!(r.status, 200, "create upload {key}: {}", r.text());
        xml_field(&r.body, "UploadId").unwrap_or_default()
    }
}

/// Errors the guard raises before it looks at the auth scheme, so SigV2 sees them too (a case
/// whose InvalidURI comes later, from s3s, says so for SigV2 itself).
fn is_pre_auth(e: Expect) -> bool {
    matches!(
        e.code,
        Some("RequestHeaderSectionTooLarge" | "MetadataTooLarge" | "InvalidRequest" | "InvalidURI")
    )
}
