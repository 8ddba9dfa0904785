//! The lifecycle of one step as events, reported to a [`StepObserver`]:
//! warm-up started, measured window started (with its `Instant`), ticks
//! of progress, finished. Whoever runs a step and needs to act on its
//! phases (start the server sampler on the window, draw a progress bar)
//! observes it instead of guessing the engine's timing. Modelled on
//! criterion's `Report` lifecycle hooks, fanned out by a tuple.

use std::time::{Duration, Instant};

use crate::measure::Measurement;

/// One moment of a step's life, in this order: `WarmupStarted`, then
/// `WindowStarted` (both at once when there is no warm-up), `Tick`s
/// throughout, `Finished` last. A step cancelled before its window never
/// reports `WindowStarted`.
#[derive(Debug)]
pub enum StepEvent<'a> {
    /// The first requests are being sent; the warm-up runs until `at + warmup`.
    WarmupStarted { at: Instant },
    /// The measured window starts at `at`: what is sent from now on counts.
    WindowStarted { at: Instant },
    /// About every 50 ms: time since the warm-up started and requests
    /// finished so far (warm-up included).
    Tick { elapsed: Duration, requests: u64 },
    /// The step ended with this measurement.
    Finished { measurement: &'a Measurement },
}

/// Receives the events of a step. Called on the thread that runs the step,
/// so it must be quick (a progress bar, a channel send).
pub trait StepObserver: Send {
    fn on_event(&mut self, event: &StepEvent<'_>);
}

impl<F: FnMut(&StepEvent<'_>) + Send> StepObserver for F {
    fn on_event(&mut self, event: &StepEvent<'_>) {
        self(event)
    }
}

/// Both observers see every event, `.0` first.
impl<A: StepObserver, B: StepObserver> StepObserver for (A, B) {
    fn on_event(&mut self, event: &StepEvent<'_>) {
        self.0.on_event(event);
        self.1.on_event(event);
    }
}

/// Ignores every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl StepObserver for NoObserver {
    fn on_event(&mut self, _: &StepEvent<'_>) {}
}

/// Sends the window's start once, on `WindowStarted`, through a oneshot
/// channel: how an async caller learns the measured window began.
#[derive(Debug)]
pub struct WindowSignal(Option<tokio::sync::oneshot::Sender<Instant>>);

impl WindowSignal {
    /// The observer and the receiving end. The receiver errors if the step
    /// ended without a window (cancelled during warm-up).
    pub fn new() -> (Self, tokio::sync::oneshot::Receiver<Instant>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (WindowSignal(Some(tx)), rx)
    }
}

impl StepObserver for WindowSignal {
    fn on_event(&mut self, event: &StepEvent<'_>) {
        if let StepEvent::WindowStarted { at } = event {
            if let Some(tx) = self.0.take() {
                // Nobody listening any more is not this observer's problem.
                let _ = tx.send(*at);
            }
        }
    }
}
