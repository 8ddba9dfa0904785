//! The lean HTTP/1.1 client: the measured hot path over cleartext TCP.
//!
//! A request is written as bytes rendered once per step (no header map,
//! no allocation per request); a response is parsed with `httparse` from a
//! per-thread read buffer shared by every connection of the generator
//! thread, and its body is framed by RFC 9112 §6 and dropped as it
//! arrives. A connection between requests therefore owns no buffer: its
//! memory is its socket and its task, which is what lets one core hold
//! 10 000 of them. hyper stays the client for TLS and HTTP/2 (and for
//! HTTP/1.1 with `--client hyper`); both behind [`super::client::Connection`]
//! and one test suite (`tests/client.rs`).
//!
//! What it handles: `Content-Length` and chunked bodies of any size (with
//! chunk extensions and trailers), bodies delimited by the close of the
//! connection, responses without a body (HEAD, 1xx, 204, 304), interim 1xx
//! responses before the final one, HTTP/1.0 servers (keep-alive only when
//! they say `Connection: keep-alive`), `Connection: close`, a server that
//! closed an idle keep-alive connection (noticed before the next send, not
//! counted as an error), and the error classes of `ErrorKind`: a close or
//! reset before a complete head is `reset`, one inside the body is
//! `truncated`, a malformed response is `other`.

use std::cell::RefCell;
use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::measure::ErrorKind;

/// Bytes read per read call, shared by the connections of a thread.
const READ_BUFFER: usize = 64 * 1024;
/// The largest response head (status line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The most header fields a response head may have.
const MAX_HEADERS: usize = 128;
/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 8 * 1024;
/// A connection idle at least this long is checked for a close by the
/// server before it is used again (one non-blocking read).
const IDLE_CHECK: Duration = Duration::from_millis(100);

thread_local! {
    /// The generator thread's one read buffer: a response is parsed from
    /// it within the synchronous part of a read, never across an await.
    static READ_BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUFFER].into_boxed_slice());
}

/// One keep-alive HTTP/1.1 connection.
pub struct LeanConnection {
    stream: TcpStream,
    /// Unconsumed bytes of a head or a chunk line split across reads;
    /// empty (and unallocated) between requests.
    carry: Vec<u8>,
    /// False once the server said `Connection: close`, sent more than a
    /// response, or framed a body by closing the connection.
    reusable: bool,
    /// When the last request was sent, on the step's clock.
    last_used: Duration,
}

impl LeanConnection {
    /// A connection on a connected stream.
    pub fn new(stream: TcpStream) -> LeanConnection {
        LeanConnection {
            stream,
            carry: Vec::new(),
            reusable: true,
            last_used: Duration::ZERO,
        }
    }

    /// Whether the connection can take another request. After an idle
    /// spell, a non-blocking read finds a close by the server (keep-alive
    /// timeouts), so the request goes on a fresh connection instead of
    /// failing on a dead one.
    /// `now` is on the step's clock (the caller has it: one clock read less
    /// per request).
    pub fn is_open(&self, now: Duration) -> bool {
        if !self.reusable {
            return false;
        }
        if now.saturating_sub(self.last_used) < IDLE_CHECK {
            return true;
        }
        let mut probe = [0u8; 1];
        match self.stream.try_read(&mut probe) {
            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
            // Closed (0), or bytes nobody asked for: either way not reusable.
            Ok(_) => false,
        }
    }

    /// Writes one rendered request and reads its whole response, dropping
    /// the body. Returns the final status code.
    pub async fn send(
        &mut self,
        wire: &[u8],
        head_request: bool,
        now: Duration,
    ) -> Result<u16, ErrorKind> {
        self.last_used = now;
        self.stream.write_all(wire).await.map_err(|e| io_kind(&e))?;
        let mut parse = Parse::new(head_request);
        let result = self.read_response(&mut parse).await;
        if result.is_err() {
            self.reusable = false;
        }
        if self.carry.capacity() > 4096 {
            // A rare long head: do not keep its buffer on an idle connection.
            self.carry = Vec::new();
        } else {
            self.carry.clear();
        }
        result
    }

    async fn read_response(&mut self, parse: &mut Parse) -> Result<u16, ErrorKind> {
        let LeanConnection {
            stream,
            carry,
            reusable,
            ..
        } = self;
        loop {
            stream.readable().await.map_err(|e| io_kind(&e))?;
            let step = READ_BUF.with(|buf| {
                let mut buf = buf.borrow_mut();
                match stream.try_read(&mut buf[..]) {
                    Ok(0) => Ok(Some(parse.eof()?)),
                    Ok(n) => parse.feed_split(carry, &buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                    Err(e) => Err(io_kind(&e)),
                }
            })?;
            if let Some(done) = step {
                if !done.reusable {
                    *reusable = false;
                }
                return Ok(done.status);
            }
        }
    }
}

/// A complete response: its status and whether the connection may carry
/// another request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub status: u16,
    pub reusable: bool,
}

/// Where in a response the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    /// `Content-Length` bytes still to come.
    Fixed(u64),
    /// Chunked: the next chunk-size line.
    ChunkSize,
    /// Chunked: bytes of the current chunk still to come.
    ChunkData(u64),
    /// Chunked: the line end after a chunk's data.
    ChunkEnd,
    /// Chunked: trailer lines up to the empty one.
    Trailers,
    /// The body ends when the server closes the connection.
    UntilClose,
}

/// The response parser, fed bytes as they arrive (`pub` for its unit
/// tests and `tests/client.rs`'s byte-level cases).
#[derive(Debug)]
pub struct Parse {
    state: State,
    head_request: bool,
    status: u16,
    keep_alive: bool,
}

impl Parse {
    pub fn new(head_request: bool) -> Parse {
        Parse {
            state: State::Head,
            head_request,
            status: 0,
            keep_alive: true,
        }
    }

    /// Feeds `data` after whatever `carry` holds; keeps in `carry` the
    /// bytes of an incomplete head or line. Some(done) once the response
    /// is complete.
    pub fn feed_split(
        &mut self,
        carry: &mut Vec<u8>,
        data: &[u8],
    ) -> Result<Option<Done>, ErrorKind> {
        if carry.is_empty() {
            let (keep_from, done) = self.feed(data)?;
            if done.is_none() {
                carry.extend_from_slice(&data[keep_from..]);
            }
            return Ok(done);
        }
        carry.extend_from_slice(data);
        let joined = std::mem::take(carry);
        let (keep_from, done) = self.feed(&joined)?;
        if done.is_none() {
            *carry = joined;
            carry.drain(..keep_from);
        }
        Ok(done)
    }

    /// Consumes what it can of `data`: (the offset from which the rest
    /// must be kept for the next call, the response when complete).
    fn feed(&mut self, data: &[u8]) -> Result<(usize, Option<Done>), ErrorKind> {
        let mut pos = 0;
        loop {
            let rest = &data[pos..];
            match self.state {
                State::Head => {
                    let Some(len) = self.head(rest)? else {
                        return Ok((pos, None));
                    };
                    pos += len;
                }
                State::Fixed(left) => {
                    let take = left.min(rest.len() as u64);
                    pos += take as usize;
                    if take == left {
                        return Ok((pos, Some(self.done(pos < data.len()))));
                    }
                    self.state = State::Fixed(left - take);
                    return Ok((pos, None));
                }
                State::ChunkSize => {
                    let Some((line, len)) = line(rest)? else {
                        return Ok((pos, None));
                    };
                    pos += len;
                    let size = chunk_size(line)?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkData(left) => {
                    let take = left.min(rest.len() as u64);
                    pos += take as usize;
                    if take < left {
                        self.state = State::ChunkData(left - take);
                        return Ok((pos, None));
                    }
                    self.state = State::ChunkEnd;
                }
                State::ChunkEnd => {
                    let Some((line, len)) = line(rest)? else {
                        return Ok((pos, None));
                    };
                    if !line.is_empty() {
                        return Err(ErrorKind::Other);
                    }
                    pos += len;
                    self.state = State::ChunkSize;
                }
                State::Trailers => {
                    let Some((line, len)) = line(rest)? else {
                        return Ok((pos, None));
                    };
                    pos += len;
                    if line.is_empty() {
                        return Ok((pos, Some(self.done(pos < data.len()))));
                    }
                }
                State::UntilClose => return Ok((data.len(), None)),
            }
        }
    }

    /// Parses a head at the start of `data`: Some(its length) when
    /// complete (the state then says how the body is framed).
    fn head(&mut self, data: &[u8]) -> Result<Option<usize>, ErrorKind> {
        // Uninitialised: filling MAX_HEADERS empty headers per response
        // cost more than parsing a small head.
        let mut headers =
            [const { std::mem::MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut response,
            data,
            &mut headers,
        );
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if data.len() <= MAX_HEAD => return Ok(None),
            _ => return Err(ErrorKind::Other),
        };
        let status = response.code.unwrap_or(0);
        if (100..200).contains(&status) && status != 101 {
            // An interim response (100 Continue, 103 Early Hints): the
            // final one follows.
            return Ok(Some(len));
        }
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut encoded = false;
        let mut close = false;
        let mut keep_alive = false;
        for h in response.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                let n = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .ok_or(ErrorKind::Other)?;
                if length.is_some_and(|l| l != n) {
                    return Err(ErrorKind::Other);
                }
                length = Some(n);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                encoded = true;
                // Chunked only when it is the final coding.
                chunked = tokens(h.value)
                    .last()
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"));
            } else if h.name.eq_ignore_ascii_case("connection") {
                for t in tokens(h.value) {
                    close |= t.eq_ignore_ascii_case(b"close");
                    keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
                }
            }
        }
        self.status = status;
        let http10 = response.version == Some(0);
        self.keep_alive = !close && (!http10 || keep_alive);
        let no_body = self.head_request || status == 204 || status == 304 || status == 101;
        self.state = if no_body {
            State::Fixed(0)
        } else if encoded && chunked {
            State::ChunkSize
        } else if encoded {
            // Another final coding: the body runs to the close (§6.3).
            State::UntilClose
        } else if let Some(n) = length {
            State::Fixed(n)
        } else {
            State::UntilClose
        };
        if self.state == State::UntilClose {
            self.keep_alive = false;
        }
        Ok(Some(len))
    }

    fn done(&self, extra: bool) -> Done {
        Done {
            status: self.status,
            reusable: self.keep_alive && !extra && self.status != 101,
        }
    }

    /// The server closed the connection (a clean FIN) at this point.
    pub fn eof(&self) -> Result<Done, ErrorKind> {
        match self.state {
            State::Head => Err(ErrorKind::Reset),
            State::UntilClose => Ok(Done {
                status: self.status,
                reusable: false,
            }),
            _ => Err(ErrorKind::Truncated),
        }
    }
}

/// A line at the start of `data` without its CRLF (or bare LF), and the
/// bytes it took; None when its end has not arrived yet.
fn line(data: &[u8]) -> Result<Option<(&[u8], usize)>, ErrorKind> {
    match memchr(b'\n', data) {
        Some(i) => {
            let line = &data[..i];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            Ok(Some((line, i + 1)))
        }
        None if data.len() > MAX_LINE => Err(ErrorKind::Other),
        None => Ok(None),
    }
}

fn memchr(byte: u8, data: &[u8]) -> Option<usize> {
    data.iter().position(|&b| b == byte)
}

/// A chunk-size line: hex digits, then optional `;extensions`.
fn chunk_size(line: &[u8]) -> Result<u64, ErrorKind> {
    let digits = line.split(|&b| b == b';').next().unwrap_or(line);
    let digits = trim(digits);
    if digits.is_empty() || digits.len() > 15 {
        return Err(ErrorKind::Other);
    }
    let text = std::str::from_utf8(digits).map_err(|_| ErrorKind::Other)?;
    u64::from_str_radix(text, 16).map_err(|_| ErrorKind::Other)
}

/// The comma-separated tokens of a header value, trimmed.
fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|t| !t.is_empty())
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The error class of an I/O error on an open connection.
fn io_kind(e: &io::Error) -> ErrorKind {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            ErrorKind::Reset
        }
        K::TimedOut => ErrorKind::Timeout,
        _ => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `response` in pieces of `step` bytes.
    fn parse(response: &[u8], step: usize, head: bool) -> Result<Option<Done>, ErrorKind> {
        let mut p = Parse::new(head);
        let mut carry = Vec::new();
        for piece in response.chunks(step) {
            if let Some(done) = p.feed_split(&mut carry, piece)? {
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    fn every_split(response: &[u8], head: bool) -> Result<Option<Done>, ErrorKind> {
        let whole = parse(response, response.len().max(1), head);
        for step in 1..response.len() {
            assert_eq!(
                parse(response, step, head),
                whole,
                "split every {step} bytes"
            );
        }
        whole
    }

    const OK: Done = Done {
        status: 200,
        reusable: true,
    };

    #[test]
    fn content_length_and_keep_alive() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(every_split(r, false), Ok(Some(OK)));
        // Not complete without the whole body.
        assert_eq!(parse(&r[..r.len() - 1], 4, false), Ok(None));
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
                  5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n";
        assert_eq!(every_split(r, false), Ok(Some(OK)));
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(parse(bad, bad.len(), false), Err(ErrorKind::Other));
    }

    #[test]
    fn connection_close_and_http10() {
        let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        let not_reusable = Done {
            status: 200,
            reusable: false,
        };
        assert_eq!(every_split(close, false), Ok(Some(not_reusable)));
        let old = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(every_split(old, false), Ok(Some(not_reusable)));
        let old_keep = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(every_split(old_keep, false), Ok(Some(OK)));
    }

    #[test]
    fn a_body_to_the_close_ends_at_eof() {
        let r = b"HTTP/1.0 200 OK\r\n\r\nsome bytes";
        let mut p = Parse::new(false);
        let mut carry = Vec::new();
        assert_eq!(p.feed_split(&mut carry, r), Ok(None));
        assert_eq!(
            p.eof(),
            Ok(Done {
                status: 200,
                reusable: false
            })
        );
    }

    #[test]
    fn no_body_for_head_204_304_and_interim_responses_are_skipped() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        assert_eq!(every_split(head, true), Ok(Some(OK)));
        for status in [204, 304] {
            let r = format!("HTTP/1.1 {status} X\r\n\r\n");
            assert_eq!(
                every_split(r.as_bytes(), false),
                Ok(Some(Done {
                    status,
                    reusable: true
                }))
            );
        }
        let interim =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            every_split(interim, false),
            Ok(Some(Done {
                status: 201,
                reusable: true
            }))
        );
    }

    #[test]
    fn closes_and_garbage_have_their_classes() {
        let mut p = Parse::new(false);
        assert_eq!(p.eof(), Err(ErrorKind::Reset), "nothing arrived");
        let mut carry = Vec::new();
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        assert_eq!(p.feed_split(&mut carry, r), Ok(None));
        assert_eq!(p.eof(), Err(ErrorKind::Truncated), "closed inside the body");
        assert_eq!(
            parse(b"not http at all\r\n\r\n", 64, false),
            Err(ErrorKind::Other)
        );
        let twice = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(parse(twice, 64, false), Err(ErrorKind::Other));
        // More than the response: the connection is not reused.
        let extra = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy";
        assert_eq!(
            parse(extra, 64, false),
            Ok(Some(Done {
                status: 200,
                reusable: false
            }))
        );
    }

    #[test]
    fn a_large_body_is_consumed_without_being_kept() {
        let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n".to_vec();
        r.resize(r.len() + 1_048_576, b'x');
        let mut p = Parse::new(false);
        let mut carry = Vec::new();
        let mut done = None;
        for piece in r.chunks(READ_BUFFER) {
            done = p.feed_split(&mut carry, piece).unwrap();
            assert!(carry.capacity() <= 4096, "the body is not buffered");
        }
        assert_eq!(done, Some(OK));
    }
}
