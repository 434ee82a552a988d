//! Class 14: signed-request integrity (issue 12, weakness 1). s3s builds the canonical request
//! from the `SignedHeaders` names as written and skips a name that matches no header, so a
//! name in another case, padded or repeated reads as "signed" to anything that normalises it
//! while the signature never covered it. A party that sees a signed PutObject (UploadPart)
//! adds `X-Amz-Copy-Source` to the list plus an unsigned `x-amz-copy-source` header: it must
//! not become a CopyObject (UploadPartCopy). The same gap let a signer leave `host` out
//! (absolute-form target, no `Host`). Every such request is refused before s3s sees it.

use mayfly_attack::http::{Response, xml_all};
use mayfly_attack::sign::{AuthPath, Creds, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, now, obj};

use super::hand::Hand;
use crate::Fx;

const C: Class = Class::Integrity;

const HDR_MALFORMED: Expect = Expect::err(400, "AuthorizationHeaderMalformed");
const QUERY_MALFORMED: Expect = Expect::err(400, "AuthorizationQueryParametersError");

/// Signs `h` by hand, sends it, and records the answer.
pub(crate) fn send(
    w: &mut World,
    class: Class,
    path: AuthPath,
    name: &str,
    creds: &Creds,
    h: &Hand,
    expect: Expect,
) -> Response {
    let (bytes, sig) = h.wire(creds, &w.host);
    w.signatures.insert(sig);
    let r = w.raw(&bytes);
    w.check(class, path, name, expect, &r);
    r
}

/// The names the hand signer signs for a header-auth request with a session token, in order.
const SIGNED: [&str; 4] = [
    "host",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-security-token",
];

/// `SignedHeaders` texts an editor can write so that s3s still verifies the original
/// signature (every added name is one it skips) but a normalising reader sees the copy source
/// signed; the last ones are refused only because the list is not in the one SigV4 form.
fn tampered_lists() -> Vec<(&'static str, String)> {
    let l = SIGNED.join(";");
    let before_date =
        |ins: &str| format!("host;x-amz-content-sha256;{ins};x-amz-date;x-amz-security-token");
    vec![
        (
            "X-Amz-Copy-Source appended",
            format!("{l};X-Amz-Copy-Source"),
        ),
        (
            "X-Amz-Copy-Source first (byte order)",
            format!("X-Amz-Copy-Source;{l}"),
        ),
        (
            "x-amz-Copy-Source in place",
            before_date("x-amz-Copy-Source"),
        ),
        (
            "X-AMZ-COPY-SOURCE appended",
            format!("{l};X-AMZ-COPY-SOURCE"),
        ),
        ("leading space", format!("{l}; x-amz-copy-source")),
        (
            "trailing space, in place",
            before_date("x-amz-copy-source "),
        ),
        ("leading tab", format!("{l};\tx-amz-copy-source")),
        (
            "empty name then X-Amz-Copy-Source",
            format!("{l};;X-Amz-Copy-Source"),
        ),
        (
            "duplicate names plus X-Amz-Copy-Source",
            "host;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;X-Amz-Copy-Source"
                .to_owned(),
        ),
        ("lowercase, unsorted", format!("{l};x-amz-copy-source")),
        ("Host capitalised", l.replacen("host", "Host", 1)),
    ]
}

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let admin = w.admin.clone();
    // Whole-bucket read-write: the copy itself would be allowed, so only integrity stops it.
    let whole = fx.whole.clone();
    let src = format!("{MAIN}/user-1/doc");
    let body = b"report bytes".to_vec();
    let put = |t: u64| {
        let mut h = Hand::new("PUT", &obj(MAIN, "integrity/report.txt"), t);
        h.body = body.clone();
        h
    };

    // --- PutObject -> CopyObject ------------------------------------------------------------
    for (name, list) in tampered_lists() {
        let mut h = put(now());
        h.list = Some(list);
        h.unsigned = vec![("x-amz-copy-source".into(), src.clone())];
        send(
            w,
            C,
            AuthPath::Signed,
            &format!("PutObject -> CopyObject: {name}"),
            &whole,
            &h,
            HDR_MALFORMED,
        );
    }
    let mut h = put(now());
    h.unsigned = vec![("x-amz-copy-source".into(), src.clone())];
    send(
        w,
        C,
        AuthPath::Signed,
        "PutObject -> CopyObject: unsigned x-amz-copy-source only",
        &whole,
        &h,
        Expect::DENIED,
    );
    // Written in the one SigV4 form, the name reaches s3s, which signs over the header: the
    // captured signature no longer matches.
    let mut h = put(now());
    h.list =
        Some("host;x-amz-content-sha256;x-amz-copy-source;x-amz-date;x-amz-security-token".into());
    h.unsigned = vec![("x-amz-copy-source".into(), src.clone())];
    send(
        w,
        C,
        AuthPath::Signed,
        "PutObject -> CopyObject: lowercase, sorted (s3s checks it)",
        &whole,
        &h,
        Expect::BAD_SIG,
    );
    let o = w.opts();
    let r = w.send(
        &Request::new("HEAD", obj(MAIN, "integrity/report.txt")),
        &admin,
        AuthPath::Signed,
        &o,
    );
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "no tampered PutObject stored integrity/report.txt",
        r.status == 404,
        &format!("HEAD answered {}", r.status),
    );
    let mut h = Hand::new("PUT", &obj(MAIN, "integrity/control.txt"), now());
    h.body = body.clone();
    send(
        w,
        C,
        AuthPath::Signed,
        "hand-signed PutObject (control)",
        &whole,
        &h,
        Expect::OK,
    );

    // --- UploadPart -> UploadPartCopy -------------------------------------------------------
    let key = "integrity/multipart";
    let upload = w.create_upload(&whole, MAIN, key);
    let part = |n: &str| {
        let mut h = Hand::new("PUT", &obj(MAIN, key), now())
            .q("partNumber", n)
            .q("uploadId", &upload);
        h.body = body.clone();
        h
    };
    for (name, list) in tampered_lists() {
        let mut h = part("1");
        h.list = Some(list);
        h.unsigned = vec![("x-amz-copy-source".into(), src.clone())];
        send(
            w,
            C,
            AuthPath::Signed,
            &format!("UploadPart -> UploadPartCopy: {name}"),
            &whole,
            &h,
            HDR_MALFORMED,
        );
    }
    let mut h = part("1");
    h.unsigned = vec![
        ("x-amz-copy-source".into(), src.clone()),
        ("x-amz-copy-source-range".into(), "bytes=0-3".into()),
    ];
    send(
        w,
        C,
        AuthPath::Signed,
        "UploadPart -> UploadPartCopy: unsigned copy-source headers only",
        &whole,
        &h,
        Expect::DENIED,
    );
    send(
        w,
        C,
        AuthPath::Signed,
        "hand-signed UploadPart 2 (control)",
        &whole,
        &part("2"),
        Expect::OK,
    );
    let o = w.opts();
    let r = w.send(
        &Request::new("GET", obj(MAIN, key)).q("uploadId", &upload),
        &admin,
        AuthPath::Signed,
        &o,
    );
    let parts = xml_all(&r.body, "PartNumber");
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "no tampered UploadPart stored part 1",
        r.status == 200 && parts == ["2"],
        &format!("ListParts answered {} with parts {parts:?}", r.status),
    );
    let r = w.send(
        &Request::new("DELETE", obj(MAIN, key)).q("uploadId", &upload),
        &admin,
        AuthPath::Signed,
        &o,
    );
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "abort the integrity upload",
        r.status == 204,
        &format!("AbortMultipartUpload answered {}", r.status),
    );

    // --- Presigned: the holder wrote a list s3s partly skips ---------------------------------
    // A URL for a CopyObject whose signer spelled the copy-source name its own way: s3s never
    // signed the source, so whoever holds the URL could copy from anywhere.
    for (name, list) in [
        ("X-Amz-Copy-Source", "host;X-Amz-Copy-Source"),
        (" x-amz-copy-source", "host; x-amz-copy-source"),
        (
            "x-amz-copy-source;host (unsorted)",
            "x-amz-copy-source;host",
        ),
        ("host;host", "host;host"),
        ("empty", ""),
    ] {
        let mut h = Hand::new("PUT", &obj(MAIN, "integrity/presigned-copy"), now());
        h.presign = Some("600".into());
        h.covered = Some(vec!["host".into()]);
        h.list = Some(list.into());
        h.unsigned = vec![("x-amz-copy-source".into(), src.clone())];
        send(
            w,
            C,
            AuthPath::Presigned,
            &format!("presigned X-Amz-SignedHeaders {name}"),
            &whole,
            &h,
            QUERY_MALFORMED,
        );
    }
    // Properly signed, the source is bound: another one fails the signature.
    let mut h = Hand::new("PUT", &obj(MAIN, "integrity/presigned-copy"), now())
        .h("x-amz-copy-source", &format!("{MAIN}/dir/doc"));
    h.presign = Some("600".into());
    h.covered = Some(vec!["host".into(), "x-amz-copy-source".into()]);
    send(
        w,
        C,
        AuthPath::Presigned,
        "presigned CopyObject, signed source (control)",
        &whole,
        &h,
        Expect::OK,
    );
    let (bytes, sig) = {
        // Sign with the first source, send the second: the covered header changes value.
        let (b, s) = h.wire(&whole, &w.host);
        let text = String::from_utf8_lossy(&b).replace(
            &format!("x-amz-copy-source: {MAIN}/dir/doc"),
            &format!("x-amz-copy-source: {src}"),
        );
        (text.into_bytes(), s)
    };
    w.signatures.insert(sig);
    let r = w.raw(&bytes);
    w.check(
        C,
        AuthPath::Presigned,
        "presigned CopyObject, source swapped",
        Expect::BAD_SIG,
        &r,
    );

    // --- host ---------------------------------------------------------------------------------
    let s = fx.scoped.clone();
    let get = || Hand::new("GET", &obj(MAIN, "user-1/doc"), now());
    let not_host: Vec<String> = SIGNED[1..].iter().map(|n| (*n).to_owned()).collect();
    let mut h = get();
    h.covered = Some(not_host.clone());
    send(
        w,
        C,
        AuthPath::Signed,
        "host not signed (Host sent)",
        &s,
        &h,
        Expect::DENIED,
    );
    let mut h = get().h("content-type", "text/plain");
    h.presign = Some("600".into());
    h.covered = Some(vec!["content-type".into()]);
    send(
        w,
        C,
        AuthPath::Presigned,
        "presigned, host not signed",
        &s,
        &h,
        Expect::DENIED,
    );
    // The replay: `host` listed but not hashed, no Host header, absolute-form target.
    let absolute = format!("http://{}{}", w.host, obj(MAIN, "user-1/doc"));
    let mut h = get();
    h.covered = Some(not_host.clone());
    h.list = Some(SIGNED.join(";"));
    h.no_host = true;
    h.target = Some(absolute.clone());
    send(
        w,
        C,
        AuthPath::Signed,
        "absolute-form, no Host, host listed but not signed",
        &s,
        &h,
        Expect::INVALID_REQUEST,
    );
    let mut h = get();
    h.no_host = true;
    h.target = Some(absolute.clone());
    send(
        w,
        C,
        AuthPath::Signed,
        "absolute-form, no Host, host signed",
        &s,
        &h,
        Expect::INVALID_REQUEST,
    );
    let mut h = get();
    h.presign = Some("600".into());
    h.no_host = true;
    h.target = None;
    let (bytes, sig) = h.wire(&s, &w.host);
    w.signatures.insert(sig);
    // Same presigned URL, sent in absolute form without Host.
    let text = String::from_utf8_lossy(&bytes).replacen(
        &format!("GET {}", obj(MAIN, "user-1/doc")),
        &format!("GET {absolute}"),
        1,
    );
    let r = w.raw(text.as_bytes());
    w.check(
        C,
        AuthPath::Presigned,
        "presigned, absolute-form, no Host",
        Expect::INVALID_REQUEST,
        &r,
    );
    let mut h = get();
    h.no_host = true;
    send(
        w,
        C,
        AuthPath::Signed,
        "origin-form, no Host",
        &s,
        &h,
        Expect::INVALID_REQUEST,
    );
    let mut h = get();
    h.target = Some(format!("http://evil.example:80{}", obj(MAIN, "user-1/doc")));
    send(
        w,
        C,
        AuthPath::Signed,
        "absolute-form naming another host than Host",
        &s,
        &h,
        Expect::INVALID_REQUEST,
    );
    let mut h = get();
    h.target = Some(absolute);
    send(
        w,
        C,
        AuthPath::Signed,
        "absolute-form with the same Host (control)",
        &s,
        &h,
        Expect::OK,
    );
    let mut h = get();
    h.unsigned = vec![("host".into(), w.host.clone())];
    send(
        w,
        C,
        AuthPath::Signed,
        "Host sent twice",
        &s,
        &h,
        Expect::err(400, "InvalidArgument"),
    );
}
