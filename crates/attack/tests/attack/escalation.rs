//! Class 18 (issue 12): a token or a temporary credential never creates or raises a token or a
//! credential beyond its own rights, through any endpoint: token create and update,
//! temp-access-credentials, the bucket API (management and S3), and the bucket list's cursor.
//!
//! Management-API requests go over real sockets with a bearer value; their answers are tallied
//! in the report's first column (`sha256`, the suite's "plain request" path: the API has no
//! SigV4 variants). A 2xx where a refusal was expected counts as an escape, like everywhere
//! else. The S3 halves (bucket creation and deletion through S3) run on every auth path.

use mayfly_attack::http::{Response, send};
use mayfly_attack::sign::{AuthPath, Creds, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, OTHER, World};
use serde_json::{Value, json};

use crate::Fx;

const C: Class = Class::ApiEscalation;

/// A token the class created: bearer value, id, S3 key pair.
struct Bearer {
    value: String,
    id: String,
    creds: Creds,
}

/// Calls the management API with an arbitrary bearer value.
fn call(w: &World, bearer: &str, method: &str, path: &str, body: Option<&Value>) -> Response {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} /client/v4{path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {bearer}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        w.srv.api_addr,
        body.len()
    );
    send(&w.srv.api_addr, req.as_bytes())
}

fn json_of(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_default()
}

/// Creates a token with the admin key (Mayfly's simple body) and remembers its secrets.
fn token(w: &mut World, body: Value) -> Bearer {
    let path = format!("/accounts/{}/tokens", w.account);
    let r = w.srv.api("POST", &path, Some(&body));
    assert_eq!(r.status, 200, "create token: {}", r.text());
    let v = json_of(&r);
    let s = |k: &str| v["result"][k].as_str().unwrap_or_default().to_owned();
    let (value, id, secret) = (s("value"), s("id"), s("secret_access_key"));
    w.secrets.insert(value.clone());
    w.secrets.insert(secret.clone());
    Bearer {
        value,
        creds: Creds {
            access_key: id.clone(),
            secret,
            token: None,
        },
        id,
    }
}

/// Records an API answer against an exact expected status.
fn expect(w: &mut World, name: &str, status: u16, r: &Response) {
    let e = Expect { status, code: None };
    w.tally.record(C, AuthPath::Signed, name, e, r, false);
}

pub(crate) fn run(w: &mut World, _fx: &Fx) {
    let a = w.account.clone();
    let tokens = format!("/accounts/{a}/tokens");
    let buckets = format!("/accounts/{a}/r2/buckets");
    let mint_path = format!("/accounts/{a}/r2/temp-access-credentials");
    let admin_id = w.admin.access_key.clone();

    let ro = token(
        w,
        json!({"name": "esc-ro", "permission": "object-read-only", "buckets": [MAIN]}),
    );
    let rw = token(
        w,
        json!({"name": "esc-rw", "permission": "object-read-write"}),
    );
    let aro = token(
        w,
        json!({"name": "esc-aro", "permission": "admin-read-only"}),
    );
    let mint = |parent: &str, bucket: &str, permission: &str| {
        json!({"bucket": bucket, "parentAccessKeyId": parent, "permission": permission,
               "ttlSeconds": 600})
    };

    // --- tokens: create and raise --------------------------------------------------------
    for (who, t) in [
        ("object-read-only", &ro),
        ("object-read-write", &rw),
        ("admin-read-only", &aro),
    ] {
        for p in ["admin-read-write", "object-read-only"] {
            let r = call(
                w,
                &t.value,
                "POST",
                &tokens,
                Some(&json!({"name": "x", "permission": p})),
            );
            expect(w, &format!("{who} token creates a {p} token"), 403, &r);
        }
        let own = format!("{tokens}/{}", t.id);
        let r = call(
            w,
            &t.value,
            "PUT",
            &own,
            Some(&json!({"name": "x", "permission": "admin-read-write"})),
        );
        expect(
            w,
            &format!("{who} token updates itself to admin-read-write"),
            403,
            &r,
        );
        let account_wide = json!({"name": "x", "policies": [{"effect": "allow",
            "permission_groups": [{"name": "Workers R2 Storage Write"}],
            "resources": {format!("com.cloudflare.api.account.{a}"): "*"}}]});
        let r = call(w, &t.value, "PUT", &own, Some(&account_wide));
        expect(
            w,
            &format!("{who} token widens itself with a Cloudflare policy"),
            403,
            &r,
        );
        let r = call(
            w,
            &t.value,
            "PUT",
            &format!("{tokens}/{admin_id}"),
            Some(&json!({"name": "x", "permission": "object-read-only"})),
        );
        expect(
            w,
            &format!("{who} token downgrades the admin token"),
            403,
            &r,
        );
        let r = call(w, &t.value, "DELETE", &format!("{tokens}/{admin_id}"), None);
        expect(w, &format!("{who} token revokes the admin token"), 403, &r);
        let r = call(w, &t.value, "GET", &format!("{tokens}/{admin_id}"), None);
        expect(w, &format!("{who} token reads the admin token"), 403, &r);
        let r = call(w, &t.value, "GET", &tokens, None);
        expect(w, &format!("{who} token lists tokens"), 403, &r);
    }

    // --- temp-access-credentials: beyond the parent, or another parent ---------------------
    let cases: [(&str, &Bearer, Value, u16); 9] = [
        (
            "read-only parent mints read-write",
            &ro,
            mint(&ro.id, MAIN, "object-read-write"),
            403,
        ),
        (
            "read-only parent mints admin-read-write",
            &ro,
            mint(&ro.id, MAIN, "admin-read-write"),
            403,
        ),
        (
            "bucket-limited parent mints for another bucket",
            &ro,
            mint(&ro.id, OTHER, "object-read-only"),
            403,
        ),
        (
            "object token mints with the admin as parent",
            &ro,
            mint(&admin_id, MAIN, "object-read-only"),
            403,
        ),
        (
            "object token mints with another object token as parent",
            &ro,
            mint(&rw.id, MAIN, "object-read-only"),
            403,
        ),
        (
            "read-write parent mints admin-read-only",
            &rw,
            mint(&rw.id, MAIN, "admin-read-only"),
            403,
        ),
        (
            "admin-read-only parent mints admin-read-write",
            &aro,
            mint(&aro.id, MAIN, "admin-read-write"),
            403,
        ),
        (
            "admin-read-only parent mints object-read-write",
            &aro,
            mint(&aro.id, MAIN, "object-read-write"),
            403,
        ),
        (
            "admin-read-only token mints with the admin as parent",
            &aro,
            mint(&admin_id, MAIN, "object-read-only"),
            403,
        ),
    ];
    for (name, t, body, status) in cases {
        let r = call(w, &t.value, "POST", &mint_path, Some(&body));
        expect(w, name, status, &r);
    }
    // Controls: within the parent's rights, a mint works.
    let r = call(
        w,
        &ro.value,
        "POST",
        &mint_path,
        Some(&mint(&ro.id, MAIN, "object-read-only")),
    );
    expect(
        w,
        "read-only parent mints read-only on its bucket (control)",
        200,
        &r,
    );
    // An admin minting from a narrower parent is bound by the parent, not by itself.
    let r = call(
        w,
        &w.srv.api_token.clone(),
        "POST",
        &mint_path,
        Some(&mint(&ro.id, MAIN, "object-read-write")),
    );
    expect(w, "admin mints read-write from a read-only parent", 403, &r);
    let r = call(
        w,
        &w.srv.api_token.clone(),
        "POST",
        &mint_path,
        Some(&mint(&ro.id, OTHER, "object-read-only")),
    );
    expect(
        w,
        "admin mints from a bucket-limited parent for another bucket",
        403,
        &r,
    );

    // --- a temporary credential is not a bearer token ---------------------------------------
    let temp = w.mint_api(&rw.id, MAIN, "object-read-write", &[], &[], 600);
    let session = temp.token.clone().unwrap_or_default();
    for (what, bearer) in [
        ("secret access key", temp.secret.clone()),
        ("access key id", temp.access_key.clone()),
        ("session token", session.clone()),
        ("key:secret", format!("{}:{}", temp.access_key, temp.secret)),
    ] {
        // An over-long value is a malformed header (400) before any lookup; others are unknown.
        let status = if bearer.len() > 512 { 400 } else { 401 };
        for (method, path, body) in [
            (
                "POST",
                tokens.clone(),
                Some(json!({"name": "x", "permission": "admin-read-write"})),
            ),
            (
                "POST",
                mint_path.clone(),
                Some(mint(&rw.id, MAIN, "object-read-write")),
            ),
            (
                "POST",
                buckets.clone(),
                Some(json!({"name": "esc-made-by-temp"})),
            ),
            ("DELETE", format!("{buckets}/{OTHER}"), None),
        ] {
            let r = call(w, &bearer, method, &path, body.as_ref());
            expect(
                w,
                &format!("temporary credential's {what} as bearer: {method} {path}"),
                status,
                &r,
            );
        }
    }

    // --- the bucket API: management and S3 --------------------------------------------------
    for (who, t) in [
        ("object-read-only", &ro),
        ("object-read-write", &rw),
        ("admin-read-only", &aro),
    ] {
        let r = call(
            w,
            &t.value,
            "POST",
            &buckets,
            Some(&json!({"name": "esc-new-bucket"})),
        );
        expect(w, &format!("{who} token creates a bucket"), 403, &r);
        for b in [MAIN, OTHER] {
            let r = call(w, &t.value, "DELETE", &format!("{buckets}/{b}"), None);
            expect(w, &format!("{who} token deletes bucket {b}"), 403, &r);
        }
    }
    let r = call(w, &ro.value, "GET", &format!("{buckets}/{OTHER}"), None);
    expect(w, "bucket-limited token reads another bucket", 403, &r);
    let mut limited_temp = w.claims(&ro.creds, MAIN, "admin-read-write");
    limited_temp.prefixes = None;
    let ro_temp = w.mint(&limited_temp, &ro.creds.secret);
    for (who, creds) in [
        ("bucket-limited token", ro.creds.clone()),
        ("its admin-scoped temporary credential", ro_temp),
        ("a read-write temporary credential", temp.clone()),
    ] {
        w.case(
            C,
            &format!("{who}: S3 CreateBucket"),
            &creds,
            Request::new("PUT", "/esc-s3-bucket"),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("{who}: S3 DeleteBucket of another bucket"),
            &creds,
            Request::new("DELETE", format!("/{OTHER}")),
            Expect::DENIED,
        );
    }

    // --- the bucket list never names a bucket outside the token (weakness 3) ----------------
    for direction in ["asc", "desc"] {
        let mut cursor: Option<String> = None;
        let mut shown = Vec::new();
        for _ in 0..10 {
            let q = match &cursor {
                Some(c) => format!("?per_page=1&direction={direction}&cursor={}", encode(c)),
                None => format!("?per_page=1&direction={direction}"),
            };
            let r = call(w, &ro.value, "GET", &format!("{buckets}{q}"), None);
            expect(
                w,
                &format!("bucket-limited token lists ({direction})"),
                200,
                &r,
            );
            let v = json_of(&r);
            for b in v["result"]["buckets"].as_array().into_iter().flatten() {
                shown.push(b["name"].as_str().unwrap_or_default().to_owned());
            }
            cursor = v["result_info"]["cursor"].as_str().map(str::to_owned);
            let leaked = cursor.as_deref().is_some_and(|c| !c.ends_with(MAIN));
            w.tally.record_check(
                C,
                AuthPath::Signed,
                &format!("bucket list cursor ({direction}) names only visible buckets"),
                !leaked,
                &format!("cursor {cursor:?}"),
            );
            if cursor.is_none() {
                break;
            }
        }
        w.tally.record_check(
            C,
            AuthPath::Signed,
            &format!("bucket list ({direction}) shows exactly the token's bucket"),
            shown == [MAIN],
            &format!("shown {shown:?}"),
        );
    }

    // --- expiry and lifecycle: a token never outlives or survives its creator --------------
    let short = token(
        w,
        json!({"name": "esc-short", "permission": "admin-read-write",
               "expires_on": "2100-01-01T00:00:00Z"}),
    );
    let r = call(
        w,
        &short.value,
        "POST",
        &tokens,
        Some(
            &json!({"name": "x", "permission": "object-read-only", "expires_on": "2100-01-02T00:00:00Z"}),
        ),
    );
    expect(w, "short-lived admin creates a longer-lived token", 400, &r);
    let r = call(
        w,
        &short.value,
        "POST",
        &tokens,
        Some(&json!({"name": "esc-child", "permission": "object-read-only"})),
    );
    expect(
        w,
        "short-lived admin creates a token without expiry (control)",
        200,
        &r,
    );
    let child = json_of(&r);
    if let Some(v) = child["result"]["value"].as_str() {
        w.secrets.insert(v.to_owned());
    }
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "a token created without expiry inherits its creator's",
        child["result"]["expires_on"] == json!("2100-01-01T00:00:00Z"),
        &format!("expires_on {}", child["result"]["expires_on"]),
    );
    let own = format!("{tokens}/{}", short.id);
    let r = call(
        w,
        &short.value,
        "PUT",
        &own,
        Some(
            &json!({"name": "x", "permission": "admin-read-write", "expires_on": "2200-01-01T00:00:00Z"}),
        ),
    );
    expect(w, "short-lived admin extends its own expiry", 400, &r);
    // Leaving `expires_on` out does not clear it: an absent expiry inherits the caller's.
    let r = call(
        w,
        &short.value,
        "PUT",
        &own,
        Some(&json!({"name": "esc-short", "permission": "admin-read-write"})),
    );
    expect(
        w,
        "short-lived admin updates itself without expires_on",
        200,
        &r,
    );
    let kept = json_of(&r)["result"]["expires_on"].clone();
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "an update without expires_on keeps the caller's expiry (never clears it)",
        kept == json!("2100-01-01T00:00:00Z"),
        &format!("expires_on {kept}"),
    );
    let r = call(
        w,
        &short.value,
        "PUT",
        &own,
        Some(
            &json!({"name": "esc-short", "permission": "admin-read-write", "status": "disabled", "expires_on": "2100-01-01T00:00:00Z"}),
        ),
    );
    expect(w, "admin disables itself (control)", 200, &r);
    let r = call(
        w,
        &short.value,
        "PUT",
        &own,
        Some(
            &json!({"name": "x", "permission": "admin-read-write", "status": "active", "expires_on": "2100-01-01T00:00:00Z"}),
        ),
    );
    expect(w, "disabled token re-enables itself", 401, &r);
    let r = call(
        w,
        &short.value,
        "POST",
        &mint_path,
        Some(&mint(&short.id, MAIN, "object-read-only")),
    );
    expect(w, "disabled token mints", 401, &r);
    let r = call(
        w,
        &w.srv.api_token.clone(),
        "POST",
        &mint_path,
        Some(&mint(&short.id, MAIN, "object-read-only")),
    );
    expect(w, "admin mints from a disabled parent", 400, &r);

    // --- the largest credential the API issues works on every S3 path (weakness 5) ---------
    largest_credential(w, &mint_path);
}

/// Finds the largest prefix scope the API mints (bisection over real requests), checks that
/// one byte more is refused at `/prefixes`, and uses the largest on every S3 auth path.
fn largest_credential(w: &mut World, mint_path: &str) {
    let admin_id = w.admin.access_key.clone();
    let bearer = w.srv.api_token.clone();
    let body = |len: usize| {
        let prefixes: Vec<String> = (0..len.div_ceil(900))
            .map(|i| format!("big{i}/{}", "p".repeat((len - i * 900).min(900) - 1)))
            .collect();
        json!({"bucket": MAIN, "parentAccessKeyId": admin_id, "permission": "object-read-write",
               "ttlSeconds": 600, "prefixes": prefixes})
    };
    let (mut fits, mut too_big) = (900usize, 8000usize);
    while too_big - fits > 1 {
        let mid = (fits + too_big) / 2;
        let r = call(w, &bearer, "POST", mint_path, Some(&body(mid)));
        if r.status == 200 {
            fits = mid;
        } else {
            too_big = mid;
        }
    }
    let over = call(w, &bearer, "POST", mint_path, Some(&body(fits + 1)));
    let pointer = json_of(&over)["errors"][0]["source"]["pointer"].clone();
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "one byte past the largest scope is refused at /prefixes",
        over.status == 400 && pointer == json!("/prefixes"),
        &format!("{} {pointer}", over.status),
    );
    let r = call(w, &bearer, "POST", mint_path, Some(&body(fits)));
    let v = json_of(&r);
    let s = |k: &str| v["result"][k].as_str().unwrap_or_default().to_owned();
    let creds = Creds {
        access_key: s("accessKeyId"),
        secret: s("secretAccessKey"),
        token: Some(s("sessionToken")),
    };
    let len = creds.token.as_ref().map_or(0, String::len);
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "the largest issued session token is 4092..=4096 bytes",
        (4092..=4096).contains(&len),
        &format!("{len} bytes"),
    );
    w.trust(&creds);
    let first = body(fits)["prefixes"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let key = format!("{first}-largest");
    let key = key.as_str();
    w.case(
        C,
        "largest issued credential: PUT in scope",
        &creds,
        Request::new("PUT", mayfly_attack::world::obj(MAIN, key)).body(b"largest".to_vec()),
        Expect::OK,
    );
    w.case(
        C,
        "largest issued credential: GET in scope",
        &creds,
        Request::new("GET", mayfly_attack::world::obj(MAIN, key)),
        Expect::OK,
    );
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
