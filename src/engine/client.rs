//! One keep-alive HTTP/1.1 connection on hyper's connection-level client:
//! the measured hot path. Requests are built from pre-rendered parts so a
//! send costs a header-map clone, not a parse.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::mix::MixEntry;
use crate::measure::ErrorKind;

/// A request of the mix with everything but the body clone pre-built.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    pub expect_status: u16,
}

impl PreparedRequest {
    pub fn new(entry: &MixEntry, host_header: &str) -> Result<Self, String> {
        let uri: Uri = entry
            .path
            .parse()
            .map_err(|e| format!("invalid request path {:?}: {e}", entry.path))?;
        let mut headers = entry.headers.clone();
        if !headers.contains_key(HOST) {
            let host = HeaderValue::from_str(host_header)
                .map_err(|e| format!("invalid Host {host_header:?}: {e}"))?;
            headers.insert(HOST, host);
        }
        if !entry.body.is_empty() && !headers.contains_key(CONTENT_LENGTH) {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(entry.body.len()));
        }
        Ok(PreparedRequest {
            method: entry.method.clone(),
            uri,
            headers,
            body: entry.body.clone(),
            expect_status: entry.expect_status,
        })
    }

    fn build(&self) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        req
    }
}

/// An open HTTP/1.1 connection. Its driver runs as a local task.
pub struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Connects and performs the HTTP/1.1 handshake. Must run inside a
    /// `LocalSet` (the connection driver is spawned locally).
    pub async fn open(addr: SocketAddr) -> Result<Connection, ErrorKind> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|_| ErrorKind::Connect)?;
        // Latency of small requests must not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ErrorKind::Connect)?;
        tokio::task::spawn_local(async move {
            // The driver ends when the peer closes or the sender is dropped;
            // its error, if any, surfaces through the next send.
            let _ = conn.await;
        });
        Ok(Connection { sender })
    }

    /// Whether the connection can take another request (the server may
    /// have closed it, e.g. after `Connection: close`).
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }

    /// Sends one request and reads the whole response body. Returns the
    /// status code, or the class of failure.
    pub async fn send(&mut self, req: &PreparedRequest) -> Result<u16, ErrorKind> {
        self.sender.ready().await.map_err(|e| classify(&e))?;
        let resp = self
            .sender
            .send_request(req.build())
            .await
            .map_err(|e| classify(&e))?;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            frame.map_err(|e| classify_body(&e))?;
        }
        Ok(status)
    }
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
