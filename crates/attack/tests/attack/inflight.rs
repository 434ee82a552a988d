//! Class 17: writes in flight (issue 12, weakness 2). Authorization runs when a request starts;
//! a write commits when its body ends. A credential that expires, or a parent that is revoked
//! or downgraded, while the body is still arriving must store nothing: the server decides again
//! right before the commit. The cases send the head and a few body bytes, change the world,
//! keep the body trickling (a byte every 400 ms, so the body idle timeout never fires), then
//! send the rest. Every case has a control that trickles the same way and succeeds.
//!
//! Slow clients: headers that never end are cut off by the header read timeout, and a body
//! that stops is answered `RequestTimeout` within the body idle timeout, storing nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mayfly_attack::http::{Response, read_response};
use mayfly_attack::server::{BODY_READ_TIMEOUT_SECS, HEADER_READ_TIMEOUT_SECS};
use mayfly_attack::sign::{AuthPath, Creds, Request, sign};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, now, obj};

use crate::Fx;

const C: Class = Class::InFlight;

/// Body bytes sent with the head, before the world changes.
const FIRST: usize = 10;
/// Pause between trickled body bytes: well under the suite's body idle timeout.
const TRICKLE: Duration = Duration::from_millis(400);

/// A request whose head and first body bytes are on the wire, the rest held back.
struct Open {
    stream: TcpStream,
    rest: Vec<u8>,
}

/// Signs `req` and sends its head plus [`FIRST`] body bytes.
fn open(w: &mut World, req: &Request, creds: &Creds, path: AuthPath) -> Option<Open> {
    let o = w.opts();
    let wire = sign(req, creds, &w.host, path, &o);
    w.signatures.extend(wire.signatures.iter().cloned());
    let head = wire.bytes.windows(4).position(|x| x == b"\r\n\r\n")? + 4;
    let split = (head + FIRST).min(wire.bytes.len());
    let mut stream = TcpStream::connect(&w.host).ok()?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    stream.write_all(&wire.bytes[..split]).ok()?;
    Some(Open {
        stream,
        rest: wire.bytes[split..].to_vec(),
    })
}

impl Open {
    /// Sends one held-back byte every [`TRICKLE`] for at least `how_long`, keeping at least
    /// two bytes back.
    fn trickle(&mut self, how_long: Duration) {
        let until = Instant::now() + how_long;
        while Instant::now() < until && self.rest.len() > 2 {
            if self.stream.write_all(&self.rest[..1]).is_err() {
                return;
            }
            self.rest.remove(0);
            std::thread::sleep(TRICKLE);
        }
    }

    /// Sends the rest and reads the answer.
    fn finish(mut self) -> Response {
        let _ = self.stream.write_all(&self.rest);
        read_response(&mut self.stream)
    }
}

/// A body long enough to trickle for a few seconds, even with aws-chunk framing.
fn body(tag: &str) -> Vec<u8> {
    format!("{tag}: {}", "in flight ".repeat(12)).into_bytes()
}

/// The key must not exist: the refused write stored nothing (200 would be an escape).
fn nothing_stored(w: &mut World, path: AuthPath, name: &str, key: &str) {
    let admin = w.admin.clone();
    let o = w.opts();
    let r = w.send(
        &Request::new("GET", obj(MAIN, key)),
        &admin,
        AuthPath::Signed,
        &o,
    );
    w.check(
        C,
        path,
        &format!("{name}: nothing stored"),
        Expect::err(404, "NoSuchKey"),
        &r,
    );
}

/// A temporary credential under `parent` for `inflight/` in MAIN, alive for `ttl` seconds,
/// and its `exp`.
fn temp_until(w: &mut World, parent: &Creds, ttl: i64) -> (Creds, u64) {
    let mut c = w.claims(parent, MAIN, "object-read-write");
    c.prefixes = Some(vec!["inflight/".into()]);
    let t = i64::try_from(now()).unwrap_or(0);
    c.iat = t - 5;
    c.exp = t + ttl;
    (
        w.mint(&c, &parent.secret),
        u64::try_from(c.exp).unwrap_or(0),
    )
}

/// [`temp_until`] for an hour.
fn temp(w: &mut World, parent: &Creds) -> Creds {
    temp_until(w, parent, 3600).0
}

pub(crate) fn run(w: &mut World, _fx: &Fx) {
    expiry_mid_body(w);
    parent_changes_mid_body(w);
    multipart_after_revocation(w);
    slow_clients(w);
}

/// A credential alive for 3 s: head and 10 bytes sent while alive, the rest after `exp`.
fn expiry_mid_body(w: &mut World) {
    let admin = w.admin.clone();
    for path in [AuthPath::Signed, AuthPath::Unsigned, AuthPath::Streaming] {
        // Control: the same slow upload with a live credential is stored.
        let key = format!("inflight/control-{}", path.name());
        let live = temp(w, &admin);
        let req = Request::new("PUT", obj(MAIN, &key)).body(body("control"));
        if let Some(mut o) = open(w, &req, &live, path) {
            o.trickle(Duration::from_millis(1200));
            let r = o.finish();
            w.check(
                C,
                path,
                "slow upload, live credential (control)",
                Expect::OK,
                &r,
            );
        }

        let key = format!("inflight/expired-{}", path.name());
        let (short, exp) = temp_until(w, &admin, 3);
        let req = Request::new("PUT", obj(MAIN, &key)).body(body("expired"));
        let Some(mut o) = open(w, &req, &short, path) else {
            w.tally
                .record_check(C, path, "expiry mid-body", false, "cannot connect");
            continue;
        };
        // Trickle until a second past exp.
        while now() <= exp {
            o.trickle(TRICKLE);
        }
        let r = o.finish();
        let name = "credential expired mid-body";
        w.check(C, path, name, Expect::EXPIRED, &r);
        nothing_stored(w, path, name, &key);
    }
}

/// The parent is revoked, or downgraded to read-only, after the head was accepted.
fn parent_changes_mid_body(w: &mut World) {
    let path = AuthPath::Signed;
    for change in [
        "revoked",
        "downgraded to read-only",
        "restricted to another bucket",
    ] {
        let (parent, id) = w.create_token("object-read-write", &[]);
        let cred = temp(w, &parent.creds);
        let key = format!("inflight/parent-{}", change.replace(' ', "-"));
        let req = Request::new("PUT", obj(MAIN, &key)).body(body(change));
        let Some(mut o) = open(w, &req, &cred, path) else {
            w.tally
                .record_check(C, path, change, false, "cannot connect");
            continue;
        };
        o.trickle(TRICKLE);
        match change {
            "revoked" => w.revoke(&id),
            "downgraded to read-only" => w.update_token(&id, "object-read-only", &[]),
            _ => w.update_token(&id, "object-read-write", &[mayfly_attack::world::OTHER]),
        }
        o.trickle(Duration::from_millis(800));
        let r = o.finish();
        let name = format!("parent {change} mid-body");
        w.check(C, path, &name, Expect::DENIED, &r);
        nothing_stored(w, path, &name, &key);
    }
    // The long-lived key itself, mid-body, is held to the same rule.
    let (own, id) = w.create_token("object-read-write", &[]);
    let key = "inflight/own-key-downgraded";
    let req = Request::new("PUT", obj(MAIN, key)).body(body("own key"));
    if let Some(mut o) = open(w, &req, &own.creds, path) {
        o.trickle(TRICKLE);
        w.update_token(&id, "object-read-only", &[]);
        o.trickle(Duration::from_millis(800));
        let r = o.finish();
        let name = "token's own key downgraded mid-body";
        w.check(C, path, name, Expect::DENIED, &r);
        nothing_stored(w, path, name, key);
    }
}

/// Multipart under a parent revoked mid-part and before Complete.
fn multipart_after_revocation(w: &mut World) {
    let path = AuthPath::Signed;
    let admin = w.admin.clone();
    let part = |upload: &str, n: u32| {
        Request::new("PUT", obj(MAIN, "inflight/mp"))
            .q("partNumber", &n.to_string())
            .q("uploadId", upload)
            .body(body("part"))
    };
    let complete = |upload: &str, etag: &str| {
        Request::new("POST", obj(MAIN, "inflight/mp"))
            .q("uploadId", upload)
            .body(format!(
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
            ).into_bytes())
    };
    // Control: a slow part with the parent alive is committed.
    let (parent, id) = w.create_token("object-read-write", &[]);
    let cred = temp(w, &parent.creds);
    let upload = w.create_upload(&cred, MAIN, "inflight/mp");
    let mut etag = String::new();
    if let Some(mut o) = open(w, &part(&upload, 1), &cred, path) {
        o.trickle(Duration::from_millis(800));
        let r = o.finish();
        etag = r.header("etag").unwrap_or_default().to_owned();
        w.check(
            C,
            path,
            "slow UploadPart, parent active (control)",
            Expect::OK,
            &r,
        );
    }
    // Part 2: the parent is revoked while its body arrives.
    if let Some(mut o) = open(w, &part(&upload, 2), &cred, path) {
        o.trickle(TRICKLE);
        w.revoke(&id);
        o.trickle(Duration::from_millis(800));
        let r = o.finish();
        w.check(
            C,
            path,
            "UploadPart, parent revoked mid-body",
            Expect::DENIED,
            &r,
        );
    }
    let o = w.opts();
    let listed = w.send(
        &Request::new("GET", obj(MAIN, "inflight/mp")).q("uploadId", &upload),
        &admin,
        AuthPath::Signed,
        &o,
    );
    let parts = mayfly_attack::http::xml_all(&listed.body, "PartNumber");
    w.tally.record_check(
        C,
        path,
        "UploadPart refused mid-body: no part 2 committed",
        listed.status == 200 && parts == ["1"],
        &format!("ListParts as admin: {} {:?}", listed.status, parts),
    );
    // Complete after the revocation: refused, nothing stored.
    w.case_on(
        C,
        "CompleteMultipartUpload after the parent's revocation",
        &cred,
        &complete(&upload, &etag),
        &[AuthPath::Signed],
        &o,
        |_| Expect::DENIED,
    );
    nothing_stored(w, path, "Complete after revocation", "inflight/mp");

    // Complete whose parent is revoked while the XML body arrives.
    let (parent, id) = w.create_token("object-read-write", &[]);
    let cred = temp(w, &parent.creds);
    let upload = w.create_upload(&cred, MAIN, "inflight/mp");
    let o = w.opts();
    let r = w.send(&part(&upload, 1), &cred, path, &o);
    let etag = r.header("etag").unwrap_or_default().to_owned();
    if let Some(mut o) = open(w, &complete(&upload, &etag), &cred, path) {
        o.trickle(TRICKLE);
        w.revoke(&id);
        o.trickle(Duration::from_millis(800));
        let r = o.finish();
        w.check(
            C,
            path,
            "Complete, parent revoked mid-body",
            Expect::DENIED,
            &r,
        );
    }
    nothing_stored(w, path, "Complete revoked mid-body", "inflight/mp");
}

/// Reads until the server closes the connection or `limit` passes; returns how long it took
/// and whatever arrived.
fn wait_for_close(
    stream: &mut TcpStream,
    limit: Duration,
    keep_sending: bool,
) -> (Option<Duration>, Vec<u8>) {
    let start = Instant::now();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return (Some(start.elapsed()), got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if keep_sending {
                    // Another header byte, never the end of the headers.
                    let _ = stream.write_all(b"a");
                }
            }
            Err(_) => return (Some(start.elapsed()), got),
        }
    }
    (None, got)
}

/// Slow-loris: headers that never end, and a body that stops.
fn slow_clients(w: &mut World) {
    let path = AuthPath::Signed;
    let margin = Duration::from_secs(3);

    // Headers trickling forever: closed by the header read timeout.
    if let Ok(mut s) = TcpStream::connect(&w.host) {
        let head = format!(
            "GET /{MAIN}/inflight/x HTTP/1.1\r\nhost: {}\r\nx-slow: ",
            w.host
        );
        let _ = s.write_all(head.as_bytes());
        let limit = Duration::from_secs(HEADER_READ_TIMEOUT_SECS) + margin;
        let (closed, _) = wait_for_close(&mut s, limit, true);
        w.tally.record_check(
            C,
            path,
            "headers sent slowly are cut off by the header read timeout",
            closed.is_some(),
            &format!("connection still open after {limit:?}"),
        );
    }

    // A body that stops: 400 RequestTimeout within the body idle timeout, nothing stored.
    let admin = w.admin.clone();
    let key = "inflight/stalled";
    let req = Request::new("PUT", obj(MAIN, key)).body(body("stalled"));
    if let Some(mut o) = open(w, &req, &admin, path) {
        let limit = Duration::from_secs(BODY_READ_TIMEOUT_SECS) + margin;
        let (closed, got) = wait_for_close(&mut o.stream, limit, false);
        let r = mayfly_attack::http::parse_response(&got);
        w.check(
            C,
            path,
            "body that stops is answered RequestTimeout",
            Expect::err(400, "RequestTimeout"),
            &r,
        );
        w.tally.record_check(
            C,
            path,
            "stalled body: the connection is closed",
            closed.is_some(),
            &format!("connection still open after {limit:?}"),
        );
        nothing_stored(w, path, "stalled body", key);
    }
}
