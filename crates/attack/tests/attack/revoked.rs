//! Class 19: one revoked temporary credential (issue 15, a Mayfly extension). Revoked by
//! session token or by id, it is refused on every auth path (requests signed and URLs
//! presigned *before* the revocation included) within a second on every node, an upload whose
//! body is still arriving when the revocation lands stores nothing, and siblings from the same
//! parent keep working.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use mayfly_attack::http::read_response;
use mayfly_attack::sign::{AuthPath, Creds, Request, sign};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, obj};
use serde_json::json;

use crate::Fx;

const C: Class = Class::Revoked;

/// The longest any node may go on accepting a revoked credential.
const CONVERGENCE: Duration = Duration::from_secs(1);

fn revoke(w: &mut World, body: serde_json::Value) {
    let path = format!(
        "/mayfly/accounts/{}/r2/temp-access-credentials/revocations",
        w.account
    );
    let r = w.srv.api("POST", &path, Some(&body));
    assert_eq!(r.status, 200, "revoke: {}", r.text());
}

/// The credential id, computed independently of the server from the documented derivation:
/// hex of the first 16 bytes of SHA-256("mayfly credential id v1" 0x00 || header.payload).
fn credential_id(creds: &Creds) -> String {
    use base64::Engine;
    use sha2::Digest;
    let token = creds.token.clone().unwrap_or_default();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap_or_default();
    let jwt = raw.strip_prefix(b"jwt/").unwrap_or_default();
    let signing_input = match jwt.iter().rposition(|b| *b == b'.') {
        Some(i) => &jwt[..i],
        None => jwt,
    };
    let mut h = sha2::Sha256::new();
    h.update(b"mayfly credential id v1\0");
    h.update(signing_input);
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn run(w: &mut World, _fx: &Fx) {
    let (parent, _) = w.create_token("object-read-write", &[]);
    let by_token = w.mint_api(
        &parent.creds.access_key,
        MAIN,
        "object-read-write",
        &["user-1/"],
        &[],
        3600,
    );
    let sibling = w.mint_api(
        &parent.creds.access_key,
        MAIN,
        "object-read-write",
        &["user-1/"],
        &[],
        // Identical claims minted in one second would be the very same credential.
        3599,
    );
    let mut c = w.claims(&parent.creds, MAIN, "object-read-write");
    c.prefixes = Some(vec!["user-1/".into()]);
    c.exp -= 2;
    let by_id = w.mint(&c, &parent.creds.secret);

    let get = Request::new("GET", obj(MAIN, "user-1/doc"));
    let put = |key: &str| {
        Request::new("PUT", obj(MAIN, &format!("user-1/{key}"))).body(b"revoked body".to_vec())
    };
    for (name, creds) in [("by session token", &by_token), ("by id", &by_id)] {
        w.case(
            C,
            &format!("{name}: GET before (control)"),
            creds,
            get.clone(),
            Expect::OK,
        );
    }

    // Requests signed, and URLs presigned, before the revocation; sent after it.
    let o = w.opts();
    let mut early = Vec::new();
    for (name, creds) in [("by session token", &by_token), ("by id", &by_id)] {
        for p in AuthPath::ALL {
            for (what, req) in [
                ("GET", get.clone()),
                ("PUT", put(&format!("early-{}", p.name()))),
            ] {
                let wire = sign(&req, creds, &w.host, p, &o);
                w.signatures.extend(wire.signatures.iter().cloned());
                early.push((
                    format!("{name}: {what} signed before revocation"),
                    p,
                    wire.bytes,
                ));
            }
        }
    }

    // A PUT whose head and first bytes are on the wire when the revocation lands.
    let in_flight = put("in-flight");
    let wire = sign(&in_flight, &by_token, &w.host, AuthPath::Signed, &o);
    w.signatures.extend(wire.signatures.iter().cloned());
    let head = wire
        .bytes
        .windows(4)
        .position(|x| x == b"\r\n\r\n")
        .map_or(0, |i| i + 4);
    let split = (head + 4).min(wire.bytes.len());
    let mut stream = TcpStream::connect(&w.host).ok();
    if let Some(s) = stream.as_mut() {
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let _ = s.write_all(&wire.bytes[..split]);
    }

    let token = by_token.token.clone().unwrap_or_default();
    revoke(w, json!({ "sessionToken": token }));
    let id = credential_id(&by_id);
    revoke(w, json!({ "credentialId": id }));
    // Every node must refuse within a second (this node at once; others by notification,
    // or by the cache TTL if notifications are lost).
    std::thread::sleep(CONVERGENCE);

    match stream {
        Some(mut s) => {
            let _ = s.write_all(&wire.bytes[split..]);
            let r = read_response(&mut s);
            w.check(
                C,
                AuthPath::Signed,
                "PUT in flight when revoked",
                Expect::DENIED,
                &r,
            );
        }
        None => w.tally.record_check(
            C,
            AuthPath::Signed,
            "PUT in flight",
            false,
            "cannot connect",
        ),
    }
    let admin = w.admin.clone();
    let o = w.opts();
    let r = w.send(
        &Request::new("GET", obj(MAIN, "user-1/in-flight")),
        &admin,
        AuthPath::Signed,
        &o,
    );
    w.check(
        C,
        AuthPath::Signed,
        "PUT in flight when revoked: nothing stored",
        Expect::err(404, "NoSuchKey"),
        &r,
    );

    for (name, p, bytes) in early {
        let r = w.raw(&bytes);
        let expect = if p == AuthPath::SigV2 {
            Expect::INVALID_REQUEST
        } else {
            Expect::DENIED
        };
        w.check(C, p, &name, expect, &r);
    }
    for (name, creds) in [("by session token", &by_token), ("by id", &by_id)] {
        w.case(
            C,
            &format!("{name}: GET after"),
            creds,
            get.clone(),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("{name}: PUT after"),
            creds,
            put("after"),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("{name}: DELETE after"),
            creds,
            Request::new("DELETE", obj(MAIN, "user-1/doc")),
            Expect::DENIED,
        );
        w.case(
            C,
            &format!("{name}: ListObjectsV2 after"),
            creds,
            Request::new("GET", format!("/{MAIN}"))
                .q("list-type", "2")
                .q("prefix", "user-1/"),
            Expect::DENIED,
        );
    }
    // The sibling from the same parent is untouched.
    w.case(C, "sibling: GET after (control)", &sibling, get, Expect::OK);
}
