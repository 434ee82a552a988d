//! The authorization decision: one function every S3 request passes through.
//!
//! [`authorize`] takes who is asking ([`Principal`]) and what they ask for ([`Request`]) and
//! returns `Ok(())` or a [`Denied`] with the rule that refused it. For a temporary credential
//! the effective rights are the token's permission ∩ its `actions` ∩ its bucket and paths ∩ the
//! parent token's rights *now*; the parent half is decided by the very same rules a long-lived
//! key gets, so a credential can never do more than its parent can do at the time of the
//! request, whatever was true when it was minted.
//!
//! The adapter's duties, which this crate cannot see: call it once per key for DeleteObjects,
//! pass an upload's stored key for multipart calls (an upload id is not a capability), pass the
//! copy source for CopyObject and UploadPartCopy, and for a bucket that does not exist pass the
//! caller's own account as its owner, so that "no such bucket" is only ever told to someone who
//! could have used it.

use crate::claims::Claims;
use crate::error::{Denied, DenyReason};
use crate::ids::{AccountId, BucketName};
use crate::permission::{Access, Permission, S3Op, Target};

/// The rights of an R2 API token (a long-lived key, or the parent of a temporary credential)
/// as the store holds them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRights {
    account: AccountId,
    permission: Permission,
    buckets: Option<Vec<BucketName>>,
    active: bool,
}

impl TokenRights {
    /// `buckets`: the object-level bucket restriction (`None` = every bucket of the account;
    /// ignored for admin permissions, which are account-wide). `active`: false for a revoked or
    /// expired token.
    pub fn new(
        account: AccountId,
        permission: Permission,
        buckets: Option<Vec<BucketName>>,
        active: bool,
    ) -> Self {
        Self {
            account,
            permission,
            buckets,
            active,
        }
    }

    /// The token's account.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The token's permission.
    pub fn permission(&self) -> Permission {
        self.permission
    }

    /// The object-level bucket list (`None`: every bucket of the account).
    pub fn buckets(&self) -> Option<&[BucketName]> {
        self.buckets.as_deref()
    }

    /// False for a revoked, disabled or expired token.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Whether this token may be named on a bucket at all (used at mint time too).
    pub fn covers_bucket(&self, bucket: &BucketName) -> bool {
        self.permission.is_admin()
            || self
                .buckets
                .as_ref()
                .is_none_or(|list| list.iter().any(|b| b == bucket))
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy)]
pub enum Principal<'a> {
    /// A long-lived R2 API token used directly as an S3 key.
    Token(&'a TokenRights),
    /// A verified temporary credential and its parent's current rights.
    Temporary {
        /// The verified claims.
        claims: &'a Claims,
        /// The parent token (`iss`) as stored now.
        parent: &'a TokenRights,
        /// Whether this one credential (its [`crate::CredentialId`]) is revoked now: a
        /// revoked credential is refused whatever it asks, and its siblings are not affected.
        revoked: bool,
    },
}

/// A bucket and the account that owns it.
#[derive(Debug, Clone, Copy)]
pub struct BucketRef<'a> {
    /// The bucket.
    pub name: &'a BucketName,
    /// Its owner.
    pub owner: &'a AccountId,
}

/// What is asked for. Build with [`Request::new`] and the setters.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    op: S3Op,
    bucket: Option<BucketRef<'a>>,
    key: Option<&'a str>,
    prefix: Option<&'a str>,
    copy_source: Option<(BucketRef<'a>, &'a str)>,
}

impl<'a> Request<'a> {
    /// A request for `op` with no target yet.
    pub fn new(op: S3Op) -> Self {
        Self {
            op,
            bucket: None,
            key: None,
            prefix: None,
            copy_source: None,
        }
    }

    /// The bucket addressed.
    pub fn bucket(mut self, name: &'a BucketName, owner: &'a AccountId) -> Self {
        self.bucket = Some(BucketRef { name, owner });
        self
    }

    /// The key addressed (object operations; one DeleteObjects entry).
    pub fn key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }

    /// The listing `prefix` parameter (absent counts as empty).
    pub fn list_prefix(mut self, prefix: &'a str) -> Self {
        self.prefix = Some(prefix);
        self
    }

    /// The copy source (CopyObject, UploadPartCopy).
    pub fn copy_source(mut self, name: &'a BucketName, owner: &'a AccountId, key: &'a str) -> Self {
        self.copy_source = Some((BucketRef { name, owner }, key));
        self
    }

    /// The operation.
    pub fn op(&self) -> S3Op {
        self.op
    }

    pub(crate) fn target_key(&self) -> Option<&'a str> {
        self.key
    }

    pub(crate) fn copy_source_key(&self) -> Option<&'a str> {
        self.copy_source.map(|(_, k)| k)
    }
}

pub(crate) fn deny(reason: DenyReason) -> Result<(), Denied> {
    Err(Denied { reason })
}

/// The decision. See the module docs for what the caller must supply.
pub fn authorize(principal: &Principal<'_>, req: &Request<'_>) -> Result<(), Denied> {
    if req.op.reads_copy_source() != req.copy_source.is_some() {
        return deny(DenyReason::MissingTarget);
    }
    match principal {
        Principal::Token(rights) => authorize_token(rights, req),
        Principal::Temporary {
            claims,
            parent,
            revoked,
        } => {
            if *revoked {
                return deny(DenyReason::Revoked);
            }
            if !parent.active {
                return deny(DenyReason::ParentInactive);
            }
            authorize_claims(claims, req)?;
            // The parent half: same rules as if the parent itself made the request, now.
            authorize_token(parent, req).map_err(|d| match d.reason {
                DenyReason::ParentInactive | DenyReason::MissingTarget => d,
                // Never produced by `authorize_token`; listed so a new reason must be placed.
                DenyReason::Inactive
                | DenyReason::NotParent
                | DenyReason::Lifetime
                | DenyReason::Revoked => d,
                DenyReason::Permission
                | DenyReason::Action
                | DenyReason::Bucket
                | DenyReason::Account
                | DenyReason::Path
                | DenyReason::Parent => Denied {
                    reason: DenyReason::Parent,
                },
            })
        }
    }
}

/// A long-lived token: permission, account ownership, bucket list.
fn authorize_token(rights: &TokenRights, req: &Request<'_>) -> Result<(), Denied> {
    if !rights.active {
        return deny(DenyReason::ParentInactive);
    }
    let access = req.op.access();
    if !rights.permission.allows(access) {
        return deny(DenyReason::Permission);
    }
    check_target_present(req)?;
    if let Some(b) = req.bucket {
        token_bucket(rights, b)?;
    }
    if let Some((src, _)) = req.copy_source {
        // Reading the source is object-read, which every permission has; only where it is.
        token_bucket(rights, src)?;
    }
    Ok(())
}

fn token_bucket(rights: &TokenRights, b: BucketRef<'_>) -> Result<(), Denied> {
    if b.owner != &rights.account {
        return deny(DenyReason::Account);
    }
    if !rights.covers_bucket(b.name) {
        return deny(DenyReason::Bucket);
    }
    Ok(())
}

fn check_target_present(req: &Request<'_>) -> Result<(), Denied> {
    let ok = match req.op.target() {
        Target::Account => true,
        Target::Bucket | Target::Prefix => req.bucket.is_some(),
        Target::Key => req.bucket.is_some() && req.key.is_some(),
    };
    if ok {
        Ok(())
    } else {
        deny(DenyReason::MissingTarget)
    }
}

/// A temporary credential's own claims: permission, actions, bucket binding, account, paths.
fn authorize_claims(claims: &Claims, req: &Request<'_>) -> Result<(), Denied> {
    let access = req.op.access();
    // Bound to one bucket: nothing account-wide, whatever the permission says.
    if matches!(access, Access::AccountRead | Access::AccountWrite) {
        return deny(DenyReason::Permission);
    }
    if !claims.permission().allows(access) {
        return deny(DenyReason::Permission);
    }
    if !claims.actions().is_empty() {
        let named = |op: S3Op| op.action().is_some_and(|a| claims.actions().contains(&a));
        if !named(req.op) {
            return deny(DenyReason::Action);
        }
        // A copy reads its source: with narrowing, that read must be named too.
        if req.copy_source.is_some() && !named(S3Op::GetObject) {
            return deny(DenyReason::Action);
        }
    }
    check_target_present(req)?;
    if let Some(b) = req.bucket {
        claims_bucket(claims, b)?;
    }
    if let Some((src, key)) = req.copy_source {
        claims_bucket(claims, src)?;
        claims_key(claims, key)?;
    }
    match req.op.target() {
        Target::Account => deny(DenyReason::Permission),
        Target::Bucket => match (claims.paths(), access) {
            // Existence and location reveal nothing about keys; configuration and deletion are
            // whole-bucket powers a path-scoped credential does not have.
            (None, _) | (Some(_), Access::BucketRead) => Ok(()),
            (Some(_), _) => deny(DenyReason::Path),
        },
        Target::Key => claims_key(claims, req.key.unwrap_or_default()),
        Target::Prefix => match claims.paths() {
            None => Ok(()),
            Some(p) if p.allows_list_prefix(req.prefix.unwrap_or_default()) => Ok(()),
            Some(_) => deny(DenyReason::Path),
        },
    }
}

fn claims_bucket(claims: &Claims, b: BucketRef<'_>) -> Result<(), Denied> {
    if b.name != claims.bucket() {
        return deny(DenyReason::Bucket);
    }
    if b.owner != claims.account() {
        return deny(DenyReason::Account);
    }
    Ok(())
}

fn claims_key(claims: &Claims, key: &str) -> Result<(), Denied> {
    match claims.paths() {
        None => Ok(()),
        Some(p) if p.allows_key(key) => Ok(()),
        Some(_) => deny(DenyReason::Path),
    }
}
