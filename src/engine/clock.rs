//! A per-thread timer with sub-millisecond precision for the open model.
//!
//! tokio's timer wheel works in whole milliseconds and rounds deadlines up,
//! so a request scheduled at 10.3 ms goes out at 11 ms: at 10,000 req/s
//! almost every send would be ~0.5 ms late. This clock arms one Linux
//! `timerfd` (nanosecond resolution) for the earliest pending deadline and
//! wakes every due sleeper when it fires. One timerfd per generator thread;
//! everything here is single-threaded (`Rc`, `RefCell`).
//!
//! Waking costs CPU (on a VM, a timer interrupt and a wake-up are tens of
//! microseconds of system time), so wake-ups are at least [`MIN_WAKE_GAP`]
//! apart: a send is never early, and at most that much late by design.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// The shortest time between two wake-ups of a thread's clock: at high
/// rates, the sends due within it go out together when it fires.
pub const MIN_WAKE_GAP: Duration = Duration::from_micros(250);

/// The thread's precise clock. Create it inside the runtime, then run
/// [`Clock::drive`] as a local task for as long as sleepers may wait.
pub struct Clock {
    fd: AsyncFd<OwnedFd>,
    /// `Instant` and CLOCK_MONOTONIC read together: converts one to the other.
    base: Instant,
    base_mono: Duration,
    /// Pending deadlines, earliest first.
    queue: RefCell<VecDeque<(Instant, Waker)>>,
    /// The deadline the timerfd is armed for, if any.
    armed: RefCell<Option<Instant>>,
    /// When the timerfd last fired.
    last_fire: std::cell::Cell<Option<Instant>>,
}

impl Clock {
    pub fn new() -> io::Result<Rc<Clock>> {
        // SAFETY: timerfd_create returns a new descriptor or -1; on success
        // we are its only owner.
        let fd = unsafe {
            let raw = libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            );
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            OwnedFd::from_raw_fd(raw)
        };
        let base = Instant::now();
        let base_mono = monotonic_now();
        // SAFETY: the OwnedFd is moved into the AsyncFd, so the descriptor
        // stays open and the same for the AsyncFd's whole life.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?;
        Ok(Rc::new(Clock {
            fd,
            base,
            base_mono,
            queue: RefCell::new(VecDeque::new()),
            armed: RefCell::new(None),
            last_fire: std::cell::Cell::new(None),
        }))
    }

    /// Completes at `deadline` (immediately when it has passed).
    pub fn sleep_until(self: &Rc<Self>, deadline: Instant) -> Sleep {
        Sleep {
            clock: self.clone(),
            deadline,
            queued: false,
        }
    }

    /// Wakes due sleepers whenever the timerfd fires. Runs until the task
    /// is dropped or the descriptor fails.
    pub async fn drive(self: Rc<Self>) {
        loop {
            let Ok(mut guard) = self.fd.readable().await else {
                return;
            };
            let mut expirations = [0u8; 8];
            // SAFETY: reading 8 bytes into an 8-byte buffer from our own fd.
            let _ = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    expirations.as_mut_ptr().cast(),
                    expirations.len(),
                )
            };
            guard.clear_ready();
            *self.armed.borrow_mut() = None;
            let now = Instant::now();
            self.last_fire.set(Some(now));
            let mut queue = self.queue.borrow_mut();
            while queue.front().is_some_and(|(d, _)| *d <= now) {
                if let Some((_, waker)) = queue.pop_front() {
                    waker.wake();
                }
            }
            if let Some((next, _)) = queue.front() {
                let next = *next;
                drop(queue);
                self.arm(next);
            }
        }
    }

    fn insert(&self, deadline: Instant, waker: Waker) {
        let mut queue = self.queue.borrow_mut();
        // Tickets are handed out in order, so this is nearly always a push
        // at the back; search from there.
        let at = queue
            .iter()
            .rposition(|(d, _)| *d <= deadline)
            .map_or(0, |i| i + 1);
        queue.insert(at, (deadline, waker));
        let earliest = queue.front().map(|(d, _)| *d);
        drop(queue);
        if let Some(earliest) = earliest {
            let when = self.wake_time(earliest);
            if self.armed.borrow().is_none_or(|armed| when < armed) {
                self.arm(earliest);
            }
        }
    }

    /// When to wake for `deadline`: not before it, and not sooner than
    /// [`MIN_WAKE_GAP`] after the last wake-up.
    fn wake_time(&self, deadline: Instant) -> Instant {
        match self.last_fire.get() {
            Some(last) => deadline.max(last + MIN_WAKE_GAP),
            None => deadline,
        }
    }

    fn arm(&self, deadline: Instant) {
        let deadline = self.wake_time(deadline);
        let mono = self.base_mono + deadline.saturating_duration_since(self.base);
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: mono.as_secs() as libc::time_t,
                // A zero it_value would disarm: never arm for exactly 0.
                tv_nsec: libc::c_long::from(mono.subsec_nanos().max(1) as i32),
            },
        };
        // SAFETY: our own timerfd and a fully initialised itimerspec.
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc == 0 {
            *self.armed.borrow_mut() = Some(deadline);
        }
    }
}

/// The future of [`Clock::sleep_until`].
pub struct Sleep {
    clock: Rc<Clock>,
    deadline: Instant,
    queued: bool,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self.queued {
            self.queued = true;
            self.clock.insert(self.deadline, cx.waker().clone());
        }
        Poll::Pending
    }
}

fn monotonic_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time used so far by the calling thread.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Time the calling thread has spent waiting on a run queue (runnable, but
/// another task had its CPU), from `/proc/thread-self/schedstat`; zero when
/// the kernel does not provide it.
pub fn thread_run_queue_wait() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// Asks the kernel for 1 µs timer slack on the calling thread (default 50 µs).
pub fn tighten_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and affects only the
    // calling thread.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_local_runtime<F: Future>(f: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, f)
    }

    #[test]
    fn sleepers_wake_in_deadline_order_and_not_early() {
        let woke = on_local_runtime(async {
            let clock = Clock::new().unwrap();
            tokio::task::spawn_local(clock.clone().drive());
            let start = Instant::now();
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut tasks = Vec::new();
            // Inserted out of order on purpose.
            for ms in [7u64, 2, 5, 3] {
                let (clock, order) = (clock.clone(), order.clone());
                let deadline = start + Duration::from_millis(ms);
                tasks.push(tokio::task::spawn_local(async move {
                    clock.sleep_until(deadline).await;
                    assert!(Instant::now() >= deadline, "woke before its deadline");
                    assert!(
                        Instant::now() < deadline + Duration::from_millis(500),
                        "woke far too late"
                    );
                    order.borrow_mut().push(ms);
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            order.take()
        });
        assert_eq!(woke, vec![2, 3, 5, 7]);
    }

    #[test]
    fn a_past_deadline_is_ready_at_once() {
        on_local_runtime(async {
            let clock = Clock::new().unwrap();
            // No driver task: a past deadline must not need one.
            clock
                .sleep_until(Instant::now() - Duration::from_millis(1))
                .await;
        });
    }
}
