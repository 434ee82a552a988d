//! The permission matrix: every S3 operation Mayfly serves × the four permissions × in and out
//! of scope, as one hand-written table (not derived from the code under test). The S3
//! adversarial suite replays the same table against a running server.

use crate::vector::{ACCOUNT, PARENT_ID};
use mayfly_core::*;

use mayfly_core::testing::TEMPORARY_MATRIX as TEMPORARY;

pub(crate) fn account() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}
pub(crate) fn bucket() -> BucketName {
    BucketName::parse("photos").unwrap()
}

pub(crate) fn claims(perm: Permission, prefixes: &[&str], actions: Vec<S3Action>) -> Claims {
    Claims::builder(
        bucket(),
        perm,
        account(),
        AccessKeyId::parse(PARENT_ID).unwrap(),
        "127.0.0.1:8788",
    )
    .prefixes(prefixes.iter().map(|s| s.to_string()).collect())
    .actions(actions)
    .issued_at(1)
    .ttl_secs(60)
    .build()
    .unwrap()
}

/// A request for `op` on `key` (or listing `key` as the prefix), with a same-bucket copy source.
pub(crate) fn request<'a>(
    op: S3Op,
    b: &'a BucketName,
    a: &'a AccountId,
    key: &'a str,
) -> Request<'a> {
    let r = match op.target() {
        Target::Account => Request::new(op),
        Target::Bucket => Request::new(op).bucket(b, a),
        Target::Key => Request::new(op).bucket(b, a).key(key),
        Target::Prefix => Request::new(op).bucket(b, a).list_prefix(key),
    };
    if op.reads_copy_source() {
        r.copy_source(b, a, key)
    } else {
        r
    }
}

#[test]
fn every_op_has_exactly_one_row() {
    for op in S3Op::ALL {
        assert_eq!(TEMPORARY.iter().filter(|(o, _)| o == op).count(), 1, "{op}");
    }
}

#[test]
fn temporary_credentials_whole_bucket() {
    let (b, a) = (bucket(), account());
    let parent = TokenRights::new(a.clone(), Permission::AdminReadWrite, None, true);
    for &(op, expect) in TEMPORARY {
        for (i, perm) in Permission::ALL.into_iter().enumerate() {
            let c = claims(perm, &[], vec![]);
            let p = Principal::Temporary {
                claims: &c,
                parent: &parent,
                revoked: false,
            };
            let got = authorize(&p, &request(op, &b, &a, "any/key")).is_ok();
            assert_eq!(got, expect[i], "{op} with {perm}");
        }
    }
}

#[test]
fn temporary_credentials_in_and_out_of_path_scope() {
    let (b, a) = (bucket(), account());
    let parent = TokenRights::new(a.clone(), Permission::AdminReadWrite, None, true);
    for &(op, expect) in TEMPORARY {
        for (i, perm) in Permission::ALL.into_iter().enumerate() {
            let c = claims(perm, &["in/"], vec![]);
            let p = Principal::Temporary {
                claims: &c,
                parent: &parent,
                revoked: false,
            };
            let inside = authorize(&p, &request(op, &b, &a, "in/x")).is_ok();
            let outside = authorize(&p, &request(op, &b, &a, "out/x"));
            // Whole-bucket configuration and deletion need an unscoped credential.
            let scoped_expect =
                expect[i] && !matches!(op.access(), Access::ConfigRead | Access::ConfigWrite);
            assert_eq!(inside, scoped_expect, "{op} with {perm} in scope");
            let outside_expect = scoped_expect && op.target() == Target::Bucket;
            assert_eq!(
                outside.is_ok(),
                outside_expect,
                "{op} with {perm} out of scope"
            );
            if let Err(d) = outside {
                if expect[i] && matches!(op.target(), Target::Key | Target::Prefix) {
                    assert_eq!(d.reason, DenyReason::Path, "{op} {perm}");
                }
            }
        }
    }
}

#[test]
fn long_lived_tokens() {
    let (b, a) = (bucket(), account());
    for &(op, expect) in TEMPORARY {
        for (i, perm) in Permission::ALL.into_iter().enumerate() {
            let expect = match op {
                S3Op::ListBuckets => perm.is_admin(),
                S3Op::CreateBucket => perm == Permission::AdminReadWrite,
                _ => expect[i],
            };
            let t = TokenRights::new(a.clone(), perm, None, true);
            let got = authorize(&Principal::Token(&t), &request(op, &b, &a, "k")).is_ok();
            assert_eq!(got, expect, "{op} with long-lived {perm}");
            // Object-level tokens restricted to other buckets get nothing here.
            let other = TokenRights::new(
                a.clone(),
                perm,
                Some(vec![BucketName::parse("other").unwrap()]),
                true,
            );
            let got = authorize(&Principal::Token(&other), &request(op, &b, &a, "k")).is_ok();
            let bucket_free = op.target() == Target::Account || perm.is_admin();
            assert_eq!(
                got,
                expect && bucket_free,
                "{op} with {perm} restricted to another bucket"
            );
            let revoked = TokenRights::new(a.clone(), perm, None, false);
            assert!(authorize(&Principal::Token(&revoked), &request(op, &b, &a, "k")).is_err());
        }
    }
}

#[test]
fn actions_narrow_the_permission() {
    let (b, a) = (bucket(), account());
    let parent = TokenRights::new(a.clone(), Permission::AdminReadWrite, None, true);
    let c = claims(
        Permission::ObjectReadWrite,
        &[],
        vec![S3Action::GetObject, S3Action::HeadObject],
    );
    let p = Principal::Temporary {
        claims: &c,
        parent: &parent,
        revoked: false,
    };
    for &(op, _) in TEMPORARY {
        let got = authorize(&p, &request(op, &b, &a, "k"));
        let expect = matches!(op, S3Op::GetObject | S3Op::HeadObject);
        assert_eq!(got.is_ok(), expect, "{op}");
    }
    // Cloudflare's example: GetObject+HeadObject denies ListObjectsV2.
    assert_eq!(
        authorize(&p, &request(S3Op::ListObjectsV2, &b, &a, ""))
            .unwrap_err()
            .reason,
        DenyReason::Action
    );
    // An action the permission lacks stays denied.
    let c = claims(Permission::ObjectReadOnly, &[], vec![S3Action::PutObject]);
    let p = Principal::Temporary {
        claims: &c,
        parent: &parent,
        revoked: false,
    };
    assert_eq!(
        authorize(&p, &request(S3Op::PutObject, &b, &a, "k"))
            .unwrap_err()
            .reason,
        DenyReason::Permission
    );
    // Copying with narrowing needs the source read named too.
    let c = claims(Permission::ObjectReadWrite, &[], vec![S3Action::CopyObject]);
    let p = Principal::Temporary {
        claims: &c,
        parent: &parent,
        revoked: false,
    };
    assert_eq!(
        authorize(&p, &request(S3Op::CopyObject, &b, &a, "k"))
            .unwrap_err()
            .reason,
        DenyReason::Action
    );
    let c = claims(
        Permission::ObjectReadWrite,
        &[],
        vec![S3Action::CopyObject, S3Action::GetObject],
    );
    let p = Principal::Temporary {
        claims: &c,
        parent: &parent,
        revoked: false,
    };
    assert!(authorize(&p, &request(S3Op::CopyObject, &b, &a, "k")).is_ok());
}

#[test]
fn the_parent_bounds_the_child_now() {
    let (b, a) = (bucket(), account());
    let child = claims(Permission::AdminReadWrite, &[], vec![]);
    let put = request(S3Op::PutObject, &b, &a, "k");
    let get = request(S3Op::GetObject, &b, &a, "k");

    let downgraded = TokenRights::new(a.clone(), Permission::ObjectReadOnly, None, true);
    let p = Principal::Temporary {
        claims: &child,
        parent: &downgraded,
        revoked: false,
    };
    assert_eq!(authorize(&p, &put).unwrap_err().reason, DenyReason::Parent);
    assert!(authorize(&p, &get).is_ok());

    let revoked = TokenRights::new(a.clone(), Permission::AdminReadWrite, None, false);
    let p = Principal::Temporary {
        claims: &child,
        parent: &revoked,
        revoked: false,
    };
    assert_eq!(
        authorize(&p, &get).unwrap_err().reason,
        DenyReason::ParentInactive
    );

    let elsewhere = TokenRights::new(
        a.clone(),
        Permission::ObjectReadWrite,
        Some(vec![BucketName::parse("other").unwrap()]),
        true,
    );
    let p = Principal::Temporary {
        claims: &child,
        parent: &elsewhere,
        revoked: false,
    };
    assert_eq!(authorize(&p, &get).unwrap_err().reason, DenyReason::Parent);

    let other_account = AccountId::parse("ffffffffffffffffffffffffffffffff").unwrap();
    let foreign = TokenRights::new(other_account, Permission::AdminReadWrite, None, true);
    let p = Principal::Temporary {
        claims: &child,
        parent: &foreign,
        revoked: false,
    };
    assert_eq!(authorize(&p, &get).unwrap_err().reason, DenyReason::Parent);
}

#[test]
fn bucket_and_account_binding() {
    let (b, a) = (bucket(), account());
    let parent = TokenRights::new(a.clone(), Permission::AdminReadWrite, None, true);
    let c = claims(Permission::ObjectReadWrite, &[], vec![]);
    let p = Principal::Temporary {
        claims: &c,
        parent: &parent,
        revoked: false,
    };
    let other_bucket = BucketName::parse("photos2").unwrap();
    let r = request(S3Op::GetObject, &other_bucket, &a, "k");
    assert_eq!(authorize(&p, &r).unwrap_err().reason, DenyReason::Bucket);
    let other_account = AccountId::parse("ffffffffffffffffffffffffffffffff").unwrap();
    let r = request(S3Op::GetObject, &b, &other_account, "k");
    assert_eq!(authorize(&p, &r).unwrap_err().reason, DenyReason::Account);
    // A long-lived key never reaches another account's bucket, even as admin.
    let r = request(S3Op::GetObject, &b, &other_account, "k");
    assert_eq!(
        authorize(&Principal::Token(&parent), &r)
            .unwrap_err()
            .reason,
        DenyReason::Account
    );
}

#[test]
fn copy_sources_are_checked_like_reads() {
    let (b, a) = (bucket(), account());
    let parent = TokenRights::new(a.clone(), Permission::AdminReadWrite, None, true);
    let c = claims(Permission::ObjectReadWrite, &["mine/"], vec![]);
    let p = Principal::Temporary {
        claims: &c,
        parent: &parent,
        revoked: false,
    };
    let other = BucketName::parse("secrets").unwrap();
    for op in [S3Op::CopyObject, S3Op::UploadPartCopy] {
        let ok = Request::new(op)
            .bucket(&b, &a)
            .key("mine/dst")
            .copy_source(&b, &a, "mine/src");
        assert!(authorize(&p, &ok).is_ok(), "{op}");
        let out_of_scope =
            Request::new(op)
                .bucket(&b, &a)
                .key("mine/dst")
                .copy_source(&b, &a, "theirs/src");
        assert_eq!(
            authorize(&p, &out_of_scope).unwrap_err().reason,
            DenyReason::Path
        );
        let cross_bucket = Request::new(op)
            .bucket(&b, &a)
            .key("mine/dst")
            .copy_source(&other, &a, "mine/src");
        assert_eq!(
            authorize(&p, &cross_bucket).unwrap_err().reason,
            DenyReason::Bucket
        );
        let no_source = Request::new(op).bucket(&b, &a).key("mine/dst");
        assert_eq!(
            authorize(&p, &no_source).unwrap_err().reason,
            DenyReason::MissingTarget
        );
    }
    // A long-lived object token limited to one bucket cannot copy out of another.
    let t = TokenRights::new(
        a.clone(),
        Permission::ObjectReadWrite,
        Some(vec![b.clone()]),
        true,
    );
    let r = Request::new(S3Op::CopyObject)
        .bucket(&b, &a)
        .key("dst")
        .copy_source(&other, &a, "src");
    assert_eq!(
        authorize(&Principal::Token(&t), &r).unwrap_err().reason,
        DenyReason::Bucket
    );
    // A copy source on a non-copy operation is refused rather than ignored.
    let r = Request::new(S3Op::PutObject)
        .bucket(&b, &a)
        .key("dst")
        .copy_source(&b, &a, "src");
    assert_eq!(
        authorize(&Principal::Token(&t), &r).unwrap_err().reason,
        DenyReason::MissingTarget
    );
}

#[test]
fn missing_targets_are_denied_not_assumed() {
    let a = account();
    let t = TokenRights::new(a.clone(), Permission::AdminReadWrite, None, true);
    for op in [
        S3Op::GetObject,
        S3Op::PutObject,
        S3Op::ListObjectsV2,
        S3Op::HeadBucket,
    ] {
        assert_eq!(
            authorize(&Principal::Token(&t), &Request::new(op))
                .unwrap_err()
                .reason,
            DenyReason::MissingTarget,
            "{op}"
        );
    }
}

#[test]
fn a_revoked_credential_is_refused_for_every_op_and_its_sibling_is_not() {
    let (b, a) = (bucket(), account());
    let c = claims(Permission::AdminReadWrite, &[], vec![]);
    let parent = TokenRights::new(a.clone(), Permission::AdminReadWrite, None, true);
    let revoked = Principal::Temporary {
        claims: &c,
        parent: &parent,
        revoked: true,
    };
    let sibling = Principal::Temporary {
        claims: &c,
        parent: &parent,
        revoked: false,
    };
    let mut allowed_to_sibling = 0;
    for op in S3Op::ALL {
        let req = request(*op, &b, &a, "k");
        let d = authorize(&revoked, &req).expect_err("a revoked credential is refused");
        assert_eq!(d.reason, DenyReason::Revoked, "{op}");
        assert_eq!(explain_denial(&d, &c, &req), REVOKED_MESSAGE, "{op}");
        if authorize(&sibling, &req).is_ok() {
            allowed_to_sibling += 1;
        }
    }
    // Everything but the account-wide operations stays open to the sibling.
    assert!(allowed_to_sibling > 20, "{allowed_to_sibling}");
    // Revocation is checked before the parent: the holder is told the credential's own state.
    let dead_parent = TokenRights::new(a.clone(), Permission::AdminReadWrite, None, false);
    let both = Principal::Temporary {
        claims: &c,
        parent: &dead_parent,
        revoked: true,
    };
    let req = request(S3Op::GetObject, &b, &a, "k");
    assert_eq!(
        authorize(&both, &req).unwrap_err().reason,
        DenyReason::Revoked
    );
}
