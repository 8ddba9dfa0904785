//! Ctrl-C and SIGTERM for the commands that send load. The first signal
//! asks the running step to stop and keeps what was measured; a second one
//! makes the command give up waiting (children are still stopped by the
//! drop guards of whoever started them).

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Both stop signals, registered once so none is missed between two waits.
pub struct StopSignals {
    streams: Option<(Signal, Signal)>,
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
}

impl Default for StopSignals {
    fn default() -> Self {
        Self::new()
    }
}
