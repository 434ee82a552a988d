//! Class 12: the parent's lifecycle. A temporary credential is checked against its parent's
//! rights *now* (SPEC §1, §5): revoked, downgraded or bucket-restricted parents limit it, and a
//! temporary credential cannot act as a parent.

use mayfly_attack::sign::{AuthPath, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, OTHER, World, obj};

use crate::Fx;

const C: Class = Class::Parent;

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let get = Request::new("GET", obj(MAIN, "user-1/doc"));
    let put =
        Request::new("PUT", obj(MAIN, "user-1/parent")).body(b"parent lifecycle body".to_vec());
    // Revoked parent: minted through the API and locally; both die with the parent.
    let (p, id) = w.create_token("object-read-write", &[]);
    let api = w.mint_api(&id, MAIN, "object-read-write", &["user-1/"], &[], 3600);
    let mut c = w.claims(&p.creds, MAIN, "object-read-write");
    c.prefixes = Some(vec!["user-1/".into()]);
    let local = w.mint(&c, &p.creds.secret);
    w.case(
        C,
        "API-minted, parent active (control)",
        &api,
        get.clone(),
        Expect::OK,
    );
    w.case(
        C,
        "locally minted, parent active (control)",
        &local,
        get.clone(),
        Expect::OK,
    );
    w.revoke(&id);
    w.case(
        C,
        "API-minted, parent revoked",
        &api,
        get.clone(),
        Expect::DENIED,
    );
    w.case(
        C,
        "locally minted, parent revoked",
        &local,
        put.clone(),
        Expect::DENIED,
    );
    w.case(
        C,
        "parent's own key after revocation",
        &p.creds,
        get.clone(),
        Expect::DENIED,
    );
    let mut c2 = w.claims(&p.creds, MAIN, "object-read-write");
    c2.prefixes = Some(vec!["user-1/".into()]);
    c2.iat += 1;
    let after = w.mint(&c2, &p.creds.secret);
    w.case(
        C,
        "minted after revocation",
        &after,
        get.clone(),
        Expect::DENIED,
    );

    // Downgraded parent: object-read-only parent, token claiming read-write or admin.
    let (ro, _) = w.create_token("object-read-only", &[]);
    for scope in ["object-read-write", "admin-read-write"] {
        let c = w.claims(&ro.creds, MAIN, scope);
        let t = w.mint(&c, &ro.creds.secret);
        w.case(
            C,
            &format!("{scope} token, read-only parent: GET (control)"),
            &t,
            get.clone(),
            Expect::OK,
        );
        w.case(
            C,
            &format!("{scope} token, read-only parent: PUT"),
            &t,
            put.clone(),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("{scope} token, read-only parent: DELETE"),
            &t,
            Request::new("DELETE", obj(MAIN, "user-1/doc")),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("{scope} token, read-only parent: multipart"),
            &t,
            Request::new("POST", obj(MAIN, "user-1/mp")).q("uploads", ""),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("{scope} token, read-only parent: copy"),
            &t,
            Request::new("PUT", obj(MAIN, "user-1/cp"))
                .h("x-amz-copy-source", &format!("{MAIN}/user-1/doc")),
            Expect::DENIED,
        );
    }
    // Admin-read-only parent: admin scope in the token grants no writes and no config writes.
    let (aro, _) = w.create_token("admin-read-only", &[]);
    let c = w.claims(&aro.creds, MAIN, "admin-read-write");
    let t = w.mint(&c, &aro.creds.secret);
    w.case(
        C,
        "admin-rw token, admin-ro parent: PUT",
        &t,
        put.clone(),
        Expect::DENIED,
    );
    w.case(C, "admin-rw token, admin-ro parent: PutBucketCors", &t,
        Request::new("PUT", format!("/{MAIN}")).q("cors", "").body(b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>".to_vec()),
        Expect::DENIED);
    w.case(
        C,
        "admin-rw token, admin-ro parent: DeleteBucket",
        &t,
        Request::new("DELETE", format!("/{MAIN}")),
        Expect::DENIED,
    );
    // Parent restricted to OTHER.
    let (res, _) = w.create_token("object-read-write", &[OTHER]);
    let c = w.claims(&res.creds, MAIN, "object-read-write");
    let t = w.mint(&c, &res.creds.secret);
    w.case(
        C,
        "MAIN token, parent restricted to OTHER: GET",
        &t,
        get.clone(),
        Expect::DENIED,
    );
    w.case(
        C,
        "MAIN token, parent restricted to OTHER: PUT",
        &t,
        put.clone(),
        Expect::DENIED,
    );
    let c = w.claims(&res.creds, OTHER, "object-read-write");
    let t = w.mint(&c, &res.creds.secret);
    w.case(
        C,
        "OTHER token, parent restricted to OTHER (control)",
        &t,
        Request::new("GET", obj(OTHER, "nothing")),
        Expect::err(404, "NoSuchKey"),
    );
    w.case(
        C,
        "OTHER token copying from MAIN",
        &t,
        Request::new("PUT", obj(OTHER, "x")).h("x-amz-copy-source", &format!("{MAIN}/user-1/doc")),
        Expect::DENIED,
    );
    // A temporary credential used as a parent: its secret signs a new JWT naming the same iss.
    let s = fx.scoped.clone();
    let admin = w.admin.clone();
    let mut c = w.claims(&admin, MAIN, "object-read-write");
    c.prefixes = None;
    let child = w.mint(&c, &s.secret);
    w.case(
        C,
        "temporary credential as a parent",
        &child,
        Request::new("GET", obj(MAIN, "user-10/HIDDEN")),
        Expect::DENIED,
    );
    // ...and through the API: a temporary credential's key id names the admin, but the API
    // authenticates bearer tokens, never S3 secrets.
    let path = format!("/accounts/{}/r2/temp-access-credentials", w.account);
    let body = format!(
        r#"{{"bucket":"{MAIN}","parentAccessKeyId":"{}","permission":"object-read-write","ttlSeconds":60}}"#,
        admin.access_key
    );
    let req = format!(
        "POST /client/v4{path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        w.srv.api_addr,
        s.token.clone().unwrap_or_default(),
        body.len()
    );
    let r = mayfly_attack::http::send(&w.srv.api_addr, req.as_bytes());
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "session token as an API bearer cannot mint",
        matches!(r.status, 400 | 401 | 403),
        &format!("API answered {}", r.status),
    );
}
