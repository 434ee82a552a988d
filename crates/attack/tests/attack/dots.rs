//! Class 3: dot segments and duplicate slashes, in the path and in `x-amz-copy-source`. Keys
//! are literal (SPEC §5: `a/../b` is a key), so `user-1/../x` is an in-scope key that does not
//! exist, never a way out of `user-1/`.

use mayfly_attack::sign::Request;
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, OTHER, World};

use crate::Fx;

const C: Class = Class::DotSegments;

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let s = fx.scoped.clone();
    let m = format!("/{MAIN}");
    let no_key = Expect::err(404, "NoSuchKey");
    let get = |p: String| Request::new("GET", p);
    w.case(
        C,
        "user-1/../user-10/HIDDEN literal",
        &s,
        get(format!("{m}/user-1/../user-10/HIDDEN")),
        no_key,
    );
    w.case(
        C,
        "user-1/%2e%2e/user-10/HIDDEN",
        &s,
        get(format!("{m}/user-1/%2e%2e/user-10/HIDDEN")),
        no_key,
    );
    w.case(
        C,
        "user-1/%2E%2E%2Fuser-10%2FHIDDEN",
        &s,
        get(format!("{m}/user-1/%2E%2E%2Fuser-10%2FHIDDEN")),
        no_key,
    );
    w.case(
        C,
        "user-1/./../HIDDEN/root",
        &s,
        get(format!("{m}/user-1/./../HIDDEN/root")),
        no_key,
    );
    w.case(
        C,
        "user-1/..\\HIDDEN (backslash)",
        &s,
        get(format!("{m}/user-1/..%5CHIDDEN")),
        no_key,
    );
    w.case(
        C,
        "./user-1/HIDDEN",
        &s,
        get(format!("{m}/./user-1/HIDDEN")),
        Expect::DENIED,
    );
    w.case(
        C,
        "../atk-main/user-10/HIDDEN as key",
        &s,
        get(format!("{m}/../{MAIN}/user-10/HIDDEN")),
        Expect::DENIED,
    );
    w.case(
        C,
        "//user-1/HIDDEN (leading slash in key)",
        &s,
        get(format!("{m}//user-1/HIDDEN")),
        Expect::DENIED,
    );
    w.case(
        C,
        "user-1//doc (double slash inside scope)",
        &s,
        get(format!("{m}/user-1//doc")),
        no_key,
    );
    w.case(
        C,
        "user-1/doc/ trailing slash",
        &s,
        get(format!("{m}/user-1/doc/")),
        no_key,
    );
    w.case(
        C,
        "/atk-other/../atk-main/user-1/doc",
        &s,
        get(format!("/{OTHER}/../{MAIN}/user-1/doc")),
        Expect::DENIED,
    );
    w.case(
        C,
        "/atk-other/%2E%2E/atk-main/user-1/doc",
        &s,
        get(format!("/{OTHER}/%2E%2E/{MAIN}/user-1/doc")),
        Expect::DENIED,
    );
    w.case(
        C,
        "/./atk-main/user-1/doc (dot bucket)",
        &s,
        get(format!("/./{MAIN}/user-1/doc")),
        Expect::err(400, "InvalidBucketName"),
    );
    w.case(
        C,
        "//atk-main/user-1/doc (empty bucket)",
        &s,
        get(format!("//{MAIN}/user-1/doc")),
        Expect::err(400, "InvalidBucketName"),
    );
    w.case(
        C,
        "PUT user-1/../user-10/x stays literal",
        &s,
        Request::new("PUT", format!("{m}/user-1/../user-10/x")).body(b"x".to_vec()),
        Expect::OK,
    );
    w.case(
        C,
        "PUT ./user-10/x",
        &s,
        Request::new("PUT", format!("{m}/./user-10/x")).body(b"x".to_vec()),
        Expect::DENIED,
    );
    w.case(
        C,
        "DELETE //user-1/HIDDEN",
        &s,
        Request::new("DELETE", format!("{m}//user-1/HIDDEN")),
        Expect::DENIED,
    );

    // The same tricks in x-amz-copy-source (destination in scope).
    let copy =
        |src: &str| Request::new("PUT", format!("{m}/user-1/copied")).h("x-amz-copy-source", src);
    for (src, expect) in [
        (format!("/{MAIN}/user-1/../user-10/HIDDEN"), no_key),
        (format!("{MAIN}/user-1/%2E%2E/user-10/HIDDEN"), no_key),
        (format!("{MAIN}/user-1/%2E%2E%2Fuser-10%2FHIDDEN"), no_key),
        (format!("{MAIN}//user-1/HIDDEN"), Expect::DENIED),
        (format!("/{MAIN}/./user-1/HIDDEN"), Expect::DENIED),
        (format!("{MAIN}/./user-1/HIDDEN"), Expect::DENIED),
        (format!("{OTHER}/../{MAIN}/user-1/doc"), Expect::DENIED),
        (format!("{OTHER}/%2E%2E/{MAIN}/user-1/doc"), Expect::DENIED),
        (
            format!("./{MAIN}/user-1/doc"),
            Expect::err(400, "InvalidArgument"),
        ),
        (
            format!("//{MAIN}/user-1/doc"),
            Expect::err(400, "InvalidArgument"),
        ),
        (format!("{MAIN}/user-10%2FHIDDEN"), Expect::DENIED),
        (format!("{MAIN}%2Fuser-10/HIDDEN"), Expect::DENIED),
    ] {
        w.case(C, &format!("copy-source {src}"), &s, copy(&src), expect);
    }
}
