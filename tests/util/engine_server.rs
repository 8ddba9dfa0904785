//! An in-process HTTP server for engine tests that counts requests per path
//! and can delay, stall, reset, fail and freeze on cue.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Default)]
struct State {
    /// Requests whose head arrived (counted before any delay).
    received: AtomicU64,
    total: AtomicU64,
    per_path: Mutex<HashMap<String, u64>>,
    frozen_until: Mutex<Option<Instant>>,
}

/// A running test server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let state = Arc::new(State::default());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, mut shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut shutdown_rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let st = st.clone();
                            tokio::spawn(async move {
                                let svc = hyper::service::service_fn(move |req| handle(st.clone(), req));
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), svc)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        let addr = addr_rx.recv().unwrap();
        TestServer {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests whose head reached the server (counted on arrival).
    pub fn received(&self) -> u64 {
        self.state.received.load(Ordering::SeqCst)
    }

    /// Requests the server finished handling (responses written or failed on purpose).
    pub fn total(&self) -> u64 {
        self.state.total.load(Ordering::SeqCst)
    }

    pub fn count(&self, path: &str) -> u64 {
        self.state
            .per_path
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Holds every response (in flight or arriving) until `d` from now.
    pub fn freeze_for(&self, d: Duration) {
        *self.state.frozen_until.lock().unwrap() = Some(Instant::now() + d);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(Debug)]
struct Reset;
impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reset on cue")
    }
}
impl std::error::Error for Reset {}

async fn handle(st: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Reset> {
    let path = req.uri().path().to_string();
    let arrival = st.received.fetch_add(1, Ordering::SeqCst);
    let frozen = *st.frozen_until.lock().unwrap();
    if let Some(until) = frozen {
        if Instant::now() < until {
            tokio::time::sleep_until(until.into()).await;
        }
    }
    *st.per_path.lock().unwrap().entry(path.clone()).or_default() += 1;
    st.total.fetch_add(1, Ordering::SeqCst);
    let ok = |code: u16, body: &'static str| {
        Ok(Response::builder()
            .status(code)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap())
    };
    match path.as_str() {
        "/reset" => Err(Reset),
        "/stall" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            ok(200, "late")
        }
        "/fail" => ok(500, "boom"),
        // One request in a hundred waits 2 s: a slow tail.
        "/stall-1pct" => {
            if arrival % 100 == 99 {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            ok(200, "Hello, World!")
        }
        p if p.starts_with("/delay") => {
            tokio::time::sleep(Duration::from_millis(20)).await;
            ok(200, "slow")
        }
        _ => ok(200, "Hello, World!"),
    }
}

/// A loopback port with nothing listening on it.
pub fn dead_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}
