//! An async driver for the shared listing engine. [`mayfly_store::listing::run`] takes a
//! synchronous `fetch`, which an async database client cannot serve without blocking a runtime
//! thread; this is the same loop with an async `fetch`, built from the engine's own pieces
//! ([`rolled_prefix`], [`prefix_successor`], [`Entry`], [`Page`]) so roll-up, markers and
//! truncation stay those of every other store. The test below checks it against the
//! synchronous engine; if `mayfly-store` grows an async `run`, this file goes away.

use std::future::Future;

use mayfly_store::listing::{Entry, ListCursor, Listable, Page, prefix_successor, rolled_prefix};

/// [`mayfly_store::listing::run`] with an async `fetch(cursor, limit)`: same contract, same
/// result.
pub(crate) async fn run<T, E, F, Fut>(
    prefix: &str,
    delimiter: Option<&str>,
    mut cursor: ListCursor,
    max: usize,
    mut fetch: F,
) -> Result<Page<T>, E>
where
    T: Listable,
    F: FnMut(ListCursor, usize) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
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
        let batch = fetch(cursor.clone(), limit).await?;
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
    use mayfly_store::listing::{self, start_cursor};

    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Key(String);

    impl Listable for Key {
        fn key(&self) -> &str {
            &self.0
        }
    }

    fn fetch_from(sorted: &[Key], prefix: &str, cursor: &ListCursor, limit: usize) -> Vec<Key> {
        sorted
            .iter()
            .filter(|k| k.0.starts_with(prefix))
            .filter(|k| match cursor {
                ListCursor::AtOrAfter(b) => k.0.as_bytes() >= b.as_slice(),
                ListCursor::After(b) | ListCursor::AfterUpload(b, _) => {
                    k.0.as_bytes() > b.as_slice()
                }
            })
            .take(limit)
            .cloned()
            .collect()
    }

    #[test]
    fn async_driver_matches_the_shared_engine() {
        let mut keys: Vec<Key> = (0..600u32)
            .map(|i| {
                Key(match i % 5 {
                    0 => format!("a/{:03}/x", i % 7),
                    1 => format!("a/{i:04}"),
                    2 => format!("b{i}"),
                    3 => format!("c--{}--{i}", i % 3),
                    _ => format!("é/{}", i % 13),
                })
            })
            .collect();
        keys.sort_by(|x, y| x.0.as_bytes().cmp(y.0.as_bytes()));
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
                    let sync: Result<_, ()> =
                        listing::run(prefix, delim, start.clone(), max, |c, l| {
                            Ok(fetch_from(&keys, prefix, c, l))
                        });
                    let run_async = run(prefix, delim, start, max, |c, l| {
                        let rows = fetch_from(&keys, prefix, &c, l);
                        async move { Ok::<_, ()>(rows) }
                    });
                    let got = futures_util::FutureExt::now_or_never(run_async)
                        .expect("ready futures complete at once");
                    assert_eq!(got, sync, "{prefix:?} {delim:?} {after:?} {max}");
                }
            }
        }
    }
}
