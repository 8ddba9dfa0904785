//! The one Ctrl-C / SIGTERM handling of every command. Both signals are
//! registered once ([`StopSignals::new`], before anything starts, so none
//! is missed); [`StopSignals::guard`] runs a command's work and, on the
//! first signal, lets it stop in order (the command cancels its step) for
//! a grace period; a second signal, or the grace running out, drops the
//! work, whose drop guards (the lab's) kill whatever it had started.

use std::future::Future;
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Both stop signals, registered once so none is missed between two waits.
pub struct StopSignals {
    streams: Option<(Signal, Signal)>,
}

/// How a guarded piece of work ended.
#[derive(Debug)]
pub enum Stopped<T> {
    /// It ended on its own, no signal came.
    Finished(T),
    /// A signal came and the work then ended within the grace period.
    Drained { signal: &'static str, result: T },
    /// A signal came and the work was dropped: a second signal, or the
    /// grace period ran out (`why` says which).
    Abandoned {
        signal: &'static str,
        why: &'static str,
    },
}

impl StopSignals {
    /// Registers handlers for SIGINT and SIGTERM. Without them (should
    /// registration fail), `next` never resolves: the default disposition
    /// (terminate) applies and the PDEATHSIG/drop backstops clean up.
    pub fn new() -> Self {
        let streams = match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(int), Ok(term)) => Some((int, term)),
            _ => None,
        };
        StopSignals { streams }
    }

    /// Resolves at the next SIGINT or SIGTERM with the signal's name.
    pub async fn next(&mut self) -> &'static str {
        let Some((int, term)) = &mut self.streams else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => "Ctrl-C (SIGINT)",
            _ = term.recv() => "SIGTERM",
        }
    }

    /// Runs `work` to its end unless a signal comes. On the first signal,
    /// `on_signal(name)` runs (cancel the step, say what happens) and
    /// `work` gets `grace` to end by itself (`None`: as long as it takes;
    /// `Some(ZERO)`: it is dropped at once).
    pub async fn guard<T>(
        &mut self,
        work: impl Future<Output = T>,
        on_signal: impl FnOnce(&'static str),
        grace: Option<Duration>,
    ) -> Stopped<T> {
        tokio::pin!(work);
        let signal = tokio::select! {
            result = &mut work => return Stopped::Finished(result),
            signal = self.next() => signal,
        };
        on_signal(signal);
        if grace == Some(Duration::ZERO) {
            return Stopped::Abandoned {
                signal,
                why: "stopped at once",
            };
        }
        let timeout = async {
            match grace {
                Some(g) => tokio::time::sleep(g).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = &mut work => Stopped::Drained { signal, result },
            _ = self.next() => Stopped::Abandoned { signal, why: "interrupted twice" },
            _ = timeout => Stopped::Abandoned { signal, why: "it did not stop within the grace period" },
        }
    }
}

impl Default for StopSignals {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SIGTERM to ourselves reaches the guard: the work is told and, with
    /// no grace, dropped. (Both signals share this one code path.)
    #[tokio::test]
    async fn sigterm_stops_guarded_work() {
        let mut signals = StopSignals::new();
        let mut told = None;
        let work = async {
            // SAFETY: raise has no preconditions; our handler is installed.
            unsafe { libc::raise(libc::SIGTERM) };
            std::future::pending::<()>().await
        };
        let stopped = signals
            .guard(work, |s| told = Some(s), Some(Duration::ZERO))
            .await;
        assert!(
            matches!(
                stopped,
                Stopped::Abandoned {
                    signal: "SIGTERM",
                    ..
                }
            ),
            "{stopped:?}"
        );
        assert_eq!(told, Some("SIGTERM"));
        // With a grace period, work that ends by itself is drained.
        let work = async {
            unsafe { libc::raise(libc::SIGINT) };
            tokio::time::sleep(Duration::from_millis(5)).await;
            7
        };
        let stopped = signals
            .guard(work, |_| {}, Some(Duration::from_secs(5)))
            .await;
        assert!(
            matches!(stopped, Stopped::Drained { result: 7, .. }),
            "{stopped:?}"
        );
    }
}
