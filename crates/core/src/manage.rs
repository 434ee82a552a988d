//! The management API's decisions: who may mint which temporary credential, who may manage
//! API tokens, who may manage buckets. Beside [`crate::authorize`], which decides S3 requests,
//! these are the only places such rules live; the API handlers call them and map the
//! [`Denied`] to their wire format, nothing more.
//!
//! One rule runs through all of them: a caller never creates or raises a token or credential
//! beyond its own rights. A temporary credential is never a caller here: the management API
//! authenticates R2 API tokens only, so its access key id and secret are not a bearer value
//! (the adapter's duty is to look callers up by the hash of the bearer value alone).
//!
//! The adapter's other duties: pass the caller's and the parent's rights as stored *now* (with
//! `active` false for a revoked, disabled or expired token), pass the account named in the
//! path, and look a bucket or token up only after the decision allowed it, so that existence is
//! only ever told to someone who could have used it.

use crate::authorize::{TokenRights, deny};
use crate::error::{Denied, DenyReason};
use crate::ids::{AccessKeyId, AccountId, BucketName};
use crate::permission::{Access, Permission};

/// An R2 API token as the management API sees it: its id, its rights now, and its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    id: AccessKeyId,
    rights: TokenRights,
    expires_at: Option<u64>,
}

impl ApiToken {
    /// `expires_at`: epoch seconds, `None` for a token that never expires. Whether the token
    /// is usable now is `rights`' `active` flag, which the caller computes with its clock.
    pub fn new(id: AccessKeyId, rights: TokenRights, expires_at: Option<u64>) -> Self {
        Self {
            id,
            rights,
            expires_at,
        }
    }

    /// The token id (= its S3 access key id).
    pub fn id(&self) -> &AccessKeyId {
        &self.id
    }

    /// The token's rights.
    pub fn rights(&self) -> &TokenRights {
        &self.rights
    }

    /// The token's expiry, epoch seconds.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }
}

/// What a token would be given by a create or an update: permission, bucket list, expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenGrant<'a> {
    /// The permission.
    pub permission: Permission,
    /// The object-level bucket list (`None`: every bucket of the account).
    pub buckets: Option<&'a [BucketName]>,
    /// The expiry, epoch seconds, after the adapter applied inheritance (an absent expiry
    /// inherits the caller's).
    pub expires_at: Option<u64>,
}

/// A token-management action of the v4 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAction<'a> {
    /// List the account's tokens.
    List,
    /// List R2's permission groups (public knowledge; any token of the account).
    ListPermissionGroups,
    /// Verify the calling token itself.
    Verify,
    /// Read one token.
    Read(&'a AccessKeyId),
    /// Revoke one token.
    Revoke(&'a AccessKeyId),
    /// Create a token with these rights.
    Create(TokenGrant<'a>),
    /// Replace a token's rights (and name or status) with these.
    Update(&'a AccessKeyId, TokenGrant<'a>),
}

/// A bucket-management action of the v4 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketAction<'a> {
    /// List the account's buckets (each entry is then filtered with [`BucketAction::Show`]).
    List,
    /// Whether one bucket may appear in the caller's listing.
    Show(&'a BucketName),
    /// Create a bucket with this name.
    Create(&'a BucketName),
    /// Read one bucket's record.
    Read(&'a BucketName),
    /// Read one bucket's configuration documents (CORS, lifecycle rules).
    ReadConfig(&'a BucketName),
    /// Edit one bucket (storage class, CORS and lifecycle rules).
    Edit(&'a BucketName),
    /// Delete one bucket.
    Delete(&'a BucketName),
}

/// What a mint asks for: the parent named, the bucket and the permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MintRequest<'a> {
    /// `parentAccessKeyId`.
    pub parent: &'a AccessKeyId,
    /// `bucket`.
    pub bucket: &'a BucketName,
    /// `permission`.
    pub permission: Permission,
}

/// The caller exists for this account and is usable: the first check of every action.
fn caller_in(caller: &ApiToken, account: &AccountId) -> Result<(), Denied> {
    if caller.rights.account() != account {
        return deny(DenyReason::Account);
    }
    if !caller.rights.is_active() {
        return deny(DenyReason::Inactive);
    }
    Ok(())
}

fn needs(caller: &ApiToken, permission: Permission) -> Result<(), Denied> {
    if caller.rights.permission() == permission {
        Ok(())
    } else {
        deny(DenyReason::Permission)
    }
}

/// A grant stays within the caller's own rights: permission, buckets and lifetime.
fn within(caller: &ApiToken, grant: &TokenGrant<'_>) -> Result<(), Denied> {
    let own = &caller.rights;
    if !own.permission().covers(grant.permission) {
        return deny(DenyReason::Permission);
    }
    if !own.permission().is_admin() {
        // An object-level caller's bucket list bounds what it hands out; an admin grant was
        // refused above, and "every bucket" is only within a caller that has no list itself.
        let covered = match grant.buckets {
            Some(list) => list.iter().all(|b| own.covers_bucket(b)),
            None => own.buckets().is_none(),
        };
        if !covered {
            return deny(DenyReason::Bucket);
        }
    }
    match (caller.expires_at, grant.expires_at) {
        (None, _) => Ok(()),
        (Some(limit), Some(asked)) if asked <= limit => Ok(()),
        (Some(_), Some(_) | None) => deny(DenyReason::Lifetime),
    }
}

/// Decides the testing API's "create a fresh account" (`POST /mayfly/accounts`, mounted only
/// on test servers): an active `admin-read-write` token of any account of the server.
pub fn authorize_test_account(caller: &ApiToken) -> Result<(), Denied> {
    if !caller.rights.is_active() {
        return deny(DenyReason::Inactive);
    }
    needs(caller, Permission::AdminReadWrite)
}

/// Decides a token-management action for `caller` on the account in the path.
///
/// Listing, creating and updating tokens needs `admin-read-write` (an update can raise a
/// permission, so even a token updating itself needs it); reading and revoking is allowed to
/// the token itself too; verifying oneself and listing permission groups to any token of the
/// account. A created or updated token never exceeds the caller: not its permission, not its
/// buckets, not its expiry.
pub fn authorize_token_admin(
    caller: &ApiToken,
    account: &AccountId,
    action: TokenAction<'_>,
) -> Result<(), Denied> {
    caller_in(caller, account)?;
    match action {
        TokenAction::Verify | TokenAction::ListPermissionGroups => Ok(()),
        TokenAction::List => needs(caller, Permission::AdminReadWrite),
        TokenAction::Read(target) | TokenAction::Revoke(target) => {
            if target == &caller.id {
                Ok(())
            } else {
                needs(caller, Permission::AdminReadWrite)
            }
        }
        TokenAction::Create(grant) | TokenAction::Update(_, grant) => {
            needs(caller, Permission::AdminReadWrite)?;
            within(caller, &grant)
        }
    }
}

/// Decides a bucket-management action for `caller` on the account in the path.
///
/// Any token of the account may list, and sees exactly the buckets [`BucketAction::Show`]
/// allows: every bucket for an admin token, its list (or every bucket, without a list) for an
/// object-level one. Reading one bucket follows the same rule; creating needs account-level
/// write, editing and deleting bucket-configuration write, both `admin-read-write`.
pub fn authorize_bucket_admin(
    caller: &ApiToken,
    account: &AccountId,
    action: BucketAction<'_>,
) -> Result<(), Denied> {
    caller_in(caller, account)?;
    let (access, bucket) = match action {
        BucketAction::List => return Ok(()),
        BucketAction::Show(b) | BucketAction::Read(b) => (Access::BucketRead, b),
        BucketAction::ReadConfig(b) => (Access::ConfigRead, b),
        BucketAction::Create(b) => (Access::AccountWrite, b),
        BucketAction::Edit(b) | BucketAction::Delete(b) => (Access::ConfigWrite, b),
    };
    if !caller.rights.permission().allows(access) {
        return deny(DenyReason::Permission);
    }
    if !caller.rights.covers_bucket(bucket) {
        return deny(DenyReason::Bucket);
    }
    Ok(())
}

/// Decides reading an account's audit trail (`GET /mayfly/accounts/{a}/audit`, a Mayfly
/// extension): an active account-wide admin token of that account, `admin-read-write` or
/// `admin-read-only`. The trail names every bucket, key, token and credential of the account,
/// which is exactly what an account-wide admin can already see; an object-level token (even
/// one without a bucket list) may not read it, since it was never given the token and
/// credential inventory. A temporary credential is never a caller here (see the module docs).
pub fn authorize_audit_read(caller: &ApiToken, account: &AccountId) -> Result<(), Denied> {
    caller_in(caller, account)?;
    if !caller.rights.permission().is_admin() {
        return deny(DenyReason::Permission);
    }
    Ok(())
}

/// Decides a mint (`POST .../r2/temp-access-credentials`).
///
/// `parent` is the token `request.parent` names as the store holds it now, if it exists (pass
/// the caller itself when it names itself). The caller must be the parent itself or hold
/// `admin-read-write`; the parent must be an active token of this account; the credential's
/// bucket and permission must lie within the parent's. Whether the bucket exists is the
/// adapter's to check afterwards. The order is fixed so that a caller who may not mint from
/// a token learns nothing about it.
pub fn authorize_mint(
    caller: &ApiToken,
    account: &AccountId,
    parent: Option<&ApiToken>,
    request: &MintRequest<'_>,
) -> Result<(), Denied> {
    caller_in(caller, account)?;
    if request.parent != &caller.id && caller.rights.permission() != Permission::AdminReadWrite {
        return deny(DenyReason::NotParent);
    }
    let parent = match parent {
        Some(p)
            if p.id == *request.parent && p.rights.account() == account && p.rights.is_active() =>
        {
            p
        }
        Some(_) | None => return deny(DenyReason::ParentInactive),
    };
    if !parent.rights.covers_bucket(request.bucket) {
        return deny(DenyReason::Bucket);
    }
    if !parent.rights.permission().covers(request.permission) {
        return deny(DenyReason::Permission);
    }
    Ok(())
}
