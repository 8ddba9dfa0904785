//! The versioned results schema (`results.json`), its atomic save and load,
//! and the provenance recorded with every run.
//!
//! Everything after measurement (reports, charts, verdicts, comparisons)
//! reads only this file, so it carries the HDR histograms themselves
//! (V2-deflate, base64) and not just their summaries. This module does not
//! measure anything; `measure` produces the figures stored here.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
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
}

/// Which CPUs the generator and the servers were pinned to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct CpuLayout {
    pub generator: Vec<usize>,
    /// Targets and the database share these.
    pub targets: Vec<usize>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Fixed number of connections, each sends when the previous completes.
    Closed,
    /// Fixed request rate on a schedule; latency from the intended send time.
    Open,
}

impl Model {
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Closed => "closed",
            Model::Open => "open",
        }
    }
    /// Name of the level's unit, for tables and axes.
    pub fn level_label(self) -> &'static str {
        match self {
            Model::Closed => "connections",
            Model::Open => "offered req/s",
        }
    }
}

/// One measured step: one target, one scenario, one level, one repeat.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepRecord {
    pub target: String,
    pub scenario: String,
    pub model: Model,
    /// Connections (closed) or offered requests/s (open).
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
    pub errors: u64,
    /// Percentiles of the bucket's successful requests; `null` when none succeeded.
    pub p50_us: Option<u64>,
    pub p99_us: Option<u64>,
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
            steps: Vec::new(),
        }
    }

    /// Reads a results file, or `results.json` inside a run directory.
    pub fn load(path: &Path) -> Result<Self, ResultsError> {
        let file = resolve(path);
        let text = std::fs::read_to_string(&file).map_err(|source| ResultsError::Read {
            path: file.clone(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| ResultsError::Parse {
                path: file.clone(),
                source,
            })?;
        let found = value
            .get("schema_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        if found != SCHEMA_VERSION {
            return Err(ResultsError::Version { path: file, found });
        }
        serde_json::from_value(value).map_err(|source| ResultsError::Parse { path: file, source })
    }

    /// Writes to a temporary file beside `path` and renames it over `path`,
    /// so a reader (or a crash) never sees a half-written file.
    pub fn save_atomic(&self, path: &Path) -> Result<(), ResultsError> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| ResultsError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(path, &json)
    }
}

/// `results.json` inside a directory, or the path itself.
pub fn resolve(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(RESULTS_FILE)
    } else {
        path.to_path_buf()
    }
}

/// Writes bytes to `path` via a temporary sibling and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ResultsError> {
    let err = |source| ResultsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(err)
}

/// A new, empty latency histogram: microseconds, 1 µs to 1 h, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // Bounds are constants that Histogram accepts (low >= 1, high >= 2*low, sigfig <= 5).
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant histogram bounds are valid")
}

/// Encodes a histogram as base64 of its V2-deflate serialization.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    // Serializing into a Vec cannot fail on I/O; the only failure is a
    // histogram too large for the format, which our bounds rule out.
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .expect("serializing into memory");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// Decodes what [`encode_histogram`] produced.
pub fn decode_histogram(s: &str) -> Result<Histogram<u64>, ResultsError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| ResultsError::Histogram(e.to_string()))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| ResultsError::Histogram(format!("{e:?}")))
}

/// Provenance of this machine and process, with the run-specific fields empty.
pub fn local_provenance(suite: &str, targets_mode: &str) -> Provenance {
    Provenance {
        bakeoff_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: git_commit(),
        host: hostname(),
        cores: crate::cpus::count(),
        os: os_description(),
        started_at: now_rfc3339(),
        command_line: std::env::args().collect(),
        suite: suite.to_string(),
        targets_mode: targets_mode.to_string(),
        cpu_layout: None,
        versions: BTreeMap::new(),
        notes: Vec::new(),
    }
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

fn os_description() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .ok();
    match (pretty, kernel) {
        (Some(p), Some(k)) => format!("{p} (Linux {k})"),
        (Some(p), None) => p,
        (None, Some(k)) => format!("Linux {k}"),
        (None, None) => std::env::consts::OS.to_string(),
    }
}

/// Current UTC time as RFC 3339 with second precision, without a date crate.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_unix_utc(secs, "T", ":", "Z")
}

/// Compact timestamp for directory names: 20261124-054426.
pub fn now_compact() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_unix_utc(secs, "-", "", "").replacen('-', "", 2)
}

fn format_unix_utc(secs: u64, date_time_sep: &str, time_sep: &str, suffix: &str) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if mo <= 2 { 1 } else { 0 };
    format!("{y:04}-{mo:02}-{d:02}{date_time_sep}{h:02}{time_sep}{m:02}{time_sep}{s:02}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_round_trips_through_base64() {
        let mut h = new_histogram();
        for v in [1u64, 10, 100, 1000, 123_456, 2_000_000] {
            h.record(v).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back.len(), h.len());
        assert_eq!(back.max(), h.max());
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(format_unix_utc(0, "T", ":", "Z"), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_unix_utc(1_795_499_066, "T", ":", "Z"),
            "2026-11-24T05:44:26Z"
        );
    }

    #[test]
    fn atomic_save_and_version_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.json");
        let run = RunResults::new(local_provenance("t", "adhoc"));
        run.save_atomic(&path).unwrap();
        assert_eq!(RunResults::load(dir.path()).unwrap(), run);
        std::fs::write(&path, r#"{"schema_version": 99}"#).unwrap();
        assert!(matches!(
            RunResults::load(&path),
            Err(ResultsError::Version { found: 99, .. })
        ));
    }
}
