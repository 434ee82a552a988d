//! Authorization: the single path from an S3 request to core's `authorize`.
//!
//! s3s calls [`Gate::check`] for every operation once the signature has been verified (in
//! every payload mode: s3s verifies before it resolves the route), then the typed per-operation
//! hook. Both end in [`decide`], the only caller of `mayfly_core::authorize` in this crate:
//!
//! - `check`: op name → [`S3Op`] (unknown names are refused), bucket and key from the path,
//!   the `prefix` of listings, the `x-amz-copy-source` of copies;
//! - `delete_objects`: every key of the body, after s3s has parsed it.
//!
//! Multipart calls are checked on the key in the path; handlers then require the upload to
//! belong to that key, so an upload id grants nothing by itself. A bucket name is resolved in
//! the caller's own account, so a missing bucket is only ever reported to someone who could
//! have used it; anything out of scope is 403 `AccessDenied`, never 404.

use std::sync::Arc;

use mayfly_core::{AccountId, BucketName, S3Op};
use s3s::access::{S3Access, S3AccessContext};
use s3s::dto::{CopySource, DeleteObjectsInput};
use s3s::path::S3Path;
use s3s::{S3Error, S3Request, S3Result, s3_error};

use crate::context::{Identity, RequestContext};
use crate::error::Failure;

pub(crate) struct Gate;

/// What one authorization decision is about.
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
    let owner: &AccountId = identity.account();
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
    mayfly_core::authorize(&identity.principal(), &req).map_err(|d| Failure::Denied(d).into())
}

/// Converts s3s's operation name to Mayfly's operation, in this one place. Names Mayfly does
/// not serve are refused before any handler runs (501, as s3s's default would answer).
pub(crate) fn op_from_name(name: &str) -> S3Result<S3Op> {
    S3Op::parse(name).ok_or_else(|| s3_error!(NotImplemented, "This operation is not implemented."))
}

pub(crate) fn parse_bucket(name: &str) -> S3Result<BucketName> {
    BucketName::parse(name)
        .map_err(|_| s3_error!(InvalidBucketName, "The specified bucket is not valid."))
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
        }) => Err(s3_error!(
            NotImplemented,
            "versioned copy sources are not supported"
        )),
        Ok(CopySource::AccessPoint { .. } | CopySource::Outpost { .. }) => {
            Err(s3_error!(NotImplemented, "access points are not supported"))
        }
        Err(_) => Err(s3_error!(InvalidArgument, "invalid x-amz-copy-source")),
    }
}

fn identity_of(credentials: Option<&s3s::auth::Credentials>) -> S3Result<Arc<Identity>> {
    let Some(creds) = credentials else {
        return Err(S3Error::with_message(
            s3s::S3ErrorCode::AccessDenied,
            "Access Denied",
        ));
    };
    RequestContext::current()?.identity_for(&creds.access_key)
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
                return Err(s3_error!(InvalidArgument, "duplicate query parameter"));
            }
            let v = urlencoding::decode(&v.replace('+', "%20"))
                .map_err(|_| s3_error!(InvalidURI))?
                .into_owned();
            found = Some(v);
        }
    }
    Ok(found)
}

#[async_trait::async_trait]
impl S3Access for Gate {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let identity = identity_of(cx.credentials())?;
        let op = op_from_name(cx.s3_op().name())?;

        let (bucket, key) = match cx.s3_path() {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(parse_bucket(bucket)?), None),
            S3Path::Object { bucket, key } => (Some(parse_bucket(bucket)?), Some(key.to_string())),
        };
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
                .ok_or_else(|| s3_error!(InvalidArgument, "missing x-amz-copy-source"))?;
            Some(parse_copy_source(value)?)
        } else {
            None
        };

        if op == S3Op::DeleteObjects {
            // Target is each key of the body: decided in `delete_objects` below, once s3s has
            // parsed it. Nothing runs between the two but the XML parse.
            return Ok(());
        }
        decide(
            &identity,
            &Target {
                op,
                bucket: bucket.as_ref(),
                key: key.as_deref(),
                prefix: prefix.as_deref(),
                copy_source: copy_source.as_ref().map(|(b, k)| (b, k.as_str())),
            },
        )
    }

    async fn delete_objects(&self, req: &mut S3Request<DeleteObjectsInput>) -> S3Result<()> {
        let identity = identity_of(req.credentials.as_ref())?;
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
