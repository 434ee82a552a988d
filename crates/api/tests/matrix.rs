//! The management permission matrix (`mayfly_core::management_testing::MATRIX`, the table
//! core's decisions are tested against) replayed through the router: every caller permission
//! (with and without a bucket list) × every management action, each row on a fresh store.
//! "Allowed" means a 2xx answer that did what was asked; "denied" means exactly 403/10000.
//! Anything else (a 404 that leaks existence, a 5xx) fails the cell.

use axum::body::Body;
use axum::http::{Method, Request};
use mayfly_core::Permission;
use mayfly_core::management_testing::{CALLERS, Case, MATRIX, OTHER_BUCKET, OWN_BUCKET};
use serde_json::json;

use crate::support::*;

fn tokens() -> String {
    format!("/accounts/{ACCOUNT}/tokens")
}

fn buckets() -> String {
    format!("/accounts/{ACCOUNT}/r2/buckets")
}

fn which(own: bool) -> &'static str {
    if own { OWN_BUCKET } else { OTHER_BUCKET }
}

/// What a cell's answer means.
enum Outcome {
    /// The request itself was answered 2xx (or 403/10000).
    Status(Answer),
    /// A listing: whether the bucket appeared (the listing itself must be 200).
    Listed(bool),
}

async fn attempt(h: &Harness, me: &Token, other: &Token, case: Case) -> Outcome {
    let call = |method: Method, path: String, body: Option<String>| async move {
        h.call(method, &path, Some(&me.value), body.as_deref())
            .await
    };
    let new_token =
        |p: Permission| Some(json!({"name": "n", "permission": p.as_str()}).to_string());
    let mint = |parent: &str, bucket: &str, p: Permission| {
        Some(
            json!({"bucket": bucket, "parentAccessKeyId": parent, "permission": p.as_str(),
                   "ttlSeconds": 900})
            .to_string(),
        )
    };
    let creds = format!("/accounts/{ACCOUNT}/r2/temp-access-credentials");
    let answer = match case {
        Case::ListTokens => call(Method::GET, tokens(), None).await,
        Case::PermissionGroups => {
            call(Method::GET, format!("{}/permission_groups", tokens()), None).await
        }
        Case::VerifySelf => call(Method::GET, format!("{}/verify", tokens()), None).await,
        Case::ReadSelf => call(Method::GET, format!("{}/{}", tokens(), me.id), None).await,
        Case::ReadOther => call(Method::GET, format!("{}/{}", tokens(), other.id), None).await,
        Case::RevokeSelf => call(Method::DELETE, format!("{}/{}", tokens(), me.id), None).await,
        Case::RevokeOther => call(Method::DELETE, format!("{}/{}", tokens(), other.id), None).await,
        Case::CreateToken(p) => call(Method::POST, tokens(), new_token(p)).await,
        Case::UpdateSelf(p) => {
            call(Method::PUT, format!("{}/{}", tokens(), me.id), new_token(p)).await
        }
        Case::UpdateOther(p) => {
            call(
                Method::PUT,
                format!("{}/{}", tokens(), other.id),
                new_token(p),
            )
            .await
        }
        Case::ShowBucket { own } => {
            let listed = call(Method::GET, buckets(), None).await;
            if !listed.status.is_success() {
                return Outcome::Status(listed);
            }
            let names = listed.ok()["buckets"].as_array().unwrap().clone();
            return Outcome::Listed(names.iter().any(|b| b["name"] == json!(which(own))));
        }
        Case::ReadBucket { own } => {
            call(Method::GET, format!("{}/{}", buckets(), which(own)), None).await
        }
        Case::CreateBucket => {
            call(
                Method::POST,
                buckets(),
                Some(r#"{"name":"brand-new"}"#.into()),
            )
            .await
        }
        Case::EditBucket { own } => {
            let request = Request::builder()
                .method(Method::PATCH)
                .uri(format!("/client/v4{}/{}", buckets(), which(own)))
                .header("authorization", format!("Bearer {}", me.value))
                .header("cf-r2-storage-class", "Standard")
                .body(Body::empty())
                .unwrap();
            h.send(request).await
        }
        Case::ReadConfig { own } => {
            call(
                Method::GET,
                format!("{}/{}/lifecycle", buckets(), which(own)),
                None,
            )
            .await
        }
        Case::EditConfig { own } => call(
            Method::PUT,
            format!("{}/{}/cors", buckets(), which(own)),
            Some(
                r#"{"rules":[{"allowed":{"origins":["https://app.example"],"methods":["GET"]}}]}"#
                    .into(),
            ),
        )
        .await,
        Case::DeleteBucket { own } => {
            call(
                Method::DELETE,
                format!("{}/{}", buckets(), which(own)),
                None,
            )
            .await
        }
        Case::MintSelf { permission, own } => {
            call(Method::POST, creds, mint(&me.id, which(own), permission)).await
        }
        Case::MintFromOther => {
            call(
                Method::POST,
                creds,
                mint(&h.admin.id, OWN_BUCKET, Permission::ObjectReadOnly),
            )
            .await
        }
        Case::ReadAudit => {
            call(
                Method::GET,
                format!("/mayfly/accounts/{ACCOUNT}/audit"),
                None,
            )
            .await
        }
    };
    Outcome::Status(answer)
}

#[tokio::test]
async fn the_management_matrix_holds_over_http() {
    let mut cells = 0;
    for (case, allowed) in MATRIX {
        // One store per row, every caller with a token of its own. Refusals run first, so an
        // allowed cell that changes shared state (deletes the bucket, revokes `other`) runs
        // after every refusal of its row: a refusal is never explained by a missing target.
        let h = Harness::new().await;
        h.bucket(ACCOUNT, OWN_BUCKET).await;
        h.bucket(ACCOUNT, OTHER_BUCKET).await;
        let other = h.token(ACCOUNT, Permission::ObjectReadOnly, None).await;
        let mut columns = Vec::new();
        for (perm, limited) in CALLERS {
            let me = h
                .token(ACCOUNT, perm, limited.then_some(&[OWN_BUCKET][..]))
                .await;
            columns.push((perm, limited, me));
        }
        let mut order: Vec<usize> = (0..CALLERS.len()).collect();
        order.sort_by_key(|&i| allowed[i]);
        for i in order {
            let (perm, limited, me) = &columns[i];
            let expect = allowed[i];
            let cell = format!("{case:?} by {perm} (limited: {limited})");
            match attempt(&h, me, &other, *case).await {
                Outcome::Listed(shown) => assert_eq!(shown, expect, "{cell}"),
                Outcome::Status(answer) if matches!(case, Case::ShowBucket { .. }) => {
                    panic!("{cell}: listing refused: {}", answer.body)
                }
                Outcome::Status(answer) if expect => {
                    assert!(answer.status.is_success(), "{cell}: {}", answer.body);
                    answer.ok();
                }
                Outcome::Status(answer) => {
                    assert_eq!(answer.status.as_u16(), 403, "{cell}: {}", answer.body);
                    answer.assert_error(403, 10000);
                }
            }
            cells += 1;
        }
    }
    assert_eq!(cells, MATRIX.len() * CALLERS.len());
}

#[tokio::test]
async fn every_management_route_refuses_another_accounts_token_alike() {
    // The account check comes first for every action: a foreign admin learns nothing.
    let h = Harness::new().await;
    h.bucket(ACCOUNT, OWN_BUCKET).await;
    let foreign = h
        .token(OTHER_ACCOUNT, Permission::AdminReadWrite, None)
        .await;
    for (case, _) in MATRIX {
        match attempt(&h, &foreign, &h.admin.clone(), *case).await {
            Outcome::Status(answer) => answer.assert_error(403, 9109),
            Outcome::Listed(_) => panic!("{case:?}: a foreign token listed the account's buckets"),
        }
    }
}
