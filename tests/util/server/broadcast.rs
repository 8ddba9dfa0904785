//! A WebSocket broadcast server on loopback, the `GET /ws/fanout` contract
//! of targets/API.md: every text message any client sends goes, unchanged
//! and in order, to every connected client, the sender included. It can
//! hold each message a fixed time before broadcasting it (a slow server)
//! and close one subscriber's connection after a number of broadcasts (a
//! drop mid-step). It counts connections and messages so tests compare
//! the generator's counts with the server's.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// How the server misbehaves (the default: not at all).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Each message is broadcast this long after it arrived (order kept).
    pub delay: Duration,
    /// After this many broadcasts, the server closes the connection of
    /// its most recently connected client (never a publisher when there
    /// are more subscribers than publishers).
    pub drop_one_after: Option<u64>,
}

/// What a client's writer is told.
enum Out {
    Frame(Message),
    /// Close the connection now (the server drops this subscriber).
    Drop,
}

#[derive(Default)]
struct Shared {
    clients: Mutex<Vec<(u64, mpsc::UnboundedSender<Out>)>>,
    connections: AtomicU64,
    received: AtomicU64,
    broadcasts: AtomicU64,
    dropped: AtomicU64,
}

/// A running broadcast server; stops when dropped.
pub struct BroadcastServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BroadcastServer {
    pub fn start(faults: Faults) -> BroadcastServer {
        let shared = Arc::new(Shared::default());
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
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                tokio::select! {
                    _ = shutdown_rx => {}
                    _ = serve(listener, state, faults) => {}
                }
            });
        });
        let addr = addr_rx.recv().unwrap();
        BroadcastServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `ws://127.0.0.1:PORT/ws/fanout`.
    pub fn url(&self) -> String {
        format!("ws://{}/ws/fanout", self.addr)
    }

    /// Upgraded connections so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Text messages received from clients.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::SeqCst)
    }

    /// Connections the server closed on purpose.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::SeqCst)
    }
}

impl Drop for BroadcastServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, faults: Faults) {
    // One broadcaster keeps the order of all messages: readers queue
    // (due time, message), it waits for each due time in turn.
    let (queue, mut due) = mpsc::unbounded_channel::<(tokio::time::Instant, Message)>();
    let broadcaster = shared.clone();
    tokio::spawn(async move {
        while let Some((at, msg)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            broadcast(&broadcaster, msg, faults);
        }
    });
    let mut next_id = 0u64;
    while let Ok((tcp, _)) = listener.accept().await {
        next_id += 1;
        tokio::spawn(client(tcp, next_id, shared.clone(), queue.clone(), faults));
    }
}

fn broadcast(shared: &Shared, msg: Message, faults: Faults) {
    let mut clients = shared.clients.lock().unwrap();
    for (_, tx) in clients.iter() {
        let _ = tx.send(Out::Frame(msg.clone()));
    }
    let n = shared.broadcasts.fetch_add(1, Ordering::SeqCst) + 1;
    if faults.drop_one_after == Some(n) {
        if let Some((_, tx)) = clients.pop() {
            let _ = tx.send(Out::Drop);
            shared.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Whether the request waiting on `tcp` asks for a WebSocket upgrade
/// (peeked, so the handshake still reads it); bounded in time and size.
async fn is_upgrade(tcp: &TcpStream) -> bool {
    let mut buf = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let peeked = tokio::time::timeout_at(deadline, tcp.peek(&mut buf)).await;
        let Ok(Ok(n)) = peeked else { return false };
        let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
        if head.contains("\r\n\r\n") || n == buf.len() || n == 0 {
            return head.contains("upgrade: websocket");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn client(
    tcp: TcpStream,
    id: u64,
    shared: Arc<Shared>,
    queue: mpsc::UnboundedSender<(tokio::time::Instant, Message)>,
    faults: Faults,
) {
    let _ = tcp.set_nodelay(true);
    let mut tcp = tcp;
    if !is_upgrade(&tcp).await {
        // A plain HTTP request (the lab's reachability probe): 200 "ok".
        let _ = tcp
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            .await;
        return;
    }
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    shared.connections.fetch_add(1, Ordering::SeqCst);
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    shared.clients.lock().unwrap().push((id, tx));
    let writer = tokio::spawn(async move {
        while let Some(out) = rx.recv().await {
            match out {
                Out::Frame(m) => {
                    if sink.send(m).await.is_err() {
                        return;
                    }
                }
                Out::Drop => {
                    let _ = sink.send(Message::Close(None)).await;
                    let _ = sink.close().await;
                    return;
                }
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        match msg {
            Message::Text(_) => {
                shared.received.fetch_add(1, Ordering::SeqCst);
                let at = tokio::time::Instant::now() + faults.delay;
                let _ = queue.send((at, msg));
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    shared.clients.lock().unwrap().retain(|(c, _)| *c != id);
    writer.abort();
}
