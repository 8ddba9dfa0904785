//! The one test server: HTTP/1.1 on 127.0.0.1, raw TCP rather than hyper
//! so that every misbehaviour is exactly the bytes (or the silence) it is
//! named for. Routes map a path to a [`Behaviour`]: answer, wait, stall a
//! fraction, reset, truncate, close, exit the process, or play the
//! reference apps' contract ([`contract`]). It counts what it receives, so
//! tests can compare the generator's counts with the server's.
//!
//! In-process servers run on their own thread and stop when dropped; a
//! server whose process must die runs as a child process ([`child`]).

pub mod broadcast;
pub mod child;
pub mod contract;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Clone)]
pub enum Behaviour {
    /// Answers this status with this body (text/plain).
    Respond(u16, &'static str),
    /// Waits, then behaves as the inner behaviour.
    Delay(Duration, Box<Behaviour>),
    /// The last of every `every` requests the server receives (counted
    /// over all routes) waits `delay` first: a slow tail. The others go
    /// straight to `then`.
    SlowEvery {
        every: u64,
        delay: Duration,
        then: Box<Behaviour>,
    },
    /// A server of fixed capacity: requests (over all connections) are
    /// served one after another, each taking `each` of the one server's
    /// time (so at most one per `each` is answered; the rest queue), then
    /// behave as `then`. `next` is when the server is next free.
    Capacity {
        each: Duration,
        next: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
        then: Box<Behaviour>,
    },
    /// Reads the request and never answers (the connection stays open).
    Stall,
    /// Closes the connection without answering (FIN).
    Close,
    /// Writes part of a response head, then resets the connection
    /// (SO_LINGER 0, close).
    ResetMidResponse,
    /// Announces a 1000-byte body, sends 10 bytes, closes cleanly (FIN).
    TruncatedBody,
    /// The whole process exits without answering. Child processes only.
    ExitProcess,
    /// targets/API.md, in memory (see [`contract`]).
    Contract(Arc<contract::App>),
}

impl Behaviour {
    /// 200 "ok": a healthy server.
    pub fn ok() -> Behaviour {
        Behaviour::Respond(200, "ok")
    }

    /// 200 "ok" from a server that answers at most one request per
    /// `each` ([`Behaviour::Capacity`]).
    pub fn capacity(each: Duration) -> Behaviour {
        Behaviour::Capacity {
            each,
            next: Arc::default(),
            then: Box::new(Behaviour::ok()),
        }
    }

    /// Answers `status` after `delay`.
    pub fn slow(delay: Duration, status: u16, body: &'static str) -> Behaviour {
        Behaviour::Delay(delay, Box::new(Behaviour::Respond(status, body)))
    }
}

/// Configures a [`TestServer`]: routes, a fallback, a healthy start.
pub struct Builder {
    /// (path, behaviour); a path ending in `*` matches by prefix. The
    /// first match wins.
    routes: Vec<(String, Behaviour)>,
    fallback: Behaviour,
    healthy_first: u64,
    bind: SocketAddr,
}

impl Builder {
    /// Requests to `path` (a prefix if it ends in `*`) get `behaviour`.
    pub fn route(mut self, path: &str, behaviour: Behaviour) -> Builder {
        self.routes.push((path.to_string(), behaviour));
        self
    }

    /// What requests no route matches get (default: 200 "ok").
    pub fn fallback(mut self, behaviour: Behaviour) -> Builder {
        self.fallback = behaviour;
        self
    }

    /// The first `n` requests the server receives (over all connections)
    /// get 200 "ok", whatever their route (e.g. `run`'s reachability
    /// check before a fault starts).
    pub fn healthy_first(mut self, n: u64) -> Builder {
        self.healthy_first = n;
        self
    }

    /// Listen on `addr` instead of 127.0.0.1:0.
    pub fn bind(mut self, addr: SocketAddr) -> Builder {
        self.bind = addr;
        self
    }

    /// Starts serving on a thread of its own.
    pub fn start(self) -> TestServer {
        let shared = Arc::new(Shared {
            routes: self.routes,
            fallback: self.fallback,
            healthy_first: self.healthy_first,
            received: AtomicU64::new(0),
            handled: AtomicU64::new(0),
            per_path: Mutex::new(HashMap::new()),
            frozen_until: Mutex::new(None),
        });
        let bind = self.bind;
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind(bind).await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                tokio::select! {
                    _ = shutdown_rx => {}
                    _ = serve(listener, state) => {}
                }
            });
            // Dropping the runtime drops every connection task, closing
            // the stalled connections too.
        });
        let addr = addr_rx.recv().unwrap();
        TestServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

struct Shared {
    routes: Vec<(String, Behaviour)>,
    fallback: Behaviour,
    healthy_first: u64,
    /// Requests whose head arrived (counted before any freeze or delay).
    received: AtomicU64,
    /// Requests past the freeze, counted before their behaviour runs.
    handled: AtomicU64,
    per_path: Mutex<HashMap<String, u64>>,
    frozen_until: Mutex<Option<Instant>>,
}

impl Shared {
    fn behaviour(&self, path: &str) -> &Behaviour {
        self.routes
            .iter()
            .find(|(p, _)| match p.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == p,
            })
            .map_or(&self.fallback, |(_, b)| b)
    }
}

/// A running test server on loopback; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// A server with no routes: 200 "ok" to everything until configured.
    pub fn builder() -> Builder {
        Builder {
            routes: Vec::new(),
            fallback: Behaviour::ok(),
            healthy_first: 0,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// A server doing `behaviour` to every request.
    pub fn start(behaviour: Behaviour) -> TestServer {
        TestServer::builder().fallback(behaviour).start()
    }

    /// The reference apps' contract with these faults (see [`contract`]).
    pub fn contract(faults: contract::Faults) -> TestServer {
        TestServer::start(Behaviour::Contract(Arc::new(contract::App::new(faults))))
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Request heads that reached the server (counted on arrival, before
    /// any freeze or delay; every one answered or failed on purpose).
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::SeqCst)
    }

    /// Requests past any freeze (counted before their behaviour runs).
    pub fn handled(&self) -> u64 {
        self.shared.handled.load(Ordering::SeqCst)
    }

    /// [`TestServer::handled`] for one path (the query left out).
    pub fn count(&self, path: &str) -> u64 {
        let counts = self.shared.per_path.lock().unwrap();
        counts.get(path).copied().unwrap_or(0)
    }

    /// Holds every request arriving from now on until `d` from now.
    pub fn freeze_for(&self, d: Duration) {
        *self.shared.frozen_until.lock().unwrap() = Some(Instant::now() + d);
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

/// A loopback address with nothing listening on it (connections refused).
pub fn refused_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(connection(stream, shared.clone()));
    }
}

/// One request's head, as far as the server needs it.
struct Head {
    path: String,
    query: String,
    /// The client asked to close after the response.
    close: bool,
    /// A WebSocket handshake (`Upgrade: websocket`): `raw` is its bytes.
    websocket: bool,
    raw: Vec<u8>,
}

/// A response of [`Behaviour::Respond`] or the contract app.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Send a `Date` header (the contract requires one).
    pub date: bool,
}

/// One keep-alive connection: read a request, behave, repeat.
async fn connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(1024);
    while let Some(head) = read_request(&mut stream, &mut buf).await {
        let arrival = shared.received.fetch_add(1, Ordering::SeqCst);
        let frozen = *shared.frozen_until.lock().unwrap();
        if let Some(until) = frozen {
            if Instant::now() < until {
                tokio::time::sleep_until(until.into()).await;
            }
        }
        *shared
            .per_path
            .lock()
            .unwrap()
            .entry(head.path.clone())
            .or_default() += 1;
        shared.handled.fetch_add(1, Ordering::SeqCst);
        if head.websocket {
            if let Behaviour::Contract(app) = shared.behaviour(&head.path) {
                if app.upgrades(&head.path) {
                    let mut replay = head.raw;
                    replay.extend_from_slice(&buf);
                    return app.clone().fanout(stream, replay).await;
                }
            }
        }
        let healthy = Behaviour::ok();
        let mut behaviour = match arrival < shared.healthy_first {
            true => &healthy,
            false => shared.behaviour(&head.path),
        };
        let reply = loop {
            match behaviour {
                Behaviour::Delay(d, then) => {
                    tokio::time::sleep(*d).await;
                    behaviour = then;
                }
                Behaviour::Capacity { each, next, then } => {
                    let slot = {
                        let mut next = next.lock().unwrap();
                        let now = tokio::time::Instant::now();
                        let slot = next.map_or(now, |n| n.max(now)) + *each;
                        *next = Some(slot);
                        slot
                    };
                    tokio::time::sleep_until(slot).await;
                    behaviour = then;
                }
                Behaviour::SlowEvery { every, delay, then } => {
                    if arrival % every == every - 1 {
                        tokio::time::sleep(*delay).await;
                    }
                    behaviour = then;
                }
                Behaviour::Respond(status, body) => {
                    break Reply {
                        status: *status,
                        content_type: "text/plain",
                        body: body.as_bytes().to_vec(),
                        date: true,
                    };
                }
                Behaviour::Contract(app) => break app.answer(&head.path, &head.query).await,
                Behaviour::Stall => std::future::pending().await,
                Behaviour::Close => return,
                Behaviour::ResetMidResponse => {
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Le").await;
                    // Closing with a zero linger sends RST instead of FIN.
                    let _ = stream.set_zero_linger();
                    return;
                }
                Behaviour::TruncatedBody => {
                    let truncated = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly ten b";
                    let _ = stream.write_all(truncated).await;
                    let _ = stream.shutdown().await;
                    return;
                }
                Behaviour::ExitProcess => std::process::exit(0),
            }
        };
        if stream.write_all(&encode(&reply, head.close)).await.is_err() || head.close {
            return;
        }
    }
}

/// The bytes of a response: status line, `Server`, `Content-Type`,
/// `Content-Length`, `Date` unless left out, the body.
fn encode(reply: &Reply, close: bool) -> Vec<u8> {
    let reason = match reply.status {
        200 => "OK",
        404 => "Not Found",
        426 => "Upgrade Required",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\nServer: bakeoff-test\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    if reply.date {
        out.push_str(&format!("Date: {}\r\n", http_date(SystemTime::now())));
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&reply.body);
    bytes
}

/// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
fn http_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm), days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Reads one request (head, and a body announced by Content-Length) out
/// of `buf`, reading more from the stream as needed. None when the peer
/// closed.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Head> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&buf[..end]).into_owned();
            let mut lines = text.split("\r\n");
            let target = lines.next()?.split_whitespace().nth(1).unwrap_or("/");
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let (mut length, mut close, mut websocket) = (0, false, false);
            for line in lines {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                } else if name.eq_ignore_ascii_case("upgrade") {
                    websocket = value.eq_ignore_ascii_case("websocket");
                }
            }
            let head = Head {
                path: path.to_string(),
                query: query.to_string(),
                close,
                websocket,
                raw: buf[..end + 4].to_vec(),
            };
            while buf.len() < end + 4 + length {
                read_more(stream, buf).await?;
            }
            buf.drain(..end + 4 + length);
            return Some(head);
        }
        read_more(stream, buf).await?;
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
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

#[test]
fn http_date_is_an_imf_fixdate() {
    let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
    assert_eq!(http_date(leap), "Tue, 29 Feb 2000 00:00:00 GMT");
}
