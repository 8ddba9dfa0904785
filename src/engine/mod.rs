//! The request engine: ONE worker loop (`worker.rs`) driven by a closed
//! (concurrency) or open (rate) schedule, on hyper's connection-level
//! HTTP/1.1 client (`client.rs`).
//!
//! A step runs on its own OS threads, one per generator CPU, each pinned to
//! its CPU and running a single-threaded tokio runtime with its share of
//! the connections (wrk's layout). Each thread records into its own
//! [`Recorder`]; the recorders are merged when the step ends. This module
//! does not know about suites, targets or result files.

mod client;
mod clock;
pub mod endpoint;
pub mod events;
pub mod executor;
pub mod fanout;
mod lean;
pub mod mix;
mod pin;
pub mod profile;
pub mod shard;
pub mod tls;
mod worker;

use crate::model::Model;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

pub use endpoint::{Endpoint, EndpointError, ParsedUrl, Scheme, parse_url};
pub use events::{NoObserver, StepEvent, StepObserver, WindowSignal};
pub use executor::{Engine, MockAnswer, MockCall, MockEngine, StepExecutor, StepFuture};
pub use fanout::{FanoutSpec, run_fanout};
pub use mix::{Mix, MixEntry, SplitMix64};
pub use pin::pin_current_thread;
pub use profile::{Arrivals, ProfileError, RateProfile, Stage};
pub use shard::{Shard, ShardError};
pub use tls::{HttpClient, TlsError, Transport, TransportOptions};
pub use worker::Stop;

use crate::measure::{GeneratorUsage, Measurement, Recorder, WindowEnd, process_cpu_time};
use client::PreparedRequest;
use clock::Clock;
use profile::Positions;
use worker::{Pacer, ThreadCtx};

pub use worker::{FIRST_BACKOFF, MAX_BACKOFF};

/// Stops running steps early (Ctrl-C, SIGTERM). Cloning shares the token;
/// once cancelled it stays cancelled. A cancelled step stops sending at
/// once, abandons requests in flight and returns what it measured, marked
/// interrupted.
#[derive(Debug, Clone)]
pub struct Cancel(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Cancel {
    fn default() -> Self {
        Cancel(Arc::new(tokio::sync::watch::Sender::new(false)))
    }
}

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }
    /// Resolves once cancelled.
    pub async fn cancelled(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so waiting cannot fail.
        let _ = rx.wait_for(|c| *c).await;
    }
}

/// How requests are paced.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// `connections` loops, each sending when its previous response arrived.
    Closed { connections: u32 },
    /// Requests on a fixed schedule offering `profile`'s rate (a constant
    /// rate is the profile of no stage), spread by `arrivals`, over a pool
    /// of `connections`; latency counts from the intended send time.
    Open {
        profile: RateProfile,
        connections: u32,
        arrivals: Arrivals,
    },
    /// WebSocket fan-out (`fanout.rs`): `subscribers` connections opened
    /// at `connect_rate` per second, then `publishers` of them sending
    /// `rate` messages/s together; the mix's first entry names the path.
    Fanout {
        subscribers: u32,
        rate: f64,
        publishers: u32,
        connect_rate: f64,
    },
}

impl Schedule {
    /// The open model at a constant `rate` with uniform arrivals (a rate
    /// that is not positive and finite is refused when the step runs).
    pub fn open(rate: f64, connections: u32) -> Schedule {
        Schedule::Open {
            profile: RateProfile::constant(rate),
            connections,
            arrivals: Arrivals::Uniform,
        }
    }

    /// The surge of an open schedule's profile, if it has one.
    pub fn surge(&self) -> Option<crate::measure::SurgePhases> {
        match self {
            Schedule::Open { profile, .. } => profile.surge(),
            Schedule::Closed { .. } | Schedule::Fanout { .. } => None,
        }
    }

    pub fn model(&self) -> Model {
        match self {
            Schedule::Closed { .. } => Model::Closed,
            Schedule::Open { .. } => Model::Open,
            Schedule::Fanout { .. } => Model::Fanout,
        }
    }

    /// The step's level as results record it: connections, or the offered
    /// (peak) rate rounded to whole requests/s.
    pub fn level(&self) -> u64 {
        match self {
            Schedule::Closed { connections } => u64::from(*connections),
            Schedule::Open { profile, .. } => profile.peak().round() as u64,
            Schedule::Fanout { subscribers, .. } => u64::from(*subscribers),
        }
    }

    pub fn connections(&self) -> u32 {
        match self {
            Schedule::Closed { connections } | Schedule::Open { connections, .. } => *connections,
            Schedule::Fanout { subscribers, .. } => *subscribers,
        }
    }
}

/// Everything one step needs.
#[derive(Debug, Clone)]
pub struct StepSpec {
    pub endpoint: Endpoint,
    /// TLS or not, HTTP/1.1 or HTTP/2, streams per connection
    /// (`Transport::default()`: cleartext HTTP/1.1).
    pub transport: Transport,
    pub mix: Mix,
    pub schedule: Schedule,
    pub warmup: Duration,
    pub duration: Duration,
    pub timeout: Duration,
    /// Optional bound on measured requests (the step also ends at `duration`).
    pub max_requests: Option<u64>,
    /// Seed of the mix selection.
    pub seed: u64,
    /// CPUs for the generator threads (one thread per CPU); empty = one
    /// unpinned thread.
    pub cpus: Vec<usize>,
    /// Ends the step early when cancelled.
    pub cancel: Cancel,
    /// This process's part of the load (`Shard::WHOLE`: all of it).
    pub shard: Shard,
    /// Wall-clock time the step's origin (its warm-up's start) is at, so
    /// shards on several machines start together; None: now.
    pub start_at: Option<SystemTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("connections must be at least 1")]
    NoConnections,
    #[error("rate must be a positive number of requests per second, got {0}")]
    InvalidRate(f64),
    #[error("cannot start a generator thread: {0}")]
    Thread(std::io::Error),
    #[error("a generator thread panicked")]
    Panicked,
    #[error("{0}")]
    InvalidFanout(String),
}

/// Time between the call and the first request, so all threads start together.
const START_DELAY: Duration = Duration::from_millis(20);

/// Runs one step to completion (blocking: call it from a blocking thread,
/// or go through [`Engine`], the [`StepExecutor`] that does). `observer`
/// hears the step's lifecycle ([`StepEvent`]).
pub fn run_step(
    spec: &StepSpec,
    observer: &mut dyn StepObserver,
) -> Result<Measurement, EngineError> {
    if let Some(fanout) = FanoutSpec::of_step(spec) {
        // Subscribers of one broadcast cannot be split across machines:
        // each shard's publishers would miss the others' subscribers.
        if spec.shard != Shard::WHOLE {
            return Err(EngineError::InvalidFanout(format!(
                "a fan-out step cannot be sharded (shard {})",
                spec.shard
            )));
        }
        return run_fanout(&fanout, observer);
    }
    let connections = spec.shard.connections(spec.schedule.connections());
    if connections == 0 {
        return Err(EngineError::NoConnections);
    }
    if let Schedule::Open { profile, .. } = &spec.schedule {
        let peak = profile.peak();
        if !(peak.is_finite() && peak > 0.0) {
            return Err(EngineError::InvalidRate(peak));
        }
    }
    let url_origin = format!(
        "{}://{}",
        spec.endpoint.scheme.as_str(),
        spec.endpoint.authority
    );
    let requests: Vec<PreparedRequest> = spec
        .mix
        .entries()
        .iter()
        .map(|e| PreparedRequest::new(e, &spec.endpoint.host_header, &url_origin))
        .collect::<Result<_, _>>()
        .map_err(EngineError::InvalidRequest)?;
    let labels: Vec<String> = spec.mix.entries().iter().map(|e| e.label.clone()).collect();

    let thread_cpus: Vec<Option<usize>> = if spec.cpus.is_empty() {
        vec![None]
    } else {
        spec.cpus.iter().map(|&c| Some(c)).collect()
    };
    let threads = thread_cpus.len().min(connections as usize).max(1);
    // Offsets are from `origin`: START_DELAY in the future, or the shared
    // start time (a start already past starts now, like START_DELAY).
    let origin = match spec.start_at {
        Some(at) => {
            let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
            Instant::now() + wait.max(START_DELAY)
        }
        None => Instant::now() + START_DELAY,
    };
    let stop = Stop {
        window_start: spec.warmup,
        window_end: spec.warmup + spec.duration,
        hard_deadline: spec.warmup + spec.duration + spec.timeout,
        max_requests: spec.max_requests,
    };
    let finished: Vec<Arc<AtomicU64>> = (0..threads).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let measured_started = Arc::new(AtomicU64::new(0));
    let open = matches!(spec.schedule, Schedule::Open { .. });
    // One schedule for all threads, built once: Λ from the origin to the
    // window's end.
    let curve = match &spec.schedule {
        Schedule::Open { profile, .. } => {
            Some(Arc::new(profile.curve(spec.warmup, stop.window_end)))
        }
        // A fan-out step went to `run_fanout` above.
        Schedule::Closed { .. } | Schedule::Fanout { .. } => None,
    };

    let (outputs, cpu) = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for (t, cpu) in thread_cpus.iter().take(threads).enumerate() {
            let share =
                connections as usize / threads + usize::from(t < connections as usize % threads);
            let pacer = match (&spec.schedule, &curve) {
                (Schedule::Open { arrivals, .. }, Some(curve)) => {
                    // Thread t takes every `threads`-th ticket of the
                    // shard's stripe of the global schedule.
                    let positions = Positions::new(*arrivals, profile::arrivals_seed(spec.seed));
                    let (first, stride) = spec.shard.stripe(t as u64, threads as u64);
                    Pacer::open(curve.clone(), positions, first, stride)
                }
                _ => Pacer::Closed,
            };
            let ctx = ThreadCtx {
                origin,
                addr: spec.endpoint.addr,
                transport: spec.transport.clone(),
                mix: spec.mix.clone(),
                requests: requests.clone(),
                timeout: spec.timeout,
                seed: spec.seed.wrapping_add(t as u64),
                stop,
                pacer,
                recorder: RefCell::new(Recorder::new(&labels, open, spec.duration)),
                finished: finished[t].clone(),
                measured_started: measured_started.clone(),
            };
            let cpu = *cpu;
            let cancel = spec.cancel.clone();
            let handle = std::thread::Builder::new()
                .name(format!("bakeoff-gen-{t}"))
                .spawn_scoped(scope, move || generator_thread(ctx, share, cpu, &cancel))
                .map_err(EngineError::Thread)?;
            handles.push(handle);
        }
        let all_done =
            |hs: &[std::thread::ScopedJoinHandle<'_, _>]| hs.iter().all(|h| h.is_finished());
        let requests = || finished.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        // Generator CPU counts from the start of the measured window.
        let window_start = origin + spec.warmup;
        let mut phase = Phase::Starting;
        let mut cpu_start = None;
        while !all_done(&handles) {
            let now = Instant::now();
            if phase == Phase::Starting && now >= origin {
                observer.on_event(&StepEvent::WarmupStarted { at: origin });
                phase = Phase::Warmup;
            }
            if phase == Phase::Warmup && now >= window_start {
                cpu_start = Some(process_cpu_time());
                observer.on_event(&StepEvent::WindowStarted { at: window_start });
                phase = Phase::Window;
            }
            observer.on_event(&StepEvent::Tick {
                elapsed: origin.elapsed(),
                requests: requests(),
            });
            // Wake at the next tick or phase boundary, whichever is first.
            let boundary = match phase {
                Phase::Starting => Some(origin),
                Phase::Warmup => Some(window_start),
                Phase::Window => None,
            };
            let wake = boundary.map_or(now + TICK, |b| b.min(now + TICK));
            std::thread::sleep(wake.saturating_duration_since(Instant::now()));
        }
        // A step that ended before its window (cancelled) used no window CPU.
        let cpu_start = cpu_start.unwrap_or_else(process_cpu_time);
        let cpu = process_cpu_time().saturating_sub(cpu_start);
        let outputs: Result<Vec<ThreadOutput>, EngineError> = handles
            .into_iter()
            .map(|h| h.join().map_err(|_| EngineError::Panicked)?)
            .collect();
        Ok::<_, EngineError>((outputs?, cpu))
    })?;

    let interrupted = spec.cancel.is_cancelled();
    let count_reached = spec
        .max_requests
        .is_some_and(|max| measured_started.load(Ordering::Relaxed) >= max);
    let end = if count_reached {
        WindowEnd::CountReached
    } else if interrupted {
        WindowEnd::Elapsed(
            origin
                .elapsed()
                .saturating_sub(spec.warmup)
                .min(spec.duration),
        )
    } else {
        WindowEnd::Elapsed(spec.duration)
    };
    let mut merged = Recorder::new(&labels, open, spec.duration).with_surge(spec.schedule.surge());
    for out in &outputs {
        merged += &out.recorder;
    }
    let usage = GeneratorUsage {
        process_cpu: cpu,
        threads: outputs.len() as u32,
        thread_cpus: outputs.iter().map(|o| o.ran_on).collect(),
        busiest_thread_utilization: outputs.iter().map(|o| o.utilization).fold(0.0, f64::max),
        busiest_thread_runnable: outputs.iter().map(|o| o.runnable).fold(0.0, f64::max),
    };
    let mut measurement = merged.finish(end, usage);
    measurement.interrupted = interrupted;
    // Every thread has been joined: the counts are final.
    measurement.completed_in_step = finished.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    observer.on_event(&StepEvent::Finished {
        measurement: &measurement,
    });
    Ok(measurement)
}

/// Where `run_step`'s watch loop is in the step's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Threads started, waiting for the common start (`START_DELAY`).
    Starting,
    Warmup,
    Window,
}

/// How often `run_step` reports progress and checks whether its threads ended.
const TICK: Duration = Duration::from_millis(50);

/// (wall clock, thread CPU time, run-queue wait) at one moment.
type Reading = (Instant, Duration, Duration);

/// What one generator thread hands back.
struct ThreadOutput {
    recorder: Recorder,
    /// Thread CPU time over wall time, in the measured window.
    utilization: f64,
    /// Thread CPU time plus run-queue wait over wall time, in the window:
    /// the share of it the thread wanted a CPU.
    runnable: f64,
    /// The CPU the thread was on at its end.
    ran_on: usize,
}

/// Body of one generator thread: pin, run the workers on a local runtime
/// until they end or the step is cancelled, hand back the recorder.
fn generator_thread(
    ctx: ThreadCtx,
    connections: usize,
    cpu: Option<usize>,
    cancel: &Cancel,
) -> Result<ThreadOutput, EngineError> {
    if let Some(cpu) = cpu {
        // Pinning is best effort: a CPU outside the allowed set leaves the
        // thread where the OS puts it rather than failing the step.
        let _ = pin_current_thread(&[cpu]);
    }
    clock::tighten_timer_slack();
    let read = || {
        (
            Instant::now(),
            clock::thread_cpu_time(),
            clock::thread_run_queue_wait(),
        )
    };
    let life_start = read();
    let window = ctx.origin + ctx.stop.window_start..ctx.origin + ctx.stop.window_end;
    // (wall, thread CPU) at the window's start and end, read by a task on
    // this thread's runtime (thread CPU time is only readable here).
    let readings: Rc<Cell<[Option<Reading>; 2]>> = Rc::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(EngineError::Thread)?;
    let open = matches!(ctx.pacer, Pacer::Open { .. });
    let ctx = Rc::new(ctx);
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let clock = if open {
            Some(Clock::new().map_err(EngineError::Thread)?)
        } else {
            None
        };
        let driver = clock.clone().map(|c| tokio::task::spawn_local(c.drive()));
        let meter = {
            let readings = readings.clone();
            let window = window.clone();
            tokio::task::spawn_local(async move {
                tokio::time::sleep_until(window.start.into()).await;
                readings.set([Some(read()), None]);
                tokio::time::sleep_until(window.end.into()).await;
                readings.set([readings.get()[0], Some(read())]);
            })
        };
        // With --streams N, N workers share each (HTTP/2) connection.
        let streams = ctx.transport.streams.max(1) as usize;
        let slots: Vec<Option<Rc<worker::SharedConnection>>> = (0..connections)
            .map(|_| (streams > 1).then(Rc::default))
            .collect();
        let workers: Vec<_> = (0..connections * streams)
            .map(|i| {
                let slot = slots[i / streams].clone();
                tokio::task::spawn_local(worker::worker(ctx.clone(), clock.clone(), i as u64, slot))
            })
            .collect();
        let aborts: Vec<_> = workers.iter().map(|w| w.abort_handle()).collect();
        let cancel = cancel.clone();
        let canceller = tokio::task::spawn_local(async move {
            cancel.cancelled().await;
            for a in aborts {
                a.abort();
            }
        });
        let mut outcome = Ok(());
        for w in workers {
            // A worker ends by returning or by being aborted on cancel; a
            // panic inside it is a bug, reported as EngineError::Panicked.
            if let Err(err) = w.await {
                if !err.is_cancelled() {
                    outcome = Err(EngineError::Panicked);
                }
            }
        }
        canceller.abort();
        meter.abort();
        if let Some(d) = driver {
            d.abort();
        }
        outcome
    })?;
    drop(local);
    drop(runtime);
    // Over the measured window only: warm-up (connection set-up) and the
    // in-flight tail would dilute a real saturation. A step cancelled before
    // its window falls back to the thread's whole life; one that ended
    // early (count bound, cancel) to the part of the window that ran.
    let now = read();
    let [start, end] = readings.get();
    let (from, to) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, now),
        _ => (life_start, now),
    };
    let wall =
        to.0.saturating_duration_since(from.0)
            .as_secs_f64()
            .max(1e-9);
    let cpu = to.1.saturating_sub(from.1).as_secs_f64();
    let utilization = cpu / wall;
    let runnable = (cpu + to.2.saturating_sub(from.2).as_secs_f64()) / wall;
    let ctx = Rc::try_unwrap(ctx).map_err(|_| EngineError::Panicked)?;
    // SAFETY: sched_getcpu takes no arguments; -1 (unsupported) maps to 0.
    let ran_on = usize::try_from(unsafe { libc::sched_getcpu() }).unwrap_or(0);
    Ok(ThreadOutput {
        recorder: ctx.recorder.into_inner(),
        utilization,
        runnable,
        ran_on,
    })
}
