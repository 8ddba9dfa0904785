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
pub mod endpoint;
pub mod mix;
mod pin;
mod worker;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use endpoint::{Endpoint, EndpointError, ParsedUrl, parse_url};
pub use mix::{Mix, MixEntry, SplitMix64};
pub use pin::pin_current_thread;
pub use worker::Stop;

use crate::measure::{Measurement, Recorder, process_cpu_time};
use client::PreparedRequest;
use worker::{Pacer, ThreadCtx};

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// `connections` loops, each sending when its previous response arrived.
    Closed { connections: u32 },
    /// `rate` requests/s in total on a fixed schedule, over a pool of
    /// `connections`; latency counts from the intended send time.
    Open { rate: f64, connections: u32 },
}

impl Schedule {
    pub fn connections(&self) -> u32 {
        match *self {
            Schedule::Closed { connections } | Schedule::Open { connections, .. } => connections,
        }
    }
}

/// Everything one step needs.
#[derive(Debug, Clone)]
pub struct StepSpec {
    pub endpoint: Endpoint,
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
}

/// Live counters of a running step, for progress display.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    finished: Vec<Arc<AtomicU64>>,
}

impl Progress {
    /// Requests finished so far (warm-up included).
    pub fn finished(&self) -> u64 {
        self.finished
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// Time between the call and the first request, so all threads start together.
const START_DELAY: Duration = Duration::from_millis(20);

/// Runs one step to completion (blocking: call it from a blocking thread).
/// `on_tick` is called about every 100 ms with the elapsed time and the
/// live counters.
pub fn run_step(
    spec: &StepSpec,
    mut on_tick: impl FnMut(Duration, &Progress),
) -> Result<Measurement, EngineError> {
    let connections = spec.schedule.connections();
    if connections == 0 {
        return Err(EngineError::NoConnections);
    }
    if let Schedule::Open { rate, .. } = spec.schedule {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(EngineError::InvalidRate(rate));
        }
    }
    let requests: Vec<PreparedRequest> = spec
        .mix
        .entries()
        .iter()
        .map(|e| PreparedRequest::new(e, &spec.endpoint.host_header))
        .collect::<Result<_, _>>()
        .map_err(EngineError::InvalidRequest)?;
    let labels: Vec<String> = spec.mix.entries().iter().map(|e| e.label.clone()).collect();

    let thread_cpus: Vec<Option<usize>> = if spec.cpus.is_empty() {
        vec![None]
    } else {
        spec.cpus.iter().map(|&c| Some(c)).collect()
    };
    let threads = thread_cpus.len().min(connections as usize).max(1);
    let origin = Instant::now() + START_DELAY;
    // Offsets are from `origin`, which is START_DELAY in the future.
    let stop = Stop {
        window_start: spec.warmup,
        window_end: spec.warmup + spec.duration,
        hard_deadline: spec.warmup + spec.duration + spec.timeout,
        max_requests: spec.max_requests,
    };
    let progress = Progress {
        finished: (0..threads).map(|_| Arc::new(AtomicU64::new(0))).collect(),
    };
    let measured_started = Arc::new(AtomicU64::new(0));
    let open = matches!(spec.schedule, Schedule::Open { .. });

    let (recorders, cpu) = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for (t, cpu) in thread_cpus.iter().take(threads).enumerate() {
            let share =
                connections as usize / threads + usize::from(t < connections as usize % threads);
            let pacer = match spec.schedule {
                Schedule::Closed { .. } => Pacer::Closed,
                Schedule::Open { rate, .. } => {
                    // Thread t takes every `threads`-th slot of the global schedule.
                    let global = Duration::from_secs_f64(1.0 / rate);
                    Pacer::open(global * t as u32, global * threads as u32, stop.window_end)
                }
            };
            let ctx = ThreadCtx {
                origin,
                addr: spec.endpoint.addr,
                mix: spec.mix.clone(),
                requests: requests.clone(),
                timeout: spec.timeout,
                seed: spec.seed.wrapping_add(t as u64),
                stop,
                pacer,
                recorder: RefCell::new(Recorder::new(&labels, open, spec.duration)),
                finished: progress.finished[t].clone(),
                measured_started: measured_started.clone(),
            };
            let cpu = *cpu;
            let handle = std::thread::Builder::new()
                .name(format!("bakeoff-gen-{t}"))
                .spawn_scoped(scope, move || generator_thread(ctx, share, cpu))
                .map_err(EngineError::Thread)?;
            handles.push(handle);
        }
        std::thread::sleep(origin.saturating_duration_since(Instant::now()) + spec.warmup);
        let cpu_start = process_cpu_time();
        while !handles.iter().all(|h| h.is_finished()) {
            on_tick(origin.elapsed(), &progress);
            std::thread::sleep(Duration::from_millis(100));
        }
        let cpu = process_cpu_time().saturating_sub(cpu_start);
        let recorders: Result<Vec<Recorder>, EngineError> = handles
            .into_iter()
            .map(|h| h.join().map_err(|_| EngineError::Panicked)?)
            .collect();
        Ok::<_, EngineError>((recorders?, cpu))
    })?;

    let mut merged = Recorder::new(&labels, open, spec.duration);
    for r in &recorders {
        merged += r;
    }
    Ok(merged.finish(spec.duration, cpu))
}

/// Body of one generator thread: pin, run the workers on a local runtime,
/// hand back the recorder.
fn generator_thread(
    ctx: ThreadCtx,
    connections: usize,
    cpu: Option<usize>,
) -> Result<Recorder, EngineError> {
    if let Some(cpu) = cpu {
        // Pinning is best effort: a CPU outside the allowed set leaves the
        // thread where the OS puts it rather than failing the step.
        let _ = pin_current_thread(&[cpu]);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(EngineError::Thread)?;
    let ctx = Rc::new(ctx);
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let workers: Vec<_> = (0..connections)
            .map(|i| tokio::task::spawn_local(worker::worker(ctx.clone(), i as u64)))
            .collect();
        for w in workers {
            // A worker only ends by returning; a panic inside it is a bug
            // that the join below turns into EngineError::Panicked.
            if w.await.is_err() {
                return Err(EngineError::Panicked);
            }
        }
        Ok(())
    })?;
    drop(runtime);
    let ctx = Rc::try_unwrap(ctx).map_err(|_| EngineError::Panicked)?;
    Ok(ctx.recorder.into_inner())
}
