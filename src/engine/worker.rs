//! THE worker loop. Every request bakeoff measures goes through
//! [`worker`]; the closed and open models differ only in the [`Pacer`]
//! that hands out send times, and the stop condition is data, not code.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::client::{Connection, PreparedRequest};
use super::clock::Clock;
use super::mix::{Mix, SplitMix64};
use super::profile::{Curve, Positions};
use super::tls::Transport;
use crate::measure::ErrorKind;
use crate::measure::{Recorder, Sample};

/// After a transport error (refused, reset, timeout), a worker waits before
/// its next attempt: this long after the first error, doubling with each
/// further error in a row up to [`MAX_BACKOFF`]. A dying or resetting server
/// thus sees at most 100 new connections per second per worker, falling to
/// 1 per second, instead of a reconnect storm; a success resets it.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest wait between a worker's reconnect attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Wait before the next attempt after `failures` transport errors in a row.
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    (FIRST_BACKOFF * (1u32 << doublings)).min(MAX_BACKOFF)
}

/// When to stop, as offsets from the step's time origin.
#[derive(Debug, Clone, Copy)]
pub struct Stop {
    /// End of warm-up = start of the measured window.
    pub window_start: Duration,
    /// End of the measured window: no new request is started after it.
    pub window_end: Duration,
    /// Past this, even overdue open-model requests are not sent any more.
    pub hard_deadline: Duration,
    /// Optional bound on requests started in the measured window.
    pub max_requests: Option<u64>,
}

/// Never-sent requests a thread places in the timeline one by one when it
/// abandons its schedule at the deadline; the rest are counted in bulk.
const PLACED_UNSENT_MAX: u64 = 1_000_000;

/// Hands out send times.
#[derive(Debug)]
pub enum Pacer {
    /// Send as soon as the previous response arrived.
    Closed,
    /// Send global ticket g at the time its position on the arrival curve
    /// gives (`Curve::time_at`); this thread takes tickets `first`,
    /// `first + stride`, … (threads stripe one global schedule). Any idle
    /// connection takes the next ticket, so a stalled connection does not
    /// delay the schedule of the others.
    Open {
        curve: Arc<Curve>,
        positions: Positions,
        first: u64,
        stride: u64,
        /// This thread's next ticket, counted in its stripe.
        next: Cell<u64>,
        /// Set once the schedule is over (or abandoned at the deadline).
        done: Cell<bool>,
    },
}

impl Pacer {
    pub fn open(curve: Arc<Curve>, positions: Positions, first: u64, stride: u64) -> Pacer {
        Pacer::Open {
            curve,
            positions,
            first,
            stride,
            next: Cell::new(0),
            done: Cell::new(false),
        }
    }
}

/// What the workers of one thread share. Single-threaded: `Rc`/`RefCell`.
pub struct ThreadCtx {
    pub origin: Instant,
    pub addr: SocketAddr,
    pub transport: Transport,
    pub mix: Mix,
    pub requests: Vec<PreparedRequest>,
    pub timeout: Duration,
    pub seed: u64,
    pub stop: Stop,
    pub pacer: Pacer,
    pub recorder: RefCell<Recorder>,
    /// Requests finished by this thread (for progress display).
    pub finished: Arc<AtomicU64>,
    /// Requests started in the measured window, across all threads.
    pub measured_started: Arc<AtomicU64>,
}

impl ThreadCtx {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// The next intended send time, or None when this worker should stop.
    fn next_send(&self) -> Option<Duration> {
        match &self.pacer {
            Pacer::Closed => {
                let now = self.now();
                (now < self.stop.window_end).then_some(now)
            }
            Pacer::Open {
                curve,
                positions,
                first,
                stride,
                next,
                done,
            } => {
                if done.get() {
                    return None;
                }
                let mut k = next.get();
                let Some(t) = curve.time_at(positions.at(first + k * stride)) else {
                    done.set(true);
                    return None;
                };
                if self.now() >= self.stop.hard_deadline {
                    // The rest of this thread's schedule is never sent:
                    // counted, and offered in the timeline at its times;
                    // past PLACED_UNSENT_MAX of them, the rest is counted
                    // in bulk, so abandoning even a huge schedule is quick.
                    let mut recorder = self.recorder.borrow_mut();
                    let mut t = Some(t);
                    let mut placed = 0;
                    while let Some(secs) = t {
                        if placed == PLACED_UNSENT_MAX {
                            let g = first + k * stride;
                            recorder.record_unsent_bulk(curve.tickets_left(positions, g, *stride));
                            break;
                        }
                        let at = Duration::from_secs_f64(secs);
                        recorder.record_unsent(at.checked_sub(self.stop.window_start));
                        placed += 1;
                        k += 1;
                        t = curve.time_at(positions.at(first + k * stride));
                    }
                    done.set(true);
                    return None;
                }
                next.set(k + 1);
                Some(Duration::from_secs_f64(t))
            }
        }
    }

    /// Counts a measured request against `max_requests`; false when the
    /// bound is reached.
    fn admit(&self, intended: Duration) -> bool {
        match self.stop.max_requests {
            Some(max) if intended >= self.stop.window_start => {
                self.measured_started.fetch_add(1, Ordering::Relaxed) < max
            }
            _ => true,
        }
    }
}

/// The HTTP/2 connection `--streams` workers share: the first to find it
/// missing or closed opens it, the others wait and take a handle on it.
pub type SharedConnection = tokio::sync::Mutex<Option<Connection>>;

/// One connection's loop (one stream's, when `shared` is an HTTP/2
/// connection of several): take a send time, pick a request, send it on a
/// keep-alive connection (reconnecting when needed), record the outcome.
/// `clock` paces the open model (None in the closed model).
pub async fn worker(
    ctx: Rc<ThreadCtx>,
    clock: Option<Rc<Clock>>,
    id: u64,
    shared: Option<Rc<SharedConnection>>,
) {
    let mut rng = SplitMix64::new(ctx.seed ^ id.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    let mut conn: Option<Connection> = None;
    let mut failures: u32 = 0;
    // Every thread starts at the shared origin (the open model's clock waits
    // for its first send time anyway): before it, `now()` would read 0 and
    // a closed-model request would be timed from a clock not yet running.
    if clock.is_none() {
        tokio::time::sleep_until(ctx.origin.into()).await;
    }
    // The request timeout: one timer per connection, moved forward before
    // each request. A later deadline only updates the registered entry
    // (tokio's `extend_expiration`), so a request costs no timer insertion
    // and removal, as a fresh `tokio::time::timeout` each time would.
    let deadline = tokio::time::sleep_until((ctx.origin + ctx.timeout).into());
    tokio::pin!(deadline);
    while let Some(intended) = ctx.next_send() {
        // The send is due at the later of its schedule and the moment this
        // connection became free for it (in the closed model, both are now).
        let ready = match &clock {
            Some(clock) => {
                let ready = intended.max(ctx.now());
                clock.sleep_until(ctx.origin + intended).await;
                ready
            }
            None => intended,
        };
        if !ctx.admit(intended) {
            break;
        }
        let entry = ctx.mix.pick(&mut rng);
        let request = &ctx.requests[entry];
        let sent = ctx.now();
        deadline
            .as_mut()
            .reset((ctx.origin + sent + ctx.timeout).into());
        let outcome = tokio::select! {
            biased;
            result = exchange(&ctx, &mut conn, shared.as_deref(), request, sent) => Ok(result),
            () = &mut deadline => Err(()),
        };
        let done = ctx.now();
        let (status, error) = match outcome {
            Ok(Ok(code)) => (
                Some(code),
                (code != request.expect_status).then_some(ErrorKind::HttpStatus),
            ),
            Ok(Err(kind)) => (None, Some(kind)),
            Err(()) => (None, Some(ErrorKind::Timeout)),
        };
        let transport_error = matches!(error, Some(k) if k != ErrorKind::HttpStatus);
        if transport_error {
            // The connection's state is unknown after a transport failure.
            conn = None;
            failures += 1;
        } else {
            failures = 0;
        }
        let w = ctx.stop.window_start;
        if intended >= w {
            ctx.recorder.borrow_mut().record(Sample {
                entry,
                intended: intended - w,
                ready: ready.saturating_sub(w),
                sent: sent.saturating_sub(w),
                done: done.saturating_sub(w),
                status,
                error,
            });
        }
        ctx.finished.fetch_add(1, Ordering::Relaxed);
        if transport_error {
            let left = ctx.stop.window_end.saturating_sub(ctx.now());
            tokio::time::sleep(backoff(failures).min(left)).await;
        }
    }
}

async fn exchange(
    ctx: &ThreadCtx,
    conn: &mut Option<Connection>,
    shared: Option<&SharedConnection>,
    req: &PreparedRequest,
    now: Duration,
) -> Result<u16, ErrorKind> {
    let live = match conn.take() {
        Some(c) if c.is_open(now) => c,
        _ => match shared {
            None => open(ctx).await?,
            Some(shared) => {
                let mut slot = shared.lock().await;
                match slot
                    .as_ref()
                    .filter(|c| c.is_open(now))
                    .and_then(Connection::share)
                {
                    Some(mine) => mine,
                    None => {
                        let c = open(ctx).await?;
                        // A server that chose HTTP/1.1 by ALPN gets one
                        // connection per worker after all.
                        match c.share() {
                            Some(mine) => {
                                *slot = Some(c);
                                mine
                            }
                            None => c,
                        }
                    }
                }
            }
        },
    };
    let c = conn.insert(live);
    c.send(req, now).await
}

/// Opens a connection and records its set-up time (TCP connect, TLS and
/// HTTP/2 handshakes) in the connect histogram, warm-up included.
async fn open(ctx: &ThreadCtx) -> Result<Connection, ErrorKind> {
    let start = Instant::now();
    let c = Connection::open(ctx.addr, &ctx.transport).await?;
    ctx.recorder.borrow_mut().record_connect(start.elapsed());
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_error_and_is_capped() {
        assert_eq!(backoff(1), FIRST_BACKOFF);
        assert_eq!(backoff(2), FIRST_BACKOFF * 2);
        assert_eq!(backoff(4), FIRST_BACKOFF * 8);
        assert_eq!(backoff(8), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
