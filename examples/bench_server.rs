//! A minimal HTTP/1.1 server answering "Hello, World!" to every request:
//! the fast local target of `scripts/bench-generator.sh`, so the benchmark
//! measures the load generators, not a framework.
//!
//! Usage: bench_server PORT [--threads N]
//!
//! With one thread (the default) it is a single-threaded event loop. With N
//! threads each thread runs its own single-threaded event loop on its own
//! listening socket bound to the same port with SO_REUSEPORT, so the kernel
//! spreads connections across threads and no request crosses threads: the
//! server scales with cores and stays out of the way when the generator
//! is given more cores.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::TokioIo;

fn main() -> std::io::Result<()> {
    let mut port: u16 = 18080;
    let mut threads: usize = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| std::io::Error::other("--threads needs a number >= 1"))?;
            }
            p => {
                port = p
                    .parse()
                    .map_err(|_| std::io::Error::other(format!("not a port: {p:?}")))?;
            }
        }
    }
    // Bind every socket before serving, so a port in use fails at once.
    // Tokio registers a listening socket with a reactor, so a short-lived
    // runtime hosts the binding; `into_std` takes the sockets back out.
    let listeners = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?
        .block_on(async {
            (0..threads)
                .map(|_| bind(port, threads > 1))
                .collect::<std::io::Result<Vec<_>>>()
        })?;
    eprintln!("bench_server listening on 127.0.0.1:{port} with {threads} thread(s)");
    let handles: Vec<_> = listeners
        .into_iter()
        .map(|l| std::thread::spawn(move || serve(l)))
        .collect();
    for h in handles {
        h.join()
            .map_err(|_| std::io::Error::other("a server thread panicked"))??;
    }
    Ok(())
}

/// A non-blocking listening socket on 127.0.0.1:`port`.
fn bind(port: u16, reuse_port: bool) -> std::io::Result<std::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    if reuse_port {
        socket.set_reuseport(true)?;
    }
    socket.bind(([127, 0, 0, 1], port).into())?;
    socket.listen(1024)?.into_std()
}

/// One single-threaded event loop serving every connection of `listener`.
fn serve(listener: std::net::TcpListener) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::task::spawn_local(async move {
                let service = hyper::service::service_fn(|_req: Request<Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                        b"Hello, World!",
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}
