//! The backend-independent half of `list_buckets` paging: the page size, the opaque cursor's
//! text (`<order><direction>:<position>`, position = name, or `created_at:name`), and cutting a
//! fetched batch into a [`BucketPage`]. Backends turn a [`Position`] into their own SQL.

use crate::error::StoreError;
use crate::query::{BucketOrder, BucketPage, ListBucketsQuery, SortDirection};
use crate::records::BucketRecord;

/// Where a page resumes, decoded from the query's cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position<'a> {
    /// [`BucketOrder::Name`]: past this name.
    Name(&'a str),
    /// [`BucketOrder::CreationDate`]: past this `(created_at, name)`.
    Created(i64, &'a str),
}

/// Buckets per page: the query's `per_page`, clamped to 1..=1000. Fetch one more than this so
/// [`page`] can tell whether another page follows.
pub fn page_size(q: &ListBucketsQuery) -> usize {
    q.per_page.clamp(1, 1000)
}

fn cursor_tag(order: BucketOrder, direction: SortDirection) -> &'static str {
    match (order, direction) {
        (BucketOrder::Name, SortDirection::Asc) => "n+:",
        (BucketOrder::Name, SortDirection::Desc) => "n-:",
        (BucketOrder::CreationDate, SortDirection::Asc) => "c+:",
        (BucketOrder::CreationDate, SortDirection::Desc) => "c-:",
    }
}

/// The query's cursor, if any (empty counts as absent).
///
/// # Errors
///
/// [`StoreError::InvalidCursor`] when it was not made by [`page`] for this order and direction.
pub fn position(q: &ListBucketsQuery) -> Result<Option<Position<'_>>, StoreError> {
    let Some(cursor) = q.cursor.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let position = cursor
        .strip_prefix(cursor_tag(q.order, q.direction))
        .ok_or(StoreError::InvalidCursor)?;
    Ok(Some(match q.order {
        BucketOrder::Name => Position::Name(position),
        BucketOrder::CreationDate => {
            let (at, name) = position.split_once(':').ok_or(StoreError::InvalidCursor)?;
            let at: i64 = at.parse().map_err(|_| StoreError::InvalidCursor)?;
            Position::Created(at, name)
        }
    }))
}

/// A page from a batch of up to `page_size(q) + 1` buckets in the query's order: the extra one
/// is dropped and turns into the cursor of the last bucket kept.
pub fn page(mut buckets: Vec<BucketRecord>, q: &ListBucketsQuery) -> BucketPage {
    let per_page = page_size(q);
    let cursor = if buckets.len() > per_page {
        buckets.truncate(per_page);
        buckets.last().map(|b| {
            let tag = cursor_tag(q.order, q.direction);
            match q.order {
                BucketOrder::Name => format!("{tag}{}", b.name),
                BucketOrder::CreationDate => format!("{tag}{}:{}", b.created_at, b.name),
            }
        })
    } else {
        None
    };
    BucketPage { buckets, cursor }
}
