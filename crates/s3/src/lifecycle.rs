//! S3 lifecycle XML to and from the stored rules ([`mayfly_store::lifecycle`]), with S3's
//! error codes: `MalformedXML` for shape problems, `InvalidArgument` for bad values,
//! `NotImplemented` for what R2 does not apply (tag and size filters, storage-class
//! transitions, versioning actions).

use mayfly_store::lifecycle::{
    Expiry, LifecycleConfig, LifecycleError, LifecycleRule, days_to_secs, secs_to_days,
};
use s3s::dto;
use s3s::{S3Error, S3Result, s3_error};

use crate::timestamps::timestamp_secs;

fn unix_secs(t: &dto::Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

/// The S3 error for a refused configuration.
pub(crate) fn s3_error_of(e: &LifecycleError) -> S3Error {
    if e.malformed {
        s3_error!(MalformedXML, "{}", e)
    } else {
        s3_error!(InvalidArgument, "{}", e)
    }
}

fn positive_days(days: i32, field: &str) -> S3Result<u64> {
    u64::try_from(days)
        .ok()
        .filter(|d| *d > 0)
        .map(days_to_secs)
        .ok_or_else(|| s3_error!(InvalidArgument, "'{}' must be a positive integer", field))
}

fn rule_prefix(r: &dto::LifecycleRule) -> S3Result<String> {
    let Some(f) = &r.filter else {
        return Ok(r.prefix.clone().unwrap_or_default());
    };
    if r.prefix.is_some() {
        return Err(s3_error!(
            MalformedXML,
            "a rule has either Prefix or Filter, not both"
        ));
    }
    if f.tag.is_some()
        || f.object_size_greater_than.is_some()
        || f.object_size_less_than.is_some()
        || f.and.as_ref().is_some_and(|a| {
            a.tags.as_ref().is_some_and(|t| !t.is_empty())
                || a.object_size_greater_than.is_some()
                || a.object_size_less_than.is_some()
        })
    {
        return Err(s3_error!(
            NotImplemented,
            "lifecycle filters on tags or object size are not supported; use a prefix"
        ));
    }
    Ok(f.prefix
        .clone()
        .or_else(|| f.and.as_ref().and_then(|a| a.prefix.clone()))
        .unwrap_or_default())
}

fn rule_of(r: &dto::LifecycleRule) -> S3Result<LifecycleRule> {
    let enabled = match r.status.as_str() {
        dto::ExpirationStatus::ENABLED => true,
        dto::ExpirationStatus::DISABLED => false,
        _ => {
            return Err(s3_error!(
                MalformedXML,
                "Status must be Enabled or Disabled"
            ));
        }
    };
    if r.transitions.as_ref().is_some_and(|t| !t.is_empty())
        || r.noncurrent_version_transitions
            .as_ref()
            .is_some_and(|t| !t.is_empty())
        || r.noncurrent_version_expiration.is_some()
    {
        return Err(s3_error!(
            NotImplemented,
            "storage class transitions and versioning actions are not supported"
        ));
    }
    let expire_objects = match &r.expiration {
        None => None,
        Some(e) => match (e.days, &e.date, e.expired_object_delete_marker) {
            (Some(d), None, None) => Some(Expiry::AfterSecs(positive_days(d, "Days")?)),
            (None, Some(t), None) => {
                let secs = u64::try_from(unix_secs(t))
                    .map_err(|_| s3_error!(InvalidArgument, "invalid expiration Date"))?;
                if secs % 86_400 != 0 {
                    return Err(s3_error!(InvalidArgument, "'Date' must be at midnight GMT"));
                }
                Some(Expiry::OnDate(secs))
            }
            (None, None, Some(_)) => {
                return Err(s3_error!(
                    NotImplemented,
                    "ExpiredObjectDeleteMarker is not supported (buckets are not versioned)"
                ));
            }
            _ => {
                return Err(s3_error!(
                    MalformedXML,
                    "Expiration needs exactly one of Days or Date"
                ));
            }
        },
    };
    let abort_uploads_after_secs = match &r.abort_incomplete_multipart_upload {
        None => None,
        Some(a) => Some(positive_days(
            a.days_after_initiation
                .ok_or_else(|| s3_error!(MalformedXML, "DaysAfterInitiation is required"))?,
            "DaysAfterInitiation",
        )?),
    };
    Ok(LifecycleRule {
        id: r.id.clone().unwrap_or_default(),
        enabled,
        prefix: rule_prefix(r)?,
        expire_objects,
        abort_uploads_after_secs,
    })
}

/// A PutBucketLifecycleConfiguration body as validated stored rules.
pub(crate) fn from_s3(cfg: &dto::BucketLifecycleConfiguration) -> S3Result<LifecycleConfig> {
    if cfg.rules.is_empty() {
        return Err(s3_error!(MalformedXML, "at least one Rule is required"));
    }
    let mut out = LifecycleConfig {
        rules: cfg.rules.iter().map(rule_of).collect::<S3Result<_>>()?,
    };
    out.validate(|| mayfly_store::BlobId::random().as_str().to_owned())
        .map_err(|e| s3_error_of(&e))?;
    Ok(out)
}

/// Stored rules as S3 returns them (ages in whole days, rounded up).
pub(crate) fn to_s3(cfg: &LifecycleConfig) -> Vec<dto::LifecycleRule> {
    let days = |secs: u64| i32::try_from(secs_to_days(secs)).unwrap_or(i32::MAX);
    cfg.rules
        .iter()
        .map(|r| dto::LifecycleRule {
            id: Some(r.id.clone()),
            status: dto::ExpirationStatus::from_static(if r.enabled {
                dto::ExpirationStatus::ENABLED
            } else {
                dto::ExpirationStatus::DISABLED
            }),
            filter: Some(dto::LifecycleRuleFilter {
                prefix: Some(r.prefix.clone()),
                ..Default::default()
            }),
            expiration: r.expire_objects.map(|e| match e {
                Expiry::AfterSecs(s) => dto::LifecycleExpiration {
                    days: Some(days(s)),
                    ..Default::default()
                },
                Expiry::OnDate(d) => dto::LifecycleExpiration {
                    date: Some(timestamp_secs(d)),
                    ..Default::default()
                },
            }),
            abort_incomplete_multipart_upload: r.abort_uploads_after_secs.map(|s| {
                dto::AbortIncompleteMultipartUpload {
                    days_after_initiation: Some(days(s)),
                }
            }),
            noncurrent_version_expiration: None,
            noncurrent_version_transitions: None,
            prefix: None,
            transitions: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(status: &str) -> dto::LifecycleRule {
        dto::LifecycleRule {
            abort_incomplete_multipart_upload: None,
            expiration: Some(dto::LifecycleExpiration {
                days: Some(3),
                ..Default::default()
            }),
            filter: Some(dto::LifecycleRuleFilter {
                prefix: Some("tmp/".into()),
                ..Default::default()
            }),
            id: Some("r".into()),
            noncurrent_version_expiration: None,
            noncurrent_version_transitions: None,
            prefix: None,
            status: dto::ExpirationStatus::from(status.to_owned()),
            transitions: None,
        }
    }

    fn code(r: dto::LifecycleRule) -> Option<String> {
        from_s3(&dto::BucketLifecycleConfiguration { rules: vec![r] })
            .err()
            .map(|e| e.code().as_str().to_owned())
    }

    #[test]
    fn s3_rules_convert_and_validate() {
        let cfg = from_s3(&dto::BucketLifecycleConfiguration {
            rules: vec![rule("Enabled")],
        })
        .expect("valid");
        assert_eq!(
            cfg.rules,
            vec![LifecycleRule {
                id: "r".into(),
                enabled: true,
                prefix: "tmp/".into(),
                expire_objects: Some(Expiry::AfterSecs(3 * 86_400)),
                abort_uploads_after_secs: None,
            }]
        );
        let back = to_s3(&cfg);
        assert_eq!(back[0].expiration.as_ref().and_then(|e| e.days), Some(3));

        let midnight = dto::Timestamp::from(
            time::OffsetDateTime::from_unix_timestamp(86_400 * 20_000).expect("valid"),
        );
        let noon = dto::Timestamp::from(
            time::OffsetDateTime::from_unix_timestamp(86_400 * 20_000 + 43_200).expect("valid"),
        );
        let with_date = |t: dto::Timestamp| dto::LifecycleRule {
            expiration: Some(dto::LifecycleExpiration {
                date: Some(t),
                ..Default::default()
            }),
            ..rule("Enabled")
        };
        let cases: Vec<(dto::LifecycleRule, Option<&str>)> = vec![
            (rule("Disabled"), None),
            (rule("enabled"), Some("MalformedXML")),
            (with_date(midnight), None),
            (with_date(noon), Some("InvalidArgument")),
            (
                dto::LifecycleRule {
                    id: Some("x".repeat(256)),
                    ..rule("Enabled")
                },
                Some("InvalidArgument"),
            ),
            (
                dto::LifecycleRule {
                    expiration: Some(dto::LifecycleExpiration {
                        days: Some(0),
                        ..Default::default()
                    }),
                    ..rule("Enabled")
                },
                Some("InvalidArgument"),
            ),
            (
                dto::LifecycleRule {
                    expiration: None,
                    ..rule("Enabled")
                },
                Some("InvalidArgument"),
            ),
            (
                dto::LifecycleRule {
                    prefix: Some("a".into()),
                    ..rule("Enabled")
                },
                Some("MalformedXML"),
            ),
            (
                dto::LifecycleRule {
                    filter: Some(dto::LifecycleRuleFilter {
                        object_size_greater_than: Some(5),
                        ..Default::default()
                    }),
                    ..rule("Enabled")
                },
                Some("NotImplemented"),
            ),
        ];
        for (r, want) in cases {
            assert_eq!(code(r.clone()).as_deref(), want, "{r:?}");
        }
        let dup = from_s3(&dto::BucketLifecycleConfiguration {
            rules: vec![rule("Enabled"), rule("Enabled")],
        });
        assert!(dup.is_err());
        let generated = from_s3(&dto::BucketLifecycleConfiguration {
            rules: vec![dto::LifecycleRule {
                id: None,
                ..rule("Enabled")
            }],
        })
        .expect("valid");
        assert!(!generated.rules[0].id.is_empty());
    }
}
