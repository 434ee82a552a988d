//! The target: a real `mayfly serve` in a fresh data directory on port 0, or a cluster of them
//! (PostgreSQL metadata, upstream S3 blobs, a round-robin balancer in front), every process
//! logging at `trace` to a file the suite reads back for the secret check; plus a tiny
//! management-API client. Both come from `mayfly-e2e`'s harness.

use std::path::PathBuf;

use mayfly_e2e::{Cluster, ClusterOptions, ServerOptions};

use crate::http::{Response, send};

pub use mayfly_e2e::mayfly_bin;

/// The header read timeout every server of the suite runs with, in seconds (short, so the
/// slow-loris cases stay fast).
pub const HEADER_READ_TIMEOUT_SECS: u64 = 2;
/// The S3 body idle timeout every server of the suite runs with, in seconds.
pub const BODY_READ_TIMEOUT_SECS: u64 = 2;

/// The environment every server process of the suite runs with.
fn trace_env() -> Vec<(String, String)> {
    vec![
        ("MAYFLY_LOG".into(), "trace".into()),
        ("RUST_LOG".into(), "trace".into()),
        (
            "MAYFLY_HEADER_READ_TIMEOUT".into(),
            HEADER_READ_TIMEOUT_SECS.to_string(),
        ),
        (
            "MAYFLY_BODY_READ_TIMEOUT".into(),
            BODY_READ_TIMEOUT_SECS.to_string(),
        ),
    ]
}

enum Target {
    Single(Box<mayfly_e2e::Server>),
    Cluster(Box<Cluster>),
}

/// The running target and its bootstrap admin credentials.
pub struct Server {
    /// `127.0.0.1:P` of the management API (the balancer's, for a cluster).
    pub api_addr: String,
    /// `127.0.0.1:Q` of the S3 endpoint (also its `Host`; the balancer's, for a cluster).
    pub s3_addr: String,
    /// The bootstrap account.
    pub account_id: String,
    /// The admin token's bearer value.
    pub api_token: String,
    /// The admin token's access key id.
    pub access_key_id: String,
    /// The admin token's S3 secret.
    pub secret_access_key: String,
    /// Where each server process's stderr (its log) goes: one file, or one per node.
    pub log_paths: Vec<PathBuf>,
    target: Target,
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

impl Server {
    /// `mayfly init` then `mayfly serve` with `MAYFLY_LOG`/`RUST_LOG` = `trace`.
    pub fn start() -> Result<Self, String> {
        let srv = mayfly_e2e::Server::start_with(&ServerOptions {
            env: trace_env(),
            log_to_file: true,
        })
        .map_err(|e| format!("{e:#}"))?;
        Ok(Server {
            api_addr: host_of(&srv.api_url),
            s3_addr: host_of(&srv.s3_url),
            account_id: srv.account_id.clone(),
            api_token: srv.api_token.clone(),
            access_key_id: srv.access_key_id.clone(),
            secret_access_key: srv.secret_access_key.clone(),
            log_paths: srv.log_path().map(PathBuf::from).into_iter().collect(),
            target: Target::Single(Box::new(srv)),
        })
    }

    /// A cluster of `nodes` PostgreSQL-backed nodes (needs `MAYFLY_TEST_PG_URL`), each
    /// logging at `trace` to a file of its own; addresses are the balancers'.
    pub fn start_cluster(nodes: usize) -> Result<Self, String> {
        let cluster = Cluster::start_with(&ClusterOptions {
            nodes,
            env: trace_env(),
            shared_log: None,
        })
        .map_err(|e| format!("{e:#}"))?;
        Ok(Server {
            api_addr: host_of(&cluster.api_url),
            s3_addr: cluster.s3_host.clone(),
            account_id: cluster.account_id.clone(),
            api_token: cluster.api_token.clone(),
            access_key_id: cluster.access_key_id.clone(),
            secret_access_key: cluster.secret_access_key.clone(),
            log_paths: cluster.nodes.iter().map(|n| n.log_path.clone()).collect(),
            target: Target::Cluster(Box::new(cluster)),
        })
    }

    /// For a cluster, the connections each node received through the balancers,
    /// `(api, s3)`; `None` for a single server.
    pub fn connections(&self) -> Option<Vec<(u64, u64)>> {
        match &self.target {
            Target::Single(_) => None,
            Target::Cluster(c) => Some(c.connections()),
        }
    }

    /// Calls the management API with the admin bearer token.
    pub fn api(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Response {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} /client/v4{path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.api_addr,
            self.api_token,
            body.len()
        );
        send(&self.api_addr, req.as_bytes())
    }

    /// Stops every server process with SIGTERM (its log is complete afterwards).
    pub fn stop(&mut self) {
        match &mut self.target {
            Target::Single(s) => {
                let _ = s.stop();
            }
            Target::Cluster(c) => {
                let _ = c.stop();
            }
        }
    }
}
