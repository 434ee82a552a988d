//! The listing engine every [`crate::MetadataStore`] implementation shares, so delimiter
//! roll-up, markers and truncation behave identically whatever the backend (semantics in
//! [`crate::query`]). The backend only supplies ordered batches of rows from a cursor, through
//! [`run`] (sync) or [`run_async`] (async clients); both drive one loop.

use std::future::Future;

use crate::query::{ObjectListing, UploadListing};
use crate::records::{ObjectRecord, UploadRecord};

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

impl Listable for ObjectRecord {
    fn key(&self) -> &str {
        &self.key
    }
}

impl Listable for UploadRecord {
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

/// One listing in progress: the loop state [`run`] and [`run_async`] drive, so the sync and
/// async drivers cannot drift apart. Each step asks for one batch and absorbs it.
struct Run<'a, T> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    cursor: ListCursor,
    max: usize,
    entries: Vec<Entry<T>>,
    /// Common prefix most recently emitted: later rows under it are skipped.
    skipping: Option<String>,
}

impl<'a, T: Listable> Run<'a, T> {
    fn new(prefix: &'a str, delimiter: Option<&'a str>, cursor: ListCursor, max: usize) -> Self {
        Self {
            prefix,
            delimiter,
            cursor,
            max,
            entries: Vec::new(),
            skipping: None,
        }
    }

    /// The size of the next batch to fetch from `self.cursor`.
    fn limit(&self) -> usize {
        (self.max - self.entries.len())
            .saturating_add(1)
            .clamp(1, 1000)
    }

    fn finish(&mut self, truncated: bool) -> Page<T> {
        Page {
            entries: std::mem::take(&mut self.entries),
            truncated,
        }
    }

    /// Takes one batch fetched with `limit`; returns the page once the listing is complete.
    fn absorb(&mut self, batch: Vec<T>, limit: usize) -> Option<Page<T>> {
        let exhausted = batch.len() < limit;
        for row in batch {
            if self
                .skipping
                .as_deref()
                .is_some_and(|cp| row.key().starts_with(cp))
            {
                continue;
            }
            self.skipping = None;
            if self.entries.len() == self.max {
                return Some(self.finish(true));
            }
            match rolled_prefix(row.key(), self.prefix, self.delimiter) {
                Some(cp) => {
                    let cp = cp.to_owned();
                    match prefix_successor(cp.as_bytes()) {
                        Some(next) => self.cursor = ListCursor::AtOrAfter(next),
                        // Nothing sorts after this prefix's range: the listing ends here.
                        None => {
                            self.entries.push(Entry::Prefix(cp));
                            return Some(self.finish(false));
                        }
                    }
                    self.entries.push(Entry::Prefix(cp.clone()));
                    self.skipping = Some(cp);
                }
                None => {
                    self.cursor = row.cursor_after();
                    self.entries.push(Entry::Item(row));
                }
            }
        }
        exhausted.then(|| self.finish(false))
    }
}

/// Runs a listing. `fetch(cursor, limit)` must return up to `limit` rows at or after `cursor`
/// whose key starts with `prefix`, ordered (key bytes, then upload id for uploads); fewer than
/// `limit` means there are no more. Returns at most `max` entries.
pub fn run<T: Listable, E>(
    prefix: &str,
    delimiter: Option<&str>,
    cursor: ListCursor,
    max: usize,
    mut fetch: impl FnMut(&ListCursor, usize) -> Result<Vec<T>, E>,
) -> Result<Page<T>, E> {
    let mut run = Run::new(prefix, delimiter, cursor, max);
    if max == 0 {
        return Ok(run.finish(false));
    }
    loop {
        let limit = run.limit();
        let batch = fetch(&run.cursor, limit)?;
        if let Some(page) = run.absorb(batch, limit) {
            return Ok(page);
        }
    }
}

/// [`run`] for backends whose client is async: the same contract and the same result, with
/// `fetch(cursor, limit)` returning a future (it gets its own copy of the cursor, so the future
/// borrows nothing from the engine).
pub async fn run_async<T, E, F, Fut>(
    prefix: &str,
    delimiter: Option<&str>,
    cursor: ListCursor,
    max: usize,
    mut fetch: F,
) -> Result<Page<T>, E>
where
    T: Listable,
    F: FnMut(ListCursor, usize) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    let mut run = Run::new(prefix, delimiter, cursor, max);
    if max == 0 {
        return Ok(run.finish(false));
    }
    loop {
        let limit = run.limit();
        let batch = fetch(run.cursor.clone(), limit).await?;
        if let Some(page) = run.absorb(batch, limit) {
            return Ok(page);
        }
    }
}

/// The first batch cursor for a multipart-upload listing: [`start_cursor`] on the key marker,
/// narrowed to uploads of that key after `upload_id_marker` when both are given (and the key
/// marker is not a common prefix being skipped). Empty markers count as absent.
#[doc(hidden)]
pub fn upload_start_cursor(
    prefix: &str,
    delimiter: Option<&str>,
    key_marker: Option<&str>,
    upload_id_marker: Option<&str>,
) -> ListCursor {
    let key_marker = key_marker.filter(|k| !k.is_empty());
    let mut start = start_cursor(prefix, delimiter, key_marker);
    if let (ListCursor::After(key), Some(id)) = (&start, upload_id_marker) {
        start = ListCursor::AfterUpload(key.clone(), id.to_owned());
    }
    start
}

/// An object listing's page as the [`ObjectListing`] the trait returns: the next marker is the
/// last entry's key or prefix when truncated.
#[doc(hidden)]
pub fn object_listing(page: Page<ObjectRecord>) -> ObjectListing {
    let next_marker = match page.entries.last() {
        Some(Entry::Item(o)) if page.truncated => Some(o.key.clone()),
        Some(Entry::Prefix(p)) if page.truncated => Some(p.clone()),
        _ => None,
    };
    let mut listing = ObjectListing {
        is_truncated: page.truncated,
        next_marker,
        ..ObjectListing::default()
    };
    for entry in page.entries {
        match entry {
            Entry::Item(o) => listing.objects.push(o),
            Entry::Prefix(p) => listing.common_prefixes.push(p),
        }
    }
    listing
}

/// An upload listing's page as the [`UploadListing`] the trait returns: when truncated, the
/// next markers are the last upload's key and id, or the last common prefix.
#[doc(hidden)]
pub fn upload_listing(page: Page<UploadRecord>) -> UploadListing {
    let mut result = UploadListing {
        is_truncated: page.truncated,
        ..UploadListing::default()
    };
    if page.truncated {
        match page.entries.last() {
            Some(Entry::Item(u)) => {
                result.next_key_marker = Some(u.key.clone());
                result.next_upload_id_marker = Some(u.upload_id.as_str().to_owned());
            }
            Some(Entry::Prefix(p)) => result.next_key_marker = Some(p.clone()),
            None => {}
        }
    }
    for entry in page.entries {
        match entry {
            Entry::Item(u) => result.uploads.push(u),
            Entry::Prefix(p) => result.common_prefixes.push(p),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Listable for String {
        fn key(&self) -> &str {
            self
        }
    }

    /// Up to `limit` of the sorted `keys` within `prefix`, from `cursor`: a backend in memory.
    fn fetch_sorted(
        keys: &[String],
        prefix: &str,
        cursor: &ListCursor,
        limit: usize,
    ) -> Vec<String> {
        keys.iter()
            .filter(|k| k.starts_with(prefix))
            .filter(|k| match cursor {
                ListCursor::AtOrAfter(b) => k.as_bytes() >= b.as_slice(),
                ListCursor::After(b) | ListCursor::AfterUpload(b, _) => k.as_bytes() > b.as_slice(),
            })
            .take(limit)
            .cloned()
            .collect()
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
            Ok(fetch_sorted(&sorted, prefix, cursor, limit))
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

    #[test]
    fn async_driver_matches_the_sync_one() {
        let mut keys: Vec<String> = (0..600u32)
            .map(|i| match i % 5 {
                0 => format!("a/{:03}/x", i % 7),
                1 => format!("a/{i:04}"),
                2 => format!("b{i}"),
                3 => format!("c--{}--{i}", i % 3),
                _ => format!("é/{}", i % 13),
            })
            .collect();
        keys.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
        keys.dedup();
        for (prefix, delim) in [
            ("", None),
            ("", Some("/")),
            ("a/", Some("/")),
            ("c", Some("--")),
        ] {
            for after in [None, Some("a/"), Some("a/0003"), Some("b5")] {
                for max in [0, 1, 2, 7, 1000] {
                    let start = start_cursor(prefix, delim, after);
                    let sync: Result<_, ()> = run(prefix, delim, start.clone(), max, |c, l| {
                        Ok(fetch_sorted(&keys, prefix, c, l))
                    });
                    let run_async = run_async(prefix, delim, start, max, |c, l| {
                        let rows = fetch_sorted(&keys, prefix, &c, l);
                        async move { Ok::<_, ()>(rows) }
                    });
                    let got = futures_util::FutureExt::now_or_never(run_async)
                        .expect("ready futures complete at once");
                    assert_eq!(got, sync, "{prefix:?} {delim:?} {after:?} {max}");
                }
            }
        }
    }

    #[test]
    fn upload_id_marker_narrows_only_a_plain_key_marker() {
        assert_eq!(
            upload_start_cursor("", Some("/"), Some("k"), Some("u1")),
            ListCursor::AfterUpload(b"k".to_vec(), "u1".to_owned())
        );
        assert_eq!(
            upload_start_cursor("", Some("/"), Some("a/"), Some("u1")),
            ListCursor::AtOrAfter(b"a0".to_vec())
        );
        assert_eq!(
            upload_start_cursor("p", None, Some(""), Some("u1")),
            ListCursor::AtOrAfter(b"p".to_vec())
        );
    }
}
