//! Bucket lifecycle rules: the one stored document both adapters read and write (S3
//! `PutBucketLifecycleConfiguration` XML and Cloudflare's `/r2/buckets/{b}/lifecycle` JSON
//! convert to and from it), its validation as S3 applies it, and the decision a sweeper makes
//! for one object or upload. Pure: no I/O, the caller passes the time.
//!
//! Stored as JSON ([`LifecycleConfig::to_document`]) under [`crate::BucketConfigKind::Lifecycle`].

use serde::{Deserialize, Serialize};

/// Longest rule id S3 accepts.
pub const MAX_RULE_ID: usize = 255;
/// Most rules in one configuration.
pub const MAX_RULES: usize = 1000;
const DAY_SECS: u64 = 86_400;

/// A bucket's lifecycle rules, validated ([`LifecycleConfig::validate`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LifecycleConfig {
    /// The rules, in the order they were set.
    pub rules: Vec<LifecycleRule>,
}

/// One rule: a key prefix and what happens to objects and uploads under it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LifecycleRule {
    /// Unique within the configuration, 1..=255 characters.
    pub id: String,
    /// `Status` Enabled (S3) / `enabled` (R2).
    pub enabled: bool,
    /// Keys the rule applies to (empty: every key).
    pub prefix: String,
    /// When objects are deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_objects: Option<Expiry>,
    /// Incomplete multipart uploads are aborted this many seconds after they were started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_uploads_after_secs: Option<u64>,
}

/// When a rule deletes an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// This many seconds after the object was last written (S3 `Days` × 86400, R2 `maxAge`).
    AfterSecs(u64),
    /// From this instant on (epoch seconds, midnight UTC), whatever the object's age.
    OnDate(u64),
}

/// Why a configuration is refused: the field (a JSON-pointer-like path) and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct LifecycleError {
    /// What a client would call the field, e.g. `rules/3/id`.
    pub field: String,
    /// What is wrong with it.
    pub reason: &'static str,
    /// Malformed (S3 `MalformedXML`) rather than an invalid value (`InvalidArgument`).
    pub malformed: bool,
}

impl LifecycleError {
    fn invalid(field: String, reason: &'static str) -> Self {
        Self {
            field,
            reason,
            malformed: false,
        }
    }
    fn malformed(field: String, reason: &'static str) -> Self {
        Self {
            field,
            reason,
            malformed: true,
        }
    }
}

impl LifecycleConfig {
    /// Validates the rules as S3 does and gives every rule without an id a fresh one
    /// (`fresh_id` is called once per such rule).
    ///
    /// # Errors
    ///
    /// The first problem found: no rules or more than [`MAX_RULES`] (malformed); an id longer
    /// than [`MAX_RULE_ID`] or used twice; a rule with no action; a zero age; a date not at
    /// midnight UTC.
    pub fn validate(&mut self, mut fresh_id: impl FnMut() -> String) -> Result<(), LifecycleError> {
        if self.rules.len() > MAX_RULES {
            return Err(LifecycleError::malformed(
                "rules".into(),
                "at most 1000 rules are allowed",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, rule) in self.rules.iter_mut().enumerate() {
            if rule.id.is_empty() {
                rule.id = fresh_id();
            }
            if rule.id.chars().count() > MAX_RULE_ID {
                return Err(LifecycleError::invalid(
                    format!("rules/{i}/id"),
                    "the rule id must be at most 255 characters",
                ));
            }
            if !seen.insert(rule.id.clone()) {
                return Err(LifecycleError::invalid(
                    format!("rules/{i}/id"),
                    "rule ids must be unique",
                ));
            }
            if rule.expire_objects.is_none() && rule.abort_uploads_after_secs.is_none() {
                return Err(LifecycleError::invalid(
                    format!("rules/{i}"),
                    "at least one action needs to be specified in a rule",
                ));
            }
            match rule.expire_objects {
                Some(Expiry::AfterSecs(0)) => {
                    return Err(LifecycleError::invalid(
                        format!("rules/{i}/expiration"),
                        "the expiration age must be a positive number",
                    ));
                }
                Some(Expiry::OnDate(d)) if d % DAY_SECS != 0 => {
                    return Err(LifecycleError::invalid(
                        format!("rules/{i}/expiration/date"),
                        "the expiration date must be at midnight UTC",
                    ));
                }
                _ => {}
            }
            if rule.abort_uploads_after_secs == Some(0) {
                return Err(LifecycleError::invalid(
                    format!("rules/{i}/abortIncompleteMultipartUpload"),
                    "the abort age must be a positive number",
                ));
            }
        }
        Ok(())
    }

    /// The stored form.
    pub fn to_document(&self) -> String {
        // A struct of strings, numbers and options always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a stored document. `None` if it is not one (for example a document stored as
    /// S3 XML by an older version).
    pub fn from_document(doc: &str) -> Option<Self> {
        serde_json::from_str(doc).ok()
    }

    /// Whether any enabled rule expires this object (key, last written at `modified_ms`) at
    /// `now_ms`.
    pub fn expires_object(&self, key: &str, modified_ms: u64, now_ms: u64) -> bool {
        self.rules.iter().any(|r| {
            r.enabled
                && key.starts_with(&r.prefix)
                && match r.expire_objects {
                    Some(Expiry::AfterSecs(s)) => {
                        now_ms >= modified_ms.saturating_add(s.saturating_mul(1000))
                    }
                    Some(Expiry::OnDate(d)) => now_ms >= d.saturating_mul(1000),
                    None => false,
                }
        })
    }

    /// Whether any enabled rule aborts this upload (key, started at `initiated_ms`) at `now_ms`.
    pub fn aborts_upload(&self, key: &str, initiated_ms: u64, now_ms: u64) -> bool {
        self.rules.iter().any(|r| {
            r.enabled
                && key.starts_with(&r.prefix)
                && r.abort_uploads_after_secs
                    .is_some_and(|s| now_ms >= initiated_ms.saturating_add(s.saturating_mul(1000)))
        })
    }

    /// Whether any enabled rule has an action (a sweeper can skip the bucket otherwise).
    pub fn is_active(&self) -> bool {
        self.rules.iter().any(|r| r.enabled)
    }

    /// The longest prefix every object- or upload-acting enabled rule shares: listing can start
    /// there. Empty when rules disagree.
    pub fn common_prefix(&self) -> String {
        let mut it = self
            .rules
            .iter()
            .filter(|r| r.enabled)
            .map(|r| r.prefix.as_str());
        let Some(first) = it.next() else {
            return String::new();
        };
        let mut common = first.to_owned();
        for p in it {
            let n = common
                .char_indices()
                .zip(p.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8());
            common.truncate(n);
        }
        common
    }
}

/// Seconds as whole days, rounded up (how an age set in seconds through R2's API reads back
/// through S3, which counts days).
pub fn secs_to_days(secs: u64) -> u64 {
    secs.div_ceil(DAY_SECS)
}

/// Days as seconds.
pub fn days_to_secs(days: u64) -> u64 {
    days.saturating_mul(DAY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, prefix: &str, expire: Option<Expiry>, abort: Option<u64>) -> LifecycleRule {
        LifecycleRule {
            id: id.into(),
            enabled: true,
            prefix: prefix.into(),
            expire_objects: expire,
            abort_uploads_after_secs: abort,
        }
    }

    #[test]
    fn validation_follows_s3() {
        let ok = rule("a", "", Some(Expiry::AfterSecs(DAY_SECS)), None);
        // (rules, expected refusal: field and whether it is malformed)
        type Case = (Vec<LifecycleRule>, Option<(&'static str, bool)>);
        let cases: Vec<Case> = vec![
            (vec![ok.clone()], None),
            (vec![rule(&"x".repeat(255), "", None, Some(1))], None),
            (
                vec![rule(&"x".repeat(256), "", None, Some(1))],
                Some(("rules/0/id", false)),
            ),
            (vec![ok.clone(), ok.clone()], Some(("rules/1/id", false))),
            (vec![rule("a", "", None, None)], Some(("rules/0", false))),
            (
                vec![rule("a", "", Some(Expiry::AfterSecs(0)), None)],
                Some(("rules/0/expiration", false)),
            ),
            (
                vec![rule(
                    "a",
                    "",
                    Some(Expiry::OnDate(DAY_SECS * 20_000 + 1)),
                    None,
                )],
                Some(("rules/0/expiration/date", false)),
            ),
            (
                vec![rule("a", "", Some(Expiry::OnDate(DAY_SECS * 20_000)), None)],
                None,
            ),
            (
                vec![rule("a", "", None, Some(0))],
                Some(("rules/0/abortIncompleteMultipartUpload", false)),
            ),
            (vec![ok.clone(); 1001], Some(("rules", true))),
        ];
        for (rules, want) in cases {
            let mut c = LifecycleConfig { rules };
            let got = c.validate(|| "generated".into());
            match want {
                None => assert!(got.is_ok(), "{got:?}"),
                Some((field, malformed)) => {
                    let e = got.expect_err("must be refused");
                    assert_eq!((e.field.as_str(), e.malformed), (field, malformed), "{e}");
                }
            }
        }
    }

    #[test]
    fn rules_without_id_get_distinct_ones() {
        let mut n = 0;
        let mut c = LifecycleConfig {
            rules: vec![rule("", "", None, Some(1)), rule("", "", None, Some(1))],
        };
        c.validate(|| {
            n += 1;
            format!("gen-{n}")
        })
        .expect("valid");
        assert_eq!(c.rules[0].id, "gen-1");
        assert_eq!(c.rules[1].id, "gen-2");
    }

    #[test]
    fn evaluation_by_age_date_prefix_and_status() {
        let day_ms = DAY_SECS * 1000;
        let mut disabled = rule("off", "", Some(Expiry::AfterSecs(1)), Some(1));
        disabled.enabled = false;
        let c = LifecycleConfig {
            rules: vec![
                rule("age", "tmp/", Some(Expiry::AfterSecs(DAY_SECS)), None),
                rule("date", "old/", Some(Expiry::OnDate(DAY_SECS * 10)), None),
                rule("mpu", "up/", None, Some(3600)),
                disabled,
            ],
        };
        let t0 = 5 * day_ms;
        let cases = [
            ("tmp/a", t0, t0 + day_ms - 1, false),
            ("tmp/a", t0, t0 + day_ms, true),
            ("other/a", t0, t0 + 100 * day_ms, false),
            ("old/a", t0, 10 * day_ms - 1, false),
            ("old/a", t0, 10 * day_ms, true),
            ("up/a", t0, t0 + 100 * day_ms, false),
        ];
        for (key, modified, now, want) in cases {
            assert_eq!(c.expires_object(key, modified, now), want, "{key} {now}");
        }
        assert!(!c.aborts_upload("up/x", t0, t0 + 3_599_999));
        assert!(c.aborts_upload("up/x", t0, t0 + 3_600_000));
        assert!(!c.aborts_upload("tmp/x", t0, t0 + 100 * day_ms));
    }

    #[test]
    fn documents_round_trip_and_prefixes_merge() {
        let c = LifecycleConfig {
            rules: vec![
                rule("a", "logs/2024/", Some(Expiry::OnDate(DAY_SECS)), None),
                rule("b", "logs/2025/", None, Some(60)),
            ],
        };
        assert_eq!(
            LifecycleConfig::from_document(&c.to_document()),
            Some(c.clone())
        );
        assert_eq!(
            LifecycleConfig::from_document("<LifecycleConfiguration/>"),
            None
        );
        assert_eq!(c.common_prefix(), "logs/202");
        assert_eq!(secs_to_days(1), 1);
        assert_eq!(secs_to_days(DAY_SECS * 2), 2);
    }
}
