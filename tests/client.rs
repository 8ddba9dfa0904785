//! The two HTTP/1.1 clients behind one interface (`--client lean`, the
//! default, and `--client hyper`) pass the same cases: a raw TCP server
//! writes each way of framing a response byte for byte, counts the
//! requests it read, and `load`'s counts must equal its count with no
//! error (or with the error class the case is about).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How the raw server answers each request.
#[derive(Debug, Clone, Copy)]
enum Framing {
    ContentLength,
    Chunked,
    /// 1 MiB in 64 KiB chunks.
    LargeChunked,
    /// 1 MiB with Content-Length.
    Large,
    /// `Connection: close` on every response, then a close.
    ConnectionClose,
    /// An HTTP/1.0 server: closes after every response.
    Http10,
    /// HTTP/1.0 with `Connection: keep-alive`: stays open.
    Http10KeepAlive,
    /// No length: the body ends with the close.
    UntilClose,
    /// Keep-alive by the headers, but the server closes the connection
    /// right after each response (an idle timeout of zero).
    SilentClose,
    /// A head announcing 1000 bytes, then 10 and a clean close.
    Truncated,
}

impl Framing {
    fn response(self) -> Vec<u8> {
        let large = vec![b'x'; 1 << 20];
        match self {
            Framing::ContentLength | Framing::SilentClose => {
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()
            }
            Framing::Chunked => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                 5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n"
                .to_vec(),
            Framing::LargeChunked => {
                let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                for chunk in large.chunks(64 * 1024) {
                    r.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    r.extend_from_slice(chunk);
                    r.extend_from_slice(b"\r\n");
                }
                r.extend_from_slice(b"0\r\n\r\n");
                r
            }
            Framing::Large => {
                let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", large.len())
                    .into_bytes();
                r.extend_from_slice(&large);
                r
            }
            Framing::ConnectionClose => {
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".to_vec()
            }
            Framing::Http10 => b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            Framing::Http10KeepAlive => {
                b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok".to_vec()
            }
            Framing::UntilClose => b"HTTP/1.0 200 OK\r\n\r\nthe body runs to the close".to_vec(),
            Framing::Truncated => {
                b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789".to_vec()
            }
        }
    }

    /// Whether the server closes the connection after a response.
    fn closes(self) -> bool {
        matches!(
            self,
            Framing::ConnectionClose
                | Framing::Http10
                | Framing::UntilClose
                | Framing::SilentClose
                | Framing::Truncated
        )
    }
}

/// A server thread per connection answering every request head it reads;
/// counts the heads. Threads end when the peer closes.
fn serve(framing: Framing) -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let counted = counted.clone();
            std::thread::spawn(move || connection(stream, framing, &counted));
        }
    });
    (port, count)
}

fn connection(mut stream: TcpStream, framing: Framing, count: &AtomicU64) {
    let response = framing.response();
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // One request head (load sends no body here).
        while !pending.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        }
        let end = pending.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        pending.drain(..end);
        count.fetch_add(1, Ordering::SeqCst);
        if stream.write_all(&response).is_err() {
            return;
        }
        if framing.closes() {
            let _ = stream.flush();
            return;
        }
    }
}

/// `bakeoff load` against the case's server with `--client CLIENT`.
fn load(port: u16, client: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("load")
        .arg(format!("http://127.0.0.1:{port}/"))
        .args([
            "--client", client, "--warmup", "0", "--format", "json", "--quiet",
        ])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const CLIENTS: [&str; 2] = ["lean", "hyper"];

/// Every request the server read was counted, and succeeded.
fn exact_and_clean(framing: Framing, args: &[&str]) {
    for client in CLIENTS {
        let (port, served) = serve(framing);
        let s = load(port, client, args);
        let served = served.load(Ordering::SeqCst);
        assert!(served > 0, "{client} {framing:?}: nothing served");
        assert_eq!(s["requests"], served, "{client} {framing:?}: {s}");
        assert_eq!(s["errors"], 0, "{client} {framing:?}: {s}");
        assert_eq!(s["status"]["200"], served, "{client} {framing:?}: {s}");
    }
}

#[test]
fn keep_alive_bodies_by_length_and_by_chunks() {
    let _gate = crate::util::area(module_path!());
    for framing in [
        Framing::ContentLength,
        Framing::Chunked,
        Framing::Http10KeepAlive,
    ] {
        exact_and_clean(framing, &["-c", "4", "-n", "400", "-d", "20s"]);
    }
}

#[test]
fn megabyte_bodies_are_read_to_the_end() {
    let _gate = crate::util::area(module_path!());
    for framing in [Framing::Large, Framing::LargeChunked] {
        exact_and_clean(framing, &["-c", "2", "-n", "40", "-d", "20s"]);
    }
}

#[test]
fn servers_that_close_get_a_new_connection_without_an_error() {
    let _gate = crate::util::area(module_path!());
    for framing in [
        Framing::ConnectionClose,
        Framing::Http10,
        Framing::UntilClose,
    ] {
        exact_and_clean(framing, &["-c", "2", "-n", "200", "-d", "20s"]);
    }
    // A close with no header saying so, noticed while the connection is
    // idle between two open-model sends 200 ms apart.
    exact_and_clean(
        Framing::SilentClose,
        &["-c", "1", "--rate", "5", "-d", "2s"],
    );
}

#[test]
fn a_truncated_body_is_counted_as_truncated() {
    let _gate = crate::util::area(module_path!());
    for client in CLIENTS {
        let (port, served) = serve(Framing::Truncated);
        let s = load(port, client, &["-c", "1", "-n", "5", "-d", "20s"]);
        let served = served.load(Ordering::SeqCst);
        assert_eq!(s["requests"], served, "{client}: {s}");
        assert_eq!(s["errors"], served, "{client}: {s}");
        assert_eq!(s["errors_by_kind"]["truncated"], served, "{client}: {s}");
        assert!(
            s["latency_us"].is_null(),
            "{client}: no success, no percentiles: {s}"
        );
    }
}
