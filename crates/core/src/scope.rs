//! Path scope of a temporary credential: the `paths` claim.
//!
//! A key is in scope when it equals one of `objectPaths` or starts, as plain bytes, with one of
//! `prefixPaths`. Keys are compared exactly as received: never normalised, never decoded again
//! (`a/../b` is a literal key, `A` is not `a`).

use crate::error::InvalidInput;
use serde::{Deserialize, Serialize};

/// The longest S3 key, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// The most entries `prefixPaths` plus `objectPaths` may hold. A larger scope would not fit
/// the session-token size limit anyway; the count bound keeps scope checks cheap.
pub const MAX_PATHS: usize = 256;

/// Key prefixes and exact keys a credential is limited to. Invariant: at least one entry, at
/// most [`MAX_PATHS`] in all, each 1..=[`MAX_KEY_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathScope {
    #[serde(rename = "prefixPaths", default)]
    prefixes: Vec<String>,
    #[serde(rename = "objectPaths", default)]
    objects: Vec<String>,
}

impl PathScope {
    /// Builds a scope; `None` when both lists are empty (the whole bucket).
    pub fn new(prefixes: Vec<String>, objects: Vec<String>) -> Result<Option<Self>, InvalidInput> {
        let scope = Self { prefixes, objects };
        scope.validate()?;
        Ok(if scope.prefixes.is_empty() && scope.objects.is_empty() {
            None
        } else {
            Some(scope)
        })
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidInput> {
        if self.prefixes.len() + self.objects.len() > MAX_PATHS {
            return Err(InvalidInput::new("paths", "too many prefixes and objects"));
        }
        for p in &self.prefixes {
            if p.is_empty() || p.len() > MAX_KEY_LEN {
                return Err(InvalidInput::new(
                    "prefixes",
                    "each must be 1 to 1024 bytes",
                ));
            }
        }
        for o in &self.objects {
            if o.is_empty() || o.len() > MAX_KEY_LEN {
                return Err(InvalidInput::new("objects", "each must be 1 to 1024 bytes"));
            }
        }
        Ok(())
    }

    /// The key prefixes (`prefixPaths`).
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// The exact keys (`objectPaths`).
    pub fn objects(&self) -> &[String] {
        &self.objects
    }

    /// Whether one key is in scope.
    pub fn allows_key(&self, key: &str) -> bool {
        self.objects.iter().any(|o| o == key)
            || self
                .prefixes
                .iter()
                .any(|p| key.as_bytes().starts_with(p.as_bytes()))
    }

    /// Whether a listing with this `prefix` parameter stays in scope: it must start with one of
    /// the prefixes (exact keys alone never allow listing).
    pub fn allows_list_prefix(&self, prefix: &str) -> bool {
        self.prefixes
            .iter()
            .any(|p| prefix.as_bytes().starts_with(p.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(p: &[&str], o: &[&str]) -> PathScope {
        PathScope::new(
            p.iter().map(|s| s.to_string()).collect(),
            o.iter().map(|s| s.to_string()).collect(),
        )
        .expect("valid")
        .expect("non-empty")
    }

    #[test]
    fn prefixes_are_plain_byte_prefixes() {
        let s = scope(&["user-1/"], &[]);
        assert!(s.allows_key("user-1/a"));
        assert!(s.allows_key("user-1/"));
        assert!(!s.allows_key("user-10/a"));
        assert!(!s.allows_key("user-1"));
        assert!(!s.allows_key("USER-1/a"));
        assert!(
            s.allows_key("user-1/../user-2/x"),
            "dot segments are literal key bytes"
        );
    }

    #[test]
    fn objects_are_exact() {
        let s = scope(&[], &["a/b"]);
        assert!(s.allows_key("a/b"));
        assert!(!s.allows_key("a/bc"));
        assert!(!s.allows_key("a/b/"));
        assert!(!s.allows_key("a"));
        assert!(
            !s.allows_list_prefix("a/b"),
            "exact keys never allow listing"
        );
    }

    #[test]
    fn listing_needs_a_prefix_inside_scope() {
        let s = scope(&["data/"], &["x"]);
        assert!(s.allows_list_prefix("data/"));
        assert!(s.allows_list_prefix("data/2024/"));
        assert!(!s.allows_list_prefix("data"));
        assert!(!s.allows_list_prefix(""));
        assert!(!s.allows_list_prefix("dat"));
    }

    #[test]
    fn empty_scope_is_whole_bucket_and_bad_entries_are_refused() {
        assert_eq!(PathScope::new(vec![], vec![]), Ok(None));
        assert!(PathScope::new(vec![String::new()], vec![]).is_err());
        assert!(PathScope::new(vec![], vec!["k".repeat(1025)]).is_err());
        assert!(PathScope::new(vec!["p".into(); 257], vec![]).is_err());
    }
}
