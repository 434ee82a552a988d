//! `explain_denial`: one row per reason an S3 decision for a temporary credential can end in.
//! Each row is decided by `authorize` itself (so the reason is real), then rendered; the
//! expected text is written out by hand.

use crate::matrix::{account, bucket};
use crate::vector::PARENT_ID;
use mayfly_core::*;

fn claims(perm: Permission, prefixes: &[&str], objects: &[&str], actions: &[S3Action]) -> Claims {
    Claims::builder(
        bucket(),
        perm,
        account(),
        AccessKeyId::parse(PARENT_ID).unwrap(),
        "127.0.0.1:8788",
    )
    .prefixes(prefixes.iter().map(|s| s.to_string()).collect())
    .objects(objects.iter().map(|s| s.to_string()).collect())
    .actions(actions.to_vec())
    .issued_at(1)
    .ttl_secs(60)
    .build()
    .unwrap()
}

/// What one row asks: the credential, the parent now, the request.
struct Row {
    claims: Claims,
    parent: TokenRights,
    op: S3Op,
    bucket: Option<(&'static str, &'static str)>,
    key: Option<&'static str>,
    prefix: Option<&'static str>,
    copy: Option<&'static str>,
    reason: DenyReason,
    message: &'static str,
}

const OTHER_ACCOUNT: &str = "ffffffffffffffffffffffffffffffff";

fn full_parent() -> TokenRights {
    TokenRights::new(account(), Permission::AdminReadWrite, None, true)
}

fn row(claims: Claims, op: S3Op) -> Row {
    Row {
        claims,
        parent: full_parent(),
        op,
        bucket: Some(("photos", vector_account())),
        key: None,
        prefix: None,
        copy: None,
        reason: DenyReason::MissingTarget,
        message: "",
    }
}

fn vector_account() -> &'static str {
    crate::vector::ACCOUNT
}

impl Row {
    fn key(mut self, k: &'static str) -> Self {
        self.key = Some(k);
        self
    }
    fn prefix(mut self, p: &'static str) -> Self {
        self.prefix = Some(p);
        self
    }
    fn copy(mut self, k: &'static str) -> Self {
        self.copy = Some(k);
        self
    }
    fn in_bucket(mut self, b: &'static str, a: &'static str) -> Self {
        self.bucket = Some((b, a));
        self
    }
    fn no_bucket(mut self) -> Self {
        self.bucket = None;
        self
    }
    fn parent(mut self, p: TokenRights) -> Self {
        self.parent = p;
        self
    }
    fn expect(mut self, reason: DenyReason, message: &'static str) -> Self {
        self.reason = reason;
        self.message = message;
        self
    }
}

fn rows() -> Vec<Row> {
    use DenyReason as R;
    use Permission as P;
    let ro = || claims(P::ObjectReadOnly, &[], &[], &[]);
    let rw = || claims(P::ObjectReadWrite, &[], &[], &[]);
    let scoped = || {
        claims(
            P::ObjectReadWrite,
            &["photos/uploads/", "tmp/"],
            &["index.html"],
            &[],
        )
    };
    let narrowed = || {
        claims(
            P::ObjectReadWrite,
            &[],
            &[],
            &[S3Action::PutObject, S3Action::CopyObject],
        )
    };
    vec![
        row(ro(), S3Op::PutObject)
            .key("a.png")
            .expect(R::Permission, "object-read-only does not allow PutObject"),
        row(rw(), S3Op::PutBucketCors).expect(
            R::Permission,
            "object-read-write does not allow PutBucketCors",
        ),
        row(claims(P::AdminReadWrite, &[], &[], &[]), S3Op::ListBuckets)
            .no_bucket()
            .expect(
                R::Permission,
                "a temporary credential is bound to bucket photos and does not allow \
                 ListBuckets, an account-wide operation",
            ),
        row(narrowed(), S3Op::DeleteObject).key("a.png").expect(
            R::Action,
            "the credential's actions [\"PutObject\", \"CopyObject\"] do not include DeleteObject",
        ),
        row(narrowed(), S3Op::CopyObject)
            .key("a.png")
            .copy("b.png")
            .expect(
                R::Action,
                "the credential's actions [\"PutObject\", \"CopyObject\"] do not include \
                 GetObject, which CopyObject needs to read its source",
            ),
        row(rw(), S3Op::GetObject)
            .in_bucket("secret-bucket", vector_account())
            .key("a.png")
            .expect(R::Bucket, "the credential is for bucket photos"),
        row(rw(), S3Op::GetObject)
            .in_bucket("photos", OTHER_ACCOUNT)
            .key("a.png")
            .expect(
                R::Account,
                "the credential is for bucket photos of account 023e105f4ecef8ad9ca31a8372d0c353",
            ),
        row(scoped(), S3Op::PutObject).key("docs/a.pdf").expect(
            R::Path,
            "the key is outside the credential's prefixes [\"photos/uploads/\", \
             \"tmp/\"] and objects [\"index.html\"]",
        ),
        row(scoped(), S3Op::CopyObject)
            .key("tmp/a.png")
            .copy("docs/b.png")
            .expect(
                R::Path,
                "the copy source key is outside the credential's prefixes \
                 [\"photos/uploads/\", \"tmp/\"] and objects [\"index.html\"]",
            ),
        row(scoped(), S3Op::ListObjectsV2).prefix("docs/").expect(
            R::Path,
            "the listing prefix is outside the credential's prefixes \
             [\"photos/uploads/\", \"tmp/\"] and objects [\"index.html\"]",
        ),
        row(
            claims(P::AdminReadWrite, &["tmp/"], &[], &[]),
            S3Op::PutBucketCors,
        )
        .expect(
            R::Path,
            "PutBucketCors acts on the whole bucket, which a credential limited to prefixes \
             [\"tmp/\"] and objects [] may not do",
        ),
        row(rw(), S3Op::PutObject)
            .key("a.png")
            .parent(TokenRights::new(account(), P::ObjectReadOnly, None, true))
            .expect(
                R::Parent,
                "the parent token no longer allows PutObject on bucket photos (its rights were \
                 reduced after this credential was minted)",
            ),
        row(rw(), S3Op::GetObject)
            .key("a.png")
            .parent(TokenRights::new(
                account(),
                P::ObjectReadWrite,
                Some(vec![BucketName::parse("elsewhere").unwrap()]),
                true,
            ))
            .expect(
                R::Parent,
                "the parent token no longer allows GetObject on bucket photos (its rights were \
                 reduced after this credential was minted)",
            ),
        row(rw(), S3Op::GetObject)
            .key("a.png")
            .parent(TokenRights::new(account(), P::AdminReadWrite, None, false))
            .expect(
                R::ParentInactive,
                "the parent token has been revoked, deleted or has expired",
            ),
        row(rw(), S3Op::GetObject).expect(
            R::MissingTarget,
            "the request does not name what GetObject needs",
        ),
    ]
}

#[test]
fn every_s3_denial_renders_in_the_credentials_own_terms() {
    for r in rows() {
        let b = r
            .bucket
            .map(|(b, a)| (BucketName::parse(b).unwrap(), AccountId::parse(a).unwrap()));
        let mut req = Request::new(r.op);
        if let Some((b, a)) = &b {
            req = req.bucket(b, a);
        }
        if let Some(k) = r.key {
            req = req.key(k);
        }
        if let Some(p) = r.prefix {
            req = req.list_prefix(p);
        }
        if let (Some(src), Some((b, a))) = (r.copy, &b) {
            req = req.copy_source(b, a, src);
        }
        let p = Principal::Temporary {
            claims: &r.claims,
            parent: &r.parent,
            revoked: false,
        };
        let denied = authorize(&p, &req).expect_err("the row must be denied");
        assert_eq!(denied.reason, r.reason, "{} ({})", r.op, r.message);
        assert_eq!(explain_denial(&denied, &r.claims, &req), r.message);
    }
}

#[test]
fn every_reason_an_s3_decision_produces_has_a_row() {
    let covered: Vec<DenyReason> = rows().iter().map(|r| r.reason).collect();
    for reason in [
        DenyReason::Permission,
        DenyReason::Action,
        DenyReason::Bucket,
        DenyReason::Account,
        DenyReason::Path,
        DenyReason::Parent,
        DenyReason::ParentInactive,
        DenyReason::MissingTarget,
    ] {
        assert!(covered.contains(&reason), "{reason:?} has no row");
    }
}

#[test]
fn a_bucket_denial_is_the_same_whichever_bucket_was_asked_for() {
    let c = claims(Permission::ObjectReadWrite, &[], &[], &[]);
    let parent = full_parent();
    let p = Principal::Temporary {
        claims: &c,
        parent: &parent,
        revoked: false,
    };
    let a = account();
    let texts: Vec<String> = ["exists-maybe", "other", "photos2"]
        .iter()
        .map(|name| {
            let b = BucketName::parse(name).unwrap();
            let req = Request::new(S3Op::GetObject).bucket(&b, &a).key("k");
            let d = authorize(&p, &req).expect_err("other bucket");
            let text = explain_denial(&d, &c, &req);
            assert!(!text.contains(name), "{text} names {name}");
            text
        })
        .collect();
    assert!(texts.iter().all(|t| t == &texts[0]), "{texts:?}");
}
