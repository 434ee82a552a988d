//! DeleteObject and DeleteObjects. Deleting an absent key succeeds, as in S3. Every key of a
//! DeleteObjects body has already been authorized one by one by the access gate.

use s3s::dto;
use s3s::{S3Request, S3Response, S3Result};

use super::{bucket_id, caller, collect_garbage};
use crate::error::store;
use crate::state::S3State;

/// DeleteObjects accepts at most this many keys (S3's limit).
const MAX_DELETE_KEYS: usize = 1000;

pub(super) async fn delete_object(
    state: &S3State,
    req: S3Request<dto::DeleteObjectInput>,
) -> S3Result<S3Response<dto::DeleteObjectOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    state.meta.get_bucket(&bucket).await.map_err(store)?;
    let garbage = state
        .meta
        .delete_object(&bucket, &req.input.key)
        .await
        .map_err(store)?;
    collect_garbage(state, garbage).await;
    Ok(S3Response::new(dto::DeleteObjectOutput::default()))
}

pub(super) async fn delete_objects(
    state: &S3State,
    req: S3Request<dto::DeleteObjectsInput>,
) -> S3Result<S3Response<dto::DeleteObjectsOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let delete = req.input.delete;
    if delete.objects.len() > MAX_DELETE_KEYS {
        return Err(s3s::s3_error!(
            MalformedXML,
            "at most 1000 keys per request"
        ));
    }
    state.meta.get_bucket(&bucket).await.map_err(store)?;
    let quiet = delete.quiet.unwrap_or(false);
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for obj in delete.objects {
        match state.meta.delete_object(&bucket, &obj.key).await {
            Ok(garbage) => {
                collect_garbage(state, garbage).await;
                if !quiet {
                    deleted.push(dto::DeletedObject {
                        key: Some(obj.key),
                        ..Default::default()
                    });
                }
            }
            Err(e) => {
                let err = store(e);
                errors.push(dto::Error {
                    code: Some(err.code().as_str().to_owned()),
                    key: Some(obj.key),
                    message: err.message().map(str::to_owned),
                    version_id: None,
                });
            }
        }
    }
    Ok(S3Response::new(dto::DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        request_charged: None,
    }))
}
