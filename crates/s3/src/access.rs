//! Authorization: the single path from an S3 request to core's `authorize`.
//!
//! s3s calls [`Gate::check`] for every operation once the signature has been verified (in
//! every payload mode: s3s verifies before it resolves the route), then the typed per-operation
//! hook. Both end in [`decide`] (through `authorize_for`, the only caller of
//! `mayfly_core::authorize` in this crate):
//!
//! - `check`: op name → [`S3Op`] (unknown names are refused), bucket and key from the path,
//!   the `prefix` of listings, the `x-amz-copy-source` of copies;
//! - `delete_objects`: every key of the body, after s3s has parsed it.
//!
//! The gate is also where the identity becomes trusted: `get_secret_key` only *claims* one
//! (through [`crate::context`]); once s3s has verified the signature with that identity's
//! secret and calls `check`, the gate takes the claim and wraps it in [`Verified`], a value no
//! other code can build, and moves it into the request's extensions. Handlers get it back with
//! `ops::caller`. Right before a write commits, [`Verified::still_authorized`] decides again
//! with the token as stored *then*, so a credential that expires, or a parent that is revoked
//! or changed while a body is still arriving, stores nothing.
//!
//! Multipart calls are checked on the key in the path; handlers then require the upload to
//! belong to that key, so an upload id grants nothing by itself. A bucket name is resolved in
//! the caller's own account, so a missing bucket is only ever reported to someone who could
//! have used it; anything out of scope is 403 `AccessDenied`, never 404.

use std::ops::Deref;
use std::sync::Arc;

use mayfly_core::{AccountId, BucketName, S3Op, TokenError};
use mayfly_store::BlobId;
use s3s::access::{S3Access, S3AccessContext};
use s3s::dto::{CopySource, DeleteObjectsInput};
use s3s::path::S3Path;
use s3s::{S3Request, S3Result};

use crate::context::{Identity, IdentityKind, RequestContext};
use crate::error::{self, Failure, access_denied};
use crate::state::S3State;

pub(crate) struct Gate;

/// What one authorization decision is about.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) op: S3Op,
    pub(crate) bucket: Option<&'a BucketName>,
    pub(crate) key: Option<&'a str>,
    pub(crate) prefix: Option<&'a str>,
    pub(crate) copy_source: Option<(&'a BucketName, &'a str)>,
}

/// THE authorization call. Every bucket is owned, for the decision, by the caller's account:
/// the endpoint resolves bucket names within that account only.
pub(crate) fn decide(identity: &Identity, t: &Target<'_>) -> S3Result<()> {
    authorize_for(&identity.principal(), identity.account(), t)
}

/// The only caller of `mayfly_core::authorize` in this crate: [`decide`] at the gate, and the
/// commit-time re-check with the token's rights as stored then.
fn authorize_for(
    principal: &mayfly_core::Principal<'_>,
    owner: &AccountId,
    t: &Target<'_>,
) -> S3Result<()> {
    let mut req = mayfly_core::Request::new(t.op);
    if let Some(b) = t.bucket {
        req = req.bucket(b, owner);
    }
    if let Some(k) = t.key {
        req = req.key(k);
    }
    if let Some(p) = t.prefix {
        req = req.list_prefix(p);
    }
    if let Some((b, k)) = t.copy_source {
        req = req.copy_source(b, owner, k);
    }
    mayfly_core::authorize(principal, &req).map_err(|d| match principal {
        // A temporary credential's holder learns the rule, in terms its own token already
        // shows (a Mayfly extension; see `mayfly_core::explain_denial`).
        mayfly_core::Principal::Temporary { claims, .. } => {
            let message = mayfly_core::explain_denial(&d, claims, &req);
            error::denied_explained(&d, message)
        }
        // A long-lived key's rights live in the store, not in anything its holder carries:
        // its denials stay R2's generic "Access Denied".
        mayfly_core::Principal::Token(_) => Failure::Denied(d).into(),
    })
}

/// Converts s3s's operation name to Mayfly's operation, in this one place. Names Mayfly does
/// not serve are refused before any handler runs (501, as s3s's default would answer).
pub(crate) fn op_from_name(name: &str) -> S3Result<S3Op> {
    S3Op::parse(name).ok_or_else(|| {
        crate::logs::note_reason("operation not served by Mayfly");
        crate::error::not_implemented()
    })
}

pub(crate) fn parse_bucket(name: &str) -> S3Result<BucketName> {
    BucketName::parse(name).map_err(|_| error::invalid_bucket_name())
}

/// Parses `x-amz-copy-source` exactly as s3s does for the operation input.
pub(crate) fn parse_copy_source(value: &str) -> S3Result<(BucketName, String)> {
    match CopySource::parse(value) {
        Ok(CopySource::Bucket {
            bucket,
            key,
            version_id: None,
        }) => Ok((parse_bucket(&bucket)?, key.into())),
        Ok(CopySource::Bucket {
            version_id: Some(_),
            ..
        }) => Err(error::unsupported(
            "versioned copy sources are not supported",
        )),
        Ok(CopySource::AccessPoint { .. } | CopySource::Outpost { .. }) => {
            Err(error::unsupported("access points are not supported"))
        }
        Err(_) => Err(error::invalid_argument("invalid x-amz-copy-source")),
    }
}

pub(crate) fn query_param(uri: &http::Uri, name: &str) -> S3Result<Option<String>> {
    let Some(q) = uri.query() else {
        return Ok(None);
    };
    let mut found = None;
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == name {
            if found.is_some() {
                return Err(error::invalid_argument("duplicate query parameter"));
            }
            let v = urlencoding::decode(&v.replace('+', "%20"))
                .map_err(|_| error::invalid_uri())?
                .into_owned();
            found = Some(v);
        }
    }
    Ok(found)
}

#[async_trait::async_trait]
impl S3Access for Gate {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        crate::logs::note_op(cx.s3_op().name());
        let identity = confirm(cx.credentials())?;
        let op = op_from_name(cx.s3_op().name())?;

        let (bucket, key) = match cx.s3_path() {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(parse_bucket(bucket)?), None),
            S3Path::Object { bucket, key } => (Some(parse_bucket(bucket)?), Some(key.to_string())),
        };
        let audited = matches!(identity.kind, IdentityKind::Temporary { .. });
        crate::logs::note_target(
            audited.then(|| identity.account()),
            bucket.as_ref(),
            key.as_deref(),
        );
        let prefix = match op.target() {
            mayfly_core::Target::Prefix => {
                Some(query_param(cx.uri(), "prefix")?.unwrap_or_default())
            }
            mayfly_core::Target::Account
            | mayfly_core::Target::Bucket
            | mayfly_core::Target::Key => None,
        };
        let copy_source = if op.reads_copy_source() {
            let value = cx
                .headers()
                .get("x-amz-copy-source")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| error::invalid_argument("missing x-amz-copy-source"))?;
            Some(parse_copy_source(value)?)
        } else {
            None
        };

        let decided = if op == S3Op::DeleteObjects {
            // Target is each key of the body: decided in `delete_objects` below, once s3s has
            // parsed it. Nothing runs between the two but the XML parse.
            None
        } else {
            decide(
                &identity,
                &Target {
                    op,
                    bucket: bucket.as_ref(),
                    key: key.as_deref(),
                    prefix: prefix.as_deref(),
                    copy_source: copy_source.as_ref().map(|(b, k)| (b, k.as_str())),
                },
            )?;
            Some(Decided {
                op,
                bucket,
                key,
                prefix,
                copy_source,
            })
        };
        cx.extensions_mut()
            .insert(Verified(Arc::new(Inner { identity, decided })));
        Ok(())
    }

    async fn delete_objects(&self, req: &mut S3Request<DeleteObjectsInput>) -> S3Result<()> {
        let identity = Verified::of(&req.extensions)?;
        let bucket = parse_bucket(&req.input.bucket)?;
        let objects = &req.input.delete.objects;
        if objects.is_empty() {
            // No key, no target: core refuses (MalformedXML would leak nothing more).
            return decide(
                &identity,
                &Target {
                    op: S3Op::DeleteObjects,
                    bucket: Some(&bucket),
                    key: None,
                    prefix: None,
                    copy_source: None,
                },
            );
        }
        for obj in objects {
            decide(
                &identity,
                &Target {
                    op: S3Op::DeleteObjects,
                    bucket: Some(&bucket),
                    key: Some(&obj.key),
                    prefix: None,
                    copy_source: None,
                },
            )?;
        }
        Ok(())
    }
}

/// Takes the identity `get_secret_key` claimed and confirms it names the key s3s verified the
/// signature for. Only the gate calls this, after s3s's signature check.
fn confirm(credentials: Option<&s3s::auth::Credentials>) -> S3Result<Identity> {
    let Some(creds) = credentials else {
        crate::logs::note_reason("anonymous request");
        return Err(access_denied());
    };
    let claimed = RequestContext::current()?.take().ok_or_else(|| {
        crate::logs::note_reason("no single identity resolved for the signature");
        access_denied()
    })?;
    if claimed.access_key.as_str() != creds.access_key {
        crate::logs::note_reason("verified key differs from the resolved identity");
        return Err(access_denied());
    }
    Ok(claimed)
}

/// What the gate authorized, kept for the commit-time re-check.
struct Decided {
    op: S3Op,
    bucket: Option<BucketName>,
    key: Option<String>,
    prefix: Option<String>,
    copy_source: Option<(BucketName, String)>,
}

impl Decided {
    fn target(&self) -> Target<'_> {
        Target {
            op: self.op,
            bucket: self.bucket.as_ref(),
            key: self.key.as_deref(),
            prefix: self.prefix.as_deref(),
            copy_source: self.copy_source.as_ref().map(|(b, k)| (b, k.as_str())),
        }
    }
}

struct Inner {
    identity: Identity,
    decided: Option<Decided>,
}

/// The identity of a request whose signature s3s verified, and what the gate authorized for
/// it. Only [`Gate::check`] builds one (the field is private to this module); handlers read it
/// from the request's extensions through `ops::caller`. Derefs to the [`Identity`].
#[derive(Clone)]
pub(crate) struct Verified(Arc<Inner>);

impl Deref for Verified {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        &self.0.identity
    }
}

impl Verified {
    /// The verified identity the gate put into a request's extensions.
    pub(crate) fn of(extensions: &http::Extensions) -> S3Result<Verified> {
        extensions
            .get::<Verified>()
            .cloned()
            .ok_or_else(access_denied)
    }

    /// Decides the request again right before its write commits, with the token (or the
    /// temporary credential's parent) as stored *now*: the credential has not expired, the
    /// token is still active and its rights are unchanged since the request was authorized,
    /// and core's `authorize` still allows the same target. On refusal `written` (the blob
    /// holding the body so far) is deleted, so nothing of the request stays behind; if that
    /// delete fails the orphan collector removes it, since no record points at it.
    ///
    /// Errors: `ExpiredToken` past the credential's `exp`; `AccessDenied` for a revoked,
    /// deleted or changed token, or a temporary credential revoked meanwhile (explained:
    /// "this credential was revoked").
    pub(crate) async fn still_authorized(
        &self,
        state: &S3State,
        written: Option<&BlobId>,
    ) -> S3Result<()> {
        let verdict = self.recheck(state).await;
        if verdict.is_err()
            && let Some(blob) = written
            && let Err(e) = state.blobs.delete(blob).await
        {
            tracing::warn!(error = %e, "refused upload's blob not deleted; the orphan collector will");
        }
        verdict
    }

    async fn recheck(&self, state: &S3State) -> S3Result<()> {
        let identity = &self.0.identity;
        let Some(decided) = &self.0.decided else {
            return Err(crate::error::internal(
                &"commit re-check without a decision",
            ));
        };
        let now = state.clock.now();
        if let IdentityKind::Temporary { claims, .. } = &identity.kind
            && now >= claims.expires_at()
        {
            crate::logs::note_reason("temporary credential expired before the write committed");
            return Err(Failure::Token(TokenError::Expired).into());
        }
        // The token itself, or the temporary credential's parent (`iss` is the access key).
        let record = match crate::auth::lookup(state.meta.as_ref(), &identity.access_key).await {
            Ok(r) => r,
            Err(e) if e.code() == &s3s::S3ErrorCode::InternalError => return Err(e),
            Err(_) => {
                crate::logs::note_reason("token deleted before the write committed");
                return Err(access_denied());
            }
        };
        let fresh = crate::auth::rights_of(&record, now);
        if &fresh != identity.token_rights() {
            crate::logs::note_reason(if is_inactive(&record, now) {
                "token revoked or expired before the write committed"
            } else {
                "token rights changed before the write committed"
            });
            return Err(access_denied());
        }
        let principal = match &identity.kind {
            IdentityKind::Token(_) => mayfly_core::Principal::Token(&fresh),
            IdentityKind::Temporary { claims, id, .. } => {
                let revoked = crate::auth::is_revoked(state.meta.as_ref(), claims, id).await?;
                if revoked {
                    crate::logs::note_reason("credential revoked before the write committed");
                }
                mayfly_core::Principal::Temporary {
                    claims,
                    parent: &fresh,
                    revoked,
                }
            }
        };
        let target = decided.target();
        let owner = identity.account();
        authorize_for(&principal, owner, &target)
    }
}

fn is_inactive(record: &mayfly_store::TokenRecord, now: u64) -> bool {
    record.status != mayfly_store::TokenStatus::Active
        || record.expires_at.is_some_and(|e| now >= e)
}
