//! Conformance checks for object records: round trips, atomic replace, conditions, byte-exact
//! keys, listing against an independent in-memory model, paging, and concurrent writers.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;

use super::{Subject, assert_err, bucket_name, new_bucket, object_record, ok, put_key};
use crate::{
    BlobId, BlobRef, BucketId, ChecksumAlgorithm, ChecksumType, Entity, HttpHeaders,
    ListObjectsQuery, ObjectPart, StoreError, WriteCondition,
};

/// Every field of an object record, single-blob and multipart, survives a round trip.
pub async fn object_record_round_trips_every_field(s: &Subject) {
    let b = new_bucket(s, 1, "objects").await;
    let mut o = object_record(&b, "dir/file.txt", BlobId::random(), 11);
    o.etag = "0123456789abcdef0123456789abcdef".to_owned();
    o.last_modified_ms = 1_750_000_000_999;
    o.headers = HttpHeaders {
        content_type: Some("text/plain; charset=utf-8".to_owned()),
        content_encoding: Some("gzip".to_owned()),
        content_disposition: Some("attachment; filename=\"é.txt\"".to_owned()),
        content_language: Some("en-GB".to_owned()),
        cache_control: Some("max-age=60".to_owned()),
        expires: Some("Wed, 21 Oct 2015 07:28:00 GMT".to_owned()),
    };
    o.user_metadata = BTreeMap::from([
        ("a-key".to_owned(), "value with spaces".to_owned()),
        ("b".to_owned(), "ünïcode".to_owned()),
        ("empty".to_owned(), String::new()),
    ]);
    o.checksums = BTreeMap::from([
        (ChecksumAlgorithm::Crc32, "NhCmhg==".to_owned()),
        (
            ChecksumAlgorithm::Sha256,
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".to_owned(),
        ),
    ]);
    ok(
        s.meta.put_object(o.clone(), WriteCondition::None).await,
        "put",
    );
    assert_eq!(ok(s.meta.get_object(&b, "dir/file.txt").await, "get"), o);

    let parts: Vec<ObjectPart> = (0..3u32)
        .map(|i| ObjectPart {
            part_number: i * 2 + 1,
            size: 5 * 1024 * 1024 + u64::from(i),
            etag: format!("{:032x}", i),
            checksums: BTreeMap::from([(ChecksumAlgorithm::Crc32c, format!("c{i}=="))]),
            blob: BlobId::random(),
        })
        .collect();
    let mut m = o.clone();
    m.key = "multi".to_owned();
    m.size = parts.iter().map(|p| p.size).sum();
    m.etag = "0123456789abcdef0123456789abcdef-3".to_owned();
    m.checksum_type = ChecksumType::Composite;
    m.blob = BlobRef::Parts(parts);
    ok(
        s.meta.put_object(m.clone(), WriteCondition::None).await,
        "put multipart",
    );
    let got = ok(s.meta.get_object(&b, "multi").await, "get multipart");
    assert_eq!(
        got, m,
        "parts kept in order with their sizes, etags and checksums"
    );
    assert_eq!(got.blob.parts_count(), Some(3));
    let (range, part) = got.part_range(2).expect("part 2 exists");
    assert_eq!(range.start, 5 * 1024 * 1024);
    assert_eq!(part.map(|p| p.part_number), Some(3));
    assert!(got.part_range(4).is_none());
}

/// A put replaces the previous version and returns its blobs, once.
pub async fn object_put_replaces_and_returns_old_blobs(s: &Subject) {
    let b = new_bucket(s, 1, "replace").await;
    let first = put_key(s, &b, "k").await;
    let second = BlobId::random();
    let garbage = ok(
        s.meta
            .put_object(
                object_record(&b, "k", second.clone(), 5),
                WriteCondition::None,
            )
            .await,
        "put",
    );
    assert_eq!(garbage, vec![first], "old blob returned");
    let parts = vec![
        ObjectPart {
            part_number: 1,
            size: 1,
            etag: "a".into(),
            checksums: Default::default(),
            blob: BlobId::random(),
        },
        ObjectPart {
            part_number: 2,
            size: 1,
            etag: "b".into(),
            checksums: Default::default(),
            blob: BlobId::random(),
        },
    ];
    let mut multi = object_record(&b, "k", BlobId::random(), 2);
    multi.blob = BlobRef::Parts(parts.clone());
    let garbage = ok(
        s.meta.put_object(multi, WriteCondition::None).await,
        "put multipart over single",
    );
    assert_eq!(garbage, vec![second]);
    let garbage = ok(
        s.meta
            .put_object(
                object_record(&b, "k", BlobId::random(), 0),
                WriteCondition::None,
            )
            .await,
        "put",
    );
    assert_eq!(
        garbage,
        parts.into_iter().map(|p| p.blob).collect::<Vec<_>>(),
        "every part blob returned in order"
    );
    let listing = ok(
        s.meta.list_objects(&b, &ListObjectsQuery::default()).await,
        "list",
    );
    assert_eq!(listing.objects.len(), 1, "one version per key");
}

/// Delete returns the blobs; deleting again (or a never-written key) returns nothing.
pub async fn object_delete_returns_blobs_and_is_idempotent(s: &Subject) {
    let b = new_bucket(s, 1, "deletes").await;
    let blob = put_key(s, &b, "k").await;
    assert_eq!(
        ok(s.meta.delete_object(&b, "k").await, "delete"),
        vec![blob]
    );
    assert!(ok(s.meta.delete_object(&b, "k").await, "again").is_empty());
    assert!(ok(s.meta.delete_object(&b, "never").await, "never").is_empty());
    assert_err(
        s.meta.get_object(&b, "k").await,
        |e| e.is_not_found(Entity::Object),
        "deleted",
    );
}

/// Object calls on a missing bucket fail with NotFound(Bucket), not NotFound(Object).
pub async fn object_calls_on_missing_bucket_report_the_bucket(s: &Subject) {
    let b = new_bucket(s, 1, "exists").await;
    let missing = BucketId::new(b.account.clone(), bucket_name("missing"));
    let is_bucket = |e: &StoreError| e.is_not_found(Entity::Bucket);
    assert_err(s.meta.get_object(&missing, "k").await, is_bucket, "get");
    assert_err(
        s.meta
            .put_object(
                object_record(&missing, "k", BlobId::random(), 0),
                WriteCondition::None,
            )
            .await,
        is_bucket,
        "put",
    );
    assert_err(
        s.meta.delete_object(&missing, "k").await,
        is_bucket,
        "delete",
    );
    assert_err(
        s.meta
            .list_objects(&missing, &ListObjectsQuery::default())
            .await,
        is_bucket,
        "list",
    );
}

/// IfAbsent and IfEtagMatches are checked atomically with the write.
pub async fn object_conditional_puts(s: &Subject) {
    let b = new_bucket(s, 1, "conditions").await;
    let mut o = object_record(&b, "k", BlobId::random(), 0);
    o.etag = "e1".to_owned();
    ok(
        s.meta.put_object(o.clone(), WriteCondition::IfAbsent).await,
        "absent: written",
    );
    let failed = |e: &StoreError| matches!(e, StoreError::PreconditionFailed);
    let mut o2 = object_record(&b, "k", BlobId::random(), 0);
    o2.etag = "e2".to_owned();
    assert_err(
        s.meta
            .put_object(o2.clone(), WriteCondition::IfAbsent)
            .await,
        failed,
        "present",
    );
    assert_err(
        s.meta
            .put_object(o2.clone(), WriteCondition::IfEtagMatches("zz".into()))
            .await,
        failed,
        "wrong etag",
    );
    assert_eq!(
        ok(s.meta.get_object(&b, "k").await, "unchanged"),
        o,
        "failed condition changed nothing"
    );
    let garbage = ok(
        s.meta
            .put_object(o2.clone(), WriteCondition::IfEtagMatches("e1".into()))
            .await,
        "match",
    );
    assert_eq!(garbage, o.blob.blob_ids());
    let fresh = object_record(&b, "new", BlobId::random(), 0);
    assert_err(
        s.meta
            .put_object(fresh, WriteCondition::IfEtagMatches("e1".into()))
            .await,
        failed,
        "no object",
    );
    // The R2 forms: If-Match `*` or an ETag list, If-None-Match an ETag list, both at once.
    let cases = [
        (WriteCondition::IfPresent, false, "present: missing"),
        (
            WriteCondition::IfEtagIn(vec!["x".into(), "e2".into()]),
            false,
            "in: missing",
        ),
        (
            WriteCondition::IfEtagNotIn(vec!["e2".into()]),
            true,
            "not in: missing",
        ),
    ];
    for (i, (condition, writes, what)) in cases.into_iter().enumerate() {
        let fresh = object_record(&b, &format!("fresh-{i}"), BlobId::random(), 0);
        let got = s.meta.put_object(fresh, condition).await;
        assert_eq!(got.is_ok(), writes, "{what}: {got:?}");
    }
    let mut o3 = object_record(&b, "k", BlobId::random(), 0);
    o3.etag = "e3".to_owned();
    for (condition, what) in [
        (
            WriteCondition::IfEtagIn(vec!["x".into(), "e1".into()]),
            "in: other etags",
        ),
        (
            WriteCondition::IfEtagNotIn(vec!["x".into(), "e2".into()]),
            "not in: listed",
        ),
        (
            WriteCondition::All(vec![
                WriteCondition::IfPresent,
                WriteCondition::IfEtagNotIn(vec!["e2".into()]),
            ]),
            "all: one fails",
        ),
    ] {
        assert_err(s.meta.put_object(o3.clone(), condition).await, failed, what);
    }
    assert_eq!(ok(s.meta.get_object(&b, "k").await, "still o2"), o2);
    ok(
        s.meta
            .put_object(
                o3.clone(),
                WriteCondition::All(vec![
                    WriteCondition::IfPresent,
                    WriteCondition::IfEtagIn(vec!["x".into(), "e2".into()]),
                    WriteCondition::IfEtagNotIn(vec!["e1".into()]),
                ]),
            )
            .await,
        "all hold",
    );
    assert_eq!(ok(s.meta.get_object(&b, "k").await, "now o3"), o3);
}

/// `delete_object_if` deletes only the object the caller judged: absent is a no-op, a
/// replaced object (other ETag or time) is refused and kept.
pub async fn object_delete_if_unchanged(s: &Subject) {
    let b = new_bucket(s, 1, "delete-if").await;
    let blob = BlobId::random();
    let mut o = object_record(&b, "k", blob.clone(), 0);
    o.etag = "e1".to_owned();
    o.last_modified_ms = 1_000;
    ok(
        s.meta.put_object(o.clone(), WriteCondition::None).await,
        "put",
    );
    let failed = |e: &StoreError| matches!(e, StoreError::PreconditionFailed);
    assert_err(
        s.meta.delete_object_if(&b, "k", "e2", 1_000).await,
        failed,
        "other etag",
    );
    assert_err(
        s.meta.delete_object_if(&b, "k", "e1", 2_000).await,
        failed,
        "rewritten later",
    );
    assert_eq!(ok(s.meta.get_object(&b, "k").await, "kept"), o);
    assert_eq!(
        ok(s.meta.delete_object_if(&b, "k", "e1", 1_000).await, "same"),
        vec![blob]
    );
    assert!(
        ok(s.meta.delete_object_if(&b, "k", "e1", 1_000).await, "again").is_empty(),
        "already gone is a no-op"
    );
}

/// Keys that look like paths, escapes, control characters, unicode and 1024 bytes are stored,
/// fetched and listed byte-exact, in byte order.
pub async fn object_keys_are_stored_and_ordered_byte_exact(s: &Subject) {
    let b = new_bucket(s, 1, "keys").await;
    let long = "k".repeat(1024);
    let keys: Vec<String> = [
        "a/../b",
        "./a",
        "a//b",
        "%2F",
        "%252F",
        "a%2Fb",
        "/leading",
        "trailing/",
        " space ",
        "tab\tkey",
        "\u{1}\u{1f}ctl",
        "new\nline",
        "é",
        "e\u{301}",
        "日本語/ファイル",
        "😀",
        "\u{10FFFF}",
        "Z",
        "a",
        "~",
        "back\\slash",
        "quote\"'",
        "<xml>&amp;",
    ]
    .iter()
    .map(|k| (*k).to_owned())
    .chain([long])
    .collect();
    for key in &keys {
        put_key(s, &b, key).await;
        assert_eq!(&ok(s.meta.get_object(&b, key).await, "get").key, key);
    }
    assert_err(
        s.meta.get_object(&b, "b").await,
        |e| e.is_not_found(Entity::Object),
        "a/../b is not b",
    );
    assert_err(
        s.meta.get_object(&b, "/").await,
        |e| e.is_not_found(Entity::Object),
        "%2F is not /",
    );
    assert_err(
        s.meta.get_object(&b, "e\u{e9}").await,
        |e| e.is_not_found(Entity::Object),
        "no normalisation",
    );
    let listing = ok(
        s.meta.list_objects(&b, &ListObjectsQuery::default()).await,
        "list",
    );
    let listed: Vec<&str> = listing.objects.iter().map(|o| o.key.as_str()).collect();
    let mut expected: Vec<&str> = keys.iter().map(String::as_str).collect();
    expected.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    assert_eq!(listed, expected, "listed byte-exact in byte order");
}

/// One entry of the model listing.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Want {
    Key(String),
    Prefix(String),
}

/// An independent model of the listing semantics in `crate::query`.
fn model(
    keys: &BTreeSet<String>,
    prefix: &str,
    delim: Option<&str>,
    start_after: Option<&str>,
) -> Vec<Want> {
    let delim = delim.filter(|d| !d.is_empty());
    let roll = |k: &str| -> Option<String> {
        let d = delim?;
        let rest = k.strip_prefix(prefix)?;
        rest.find(d)
            .map(|i| k[..prefix.len() + i + d.len()].to_owned())
    };
    let sa_is_prefix = start_after.is_some_and(|sa| roll(sa).as_deref() == Some(sa));
    let mut out: Vec<Want> = Vec::new();
    for k in keys.iter().filter(|k| k.starts_with(prefix)) {
        if let Some(sa) = start_after
            && (k.as_str() <= sa || (sa_is_prefix && k.starts_with(sa)))
        {
            continue;
        }
        let entry = roll(k).map_or_else(|| Want::Key(k.clone()), Want::Prefix);
        if out.last() != Some(&entry) {
            out.push(entry);
        }
    }
    out
}

fn entries_of(page: &crate::ObjectListing) -> Vec<Want> {
    let mut entries: Vec<Want> = page
        .objects
        .iter()
        .map(|o| Want::Key(o.key.clone()))
        .collect();
    entries.extend(page.common_prefixes.iter().cloned().map(Want::Prefix));
    entries.sort_by(|x, y| name_of(x).as_bytes().cmp(name_of(y).as_bytes()));
    entries
}

fn name_of(w: &Want) -> &str {
    match w {
        Want::Key(k) | Want::Prefix(k) => k,
    }
}

async fn paged(
    s: &Subject,
    b: &BucketId,
    prefix: &str,
    delim: Option<&str>,
    max: usize,
) -> Vec<Want> {
    let mut q = ListObjectsQuery {
        prefix: prefix.to_owned(),
        delimiter: delim.map(str::to_owned),
        start_after: None,
        max_keys: max,
    };
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let page = ok(s.meta.list_objects(b, &q).await, "list page");
        let entries = entries_of(&page);
        assert!(
            entries.len() <= max,
            "max_keys counts objects and prefixes together"
        );
        if page.is_truncated {
            assert_eq!(entries.len(), max, "a truncated page is full");
            let last = entries.last().map(|w| name_of(w).to_owned());
            assert_eq!(page.next_marker, last, "next marker is the last entry");
        } else {
            assert_eq!(page.next_marker, None);
        }
        out.extend(entries);
        if !page.is_truncated {
            return out;
        }
        q.start_after = page.next_marker;
    }
    panic!("listing never ended");
}

/// Listing (prefix, delimiter, start_after, max_keys, paging) equals the model.
pub async fn object_listing_matches_model(s: &Subject) {
    let b = new_bucket(s, 1, "listing").await;
    let keys: BTreeSet<String> = [
        "a",
        "a/",
        "a/b",
        "a/b/c",
        "a/b/d",
        "a/c",
        "a//x",
        "a-b",
        "a0",
        "b",
        "b/é/1",
        "b/é/2",
        "b/z",
        "c--d--e",
        "c--f",
        "photos/2024/jan/1.jpg",
        "photos/2024/feb/2.jpg",
        "photos/2025/x.jpg",
        "photos/index.html",
        "z\u{1}",
        "日/本",
        "😀/x",
    ]
    .iter()
    .map(|k| (*k).to_owned())
    .collect();
    for k in &keys {
        put_key(s, &b, k).await;
    }
    let cases: &[(&str, Option<&str>)] = &[
        ("", None),
        ("", Some("/")),
        ("a", Some("/")),
        ("a/", Some("/")),
        ("photos/", Some("/")),
        ("photos/2024/", Some("/")),
        ("", Some("--")),
        ("c", Some("--")),
        ("b/", Some("é")),
        ("nothing", Some("/")),
        ("", Some("")),
    ];
    for &(prefix, delim) in cases {
        let want = model(&keys, prefix, delim, None);
        for max in [1, 2, 3, 1000] {
            assert_eq!(
                paged(s, &b, prefix, delim, max).await,
                want,
                "prefix {prefix:?} delim {delim:?} max {max}"
            );
        }
        for start_after in [
            "",
            "a",
            "a/",
            "a/b",
            "b/",
            "photos/2024/",
            "photos/2024/jan/1.jpg",
            "zzz",
        ] {
            let q = ListObjectsQuery {
                prefix: prefix.to_owned(),
                delimiter: delim.map(str::to_owned),
                start_after: Some(start_after.to_owned()),
                max_keys: 1000,
            };
            let page = ok(s.meta.list_objects(&b, &q).await, "list after");
            let want = model(
                &keys,
                prefix,
                delim,
                Some(start_after).filter(|s| !s.is_empty()),
            );
            assert_eq!(
                entries_of(&page),
                want,
                "prefix {prefix:?} delim {delim:?} after {start_after:?}"
            );
        }
    }
    let zero = ListObjectsQuery {
        max_keys: 0,
        ..ListObjectsQuery::default()
    };
    let page = ok(s.meta.list_objects(&b, &zero).await, "max 0");
    assert!(page.objects.is_empty() && page.common_prefixes.is_empty() && !page.is_truncated);
}

/// Paging with a delimiter over a couple of thousand keys neither repeats nor skips.
pub async fn object_listing_pages_over_many_keys(s: &Subject) {
    let b = new_bucket(s, 1, "many").await;
    let mut keys = BTreeSet::new();
    for i in 0..2000u32 {
        let key = match i % 4 {
            0 => format!("dir{:02}/file{i:05}", i % 37),
            1 => format!("top{i:05}"),
            2 => format!("dir{:02}/sub/{i:05}", i % 11),
            _ => format!("deep/{}/{i}", i % 5),
        };
        keys.insert(key);
    }
    let records: Vec<_> = keys
        .iter()
        .map(|k| object_record(&b, k, BlobId::random(), 0))
        .collect();
    for chunk in records.chunks(50) {
        for r in join_all(
            chunk
                .iter()
                .map(|o| s.meta.put_object(o.clone(), WriteCondition::None)),
        )
        .await
        {
            ok(r, "put");
        }
    }
    for (prefix, delim, max) in [
        ("", Some("/"), 7),
        ("", None, 333),
        ("dir0", Some("/"), 5),
        ("deep/", Some("/"), 2),
    ] {
        let want = model(&keys, prefix, delim, None);
        assert_eq!(
            paged(s, &b, prefix, delim, max).await,
            want,
            "prefix {prefix:?} delim {delim:?} max {max}"
        );
    }
}

/// Many concurrent puts of one key: one consistent winner, every loser's blob returned once.
pub async fn concurrent_puts_leave_one_winner(s: &Subject) {
    let b = new_bucket(s, 1, "race").await;
    let records: Vec<_> = (0..24u64)
        .map(|i| {
            let mut o = object_record(&b, "hot", BlobId::random(), i);
            o.etag = format!("etag-{i}");
            o
        })
        .collect();
    let results = join_all(
        records
            .iter()
            .map(|o| s.meta.put_object(o.clone(), WriteCondition::None)),
    )
    .await;
    let mut garbage = Vec::new();
    for r in results {
        garbage.extend(ok(r, "concurrent put"));
    }
    let winner = ok(s.meta.get_object(&b, "hot").await, "get winner");
    let original = records
        .iter()
        .find(|o| o.etag == winner.etag)
        .expect("winner is one of the writes");
    assert_eq!(
        &winner, original,
        "winner's record is not mixed with another write"
    );
    let mut seen: BTreeSet<BlobId> = garbage.iter().cloned().collect();
    assert_eq!(seen.len(), garbage.len(), "no blob returned twice");
    assert!(
        !seen.contains(&winner.blob.blob_ids()[0]),
        "winner's blob is not garbage"
    );
    seen.extend(winner.blob.blob_ids());
    let all: BTreeSet<BlobId> = records.iter().flat_map(|o| o.blob.blob_ids()).collect();
    assert_eq!(
        seen, all,
        "every blob is either live or returned as garbage"
    );
}

/// blob_referenced follows objects, multipart objects and parts.
pub async fn blob_referenced_tracks_records(s: &Subject) {
    let b = new_bucket(s, 1, "refs").await;
    let single = put_key(s, &b, "single").await;
    assert!(ok(s.meta.blob_referenced(&single).await, "single"));
    assert!(!ok(
        s.meta.blob_referenced(&BlobId::random()).await,
        "unknown"
    ));
    let part_blob = BlobId::random();
    let mut multi = object_record(&b, "multi", BlobId::random(), 1);
    multi.blob = BlobRef::Parts(vec![ObjectPart {
        part_number: 1,
        size: 1,
        etag: "e".into(),
        checksums: Default::default(),
        blob: part_blob.clone(),
    }]);
    ok(
        s.meta.put_object(multi, WriteCondition::None).await,
        "put multi",
    );
    assert!(ok(s.meta.blob_referenced(&part_blob).await, "object part"));
    ok(s.meta.delete_object(&b, "single").await, "delete");
    assert!(!ok(s.meta.blob_referenced(&single).await, "after delete"));
}
