//! # mayfly-console
//!
//! Mayfly's web console: plain HTML, CSS and ES modules, compiled into the binary with
//! `include_str!` (no network at run time, no build chain), served on the API listener.
//!
//! The console is a client of the v4 API and of the S3 endpoint, nothing more: this crate
//! serves static files and one configuration document naming the S3 endpoint hosts (public
//! information: the same hosts `mayfly serve` prints). It reads no store, checks no token and
//! adds no path that could act on data; every action the page takes is an API or S3 request
//! authorised like any other client's.
//!
//! | method | path | answer |
//! |--------|------|--------|
//! | GET | `/` | 303 to `/console/` |
//! | GET | `/console/` | `index.html` |
//! | GET | `/console/{file}` | one asset (see [`ASSETS`]) |
//! | GET | `/console/config.json` | `{"s3Hosts": ["host:port", ...]}` |
//!
//! Every answer carries a strict Content-Security-Policy (scripts and styles from the console's
//! own origin only, no inline code, `frame-ancestors 'none'`, `connect-src` limited to the
//! console's origin and the S3 endpoint hosts), `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: no-referrer` and `Cache-Control: no-cache` (asset names are not
//! content-hashed, so a browser revalidates rather than keep an old copy).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mayfly_console::{ConsoleConfig, router};
//!
//! let s3: std::net::SocketAddr = "127.0.0.1:8788".parse().expect("an address");
//! let app = router(ConsoleConfig::for_listener(s3, &[]));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod assets;
mod headers;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

pub use assets::{ASSETS, Asset};

/// Where the S3 endpoint is, as the browser must reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// `host[:port]` of the S3 endpoint, preferred first.
    s3_hosts: Vec<String>,
    /// The S3 listener's port when it listens on every address: the endpoint is then the host
    /// the browser used to reach the console, on this port.
    any_host_port: Option<u16>,
}

impl ConsoleConfig {
    /// Explicit S3 endpoint hosts (`host` or `host:port`), preferred first.
    pub fn new(s3_hosts: Vec<String>) -> Self {
        Self {
            s3_hosts: s3_hosts.into_iter().filter(|h| valid_host(h)).collect(),
            any_host_port: None,
        }
    }

    /// The hosts `mayfly serve` answers S3 on: the public hosts when configured, else the
    /// listen address (plus `localhost:port` for a loopback listener); for a listener on every
    /// address (`0.0.0.0`, `::`), the host the browser used, on the S3 port.
    pub fn for_listener(s3_addr: SocketAddr, public_hosts: &[String]) -> Self {
        if !public_hosts.is_empty() {
            return Self::new(public_hosts.to_vec());
        }
        if s3_addr.ip().is_unspecified() {
            return Self {
                s3_hosts: Vec::new(),
                any_host_port: Some(s3_addr.port()),
            };
        }
        let mut hosts = vec![s3_addr.to_string()];
        if s3_addr.ip().is_loopback() {
            hosts.push(format!("localhost:{}", s3_addr.port()));
        }
        Self::new(hosts)
    }

    /// The S3 hosts for a page the browser loaded from `request_host` (the `Host` header):
    /// the one on the same host name first.
    fn hosts_for(&self, request_host: Option<&str>) -> Vec<String> {
        let page_name = request_host.filter(|h| valid_host(h)).map(host_name);
        let mut hosts = self.s3_hosts.clone();
        if let (Some(port), Some(name)) = (self.any_host_port, page_name) {
            hosts.push(format!("{name}:{port}"));
        }
        if let Some(name) = page_name {
            hosts.sort_by_key(|h| host_name(h) != name);
        }
        hosts
    }
}

/// A `Host` value safe to echo into a header and a JSON string: name or IPv4 with an optional
/// port (IPv6 literals cannot be written as a CSP source, so they are left out).
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':')
        && h.bytes().filter(|b| *b == b':').count() <= 1
}

/// `host` of `host[:port]`.
fn host_name(h: &str) -> &str {
    h.split(':').next().unwrap_or(h)
}

type Shared = Arc<ConsoleConfig>;

/// The console's routes (`/`, `/console/...`). Merge it beside the v4 router on the API
/// listener; it has no fallback of its own, so unknown paths outside `/console/` keep the
/// API's 404 envelope.
pub fn router(config: ConsoleConfig) -> Router {
    Router::new()
        .route("/", get(to_console))
        .route("/console", get(to_console))
        .route("/console/", get(index))
        .route("/console/config.json", get(config_json))
        .route("/console/{*file}", get(asset))
        .with_state(Arc::new(config))
}

fn respond(
    config: &ConsoleConfig,
    headers: &HeaderMap,
    status: StatusCode,
    content_type: &'static str,
    body: String,
) -> Response {
    let hosts = config.hosts_for(request_host(headers));
    let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    headers::secure(response.headers_mut(), &hosts);
    response
}

fn request_host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|v| v.to_str().ok())
}

async fn to_console(State(config): State<Shared>, headers: HeaderMap) -> Response {
    let hosts = config.hosts_for(request_host(&headers));
    let mut response = Redirect::to("/console/").into_response();
    headers::secure(response.headers_mut(), &hosts);
    response
}

async fn index(State(config): State<Shared>, headers: HeaderMap) -> Response {
    asset_response(&config, &headers, "index.html")
}

async fn asset(
    State(config): State<Shared>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    asset_response(&config, &headers, &file)
}

fn asset_response(config: &ConsoleConfig, headers: &HeaderMap, name: &str) -> Response {
    match assets::find(name) {
        Some(a) => respond(
            config,
            headers,
            StatusCode::OK,
            a.content_type,
            a.body.to_owned(),
        ),
        None => respond(
            config,
            headers,
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "Not found: the console has no such file.\n".to_owned(),
        ),
    }
}

async fn config_json(State(config): State<Shared>, headers: HeaderMap) -> Response {
    let hosts = config.hosts_for(request_host(&headers));
    // Hosts passed `valid_host`: no character needs escaping in a JSON string.
    let list = hosts
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect::<Vec<_>>()
        .join(",");
    respond(
        &config,
        &headers,
        StatusCode::OK,
        "application/json",
        format!("{{\"s3Hosts\":[{list}]}}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_listener_also_answers_as_localhost_and_prefers_the_page_host() {
        let c = ConsoleConfig::for_listener("127.0.0.1:9000".parse().expect("addr"), &[]);
        assert_eq!(
            c.hosts_for(Some("127.0.0.1:8787")),
            ["127.0.0.1:9000", "localhost:9000"]
        );
        assert_eq!(
            c.hosts_for(Some("localhost:8787")),
            ["localhost:9000", "127.0.0.1:9000"]
        );
    }

    #[test]
    fn unspecified_listener_uses_the_page_host_on_the_s3_port() {
        let c = ConsoleConfig::for_listener("0.0.0.0:9000".parse().expect("addr"), &[]);
        assert_eq!(c.hosts_for(Some("box.lan:8787")), ["box.lan:9000"]);
        assert!(c.hosts_for(None).is_empty());
        // A Host header that could break out of a header or JSON string is ignored.
        assert!(c.hosts_for(Some("evil; script-src *")).is_empty());
        assert!(c.hosts_for(Some("a\"b")).is_empty());
    }

    #[test]
    fn public_hosts_win() {
        let c = ConsoleConfig::for_listener(
            "127.0.0.1:9000".parse().expect("addr"),
            &["s3.example.com".to_owned(), "bad host".to_owned()],
        );
        assert_eq!(c.hosts_for(Some("console.example.com")), ["s3.example.com"]);
    }
}
