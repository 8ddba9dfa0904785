//! Command-line interface: clap derive structs only. Parsing of durations,
//! rates, counts and headers into typed, bounded values happens here (clap
//! value parsers, so a bad value is refused with the flag and the value
//! named, exit 2, before any command runs); what each command does lives
//! in `commands/`. The bounds themselves are `suite::bounds`'.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use http::{HeaderName, HeaderValue, Method};

use crate::report::format::OutputSpec;
use crate::suite::bounds::{
    DEFAULT_MAX_CONNECTIONS, MAX_PUBLISHERS, MAX_RATE, MAX_STEP_DURATION, MAX_SUBSCRIBERS,
};

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
    Load(Box<LoadArgs>),
    /// WebSocket fan-out: subscribers, publishers at a rate; delivery latency, loss, drops.
    Fanout(Box<FanoutArgs>),
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
    /// Merge shard results (files of `load --output`, run directories) into one run directory.
    Merge(MergeArgs),
    /// Fit the Universal Scalability Law (and a hard-cap model) to a CSV of concurrency,throughput.
    Fit(FitArgs),
    /// Compare each of several runs with the one before it; charts and a page of how steps moved.
    Trend(TrendArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Directory to write the merged results.json into.
    pub out_dir: PathBuf,
    /// The shards' results files or run directories.
    #[arg(required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
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
    #[arg(long, value_parser = parse_repeat)]
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
    /// Run shard K of N (0-based) of the load: every N-th open-model arrival, 1/N of the connections. Needs --start-at.
    #[arg(long, value_name = "K/N", requires = "start_at")]
    pub shard: Option<String>,
    /// Shared start time of the shards: RFC 3339 (2026-12-01T22:00:00.000Z) or Unix seconds.
    #[arg(long, value_name = "TIME", requires = "shard")]
    pub start_at: Option<String>,
    /// Refuse a suite whose steps open more connections than this.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = parse_max_connections)]
    pub max_connections: u32,
    /// Write the threshold gates as JUnit XML here (one test case per gate).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// TLS and HTTP/2 for https:// (external) targets.
    #[command(flatten)]
    pub transport: TransportArgs,
}

#[derive(Debug, Args, Clone)]
pub struct FanoutArgs {
    /// ws:// URL of a broadcast endpoint on loopback, e.g. ws://127.0.0.1:3000/ws/fanout
    pub url: String,
    /// Subscriber connections, opened before publishing starts.
    #[arg(short = 's', long, default_value_t = 100, allow_hyphen_values = true, value_parser = parse_subscribers)]
    pub subscribers: u32,
    /// Publishing connections, among the subscribers (each also receives).
    #[arg(long, default_value_t = 1, allow_hyphen_values = true, value_parser = parse_publishers)]
    pub publishers: u32,
    /// Messages per second, all publishers together.
    #[arg(long, default_value = "10", allow_hyphen_values = true, value_parser = parse_message_rate)]
    pub rate: f64,
    /// How long the publishers publish (the measured window).
    #[arg(short = 'd', long, default_value = "10s", allow_hyphen_values = true, value_parser = parse_step_duration)]
    pub duration: Duration,
    /// Subscribers connected per second before publishing.
    #[arg(long, default_value = "500", allow_hyphen_values = true, value_parser = parse_connect_rate)]
    pub connect_rate: f64,
    /// How long subscribers keep reading after the window (later deliveries are lost).
    #[arg(long, default_value = "1s", allow_hyphen_values = true, value_parser = parse_warmup)]
    pub drain: Duration,
    /// Bound on each connect, handshake and publish.
    #[arg(long, default_value = "10s", allow_hyphen_values = true, value_parser = parse_step_duration)]
    pub timeout: Duration,
    /// Label of the target in results (default host:port).
    #[arg(long)]
    pub name: Option<String>,
    /// Output format, optionally to a file: text (default), json, markdown, html, csv.
    #[arg(long = "format", value_name = "FORMAT[=PATH]", value_parser = crate::report::format::parse_output)]
    pub format: Vec<OutputSpec>,
    /// Write a results.json with this one step (`bakeoff report` reads it).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Pin generator threads to these CPUs (one thread per CPU).
    #[arg(long, value_delimiter = ',', value_parser = parse_cpu)]
    pub cpus: Vec<usize>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

/// `fanout --subscribers`: 1 ..= [`MAX_SUBSCRIBERS`].
pub fn parse_subscribers(s: &str) -> Result<u32, String> {
    let n = parse_count_u32(s, "subscribers")?;
    if n > MAX_SUBSCRIBERS {
        return Err(format!(
            "{s:?} is above the most subscribers, {MAX_SUBSCRIBERS} (one loopback address has about 28,000 client ports)"
        ));
    }
    Ok(n)
}

/// `fanout --publishers`: 1 ..= `engine::fanout::MAX_PUBLISHERS` (the
/// command checks it is not above `--subscribers`).
pub fn parse_publishers(s: &str) -> Result<u32, String> {
    let n = parse_count_u32(s, "publishers")?;
    if n > MAX_PUBLISHERS {
        return Err(format!(
            "{s:?} is above the most publishers, {MAX_PUBLISHERS}"
        ));
    }
    Ok(n)
}

/// `fanout --rate`: messages per second, greater than 0, at most [`MAX_RATE`].
pub fn parse_message_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= f64::from(MAX_RATE) => Ok(r),
        _ => Err(format!(
            "{s:?} is not a rate: give messages per second greater than 0 and at most {MAX_RATE}, e.g. 20"
        )),
    }
}

/// `fanout --connect-rate`: connections per second, greater than 0.
pub fn parse_connect_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= f64::from(MAX_RATE) => Ok(r),
        _ => Err(format!(
            "{s:?} is not a rate: give connections per second greater than 0, e.g. 500"
        )),
    }
}

#[derive(Debug, Args, Clone)]
pub struct LoadArgs {
    /// URL to load, e.g. http://127.0.0.1:3000/json
    pub url: String,
    /// Concurrent connections (closed model), or the connection pool (open model).
    #[arg(short = 'c', long, default_value_t = 64, allow_hyphen_values = true, value_parser = parse_connections)]
    pub connections: u32,
    /// Refuse more connections than this (-c above it is an error).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = parse_max_connections)]
    pub max_connections: u32,
    /// Measured duration, e.g. 10s, 500ms, 2m (more than 0, at most 24h).
    #[arg(short = 'd', long, default_value = "10s", allow_hyphen_values = true, value_parser = parse_step_duration)]
    pub duration: Duration,
    /// Warm-up before measuring (requests sent but discarded); 0 disables
    /// it. Default 1s, or 0 with --stages (whose first stage can warm up).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_warmup)]
    pub warmup: Option<Duration>,
    /// Stop after this many measured requests (the duration still bounds the run).
    #[arg(short = 'n', long = "max-requests", visible_alias = "requests", value_name = "N", allow_hyphen_values = true, value_parser = parse_max_requests)]
    pub requests: Option<u64>,
    /// Open model: total requests per second on a fixed schedule.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Open model with a rate profile: DURATION:RATE stages, the rate
    /// moving linearly to each stage's RATE over its DURATION, e.g.
    /// 10s:200,2s:2000,10s:2000,2s:200 (the measured duration is their sum).
    #[arg(long, value_name = "DURATION:RATE,...", allow_hyphen_values = true, conflicts_with_all = ["rate", "duration"], value_parser = parse_stages)]
    pub stages: Option<StageList>,
    /// With --stages: the rate the first stage starts from (default: its own rate).
    #[arg(long, value_name = "R", allow_hyphen_values = true, requires = "stages", value_parser = parse_start_rate)]
    pub start_rate: Option<f64>,
    /// Open model: how arrivals are spread, on a fixed grid (uniform, the
    /// default) or a seeded Poisson process (poisson).
    #[arg(long, value_enum, value_name = "KIND")]
    pub arrivals: Option<ArrivalsArg>,
    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET", value_parser = parse_method)]
    pub method: String,
    /// Extra request header, "Name: value" (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<Header>,
    /// Request body.
    #[arg(long)]
    pub body: Option<String>,
    /// Per-request timeout (more than 0, at most 24h).
    #[arg(long, default_value = "10s", allow_hyphen_values = true, value_parser = parse_step_duration)]
    pub timeout: Duration,
    /// Label of the target in results (default host:port).
    #[arg(long)]
    pub name: Option<String>,
    /// Output format: text, markdown, html, csv or json, on stdout or with
    /// =PATH in a file (repeatable; default: text on stdout).
    #[arg(long = "format", value_name = "FORMAT[=PATH]", value_parser = crate::report::format::parse_output)]
    pub format: Vec<OutputSpec>,
    /// Write a results file (same schema as `run`) here.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Write the latency histogram in HdrHistogram's .hgrm text format here.
    #[arg(long)]
    pub hgrm: Option<PathBuf>,
    /// Allow a URL whose host is not loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// Run shard K of N (0-based) of the load: every N-th open-model arrival, 1/N of the connections. Needs --start-at.
    #[arg(long, value_name = "K/N", requires = "start_at")]
    pub shard: Option<String>,
    /// Shared start time of the shards: RFC 3339 (2026-12-01T22:00:00.000Z) or Unix seconds.
    #[arg(long, value_name = "TIME", requires = "shard")]
    pub start_at: Option<String>,
    /// Pin the generator to these CPUs (comma-separated), e.g. 1.
    #[arg(long, value_delimiter = ',', value_parser = parse_cpu)]
    pub cpus: Vec<usize>,
    #[command(flatten)]
    pub transport: TransportArgs,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// TLS flags (`load`, `run` against external targets, `check`).
#[derive(Debug, Args, Clone, Default)]
pub struct TlsArgs {
    /// PEM file of CA certificates to trust for https:// URLs, besides the
    /// system's.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify TLS certificates (self-signed test servers); said on
    /// stderr and recorded in results.
    #[arg(long)]
    pub insecure: bool,
}

/// TLS and HTTP/2 flags of the load generator (`load`, `run`).
#[derive(Debug, Args, Clone)]
pub struct TransportArgs {
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Speak HTTP/2: offered by ALPN over TLS, prior knowledge (h2c) in
    /// cleartext. HTTP/1.1 stays the default.
    #[arg(long)]
    pub http2: bool,
    /// Concurrent requests (streams) per HTTP/2 connection; needs --http2.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub streams: u32,
    /// The HTTP/1.1 client over cleartext TCP: lean (rendered requests,
    /// httparse, no buffer per idle connection) or hyper. TLS and HTTP/2
    /// always use hyper.
    #[arg(long, value_enum, default_value_t = ClientArg::Lean)]
    pub client: ClientArg,
}

/// `--client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientArg {
    Lean,
    Hyper,
}

/// `--arrivals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArrivalsArg {
    /// Evenly spaced along the rate profile.
    Uniform,
    /// A Poisson process along the rate profile, seeded (runs repeat).
    Poisson,
}

/// `--stages` as given, parsed and bounded (the engine builds the profile).
#[derive(Debug, Clone, PartialEq)]
pub struct StageList {
    /// The flag's value, for messages.
    pub text: String,
    /// (duration, rate at its end) per stage, in order.
    pub stages: Vec<(Duration, f64)>,
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
    /// Where the started targets run: local processes (the default) or
    /// compose services (docker-compose.yml); for running ones, use --url.
    #[arg(long, value_enum, default_value_t = TargetsMode::Local)]
    pub targets: TargetsMode,
    /// Output format: text, markdown, html, csv or json, on stdout or with
    /// =PATH in a file (repeatable; default: text on stdout).
    #[arg(long = "format", value_name = "FORMAT[=PATH]", value_parser = crate::report::format::parse_output)]
    pub format: Vec<OutputSpec>,
    #[command(flatten)]
    pub tls: TlsArgs,
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
    /// Output format: markdown or json, on stdout or with =PATH in a file
    /// (default: markdown on stdout).
    #[arg(long = "format", value_name = "FORMAT[=PATH]", value_parser = crate::report::format::parse_output)]
    pub format: Vec<OutputSpec>,
    /// Write the comparison as JUnit XML here (one test case per step).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TrendArgs {
    /// Run directories or results files, oldest first (at least two; the order given is the order shown).
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// Where to write trend.md, trend.html and charts/.
    #[arg(long, value_name = "DIR", default_value = "results/trend")]
    pub out: PathBuf,
    /// Regression threshold in percent, as for `compare`.
    #[arg(long, default_value = "5", value_parser = parse_percent)]
    pub threshold: f64,
    /// Output format of the summary: text, markdown, html or csv, or the
    /// whole trend as json; on stdout or with =PATH in a file (default: text).
    #[arg(long = "format", value_name = "FORMAT[=PATH]", value_parser = crate::report::format::parse_output)]
    pub format: Vec<OutputSpec>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Run directory or results file.
    pub run: PathBuf,
    /// Claims file (default: the embedded suites/claims.toml).
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// Output format: markdown or json, on stdout or with =PATH in a file
    /// (default: markdown on stdout).
    #[arg(long = "format", value_name = "FORMAT[=PATH]", value_parser = crate::report::format::parse_output)]
    pub format: Vec<OutputSpec>,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// CSV file with a header and the columns `concurrency` and `throughput`
    /// (other columns ignored; rows with the same concurrency are repeats).
    pub file: PathBuf,
    /// Output format: text, markdown, html, csv or json, on stdout or with
    /// =PATH in a file (default: text on stdout).
    #[arg(long = "format", value_name = "FORMAT[=PATH]", value_parser = crate::report::format::parse_output)]
    pub format: Vec<OutputSpec>,
}

/// Parses a flag's duration by the one grammar ([`crate::duration`]):
/// "10s", "500ms", "2m", "1h", or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s, crate::duration::Bare::Seconds)
}

/// A measured duration or timeout: more than zero, at most
/// [`MAX_STEP_DURATION`], so every load ends.
pub fn parse_step_duration(s: &str) -> Result<Duration, String> {
    let d = parse_bounded_duration(s)?;
    if d.is_zero() {
        return Err(format!(
            "{s:?} is zero; give a duration greater than 0, e.g. 10s"
        ));
    }
    Ok(d)
}

/// A warm-up: zero (none) up to [`MAX_STEP_DURATION`].
pub fn parse_warmup(s: &str) -> Result<Duration, String> {
    parse_bounded_duration(s)
}

fn parse_bounded_duration(s: &str) -> Result<Duration, String> {
    if s.trim().starts_with('-') {
        return Err(format!(
            "{s:?} is negative; give a duration such as 10s, 500ms or 2m"
        ));
    }
    let d = parse_duration(s)?;
    if d > MAX_STEP_DURATION {
        return Err(format!(
            "{s:?} is longer than the {}h a step may last",
            MAX_STEP_DURATION.as_secs() / 3600
        ));
    }
    Ok(d)
}

/// A whole number of at least 1 (`what` says what it counts).
fn parse_count(s: &str, what: &str) -> Result<u64, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n >= 1 => u64::try_from(n).map_err(|_| format!("{s:?} is too large")),
        Ok(_) => Err(format!(
            "{s:?} is not a valid number of {what}: it must be at least 1"
        )),
        Err(_) => Err(format!("{s:?} is not a whole number of {what}")),
    }
}

fn parse_count_u32(s: &str, what: &str) -> Result<u32, String> {
    u32::try_from(parse_count(s, what)?).map_err(|_| format!("{s:?} is too large"))
}

/// `-c/--connections`: at least 1 (the cap is checked by the command,
/// which knows `--max-connections`).
pub fn parse_connections(s: &str) -> Result<u32, String> {
    parse_count_u32(s, "connections")
}

/// `--max-connections`: at least 1.
pub fn parse_max_connections(s: &str) -> Result<u32, String> {
    parse_count_u32(s, "connections")
}

/// `-n/--max-requests`: at least 1.
pub fn parse_max_requests(s: &str) -> Result<u64, String> {
    parse_count(s, "requests")
}

/// `--repeat`: at least 1.
pub fn parse_repeat(s: &str) -> Result<u32, String> {
    parse_count_u32(s, "repeats")
}

/// `--rate`: requests per second, more than 0 and at most [`MAX_RATE`].
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= f64::from(MAX_RATE) => Ok(r),
        Ok(r) if r.is_finite() && r > 0.0 => Err(format!(
            "{s:?} is above the highest rate of {MAX_RATE} requests per second"
        )),
        _ => Err(format!(
            "{s:?} is not a rate: give requests per second greater than 0, e.g. 1000"
        )),
    }
}

/// A rate of a stage or `--start-rate`: requests per second, at least 0
/// and at most [`MAX_RATE`].
fn parse_profile_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 && r <= f64::from(MAX_RATE) => Ok(r),
        Ok(r) if r.is_finite() && r >= 0.0 => Err(format!(
            "{s:?} is above the highest rate of {MAX_RATE} requests per second"
        )),
        _ => Err(format!(
            "{s:?} is not a rate: give requests per second of at least 0, e.g. 1000"
        )),
    }
}

/// `--start-rate`: requests per second, at least 0, at most [`MAX_RATE`].
pub fn parse_start_rate(s: &str) -> Result<f64, String> {
    parse_profile_rate(s)
}

/// `--stages`: comma-separated DURATION:RATE pairs; each duration by the
/// one grammar (at least 0), each rate at least 0 and at most
/// [`MAX_RATE`], all together at most [`MAX_STEP_DURATION`]. Whether the
/// profile sends anything is the engine's check (it needs `--start-rate`).
pub fn parse_stages(s: &str) -> Result<StageList, String> {
    if s.trim().is_empty() {
        return Err(format!(
            "{s:?} has no stage; give DURATION:RATE pairs, e.g. 10s:200,2s:2000"
        ));
    }
    let mut stages = Vec::new();
    for (i, pair) in s.split(',').enumerate() {
        let n = i + 1;
        let Some((d, r)) = pair.split_once(':') else {
            return Err(format!(
                "{s:?}: stage {n} {pair:?} is not DURATION:RATE, e.g. 10s:200"
            ));
        };
        let duration = parse_duration(d).map_err(|e| format!("{s:?}: stage {n}: {e}"))?;
        let rate = parse_profile_rate(r).map_err(|e| format!("{s:?}: stage {n}: {e}"))?;
        stages.push((duration, rate));
    }
    let total: Duration = stages.iter().map(|(d, _)| *d).sum();
    if total > MAX_STEP_DURATION {
        return Err(format!(
            "{s:?} lasts {:.0}s, longer than the {}h a step may last",
            total.as_secs_f64(),
            MAX_STEP_DURATION.as_secs() / 3600
        ));
    }
    if total.is_zero() {
        return Err(format!(
            "{s:?} lasts 0s; give stages with a duration, e.g. 10s:200"
        ));
    }
    Ok(StageList {
        text: s.to_string(),
        stages,
    })
}

/// `--cpus`: the index of a CPU this process may run on ([`crate::cpus`]).
pub fn parse_cpu(s: &str) -> Result<usize, String> {
    let allowed = crate::cpus::allowed();
    match s.trim().parse::<usize>() {
        Ok(i) if allowed.contains(&i) => Ok(i),
        _ => Err(format!(
            "{s:?} is not a CPU of this machine available to this process ({})",
            crate::cpus::describe(&allowed)
        )),
    }
}

/// `-m/--method`: an HTTP method token, uppercased.
pub fn parse_method(s: &str) -> Result<String, String> {
    let upper = s.trim().to_ascii_uppercase();
    match Method::from_bytes(upper.as_bytes()) {
        Ok(_) if !upper.is_empty() => Ok(upper),
        _ => Err(format!("{s:?} is not an HTTP method (e.g. GET, POST)")),
    }
}

/// One `-H "Name: value"` request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: HeaderName,
    pub value: HeaderValue,
}

/// `-H/--header`: "Name: value"; the headers bakeoff sets itself are refused.
pub fn parse_header(s: &str) -> Result<Header, String> {
    let Some((name, value)) = s.split_once(':') else {
        return Err(format!(
            "{s:?} has no colon; write a header as \"Name: value\", e.g. \"Accept: application/json\""
        ));
    };
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("{s:?} has an invalid header name {:?}", name.trim()))?;
    if crate::suite::RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(format!(
            "{s:?}: header {name} is set by bakeoff and cannot be overridden"
        ));
    }
    let value = HeaderValue::from_str(value.trim()).map_err(|_| {
        format!("{s:?} has an invalid header value (visible ASCII only, no newlines)")
    })?;
    Ok(Header { name, value })
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

    #[test]
    fn load_values_are_bounded() {
        assert_eq!(parse_step_duration("2s").unwrap(), Duration::from_secs(2));
        for bad in ["0s", "0", "-1s", "-5", "25h", "fast", "inf"] {
            assert!(parse_step_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_warmup("0s").unwrap(), Duration::ZERO);
        assert!(parse_warmup("-1s").unwrap_err().contains("negative"));
        assert_eq!(parse_connections("8").unwrap(), 8);
        for bad in ["0", "-3", "x", "99999999999"] {
            assert!(parse_connections(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_max_requests("10").unwrap(), 10);
        assert!(parse_max_requests("0").is_err());
        assert_eq!(parse_rate("250.5").unwrap(), 250.5);
        for bad in ["0", "-1", "NaN", "inf", "1e12", "x"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_method("post").unwrap(), "POST");
        assert!(parse_method("GE T").is_err());
    }

    #[test]
    fn stages_are_parsed_and_bounded() {
        let list = parse_stages("10s:200, 500ms:2000,2:0").unwrap();
        assert_eq!(
            list.stages,
            vec![
                (Duration::from_secs(10), 200.0),
                (Duration::from_millis(500), 2000.0),
                (Duration::from_secs(2), 0.0),
            ]
        );
        assert!(
            parse_stages("0s:10,1s:10").is_ok(),
            "a zero-length stage is a jump"
        );
        for (bad, needle) in [
            ("", "no stage"),
            ("  ", "no stage"),
            ("10s", "not DURATION:RATE"),
            ("10s:200,", "stage 2"),
            ("-1s:200", "negative"),
            ("10s:-5", "not a rate"),
            ("10s:NaN", "not a rate"),
            ("10s:inf", "not a rate"),
            ("10s:1e9", "highest rate"),
            ("fast:10", "invalid duration"),
            ("20h:10,5h:10", "24h"),
            ("0s:10", "lasts 0s"),
        ] {
            let err = parse_stages(bad).unwrap_err();
            assert!(err.contains(needle), "{bad:?}: {err}");
        }
        assert!(parse_stages("24h:10").is_ok());
        assert_eq!(parse_start_rate("0").unwrap(), 0.0);
        for bad in ["-1", "nan", "1e9", "x"] {
            assert!(parse_start_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_need_a_colon_and_valid_parts() {
        let h = parse_header("X-Trace: abc").unwrap();
        assert_eq!(
            (h.name.as_str(), h.value.to_str().unwrap()),
            ("x-trace", "abc")
        );
        assert!(
            parse_header("X-Trace abc")
                .unwrap_err()
                .contains("no colon")
        );
        assert!(parse_header("Bad Name: v").is_err());
        assert!(
            parse_header("Host: example.com")
                .unwrap_err()
                .contains("set by bakeoff")
        );
    }

    #[test]
    fn format_is_repeatable_with_optional_paths() {
        use crate::report::format::Format;
        let cli = Cli::try_parse_from([
            "bakeoff",
            "check",
            "--format",
            "md",
            "--format",
            "csv=out/c.csv",
        ])
        .unwrap();
        let Command::Check(args) = cli.command else {
            panic!("not check")
        };
        assert_eq!(args.format.len(), 2);
        assert_eq!(args.format[0].format, Format::Markdown);
        assert_eq!(args.format[1].path, Some(PathBuf::from("out/c.csv")));
        let err = Cli::try_parse_from(["bakeoff", "verify", "run/", "--format", "xml"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected one of: text, markdown, html, csv, json"),
            "{err}"
        );
    }

    #[test]
    fn max_requests_keeps_its_old_name() {
        for flag in ["--max-requests", "--requests", "-n"] {
            let cli =
                Cli::try_parse_from(["bakeoff", "load", "http://127.0.0.1:1/", flag, "5"]).unwrap();
            let Command::Load(args) = cli.command else {
                panic!("not load")
            };
            assert_eq!(args.requests, Some(5), "{flag}");
        }
    }
}
