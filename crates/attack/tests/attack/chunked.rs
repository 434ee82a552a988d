//! Class 16: aws-chunked framing (issue 12, "classes seen in peers' advisories"). Bodies whose
//! `x-amz-decoded-content-length` is missing or lies (smaller, larger, zero, not a number),
//! whose chunk headers lie about their sizes, or that end without the final chunk, in both the
//! signed-chunk and the unsigned-trailer modes: each is a clear 4xx in S3 XML, never a 5xx, a
//! panic or a hang, and nothing is stored. The declared lengths are signed here (the signer
//! itself lies), so the signature is no reason to refuse them. `Content-Length` itself is
//! optional: the SDKs send aws-chunked bodies with `Transfer-Encoding: chunked` (controls).

use mayfly_attack::http::xml_all;
use mayfly_attack::sign::{AuthPath, Request};
use mayfly_attack::tally::{Class, Expect};
use mayfly_attack::world::{MAIN, World, now, obj};

use super::hand::{Chunk, Frame, Hand};
use super::integrity::send;
use crate::Fx;

const C: Class = Class::Chunked;

const DATA: &[u8] = b"aws-chunked body of forty bytes, exactly";

fn path_of(f: Frame) -> AuthPath {
    if f == Frame::Signed {
        AuthPath::Streaming
    } else {
        AuthPath::UnsignedTrailer
    }
}

fn honest(f: Frame, key: &str) -> Hand {
    let mut h = Hand::new("PUT", &obj(MAIN, key), now());
    h.frame = f;
    h.chunks = vec![
        Chunk::of(&DATA[..16]),
        Chunk::of(&DATA[16..]),
        Chunk::of(b""),
    ];
    h.decoded_length = Some(DATA.len().to_string());
    h
}

pub(crate) fn run(w: &mut World, fx: &Fx) {
    let whole = fx.whole.clone();
    let n = DATA.len();
    let mut i = 0;
    for f in [Frame::Signed, Frame::UnsignedTrailer] {
        let p = path_of(f);
        let mut next = |w: &mut World, name: &str, edit: &dyn Fn(&mut Hand), expect: Expect| {
            i += 1;
            let mut h = honest(f, &format!("chunk/{i}"));
            edit(&mut h);
            send(w, C, p, name, &whole, &h, expect);
        };
        let missing = Expect::err(411, "MissingContentLength");
        let bad_number = Expect::err(400, "InvalidArgument");
        let incomplete = Expect::err(400, "IncompleteBody");
        let bad_length = Expect::err(400, "IncompleteBody");
        let bad_frame = Expect::err(400, "IncompleteBody");
        next(
            w,
            "no x-amz-decoded-content-length",
            &|h| h.decoded_length = None,
            missing,
        );
        next(
            w,
            "no x-amz-decoded-content-length, no Content-Length",
            &|h| {
                h.decoded_length = None;
                h.http_chunked = true;
            },
            missing,
        );
        for (name, value, expect) in [
            ("decoded length one short", (n - 1).to_string(), bad_length),
            ("decoded length one long", (n + 1).to_string(), incomplete),
            ("decoded length 0", "0".to_owned(), bad_length),
            (
                "decoded length 1 TB",
                "1099511627776".to_owned(),
                Expect::err(400, "EntityTooLarge"),
            ),
            ("decoded length -1", "-1".to_owned(), bad_number),
            ("decoded length 4x", "4x".to_owned(), bad_number),
            ("decoded length empty", String::new(), bad_number),
        ] {
            next(w, name, &|h| h.decoded_length = Some(value.clone()), expect);
            next(
                w,
                &format!("{name}, no Content-Length"),
                &|h| {
                    h.decoded_length = Some(value.clone());
                    h.http_chunked = true;
                },
                expect,
            );
        }
        next(
            w,
            "first chunk declares 4 more bytes than it carries",
            &|h| h.chunks[0].declared += 4,
            bad_frame,
        );
        next(
            w,
            "first chunk declares 4 fewer bytes than it carries",
            &|h| h.chunks[0].declared -= 4,
            bad_frame,
        );
        next(
            w,
            "last data chunk declares 1 byte more",
            &|h| h.chunks[1].declared += 1,
            bad_frame,
        );
        next(
            w,
            "no final zero-size chunk",
            &|h| {
                h.chunks.pop();
            },
            incomplete,
        );
        next(
            w,
            "data after the final chunk",
            &|h| h.chunks.push(Chunk::of(b"tail")),
            bad_frame,
        );
        next(
            w,
            "no body at all (no Content-Length, no Transfer-Encoding)",
            &|h| {
                h.content_length = false;
                h.chunks.clear();
            },
            incomplete,
        );
        // Controls: the SDK framing (no Content-Length) and the plain one both store.
        let mut h = honest(f, &format!("chunk-ok/{i}-sdk"));
        h.http_chunked = true;
        send(
            w,
            C,
            p,
            "Transfer-Encoding chunked, no Content-Length (control)",
            &whole,
            &h,
            Expect::OK,
        );
        let h = honest(f, &format!("chunk-ok/{i}-plain"));
        send(w, C, p, "Content-Length (control)", &whole, &h, Expect::OK);
    }
    // Nothing any refused request sent was stored.
    let admin = w.admin.clone();
    let o = w.opts();
    let r = w.send(
        &Request::new("GET", format!("/{MAIN}"))
            .q("list-type", "2")
            .q("prefix", "chunk"),
        &admin,
        AuthPath::Signed,
        &o,
    );
    let keys = xml_all(&r.body, "Key");
    let stored_refused: Vec<&String> = keys.iter().filter(|k| k.starts_with("chunk/")).collect();
    let controls = keys.iter().filter(|k| k.starts_with("chunk-ok/")).count();
    w.tally.record_check(
        C,
        AuthPath::Signed,
        "refused aws-chunked bodies stored nothing, controls stored",
        r.status == 200 && stored_refused.is_empty() && controls == 4,
        &format!(
            "ListObjectsV2 answered {}: refused keys stored {stored_refused:?}, {controls} controls",
            r.status
        ),
    );
}
