//! Denials that explain themselves (a Mayfly extension): the text of an S3 `AccessDenied`
//! `<Message>` for a temporary credential, in R2's terms.
//!
//! [`explain_denial`] renders a [`Denied`] from [`crate::authorize`] with what the credential's
//! holder can already read from its own session token (bucket, permission, actions, prefixes,
//! objects) and the operation asked for. It never echoes the bucket or key asked for (so two
//! out-of-scope requests get the same bytes), nor says whether any bucket or key exists, nor
//! what the parent token may do now beyond "not this": the parent's rights are not in the token.
//!
//! The server and `mayfly creds check` both call it, so an offline check answers with the very
//! text a request would get.

use crate::authorize::Request;
use crate::claims::Claims;
use crate::error::{Denied, DenyReason};
use crate::permission::{Access, S3Op, Target};

/// The `<Message>` of the S3 `ExpiredToken` error, which an expired credential gets whatever
/// it asks for.
pub const EXPIRED_TOKEN_MESSAGE: &str = "The provided token has expired.";

/// The `<Message>` of the `AccessDenied` a revoked credential gets whatever it asks for.
pub const REVOKED_MESSAGE: &str = "this credential was revoked";

/// The message for a temporary credential's denial. `claims` are the credential's (verified)
/// claims and `req` the request `authorize` refused with `denied`.
pub fn explain_denial(denied: &Denied, claims: &Claims, req: &Request<'_>) -> String {
    let op = req.op();
    match denied.reason {
        DenyReason::Permission => match op.access() {
            Access::AccountRead | Access::AccountWrite => format!(
                "a temporary credential is bound to bucket {} and does not allow {op}, an \
                 account-wide operation",
                claims.bucket()
            ),
            Access::BucketRead
            | Access::ConfigRead
            | Access::ConfigWrite
            | Access::ObjectRead
            | Access::ObjectWrite
            | Access::List => format!("{} does not allow {op}", claims.permission()),
        },
        DenyReason::Action => {
            let listed = list(claims.actions().iter().map(|a| a.as_str()));
            let op_named = op.action().is_some_and(|a| claims.actions().contains(&a));
            if op_named {
                // Only a copy gets here with its own action named: the source read is not.
                format!(
                    "the credential's actions {listed} do not include GetObject, which {op} \
                     needs to read its source"
                )
            } else {
                format!("the credential's actions {listed} do not include {op}")
            }
        }
        DenyReason::Bucket => format!("the credential is for bucket {}", claims.bucket()),
        DenyReason::Account => format!(
            "the credential is for bucket {} of account {}",
            claims.bucket(),
            claims.account()
        ),
        DenyReason::Path => explain_path(claims, req, op),
        DenyReason::Parent => format!(
            "the parent token no longer allows {op} on bucket {} (its rights were reduced after \
             this credential was minted)",
            claims.bucket()
        ),
        DenyReason::ParentInactive => {
            "the parent token has been revoked, deleted or has expired".to_owned()
        }
        DenyReason::MissingTarget => format!("the request does not name what {op} needs"),
        // Only its holder and the revoker know the id; the holder learns nothing new.
        DenyReason::Revoked => REVOKED_MESSAGE.to_owned(),
        // Management-API reasons: never the outcome of an S3 decision.
        DenyReason::Inactive | DenyReason::NotParent | DenyReason::Lifetime => {
            denied.reason.as_str().to_owned()
        }
    }
}

fn explain_path(claims: &Claims, req: &Request<'_>, op: S3Op) -> String {
    let (prefixes, objects) = match claims.paths() {
        Some(p) => (
            list(p.prefixes().iter().map(String::as_str)),
            list(p.objects().iter().map(String::as_str)),
        ),
        None => ("[]".to_owned(), "[]".to_owned()),
    };
    let scope = format!("the credential's prefixes {prefixes} and objects {objects}");
    let allowed = |k: &str| claims.paths().is_none_or(|p| p.allows_key(k));
    match op.target() {
        // The key is not echoed: the message is the same for every out-of-scope key, so two
        // denials differ in nothing but their request ids (no oracle, even byte for byte).
        Target::Key => match (req.target_key(), req.copy_source_key()) {
            (Some(k), Some(_)) if allowed(k) => format!("the copy source key is outside {scope}"),
            _ => format!("the key is outside {scope}"),
        },
        Target::Prefix => format!("the listing prefix is outside {scope}"),
        Target::Bucket | Target::Account => format!(
            "{op} acts on the whole bucket, which a credential limited to prefixes {prefixes} \
             and objects {objects} may not do"
        ),
    }
}

/// `[a, b]`: names as the token spells them, in its order.
fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = items.map(|s| format!("{s:?}")).collect();
    format!("[{}]", v.join(", "))
}
