//! One module per attack class of the issue, plus the log scan.

pub(crate) mod batch;
pub(crate) mod binding;
pub(crate) mod copy;
pub(crate) mod dots;
pub(crate) mod encoding;
// issue 12, sec-api: tokens and credentials never raise themselves through the API.
pub(crate) mod chunked;
pub(crate) mod conditional;
pub(crate) mod escalation;
pub(crate) mod expiry;
pub(crate) mod hand;
pub(crate) mod inflight;
pub(crate) mod integrity;
pub(crate) mod lifetime;
pub(crate) mod listing;
pub(crate) mod logs;
pub(crate) mod mixup;
pub(crate) mod oracle;
pub(crate) mod parent;
pub(crate) mod prefix;
pub(crate) mod skew;
pub(crate) mod sources;
pub(crate) mod tamper;
// issue 15: one revoked temporary credential on every auth path.
pub(crate) mod revoked;
