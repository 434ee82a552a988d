//! `mayfly creds check` (a Mayfly extension): would this temporary credential allow one
//! operation on one key? Answered offline with `mayfly_core::authorize`, the decision the S3
//! endpoint makes, and explained with `mayfly_core::explain_denial`, the text the endpoint
//! sends. The parent token's current rights are not in the token: the check assumes the parent
//! still allows everything and says so.

use std::process::ExitCode;

use anyhow::{Context, bail};
use mayfly_core::{
    AccessKeyId, AccountId, BucketName, Claims, DenyReason, EXPIRED_TOKEN_MESSAGE, Permission,
    Principal, Request, S3Op, Target, TokenError, TokenRights, VerifyContext, authorize,
    explain_denial, parse_session_token,
};
use serde_json::json;

use crate::cli::CheckArgs;
use crate::commands::print_json;
use crate::creds::{audience_of, parent_secret, read_token, token_error_slug};

/// What the output says about the parent, every time.
const PARENT_ASSUMPTION: &str = "the parent token's current rights are unknown offline; assumed \
                                 to allow everything (the server may still refuse if it was \
                                 revoked or its rights reduced)";

/// The answer, before printing.
struct Answer {
    /// `None` when allowed.
    denied: Option<Denial>,
    /// Whether the signature was verified with the parent secret.
    verified: bool,
}

struct Denial {
    /// The S3 error code the endpoint answers with.
    code: &'static str,
    /// The rule, as a stable slug for scripts.
    rule: String,
    /// The message: the endpoint's `<Message>` text.
    message: String,
}

/// `mayfly creds check`.
pub fn check(args: &CheckArgs, now: u64) -> anyhow::Result<ExitCode> {
    let op = S3Op::parse(&args.operation).with_context(|| {
        format!(
            "unknown operation {:?}: expected an S3 operation name such as GetObject, \
             PutObject, DeleteObject, ListObjectsV2 (case-sensitive)",
            args.operation
        )
    })?;
    let token = read_token(args.token.as_deref())?;
    let secret = parent_secret(&args.secret)?;
    let parsed = parse_session_token(&token).map_err(|e| {
        anyhow::anyhow!(
            "cannot decode the session token: {e} (expected the AWS_SESSION_TOKEN value of an \
             R2 temporary credential)"
        )
    })?;
    let claims = parsed.dangerous_unverified_claims().clone();

    if args.bucket.is_some() && args.target.starts_with("s3://") {
        bail!("give the bucket once: either --bucket or an s3://BUCKET/KEY target");
    }
    let default_bucket = args
        .bucket
        .as_deref()
        .unwrap_or_else(|| claims.bucket().as_str());
    let (bucket, key) = split_target(&args.target, default_bucket)?;
    let copy = args
        .copy_source
        .as_deref()
        .map(|c| split_target(c, bucket.as_str()))
        .transpose()?;
    if op.reads_copy_source() && copy.is_none() {
        bail!("{op} reads a source object: give it with --copy-source");
    }
    if !op.reads_copy_source() && copy.is_some() {
        bail!("--copy-source is only for CopyObject and UploadPartCopy");
    }

    let verified = secret.is_some();
    let token_failure = match &secret {
        Some(secret) => {
            let issuer = args
                .parent_key_id
                .as_deref()
                .map(AccessKeyId::parse)
                .transpose()
                .context("invalid --parent-key-id")?
                .unwrap_or_else(|| claims.issuer().clone());
            let audience = match args.endpoint.as_deref() {
                Some(e) => audience_of(e)?,
                None => claims.audience().to_owned(),
            };
            let audiences = [audience];
            let ctx = VerifyContext {
                access_key_id: &issuer,
                now,
                audiences: &audiences,
            };
            parsed.verify(secret, &ctx).err()
        }
        // Decoding only: the lifetime is still in the token for anyone to read.
        None if now >= claims.expires_at() => Some(TokenError::Expired),
        None => None,
    };

    let denied = match token_failure {
        Some(e) => Some(token_denial(e)),
        None => decide(op, &claims, &bucket, &key, copy.as_ref()),
    };
    let answer = Answer { denied, verified };
    print(args, op, &bucket, &key, &answer)?;
    Ok(if answer.denied.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The server's decision, with the parent assumed to allow everything of its account.
fn decide(
    op: S3Op,
    claims: &Claims,
    bucket: &BucketName,
    key: &str,
    copy: Option<&(BucketName, String)>,
) -> Option<Denial> {
    // The endpoint resolves every bucket in the caller's own account: so does the check.
    let owner: &AccountId = claims.account();
    let parent = TokenRights::new(owner.clone(), Permission::AdminReadWrite, None, true);
    let mut req = Request::new(op);
    match op.target() {
        Target::Account => {}
        Target::Bucket => req = req.bucket(bucket, owner),
        Target::Key => req = req.bucket(bucket, owner).key(key),
        Target::Prefix => req = req.bucket(bucket, owner).list_prefix(key),
    }
    if let Some((b, k)) = copy {
        req = req.copy_source(b, owner, k);
    }
    // Revocation lives on the server: offline, the credential is taken as not revoked.
    let principal = Principal::Temporary {
        claims,
        parent: &parent,
        revoked: false,
    };
    authorize(&principal, &req).err().map(|d| Denial {
        code: "AccessDenied",
        rule: rule_slug(d.reason).to_owned(),
        message: explain_denial(&d, claims, &req),
    })
}

/// A token that does not verify: expiry is told as the server tells it (`ExpiredToken`); the
/// server answers the others with a bare "Access Denied", the check with the cause.
fn token_denial(e: TokenError) -> Denial {
    if e == TokenError::Expired {
        return Denial {
            code: "ExpiredToken",
            rule: "expired".to_owned(),
            message: EXPIRED_TOKEN_MESSAGE.to_owned(),
        };
    }
    Denial {
        code: "AccessDenied",
        rule: token_error_slug(e).to_owned(),
        message: format!("the session token does not verify: {e}"),
    }
}

fn rule_slug(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::Permission => "permission",
        DenyReason::Action => "actions",
        DenyReason::Bucket => "bucket",
        DenyReason::Account => "account",
        DenyReason::Path => "paths",
        DenyReason::Parent => "parent",
        DenyReason::ParentInactive => "parent_inactive",
        DenyReason::MissingTarget => "missing_target",
        DenyReason::Inactive => "inactive",
        DenyReason::NotParent => "not_parent",
        DenyReason::Lifetime => "lifetime",
        DenyReason::Revoked => "revoked",
    }
}

/// `s3://BUCKET/KEY`, or a bare key in `default_bucket`.
fn split_target(target: &str, default_bucket: &str) -> anyhow::Result<(BucketName, String)> {
    let (name, key) = match target.strip_prefix("s3://") {
        Some(rest) => rest.split_once('/').unwrap_or((rest, "")),
        None => (default_bucket, target),
    };
    let bucket =
        BucketName::parse(name).with_context(|| format!("invalid bucket name {name:?}"))?;
    Ok((bucket, key.to_owned()))
}

fn print(
    args: &CheckArgs,
    op: S3Op,
    bucket: &BucketName,
    key: &str,
    a: &Answer,
) -> anyhow::Result<()> {
    let verification = if a.verified {
        "signature and lifetime verified with the parent secret"
    } else {
        "signature not verified (no parent secret); expiry checked from the decoded token"
    };
    if args.json {
        let mut out = json!({
            "allowed": a.denied.is_none(),
            "operation": op.as_str(),
            "bucket": bucket.as_str(),
            "key": key,
            "verified": a.verified,
            "assumptions": [PARENT_ASSUMPTION],
        });
        if let Some(d) = &a.denied {
            out["code"] = json!(d.code);
            out["rule"] = json!(d.rule);
            out["message"] = json!(d.message);
        }
        print_json(&out)?;
    } else {
        match &a.denied {
            None => println!("allowed"),
            Some(d) => println!("denied: {}", d.message),
        }
        println!("checked: {op} on s3://{bucket}/{key}; {verification}");
        println!("note:    {PARENT_ASSUMPTION}");
    }
    Ok(())
}
