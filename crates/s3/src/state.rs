//! What the S3 endpoint needs from the binary: storage handles, the clock, the hosts it
//! answers for, size limits and the body idle timeout.

use std::sync::Arc;
use std::time::Duration;

use mayfly_store::{AuditSink, BlobStore, Clock, MetadataStore};

use crate::host::EndpointHosts;

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

/// How long a request body may go without a byte before the request fails with
/// `RequestTimeout`, unless [`S3State::with_body_idle_timeout`] says otherwise.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Size caps. s3s 0.14 enforces none of these on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest single PutObject / CopyObject result (S3: 5 GiB).
    pub max_object_size: u64,
    /// Largest multipart part (S3: 5 GiB).
    pub max_part_size: u64,
    /// Smallest non-final multipart part (S3: 5 MiB).
    pub min_part_size: u64,
    /// Largest XML request body (CompleteMultipartUpload, DeleteObjects, CORS, lifecycle).
    pub max_xml_body: usize,
    /// Largest sum of header name and value bytes.
    pub max_header_bytes: usize,
    /// Largest sum of `x-amz-meta-*` name and value bytes.
    pub max_user_metadata: usize,
    /// Largest aws-chunked chunk (s3s buffers one whole chunk in memory).
    pub max_aws_chunk: u64,
    /// Longest request target (path and query).
    pub max_uri: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_object_size: 5 * GIB,
            max_part_size: 5 * GIB,
            min_part_size: 5 * MIB,
            max_xml_body: 1024 * 1024,
            max_header_bytes: 16 * 1024,
            max_user_metadata: 8 * 1024,
            max_aws_chunk: 8 * MIB,
            max_uri: 8 * 1024,
        }
    }
}

/// Everything the S3 router shares between requests.
#[derive(Clone)]
pub struct S3State {
    pub(crate) meta: Arc<dyn MetadataStore>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) clock: Clock,
    pub(crate) hosts: EndpointHosts,
    pub(crate) limits: Limits,
    pub(crate) body_idle_timeout: Option<Duration>,
    /// Where temporary credentials' requests are recorded (issue 15); disabled by default.
    pub(crate) audit: AuditSink,
}

impl S3State {
    /// A state with default [`Limits`].
    pub fn new(
        meta: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
        clock: Clock,
        hosts: EndpointHosts,
    ) -> Self {
        Self {
            meta,
            blobs,
            clock,
            hosts,
            limits: Limits::default(),
            body_idle_timeout: Some(DEFAULT_BODY_IDLE_TIMEOUT),
            audit: AuditSink::disabled(),
        }
    }

    /// Records every request made with a temporary credential into `sink` (the audit trail,
    /// a Mayfly extension). Pushing never waits; see [`AuditSink::record`].
    #[must_use]
    pub fn with_audit(mut self, sink: AuditSink) -> Self {
        self.audit = sink;
        self
    }

    /// Replaces the body idle timeout (`None`: wait forever). A request whose body goes this
    /// long without a byte fails with 400 `RequestTimeout` and stores nothing.
    #[must_use]
    pub fn with_body_idle_timeout(mut self, limit: Option<Duration>) -> Self {
        self.body_idle_timeout = limit;
        self
    }

    /// Replaces the size limits (tests use small ones).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The hosts this endpoint answers for (also the accepted token audiences).
    pub fn hosts(&self) -> &EndpointHosts {
        &self.hosts
    }
}

impl std::fmt::Debug for S3State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3State")
            .field("hosts", &self.hosts)
            .field("limits", &self.limits)
            .field("body_idle_timeout", &self.body_idle_timeout)
            .finish_non_exhaustive()
    }
}
