//! The large-GET ceiling: a minimal HTTP/1.1 server inside this process (hyper, the HTTP stack
//! Mayfly serves with) that answers every request with the same bytes from memory. The large-GET
//! step's client downloads them exactly as it downloads an object, so "Mayfly / ceiling" is what
//! Mayfly keeps of what HTTP over loopback can do on this machine, with the same client on the
//! same cores: no storage, no signature check, no copies beyond hyper's own.

use std::convert::Infallible;
use std::net::SocketAddr;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running ceiling server; stops when dropped.
pub(crate) struct Ceiling {
    /// `http://127.0.0.1:P`: any path answers with the body.
    pub(crate) url: String,
    /// Length of the body it serves.
    pub(crate) len: usize,
    accept: JoinHandle<()>,
}

impl Drop for Ceiling {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Ceiling {
    /// Binds 127.0.0.1 on a free port and serves `body` to every request.
    pub(crate) async fn start(body: Bytes) -> Result<Ceiling> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("binding the ceiling server")?;
        let addr = listener.local_addr()?;
        let len = body.len();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    // Out of descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                // As Mayfly does: no delayed-ACK stall on small responses.
                let _ = tcp.set_nodelay(true);
                let body = body.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |_req: Request<hyper::body::Incoming>| {
                        // `Bytes` clones share the buffer: every response is the same memory.
                        let body = body.clone();
                        async move {
                            let mut resp = Response::new(Full::new(body));
                            resp.headers_mut().insert(
                                hyper::header::CONTENT_TYPE,
                                hyper::header::HeaderValue::from_static("application/octet-stream"),
                            );
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    // A client hanging up mid-body is the client's business, not an error here.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
        Ok(Ceiling {
            url: format!("http://{addr}"),
            len,
            accept,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_same_bytes_to_every_request() {
        let body = crate::target::payload(100_000);
        let c = Ceiling::start(body.clone()).await.unwrap();
        let http = reqwest::Client::new();
        for path in ["/mayfly-bench/large/single", "/anything"] {
            let r = http.get(format!("{}{path}", c.url)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(
                r.headers()["content-length"].to_str().unwrap(),
                c.len.to_string()
            );
            assert_eq!(r.bytes().await.unwrap(), body);
        }
    }
}
