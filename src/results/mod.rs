//! The versioned results schema (`results.json`, this file), and beside
//! it, one file per responsibility: atomic save and load (`io.rs`), the
//! histogram codec (`histogram.rs`), the provenance probed from this
//! machine (`provenance.rs`) and the calendar of timestamps
//! (`calendar.rs`), all re-exported here so `crate::results::…` paths
//! name them.
//!
//! Everything after measurement (reports, charts, verdicts, comparisons)
//! reads only this file, so it carries the HDR histograms themselves
//! (V2-deflate, base64) and not just their summaries. This module does not
//! measure anything; `measure` produces the figures stored here.

mod calendar;
mod histogram;
mod io;
mod plan;
mod provenance;

pub use crate::model::Model;
pub use calendar::{now_compact, now_rfc3339, parse_time, rfc3339_millis};
pub use histogram::{decode_histogram, encode_histogram, new_histogram};
pub use io::{resolve, write_atomic};
pub use plan::{MixRecord, PlanRecord, ScenarioRecord, StageRecord, ThresholdRecord};
pub use provenance::local_provenance;

use std::collections::BTreeMap;
use std::path::PathBuf;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change of the file layout.
/// Version 2 (issue "measurement truth"): `rps` is over the measured window,
/// `requests`/`errors`/`error_rate` include unsent open-model requests,
/// latency summaries are `null` when no request succeeded, `server` records
/// `processes` and `db_cpu_s`. Version 1 files used other definitions for
/// the same field names and are refused rather than misread.
pub const SCHEMA_VERSION: u32 = 2;

/// File name of the results inside a run directory.
pub const RESULTS_FILE: &str = "results.json";

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a bakeoff results file: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{path} has schema_version {found}, this bakeoff reads {SCHEMA_VERSION}{}",
        if *found < SCHEMA_VERSION { " (its rps, errors and latency fields were defined differently: re-run it)" } else { "" }
    )]
    Version { path: PathBuf, found: u32 },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("histogram data is corrupt: {0}")]
    Histogram(String),
}

/// A whole run: provenance plus one record per measured step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResults {
    pub schema_version: u32,
    pub provenance: Provenance,
    /// False while a run is in progress or when it was interrupted: the
    /// steps present are valid, but some planned steps are missing.
    pub complete: bool,
    /// The resolved plan the run followed (`run` writes it; absent from
    /// `bakeoff load` files and older runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanRecord>,
    pub steps: Vec<StepRecord>,
}

/// Where, when and with what a run was made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Provenance {
    pub bakeoff_version: String,
    pub git_commit: Option<String>,
    pub host: String,
    /// Online CPUs of the machine.
    pub cores: usize,
    pub os: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub command_line: Vec<String>,
    /// Suite name (or "load" for `bakeoff load`).
    pub suite: String,
    /// local | compose | external | adhoc
    pub targets_mode: String,
    pub cpu_layout: Option<CpuLayout>,
    /// Software versions: node, express, python, django, postgresql, ...
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
    /// Free-form notes (e.g. "generator and targets share the machine").
    #[serde(default)]
    pub notes: Vec<String>,
    /// The reference variants of the targets.toml the run used (names and
    /// chart colours), so reports drawn later draw what the run had; empty
    /// for `bakeoff load` and older files (reports then use the built-in
    /// list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<crate::variants::Variant>,
    /// A shard's part of a load spread over processes (`--shard K/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// A merged run (`bakeoff merge`): the shard results it was made of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<MergedInput>,
}

/// What a shard followed (results/README.md, "Shards and merged runs").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ShardRecord {
    /// Shard `index` (0-based) of `count`.
    pub index: u32,
    pub count: u32,
    /// The shared start time (`--start-at`), RFC 3339 with milliseconds.
    pub start_at: String,
    /// The clock the start time was read on.
    pub clock: String,
    /// SHA-256 (hex) of what every shard must share: the load or the
    /// resolved plan, the shard count and the start time.
    pub plan_hash: String,
}

/// One input of a merged run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct MergedInput {
    /// The file as given to `bakeoff merge`.
    pub path: String,
    pub host: String,
    pub shard: u32,
}

/// Which CPUs the generator and the servers were pinned to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct CpuLayout {
    pub generator: Vec<usize>,
    /// Targets and the database share these.
    pub targets: Vec<usize>,
}

/// One measured step: one target, one scenario, one level, one repeat.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepRecord {
    pub target: String,
    pub scenario: String,
    pub model: Model,
    /// Connections (closed) or offered requests/s (open; a rate profile's
    /// peak).
    pub level: u64,
    /// 0-based repeat index.
    pub repeat: u32,
    pub started_at: String,
    pub summary: Summary,
    /// Per request-mix entry (keyed by its label, e.g. "GET /db").
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointSummary>,
    pub histograms: HistogramSet,
    /// One point per second of the measured window (bounded in length).
    #[serde(default)]
    pub timeline: Vec<TimelinePoint>,
    /// Server-side CPU and memory, when the server's processes were sampled.
    #[serde(default)]
    pub server: Option<ServerUsage>,
    /// The queries the step's requests sent to the database, when the
    /// lab could count them (results/README.md, `database`); absent from
    /// files written before the figure existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<StepQueries>,
    /// Why the figures of this step need care (sorted, no duplicates).
    /// Reports mark flagged steps; `verify` draws no verdict from a step
    /// flagged `interrupted` or `generator_saturated`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<StepFlag>,
}

/// A caveat on one step's figures.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum StepFlag {
    /// Stopped by Ctrl-C or SIGTERM before its window ended: the figures
    /// cover only the part that ran (`summary.duration_s`).
    Interrupted,
    /// The generator, not the target, limited the step (see
    /// `summary.generator.saturated` for why).
    GeneratorSaturated,
    /// Some requests failed (see `summary.errors_by_kind`).
    Errors,
    /// Open model: more than [`UNSENT_FLAG_SHARE`] of the scheduled
    /// requests were never sent (the offered load was not taken).
    Unsent,
}

/// Share of scheduled requests left unsent above which a step is flagged
/// [`StepFlag::Unsent`] (0.1 %).
pub const UNSENT_FLAG_SHARE: f64 = 0.001;

impl StepFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            StepFlag::Interrupted => "interrupted",
            StepFlag::GeneratorSaturated => "generator_saturated",
            StepFlag::Errors => "errors",
            StepFlag::Unsent => "unsent",
        }
    }
    /// True when no verdict may rest on a step with this flag.
    pub fn disqualifies(self) -> bool {
        matches!(self, StepFlag::Interrupted | StepFlag::GeneratorSaturated)
    }
}

impl StepRecord {
    /// A step of `target` on `scenario` at `level`, repeat `repeat`, with
    /// nothing measured yet (empty summary, histograms and timeline; no
    /// server sample, no flag): for building results in code, e.g. tests.
    pub fn new(target: &str, scenario: &str, model: Model, level: u64, repeat: u32) -> Self {
        StepRecord {
            target: target.to_string(),
            scenario: scenario.to_string(),
            model,
            level,
            repeat,
            started_at: String::new(),
            summary: Summary::default(),
            endpoints: BTreeMap::new(),
            histograms: HistogramSet::default(),
            timeline: Vec::new(),
            server: None,
            database: None,
            flags: Vec::new(),
        }
    }

    pub fn has(&self, flag: StepFlag) -> bool {
        self.flags.contains(&flag)
    }
    /// False when the step is flagged interrupted or generator_saturated.
    pub fn usable_for_verdicts(&self) -> bool {
        !self.flags.iter().any(|f| f.disqualifies())
    }
}

/// The figures of a step; also exactly what `bakeoff load --format json` prints.
///
/// Definitions (each figure is computed once, in `measure::Recorder::finish`):
///
/// - The **population** of a step is every request whose intended start
///   (closed model: its actual start) lies in the measured window. Requests
///   started in the window and still in flight when it closes are waited for
///   (up to the timeout) and belong to it; requests started before it
///   (warm-up) or after it do not. This is the same population the latency
///   histograms describe, so a slow request counts in throughput exactly
///   when its latency counts in the percentiles.
/// - **`duration_s`** is the measured window: the configured duration, the
///   part that ran when interrupted, or, when a request-count bound
///   (`-n`) ended the step first, the time from the window's start to the
///   last completion.
/// - **`rps`** = successful requests of the population / `duration_s`. The
///   stragglers' tail is not added to the denominator: the population
///   arrived within the window, so dividing by window + tail would charge
///   a slow target twice (wrk and TechEmpower divide completions by the
///   nominal duration for the same reason).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Summary {
    /// Requests of the population: completed ones (successful or failed)
    /// plus, in the open model, scheduled ones never sent.
    pub requests: u64,
    /// Requests that did not succeed: transport errors, timeouts,
    /// unexpected statuses and unsent ones (`errors_by_kind` splits them).
    pub errors: u64,
    /// `errors / requests` (1.0 when the population is empty: nothing
    /// succeeded).
    #[serde(default)]
    pub error_rate: f64,
    pub duration_s: f64,
    /// Successful requests per second of the measured window.
    pub rps: f64,
    /// Latency of successful requests; in the open model measured from the
    /// intended send time (corrected for coordinated omission). `null` when
    /// no request succeeded: a step without successes has no percentiles.
    pub latency_us: Option<LatencySummary>,
    /// Open model only: latency of successful requests from the actual send.
    #[serde(default)]
    pub uncorrected_latency_us: Option<LatencySummary>,
    /// Latency of the failed requests (time to the error: a timeout shows
    /// as the timeout), `null` when none failed. Failed requests never
    /// enter `latency_us`; they are carried by `errors` and `error_rate`.
    #[serde(default)]
    pub failed_latency_us: Option<LatencySummary>,
    /// Latencies beyond the histograms' range (1 µs .. 1 h) recorded at the
    /// range's edge: counted here instead of clamped silently.
    #[serde(default)]
    pub out_of_range: u64,
    /// HTTP status code → count.
    pub status: BTreeMap<String, u64>,
    /// connect | timeout | reset | truncated | http_status | unsent | other → count.
    pub errors_by_kind: BTreeMap<String, u64>,
    pub generator: GeneratorStats,
    /// A step whose rate profile surges: the figures of the surge and the
    /// recovery from it (absent for constant rates and for profiles with
    /// no second before the surge or fewer than three after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surge: Option<SurgeSummary>,
    /// Connections the step opened and their set-up time (TCP connect,
    /// TLS and HTTP/2 handshakes), warm-up included; never part of
    /// `latency_us`'s definition. Absent when none was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_us: Option<ConnectSummary>,
    /// How the step's connections were carried (scheme, negotiated HTTP
    /// version, `--insecure`, `--cacert`); absent in results written
    /// before it existed (cleartext HTTP/1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportRecord>,
    /// A fan-out step (WebSocket broadcast): its delivery counts
    /// (results/README.md, "Fan-out figures"); absent for HTTP steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fanout: Option<FanoutSummary>,
}

/// What the transport of a step is and what it negotiated, as results
/// record it (`results/README.md`, `transport`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportRecord {
    /// "http" or "https".
    pub scheme: String,
    /// The protocol the test connection spoke: "HTTP/1.1" or "HTTP/2"
    /// (over TLS: ALPN's result).
    pub http_version: String,
    /// Certificates were not verified (`--insecure`).
    #[serde(default)]
    pub insecure: bool,
    /// `--cacert` as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cacert: Option<String>,
    /// Streams per HTTP/2 connection (1 for HTTP/1.1).
    #[serde(default = "one")]
    pub streams: u32,
    /// The client that spoke it: "lean" (cleartext HTTP/1.1's default) or
    /// "hyper" (TLS, HTTP/2, `--client hyper`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

fn one() -> u32 {
    1
}

/// Connections opened and the distribution of their set-up time, µs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct ConnectSummary {
    /// Connections opened successfully.
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl ConnectSummary {
    /// None when the histogram is empty.
    pub fn from_histogram(h: &hdrhistogram::Histogram<u64>) -> Option<Self> {
        (!h.is_empty()).then(|| ConnectSummary {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
        })
    }
}

/// What a fan-out step counted (defined in results/README.md, "Fan-out
/// figures"). In such a step the rest of the summary describes
/// deliveries: `latency_us` is the delivery latency (receive time minus
/// the message's intended send time), `requests` the expected deliveries,
/// `errors` the lost ones, `rps` deliveries per second of the window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct FanoutSummary {
    /// Subscriber connections asked for.
    pub subscribers: u64,
    /// Subscribers whose handshake completed before publishing began.
    pub connected: u64,
    /// Publishing connections (each also a subscriber).
    pub publishers: u64,
    /// Messages per second offered by all publishers together.
    pub rate: f64,
    /// Messages written to the server by the publishers.
    pub published: u64,
    /// Sum over published messages of the subscribers connected when it
    /// was published, the sender included: every subscriber whose
    /// handshake completed before publishing began, also after the server
    /// dropped it (its missed messages are lost), so `published ×
    /// connected`.
    pub expected: u64,
    /// First receptions of a message by a subscriber, within the window
    /// and the drain grace after it.
    pub delivered: u64,
    /// `expected - delivered` (never below 0).
    pub lost: u64,
    /// Receptions of a message whose sequence number is not above the
    /// last one the subscriber saw from its publisher (repeated or out
    /// of order).
    pub duplicated: u64,
    /// connect | handshake | dropped | timeout → count.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// How the server broadcast, as its `GET /ws/info` said just before
    /// the step: "memory" (one process) or "postgres" (LISTEN/NOTIFY
    /// across processes). Absent when it could not be read (`bakeoff
    /// fanout` against any server, older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus: Option<String>,
}

/// What a surge step measured, from its per-second timeline (defined in
/// results/README.md, "Surge figures"). Times are seconds from the start
/// of the measured window.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct SurgeSummary {
    /// The offered rate before the surge, and the profile's highest.
    pub baseline_rate: f64,
    pub peak_rate: f64,
    /// When the rate first moves away from the baseline, and when it last
    /// stops moving.
    pub start_s: f64,
    pub end_s: f64,
    /// p99 of the successful requests intended in the whole seconds before
    /// the surge (the first left out when there are two or more); `null`
    /// when none succeeded.
    pub baseline_p99_us: Option<u64>,
    /// Failed and never-sent over offered requests of the same seconds.
    pub baseline_error_rate: f64,
    /// The highest per-second p99 from the second the surge starts in to
    /// the window's end; `null` when nothing succeeded there.
    pub peak_p99_us: Option<u64>,
    /// Requests offered from the surge's second to the window's end, the
    /// failed and never-sent ones among them, and their share.
    #[serde(default)]
    pub surge_offered: u64,
    pub surge_errors: u64,
    pub surge_error_rate: f64,
    /// The most requests offered and not yet completed at the end of any
    /// second (the timeline's `backlog`).
    pub peak_backlog: u64,
    /// A second is back to baseline when its p99 is at most this (2 × the
    /// baseline p99, at least the baseline + 1 ms) and at most 1 % (or the
    /// baseline's share) of its requests failed; `null` without a baseline.
    pub tolerance_p99_us: Option<u64>,
    /// How long seconds back to baseline must follow each other.
    pub hold_s: f64,
    /// From the surge's end to the first of `hold_s` seconds back to
    /// baseline; `null`: it did not recover within the step.
    pub recovery_s: Option<f64>,
    pub outcome: SurgeOutcome,
}

/// How a step came through its surge.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum SurgeOutcome {
    /// No error, and no second's p99 beyond the tolerance band.
    Stable,
    /// No error; some second's p99 beyond the band; back within the step.
    Slower,
    /// Failed or never-sent requests during or after the surge; back
    /// within the step.
    ErrorsRecovered,
    /// Not back to baseline (for the hold) before the window ended.
    NotRecovered,
}

impl SurgeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SurgeOutcome::Stable => "stable",
            SurgeOutcome::Slower => "slower, no errors",
            SurgeOutcome::ErrorsRecovered => "errors, then recovered",
            SurgeOutcome::NotRecovered => "did not recover",
        }
    }
}

impl Summary {
    /// Successful requests of the population.
    pub fn successes(&self) -> u64 {
        self.requests.saturating_sub(self.errors)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct LatencySummary {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl LatencySummary {
    /// The summary of a histogram; None when it is empty (no percentile
    /// exists, and 0 would read as "fast").
    pub fn from_histogram(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        Some(LatencySummary {
            min: h.min(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct GeneratorStats {
    /// CPU time (user + system) the generator process used during the step.
    pub cpu_s: f64,
    /// Open model: actual send time minus intended send time.
    #[serde(default)]
    pub send_lag_us: Option<LatencySummary>,
    /// Open model: sends more than 1 ms after their intended time.
    #[serde(default)]
    pub late_sends: u64,
    /// Open model: scheduled requests of the window never sent because the
    /// step's hard deadline (window end + timeout) passed first: offered
    /// load the server (or generator) could not take. Also counted in
    /// `errors` and `errors_by_kind.unsent`.
    #[serde(default)]
    pub unsent: u64,
    /// Generator threads (one per generator CPU).
    #[serde(default)]
    pub threads: u32,
    /// The CPU each generator thread was running on when it finished
    /// (with `--cpus`/`[cpu]` pinning, the only CPU it could run on).
    #[serde(default)]
    pub thread_cpus: Vec<usize>,
    /// CPU time of the busiest generator thread over the measured window
    /// (warm-up and the in-flight tail excluded; 1.0 = that thread's core
    /// was fully used).
    #[serde(default)]
    pub busiest_thread_utilization: f64,
    /// CPU time plus run-queue wait (`/proc/thread-self/schedstat`) over the
    /// measured window, of the thread with the most: the share of the
    /// window a generator thread wanted a CPU. At or above 0.9 the step is
    /// flagged `generator_saturated`.
    #[serde(default)]
    pub busiest_thread_runnable: f64,
    /// Open model: actual send time minus the later of the intended time and
    /// the moment a connection was free for it. Unlike `send_lag_us`, it
    /// excludes waiting for a busy connection pool (the server's doing) and
    /// measures only the generator's own timer and CPU delay.
    #[serde(default)]
    pub wake_lag_us: Option<LatencySummary>,
    /// Why the generator was the bottleneck of this step, if it was.
    #[serde(default)]
    pub saturated: Option<String>,
}

fn one_second() -> u32 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct EndpointSummary {
    pub requests: u64,
    pub errors: u64,
    /// Latency of this entry's successful requests; `null` when none succeeded.
    pub latency_us: Option<LatencySummary>,
}

/// Serialized HDR histograms (microseconds, 3 significant digits), each
/// V2-deflate encoded and base64'd. Decode with [`decode_histogram`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct HistogramSet {
    /// Latency of successful requests (corrected in the open model).
    pub total: String,
    /// Open model: uncorrected latency.
    #[serde(default)]
    pub total_uncorrected: Option<String>,
    /// Per mix entry label.
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// Set-up time of every connection the step opened (warm-up included):
    /// TCP connect plus TLS and HTTP/2 handshakes. Absent in results
    /// written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<String>,
}

/// One bucket of a step's timeline. Requests are bucketed by their
/// intended start (closed model: actual start), like the step's population,
/// so the timeline spans exactly the window and a slow tail shows as high
/// latency in the buckets where those requests started, not as a false
/// ramp-down after the window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct TimelinePoint {
    /// Seconds since the start of the measured window (start of the bucket).
    pub t_s: u32,
    /// Width of the bucket in seconds (1 unless the step was very long).
    #[serde(default = "one_second")]
    pub width_s: u32,
    /// Requests started in the bucket (failed ones included).
    pub requests: u64,
    /// Requests scheduled in the bucket: `requests` plus those never sent
    /// (open model; the closed model offers what it sends). 0 in files
    /// written before the field existed.
    #[serde(default)]
    pub offered: u64,
    /// Requests of the window that completed (response or error) during
    /// the bucket, by completion time: the achieved rate is `completed /
    /// width_s`. 0 in files written before the field existed.
    #[serde(default)]
    pub completed: u64,
    /// At the bucket's end: requests of the window offered so far and not
    /// yet completed (queued, in flight or never sent), the step's
    /// backlog. 0 in files written before the field existed.
    #[serde(default)]
    pub backlog: u64,
    pub errors: u64,
    /// Percentiles of the bucket's successful requests; `null` when none succeeded.
    pub p50_us: Option<u64>,
    pub p99_us: Option<u64>,
}

/// Statements a step's requests sent to the database (the targets' role,
/// on `world` and `fortune`; `crate::targets::querystats`), from the
/// database's counters read before the step's first request and after its
/// last one completed (the whole step, warm-up included).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct StepQueries {
    /// Statements (reads and writes) between the two readings.
    pub queries: u64,
    /// Rows they returned or affected.
    pub rows: u64,
    /// `queries` / every request the step completed, warm-up included;
    /// 0 when none completed.
    pub queries_per_request: f64,
    /// `rows` / the same requests.
    pub rows_per_request: f64,
}

impl StepQueries {
    /// The figure of `queries` and `rows` over `requests` sent requests.
    pub fn new(queries: u64, rows: u64, requests: u64) -> Self {
        let per = |n: u64| {
            if requests == 0 {
                0.0
            } else {
                n as f64 / requests as f64
            }
        };
        StepQueries {
            queries,
            rows,
            queries_per_request: per(queries),
            rows_per_request: per(rows),
        }
    }
}

/// Server-side resources over a step's measured window, sampled from /proc.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ServerUsage {
    /// CPU seconds (user + system) of all of the target's processes during the step.
    pub cpu_s: f64,
    /// Peak resident set size summed over the target's processes.
    pub rss_peak_bytes: u64,
    /// Successful requests per CPU-second of the server **and** its
    /// database (`cpu_s + db_cpu_s`; = rps per fully used core), so a
    /// target that pushes work into PostgreSQL is not flattered.
    pub rps_per_core: f64,
    pub samples: u32,
    /// Most live (non-zombie) processes of the target seen in one sample
    /// during the step (samples every ~250 ms): every member of the
    /// target's process group, the leader included; threads are not
    /// counted, PostgreSQL's processes are not the target's. node: 1;
    /// node-cluster: 1 primary + WORKERS; gunicorn: 1 arbiter + WORKERS.
    #[serde(default)]
    pub processes: u32,
    /// CPU seconds (user + system) of the private PostgreSQL during the
    /// step: the postmaster and all its descendants, counted per process
    /// like `cpu_s` (from the first sample for processes alive then, from
    /// zero for those born during the step). `null` when bakeoff does not
    /// run the database (compose and external targets, or no `[database]`).
    #[serde(default)]
    pub db_cpu_s: Option<f64>,
}

impl RunResults {
    pub fn new(provenance: Provenance) -> Self {
        RunResults {
            schema_version: SCHEMA_VERSION,
            provenance,
            complete: false,
            plan: None,
            steps: Vec::new(),
        }
    }
}
