//! Class 15: conditional requests outside the scope (issue 12, "classes seen in peers'
//! advisories"). `If-Match`, `If-None-Match`, `If-Modified-Since` and `If-Unmodified-Since` on
//! GET and HEAD, and `x-amz-copy-source-if-*` on a CopyObject / UploadPartCopy source, must be
//! answered 403 before any precondition is evaluated: a 304 or 412 would tell whether the key
//! exists and what its ETag is. The access gate runs before the handlers, so the answer is the
//! same whether the object exists, and whether the ETag or date is right.

use mayfly_attack::sign::{AuthPath, Request, http_date};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, OTHER, World, now, obj};

use crate::Fx;

const C: Class = Class::Conditional;

const WRONG_ETAG: &str = "\"0123456789abcdef0123456789abcdef\"";

fn etag_of(w: &mut World, bucket: &str, key: &str) -> String {
    let admin = w.admin.clone();
    let o = w.opts();
    let r = w.send(
        &Request::new("HEAD", obj(bucket, key)),
        &admin,
        AuthPath::Signed,
        &o,
    );
    assert_eq!(r.status, 200, "HEAD {bucket}/{key}");
    r.header("etag").unwrap_or_default().to_owned()
}

/// The eight precondition headers (under `prefix`: `if-` or `x-amz-copy-source-if-`), each
/// with a value that would pass and one that would fail on `etag`.
fn conditions(prefix: &str, etag: &str) -> Vec<(String, String)> {
    let past = http_date(now() - 86_400 * 365);
    let future = http_date(now() + 86_400 * 365);
    [
        ("match", etag.to_owned()),
        ("match", WRONG_ETAG.to_owned()),
        ("none-match", etag.to_owned()),
        ("none-match", "*".to_owned()),
        ("modified-since", future.clone()),
        ("modified-since", past.clone()),
        ("unmodified-since", past),
        ("unmodified-since", future),
    ]
    .into_iter()
    .map(|(h, v)| (format!("{prefix}{h}"), v))
    .collect()
}

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    let hidden_etag = etag_of(w, MAIN, "user-10/HIDDEN");
    let other_etag = etag_of(w, OTHER, "user-1/HIDDEN");
    let targets = [
        (
            "out of scope, exists",
            MAIN,
            "user-10/HIDDEN",
            hidden_etag.as_str(),
        ),
        (
            "out of scope, missing",
            MAIN,
            "user-10/none",
            hidden_etag.as_str(),
        ),
        (
            "other bucket, exists",
            OTHER,
            "user-1/HIDDEN",
            other_etag.as_str(),
        ),
    ];
    let o = w.opts();
    for (what, bucket, key, etag) in targets {
        for (h, v) in conditions("if-", etag) {
            let name = format!("GET {what}: {h}: {v}");
            w.case(
                C,
                &name,
                &s,
                Request::new("GET", obj(bucket, key)).h(&h, &v),
                Expect::DENIED,
            );
            let name = format!("HEAD {what}: {h}: {v}");
            w.case_on(
                C,
                &name,
                &s,
                &Request::new("HEAD", obj(bucket, key)).h(&h, &v),
                &[AuthPath::Signed, AuthPath::Presigned],
                &o,
                |_| Expect::DENIED,
            );
        }
    }
    // The same headers on a read-only credential's own key still work (control): the
    // preconditions are evaluated once the gate has allowed the request.
    let doc_etag = etag_of(w, MAIN, "user-1/doc");
    let ro = fx.scoped_ro.clone();
    let in_scope = |h: &str, v: &str| Request::new("GET", obj(MAIN, "user-1/doc")).h(h, v);
    let not_modified = Expect {
        status: 304,
        code: None,
    };
    for (name, req, expect) in [
        (
            "If-None-Match right ETag",
            in_scope("if-none-match", &doc_etag),
            not_modified,
        ),
        (
            "If-Match right ETag",
            in_scope("if-match", &doc_etag),
            Expect::OK,
        ),
        (
            "If-Match wrong ETag",
            in_scope("if-match", WRONG_ETAG),
            Expect::err(412, "PreconditionFailed"),
        ),
    ] {
        w.case_on(
            C,
            &format!("in scope (control): {name}"),
            &ro,
            &req,
            &[AuthPath::Signed, AuthPath::Presigned],
            &o,
            |_| expect,
        );
    }

    // CopyObject and UploadPartCopy: preconditions on a source outside the scope.
    let upload = w.create_upload(&s, MAIN, "user-1/cond-mp");
    for (what, bucket, key, etag) in targets {
        let src = format!("{bucket}/{key}");
        for (h, v) in conditions("x-amz-copy-source-if-", etag) {
            let copy = Request::new("PUT", obj(MAIN, "user-1/cond-copy"))
                .h("x-amz-copy-source", &src)
                .h(&h, &v);
            w.case(
                C,
                &format!("CopyObject {what}: {h}: {v}"),
                &s,
                copy,
                Expect::DENIED,
            );
            let part = Request::new("PUT", obj(MAIN, "user-1/cond-mp"))
                .q("partNumber", "1")
                .q("uploadId", &upload)
                .h("x-amz-copy-source", &src)
                .h(&h, &v);
            w.case_on(
                C,
                &format!("UploadPartCopy {what}: {h}: {v}"),
                &s,
                &part,
                &[AuthPath::Signed, AuthPath::Presigned],
                &o,
                |_| Expect::DENIED,
            );
        }
    }
    let copy_in = Request::new("PUT", obj(MAIN, "user-1/cond-copy"))
        .h("x-amz-copy-source", &format!("{MAIN}/user-1/doc"))
        .h("x-amz-copy-source-if-match", WRONG_ETAG);
    w.case_on(
        C,
        "CopyObject in scope, wrong source ETag (control)",
        &s,
        &copy_in,
        &[AuthPath::Signed],
        &o,
        |_| Expect::err(412, "PreconditionFailed"),
    );
    let admin = w.admin.clone();
    let r = w.send(
        &Request::new("HEAD", obj(MAIN, "user-1/cond-copy")),
        &admin,
        AuthPath::Signed,
        &o,
    );
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "no conditional copy stored user-1/cond-copy",
        r.status == 404,
        &format!("HEAD answered {}", r.status),
    );
    let r = w.send(
        &Request::new("DELETE", obj(MAIN, "user-1/cond-mp")).q("uploadId", &upload),
        &admin,
        AuthPath::Signed,
        &o,
    );
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "abort the conditional upload",
        r.status == 204,
        &format!("AbortMultipartUpload answered {}", r.status),
    );
}
