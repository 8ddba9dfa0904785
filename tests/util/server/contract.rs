//! targets/API.md in memory (a world table instead of PostgreSQL), as a
//! [`Behaviour::Contract`](super::Behaviour::Contract) of the test server,
//! with faults that can be switched on to break specific parts of the
//! contract. `/ws/fanout` is a WebSocket broadcast in memory
//! (tokio-tungstenite's server side), or, like django-sync, a 426.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use super::Reply;

/// Contract violations the fake can commit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// `/json` answers `{"message":"Hello, world!"}`.
    pub wrong_json: bool,
    /// `/fortunes` rows come in reverse order.
    pub unsorted_fortunes: bool,
    /// No `Date` header on any response.
    pub no_date: bool,
    /// `/io` waits one request at a time (like a single blocking worker).
    pub serial_io: bool,
    /// `/ws/fanout` delivers a message to everyone but its sender.
    pub ws_skips_sender: bool,
    /// `/ws/fanout` swaps each pair of a publisher's messages.
    pub ws_reorders: bool,
    /// `/ws/fanout` never answers a client's close frame (and keeps the
    /// connection open).
    pub ws_ignores_close: bool,
    /// `/ws/fanout` is not offered (426), as on django-sync.
    pub ws_not_offered: bool,
}

/// Why the fake does not offer `/ws/fanout` (with `ws_not_offered`).
const WS_NOT_OFFERED: &str = "WSGI cannot hold a WebSocket";

/// The `/ws/fanout` clients: an id each and the sender of its outbox.
#[derive(Default)]
struct Hub {
    next: u64,
    clients: Vec<(u64, mpsc::UnboundedSender<String>)>,
}

/// The app's state: the world table, the fortunes, a lock for serial `/io`.
pub struct App {
    faults: Faults,
    world: Mutex<Vec<i64>>,
    io_lock: tokio::sync::Mutex<()>,
    fortunes: Vec<(i64, String)>,
    /// A counter instead of randomness: deterministic and spread over ids.
    next: Mutex<u64>,
    hub: Mutex<Hub>,
}

impl App {
    pub fn new(faults: Faults) -> App {
        App {
            faults,
            world: Mutex::new((0..=10_000).map(|i| (i * 7919) % 10_000 + 1).collect()),
            io_lock: tokio::sync::Mutex::new(()),
            fortunes: bakeoff::check::TECHEMPOWER_FORTUNES
                .iter()
                .map(|&(id, m)| (id, m.to_string()))
                .collect(),
            next: Mutex::new(1),
            hub: Mutex::default(),
        }
    }
}

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

fn respond(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
    Reply {
        status,
        content_type,
        body: body.into(),
        date: true,
    }
}

/// The last occurrence of an integer parameter, per API.md.
fn int_param(query: &str, name: &str) -> Option<i64> {
    let value = query
        .rsplit('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)?;
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn clamp(v: Option<i64>, low: i64, high: i64, default: i64) -> i64 {
    v.map_or(default, |v| v.clamp(low, high))
}

fn next_id(state: &App) -> i64 {
    let mut n = state.next.lock().expect("lock");
    *n = (*n * 48_271) % 2_147_483_647;
    (*n % 10_000) as i64 + 1
}

fn row(id: i64, n: i64) -> String {
    format!(r#"{{"id":{id},"randomNumber":{n}}}"#)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

impl App {
    /// The answer to GET `path`?`query`.
    pub async fn answer(&self, path: &str, query: &str) -> Reply {
        let mut reply = self.route(path, query).await;
        reply.date = !self.faults.no_date;
        reply
    }

    async fn route(&self, path: &str, query: &str) -> Reply {
        // The raw-SQL twins of the database endpoints: the same answers.
        let path = match path.strip_prefix("/raw") {
            Some(p @ ("/db" | "/queries" | "/updates" | "/fortunes")) => p,
            _ => path,
        };
        match path {
            "/plaintext" => respond(200, TEXT, "Hello, World!"),
            "/json" if self.faults.wrong_json => {
                respond(200, JSON, r#"{"message":"Hello, world!"}"#)
            }
            "/json" => respond(200, JSON, r#"{"message":"Hello, World!"}"#),
            "/db" => {
                let id = next_id(self);
                let n = self.world.lock().expect("lock")[id as usize];
                respond(200, JSON, row(id, n))
            }
            "/queries" => {
                let count = clamp(int_param(query, "queries"), 1, 500, 1);
                let world = self.world.lock().expect("lock").clone();
                let rows: Vec<String> = (0..count)
                    .map(|_| {
                        let id = next_id(self);
                        row(id, world[id as usize])
                    })
                    .collect();
                respond(200, JSON, format!("[{}]", rows.join(",")))
            }
            "/updates" => {
                let count = clamp(int_param(query, "queries"), 1, 500, 1) as usize;
                let mut ids = std::collections::BTreeSet::new();
                while ids.len() < count {
                    ids.insert(next_id(self));
                }
                let mut world = self.world.lock().expect("lock");
                let rows: Vec<String> = ids
                    .into_iter()
                    .map(|id| {
                        let old = world[id as usize];
                        let new = old % 10_000 + 1;
                        world[id as usize] = new;
                        row(id, new)
                    })
                    .collect();
                respond(200, JSON, format!("[{}]", rows.join(",")))
            }
            "/fortunes" => {
                let mut rows = self.fortunes.clone();
                rows.push((0, "Additional fortune added at request time.".into()));
                rows.sort_by(|a, b| a.1.cmp(&b.1));
                if self.faults.unsorted_fortunes {
                    rows.reverse();
                }
                let mut html = String::from(
                    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>\
                 <tr><th>id</th><th>message</th></tr>",
                );
                for (id, m) in rows {
                    html.push_str(&format!("<tr><td>{id}</td><td>{}</td></tr>", escape(&m)));
                }
                html.push_str("</table></body></html>\n");
                respond(200, HTML, html)
            }
            "/io" => {
                let ms = clamp(int_param(query, "ms"), 0, 10_000, 0);
                // The sleep starts once the lock (if any) is held.
                let _held = match self.faults.serial_io {
                    true => Some(self.io_lock.lock().await),
                    false => None,
                };
                tokio::time::sleep(Duration::from_millis(ms as u64)).await;
                respond(200, JSON, format!(r#"{{"slept_ms":{ms}}}"#))
            }
            "/cpu" => {
                let rounds = clamp(int_param(query, "n"), 1, 100_000, 1);
                let mut digest = Sha256::digest(b"bakeoff");
                for _ in 1..rounds {
                    digest = Sha256::digest(digest);
                }
                respond(
                    200,
                    JSON,
                    format!(r#"{{"rounds":{rounds},"digest":"{digest:x}"}}"#),
                )
            }
            "/ws/info" if self.faults.ws_not_offered => respond(
                200,
                JSON,
                format!(r#"{{"bus":null,"offered":false,"reason":"{WS_NOT_OFFERED}"}}"#),
            ),
            "/ws/info" => respond(200, JSON, r#"{"bus":"memory","offered":true}"#),
            "/ws/fanout" if self.faults.ws_not_offered => {
                respond(426, TEXT, format!("Upgrade Required: {WS_NOT_OFFERED}\n"))
            }
            "/ws/fanout" => respond(
                426,
                TEXT,
                "Upgrade Required: /ws/fanout speaks WebSocket only\n",
            ),
            _ => respond(404, TEXT, "Not Found"),
        }
    }

    /// True if a WebSocket handshake for `path` is taken up by [`App::fanout`].
    pub fn upgrades(&self, path: &str) -> bool {
        path == "/ws/fanout" && !self.faults.ws_not_offered
    }

    /// Serves one `/ws/fanout` connection whose handshake request (`head`,
    /// already read off `stream`) is replayed to tokio-tungstenite's
    /// `accept_async`; returns when the client has gone.
    pub async fn fanout(self: Arc<Self>, stream: TcpStream, head: Vec<u8>) {
        let (read, write) = stream.into_split();
        let io = tokio::io::join(std::io::Cursor::new(head).chain(read), write);
        let (tx, mut outbox) = mpsc::unbounded_channel::<String>();
        let id = {
            let mut hub = self.hub.lock().expect("lock");
            hub.next += 1;
            hub.next
        };
        // Registered before the 101 goes out, so a client that has seen it
        // hears every later publish (what the reference targets do too).
        // The error type is tungstenite's Callback signature, not ours.
        #[allow(clippy::result_large_err)]
        let register = |_: &Request, response: Response| {
            self.hub.lock().expect("lock").clients.push((id, tx));
            Ok(response)
        };
        let accepted = tokio_tungstenite::accept_hdr_async(io, register).await;
        let Ok(ws) = accepted else {
            self.hub
                .lock()
                .expect("lock")
                .clients
                .retain(|(c, _)| *c != id);
            return;
        };
        let (mut sink, mut stream) = ws.split();
        let writer = tokio::spawn(async move {
            while let Some(text) = outbox.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        let mut held: Option<String> = None;
        // After a close frame the next read sends tungstenite's answer and
        // ends the stream.
        while let Some(Ok(m)) = stream.next().await {
            if m.is_close() && self.faults.ws_ignores_close {
                // tungstenite has queued its answer; it goes out with the
                // next read or write, and there is none.
                std::future::pending::<()>().await;
            }
            let Message::Text(text) = m else { continue };
            let text = text.as_str().to_string();
            if !self.faults.ws_reorders {
                self.broadcast(id, text);
            } else if let Some(first) = held.take() {
                self.broadcast(id, text);
                self.broadcast(id, first);
            } else {
                held = Some(text);
            }
        }
        self.hub
            .lock()
            .expect("lock")
            .clients
            .retain(|(c, _)| *c != id);
        writer.abort();
        let _ = writer.await;
    }

    fn broadcast(&self, from: u64, text: String) {
        let hub = self.hub.lock().expect("lock");
        for (id, tx) in &hub.clients {
            if !(self.faults.ws_skips_sender && *id == from) {
                let _ = tx.send(text.clone());
            }
        }
    }
}
