//! Stored times (epoch seconds or milliseconds) as s3s timestamps, for the operations and the
//! lifecycle document conversion alike.

use s3s::dto::Timestamp;

/// Epoch milliseconds as a timestamp (whole seconds; out-of-range values clamp).
pub(crate) fn timestamp_ms(ms: u64) -> Timestamp {
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .into()
}

/// Epoch seconds as a timestamp.
pub(crate) fn timestamp_secs(secs: u64) -> Timestamp {
    timestamp_ms(secs.saturating_mul(1000))
}
