//! The `GET /ws/fanout` checks (targets/API.md, "Real-time"): over ws://
//! to loopback only, [`CLIENTS`] clients connect, each publishes
//! [`MESSAGES`] numbered messages while all of them listen, and the
//! deliveries are judged case by case (the sender hears itself, everyone
//! hears everything exactly once, per-publisher order, nothing foreign),
//! then every client closes and expects its close frame answered. A target
//! whose `/ws/info` says `"offered":false` (django-sync: WSGI) is checked
//! for the documented 426 instead.
//!
//! The check needs the endpoint to itself: a message that none of its
//! clients sent counts as foreign, so another client publishing at the same
//! time (a second `bakeoff check`, a load run) fails "no foreign messages".
//!
//! It owns the WebSocket traffic only; `contract` fetches `/ws/info` and
//! records the outcomes, so the judging here is pure and unit-tested.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// The endpoint label in reports.
pub(crate) const EP: &str = "/ws/fanout";
/// Clients connected at once; every one of them publishes.
pub(crate) const CLIENTS: usize = 3;
/// Messages each client publishes.
pub(crate) const MESSAGES: usize = 20;

/// Bounds on every wait, so a silent server cannot hang the check.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a client waits for all its deliveries...
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// ...and for the next one, once a message has arrived (or from the start).
const IDLE_TIMEOUT: Duration = Duration::from_secs(3);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Case names, in report order.
pub(crate) const CONNECT: &str = "3 clients connect";
pub(crate) const SENDER: &str = "sender receives its own messages";
pub(crate) const EVERYONE: &str = "every client receives every message exactly once";
pub(crate) const ORDER: &str = "order per publisher";
pub(crate) const FOREIGN: &str = "no foreign messages";
pub(crate) const CLOSE: &str = "clean close (close frame answered)";
pub(crate) const INFO: &str = "GET /ws/info names the bus";
pub(crate) const PLAIN: &str = "plain GET (no upgrade) answers 426";

/// The body of a plain `GET /ws/fanout` on a variant that offers it.
pub(crate) const PLAIN_GET: &str = "Upgrade Required: /ws/fanout speaks WebSocket only\n";
pub(crate) const NOT_OFFERED: &str = "not offered (WSGI): GET /ws/fanout answers 426";

/// What `/ws/info` says about the endpoint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Offer {
    /// Offered, broadcasting over this bus ("memory" or "postgres").
    Offered(String),
    /// Not offered, for this reason.
    NotOffered(String),
}

/// Reads a `/ws/info` body: `{"bus":"memory"|"postgres","offered":true}`
/// (`offered` may be left out), or `{"bus":null,"offered":false,
/// "reason":"..."}`.
pub(crate) fn parse_info(body: &[u8]) -> Result<Offer, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "/ws/info is not JSON ({e}): {}",
            super::shapes::preview(body)
        )
    })?;
    let offered = match v.get("offered") {
        None => true,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(other) => return Err(format!("/ws/info: \"offered\" is {other}, not a boolean")),
    };
    if !offered {
        let reason = v.get("reason").and_then(|r| r.as_str()).unwrap_or("");
        if reason.is_empty() {
            return Err("/ws/info: offered=false without a \"reason\"".into());
        }
        return Ok(Offer::NotOffered(reason.to_string()));
    }
    match v.get("bus").and_then(|b| b.as_str()) {
        Some(bus @ ("memory" | "postgres")) => Ok(Offer::Offered(bus.to_string())),
        _ => Err(format!(
            "/ws/info: \"bus\" must be \"memory\" or \"postgres\", got {}",
            v.get("bus")
                .map_or("nothing".to_string(), |b| b.to_string())
        )),
    }
}

/// `ws://HOST:PORT/ws/fanout` for an `http://` base on loopback; an error
/// saying why not otherwise (the WebSocket checks go to loopback only).
pub(crate) fn ws_url(base: &str) -> Result<String, String> {
    let url = url::Url::parse(base).map_err(|e| format!("base URL {base}: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "{base}: the WebSocket checks speak ws:// (plain http:// bases) only"
        ));
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if !loopback {
        return Err(format!("{base}: the WebSocket checks go to loopback only"));
    }
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port_or_known_default().unwrap_or(80);
    Ok(format!("ws://{host}:{port}{EP}"))
}

/// The message client `p` publishes as its `seq`-th: tagged with this
/// run, so a message from anyone else is recognisably foreign.
fn message(tag: &str, p: usize, seq: usize) -> String {
    format!(r#"{{"run":"{tag}","p":{p},"seq":{seq}}}"#)
}

/// What one client saw: every text message in arrival order, and how its
/// close went.
#[derive(Debug)]
pub(crate) struct Seen {
    pub texts: Vec<String>,
    pub close: Result<(), String>,
}

/// Every fan-out case against `url`, as (case, outcome) in report order.
pub(crate) async fn cases(url: &str) -> Vec<(&'static str, Result<(), String>)> {
    let mut clients = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(url)).await {
            Ok(Ok((ws, _))) => clients.push(ws),
            Ok(Err(e)) => {
                return vec![(
                    CONNECT,
                    Err(format!(
                        "ws/fanout: client {i} could not connect to {url}: {}",
                        describe(&e)
                    )),
                )];
            }
            Err(_) => {
                return vec![(
                    CONNECT,
                    Err(format!(
                        "ws/fanout: client {i} got no handshake answer from {url} within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    )),
                )];
            }
        }
    }
    let tag = run_tag();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(p, ws)| {
            let tag = tag.clone();
            tokio::spawn(async move { publish_and_listen(ws, &tag, p).await })
        })
        .collect();
    let mut seen = Vec::with_capacity(CLIENTS);
    for (i, task) in tasks.into_iter().enumerate() {
        seen.push(task.await.unwrap_or_else(|e| Seen {
            texts: Vec::new(),
            close: Err(format!("ws/fanout: client {i}'s task failed: {e}")),
        }));
    }
    let mut out = vec![(CONNECT, Ok(()))];
    out.extend(judge(&tag, &seen));
    out
}

/// One client: publishes its messages while collecting deliveries until
/// it has all it should or a bound runs out, then closes.
async fn publish_and_listen<S>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    tag: &str,
    p: usize,
) -> Seen
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = ws.split();
    let mut seen = Seen {
        texts: Vec::new(),
        close: Ok(()),
    };
    let publish = async {
        for seq in 0..MESSAGES {
            sink.send(Message::text(message(tag, p, seq))).await?;
            // Let the other publishers interleave.
            tokio::task::yield_now().await;
        }
        Ok::<_, WsError>(())
    };
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    let listen = async {
        let mut texts = Vec::new();
        let mut ended = None;
        while texts.len() < CLIENTS * MESSAGES {
            let until = deadline.min(Instant::now() + IDLE_TIMEOUT);
            match tokio::time::timeout_at(until, stream.next()).await {
                Err(_) => break,
                Ok(None) => {
                    ended = Some("the server closed the connection".to_string());
                    break;
                }
                Ok(Some(Err(e))) => {
                    ended = Some(describe(&e));
                    break;
                }
                Ok(Some(Ok(m))) => keep(&mut texts, m),
            }
        }
        (texts, ended)
    };
    let (published, (texts, ended)) = tokio::join!(publish, listen);
    seen.texts = texts;
    if let Err(e) = published {
        seen.close = Err(format!(
            "ws/fanout: client {p} could not publish: {}",
            describe(&e)
        ));
        return seen;
    }
    if let Some(why) = ended {
        seen.close = Err(format!(
            "ws/fanout: client {p}'s connection ended before the close: {why}"
        ));
        return seen;
    }
    seen.close = close(&mut sink, &mut stream, &mut seen.texts, p).await;
    seen
}

/// Sends a close frame, then reads (keeping any late texts) until the
/// server's close frame and the end of the connection.
async fn close<K, S>(
    sink: &mut K,
    stream: &mut S,
    texts: &mut Vec<String>,
    p: usize,
) -> Result<(), String>
where
    K: futures_util::Sink<Message, Error = WsError> + Unpin,
    S: futures_util::Stream<Item = Result<Message, WsError>> + Unpin,
{
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "check done".into(),
    };
    sink.send(Message::Close(Some(frame))).await.map_err(|e| {
        format!(
            "ws/fanout: client {p} could not send its close frame: {}",
            describe(&e)
        )
    })?;
    let deadline = Instant::now() + CLOSE_TIMEOUT;
    let mut answered = false;
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) if answered => {
                return Err(format!(
                    "ws/fanout: client {p}'s close was answered but the server kept the TCP connection open {} s",
                    CLOSE_TIMEOUT.as_secs()
                ));
            }
            Err(_) => {
                return Err(format!(
                    "ws/fanout: client {p}'s close frame was not answered within {} s",
                    CLOSE_TIMEOUT.as_secs()
                ));
            }
            Ok(Some(Ok(Message::Close(_)))) => answered = true,
            Ok(Some(Ok(m))) => keep(texts, m),
            Ok(None) | Ok(Some(Err(WsError::ConnectionClosed))) if answered => return Ok(()),
            Ok(None) | Ok(Some(Err(_))) if !answered => {
                return Err(format!(
                    "ws/fanout: client {p}'s close frame was not answered: the connection just ended"
                ));
            }
            Ok(Some(Err(e))) => {
                return Err(format!("ws/fanout: client {p}'s close: {}", describe(&e)));
            }
            Ok(None) => return Ok(()),
        }
    }
}

/// Keeps a text message; a binary one is kept as foreign (the server
/// sends nothing of its own). Pings and pongs are the protocol's.
fn keep(texts: &mut Vec<String>, m: Message) {
    match m {
        Message::Text(t) => texts.push(t.as_str().to_string()),
        Message::Binary(b) => texts.push(format!("(binary message of {} bytes)", b.len())),
        _ => {}
    }
}

/// Judges what each client saw (client `i` published as publisher `i`).
pub(crate) fn judge(tag: &str, seen: &[Seen]) -> Vec<(&'static str, Result<(), String>)> {
    let clients = seen.len();
    let mut index = HashMap::new();
    for p in 0..clients {
        for seq in 0..MESSAGES {
            index.insert(message(tag, p, seq), (p, seq));
        }
    }
    let (mut sender, mut everyone, mut order, mut foreign) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (c, s) in seen.iter().enumerate() {
        // counts[p][seq]: deliveries of publisher p's message seq to c.
        let mut counts = vec![vec![0usize; MESSAGES]; clients];
        let mut last: Vec<Option<usize>> = vec![None; clients];
        for text in &s.texts {
            let Some(&(p, seq)) = index.get(text) else {
                foreign.push(format!(
                    "client {c} received a message none of this check's clients sent: {}",
                    super::shapes::preview(text.as_bytes())
                ));
                continue;
            };
            counts[p][seq] += 1;
            if let Some(prev) = last[p] {
                if seq < prev {
                    order.push(format!(
                        "ws/fanout: publisher {p}'s messages out of order on client {c} (seq {seq} after seq {prev})"
                    ));
                }
            }
            last[p] = Some(last[p].map_or(seq, |l| l.max(seq)));
        }
        for (p, per_seq) in counts.iter().enumerate() {
            let missing: Vec<usize> = (0..MESSAGES).filter(|&q| per_seq[q] == 0).collect();
            if !missing.is_empty() {
                let what = format!(
                    "{} of {MESSAGES} (first: seq {})",
                    missing.len(),
                    missing[0]
                );
                if p == c {
                    sender.push(format!("ws/fanout: sender did not receive its own message: client {c} missed {what}"));
                } else {
                    everyone.push(format!("ws/fanout: client {c} did not receive publisher {p}'s messages: missed {what}"));
                }
            }
            if let Some(q) = (0..MESSAGES).find(|&q| per_seq[q] > 1) {
                everyone.push(format!(
                    "ws/fanout: client {c} received publisher {p}'s seq {q} {} times",
                    per_seq[q]
                ));
            }
        }
    }
    let close = seen
        .iter()
        .map(|s| s.close.clone())
        .find(Result::is_err)
        .unwrap_or(Ok(()));
    vec![
        (SENDER, verdict(sender)),
        (EVERYONE, verdict(everyone)),
        (ORDER, verdict(order)),
        (
            FOREIGN,
            verdict(
                foreign
                    .into_iter()
                    .map(|f| format!("ws/fanout: {f}"))
                    .collect(),
            ),
        ),
        (CLOSE, close),
    ]
}

/// Ok if nothing went wrong; else the first problems, and how many more.
fn verdict(problems: Vec<String>) -> Result<(), String> {
    const SHOWN: usize = 3;
    if problems.is_empty() {
        return Ok(());
    }
    let mut out = problems[..problems.len().min(SHOWN)].join("; ");
    if problems.len() > SHOWN {
        out.push_str(&format!("; and {} more", problems.len() - SHOWN));
    }
    Err(out)
}

/// A target that does not offer the endpoint must refuse the handshake
/// with 426 Upgrade Required (`contract` checks the plain-text reason with
/// a plain GET, whose body is always read whole).
pub(crate) async fn refused(url: &str) -> Result<(), String> {
    match tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(url)).await {
        Err(_) => Err(format!(
            "ws/fanout: no answer to the handshake within {} s",
            CONNECT_TIMEOUT.as_secs()
        )),
        Ok(Ok(_)) => {
            Err("ws/fanout: /ws/info says offered=false, yet the upgrade succeeded".into())
        }
        Ok(Err(WsError::Http(resp))) => match resp.status().as_u16() {
            426 => Ok(()),
            status => Err(format!(
                "ws/fanout: the handshake was answered {status}, not 426 Upgrade Required"
            )),
        },
        Ok(Err(e)) => Err(format!(
            "ws/fanout: the handshake failed without an HTTP answer: {}",
            describe(&e)
        )),
    }
}

/// An error with its causes.
fn describe(err: &WsError) -> String {
    match err {
        WsError::Http(resp) => format!(
            "the server answered HTTP {} instead of upgrading",
            resp.status()
        ),
        other => other.to_string(),
    }
}

/// A tag unique to this check run (time and process id): no message from
/// an earlier run or another process can pass for one of ours.
fn run_tag() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{}", nanos, std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(tag: &str) -> Vec<String> {
        // Round-robin interleaving of every publisher's messages.
        (0..MESSAGES)
            .flat_map(|seq| (0..CLIENTS).map(move |p| message(tag, p, seq)))
            .collect()
    }

    fn seen(texts: Vec<Vec<String>>) -> Vec<Seen> {
        texts
            .into_iter()
            .map(|texts| Seen {
                texts,
                close: Ok(()),
            })
            .collect()
    }

    fn failed(results: &[(&'static str, Result<(), String>)]) -> Vec<(&'static str, String)> {
        results
            .iter()
            .filter_map(|(c, r)| r.as_ref().err().map(|e| (*c, e.clone())))
            .collect()
    }

    #[test]
    fn a_complete_delivery_passes() {
        let got = seen(vec![all("t"); CLIENTS]);
        assert!(failed(&judge("t", &got)).is_empty());
    }

    #[test]
    fn each_fault_fails_its_own_case() {
        // Client 1 misses its own messages.
        let mut v = vec![all("t"); CLIENTS];
        v[1].retain(|m| !m.contains(r#""p":1,"#));
        let f = failed(&judge("t", &seen(v)));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, SENDER);
        assert!(
            f[0].1.contains("sender did not receive its own message"),
            "{}",
            f[0].1
        );

        // Publisher 2's seq 4 and 5 swapped on client 0.
        let mut v = vec![all("t"); CLIENTS];
        let a = v[0].iter().position(|m| *m == message("t", 2, 4)).unwrap();
        let b = v[0].iter().position(|m| *m == message("t", 2, 5)).unwrap();
        v[0].swap(a, b);
        let f = failed(&judge("t", &seen(v)));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, ORDER);
        assert!(
            f[0].1.contains("publisher 2's messages out of order"),
            "{}",
            f[0].1
        );

        // A duplicate, and a stranger's message.
        let mut v = vec![all("t"); CLIENTS];
        v[2].push(message("t", 0, 19));
        v[0].push(message("other-run", 0, 0));
        let f = failed(&judge("t", &seen(v)));
        let cases: Vec<_> = f.iter().map(|(c, _)| *c).collect();
        assert_eq!(cases, [EVERYONE, FOREIGN], "{f:?}");
    }

    #[test]
    fn info_bodies() {
        assert_eq!(
            parse_info(br#"{"bus":"memory"}"#),
            Ok(Offer::Offered("memory".into()))
        );
        assert_eq!(
            parse_info(br#"{"bus":"postgres","offered":true}"#),
            Ok(Offer::Offered("postgres".into()))
        );
        assert_eq!(
            parse_info(br#"{"bus":null,"offered":false,"reason":"WSGI"}"#),
            Ok(Offer::NotOffered("WSGI".into()))
        );
        assert!(parse_info(br#"{"bus":"redis"}"#).is_err());
        assert!(parse_info(br#"{"bus":null,"offered":false}"#).is_err());
    }

    #[test]
    fn ws_urls_are_loopback_only() {
        assert_eq!(
            ws_url("http://127.0.0.1:8080").unwrap(),
            "ws://127.0.0.1:8080/ws/fanout"
        );
        assert_eq!(
            ws_url("http://[::1]:81/").unwrap(),
            "ws://[::1]:81/ws/fanout"
        );
        assert!(ws_url("http://10.0.0.1:80").is_err());
        assert!(ws_url("https://127.0.0.1:443").is_err());
    }
}
