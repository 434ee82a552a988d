//! Class 5: DeleteObjects bodies mixing in- and out-of-scope keys (every key is checked and
//! nothing is deleted when one is refused), and multipart calls on upload ids created by
//! another credential or for an out-of-scope key (an upload id is not a capability).

use mayfly_attack::http::xml_field;
use mayfly_attack::sign::{AuthPath, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, OTHER, World, obj};

use crate::Fx;

const C: Class = Class::BatchMultipart;

fn delete_body(keys: &[&str]) -> Vec<u8> {
    let mut b = String::from("<Delete>");
    for k in keys {
        b.push_str(&format!("<Object><Key>{k}</Key></Object>"));
    }
    b.push_str("<Quiet>true</Quiet></Delete>");
    b.into_bytes()
}

/// s3s reads XML bodies whole and compares their decoded length with `Content-Length`, so an
/// aws-chunked XML body is refused (400 IncompleteBody) before authorization runs: on those
/// paths the expectation is that refusal; the other paths carry the authorization cases.
fn xml_case(
    w: &mut World,
    name: &str,
    creds: &mayfly_attack::sign::Creds,
    req: Request,
    expect: Expect,
) {
    let o = w.opts();
    let has_xml = req.method == "POST" && !req.body.is_empty();
    // DeleteObjects is authorized per key after the body is parsed; Complete on its path key
    // before the body is read.
    let body_first = req.query.iter().any(|(k, _)| k == "delete");
    w.case_on(C, name, creds, &req, &AuthPath::ALL, &o, |p| {
        if has_xml && p.is_streaming() && (body_first || expect != Expect::DENIED) {
            Expect::err(400, "IncompleteBody")
        } else {
            expect
        }
    });
}

fn delete(bucket: &str, body: Vec<u8>) -> Request {
    Request::new("POST", format!("/{bucket}"))
        .q("delete", "")
        .body(body)
}

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("in + out", delete_body(&["user-1/doc", "user-10/HIDDEN"])),
        ("out + in", delete_body(&["user-10/HIDDEN", "user-1/doc"])),
        ("out only", delete_body(&["a/bcHIDDEN"])),
        ("case twin", delete_body(&["user-1/doc", "User-1/HIDDEN"])),
        (
            "entity-encoded out-of-scope key",
            delete_body(&["user-&#49;0/HIDDEN"]),
        ),
        (
            "CDATA out-of-scope key",
            delete_body(&["<![CDATA[user-10/HIDDEN]]>"]),
        ),
        ("dot segment key", delete_body(&["./user-1/HIDDEN"])),
        ("leading slash key", delete_body(&["/user-1/HIDDEN"])),
        ("1000 in-scope + 1 out", {
            let mut keys: Vec<String> = (0..1000).map(|i| format!("user-1/k{i}")).collect();
            keys.push("HIDDEN/root".into());
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            delete_body(&refs)
        }),
    ];
    for (name, body) in bodies {
        xml_case(
            w,
            &format!("DeleteObjects {name}"),
            &s,
            delete(MAIN, body),
            Expect::DENIED,
        );
    }
    xml_case(
        w,
        "DeleteObjects two <Key> in one <Object>",
        &s,
        delete(
            MAIN,
            b"<Delete><Object><Key>user-1/doc</Key><Key>user-10/HIDDEN</Key></Object></Delete>"
                .to_vec(),
        ),
        Expect::err(400, "MalformedXML"),
    );
    xml_case(
        w,
        "DeleteObjects empty list",
        &s,
        delete(MAIN, b"<Delete></Delete>".to_vec()),
        Expect::err(400, "MalformedXML"),
    );
    xml_case(
        w,
        "DeleteObjects in other bucket",
        &s,
        delete(OTHER, delete_body(&["user-1/HIDDEN"])),
        Expect::DENIED,
    );
    xml_case(
        w,
        "DeleteObjects in + object-path twin",
        &s,
        delete(MAIN, delete_body(&["user-1/gone-1", "a/b-not"])),
        Expect::DENIED,
    );
    xml_case(
        w,
        "DeleteObjects in + exact-object twin",
        &s,
        delete(MAIN, delete_body(&["user-1/gone-1", "exact.txt-no"])),
        Expect::DENIED,
    );
    xml_case(
        w,
        "DeleteObjects all in scope (control)",
        &s,
        delete(MAIN, delete_body(&["user-1/gone-1", "dir/gone-2"])),
        Expect::OK,
    );
    // Nothing out of scope was deleted by any of the refused batches.
    let admin = w.admin.clone();
    let o = w.opts();
    for k in [
        "user-10/HIDDEN",
        "a/bcHIDDEN",
        "User-1/HIDDEN",
        "HIDDEN/root",
        "./user-1/HIDDEN",
        "/user-1/HIDDEN",
    ] {
        let r = w.send(
            &Request::new("HEAD", obj(MAIN, k)),
            &admin,
            AuthPath::Signed,
            &o,
        );
        w.tally.record_check(
            C,
            AuthPath::Signed,
            &format!("{k:?} survived the refused batches"),
            r.status == 200,
            &format!("HEAD as admin answered {}", r.status),
        );
    }

    // Multipart: uploads created by the admin, for an out-of-scope and an in-scope key.
    let out_id = w.create_upload(&admin, MAIN, "user-10/HIDDEN-mp2");
    let in_id = w.create_upload(&admin, MAIN, "user-1/admin-mp");
    let own_id = w.create_upload(&s, MAIN, "user-1/own-mp");
    let no_upload = Expect::err(404, "NoSuchUpload");
    let part = |key: &str, id: &str| {
        Request::new("PUT", obj(MAIN, key))
            .q("partNumber", "1")
            .q("uploadId", id)
            .body(b"part bytes".to_vec())
    };
    let list_parts = |key: &str, id: &str| Request::new("GET", obj(MAIN, key)).q("uploadId", id);
    let abort = |key: &str, id: &str| Request::new("DELETE", obj(MAIN, key)).q("uploadId", id);
    let complete = |key: &str, id: &str| {
        Request::new("POST", obj(MAIN, key)).q("uploadId", id)
        .body(b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>".to_vec())
    };
    let oo = out_id.as_str();
    xml_case(
        w,
        "UploadPart on out-of-scope key's upload",
        &s,
        part("user-10/HIDDEN-mp2", oo),
        Expect::DENIED,
    );
    xml_case(
        w,
        "UploadPart: in-scope key, out-of-scope upload id",
        &s,
        part("user-1/own-mp", oo),
        no_upload,
    );
    xml_case(
        w,
        "ListParts on out-of-scope key's upload",
        &s,
        list_parts("user-10/HIDDEN-mp2", oo),
        Expect::DENIED,
    );
    xml_case(
        w,
        "ListParts: in-scope key, out-of-scope upload id",
        &s,
        list_parts("user-1/own-mp", oo),
        no_upload,
    );
    xml_case(
        w,
        "Complete on out-of-scope key's upload",
        &s,
        complete("user-10/HIDDEN-mp2", oo),
        Expect::DENIED,
    );
    xml_case(
        w,
        "Complete: in-scope key, out-of-scope upload id",
        &s,
        complete("user-1/own-mp", oo),
        no_upload,
    );
    xml_case(
        w,
        "Abort on out-of-scope key's upload",
        &s,
        abort("user-10/HIDDEN-mp2", oo),
        Expect::DENIED,
    );
    xml_case(
        w,
        "Abort: in-scope key, out-of-scope upload id",
        &s,
        abort("user-1/own-mp", oo),
        no_upload,
    );
    xml_case(
        w,
        "CreateMultipartUpload out of scope",
        &s,
        Request::new("POST", obj(MAIN, "user-10/new-mp")).q("uploads", ""),
        Expect::DENIED,
    );
    xml_case(
        w,
        "UploadPart other bucket, same key",
        &s,
        Request::new("PUT", obj(OTHER, "user-1/own-mp"))
            .q("partNumber", "1")
            .q("uploadId", &own_id)
            .body(b"x".to_vec()),
        Expect::DENIED,
    );
    xml_case(
        w,
        "UploadPart with garbage upload id",
        &s,
        part("user-1/own-mp", "../../etc/passwd"),
        no_upload,
    );
    // Upload ids of in-scope keys are usable by any credential that may write the key.
    xml_case(
        w,
        "UploadPart on own upload (control)",
        &s,
        part("user-1/own-mp", &own_id),
        Expect::OK,
    );
    xml_case(
        w,
        "UploadPart on admin's in-scope upload (key is in scope)",
        &s,
        part("user-1/admin-mp", &in_id),
        Expect::OK,
    );
    let ro = fx.scoped_ro.clone();
    xml_case(
        w,
        "read-only UploadPart",
        &ro,
        part("user-1/own-mp", &own_id),
        Expect::DENIED,
    );
    xml_case(
        w,
        "read-only Abort",
        &ro,
        abort("user-1/own-mp", &own_id),
        Expect::DENIED,
    );
    xml_case(
        w,
        "read-only ListParts in scope (control)",
        &ro,
        list_parts("user-1/own-mp", &own_id),
        Expect::OK,
    );
    // The out-of-scope upload is still there for its owner.
    let o = w.opts();
    let r = w.send(
        &list_parts("user-10/HIDDEN-mp2", oo),
        &admin,
        AuthPath::Signed,
        &o,
    );
    let still = r.status == 200 && xml_field(&r.body, "UploadId").as_deref() == Some(oo);
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "out-of-scope upload untouched",
        still,
        &r.text(),
    );
}
