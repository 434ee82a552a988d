//! A small round-robin TCP load balancer for the [`crate::Cluster`]: one listener on
//! `127.0.0.1:0`, each accepted connection goes to the next backend in turn (skipping one that
//! refuses the connection, as a killed node does), bytes are copied both ways, and the
//! connections each backend received are counted so a test can show every node served.
//!
//! It works at the TCP level, like an L4 balancer: HTTP keep-alive keeps one client connection
//! on one node, and a new connection may land on another.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;

/// How long a client may keep sending after its backend went away, before the balancer closes
/// on it. Reading (and dropping) those bytes lets the client see the backend's answer or its
/// end-of-stream instead of a connection reset.
const DRAIN: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Backend {
    addr: SocketAddr,
    connections: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    backends: RwLock<Vec<Arc<Backend>>>,
    next: AtomicUsize,
}

/// A running balancer; it stops with the runtime it was started on.
#[derive(Debug, Clone)]
pub struct Balancer {
    addr: SocketAddr,
    state: Arc<State>,
}

impl Balancer {
    /// Binds `127.0.0.1:0` and starts accepting on `runtime`.
    pub fn start(runtime: &Handle) -> Result<Self> {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").context("binding the load balancer")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let state = Arc::new(State::default());
        runtime.spawn(accept_loop(listener, Arc::clone(&state)));
        Ok(Self { addr, state })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a backend at the end of the rotation; returns its index.
    pub fn add_backend(&self, addr: SocketAddr) -> usize {
        let mut backends = self
            .state
            .backends
            .write()
            .unwrap_or_else(|e| e.into_inner());
        backends.push(Arc::new(Backend {
            addr,
            connections: AtomicU64::new(0),
        }));
        backends.len() - 1
    }

    /// Connections each backend has received so far, in backend order.
    pub fn connections(&self) -> Vec<u64> {
        self.state
            .backends
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|b| b.connections.load(Ordering::Relaxed))
            .collect()
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(forward(client, Arc::clone(&state)));
            }
            // EMFILE and the like: back off rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn forward(client: TcpStream, state: Arc<State>) {
    let backends = state
        .backends
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if backends.is_empty() {
        return;
    }
    let first = state.next.fetch_add(1, Ordering::Relaxed);
    for k in 0..backends.len() {
        let backend = &backends[(first + k) % backends.len()];
        if let Ok(upstream) = TcpStream::connect(backend.addr).await {
            backend.connections.fetch_add(1, Ordering::Relaxed);
            pipe(client, upstream).await;
            return;
        }
    }
    // Every backend refused: closing the client connection is all a balancer can do.
}

async fn pipe(client: TcpStream, upstream: TcpStream) {
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (client_r, client_w) = client.into_split();
    let (up_r, up_w) = upstream.into_split();
    let down = tokio::spawn(one_way(up_r, client_w, false));
    one_way(client_r, up_w, true).await;
    let _ = down.await;
}

/// Copies until end-of-stream or an error, then shuts the writer down (passing the EOF on).
/// With `drain`, a failed write is followed by reading and dropping what the reader still
/// sends, for at most [`DRAIN`].
async fn one_way(mut r: OwnedReadHalf, mut w: OwnedWriteHalf, drain: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if w.write_all(&buf[..n]).await.is_err() {
                    if drain {
                        let _ = tokio::time::timeout(DRAIN, async {
                            while let Ok(n) = r.read(&mut buf).await {
                                if n == 0 {
                                    break;
                                }
                            }
                        })
                        .await;
                    }
                    break;
                }
            }
        }
    }
    let _ = w.shutdown().await;
}
