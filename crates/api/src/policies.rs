//! Cloudflare token policies ↔ R2 permissions: the four R2 permission groups, the account and
//! bucket resource keys, and the translation of a `policies` array into one permission and
//! bucket list. Anything a single Mayfly token cannot express exactly is refused, never widened.

use std::collections::BTreeSet;

use mayfly_core::{AccountId, BucketName, Permission};
use serde_json::Value;

use crate::body::{Fields, pointer_token};
use crate::error::{ApiError, RequestError};

/// Cloudflare resource key of a whole account.
pub(crate) const ACCOUNT_RESOURCE: &str = "com.cloudflare.api.account.";

/// Cloudflare resource key prefix of one R2 bucket (`<account>_<jurisdiction>_<bucket>`).
pub(crate) const BUCKET_RESOURCE: &str = "com.cloudflare.edge.r2.bucket.";

/// R2's permission groups (Cloudflare's ids and names) and the permission each grants.
pub(crate) const PERMISSION_GROUPS: [(&str, &str, Permission); 4] = [
    (
        "bf7481a1826f439697cb59a20b22293e",
        "Workers R2 Storage Write",
        Permission::AdminReadWrite,
    ),
    (
        "b4992e1108244f5d8bfbd5744320c2e1",
        "Workers R2 Storage Read",
        Permission::AdminReadOnly,
    ),
    (
        "2efd5506f9c8494dacb1fa10a3e7d5b6",
        "Workers R2 Storage Bucket Item Write",
        Permission::ObjectReadWrite,
    ),
    (
        "6a018a9f2fc74eb6b293b0c548f38b39",
        "Workers R2 Storage Bucket Item Read",
        Permission::ObjectReadOnly,
    ),
];

pub(crate) fn group_of(permission: Permission) -> (&'static str, &'static str) {
    match permission {
        Permission::AdminReadWrite => (PERMISSION_GROUPS[0].0, PERMISSION_GROUPS[0].1),
        Permission::AdminReadOnly => (PERMISSION_GROUPS[1].0, PERMISSION_GROUPS[1].1),
        Permission::ObjectReadWrite => (PERMISSION_GROUPS[2].0, PERMISSION_GROUPS[2].1),
        Permission::ObjectReadOnly => (PERMISSION_GROUPS[3].0, PERMISSION_GROUPS[3].1),
    }
}

/// The strongest of `perms` if it covers all the others.
fn strongest(perms: &BTreeSet<PermissionKey>) -> Option<Permission> {
    let all: Vec<Permission> = perms.iter().map(|k| k.0).collect();
    all.iter()
        .copied()
        .find(|p| all.iter().all(|o| p.covers(*o)))
}

/// `Permission` ordered for sets (by wire name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PermissionKey(Permission);

impl PartialOrd for PermissionKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PermissionKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.as_str().cmp(other.0.as_str())
    }
}

/// What one policy's `resources` name.
enum Resources {
    Account,
    Buckets(Vec<BucketName>),
}

fn parse_resources(resources: Fields, account: &AccountId) -> Result<Resources, ApiError> {
    let (prefix, entries) = resources.drain();
    if entries.is_empty() {
        return Err(RequestError::field(prefix, "must name at least one resource").into());
    }
    let mut whole_account = false;
    let mut buckets = Vec::new();
    for (key, value) in entries {
        let pointer = format!("{prefix}/{}", pointer_token(&key));
        if value != Value::String("*".into()) {
            return Err(RequestError::field(pointer, "must be \"*\"").into());
        }
        if let Some(acct) = key.strip_prefix(ACCOUNT_RESOURCE) {
            if acct != account.as_str() {
                return Err(RequestError::field(pointer, "must be this account").into());
            }
            whole_account = true;
        } else if let Some(rest) = key.strip_prefix(BUCKET_RESOURCE) {
            // <account>_<jurisdiction>_<bucket>: neither account ids nor bucket names hold '_'.
            let mut parts = rest.splitn(3, '_');
            let (acct, jurisdiction, bucket) = (parts.next(), parts.next(), parts.next());
            let bucket = match (acct, jurisdiction, bucket) {
                (Some(a), Some(j), Some(b))
                    if a == account.as_str() && mayfly_store::Jurisdiction::parse(j).is_ok() =>
                {
                    BucketName::parse(b).ok()
                }
                _ => None,
            };
            match bucket {
                Some(b) => buckets.push(b),
                None => {
                    return Err(RequestError::field(
                        pointer,
                        "must be com.cloudflare.edge.r2.bucket.<this account>_<jurisdiction>_<bucket>",
                    )
                    .into());
                }
            }
        } else {
            return Err(RequestError::field(pointer, "is not an R2 resource").into());
        }
    }
    Ok(if whole_account {
        Resources::Account
    } else {
        Resources::Buckets(buckets)
    })
}

/// Cloudflare's `policies` body → one permission and bucket list.
pub(crate) fn parse_policies(
    policies: Vec<Fields>,
    account: &AccountId,
) -> Result<(Permission, Option<Vec<BucketName>>), ApiError> {
    if policies.is_empty() {
        return Err(RequestError::field("/policies", "must hold at least one policy").into());
    }
    let mut granted: BTreeSet<PermissionKey> = BTreeSet::new();
    // Per policy: its permission and the buckets it names (None = the whole account).
    let mut scoped: Vec<(Permission, Option<Vec<BucketName>>)> = Vec::new();
    for mut policy in policies {
        let effect_ptr = policy.pointer("effect");
        match policy.required_str("effect")?.as_str() {
            "allow" => {}
            _ => return Err(RequestError::field(effect_ptr, "only `allow` is supported").into()),
        }
        let groups_ptr = policy.pointer("permission_groups");
        let groups = policy
            .optional_object_list("permission_groups")?
            .ok_or_else(|| RequestError::field(groups_ptr.clone(), "is required"))?;
        if groups.is_empty() {
            return Err(RequestError::field(groups_ptr, "must not be empty").into());
        }
        let mut here: BTreeSet<PermissionKey> = BTreeSet::new();
        for mut group in groups {
            let id = group.optional_str("id")?;
            let name = group.optional_str("name")?;
            let _meta = group.take("meta");
            let ptr = group.pointer("id");
            group.finish()?;
            let found = PERMISSION_GROUPS.iter().find(|(gid, gname, _)| {
                id.as_deref().is_some_and(|i| i == *gid)
                    || (id.is_none() && name.as_deref().is_some_and(|n| n == *gname))
            });
            match found {
                Some((_, _, p)) => {
                    here.insert(PermissionKey(*p));
                }
                None => {
                    return Err(RequestError::field(
                        ptr,
                        "is not one of R2's permission groups (Workers R2 Storage Write/Read, \
                         Workers R2 Storage Bucket Item Write/Read)",
                    )
                    .into());
                }
            }
        }
        let permission = strongest(&here).ok_or_else(|| {
            RequestError::field(
                groups_ptr.clone(),
                "these permission groups do not combine into one R2 permission",
            )
        })?;
        let resources_ptr = policy.pointer("resources");
        let resources = policy
            .optional_object("resources")?
            .ok_or_else(|| RequestError::field(resources_ptr.clone(), "is required"))?;
        let _id = policy.take("id");
        policy.finish()?;
        let buckets = match parse_resources(resources, account)? {
            Resources::Account => None,
            Resources::Buckets(_) if permission.is_admin() => {
                return Err(RequestError::field(
                    resources_ptr,
                    "account-wide permission groups need the account resource",
                )
                .into());
            }
            Resources::Buckets(list) => Some(list),
        };
        granted.extend(here);
        scoped.push((permission, buckets));
    }
    let permission = strongest(&granted).ok_or_else(|| {
        RequestError::field(
            "/policies",
            "these permission groups do not combine into one R2 permission",
        )
    })?;
    if permission.is_admin() {
        return Ok((permission, None));
    }
    // Object level: one permission for every bucket, or the token would widen some of them.
    if scoped.iter().any(|(p, _)| *p != permission) {
        return Err(RequestError::field(
            "/policies",
            "object-level policies must all grant the same permission",
        )
        .into());
    }
    if scoped.iter().any(|(_, b)| b.is_none()) {
        return Ok((permission, None));
    }
    let mut buckets: Vec<BucketName> = scoped
        .into_iter()
        .flat_map(|(_, b)| b.unwrap_or_default())
        .collect();
    buckets.sort();
    buckets.dedup();
    Ok((permission, Some(buckets)))
}
