//! ListObjects (V1) and ListObjectsV2: prefix, delimiter, marker / start-after, opaque
//! continuation tokens and `encoding-type=url`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mayfly_store::{ListObjectsQuery, ObjectListing};
use s3s::dto;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::{bucket_id, caller, etag, size_i64, timestamp_ms};
use crate::context::Identity;
use crate::error::store;
use crate::state::S3State;

const MAX_KEYS: i32 = 1000;

fn max_keys(n: Option<i32>) -> S3Result<usize> {
    match n {
        None => Ok(1000),
        Some(n) if n < 0 => Err(s3_error!(InvalidArgument, "max-keys cannot be negative")),
        Some(n) => Ok(usize::try_from(n.min(MAX_KEYS)).unwrap_or(1000)),
    }
}

fn url_mode(e: Option<&dto::EncodingType>) -> S3Result<bool> {
    match e {
        None => Ok(false),
        Some(e) if e.as_str() == dto::EncodingType::URL => Ok(true),
        Some(_) => Err(s3_error!(
            InvalidArgument,
            "Invalid Encoding Method specified in Request"
        )),
    }
}

/// Encodes a key for `encoding-type=url` (slashes kept, as S3 does).
fn enc(url: bool, s: String) -> String {
    if url {
        urlencoding::encode(&s).replace("%2F", "/")
    } else {
        s
    }
}

/// Continuation tokens are opaque to clients: base64url of the store's next marker.
fn encode_token(marker: &str) -> String {
    URL_SAFE_NO_PAD.encode(marker.as_bytes())
}

fn decode_token(token: &str) -> S3Result<String> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "The continuation token provided is incorrect"
            )
        })
}

/// The owner listings name: the bucket's account.
fn owner(id: &Identity) -> dto::Owner {
    let account = id.account().as_str().to_owned();
    dto::Owner {
        display_name: Some(account.clone()),
        id: Some(account),
    }
}

fn objects(
    listing: &mut ObjectListing,
    url: bool,
    owner: Option<&dto::Owner>,
) -> (Vec<dto::Object>, Vec<dto::CommonPrefix>) {
    let objs = std::mem::take(&mut listing.objects)
        .into_iter()
        .map(|o| dto::Object {
            owner: owner.cloned(),
            e_tag: Some(etag(&o.etag)),
            key: Some(enc(url, o.key)),
            last_modified: Some(timestamp_ms(o.last_modified_ms)),
            size: Some(size_i64(o.size)),
            storage_class: Some(dto::ObjectStorageClass::from_static(
                dto::ObjectStorageClass::STANDARD,
            )),
            ..Default::default()
        })
        .collect();
    let prefixes = std::mem::take(&mut listing.common_prefixes)
        .into_iter()
        .map(|p| dto::CommonPrefix {
            prefix: Some(enc(url, p)),
        })
        .collect();
    (objs, prefixes)
}

pub(super) async fn list_objects_v2(
    state: &S3State,
    req: S3Request<dto::ListObjectsV2Input>,
) -> S3Result<S3Response<dto::ListObjectsV2Output>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let url = url_mode(i.encoding_type.as_ref())?;
    let start_after = match &i.continuation_token {
        Some(t) => Some(decode_token(t)?),
        None => i.start_after.clone(),
    };
    let query = ListObjectsQuery {
        prefix: i.prefix.clone().unwrap_or_default(),
        delimiter: i.delimiter.clone().filter(|d| !d.is_empty()),
        start_after,
        max_keys: max_keys(i.max_keys)?,
    };
    let mut listing = state
        .meta
        .list_objects(&bucket, &query)
        .await
        .map_err(store)?;
    // V2 names owners only when asked (`fetch-owner=true`).
    let fetched = i.fetch_owner.unwrap_or(false).then(|| owner(&id));
    let (contents, common_prefixes) = objects(&mut listing, url, fetched.as_ref());
    let key_count = i32::try_from(contents.len() + common_prefixes.len()).unwrap_or(MAX_KEYS);
    Ok(S3Response::new(dto::ListObjectsV2Output {
        name: Some(i.bucket),
        prefix: Some(enc(url, i.prefix.unwrap_or_default())),
        max_keys: Some(i32::try_from(query.max_keys).unwrap_or(MAX_KEYS)),
        key_count: Some(key_count),
        continuation_token: i.continuation_token,
        is_truncated: Some(listing.is_truncated),
        next_continuation_token: listing
            .next_marker
            .as_deref()
            .filter(|_| listing.is_truncated)
            .map(encode_token),
        contents: Some(contents),
        common_prefixes: Some(common_prefixes),
        delimiter: i.delimiter.filter(|d| !d.is_empty()).map(|d| enc(url, d)),
        encoding_type: i.encoding_type,
        start_after: i.start_after.map(|s| enc(url, s)),
        request_charged: None,
    }))
}

pub(super) async fn list_objects(
    state: &S3State,
    req: S3Request<dto::ListObjectsInput>,
) -> S3Result<S3Response<dto::ListObjectsOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let i = req.input;
    let url = url_mode(i.encoding_type.as_ref())?;
    let query = ListObjectsQuery {
        prefix: i.prefix.clone().unwrap_or_default(),
        delimiter: i.delimiter.clone().filter(|d| !d.is_empty()),
        start_after: i.marker.clone().filter(|m| !m.is_empty()),
        max_keys: max_keys(i.max_keys)?,
    };
    let mut listing = state
        .meta
        .list_objects(&bucket, &query)
        .await
        .map_err(store)?;
    // V1 always names owners.
    let (contents, common_prefixes) = objects(&mut listing, url, Some(&owner(&id)));
    Ok(S3Response::new(dto::ListObjectsOutput {
        name: Some(i.bucket),
        prefix: Some(enc(url, i.prefix.unwrap_or_default())),
        marker: Some(enc(url, i.marker.unwrap_or_default())),
        max_keys: Some(i32::try_from(query.max_keys).unwrap_or(MAX_KEYS)),
        is_truncated: Some(listing.is_truncated),
        next_marker: listing
            .next_marker
            .filter(|_| listing.is_truncated)
            .map(|m| enc(url, m)),
        contents: Some(contents),
        common_prefixes: Some(common_prefixes),
        delimiter: i.delimiter.filter(|d| !d.is_empty()).map(|d| enc(url, d)),
        encoding_type: i.encoding_type,
        request_charged: None,
    }))
}
