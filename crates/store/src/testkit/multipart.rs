//! Conformance checks for multipart uploads: completion as one transaction, part validation,
//! abort, binding of upload ids to bucket and key, part replacement and paging, and upload
//! listing with markers and delimiters.

use std::collections::BTreeMap;

use super::{Subject, assert_err, new_bucket, ok, put_key};
use crate::{
    BlobId, BlobRef, BucketId, ChecksumAlgorithm, ChecksumType, CompleteUpload, CompletedPart,
    Entity, HttpHeaders, ListObjectsQuery, ListPartsQuery, ListUploadsQuery, PartRecord,
    StoreError, UploadId, UploadRecord, WriteCondition,
};

/// An upload record with some headers and metadata.
pub fn upload_record(bucket: &BucketId, key: &str) -> UploadRecord {
    UploadRecord {
        bucket: bucket.clone(),
        key: key.to_owned(),
        upload_id: UploadId::random(),
        initiated_ms: 1_750_000_000_000,
        headers: HttpHeaders {
            content_type: Some("video/mp4".to_owned()),
            ..HttpHeaders::default()
        },
        user_metadata: BTreeMap::from([("origin".to_owned(), "camera".to_owned())]),
        checksum_algorithm: Some(ChecksumAlgorithm::Crc32),
        checksum_type: Some(ChecksumType::Composite),
    }
}

/// A part record with a fresh blob id.
pub fn part_record(n: u32, size: u64) -> PartRecord {
    PartRecord {
        part_number: n,
        size,
        etag: format!("{n:032x}"),
        last_modified_ms: 1_750_000_000_000 + u64::from(n),
        checksums: BTreeMap::from([(ChecksumAlgorithm::Crc32, format!("p{n}=="))]),
        blob: BlobId::random(),
    }
}

fn completion(u: &UploadRecord, parts: &[&PartRecord]) -> CompleteUpload {
    CompleteUpload {
        bucket: u.bucket.clone(),
        key: u.key.clone(),
        upload_id: u.upload_id.clone(),
        parts: parts
            .iter()
            .map(|p| CompletedPart {
                part_number: p.part_number,
                etag: p.etag.clone(),
            })
            .collect(),
        etag: format!("{:032x}-{}", 7, parts.len()),
        last_modified_ms: 1_750_000_100_000,
        checksums: BTreeMap::from([(ChecksumAlgorithm::Crc32, format!("x-{}", parts.len()))]),
        checksum_type: ChecksumType::Composite,
        condition: Default::default(),
    }
}

/// A completion's write condition is checked against the object it would replace, in the
/// same transaction: when it fails nothing changes (the object stays, the upload can still be
/// completed).
pub async fn upload_complete_honours_write_condition(s: &Subject) {
    let b = new_bucket(s, 1, "conditional-complete").await;
    put_key(s, &b, "k").await;
    let current = ok(s.meta.get_object(&b, "k").await, "current");
    let u = upload_record(&b, "k");
    ok(s.meta.create_upload(u.clone()).await, "create upload");
    let p1 = part_record(1, 100);
    ok(
        s.meta.put_part(&b, "k", &u.upload_id, p1.clone()).await,
        "put part",
    );
    let failed = |e: &StoreError| matches!(e, StoreError::PreconditionFailed);
    for (condition, what) in [
        (WriteCondition::IfAbsent, "absent"),
        (WriteCondition::IfEtagMatches("zz".into()), "wrong etag"),
        (
            WriteCondition::IfEtagNotIn(vec![current.etag.clone()]),
            "not in",
        ),
    ] {
        let c = CompleteUpload {
            condition,
            ..completion(&u, &[&p1])
        };
        assert_err(s.meta.complete_upload(c).await, failed, what);
        assert_eq!(
            ok(s.meta.get_object(&b, "k").await, "unchanged"),
            current,
            "{what}"
        );
        ok(
            s.meta.get_upload(&b, "k", &u.upload_id).await,
            "upload kept",
        );
    }
    let done = ok(
        s.meta
            .complete_upload(CompleteUpload {
                condition: WriteCondition::IfEtagIn(vec!["x".into(), current.etag.clone()]),
                ..completion(&u, &[&p1])
            })
            .await,
        "matching condition",
    );
    assert_eq!(done.garbage, current.blob.blob_ids());
    assert_eq!(
        ok(s.meta.get_object(&b, "k").await, "completed").etag,
        done.object.etag
    );
}

/// Completion writes the object from the chosen parts (in order, with headers and metadata
/// from the upload), replaces the previous object, removes the upload, and returns unused
/// parts plus the replaced object's blobs as garbage.
pub async fn upload_complete_builds_object_from_chosen_parts(s: &Subject) {
    let b = new_bucket(s, 1, "multipart").await;
    let old = put_key(s, &b, "video.mp4").await;
    let u = upload_record(&b, "video.mp4");
    ok(s.meta.create_upload(u.clone()).await, "create upload");
    assert_eq!(
        ok(
            s.meta.get_upload(&b, "video.mp4", &u.upload_id).await,
            "get"
        ),
        u
    );
    let (p1, p2, p3, p5) = (
        part_record(1, 100),
        part_record(2, 200),
        part_record(3, 300),
        part_record(5, 50),
    );
    for p in [&p1, &p2, &p3, &p5] {
        assert!(
            ok(
                s.meta.put_part(&b, &u.key, &u.upload_id, p.clone()).await,
                "put part"
            )
            .is_empty()
        );
    }
    let done = ok(
        s.meta
            .complete_upload(completion(&u, &[&p1, &p3, &p5]))
            .await,
        "complete",
    );
    let o = &done.object;
    assert_eq!(o.size, 450);
    assert_eq!(o.etag, format!("{:032x}-3", 7));
    assert_eq!(o.headers, u.headers, "headers from the upload");
    assert_eq!(o.user_metadata, u.user_metadata, "metadata from the upload");
    assert_eq!(o.checksum_type, ChecksumType::Composite);
    let BlobRef::Parts(parts) = &o.blob else {
        panic!("multipart object must have parts")
    };
    let numbers: Vec<u32> = parts.iter().map(|p| p.part_number).collect();
    assert_eq!(numbers, [1, 3, 5]);
    assert_eq!(
        parts.iter().map(|p| p.blob.clone()).collect::<Vec<_>>(),
        [p1.blob.clone(), p3.blob.clone(), p5.blob.clone()]
    );
    assert_eq!(
        parts[1].checksums, p3.checksums,
        "part checksums kept for partNumber reads"
    );
    let mut garbage = done.garbage.clone();
    garbage.sort();
    let mut want = vec![p2.blob.clone(), old];
    want.sort();
    assert_eq!(garbage, want, "unused part and replaced object are garbage");
    assert_eq!(
        &ok(s.meta.get_object(&b, "video.mp4").await, "get object"),
        o
    );
    assert_err(
        s.meta.get_upload(&b, &u.key, &u.upload_id).await,
        |e| e.is_not_found(Entity::Upload),
        "upload gone",
    );
    assert_err(
        s.meta
            .put_part(&b, &u.key, &u.upload_id, part_record(9, 1))
            .await,
        |e| e.is_not_found(Entity::Upload),
        "put part after complete",
    );
    assert_err(
        s.meta.complete_upload(completion(&u, &[&p1])).await,
        |e| e.is_not_found(Entity::Upload),
        "complete twice",
    );
    let uploads = ok(
        s.meta.list_uploads(&b, &ListUploadsQuery::default()).await,
        "list uploads",
    );
    assert!(uploads.uploads.is_empty());
    assert!(ok(
        s.meta.blob_referenced(&p1.blob).await,
        "part blob now owned by the object"
    ));
}

/// Missing parts or wrong ETags are InvalidPart and change nothing; order is enforced.
pub async fn upload_complete_rejects_bad_parts(s: &Subject) {
    let b = new_bucket(s, 1, "bad-parts").await;
    let u = upload_record(&b, "k");
    ok(s.meta.create_upload(u.clone()).await, "create");
    let (p1, p2) = (part_record(1, 10), part_record(2, 10));
    ok(
        s.meta.put_part(&b, "k", &u.upload_id, p1.clone()).await,
        "p1",
    );
    ok(
        s.meta.put_part(&b, "k", &u.upload_id, p2.clone()).await,
        "p2",
    );
    let missing = part_record(3, 1);
    assert_err(
        s.meta
            .complete_upload(completion(&u, &[&p1, &missing]))
            .await,
        |e| matches!(e, StoreError::InvalidPart { part_number: 3 }),
        "missing part",
    );
    let mut stale = p2.clone();
    stale.etag = "ffffffffffffffffffffffffffffffff".to_owned();
    assert_err(
        s.meta.complete_upload(completion(&u, &[&p1, &stale])).await,
        |e| matches!(e, StoreError::InvalidPart { part_number: 2 }),
        "etag mismatch",
    );
    assert_err(
        s.meta.complete_upload(completion(&u, &[&p2, &p1])).await,
        |e| matches!(e, StoreError::Conflict(_)),
        "descending",
    );
    assert_err(
        s.meta.complete_upload(completion(&u, &[])).await,
        |e| matches!(e, StoreError::Conflict(_)),
        "none",
    );
    assert_err(
        s.meta.get_object(&b, "k").await,
        |e| e.is_not_found(Entity::Object),
        "no object written",
    );
    let listing = ok(
        s.meta
            .list_parts(&b, "k", &u.upload_id, &ListPartsQuery::default())
            .await,
        "parts kept",
    );
    assert_eq!(listing.parts, vec![p1.clone(), p2.clone()]);
    ok(
        s.meta.complete_upload(completion(&u, &[&p1, &p2])).await,
        "valid completion still works",
    );
}

/// Abort returns every part blob and removes the upload.
pub async fn upload_abort_returns_blobs(s: &Subject) {
    let b = new_bucket(s, 1, "aborts").await;
    let u = upload_record(&b, "k");
    ok(s.meta.create_upload(u.clone()).await, "create");
    let parts = [part_record(1, 1), part_record(2, 2)];
    for p in &parts {
        ok(
            s.meta.put_part(&b, "k", &u.upload_id, p.clone()).await,
            "put",
        );
    }
    let mut got = ok(s.meta.abort_upload(&b, "k", &u.upload_id).await, "abort");
    got.sort();
    let mut want: Vec<BlobId> = parts.iter().map(|p| p.blob.clone()).collect();
    want.sort();
    assert_eq!(got, want);
    assert_err(
        s.meta.abort_upload(&b, "k", &u.upload_id).await,
        |e| e.is_not_found(Entity::Upload),
        "twice",
    );
    assert!(!ok(
        s.meta.blob_referenced(&want[0]).await,
        "aborted part unreferenced"
    ));
    let objects = ok(
        s.meta.list_objects(&b, &ListObjectsQuery::default()).await,
        "list",
    );
    assert!(objects.objects.is_empty(), "abort creates no object");
}

/// An upload id names nothing under another key or bucket; duplicate ids are refused.
pub async fn upload_is_bound_to_bucket_and_key(s: &Subject) {
    let b = new_bucket(s, 1, "bound").await;
    let other = new_bucket(s, 1, "other").await;
    let u = upload_record(&b, "mine");
    ok(s.meta.create_upload(u.clone()).await, "create");
    let gone = |e: &StoreError| e.is_not_found(Entity::Upload);
    assert_err(
        s.meta.get_upload(&b, "theirs", &u.upload_id).await,
        gone,
        "other key",
    );
    assert_err(
        s.meta.get_upload(&other, "mine", &u.upload_id).await,
        gone,
        "other bucket",
    );
    assert_err(
        s.meta
            .put_part(&b, "theirs", &u.upload_id, part_record(1, 1))
            .await,
        gone,
        "put other key",
    );
    assert_err(
        s.meta.abort_upload(&other, "mine", &u.upload_id).await,
        gone,
        "abort other bucket",
    );
    assert_err(
        s.meta
            .list_parts(&b, "theirs", &u.upload_id, &ListPartsQuery::default())
            .await,
        gone,
        "list",
    );
    assert_err(
        s.meta
            .complete_upload(CompleteUpload {
                key: "theirs".into(),
                ..completion(&u, &[])
            })
            .await,
        gone,
        "complete",
    );
    assert_err(
        s.meta.create_upload(u.clone()).await,
        |e| matches!(e, StoreError::AlreadyExists(Entity::Upload)),
        "duplicate id",
    );
    let mut nowhere = upload_record(&b, "x");
    nowhere.bucket = BucketId::new(b.account.clone(), crate::testkit::bucket_name("missing"));
    assert_err(
        s.meta.create_upload(nowhere).await,
        |e| e.is_not_found(Entity::Bucket),
        "missing bucket",
    );
    ok(
        s.meta.get_upload(&b, "mine", &u.upload_id).await,
        "still there",
    );
}

/// Re-uploading a part number replaces it and returns the old blob; parts list in pages.
pub async fn parts_replace_and_list_in_pages(s: &Subject) {
    let b = new_bucket(s, 1, "parts").await;
    let u = upload_record(&b, "k");
    ok(s.meta.create_upload(u.clone()).await, "create");
    let mut parts: Vec<PartRecord> = [7u32, 1, 10000, 3, 2]
        .iter()
        .map(|&n| part_record(n, u64::from(n)))
        .collect();
    for p in &parts {
        ok(
            s.meta.put_part(&b, "k", &u.upload_id, p.clone()).await,
            "put",
        );
    }
    let replacement = PartRecord {
        etag: "replaced".to_owned(),
        ..part_record(3, 33)
    };
    let old = ok(
        s.meta
            .put_part(&b, "k", &u.upload_id, replacement.clone())
            .await,
        "replace",
    );
    assert_eq!(
        old,
        vec![parts[3].blob.clone()],
        "replaced part's blob returned"
    );
    parts[3] = replacement;
    parts.sort_by_key(|p| p.part_number);
    let mut q = ListPartsQuery {
        part_number_marker: 0,
        max_parts: 2,
    };
    let mut seen = Vec::new();
    loop {
        let page = ok(s.meta.list_parts(&b, "k", &u.upload_id, &q).await, "page");
        assert_eq!(page.upload, u);
        assert!(page.parts.len() <= 2);
        seen.extend(page.parts.clone());
        if !page.is_truncated {
            assert_eq!(page.next_part_number_marker, None);
            break;
        }
        q.part_number_marker = page.next_part_number_marker.expect("marker when truncated");
    }
    assert_eq!(seen, parts, "every part once, ordered by number");
    let none = ListPartsQuery {
        part_number_marker: 10000,
        max_parts: 5,
    };
    assert!(
        ok(
            s.meta.list_parts(&b, "k", &u.upload_id, &none).await,
            "after last"
        )
        .parts
        .is_empty()
    );
}

/// Uploads list by (key, upload id) with key/upload-id markers, prefixes and delimiters.
pub async fn uploads_list_orders_and_pages(s: &Subject) {
    let b = new_bucket(s, 1, "uploads").await;
    let mut made = Vec::new();
    for key in ["b", "a/1", "a/2", "c", "b", "b", "z/é"] {
        let u = upload_record(&b, key);
        ok(s.meta.create_upload(u.clone()).await, "create");
        made.push(u);
    }
    made.sort_by(|x, y| {
        (x.key.as_bytes(), x.upload_id.as_str()).cmp(&(y.key.as_bytes(), y.upload_id.as_str()))
    });
    let mut q = ListUploadsQuery {
        max_uploads: 2,
        ..ListUploadsQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = ok(s.meta.list_uploads(&b, &q).await, "page");
        assert!(page.uploads.len() <= 2);
        seen.extend(page.uploads.clone());
        if !page.is_truncated {
            break;
        }
        q.key_marker = page.next_key_marker.clone();
        q.upload_id_marker = page.next_upload_id_marker.clone();
    }
    assert_eq!(seen, made, "all uploads once, by key then id");

    let b_ids: Vec<&UploadRecord> = made.iter().filter(|u| u.key == "b").collect();
    let after_first_b = ListUploadsQuery {
        key_marker: Some("b".to_owned()),
        upload_id_marker: Some(b_ids[0].upload_id.as_str().to_owned()),
        ..ListUploadsQuery::default()
    };
    let page = ok(
        s.meta.list_uploads(&b, &after_first_b).await,
        "after first b",
    );
    let keys: Vec<&str> = page.uploads.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(
        keys,
        ["b", "b", "c", "z/é"],
        "rest of b's uploads, then later keys"
    );
    let after_b = ListUploadsQuery {
        key_marker: Some("b".to_owned()),
        ..ListUploadsQuery::default()
    };
    let page = ok(s.meta.list_uploads(&b, &after_b).await, "after b");
    assert_eq!(
        page.uploads
            .iter()
            .map(|u| u.key.as_str())
            .collect::<Vec<_>>(),
        ["c", "z/é"]
    );

    let rolled = ListUploadsQuery {
        delimiter: Some("/".to_owned()),
        ..ListUploadsQuery::default()
    };
    let page = ok(s.meta.list_uploads(&b, &rolled).await, "delimited");
    assert_eq!(page.common_prefixes, ["a/", "z/"]);
    assert_eq!(
        page.uploads
            .iter()
            .map(|u| u.key.as_str())
            .collect::<Vec<_>>(),
        ["b", "b", "b", "c"]
    );
    let prefixed = ListUploadsQuery {
        prefix: "a/".to_owned(),
        ..ListUploadsQuery::default()
    };
    let page = ok(s.meta.list_uploads(&b, &prefixed).await, "prefixed");
    assert_eq!(
        page.uploads
            .iter()
            .map(|u| u.key.as_str())
            .collect::<Vec<_>>(),
        ["a/1", "a/2"]
    );
}
