//! The listing engine every [`crate::MetadataStore`] implementation shares, so delimiter
//! roll-up, markers and truncation behave identically whatever the backend (semantics in
//! [`crate::query`]). The backend only supplies ordered batches of rows from a cursor.

/// Where a backend batch starts. Keys compare as bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListCursor {
    /// Rows with `key >= bytes` (bytes may be non-UTF-8, e.g. a prefix successor).
    AtOrAfter(Vec<u8>),
    /// Rows with `key > bytes`.
    After(Vec<u8>),
    /// Rows with `key > bytes`, or `key == bytes` and `upload_id > id` (uploads are ordered by
    /// key, then upload id).
    AfterUpload(Vec<u8>, String),
}

/// A row the engine lists.
pub trait Listable {
    /// Its key.
    fn key(&self) -> &str;
    /// The cursor just after this row.
    fn cursor_after(&self) -> ListCursor {
        ListCursor::After(self.key().as_bytes().to_vec())
    }
}

impl Listable for crate::records::ObjectRecord {
    fn key(&self) -> &str {
        &self.key
    }
}

impl Listable for crate::records::UploadRecord {
    fn key(&self) -> &str {
        &self.key
    }
    fn cursor_after(&self) -> ListCursor {
        ListCursor::AfterUpload(
            self.key.as_bytes().to_vec(),
            self.upload_id.as_str().to_owned(),
        )
    }
}

/// One listing entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry<T> {
    /// A row.
    Item(T),
    /// A common prefix.
    Prefix(String),
}

/// What the engine produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// Rows and common prefixes, in key order.
    pub entries: Vec<Entry<T>>,
    /// More entries follow.
    pub truncated: bool,
}

/// The common prefix `key` rolls up into: everything up to and including the first
/// `delimiter` after `prefix`. `None` when `key` does not start with `prefix`, the delimiter
/// is empty, or it does not occur after the prefix.
pub fn rolled_prefix<'k>(key: &'k str, prefix: &str, delimiter: Option<&str>) -> Option<&'k str> {
    let delimiter = delimiter.filter(|d| !d.is_empty())?;
    let rest = key.strip_prefix(prefix)?;
    let at = rest.find(delimiter)?;
    Some(&key[..prefix.len() + at + delimiter.len()])
}

/// The smallest byte string greater than every string starting with `prefix`; `None` when no
/// such string exists (empty prefix or all `0xFF`), i.e. the range is unbounded above.
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// The first batch cursor for a listing starting after `start_after` (exclusive; if it is a
/// common prefix of this listing, everything under it is skipped too) within `prefix`.
pub fn start_cursor(
    prefix: &str,
    delimiter: Option<&str>,
    start_after: Option<&str>,
) -> ListCursor {
    let from_prefix = ListCursor::AtOrAfter(prefix.as_bytes().to_vec());
    let Some(after) = start_after.filter(|s| !s.is_empty()) else {
        return from_prefix;
    };
    if after.as_bytes() < prefix.as_bytes() {
        return from_prefix;
    }
    if rolled_prefix(after, prefix, delimiter) == Some(after) {
        return match prefix_successor(after.as_bytes()) {
            Some(next) => ListCursor::AtOrAfter(next),
            None => ListCursor::After(after.as_bytes().to_vec()),
        };
    }
    ListCursor::After(after.as_bytes().to_vec())
}

/// Runs a listing. `fetch(cursor, limit)` must return up to `limit` rows at or after `cursor`
/// whose key starts with `prefix`, ordered (key bytes, then upload id for uploads); fewer than
/// `limit` means there are no more. Returns at most `max` entries.
pub fn run<T: Listable, E>(
    prefix: &str,
    delimiter: Option<&str>,
    mut cursor: ListCursor,
    max: usize,
    mut fetch: impl FnMut(&ListCursor, usize) -> Result<Vec<T>, E>,
) -> Result<Page<T>, E> {
    let mut entries: Vec<Entry<T>> = Vec::new();
    if max == 0 {
        return Ok(Page {
            entries,
            truncated: false,
        });
    }
    // Common prefix most recently emitted: later rows under it are skipped.
    let mut skipping: Option<String> = None;
    loop {
        let limit = (max - entries.len()).saturating_add(1).clamp(1, 1000);
        let batch = fetch(&cursor, limit)?;
        let exhausted = batch.len() < limit;
        for row in batch {
            if skipping
                .as_deref()
                .is_some_and(|cp| row.key().starts_with(cp))
            {
                continue;
            }
            skipping = None;
            if entries.len() == max {
                return Ok(Page {
                    entries,
                    truncated: true,
                });
            }
            match rolled_prefix(row.key(), prefix, delimiter) {
                Some(cp) => {
                    let cp = cp.to_owned();
                    match prefix_successor(cp.as_bytes()) {
                        Some(next) => cursor = ListCursor::AtOrAfter(next),
                        // Nothing sorts after this prefix's range: the listing ends here.
                        None => {
                            entries.push(Entry::Prefix(cp));
                            return Ok(Page {
                                entries,
                                truncated: false,
                            });
                        }
                    }
                    entries.push(Entry::Prefix(cp.clone()));
                    skipping = Some(cp);
                }
                None => {
                    cursor = row.cursor_after();
                    entries.push(Entry::Item(row));
                }
            }
        }
        if exhausted {
            return Ok(Page {
                entries,
                truncated: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Listable for String {
        fn key(&self) -> &str {
            self
        }
    }

    fn in_memory(
        keys: &[&str],
        prefix: &str,
        delim: Option<&str>,
        after: Option<&str>,
        max: usize,
    ) -> Page<String> {
        let mut sorted: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        sorted.sort();
        let start = start_cursor(prefix, delim, after);
        let result: Result<_, ()> = run(prefix, delim, start, max, |cursor, limit| {
            Ok(sorted
                .iter()
                .filter(|k| k.starts_with(prefix))
                .filter(|k| match cursor {
                    ListCursor::AtOrAfter(b) => k.as_bytes() >= b.as_slice(),
                    ListCursor::After(b) | ListCursor::AfterUpload(b, _) => {
                        k.as_bytes() > b.as_slice()
                    }
                })
                .take(limit)
                .cloned()
                .collect())
        });
        result.unwrap_or_else(|()| Page {
            entries: Vec::new(),
            truncated: false,
        })
    }

    #[test]
    fn rolled_prefix_cuts_at_first_delimiter_after_prefix() {
        assert_eq!(rolled_prefix("a/b/c", "", Some("/")), Some("a/"));
        assert_eq!(rolled_prefix("a/b/c", "a/", Some("/")), Some("a/b/"));
        assert_eq!(rolled_prefix("a/b", "a/", Some("/")), None);
        assert_eq!(rolled_prefix("a/b", "x", Some("/")), None);
        assert_eq!(rolled_prefix("a/b", "", Some("")), None);
        assert_eq!(rolled_prefix("a--b--c", "", Some("--")), Some("a--"));
    }

    #[test]
    fn successor_increments_last_non_ff_byte() {
        assert_eq!(prefix_successor(b"a/"), Some(b"a0".to_vec()));
        assert_eq!(prefix_successor(&[b'a', 0xFF]), Some(b"b".to_vec()));
        assert_eq!(prefix_successor(&[0xFF]), None);
        assert_eq!(prefix_successor(b""), None);
    }

    #[test]
    fn marker_equal_to_common_prefix_skips_its_keys() {
        let keys = ["a/1", "a/2", "b", "c/1"];
        let page = in_memory(&keys, "", Some("/"), None, 1);
        assert_eq!(page.entries, vec![Entry::Prefix("a/".to_owned())]);
        assert!(page.truncated);
        let page = in_memory(&keys, "", Some("/"), Some("a/"), 10);
        assert_eq!(
            page.entries,
            vec![Entry::Item("b".to_owned()), Entry::Prefix("c/".to_owned())]
        );
        assert!(!page.truncated);
    }
}
