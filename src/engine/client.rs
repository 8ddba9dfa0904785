//! One keep-alive connection, the one interface of the request loop: the
//! lean HTTP/1.1 client over plain TCP (`lean.rs`, the measured hot path),
//! or hyper's connection-level client: HTTP/1.1 over TCP (`--client
//! hyper`) or TLS, and HTTP/2 (h2 by ALPN, h2c by prior knowledge) whose
//! sender several workers may share (`--streams`). Requests are rendered
//! once per step: bytes for the lean client, parts for hyper (a send then
//! costs a header-map clone, not a parse). How the transport is chosen and
//! TLS set up is `tls.rs`'s.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use super::lean::LeanConnection;
use super::mix::MixEntry;
use super::tls::{self, HttpClient, Transport};
use crate::measure::ErrorKind;

/// A request of the mix with everything but the body clone pre-built.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    method: Method,
    uri: Uri,
    /// The absolute URI HTTP/2 needs (its :scheme and :authority).
    uri_h2: Uri,
    headers: HeaderMap,
    /// HTTP/2's headers: no Host (its :authority is the URL's; servers
    /// such as nginx refuse a request carrying both).
    headers_h2: HeaderMap,
    body: Bytes,
    /// The whole HTTP/1.1 request as the lean client writes it.
    wire: Bytes,
    pub expect_status: u16,
}

impl PreparedRequest {
    /// `origin` is "scheme://host:port", for HTTP/2's absolute URI.
    pub fn new(entry: &MixEntry, host_header: &str, origin: &str) -> Result<Self, String> {
        let uri: Uri = entry
            .path
            .parse()
            .map_err(|e| format!("invalid request path {:?}: {e}", entry.path))?;
        let uri_h2: Uri = format!("{origin}{}", entry.path)
            .parse()
            .map_err(|e| format!("invalid request URL {origin}{}: {e}", entry.path))?;
        let mut headers = entry.headers.clone();
        if !headers.contains_key(HOST) {
            let host = HeaderValue::from_str(host_header)
                .map_err(|e| format!("invalid Host {host_header:?}: {e}"))?;
            headers.insert(HOST, host);
        }
        if !entry.body.is_empty() && !headers.contains_key(CONTENT_LENGTH) {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(entry.body.len()));
        }
        let mut headers_h2 = headers.clone();
        headers_h2.remove(HOST);
        let wire = render(&entry.method, &uri, &headers, &entry.body);
        Ok(PreparedRequest {
            method: entry.method.clone(),
            uri,
            uri_h2,
            headers,
            headers_h2,
            body: entry.body.clone(),
            wire,
            expect_status: entry.expect_status,
        })
    }

    fn build(&self, uri: &Uri, headers: &HeaderMap) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = uri.clone();
        *req.headers_mut() = headers.clone();
        req
    }
}

/// `METHOD path HTTP/1.1`, the headers (Host among them), a blank line and
/// the body: the request bytes of the lean client.
fn render(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Bytes {
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut wire = Vec::with_capacity(64 + target.len() + body.len());
    wire.extend_from_slice(method.as_str().as_bytes());
    wire.push(b' ');
    wire.extend_from_slice(target.as_bytes());
    wire.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        wire.extend_from_slice(name.as_str().as_bytes());
        wire.extend_from_slice(b": ");
        wire.extend_from_slice(value.as_bytes());
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"\r\n");
    wire.extend_from_slice(body);
    Bytes::from(wire)
}

/// An open connection. hyper's driver runs as a local task; the lean
/// client has none (it reads in the worker's own task).
pub enum Connection {
    Lean(LeanConnection),
    Http1(http1::SendRequest<Full<Bytes>>),
    /// Cloneable: the workers sharing a connection (`--streams`) each hold
    /// a clone and multiplex their requests on it.
    Http2(http2::SendRequest<Full<Bytes>>),
}

impl Connection {
    /// Connects (TCP, then TLS and HTTP handshakes as `transport` says).
    /// Must run inside a `LocalSet` (the connection driver is spawned
    /// locally).
    pub async fn open(addr: SocketAddr, transport: &Transport) -> Result<Connection, ErrorKind> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|_| ErrorKind::Connect)?;
        // Latency of small requests must not wait for Nagle.
        let _ = stream.set_nodelay(true);
        if transport.tls.is_none() && !transport.http2 && transport.client == HttpClient::Lean {
            return Ok(Connection::Lean(LeanConnection::new(stream)));
        }
        // Boxed: the TLS and HTTP/2 handshakes are kilobytes of future
        // state, which would otherwise be in every connection's task.
        Box::pin(handshake(stream, transport)).await
    }
}

/// hyper's handshakes on a connected stream: TLS when asked, then HTTP/1.1
/// or HTTP/2.
async fn handshake(stream: TcpStream, transport: &Transport) -> Result<Connection, ErrorKind> {
    {
        match &transport.tls {
            None if !transport.http2 => http1_handshake(TokioIo::new(stream)).await,
            None => http2_handshake(TokioIo::new(stream)).await,
            Some(tls) => {
                let stream = tls::handshake(tls, stream)
                    .await
                    .map_err(|_| ErrorKind::Connect)?;
                // With --http2 the server may still choose HTTP/1.1.
                if tls::negotiated_h2(&stream) {
                    http2_handshake(TokioIo::new(stream)).await
                } else {
                    http1_handshake(TokioIo::new(stream)).await
                }
            }
        }
    }
}

impl Connection {
    /// Whether the connection can take another request (the server may
    /// have closed it, e.g. after `Connection: close`). `now` is on the
    /// step's clock.
    pub fn is_open(&self, now: Duration) -> bool {
        match self {
            Connection::Lean(c) => c.is_open(now),
            Connection::Http1(s) => !s.is_closed(),
            Connection::Http2(s) => !s.is_closed(),
        }
    }

    /// Another handle on the same HTTP/2 connection (None for HTTP/1.1,
    /// which carries one request at a time).
    pub fn share(&self) -> Option<Connection> {
        match self {
            Connection::Lean(_) | Connection::Http1(_) => None,
            Connection::Http2(s) => Some(Connection::Http2(s.clone())),
        }
    }

    /// Sends one request and reads the whole response body. Returns the
    /// status code, or the class of failure.
    /// `now` (the send time on the step's clock) tells the lean client how
    /// long the connection was idle next time.
    pub async fn send(&mut self, req: &PreparedRequest, now: Duration) -> Result<u16, ErrorKind> {
        match self {
            Connection::Lean(c) => c.send(&req.wire, req.method == Method::HEAD, now).await,
            // Boxed: hyper's send and body futures would otherwise size
            // every connection's task, lean ones included.
            _ => Box::pin(self.send_hyper(req)).await,
        }
    }

    async fn send_hyper(&mut self, req: &PreparedRequest) -> Result<u16, ErrorKind> {
        let resp = match self {
            Connection::Lean(_) => unreachable!("the lean client sends in `send`"),
            Connection::Http1(sender) => {
                sender.ready().await.map_err(|e| classify(&e))?;
                sender.send_request(req.build(&req.uri, &req.headers)).await
            }
            Connection::Http2(sender) => {
                sender.ready().await.map_err(|e| classify(&e))?;
                sender
                    .send_request(req.build(&req.uri_h2, &req.headers_h2))
                    .await
            }
        };
        read_response(resp.map_err(|e| classify(&e))?).await
    }
}

/// The status of a response after its whole body was read.
async fn read_response(resp: http::Response<Incoming>) -> Result<u16, ErrorKind> {
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        frame.map_err(|e| classify_body(&e))?;
    }
    Ok(status)
}

async fn http1_handshake<T>(io: T) -> Result<Connection, ErrorKind>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(io).await.map_err(|_| ErrorKind::Connect)?;
    tokio::task::spawn_local(async move {
        // The driver ends when the peer closes or the sender is dropped;
        // its error, if any, surfaces through the next send.
        let _ = conn.await;
    });
    Ok(Connection::Http1(sender))
}

async fn http2_handshake<T>(io: T) -> Result<Connection, ErrorKind>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // hyper spawns its per-stream tasks on the executor: the current
    // (single-threaded) runtime of the generator thread.
    let (sender, conn) = http2::Builder::new(TokioExecutor::new())
        .handshake(io)
        .await
        .map_err(|_| ErrorKind::Connect)?;
    tokio::task::spawn_local(async move {
        let _ = conn.await;
    });
    Ok(Connection::Http2(sender))
}

/// Maps an error while reading a response body (the head has arrived): a
/// clean close before the body is complete is a truncated response; resets
/// and timeouts keep their own class.
fn classify_body(err: &hyper::Error) -> ErrorKind {
    let eof = err.is_incomplete_message()
        || io_source(err).is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof);
    if eof {
        ErrorKind::Truncated
    } else {
        classify(err)
    }
}

/// Maps a hyper error before or while the response head is read (or while
/// waiting for the connection) to the error classes of the results.
fn classify(err: &hyper::Error) -> ErrorKind {
    if err.is_timeout() {
        return ErrorKind::Timeout;
    }
    if err.is_incomplete_message() || err.is_closed() || err.is_canceled() {
        return ErrorKind::Reset;
    }
    use std::io::ErrorKind as K;
    match io_source(err).map(|io| io.kind()) {
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof) => {
            ErrorKind::Reset
        }
        Some(K::TimedOut) => ErrorKind::Timeout,
        _ => ErrorKind::Other,
    }
}

/// The first I/O error in `err`'s source chain.
fn io_source(err: &hyper::Error) -> Option<&std::io::Error> {
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = s.source();
    }
    None
}
