//! # mayfly-core
//!
//! The Cloudflare R2 temporary-credential model, as a pure library: identifiers and secrets,
//! the four permissions, path scopes, minting session tokens byte-for-byte in Cloudflare's
//! documented local-signing format, verifying them, the one authorization decision every
//! S3 request goes through, and the decisions of the management API (mint, token and bucket
//! management) beside it.
//!
//! What it is not: no I/O, no async, no HTTP or S3 protocol types, no clock. Callers pass
//! `now`, look up parent secrets themselves, and map errors to their wire format.
//!
//! ```
//! use mayfly_core::*;
//!
//! // The parent: an R2 API token. Its S3 secret is sha256(token value).
//! let parent_secret = SecretAccessKey::from_token_value("example-parent-api-token-value-0000000000");
//! let parent_id = AccessKeyId::parse("0123456789abcdef0123456789abcdef")?;
//! let account = AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353")?;
//!
//! // Mint, exactly as Cloudflare's helper would (works against real R2 with a real parent).
//! let claims = Claims::builder(
//!     BucketName::parse("my-bucket")?,
//!     Permission::ObjectReadOnly,
//!     account.clone(),
//!     parent_id.clone(),
//!     "023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com",
//! )
//! .prefixes(vec!["data/".into()])
//! .issued_at(1_750_000_000)
//! .ttl_secs(900)
//! .build()?;
//! let creds = mint(&claims, &parent_secret);
//!
//! // Verify, as a server does: parse, look up the parent by `iss`, verify.
//! let unverified = parse_session_token(&creds.session_token)?;
//! assert_eq!(unverified.issuer(), &parent_id);
//! let audiences = ["023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com".to_string()];
//! let ctx = VerifyContext { access_key_id: &parent_id, now: 1_750_000_100, audiences: &audiences };
//! let verified = unverified.verify(&parent_secret, &ctx)?;
//! assert!(verified.secret_access_key().ct_eq(&creds.secret_access_key));
//!
//! // Authorize against the parent's rights now.
//! let parent = TokenRights::new(account.clone(), Permission::ObjectReadWrite, None, true);
//! let principal = Principal::Temporary { claims: verified.claims(), parent: &parent, revoked: false };
//! let bucket = BucketName::parse("my-bucket")?;
//! let get = Request::new(S3Op::GetObject).bucket(&bucket, &account).key("data/report.csv");
//! assert!(authorize(&principal, &get).is_ok());
//! let put = Request::new(S3Op::PutObject).bucket(&bucket, &account).key("data/report.csv");
//! assert_eq!(authorize(&principal, &put).unwrap_err().reason, DenyReason::Permission);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod authorize;
mod claims;
mod credential_id;
mod error;
mod explain;
mod hex;
mod ids;
mod manage;
mod permission;
mod scope;
mod token;

pub use authorize::{BucketRef, Principal, Request, TokenRights, authorize};
pub use claims::{Claims, ClaimsBuilder, MAX_ISSUED_SESSION_TOKEN_LEN, MAX_TTL_SECS};
pub use credential_id::{CREDENTIAL_ID_LEN, CredentialId};
pub use error::{Denied, DenyReason, InvalidInput, TokenError};
pub use explain::{EXPIRED_TOKEN_MESSAGE, REVOKED_MESSAGE, explain_denial};
pub use ids::{AccessKeyId, AccountId, BucketName, SecretAccessKey, SessionToken};
pub use manage::{
    ApiToken, BucketAction, MintRequest, RevokeAction, TokenAction, TokenGrant,
    authorize_audit_read, authorize_bucket_admin, authorize_mint, authorize_revoke,
    authorize_test_account, authorize_token_admin,
};
pub use permission::{Access, Permission, S3Action, S3Op, Target};
pub use scope::{MAX_KEY_LEN, MAX_PATHS, PathScope};
pub use token::{
    IAT_LEEWAY_SECS, MAX_SESSION_TOKEN_LEN, TemporaryCredentials, UnverifiedToken, VerifiedToken,
    VerifyContext, mint, parse_session_token,
};

/// Lowercase hex SHA-256: R2's derivation of an S3 secret from a token value or a JWT, exposed
/// for adapters that store `sha256(value)` without holding a [`SecretAccessKey`].
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::sha256_hex(bytes)
}

#[doc(hidden)]
pub mod testing {
    //! Test tables shared by core's tests and the adapters' replays over HTTP, so every layer
    //! checks the same intent.

    use super::S3Op;

    /// SPEC §2's test-vector credential, minted exactly as the spec describes: for tests that
    /// need a session token a real server would answer (anything that decodes tokens, such as
    /// a client deriving the credential id, refuses a stand-in).
    pub fn spec_vector_credentials() -> super::TemporaryCredentials {
        use super::*;
        let parse = "the spec vector's fields are valid";
        let secret = SecretAccessKey::from_token_value("example-parent-api-token-value-0000000000");
        let claims = Claims::builder(
            BucketName::parse("my-bucket").expect(parse),
            Permission::ObjectReadOnly,
            AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect(parse),
            AccessKeyId::parse("0123456789abcdef0123456789abcdef").expect(parse),
            "023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com",
        )
        .actions(vec![S3Action::GetObject, S3Action::HeadObject])
        .prefixes(vec!["data/".into()])
        .issued_at(1_750_000_000)
        .ttl_secs(900)
        .build()
        .expect(parse);
        mint(&claims, &secret)
    }

    /// The permission matrix, written by hand (not derived from the code under test):
    /// (operation, allowed for [object-read-only, object-read-write, admin-read-only,
    /// admin-read-write]) for a whole-bucket temporary credential whose parent is
    /// `admin-read-write`. Long-lived tokens differ only on ListBuckets (admins) and
    /// CreateBucket (admin-read-write); a path-scoped credential additionally loses bucket
    /// configuration and deletion, and every key or listing outside its paths.
    pub const TEMPORARY_MATRIX: &[(S3Op, [bool; 4])] = {
        const R: [bool; 4] = [true, true, true, true];
        const W: [bool; 4] = [false, true, false, true];
        const CR: [bool; 4] = [false, false, true, true];
        const CW: [bool; 4] = [false, false, false, true];
        const NO: [bool; 4] = [false, false, false, false];
        use S3Op::*;
        &[
            (ListBuckets, NO),
            (CreateBucket, NO),
            (HeadBucket, R),
            (GetBucketLocation, R),
            (DeleteBucket, CW),
            (GetBucketCors, CR),
            (PutBucketCors, CW),
            (DeleteBucketCors, CW),
            (GetBucketLifecycleConfiguration, CR),
            (PutBucketLifecycleConfiguration, CW),
            (GetBucketEncryption, CR),
            (HeadObject, R),
            (GetObject, R),
            (ListParts, R),
            (PutObject, W),
            (DeleteObject, W),
            (DeleteObjects, W),
            (CopyObject, W),
            (CreateMultipartUpload, W),
            (UploadPart, W),
            (UploadPartCopy, W),
            (CompleteMultipartUpload, W),
            (AbortMultipartUpload, W),
            (ListMultipartUploads, R),
            (ListObjects, R),
            (ListObjectsV2, R),
        ]
    };
}

#[doc(hidden)]
pub mod management_testing {
    //! The management API's permission matrix, written by hand (not derived from the code under
    //! test), shared by core's table tests and the API's replay over HTTP.

    use super::Permission;

    /// The callers, in column order: (permission, limited to the one bucket `photos`).
    pub const CALLERS: [(Permission, bool); 6] = [
        (Permission::AdminReadWrite, false),
        (Permission::AdminReadOnly, false),
        (Permission::ObjectReadWrite, false),
        (Permission::ObjectReadOnly, false),
        (Permission::ObjectReadWrite, true),
        (Permission::ObjectReadOnly, true),
    ];

    /// The bucket limited callers are limited to.
    pub const OWN_BUCKET: &str = "photos";
    /// Another bucket of the same account.
    pub const OTHER_BUCKET: &str = "archive";

    /// One management action, as a caller would attempt it. `own` = on [`OWN_BUCKET`] (else
    /// [`OTHER_BUCKET`]); `Self`/`Other` = on the caller's own token or another token of the
    /// account (an `object-read-only` one).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Case {
        /// `GET /tokens`.
        ListTokens,
        /// `GET /tokens/permission_groups`.
        PermissionGroups,
        /// `GET /tokens/verify`.
        VerifySelf,
        /// `GET /tokens/{self}`.
        ReadSelf,
        /// `GET /tokens/{other}`.
        ReadOther,
        /// `DELETE /tokens/{self}`.
        RevokeSelf,
        /// `DELETE /tokens/{other}`.
        RevokeOther,
        /// `POST /tokens` with this permission (every bucket).
        CreateToken(Permission),
        /// `PUT /tokens/{self}` to this permission.
        UpdateSelf(Permission),
        /// `PUT /tokens/{other}` to this permission.
        UpdateOther(Permission),
        /// `GET /r2/buckets`: whether the bucket appears.
        ShowBucket {
            /// On the own bucket.
            own: bool,
        },
        /// `GET /r2/buckets/{b}`.
        ReadBucket {
            /// On the own bucket.
            own: bool,
        },
        /// `POST /r2/buckets` (a new name).
        CreateBucket,
        /// `PATCH /r2/buckets/{b}` (to its current storage class).
        EditBucket {
            /// On the own bucket.
            own: bool,
        },
        /// `GET /r2/buckets/{b}/lifecycle`: a bucket configuration read.
        ReadConfig {
            /// On the own bucket.
            own: bool,
        },
        /// `PUT /r2/buckets/{b}/cors`: a bucket configuration write.
        EditConfig {
            /// On the own bucket.
            own: bool,
        },
        /// `DELETE /r2/buckets/{b}` (empty).
        DeleteBucket {
            /// On the own bucket.
            own: bool,
        },
        /// `POST /r2/temp-access-credentials` with the caller as parent.
        MintSelf {
            /// The requested permission.
            permission: Permission,
            /// On the own bucket.
            own: bool,
        },
        /// `POST /r2/temp-access-credentials` naming another (admin-read-write) token as parent.
        MintFromOther,
        /// `POST /mayfly/.../temp-access-credentials/revocations` with the session token of a
        /// credential minted from the caller itself (own bucket).
        RevokeOwnCredential,
        /// The same with a credential minted from another (admin-read-write) token.
        RevokeOthersCredential,
        /// The same by credential id alone.
        RevokeCredentialById,
        /// `GET /mayfly/.../temp-access-credentials/revocations`.
        ListRevocations,
        /// `GET /mayfly/accounts/{a}/audit`: the account's audit trail (a Mayfly extension).
        ReadAudit,
    }

    /// (action, allowed for each of [`CALLERS`]).
    pub const MATRIX: &[(Case, [bool; 6])] = {
        use Case::*;
        use Permission::*;
        const ALL: [bool; 6] = [true; 6];
        const ADMIN_RW: [bool; 6] = [true, false, false, false, false, false];
        const ADMINS: [bool; 6] = [true, true, false, false, false, false];
        const UNLIMITED: [bool; 6] = [true, true, true, true, false, false];
        &[
            (ListTokens, ADMIN_RW),
            (PermissionGroups, ALL),
            (VerifySelf, ALL),
            (ReadSelf, ALL),
            (ReadOther, ADMIN_RW),
            (RevokeSelf, ALL),
            (RevokeOther, ADMIN_RW),
            (CreateToken(ObjectReadOnly), ADMIN_RW),
            (CreateToken(AdminReadWrite), ADMIN_RW),
            (UpdateSelf(AdminReadWrite), ADMIN_RW),
            (UpdateSelf(ObjectReadOnly), ADMIN_RW),
            (UpdateOther(AdminReadWrite), ADMIN_RW),
            (ShowBucket { own: true }, ALL),
            (ShowBucket { own: false }, UNLIMITED),
            (ReadBucket { own: true }, ALL),
            (ReadBucket { own: false }, UNLIMITED),
            (CreateBucket, ADMIN_RW),
            (EditBucket { own: true }, ADMIN_RW),
            (EditBucket { own: false }, ADMIN_RW),
            (ReadConfig { own: true }, ADMINS),
            (ReadConfig { own: false }, ADMINS),
            (EditConfig { own: true }, ADMIN_RW),
            (EditConfig { own: false }, ADMIN_RW),
            (DeleteBucket { own: true }, ADMIN_RW),
            (DeleteBucket { own: false }, ADMIN_RW),
            (
                MintSelf {
                    permission: ObjectReadOnly,
                    own: true,
                },
                ALL,
            ),
            (
                MintSelf {
                    permission: ObjectReadOnly,
                    own: false,
                },
                UNLIMITED,
            ),
            (
                MintSelf {
                    permission: ObjectReadWrite,
                    own: true,
                },
                [true, false, true, false, true, false],
            ),
            (
                MintSelf {
                    permission: ObjectReadWrite,
                    own: false,
                },
                [true, false, true, false, false, false],
            ),
            (
                MintSelf {
                    permission: AdminReadOnly,
                    own: true,
                },
                [true, true, false, false, false, false],
            ),
            (
                MintSelf {
                    permission: AdminReadWrite,
                    own: true,
                },
                ADMIN_RW,
            ),
            (
                MintSelf {
                    permission: AdminReadWrite,
                    own: false,
                },
                ADMIN_RW,
            ),
            (MintFromOther, ADMIN_RW),
            (RevokeOwnCredential, ALL),
            (RevokeOthersCredential, ADMIN_RW),
            (RevokeCredentialById, ADMIN_RW),
            (ListRevocations, ADMIN_RW),
            (ReadAudit, ADMINS),
        ]
    };
}

#[doc(hidden)]
pub mod fuzzing {
    //! Entry points for `fuzz/`: each asserts a property and panics when it fails.

    use super::*;

    /// Parsing arbitrary text never panics; anything that parses and verifies under the fuzz
    /// secret must have been signed with it, which random input cannot be.
    pub fn parse_token(data: &[u8]) {
        let Ok(text) = core::str::from_utf8(data) else {
            return;
        };
        let token = SessionToken::from_untrusted(text);
        if let Ok(t) = parse_session_token(&token) {
            let secret = SecretAccessKey::from_token_value("fuzz");
            let issuer = t.issuer().clone();
            let aud = [t.dangerous_unverified_claims().audience().to_owned()];
            let ctx = VerifyContext {
                access_key_id: &issuer,
                now: t.dangerous_unverified_claims().issued_at(),
                audiences: &aud,
            };
            assert!(t.verify(&secret, &ctx).is_err(), "random token verified");
        }
    }

    /// Flipping any bit of a minted token's text breaks verification.
    pub fn mutate_minted(data: &[u8]) {
        let Some((&pos, rest)) = data.split_first() else {
            return;
        };
        let prefixes: Vec<String> = rest
            .split(|b| *b == 0)
            .filter_map(|p| core::str::from_utf8(p).ok())
            .filter(|p| !p.is_empty() && p.len() <= MAX_KEY_LEN)
            .take(8)
            .map(str::to_owned)
            .collect();
        // Scopes too large to issue are refused by the builder; nothing to mutate then.
        let Some((secret, claims)) = tests_support::try_sample(prefixes) else {
            return;
        };
        let creds = mint(&claims, &secret);
        let mut bytes = creds.session_token.expose_secret().as_bytes().to_vec();
        let i = usize::from(pos) * 7 % bytes.len();
        bytes[i] ^= 1 << (pos % 7);
        let Ok(text) = String::from_utf8(bytes) else {
            return;
        };
        let token = SessionToken::from_untrusted(&text);
        if let Ok(t) = parse_session_token(&token) {
            let aud = [claims.audience().to_owned()];
            let ctx = VerifyContext {
                access_key_id: claims.issuer(),
                now: claims.issued_at(),
                audiences: &aud,
            };
            assert!(t.verify(&secret, &ctx).is_err(), "mutated token verified");
        }
    }

    /// Fixtures shared by fuzz targets and benches.
    pub mod tests_support {
        use super::super::*;

        /// The SPEC §2 parent secret and a claim set with the given prefixes.
        pub fn sample(prefixes: Vec<String>) -> (SecretAccessKey, Claims) {
            try_sample(prefixes).expect("valid claims")
        }

        /// [`sample`], or `None` when the builder refuses the prefixes (too many bytes).
        pub fn try_sample(prefixes: Vec<String>) -> Option<(SecretAccessKey, Claims)> {
            let secret =
                SecretAccessKey::from_token_value("example-parent-api-token-value-0000000000");
            let claims = Claims::builder(
                BucketName::parse("my-bucket").expect("valid"),
                Permission::ObjectReadWrite,
                AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").expect("valid"),
                AccessKeyId::parse("0123456789abcdef0123456789abcdef").expect("valid"),
                "127.0.0.1:8788",
            )
            .prefixes(prefixes)
            .issued_at(1_750_000_000)
            .ttl_secs(3600)
            .build()
            .ok()?;
            Some((secret, claims))
        }
    }
}
