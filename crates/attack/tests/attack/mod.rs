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
// ----- issue 12, sec-flow: writes in flight and slow clients -----
pub(crate) mod inflight;
