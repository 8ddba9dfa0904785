//! An in-process implementation of targets/API.md on 127.0.0.1:0 (hyper,
//! in memory instead of PostgreSQL), with faults that can be switched on
//! to break specific parts of the contract.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};

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
}

struct State {
    faults: Faults,
    world: Mutex<Vec<i64>>,
    io_lock: tokio::sync::Mutex<()>,
    fortunes: Vec<(i64, String)>,
    /// A counter instead of randomness: deterministic and spread over ids.
    next: Mutex<u64>,
}

/// Starts a fake on 127.0.0.1:0 and returns its base URL. The server runs
/// until the test's runtime shuts down.
pub async fn spawn(faults: Faults) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let state = Arc::new(State {
        faults,
        world: Mutex::new((0..=10_000).map(|i| (i * 7919) % 10_000 + 1).collect()),
        io_lock: tokio::sync::Mutex::new(()),
        fortunes: bakeoff::check::TECHEMPOWER_FORTUNES
            .iter()
            .map(|&(id, m)| (id, m.to_string()))
            .collect(),
        next: Mutex::new(1),
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle(&state, req).await) }
                });
                let mut builder = http1::Builder::new();
                builder.auto_date_header(!faults.no_date);
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("server", "fake")
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .expect("valid response")
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

fn next_id(state: &State) -> i64 {
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

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    match path.as_str() {
        "/plaintext" => respond(200, TEXT, "Hello, World!"),
        "/json" if state.faults.wrong_json => respond(200, JSON, r#"{"message":"Hello, world!"}"#),
        "/json" => respond(200, JSON, r#"{"message":"Hello, World!"}"#),
        "/db" => {
            let id = next_id(state);
            let n = state.world.lock().expect("lock")[id as usize];
            respond(200, JSON, row(id, n))
        }
        "/queries" => {
            let count = clamp(int_param(&query, "queries"), 1, 500, 1);
            let world = state.world.lock().expect("lock").clone();
            let rows: Vec<String> = (0..count)
                .map(|_| {
                    let id = next_id(state);
                    row(id, world[id as usize])
                })
                .collect();
            respond(200, JSON, format!("[{}]", rows.join(",")))
        }
        "/updates" => {
            let count = clamp(int_param(&query, "queries"), 1, 500, 1) as usize;
            let mut ids = std::collections::BTreeSet::new();
            while ids.len() < count {
                ids.insert(next_id(state));
            }
            let mut world = state.world.lock().expect("lock");
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
            let mut rows = state.fortunes.clone();
            rows.push((0, "Additional fortune added at request time.".into()));
            rows.sort_by(|a, b| a.1.cmp(&b.1));
            if state.faults.unsorted_fortunes {
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
            let ms = clamp(int_param(&query, "ms"), 0, 10_000, 0);
            // The sleep starts once the lock (if any) is held.
            let _held = match state.faults.serial_io {
                true => Some(state.io_lock.lock().await),
                false => None,
            };
            tokio::time::sleep(Duration::from_millis(ms as u64)).await;
            respond(200, JSON, format!(r#"{{"slept_ms":{ms}}}"#))
        }
        "/cpu" => {
            let rounds = clamp(int_param(&query, "n"), 1, 100_000, 1);
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
        _ => respond(404, TEXT, "Not Found"),
    }
}

/// Failures as (target, endpoint, check), for exact comparisons.
pub fn failures(
    results: &[bakeoff::check::CheckResult],
) -> BTreeMap<(String, String, String), String> {
    results
        .iter()
        .filter(|r| r.is_failure())
        .map(|r| {
            (
                (r.target.clone(), r.endpoint.clone(), r.check.clone()),
                r.detail.clone(),
            )
        })
        .collect()
}
