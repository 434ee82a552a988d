//! The management API's decisions (`authorize_mint`, `authorize_token_admin`,
//! `authorize_bucket_admin`) driven by the hand-written matrix in
//! `mayfly_core::management_testing`, which `crates/api/tests/matrix.rs` replays over HTTP,
//! plus the reasons and the edge cases the matrix does not show.

use mayfly_core::management_testing::{CALLERS, Case, MATRIX, OTHER_BUCKET, OWN_BUCKET};
use mayfly_core::*;

const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
const FOREIGN: &str = "0badc0ffee0badc0ffee0badc0ffee00";
const CALLER_ID: &str = "cccccccccccccccccccccccccccccccc";
const OTHER_ID: &str = "00000000000000000000000000000001";
const ADMIN_ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn account() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}
fn id(s: &str) -> AccessKeyId {
    AccessKeyId::parse(s).unwrap()
}
fn bucket(s: &str) -> BucketName {
    BucketName::parse(s).unwrap()
}

fn token(
    id_: &str,
    account: &str,
    perm: Permission,
    limited: bool,
    active: bool,
    exp: Option<u64>,
) -> ApiToken {
    let buckets = limited.then(|| vec![bucket(OWN_BUCKET)]);
    let rights = TokenRights::new(AccountId::parse(account).unwrap(), perm, buckets, active);
    ApiToken::new(id(id_), rights, exp)
}

fn caller(perm: Permission, limited: bool) -> ApiToken {
    token(CALLER_ID, ACCOUNT, perm, limited, true, None)
}

/// Runs one matrix case for `me` against `account`.
fn decide(me: &ApiToken, account: &AccountId, case: Case) -> Result<(), Denied> {
    let other = id(OTHER_ID);
    let admin = token(
        ADMIN_ID,
        ACCOUNT,
        Permission::AdminReadWrite,
        false,
        true,
        None,
    );
    let b = |own: bool| bucket(if own { OWN_BUCKET } else { OTHER_BUCKET });
    let grant = |permission| TokenGrant {
        permission,
        buckets: None,
        expires_at: None,
    };
    let tokens = |action| authorize_token_admin(me, account, action);
    let buckets = |action| authorize_bucket_admin(me, account, action);
    match case {
        Case::ListTokens => tokens(TokenAction::List),
        Case::PermissionGroups => tokens(TokenAction::ListPermissionGroups),
        Case::VerifySelf => tokens(TokenAction::Verify),
        Case::ReadSelf => tokens(TokenAction::Read(me.id())),
        Case::ReadOther => tokens(TokenAction::Read(&other)),
        Case::RevokeSelf => tokens(TokenAction::Revoke(me.id())),
        Case::RevokeOther => tokens(TokenAction::Revoke(&other)),
        Case::CreateToken(p) => tokens(TokenAction::Create(grant(p))),
        Case::UpdateSelf(p) => tokens(TokenAction::Update(me.id(), grant(p))),
        Case::UpdateOther(p) => tokens(TokenAction::Update(&other, grant(p))),
        Case::ShowBucket { own } => buckets(BucketAction::Show(&b(own))),
        Case::ReadBucket { own } => buckets(BucketAction::Read(&b(own))),
        Case::CreateBucket => buckets(BucketAction::Create(&bucket("brand-new"))),
        Case::EditBucket { own } => buckets(BucketAction::Edit(&b(own))),
        Case::ReadConfig { own } => buckets(BucketAction::ReadConfig(&b(own))),
        Case::EditConfig { own } => buckets(BucketAction::Edit(&b(own))),
        Case::DeleteBucket { own } => buckets(BucketAction::Delete(&b(own))),
        Case::MintSelf { permission, own } => authorize_mint(
            me,
            account,
            Some(me),
            &MintRequest {
                parent: me.id(),
                bucket: &b(own),
                permission,
            },
        ),
        Case::MintFromOther => authorize_mint(
            me,
            account,
            Some(&admin),
            &MintRequest {
                parent: admin.id(),
                bucket: &b(true),
                permission: Permission::ObjectReadOnly,
            },
        ),
        Case::ReadAudit => authorize_audit_read(me, account),
    }
}

#[test]
fn the_management_matrix_holds() {
    for (case, allowed) in MATRIX {
        for ((perm, limited), expect) in CALLERS.iter().zip(allowed) {
            let me = caller(*perm, *limited);
            let got = decide(&me, &account(), *case);
            assert_eq!(
                got.is_ok(),
                *expect,
                "{case:?} by {perm} (limited: {limited}): {got:?}"
            );
        }
    }
}

#[test]
fn the_matrix_lists_every_action_kind() {
    // A new Case variant must get a row: this match does not compile without it.
    let mut seen = std::collections::HashSet::new();
    for (case, _) in MATRIX {
        seen.insert(match case {
            Case::ListTokens => 0,
            Case::PermissionGroups => 1,
            Case::VerifySelf => 2,
            Case::ReadSelf => 3,
            Case::ReadOther => 4,
            Case::RevokeSelf => 5,
            Case::RevokeOther => 6,
            Case::CreateToken(_) => 7,
            Case::UpdateSelf(_) => 8,
            Case::UpdateOther(_) => 9,
            Case::ShowBucket { .. } => 10,
            Case::ReadBucket { .. } => 11,
            Case::CreateBucket => 12,
            Case::EditBucket { .. } => 13,
            Case::DeleteBucket { .. } => 14,
            Case::MintSelf { .. } => 15,
            Case::MintFromOther => 16,
            Case::ReadConfig { .. } => 17,
            Case::EditConfig { .. } => 18,
            Case::ReadAudit => 19,
        });
    }
    assert_eq!(seen.len(), 20);
}

#[test]
fn another_account_is_refused_for_every_action_and_every_caller() {
    let foreign = AccountId::parse(FOREIGN).unwrap();
    for (case, _) in MATRIX {
        for (perm, limited) in CALLERS {
            let got = decide(&caller(perm, limited), &foreign, *case);
            assert_eq!(
                got.map_err(|d| d.reason),
                Err(DenyReason::Account),
                "{case:?}"
            );
        }
    }
}

#[test]
fn an_inactive_caller_is_refused_for_every_action() {
    for (case, _) in MATRIX {
        let me = token(
            CALLER_ID,
            ACCOUNT,
            Permission::AdminReadWrite,
            false,
            false,
            None,
        );
        let got = decide(&me, &account(), *case);
        assert_eq!(
            got.map_err(|d| d.reason),
            Err(DenyReason::Inactive),
            "{case:?}"
        );
    }
}

#[test]
fn denials_name_the_rule() {
    let reason = |me: &ApiToken, case| decide(me, &account(), case).unwrap_err().reason;
    let ro = caller(Permission::ObjectReadOnly, true);
    assert_eq!(
        reason(&ro, Case::ReadBucket { own: false }),
        DenyReason::Bucket
    );
    assert_eq!(
        reason(&ro, Case::ShowBucket { own: false }),
        DenyReason::Bucket
    );
    assert_eq!(reason(&ro, Case::CreateBucket), DenyReason::Permission);
    assert_eq!(
        reason(&ro, Case::DeleteBucket { own: true }),
        DenyReason::Permission
    );
    assert_eq!(reason(&ro, Case::ListTokens), DenyReason::Permission);
    assert_eq!(
        reason(&ro, Case::UpdateSelf(Permission::AdminReadWrite)),
        DenyReason::Permission
    );
    assert_eq!(
        reason(
            &ro,
            Case::MintSelf {
                permission: Permission::ObjectReadWrite,
                own: true
            }
        ),
        DenyReason::Permission
    );
    assert_eq!(
        reason(
            &ro,
            Case::MintSelf {
                permission: Permission::ObjectReadOnly,
                own: false
            }
        ),
        DenyReason::Bucket
    );
    assert_eq!(reason(&ro, Case::MintFromOther), DenyReason::NotParent);
}

#[test]
fn mint_refuses_an_unusable_parent_alike_and_says_nothing_to_non_admins() {
    let admin = caller(Permission::AdminReadWrite, false);
    let own = bucket(OWN_BUCKET);
    let other_bucket = bucket(OTHER_BUCKET);
    let request = |parent| MintRequest {
        parent,
        bucket: &own,
        permission: Permission::ObjectReadOnly,
    };
    let named = id(OTHER_ID);
    let parents = [
        None,
        Some(token(
            OTHER_ID,
            ACCOUNT,
            Permission::AdminReadWrite,
            false,
            false,
            None,
        )),
        Some(token(
            OTHER_ID,
            FOREIGN,
            Permission::AdminReadWrite,
            false,
            true,
            None,
        )),
        // A record of another id than the one named.
        Some(token(
            ADMIN_ID,
            ACCOUNT,
            Permission::AdminReadWrite,
            false,
            true,
            None,
        )),
    ];
    for parent in &parents {
        let got = authorize_mint(&admin, &account(), parent.as_ref(), &request(&named));
        assert_eq!(
            got.map_err(|d| d.reason),
            Err(DenyReason::ParentInactive),
            "{parent:?}"
        );
        // A non-admin naming that token learns only that it may not mint from it.
        for (perm, limited) in &CALLERS[1..] {
            let me = caller(*perm, *limited);
            let got = authorize_mint(&me, &account(), parent.as_ref(), &request(&named));
            assert_eq!(got.map_err(|d| d.reason), Err(DenyReason::NotParent));
        }
    }
    // The parent's rights bound the credential, not the admin caller's.
    let narrow = token(
        OTHER_ID,
        ACCOUNT,
        Permission::ObjectReadOnly,
        true,
        true,
        None,
    );
    let got = authorize_mint(&admin, &account(), Some(&narrow), &request(&named));
    assert!(got.is_ok());
    let wider = MintRequest {
        permission: Permission::ObjectReadWrite,
        ..request(&named)
    };
    let got = authorize_mint(&admin, &account(), Some(&narrow), &wider);
    assert_eq!(got.map_err(|d| d.reason), Err(DenyReason::Permission));
    let elsewhere = MintRequest {
        bucket: &other_bucket,
        ..request(&named)
    };
    let got = authorize_mint(&admin, &account(), Some(&narrow), &elsewhere);
    assert_eq!(got.map_err(|d| d.reason), Err(DenyReason::Bucket));
}

#[test]
fn a_token_never_outlives_the_token_that_creates_or_updates_it() {
    let me = token(
        CALLER_ID,
        ACCOUNT,
        Permission::AdminReadWrite,
        false,
        true,
        Some(100),
    );
    let grant = |expires_at| TokenGrant {
        permission: Permission::ObjectReadOnly,
        buckets: None,
        expires_at,
    };
    let target = id(OTHER_ID);
    for (exp, ok) in [
        (None, false),
        (Some(101), false),
        (Some(100), true),
        (Some(5), true),
    ] {
        for action in [
            TokenAction::Create(grant(exp)),
            TokenAction::Update(&target, grant(exp)),
        ] {
            let got = authorize_token_admin(&me, &account(), action);
            match ok {
                true => assert_eq!(got, Ok(()), "{exp:?}"),
                false => assert_eq!(got.map_err(|d| d.reason), Err(DenyReason::Lifetime)),
            }
        }
    }
    // Without an expiry of its own, the caller may grant any.
    let forever = caller(Permission::AdminReadWrite, false);
    for exp in [None, Some(u64::MAX)] {
        assert_eq!(
            authorize_token_admin(&forever, &account(), TokenAction::Create(grant(exp))),
            Ok(())
        );
    }
}

#[test]
fn only_an_active_admin_read_write_token_creates_test_accounts() {
    for (perm, limited) in CALLERS {
        let got = authorize_test_account(&caller(perm, limited));
        assert_eq!(
            got.is_ok(),
            perm == Permission::AdminReadWrite,
            "{perm} (limited: {limited}): {got:?}"
        );
    }
    let disabled = token(
        CALLER_ID,
        ACCOUNT,
        Permission::AdminReadWrite,
        false,
        false,
        None,
    );
    assert_eq!(
        authorize_test_account(&disabled).map_err(|d| d.reason),
        Err(DenyReason::Inactive)
    );
}
