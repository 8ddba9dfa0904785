//! The seam between "what to run" and "how a step is measured": a
//! [`StepExecutor`] runs one [`StepSpec`] and hands back a
//! [`Measurement`]. [`Engine`] is the real one (the request loop of this
//! module); [`MockEngine`] answers at once from a rule (a synthetic
//! target's p99 and throughput as functions of the offered load), building
//! its measurement through the real [`Recorder`], so everything downstream
//! (results, SLO search, reports) runs the real code in tests. Modelled on
//! hyperfine's `Executor` / `MockExecutor`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::events::{StepEvent, StepObserver};
use super::{EngineError, Schedule, StepSpec};
use crate::measure::{ErrorKind, GeneratorUsage, Measurement, Recorder, Sample, WindowEnd};

/// What [`StepExecutor::run`] returns.
pub type StepFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Measurement, EngineError>> + Send + 'a>>;

/// Runs one step of a plan. `observer` hears the step's lifecycle
/// ([`StepEvent`]), `Finished` included, before the future resolves.
pub trait StepExecutor: Send + Sync {
    fn run(&self, spec: StepSpec, observer: Box<dyn StepObserver>) -> StepFuture<'_>;
}

/// The real request engine ([`super::run_step`]) on a blocking thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct Engine;

impl StepExecutor for Engine {
    fn run(&self, spec: StepSpec, mut observer: Box<dyn StepObserver>) -> StepFuture<'_> {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || super::run_step(&spec, observer.as_mut()))
                .await
                .map_err(|_| EngineError::Panicked)?
        })
    }
}

/// How the synthetic target of a [`MockEngine`] answers one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MockAnswer {
    /// Successful requests per second.
    pub rps: f64,
    /// Latency of 98 % of the requests.
    pub typical: Duration,
    /// Latency of the slowest 2 %: the step's p99.
    pub p99: Duration,
    /// Every request fails to connect (the target is down).
    pub refused: bool,
}

impl MockAnswer {
    /// A target with a knee at `knee_rps`: below it, everything offered is
    /// served with p99 `p99` (and `p99 / 2` typical); past it, throughput
    /// stays at the knee and p99 is ten times higher. Closed model: the
    /// offered rate is `connections / typical latency` (Little's law); a
    /// profile offers its peak (the mock engine asks second by second).
    pub fn knee(spec: &StepSpec, knee_rps: f64, p99: Duration) -> MockAnswer {
        let typical = p99 / 2;
        let offered = match &spec.schedule {
            Schedule::Open { profile, .. } => profile.peak(),
            Schedule::Closed { connections } => {
                f64::from(*connections) / typical.as_secs_f64().max(1e-6)
            }
            // Deliveries per second: every message to every subscriber.
            Schedule::Fanout {
                subscribers, rate, ..
            } => f64::from(*subscribers) * rate,
        };
        MockAnswer {
            rps: offered.min(knee_rps),
            typical,
            p99: if offered > knee_rps { p99 * 10 } else { p99 },
            refused: false,
        }
    }
}

/// One step the mock was asked to run.
#[derive(Debug, Clone, PartialEq)]
pub struct MockCall {
    pub addr: SocketAddr,
    pub schedule: Schedule,
}

type Rule = dyn Fn(&StepSpec) -> MockAnswer + Send + Sync;
type Hook = dyn Fn(&StepSpec, usize) + Send + Sync;

/// A [`StepExecutor`] that answers immediately from a rule, with real
/// recorders, and remembers what it was asked. It honours `spec.cancel`:
/// a step cancelled before or while it "runs" comes back interrupted, with
/// half its window measured.
pub struct MockEngine {
    rule: Box<Rule>,
    /// Called with each spec and its 0-based call number before the step
    /// is measured (e.g. to cancel the run at the third step).
    before: Option<Box<Hook>>,
    calls: Mutex<Vec<MockCall>>,
}

impl std::fmt::Debug for MockEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockEngine")
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

/// Samples recorded per mock step at most, however high the rate: enough
/// for exact percentiles, cheap enough to keep a test under a millisecond
/// per step.
const MAX_SAMPLES: u64 = 20_000;

impl MockEngine {
    /// A mock whose target answers by `rule`.
    pub fn new(rule: impl Fn(&StepSpec) -> MockAnswer + Send + Sync + 'static) -> Self {
        MockEngine {
            rule: Box::new(rule),
            before: None,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// A target with a knee: up to `knee_rps` it serves everything offered
    /// with p99 `p99`; past it, throughput stays at the knee and p99 is
    /// ten times higher ([`MockAnswer::knee`]).
    pub fn knee(knee_rps: f64, p99: Duration) -> Self {
        Self::new(move |spec| MockAnswer::knee(spec, knee_rps, p99))
    }

    /// Calls `hook(spec, call_number)` before each step is measured.
    pub fn before_each(mut self, hook: impl Fn(&StepSpec, usize) + Send + Sync + 'static) -> Self {
        self.before = Some(Box::new(hook));
        self
    }

    /// Every step asked for so far, in order.
    pub fn calls(&self) -> Vec<MockCall> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// A constant step answers once for its whole window; a profile is
    /// answered second by second, each second as the rule answers a
    /// constant step at that second's offered rate (so a knee below the
    /// surge shows as a slow surge and a quick recovery; the mock keeps no
    /// backlog).
    fn measure(&self, spec: &StepSpec) -> Measurement {
        let open = matches!(spec.schedule, Schedule::Open { .. });
        let labels: Vec<String> = spec.mix.entries().iter().map(|e| e.label.clone()).collect();
        let interrupted = spec.cancel.is_cancelled();
        let window = if interrupted {
            spec.duration / 2
        } else {
            spec.duration
        };
        let mut recorder =
            Recorder::new(&labels, open, spec.duration).with_surge(spec.schedule.surge());
        let slices = match &spec.schedule {
            Schedule::Open {
                profile,
                connections,
                ..
            } if !profile.stage_list().is_empty() => {
                let curve = profile.curve(spec.warmup, spec.warmup + spec.duration);
                let w = spec.warmup.as_secs_f64();
                let seconds = window.as_secs_f64().ceil() as u64;
                (0..seconds)
                    .map(|k| {
                        let (from, to) = (k as f64, ((k + 1) as f64).min(window.as_secs_f64()));
                        let rate = (curve.arrivals_until(w + to) - curve.arrivals_until(w + from))
                            / (to - from);
                        let mut second = spec.clone();
                        second.schedule = Schedule::open(rate.max(1e-3), *connections);
                        let span = (Duration::from_secs_f64(from), Duration::from_secs_f64(to));
                        (span, (self.rule)(&second))
                    })
                    .collect()
            }
            _ => vec![((Duration::ZERO, window), (self.rule)(spec))],
        };
        let per_slice = (MAX_SAMPLES / slices.len().max(1) as u64).max(1);
        for ((from, to), answer) in slices {
            let length = to.saturating_sub(from);
            let n = ((answer.rps * length.as_secs_f64()).round() as u64).clamp(1, per_slice);
            let slow = n / 50;
            for i in 0..n {
                let intended = from + length.mul_f64(i as f64 / n as f64);
                let latency = if i % 50 == 49 && slow > 0 {
                    answer.p99
                } else {
                    answer.typical
                };
                recorder.record(Sample {
                    entry: (i as usize) % labels.len().max(1),
                    intended,
                    ready: intended,
                    sent: intended,
                    done: intended + latency,
                    status: (!answer.refused).then_some(200),
                    error: answer.refused.then_some(ErrorKind::Connect),
                });
            }
        }
        let mut m = recorder.finish(WindowEnd::Elapsed(window), GeneratorUsage::default());
        m.interrupted = interrupted;
        // The mock has no warm-up requests: the population is all it sent.
        m.completed_in_step = m.summary.requests;
        m
    }
}

impl StepExecutor for MockEngine {
    fn run(&self, spec: StepSpec, mut observer: Box<dyn StepObserver>) -> StepFuture<'_> {
        Box::pin(async move {
            let call = {
                let mut calls = self.calls.lock().map_err(|_| EngineError::Panicked)?;
                calls.push(MockCall {
                    addr: spec.endpoint.addr,
                    schedule: spec.schedule.clone(),
                });
                calls.len() - 1
            };
            if let Some(hook) = &self.before {
                hook(&spec, call);
            }
            let now = Instant::now();
            observer.on_event(&StepEvent::WarmupStarted { at: now });
            observer.on_event(&StepEvent::WindowStarted { at: now });
            // Let the caller act on the window's start while the "step runs".
            tokio::task::yield_now().await;
            let m = self.measure(&spec);
            observer.on_event(&StepEvent::Tick {
                elapsed: spec.warmup + spec.duration,
                requests: m.summary.requests,
            });
            observer.on_event(&StepEvent::Finished { measurement: &m });
            Ok(m)
        })
    }
}
