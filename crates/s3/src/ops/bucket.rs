//! Bucket operations: list, create, head, delete, location, encryption, CORS and lifecycle
//! documents. Buckets are resolved in the caller's account.

use mayfly_store::cors::CorsConfig;
use mayfly_store::lifecycle::LifecycleConfig;
use mayfly_store::{
    BucketConfigKind, BucketRecord, Entity, Jurisdiction, ListBucketsQuery, StoreError,
};
use s3s::dto;
use s3s::xml::Deserializer;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::{bucket_id, caller, timestamp_secs};
use crate::error::{internal, store};
use crate::state::S3State;

const DEFAULT_LOCATION: &str = "auto";

pub(super) async fn list_buckets(
    state: &S3State,
    req: S3Request<dto::ListBucketsInput>,
) -> S3Result<S3Response<dto::ListBucketsOutput>> {
    let id = caller(&req)?;
    let account = id.account().clone();
    let per_page = req
        .input
        .max_buckets
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    let query = ListBucketsQuery {
        name_contains: None,
        start_after: None,
        per_page,
        cursor: req.input.continuation_token.clone(),
        ..ListBucketsQuery::default()
    };
    let page = state
        .meta
        .list_buckets(&account, &query)
        .await
        .map_err(store)?;
    let prefix = req.input.prefix.clone().unwrap_or_default();
    let buckets = page
        .buckets
        .into_iter()
        .filter(|b| b.name.as_str().starts_with(&prefix))
        .map(|b| dto::Bucket {
            bucket_region: None,
            creation_date: Some(timestamp_secs(b.created_at)),
            name: Some(b.name.as_str().to_owned()),
        })
        .collect();
    Ok(S3Response::new(dto::ListBucketsOutput {
        buckets: Some(buckets),
        continuation_token: page.cursor,
        owner: Some(dto::Owner {
            display_name: Some(account.as_str().to_owned()),
            id: Some(account.as_str().to_owned()),
        }),
        prefix: req.input.prefix,
    }))
}

pub(super) async fn create_bucket(
    state: &S3State,
    req: S3Request<dto::CreateBucketInput>,
) -> S3Result<S3Response<dto::CreateBucketOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let location = req
        .input
        .create_bucket_configuration
        .as_ref()
        .and_then(|c| c.location_constraint.as_ref())
        .map(|l| l.as_str().to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| DEFAULT_LOCATION.to_owned());
    let record = BucketRecord {
        account: bucket.account.clone(),
        name: bucket.name.clone(),
        created_at: state.clock.now(),
        location,
        storage_class: "Standard".to_owned(),
        jurisdiction: Jurisdiction::Default,
    };
    state.meta.create_bucket(record).await.map_err(store)?;
    Ok(S3Response::new(dto::CreateBucketOutput {
        location: Some(format!("/{}", bucket.name.as_str())),
    }))
}

pub(super) async fn head_bucket(
    state: &S3State,
    req: S3Request<dto::HeadBucketInput>,
) -> S3Result<S3Response<dto::HeadBucketOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    state.meta.get_bucket(&bucket).await.map_err(store)?;
    Ok(S3Response::new(dto::HeadBucketOutput {
        bucket_region: Some(DEFAULT_LOCATION.to_owned()),
        ..Default::default()
    }))
}

pub(super) async fn delete_bucket(
    state: &S3State,
    req: S3Request<dto::DeleteBucketInput>,
) -> S3Result<S3Response<dto::DeleteBucketOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    state.meta.delete_bucket(&bucket).await.map_err(store)?;
    Ok(S3Response::new(dto::DeleteBucketOutput {}))
}

pub(super) async fn get_bucket_location(
    state: &S3State,
    req: S3Request<dto::GetBucketLocationInput>,
) -> S3Result<S3Response<dto::GetBucketLocationOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    state.meta.get_bucket(&bucket).await.map_err(store)?;
    Ok(S3Response::new(dto::GetBucketLocationOutput {
        location_constraint: Some(dto::BucketLocationConstraint::from(
            DEFAULT_LOCATION.to_owned(),
        )),
    }))
}

pub(super) async fn get_bucket_encryption(
    state: &S3State,
    req: S3Request<dto::GetBucketEncryptionInput>,
) -> S3Result<S3Response<dto::GetBucketEncryptionOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    state.meta.get_bucket(&bucket).await.map_err(store)?;
    // R2 encrypts everything at rest with AES-256 and offers no other setting.
    let rule = dto::ServerSideEncryptionRule {
        apply_server_side_encryption_by_default: Some(dto::ServerSideEncryptionByDefault {
            kms_master_key_id: None,
            sse_algorithm: dto::ServerSideEncryption::from_static(
                dto::ServerSideEncryption::AES256,
            ),
        }),
        bucket_key_enabled: Some(false),
    };
    Ok(S3Response::new(dto::GetBucketEncryptionOutput {
        server_side_encryption_configuration: Some(dto::ServerSideEncryptionConfiguration {
            rules: vec![rule],
        }),
    }))
}

fn from_xml<'a, T: s3s::xml::Deserialize<'a>>(doc: &'a str) -> S3Result<T> {
    let mut d = Deserializer::new(doc.as_bytes());
    let v = T::deserialize(&mut d).map_err(|e| internal(&format_args!("stored xml: {e:?}")))?;
    Ok(v)
}

async fn get_config(
    state: &S3State,
    bucket: &mayfly_store::BucketId,
    kind: BucketConfigKind,
) -> S3Result<Option<String>> {
    match state.meta.get_bucket_config(bucket, kind).await {
        Ok(doc) => Ok(Some(doc)),
        Err(StoreError::NotFound(Entity::Cors | Entity::Lifecycle)) => Ok(None),
        Err(e) => Err(store(e)),
    }
}

pub(super) async fn get_bucket_cors(
    state: &S3State,
    req: S3Request<dto::GetBucketCorsInput>,
) -> S3Result<S3Response<dto::GetBucketCorsOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let doc = get_config(state, &bucket, BucketConfigKind::Cors)
        .await?
        .ok_or_else(|| {
            s3_error!(
                NoSuchCORSConfiguration,
                "The CORS configuration does not exist"
            )
        })?;
    let cfg = CorsConfig::from_document(&doc).map_err(|e| internal(&e))?;
    Ok(S3Response::new(dto::GetBucketCorsOutput {
        cors_rules: Some(crate::cors::config_to_dto(&cfg)),
    }))
}

pub(super) async fn put_bucket_cors(
    state: &S3State,
    req: S3Request<dto::PutBucketCorsInput>,
) -> S3Result<S3Response<dto::PutBucketCorsOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let doc = crate::cors::config_from_dto(req.input.cors_configuration)?.to_document();
    state
        .meta
        .put_bucket_config(&bucket, BucketConfigKind::Cors, doc)
        .await
        .map_err(store)?;
    Ok(S3Response::new(dto::PutBucketCorsOutput {}))
}

pub(super) async fn delete_bucket_cors(
    state: &S3State,
    req: S3Request<dto::DeleteBucketCorsInput>,
) -> S3Result<S3Response<dto::DeleteBucketCorsOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    state.meta.get_bucket(&bucket).await.map_err(store)?;
    state
        .meta
        .delete_bucket_config(&bucket, BucketConfigKind::Cors)
        .await
        .map_err(store)?;
    Ok(S3Response::new(dto::DeleteBucketCorsOutput {}))
}

pub(super) async fn get_bucket_lifecycle(
    state: &S3State,
    req: S3Request<dto::GetBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<dto::GetBucketLifecycleConfigurationOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let doc = get_config(state, &bucket, BucketConfigKind::Lifecycle)
        .await?
        .ok_or_else(|| {
            s3_error!(
                NoSuchLifecycleConfiguration,
                "The lifecycle configuration does not exist"
            )
        })?;
    // Documents stored as S3 XML by an earlier version still read back.
    let rules = match LifecycleConfig::from_document(&doc) {
        Some(cfg) => crate::lifecycle::to_s3(&cfg),
        None => from_xml::<dto::BucketLifecycleConfiguration>(&doc)?.rules,
    };
    Ok(S3Response::new(
        dto::GetBucketLifecycleConfigurationOutput {
            rules: Some(rules),
            ..Default::default()
        },
    ))
}

pub(super) async fn put_bucket_lifecycle(
    state: &S3State,
    req: S3Request<dto::PutBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<dto::PutBucketLifecycleConfigurationOutput>> {
    let id = caller(&req)?;
    let bucket = bucket_id(&id, &req.input.bucket)?;
    let cfg = req
        .input
        .lifecycle_configuration
        .ok_or_else(|| s3_error!(MalformedXML, "missing LifecycleConfiguration"))?;
    let rules = crate::lifecycle::from_s3(&cfg)?;
    state
        .meta
        .put_bucket_config(&bucket, BucketConfigKind::Lifecycle, rules.to_document())
        .await
        .map_err(store)?;
    Ok(S3Response::new(
        dto::PutBucketLifecycleConfigurationOutput::default(),
    ))
}
