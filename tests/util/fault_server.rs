//! A misbehaving HTTP/1.1 server for the fault tests. Raw TCP, not hyper,
//! so each fault is exactly the bytes (or the silence) it is named for.
//!
//! It runs in-process ([`FaultServer`]) or, for a server whose process
//! dies, as a child process ([`ChildServer`]): the test binary re-invoked
//! on one of its own tests, which becomes the server when
//! [`CHILD_EXIT_AFTER_ENV`] is set (see [`child_mode`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server misbehaves, for every request it reads.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// 200 with a small body: a healthy server.
    Healthy,
    /// Answers with this status.
    Status(u16),
    /// Answers with this status after this delay (a target whose handler
    /// fails after doing some work, and a generator left mostly idle).
    SlowStatus(Duration, u16),
    /// Answers 200 after this delay.
    Slow(Duration),
    /// Reads the request and never answers (the connection stays open).
    Stall,
    /// Writes part of the response head, then resets the connection
    /// (SO_LINGER 0, close).
    ResetMidResponse,
    /// Announces a 1000-byte body, sends 10 bytes, closes cleanly (FIN).
    TruncatedBody,
    /// Answers this many requests; on reading the next one, the whole
    /// process exits without answering. Child processes only.
    ExitAfter(u64),
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
const HALF_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Le";
const TRUNCATED: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly ten b";

/// An in-process faulty server on 127.0.0.1; stops when dropped.
pub struct FaultServer {
    pub addr: SocketAddr,
    requests: Arc<AtomicU64>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultServer {
    pub fn start(fault: Fault) -> FaultServer {
        FaultServer::start_after(0, fault)
    }

    /// A server that answers its first `healthy` requests normally and
    /// misbehaves from then on (e.g. after `run`'s reachability check).
    pub fn start_after(healthy: u64, fault: Fault) -> FaultServer {
        assert!(
            !matches!(fault, Fault::ExitAfter(_)),
            "a dying server must run as a child process (ChildServer)"
        );
        let requests = Arc::new(AtomicU64::new(0));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let counter = requests.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                tokio::select! {
                    _ = shutdown_rx => {}
                    _ = serve(listener, healthy, fault, counter) => {}
                }
            });
            // Dropping the runtime drops every connection task, closing
            // the stalled connections too.
        });
        let addr = addr_rx.recv().unwrap();
        FaultServer {
            addr,
            requests,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Request heads read so far (each one answered, or failed on purpose).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A loopback address with nothing listening on it (connections refused).
pub fn refused_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

async fn serve(listener: TcpListener, healthy: u64, fault: Fault, requests: Arc<AtomicU64>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(connection(stream, healthy, fault, requests.clone()));
    }
}

/// One keep-alive connection: read a request, misbehave, repeat. The
/// first `healthy` requests of the server (over all connections) are
/// answered normally.
async fn connection(mut stream: TcpStream, healthy: u64, fault: Fault, requests: Arc<AtomicU64>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(1024);
    while read_request(&mut stream, &mut buf).await {
        let n = requests.fetch_add(1, Ordering::SeqCst) + 1;
        let fault = if n <= healthy { Fault::Healthy } else { fault };
        let written = match fault {
            Fault::Healthy => stream.write_all(OK).await,
            Fault::Status(code) => {
                let head = format!("HTTP/1.1 {code} Fault\r\nContent-Length: 5\r\n\r\nfault");
                stream.write_all(head.as_bytes()).await
            }
            Fault::Slow(delay) => {
                tokio::time::sleep(delay).await;
                stream.write_all(OK).await
            }
            Fault::SlowStatus(delay, code) => {
                tokio::time::sleep(delay).await;
                let head = format!("HTTP/1.1 {code} Fault\r\nContent-Length: 5\r\n\r\nfault");
                stream.write_all(head.as_bytes()).await
            }
            Fault::Stall => std::future::pending().await,
            Fault::ResetMidResponse => {
                let _ = stream.write_all(HALF_HEAD).await;
                // Closing with a zero linger sends RST instead of FIN.
                let _ = stream.set_zero_linger();
                return;
            }
            Fault::TruncatedBody => {
                let _ = stream.write_all(TRUNCATED).await;
                let _ = stream.shutdown().await;
                return;
            }
            Fault::ExitAfter(max) => {
                if n > max {
                    std::process::exit(0);
                }
                stream.write_all(OK).await
            }
        };
        if written.is_err() {
            return;
        }
    }
}

/// Reads one request head into `buf` and consumes it (the tests send GETs
/// without a body). False when the peer closed.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            return true;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Set in a child process: serve, and exit on request N + 1 (see
/// [`Fault::ExitAfter`]); `never` for a healthy child.
pub const CHILD_EXIT_AFTER_ENV: &str = "BAKEOFF_FAULT_CHILD_EXIT_AFTER";
/// The line a child prints once it listens, followed by its address.
const LISTENING: &str = "BAKEOFF_FAULT_CHILD_LISTENING=";

/// In a child process started by [`ChildServer`] (or by bakeoff from a
/// targets.toml), the fault it serves.
pub fn child_mode() -> Option<Fault> {
    let value = std::env::var(CHILD_EXIT_AFTER_ENV).ok()?;
    Some(match value.as_str() {
        "never" => Fault::Healthy,
        n => Fault::ExitAfter(n.parse().expect("a number of requests or \"never\"")),
    })
}

/// The child process's server: binds `$HOST:$PORT` (127.0.0.1:0 by
/// default), prints its address and serves `fault` until the process ends.
pub fn run_child(fault: Fault) -> ! {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = TcpListener::bind(format!("{host}:{port}")).await.unwrap();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{LISTENING}{}", listener.local_addr().unwrap());
        let _ = out.flush();
        drop(out);
        serve(listener, 0, fault, Arc::new(AtomicU64::new(0))).await;
    });
    unreachable!("serve never returns")
}

/// A server in a child process (this test binary, re-invoked on the test
/// `test_name`, which must call [`child_mode`] / [`run_child`] first).
/// Killed when dropped if it is still running.
pub struct ChildServer {
    child: Child,
    pub addr: SocketAddr,
}

impl ChildServer {
    /// Starts a child that answers `exit_after` requests and exits on the next.
    pub fn spawn(test_name: &str, exit_after: u64) -> ChildServer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_EXIT_AFTER_ENV, exit_after.to_string())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address, then drains stdout until the child ends so
        // it never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may have written "test NAME ... " on the same line.
                if let Some((_, addr)) = line.split_once(LISTENING) {
                    let _ = tx.send(addr.trim().parse::<SocketAddr>().unwrap());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => addr,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child server did not report its address: {e}");
            }
        };
        ChildServer { child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits up to `limit` for the child to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // Our own child, by its pid.
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A blocking GET / on a fresh connection: the status code, or None when
/// the connection failed or closed before a response head arrived.
pub fn get_status(addr: SocketAddr) -> Option<u16> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace().nth(1)?.parse().ok()
}
