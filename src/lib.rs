//! bakeoff: a load-test harness that runs reference Node.js and Django apps
//! side by side, measures them with HDR histograms and says which popular
//! claims about them hold.
//!
//! The binary (`src/main.rs`) only parses the command line and maps the
//! [`Outcome`] of [`run`] to an exit code; everything else lives here so
//! tests can drive it in-process.

pub mod alloc;
pub mod analysis;
pub mod check;
pub mod claims;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod cpus;
pub mod duration;
pub mod engine;
pub mod env;
pub mod gates;
pub mod measure;
pub mod merge;
pub mod model;
pub mod plot;
pub mod progress;
pub mod report;
pub mod results;
pub mod runner;
pub mod scalability;
pub mod stats;
pub mod stdout;
pub mod suite;
pub mod targets;
pub mod trend;
pub mod units;
pub mod variants;

pub use cli::Cli;

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything ran and every gate passed: exit 0.
    Ok,
    /// Everything ran but a gate failed (threshold, regression, refuted
    /// claim): exit 1.
    GateFailed,
    /// Stopped by Ctrl-C or SIGTERM after saving what was measured: exit 130.
    Interrupted,
}

/// Runs one parsed command line. Errors map to exit code 2.
pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    commands::dispatch(cli).await
}
