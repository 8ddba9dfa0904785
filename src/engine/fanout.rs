//! The fan-out load model: S WebSocket subscribers connected at a bounded
//! rate, then P of them (the publishers, who also receive) sending text
//! messages at a total rate R for the window, each message carrying its
//! publisher, sequence number and intended send time; every subscriber
//! records each delivery's latency (receive time minus intended send
//! time) into its thread's [`Recorder`] and counts deliveries, duplicates
//! and connection errors in a [`FanoutTally`].
//!
//! The pacing is the open model's: the publishers share one constant-rate
//! [`Curve`] (publisher p takes tickets p, p + P, …, as generator threads
//! stripe the HTTP schedule) and wait on the thread's timerfd [`Clock`],
//! so a slow server delays deliveries, never the schedule. Threads and
//! pinning follow `run_step`: one current-thread runtime per generator
//! CPU, each with its share of the subscribers. This module owns the
//! WebSocket side only; it does not know about suites or results files.
//!
//! A message is the text `"{publisher} {seq} {intended_us} {sent_us}"`,
//! times in µs from the step's time origin (the start of publishing).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use super::clock::{self, Clock};
use super::events::{StepEvent, StepObserver};
use super::profile::{Curve, RateProfile};
use super::{
    Cancel, Endpoint, EndpointError, EngineError, ParsedUrl, START_DELAY, Schedule, StepSpec, TICK,
    pin_current_thread,
};
use crate::measure::fanout::{
    Deliveries, FanoutError, FanoutShape, FanoutTally, Reception, finish,
};
use crate::measure::{GeneratorUsage, Measurement, Recorder, Sample, WindowEnd, process_cpu_time};

/// Subscribers connected per second unless told otherwise.
pub const DEFAULT_CONNECT_RATE: f64 = 500.0;
/// How long subscribers keep reading after the last message was due.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(1);
/// The most publishers a step may have (each subscriber keeps one
/// sequence number per publisher); `suite::bounds` re-exports it.
pub const MAX_PUBLISHERS: u32 = 100;
/// Each connection's read buffer (a message is a few dozen bytes).
const READ_BUFFER: usize = 4096;
/// How long a subscriber waits for its close frame to be written.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

/// Parses a `ws://` URL, refusing hosts other than loopback (the rule of
/// [`super::parse_url`], which it goes through).
pub fn parse_ws_url(url: &str) -> Result<ParsedUrl, EndpointError> {
    let Some(rest) = url.strip_prefix("ws://") else {
        return Err(EndpointError::Invalid {
            url: url.into(),
            reason: "only ws:// URLs are supported (no TLS: loopback only)".into(),
        });
    };
    super::parse_url(&format!("http://{rest}"), false).map_err(|e| match e {
        EndpointError::Invalid { reason, .. } => EndpointError::Invalid {
            url: url.into(),
            reason,
        },
        EndpointError::Remote { host, .. } => EndpointError::Invalid {
            url: url.into(),
            reason: format!(
                "refusing to connect to {host:?}: fan-out load goes to 127.0.0.0/8, ::1 and localhost only"
            ),
        },
        EndpointError::Resolve { host, reason, .. } => EndpointError::Resolve {
            url: url.into(),
            host,
            reason,
        },
        other => other,
    })
}

/// Everything one fan-out step needs.
#[derive(Debug, Clone)]
pub struct FanoutSpec {
    pub endpoint: Endpoint,
    /// Path of the WebSocket endpoint ("/ws/fanout").
    pub path: String,
    pub subscribers: u32,
    /// Publishing connections, among the subscribers (1..=subscribers).
    pub publishers: u32,
    /// Messages per second, all publishers together.
    pub rate: f64,
    /// The publishing window.
    pub duration: Duration,
    /// Subscribers connected per second before publishing starts.
    pub connect_rate: f64,
    /// Reading goes on this long after the window's end.
    pub drain: Duration,
    /// Bound on a connect, a handshake and a publish.
    pub timeout: Duration,
    /// CPUs for the generator threads (one per CPU); empty = one unpinned.
    pub cpus: Vec<usize>,
    pub cancel: Cancel,
}

impl FanoutSpec {
    /// The fan-out step a runner's [`StepSpec`] asks for (None: not a
    /// fan-out schedule). The path is the mix's first entry's; the
    /// warm-up is the connect phase, so the spec's is not used.
    pub fn of_step(spec: &StepSpec) -> Option<FanoutSpec> {
        let Schedule::Fanout {
            subscribers,
            rate,
            publishers,
            connect_rate,
        } = spec.schedule
        else {
            return None;
        };
        let path = spec
            .mix
            .entries()
            .first()
            .map_or_else(|| "/ws/fanout".to_string(), |e| e.path.clone());
        Some(FanoutSpec {
            endpoint: spec.endpoint.clone(),
            path,
            subscribers,
            publishers,
            rate,
            duration: spec.duration,
            connect_rate,
            drain: DEFAULT_DRAIN,
            timeout: spec.timeout,
            cpus: spec.cpus.clone(),
            cancel: spec.cancel.clone(),
        })
    }

    fn check(&self) -> Result<(), EngineError> {
        if self.subscribers == 0 {
            return Err(EngineError::NoConnections);
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(EngineError::InvalidRate(self.rate));
        }
        if !(self.connect_rate.is_finite() && self.connect_rate > 0.0) {
            return Err(EngineError::InvalidFanout(format!(
                "connect rate must be a positive number of connections per second, got {}",
                self.connect_rate
            )));
        }
        if self.publishers == 0
            || self.publishers > self.subscribers
            || self.publishers > MAX_PUBLISHERS
        {
            return Err(EngineError::InvalidFanout(format!(
                "publishers must be between 1 and the subscribers ({}, at most {MAX_PUBLISHERS}), got {}",
                self.subscribers, self.publishers
            )));
        }
        Ok(())
    }

    /// How long connecting may take at most: the last subscriber's slot,
    /// its timeouts, and a second of slack.
    fn connect_bound(&self) -> Duration {
        Duration::from_secs_f64(f64::from(self.subscribers) / self.connect_rate)
            + self.timeout * 2
            + Duration::from_secs(1)
    }
}

/// What the threads of a step share.
struct Shared {
    /// Subscribers whose handshake completed before publishing began
    /// (each publish expects a delivery to every one of them: one the
    /// server drops later misses its deliveries, which count as lost).
    connected: AtomicU64,
    /// Subscribers done connecting, either way.
    settled: AtomicU64,
    /// Deliveries so far, for progress.
    delivered: AtomicU64,
    /// The time origin (start of publishing), once every subscriber settled.
    origin: tokio::sync::watch::Sender<Option<Instant>>,
}

struct ThreadCtx {
    spec: Arc<FanoutSpec>,
    url: String,
    shared: Arc<Shared>,
    connect_start: Instant,
    curve: Arc<Curve>,
    recorder: RefCell<Recorder>,
    tally: RefCell<FanoutTally>,
}

/// Runs one fan-out step to completion (blocking, like `run_step`).
pub fn run_fanout(
    spec: &FanoutSpec,
    observer: &mut dyn StepObserver,
) -> Result<Measurement, EngineError> {
    spec.check()?;
    let spec = Arc::new(spec.clone());
    let labels = vec![format!("WS {}", spec.path)];
    let thread_cpus: Vec<Option<usize>> = if spec.cpus.is_empty() {
        vec![None]
    } else {
        spec.cpus.iter().map(|&c| Some(c)).collect()
    };
    let threads = thread_cpus.len().min(spec.subscribers as usize).max(1);
    let shared = Arc::new(Shared {
        connected: AtomicU64::new(0),
        settled: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        origin: tokio::sync::watch::Sender::new(None),
    });
    let curve = Arc::new(RateProfile::constant(spec.rate).curve(Duration::ZERO, spec.duration));
    let connect_start = Instant::now() + START_DELAY;
    let url = format!("ws://{}{}", spec.endpoint.host_header, spec.path);

    let (outputs, cpu, origin) = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for (t, cpu) in thread_cpus.iter().take(threads).enumerate() {
            let ctx = ThreadCtx {
                spec: spec.clone(),
                url: url.clone(),
                shared: shared.clone(),
                connect_start,
                curve: curve.clone(),
                recorder: RefCell::new(Recorder::new(&labels, true, spec.duration)),
                tally: RefCell::new(FanoutTally::default()),
            };
            let cpu = *cpu;
            let handle = std::thread::Builder::new()
                .name(format!("bakeoff-fanout-{t}"))
                .spawn_scoped(scope, move || fanout_thread(ctx, t, threads, cpu))
                .map_err(EngineError::Thread)?;
            handles.push(handle);
        }
        let connect_deadline = connect_start + spec.connect_bound();
        let mut origin: Option<Instant> = None;
        let mut announced = [false; 2];
        let mut cpu_start = None;
        while !handles.iter().all(|h| h.is_finished()) {
            let now = Instant::now();
            if !announced[0] && now >= connect_start {
                observer.on_event(&StepEvent::WarmupStarted { at: connect_start });
                announced[0] = true;
            }
            let settled = shared.settled.load(Ordering::Acquire) >= u64::from(spec.subscribers);
            if origin.is_none()
                && announced[0]
                && (settled || now >= connect_deadline || spec.cancel.is_cancelled())
            {
                let at = now + START_DELAY;
                origin = Some(at);
                shared.origin.send_replace(Some(at));
            }
            if let Some(at) = origin.filter(|at| !announced[1] && now >= *at) {
                cpu_start = Some(process_cpu_time());
                observer.on_event(&StepEvent::WindowStarted { at });
                announced[1] = true;
            }
            observer.on_event(&StepEvent::Tick {
                elapsed: connect_start.elapsed(),
                requests: shared.delivered.load(Ordering::Relaxed),
            });
            std::thread::sleep(TICK.min(Duration::from_millis(10)));
        }
        let cpu_start = cpu_start.unwrap_or_else(process_cpu_time);
        let cpu = process_cpu_time().saturating_sub(cpu_start);
        let outputs: Result<Vec<ThreadOutput>, EngineError> = handles
            .into_iter()
            .map(|h| h.join().map_err(|_| EngineError::Panicked)?)
            .collect();
        Ok::<_, EngineError>((outputs?, cpu, origin))
    })?;

    let interrupted = spec.cancel.is_cancelled();
    let end = if interrupted {
        let ran = origin.map_or(Duration::ZERO, |o| o.elapsed());
        WindowEnd::Elapsed(ran.min(spec.duration))
    } else {
        WindowEnd::Elapsed(spec.duration)
    };
    let mut recorder = Recorder::new(&labels, true, spec.duration);
    let mut tally = FanoutTally::default();
    for out in &outputs {
        recorder += &out.recorder;
        tally += &out.tally;
    }
    let usage = GeneratorUsage {
        process_cpu: cpu,
        threads: outputs.len() as u32,
        thread_cpus: outputs.iter().map(|o| o.ran_on).collect(),
        busiest_thread_utilization: outputs.iter().map(|o| o.utilization).fold(0.0, f64::max),
        busiest_thread_runnable: 0.0,
    };
    let shape = FanoutShape {
        subscribers: u64::from(spec.subscribers),
        publishers: u64::from(spec.publishers),
        rate: spec.rate,
    };
    let mut measurement = finish(recorder, &tally, shape, end, usage);
    measurement.interrupted = interrupted;
    measurement.completed_in_step = tally.delivered;
    observer.on_event(&StepEvent::Finished {
        measurement: &measurement,
    });
    Ok(measurement)
}

struct ThreadOutput {
    recorder: Recorder,
    tally: FanoutTally,
    /// Thread CPU time over its wall time.
    utilization: f64,
    ran_on: usize,
}

/// One generator thread: subscribers `t`, `t + threads`, … on a local
/// runtime, until each has ended.
fn fanout_thread(
    ctx: ThreadCtx,
    t: usize,
    threads: usize,
    cpu: Option<usize>,
) -> Result<ThreadOutput, EngineError> {
    if let Some(cpu) = cpu {
        // Best effort, as in `run_step`.
        let _ = pin_current_thread(&[cpu]);
    }
    clock::tighten_timer_slack();
    let (wall0, cpu0) = (Instant::now(), clock::thread_cpu_time());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(EngineError::Thread)?;
    let ctx = Rc::new(ctx);
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let clock = Clock::new().map_err(EngineError::Thread)?;
        let driver = tokio::task::spawn_local(clock.clone().drive());
        let tasks: Vec<_> = (t..ctx.spec.subscribers as usize)
            .step_by(threads)
            .map(|i| tokio::task::spawn_local(subscriber(ctx.clone(), clock.clone(), i as u32)))
            .collect();
        let mut outcome = Ok(());
        for task in tasks {
            if task.await.is_err() {
                outcome = Err(EngineError::Panicked);
            }
        }
        driver.abort();
        outcome
    })?;
    drop(local);
    drop(runtime);
    let wall = wall0.elapsed().as_secs_f64().max(1e-9);
    let utilization = clock::thread_cpu_time().saturating_sub(cpu0).as_secs_f64() / wall;
    let ctx = Rc::try_unwrap(ctx).map_err(|_| EngineError::Panicked)?;
    // SAFETY: sched_getcpu takes no arguments; -1 (unsupported) maps to 0.
    let ran_on = usize::try_from(unsafe { libc::sched_getcpu() }).unwrap_or(0);
    Ok(ThreadOutput {
        recorder: ctx.recorder.into_inner(),
        tally: ctx.tally.into_inner(),
        utilization,
        ran_on,
    })
}

/// One subscriber's life: connect in its slot, wait for the origin, read
/// (and publish, if it is a publisher) until the drain ends, close.
async fn subscriber(ctx: Rc<ThreadCtx>, clock: Rc<Clock>, i: u32) {
    let spec = &ctx.spec;
    let shared = &ctx.shared;
    let slot = ctx.connect_start + Duration::from_secs_f64(f64::from(i) / spec.connect_rate);
    tokio::select! {
        _ = tokio::time::sleep_until(slot.into()) => {}
        _ = spec.cancel.cancelled() => {
            shared.settled.fetch_add(1, Ordering::Release);
            return;
        }
    }
    let opened = open(&ctx).await;
    let mut origin_rx = shared.origin.subscribe();
    let late = origin_rx.borrow().is_some();
    let ws = match opened {
        // Connected after publishing began: it cannot be counted fairly.
        Ok(_) if late => Err(FanoutError::Timeout),
        other => other,
    };
    let ws = match ws {
        Ok(ws) => {
            shared.connected.fetch_add(1, Ordering::AcqRel);
            ctx.tally.borrow_mut().connected += 1;
            shared.settled.fetch_add(1, Ordering::Release);
            ws
        }
        Err(kind) => {
            ctx.tally.borrow_mut().error(kind);
            shared.settled.fetch_add(1, Ordering::Release);
            return;
        }
    };
    let wait = spec.connect_bound() + Duration::from_secs(1);
    let origin = match tokio::time::timeout(wait, origin_rx.wait_for(|o| o.is_some())).await {
        Ok(Ok(origin)) => *origin,
        _ => None,
    };
    let Some(origin) = origin else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let gone = Cell::new(false);
    let publish = async {
        if i < spec.publishers {
            publish(&ctx, &clock, &mut sink, u64::from(i), origin, &gone).await;
        }
    };
    let receive = receive(&ctx, &mut stream, origin, &gone);
    let ((), dropped) = futures_util::future::join(publish, receive).await;
    if !dropped {
        let _ = tokio::time::timeout(CLOSE_WAIT, sink.send(Message::Close(None))).await;
    }
}

/// Connects and upgrades, each within the timeout.
async fn open(ctx: &ThreadCtx) -> Result<WebSocketStream<TcpStream>, FanoutError> {
    let timeout = ctx.spec.timeout;
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(ctx.spec.endpoint.addr)).await
    {
        Err(_) => return Err(FanoutError::Timeout),
        Ok(Err(_)) => return Err(FanoutError::Connect),
        Ok(Ok(tcp)) => tcp,
    };
    let _ = tcp.set_nodelay(true);
    // Messages are a few dozen bytes: small buffers keep memory per
    // subscriber at a few KiB instead of tungstenite's 128 KiB default.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0);
    let handshake = client_async_with_config(ctx.url.as_str(), tcp, Some(config));
    match tokio::time::timeout(timeout, handshake).await {
        Err(_) => Err(FanoutError::Timeout),
        Ok(Err(_)) => Err(FanoutError::Handshake),
        Ok(Ok((ws, _response))) => Ok(ws),
    }
}

type Sink = futures_util::stream::SplitSink<WebSocketStream<TcpStream>, Message>;
type Stream = futures_util::stream::SplitStream<WebSocketStream<TcpStream>>;

/// Publisher `p`'s messages: tickets p, p + P, … of the step's schedule,
/// each sent at its intended time; stops at the window's end, when the
/// connection is gone, or on cancel.
async fn publish(
    ctx: &ThreadCtx,
    clock: &Rc<Clock>,
    sink: &mut Sink,
    p: u64,
    origin: Instant,
    gone: &Cell<bool>,
) {
    let spec = &ctx.spec;
    let stride = u64::from(spec.publishers);
    // Bounded by the schedule: `time_at` is None past the window's end.
    let mut seq = 0u64;
    while let Some(t) = ctx.curve.time_at((p + seq * stride) as f64) {
        let intended = Duration::from_secs_f64(t);
        if intended >= spec.duration {
            break;
        }
        tokio::select! {
            _ = clock.sleep_until(origin + intended) => {}
            _ = spec.cancel.cancelled() => break,
        }
        if gone.get() {
            break;
        }
        let sent = origin.elapsed();
        let text = format!("{p} {seq} {} {}", intended.as_micros(), sent.as_micros());
        let subscribers = ctx.shared.connected.load(Ordering::Acquire);
        match tokio::time::timeout(spec.timeout, sink.send(Message::text(text))).await {
            Ok(Ok(())) => ctx.tally.borrow_mut().published(subscribers),
            // The connection is gone: the reader counts the drop.
            Ok(Err(_)) => break,
            Err(_) => {
                ctx.tally.borrow_mut().error(FanoutError::Timeout);
                break;
            }
        }
        seq += 1;
    }
}

/// Reads until the drain ends (true: the server dropped the connection
/// first, counted under `dropped`).
async fn receive(ctx: &ThreadCtx, stream: &mut Stream, origin: Instant, gone: &Cell<bool>) -> bool {
    let spec = &ctx.spec;
    let drain_end = origin + spec.duration + spec.drain;
    let mut seen = Deliveries::new(spec.publishers as usize);
    // Bounded by time: every turn ends by the drain's end at the latest.
    loop {
        let next = tokio::select! {
            m = stream.next() => m,
            _ = tokio::time::sleep_until(drain_end.into()) => return false,
            _ = spec.cancel.cancelled() => return false,
        };
        let done = origin.elapsed();
        match next {
            Some(Ok(Message::Text(text))) => {
                if let Some(m) = parse(&text) {
                    deliver(ctx, &mut seen, m, done);
                }
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                gone.set(true);
                ctx.tally.borrow_mut().error(FanoutError::Dropped);
                return true;
            }
            Some(Ok(_)) => {}
        }
    }
}

/// A message of this step: (publisher, seq, intended, sent).
type Parsed = (usize, u64, Duration, Duration);

fn parse(text: &str) -> Option<Parsed> {
    let mut it = text.split(' ');
    let p = it.next()?.parse().ok()?;
    let seq = it.next()?.parse().ok()?;
    let intended = Duration::from_micros(it.next()?.parse().ok()?);
    let sent = Duration::from_micros(it.next()?.parse().ok()?);
    it.next().is_none().then_some((p, seq, intended, sent))
}

fn deliver(
    ctx: &ThreadCtx,
    seen: &mut Deliveries,
    (p, seq, intended, sent): Parsed,
    done: Duration,
) {
    match seen.receive(p, seq) {
        Some(Reception::First) => {
            ctx.tally.borrow_mut().delivered += 1;
            ctx.shared.delivered.fetch_add(1, Ordering::Relaxed);
            ctx.recorder.borrow_mut().record(Sample {
                entry: 0,
                intended,
                ready: intended,
                sent,
                done,
                status: None,
                error: None,
            });
        }
        Some(Reception::Duplicate) => ctx.tally.borrow_mut().duplicated += 1,
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Mix, MixEntry, Shard};

    fn step(schedule: Schedule) -> StepSpec {
        StepSpec {
            transport: Default::default(),
            endpoint: super::super::parse_url("http://127.0.0.1:3000/", false)
                .unwrap()
                .endpoint,
            mix: Mix::single(MixEntry::get("/ws/fanout")),
            schedule,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(3),
            timeout: Duration::from_secs(5),
            max_requests: None,
            seed: 1,
            cpus: vec![],
            cancel: Cancel::new(),
            shard: Shard::WHOLE,
            start_at: None,
        }
    }

    #[test]
    fn a_runner_step_with_a_fanout_schedule_is_a_fanout_spec() {
        let spec = step(Schedule::Fanout {
            subscribers: 200,
            rate: 50.0,
            publishers: 2,
            connect_rate: 400.0,
        });
        let f = FanoutSpec::of_step(&spec).expect("a fan-out step");
        assert_eq!(f.path, "/ws/fanout");
        assert_eq!((f.subscribers, f.publishers, f.rate), (200, 2, 50.0));
        assert_eq!((f.duration, f.drain), (spec.duration, DEFAULT_DRAIN));
        assert!(FanoutSpec::of_step(&step(Schedule::Closed { connections: 1 })).is_none());
    }

    #[test]
    fn ws_urls_are_loopback_only() {
        let u = parse_ws_url("ws://127.0.0.1:3000/ws/fanout").unwrap();
        assert_eq!(u.path_and_query, "/ws/fanout");
        assert_eq!(u.endpoint.addr.port(), 3000);
        let e = parse_ws_url("http://127.0.0.1:3000/ws/fanout").unwrap_err();
        assert!(e.to_string().contains("only ws://"), "{e}");
        let e = parse_ws_url("ws://10.0.0.1/ws/fanout").unwrap_err();
        assert!(
            e.to_string().contains("loopback") || e.to_string().contains("127.0.0.0/8"),
            "{e}"
        );
    }

    #[test]
    fn messages_round_trip_through_their_text() {
        let text = format!("3 17 {} {}", 850_000, 850_120);
        assert_eq!(
            parse(&text),
            Some((
                3,
                17,
                Duration::from_micros(850_000),
                Duration::from_micros(850_120)
            ))
        );
        assert_eq!(parse("hello"), None);
        assert_eq!(parse("1 2 3 4 5"), None);
        assert_eq!(parse("1 2 3"), None);
    }
}
