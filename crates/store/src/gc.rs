//! Orphan-blob collection. A blob is an orphan when no object or part references it: its
//! metadata commit never happened (crash between blob write and commit) or the caller died
//! before deleting the garbage a store call returned. Run [`collect_orphans`] at startup and
//! periodically; the grace period protects blobs whose commit is still in flight.

use crate::blob::BlobStore;
use crate::error::StoreError;
use crate::metadata::MetadataStore;

/// Default grace period: blobs younger than this are never collected.
pub const DEFAULT_GRACE_SECS: u64 = 24 * 60 * 60;

/// What a collection pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Blobs old enough to be considered.
    pub examined: usize,
    /// Orphans deleted.
    pub deleted: usize,
}

/// Deletes every blob written before `now - grace_secs` that no record references.
///
/// Safe against concurrent traffic as long as no blob write takes longer than `grace_secs`
/// to reach its metadata commit.
pub async fn collect_orphans(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    now: u64,
    grace_secs: u64,
) -> Result<GcReport, StoreError> {
    let mut report = GcReport::default();
    for id in blobs.list_blobs(now.saturating_sub(grace_secs)).await? {
        report.examined += 1;
        if !meta.blob_referenced(&id).await? {
            blobs.delete(&id).await?;
            report.deleted += 1;
        }
    }
    Ok(report)
}
