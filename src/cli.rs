//! Command-line interface: clap derive structs only. Parsing of durations,
//! rates and headers into typed values happens here; what each command does
//! lives in `commands/`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "bakeoff",
    version,
    about = "Run reference Node.js and Django apps side by side, load them, and test claims about them",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the targets, run a suite against them, write results and reports, stop everything.
    Run(RunArgs),
    /// Ad-hoc load against one URL (like wrk or oha).
    Load(LoadArgs),
    /// Start PostgreSQL and the targets of a suite and keep them up until Ctrl-C.
    Up(UpArgs),
    /// Start the targets and verify every endpoint of the API contract on each.
    Check(CheckArgs),
    /// Regenerate charts and reports of a run directory (or a results file).
    Report(ReportArgs),
    /// Compare a run against a baseline; exit 1 on a regression.
    Compare(CompareArgs),
    /// Evaluate the claims against a run; prints a verdict table.
    Verify(VerifyArgs),
}

/// Where the targets of a run come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TargetsMode {
    /// Local processes started by bakeoff, with a private PostgreSQL (the default).
    #[default]
    Local,
    /// `docker compose up` with docker-compose.yml (needs a Docker engine).
    Compose,
    /// Already-running targets given in the suite or by `--url NAME=URL`.
    External,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    #[default]
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite file (TOML). Default: the embedded suites/default.toml.
    pub suite: Option<PathBuf>,
    /// Use suites/quick.toml (or shorten the given suite to quick settings).
    #[arg(long)]
    pub quick: bool,
    /// Only these targets (comma-separated variant names).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Only these scenarios (repeatable).
    #[arg(long)]
    pub scenario: Vec<String>,
    /// Run each step N times, interleaving targets.
    #[arg(long)]
    pub repeat: Option<u32>,
    /// Output directory (default: results/<timestamp>/, with results/latest pointing at it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the targets come from.
    #[arg(long, value_enum, default_value_t = TargetsMode::Local)]
    pub targets: TargetsMode,
    /// External target URL, NAME=URL (repeatable; implies nothing about --targets).
    #[arg(long = "url", value_name = "NAME=URL")]
    pub urls: Vec<String>,
    /// Allow target URLs that are not on loopback.
    #[arg(long)]
    pub allow_remote: bool,
}

#[derive(Debug, Args, Clone)]
pub struct LoadArgs {
    /// URL to load, e.g. http://127.0.0.1:3000/json
    pub url: String,
    /// Concurrent connections (closed model), or the connection pool (open model).
    #[arg(short = 'c', long, default_value_t = 64)]
    pub connections: u32,
    /// Measured duration, e.g. 10s, 500ms, 2m.
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Warm-up before measuring (requests sent but discarded).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Stop after this many measured requests (the duration still bounds the run).
    #[arg(short = 'n', long = "requests")]
    pub requests: Option<u64>,
    /// Open model: total requests per second on a fixed schedule.
    #[arg(long)]
    pub rate: Option<f64>,
    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,
    /// Extra request header, "Name: value" (repeatable).
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Request body.
    #[arg(long)]
    pub body: Option<String>,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Label of the target in results (default host:port).
    #[arg(long)]
    pub name: Option<String>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Write a results file (same schema as `run`) here.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Write the latency histogram in HdrHistogram's .hgrm text format here.
    #[arg(long)]
    pub hgrm: Option<PathBuf>,
    /// Allow a URL whose host is not loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// Pin the generator to these CPUs (comma-separated), e.g. 1.
    #[arg(long, value_delimiter = ',')]
    pub cpus: Vec<usize>,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Suite whose targets to start (default: all four variants).
    pub suite: Option<PathBuf>,
    /// Only these targets (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print one JSON line with the URLs once everything is healthy.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Suite whose targets to check (default: all four variants).
    pub suite: Option<PathBuf>,
    /// Only these targets (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Check already-running targets instead, NAME=URL (repeatable).
    #[arg(long = "url", value_name = "NAME=URL")]
    pub urls: Vec<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory (containing results.json) or a results file.
    pub run: PathBuf,
    /// Where to write the reports (default: the run directory, or beside the file).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Claims file for the verdict table (default: the embedded suites/claims.toml).
    #[arg(long)]
    pub claims: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline run directory or results file.
    pub baseline: PathBuf,
    /// Current run directory or results file.
    pub current: PathBuf,
    /// Regression threshold in percent ("10" and "10%" both mean 10 percent).
    #[arg(long, default_value = "5", value_parser = parse_percent)]
    pub threshold: f64,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Run directory or results file.
    pub run: PathBuf,
    /// Claims file (default: the embedded suites/claims.toml).
    #[arg(long)]
    pub claims: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
}

/// Parses "10s", "500ms", "2m", "1h", or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("invalid duration {s:?}: {e} (try 10s, 500ms, 2m)"))
}

/// Parses "10" or "10%" as 10 percent.
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%').trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("invalid percentage {s:?} (try 5 or 5%)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_and_percents() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("fast").is_err());
        assert_eq!(parse_percent("10%").unwrap(), 10.0);
        assert_eq!(parse_percent("10").unwrap(), 10.0);
        assert!(parse_percent("-3").is_err());
    }
}
