//! Class 4: copy sources in another bucket or outside the scope, for CopyObject and
//! UploadPartCopy. A copy needs read on the source and write on the destination (SPEC §5).

use mayfly_attack::sign::Request;
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, OTHER, World, obj};

use crate::Fx;

const C: Class = Class::CopySource;

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    let copy =
        |dst: &str, src: &str| Request::new("PUT", obj(MAIN, dst)).h("x-amz-copy-source", src);
    let srcs_denied = [
        format!("{OTHER}/user-1/HIDDEN"),
        format!("/{OTHER}/user-1/HIDDEN"),
        format!("{MAIN}/user-10/HIDDEN"),
        format!("{MAIN}/a/bcHIDDEN"),
        format!("{MAIN}/User-1/HIDDEN"),
        format!("{MAIN}/user-10%2FHIDDEN"),
        format!("{MAIN}/HIDDEN/root"),
        "no-such-bucket-x/user-1/doc".to_string(),
    ];
    for src in &srcs_denied {
        w.case(
            C,
            &format!("CopyObject from {src}"),
            &s,
            copy("user-1/c", src),
            Expect::DENIED,
        );
    }
    let arn = format!("arn:aws:s3:::{MAIN}/user-10/HIDDEN");
    w.case(
        C,
        "CopyObject from an ARN",
        &s,
        copy("user-1/c", &arn),
        Expect::err(400, "InvalidArgument"),
    );
    w.case(
        C,
        "CopyObject versioned source",
        &s,
        copy("user-1/c", &format!("{MAIN}/user-1/doc?versionId=1")),
        Expect::err(501, "NotImplemented"),
    );
    w.case(
        C,
        "CopyObject in-scope source to out-of-scope dest",
        &s,
        copy("user-10/c", &format!("{MAIN}/user-1/doc")),
        Expect::DENIED,
    );
    w.case(
        C,
        "CopyObject in scope (control)",
        &s,
        copy("user-1/c", &format!("{MAIN}/user-1/doc")),
        Expect::OK,
    );
    w.case(
        C,
        "CopyObject object path source (control)",
        &s,
        copy("user-1/c2", &format!("/{MAIN}/a/b")),
        Expect::OK,
    );
    let ro = fx.scoped_ro.clone();
    w.case(
        C,
        "read-only cred copies in scope",
        &ro,
        copy("user-1/c3", &format!("{MAIN}/user-1/doc")),
        Expect::DENIED,
    );
    // actions narrowing: CopyObject named but GetObject not.
    let admin = w.admin.clone();
    let mut c = w.claims(&admin, MAIN, "object-read-write");
    c.actions = Some(vec!["CopyObject".into(), "PutObject".into()]);
    let narrowed = w.mint(&c, &admin.secret);
    w.case(
        C,
        "actions CopyObject without GetObject",
        &narrowed,
        copy("user-1/c4", &format!("{MAIN}/user-1/doc")),
        Expect::DENIED,
    );

    // UploadPartCopy on an upload of an in-scope key.
    let upload = w.create_upload(&s, MAIN, "user-1/mp-copy");
    let part = |src: &str| {
        Request::new("PUT", obj(MAIN, "user-1/mp-copy"))
            .q("partNumber", "1")
            .q("uploadId", &upload)
            .h("x-amz-copy-source", src)
    };
    for src in &srcs_denied {
        w.case(
            C,
            &format!("UploadPartCopy from {src}"),
            &s,
            part(src),
            Expect::DENIED,
        );
    }
    w.case(
        C,
        "UploadPartCopy with a range from out of scope",
        &s,
        part(&format!("{MAIN}/user-10/HIDDEN")).h("x-amz-copy-source-range", "bytes=0-3"),
        Expect::DENIED,
    );
    w.case(
        C,
        "UploadPartCopy in scope (control)",
        &s,
        part(&format!("{MAIN}/user-1/doc")),
        Expect::OK,
    );
    // An upload for an out-of-scope key, driven through UploadPartCopy.
    let admin_upload = w.create_upload(&admin, MAIN, "user-10/HIDDEN-mp");
    let req = Request::new("PUT", obj(MAIN, "user-10/HIDDEN-mp"))
        .q("partNumber", "1")
        .q("uploadId", &admin_upload)
        .h("x-amz-copy-source", &format!("{MAIN}/user-1/doc"));
    w.case(
        C,
        "UploadPartCopy into an out-of-scope upload",
        &s,
        req,
        Expect::DENIED,
    );
}
