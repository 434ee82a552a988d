//! Class 13: error oracles. Out of scope, an existing and a missing key (or bucket, or
//! upload) answer byte-for-byte the same (request ids aside), so a credential learns nothing
//! about what it cannot read. "No 5xx anywhere" is checked by every case of every class.

use mayfly_attack::http::Response;
use mayfly_attack::sign::{AuthPath, Creds, Request};
use mayfly_attack::tally::Class;
use mayfly_attack::world::{MAIN, OTHER, World, obj};

use crate::Fx;

const C: Class = Class::Oracle;

fn normal(r: &Response) -> (u16, String) {
    let mut t = r.text();
    for tag in ["RequestId", "HostId"] {
        while let (Some(a), Some(b)) = (t.find(&format!("<{tag}>")), t.find(&format!("</{tag}>"))) {
            if b < a {
                break;
            }
            t.replace_range(a..b + tag.len() + 3, "");
        }
    }
    (r.status, t)
}

fn compare(w: &mut World, name: &str, creds: &Creds, a: Request, b: Request) {
    let o = w.opts();
    for p in AuthPath::ALL {
        let ra = w.send(&a, creds, p, &o);
        let rb = w.send(&b, creds, p, &o);
        let (na, nb) = (normal(&ra), normal(&rb));
        let same = na == nb && ra.status >= 400 && ra.status < 500;
        w.tally.record_check(
            C,
            p,
            name,
            same,
            &format!("{} {:?} vs {} {:?}", na.0, ra.code(), nb.0, rb.code()),
        );
    }
}

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    let admin = w.admin.clone();
    let upload = w.create_upload(&admin, MAIN, "user-10/HIDDEN-oracle");
    let get = |k: &str| Request::new("GET", obj(MAIN, k));
    let head = |k: &str| Request::new("HEAD", obj(MAIN, k));
    compare(
        w,
        "GET existing vs missing out-of-scope key",
        &s,
        get("user-10/HIDDEN"),
        get("user-10/missing"),
    );
    compare(
        w,
        "GET existing vs missing, case twin",
        &s,
        get("User-1/HIDDEN"),
        get("User-1/missing"),
    );
    compare(
        w,
        "HEAD existing vs missing out-of-scope key",
        &s,
        head("user-10/HIDDEN"),
        head("user-10/missing"),
    );
    compare(
        w,
        "GET Range existing vs missing",
        &s,
        get("user-10/HIDDEN").h("range", "bytes=0-1"),
        get("user-10/missing").h("range", "bytes=0-1"),
    );
    compare(
        w,
        "GET If-Match existing vs missing",
        &s,
        get("user-10/HIDDEN").h("if-match", "\"x\""),
        get("user-10/missing").h("if-match", "\"x\""),
    );
    compare(
        w,
        "DELETE existing vs missing",
        &s,
        Request::new("DELETE", obj(MAIN, "user-10/HIDDEN")),
        Request::new("DELETE", obj(MAIN, "user-10/missing")),
    );
    compare(
        w,
        "GET existing other bucket vs missing bucket",
        &s,
        Request::new("GET", obj(OTHER, "user-1/HIDDEN")),
        Request::new("GET", obj("atk-missing", "user-1/HIDDEN")),
    );
    compare(
        w,
        "HEAD bucket: other vs missing",
        &s,
        Request::new("HEAD", format!("/{OTHER}")),
        Request::new("HEAD", "/atk-missing".to_string()),
    );
    compare(
        w,
        "ListParts real vs fake upload, out of scope",
        &s,
        Request::new("GET", obj(MAIN, "user-10/HIDDEN-oracle")).q("uploadId", &upload),
        Request::new("GET", obj(MAIN, "user-10/HIDDEN-oracle")).q(
            "uploadId",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
    );
    compare(
        w,
        "copy from existing vs missing source",
        &s,
        Request::new("PUT", obj(MAIN, "user-1/o"))
            .h("x-amz-copy-source", &format!("{MAIN}/user-10/HIDDEN")),
        Request::new("PUT", obj(MAIN, "user-1/o"))
            .h("x-amz-copy-source", &format!("{MAIN}/user-10/missing")),
    );
    compare(
        w,
        "list existing vs empty out-of-scope prefix",
        &s,
        Request::new("GET", format!("/{MAIN}"))
            .q("list-type", "2")
            .q("prefix", "user-10/"),
        Request::new("GET", format!("/{MAIN}"))
            .q("list-type", "2")
            .q("prefix", "nothing-here/"),
    );
    // Bad token, expired token: same answer whether or not the key exists.
    let ro = fx.scoped_ro.clone();
    compare(
        w,
        "read-only PUT over existing vs missing",
        &ro,
        Request::new("PUT", obj(MAIN, "user-1/doc")).body(b"x".to_vec()),
        Request::new("PUT", obj(MAIN, "user-1/missing")).body(b"x".to_vec()),
    );
}
