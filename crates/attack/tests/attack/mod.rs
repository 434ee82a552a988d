//! One module per attack class of the issue, plus the log scan.

pub(crate) mod batch;
pub(crate) mod binding;
pub(crate) mod copy;
pub(crate) mod dots;
pub(crate) mod encoding;
pub(crate) mod expiry;
pub(crate) mod listing;
pub(crate) mod logs;
pub(crate) mod mixup;
pub(crate) mod oracle;
pub(crate) mod parent;
pub(crate) mod prefix;
pub(crate) mod skew;
pub(crate) mod tamper;
pub(crate) mod chunked;
pub(crate) mod conditional;
pub(crate) mod hand;
pub(crate) mod integrity;
pub(crate) mod lifetime;
pub(crate) mod sources;
pub(crate) mod inflight;
