//! The per-worker-thread recorder and the merged [`Measurement`].

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::errors::ErrorKind;
use super::saturation::{GeneratorUsage, saturation};
use super::surge::{SurgePhases, surge};
use super::timeline::Timeline;
use crate::results::{
    ConnectSummary, EndpointSummary, GeneratorStats, HistogramSet, LatencySummary, Summary,
    TimelinePoint, encode_histogram, new_histogram,
};

/// A send later than this after its intended time counts as late.
pub const LATE_SEND: Duration = Duration::from_millis(1);

/// Everything one worker thread records during a step's measured window.
/// Workers record into their own recorder; recorders are merged with `+=`.
#[derive(Debug, Clone)]
pub struct Recorder {
    open_model: bool,
    /// Latency of successful requests (from intended send time when open).
    latency: Histogram<u64>,
    /// Open model: latency of successful requests from the actual send.
    uncorrected: Option<Histogram<u64>>,
    /// Open model: actual minus intended send time.
    send_lag: Option<Histogram<u64>>,
    /// Open model: actual send time minus when the send was ready (its
    /// intended time, or later if no connection was free): the generator's
    /// own delay.
    wake_lag: Option<Histogram<u64>>,
    /// Latency of failed requests (time to the error).
    failed: Histogram<u64>,
    /// Set-up time of each connection opened, warm-up included.
    connect: Histogram<u64>,
    late_sends: u64,
    unsent: u64,
    /// Latencies beyond the histogram range, recorded at its edge.
    out_of_range: u64,
    endpoints: Vec<EndpointRecorder>,
    /// Count per status code 0..=999.
    status: Vec<u64>,
    errors_by_kind: [u64; ErrorKind::ALL.len()],
    requests: u64,
    errors: u64,
    timeline: Timeline,
    /// Offset from the window start of the last completion seen.
    last_completion: Duration,
    /// Where the surge of the step's rate profile lies, if it has one.
    surge: Option<SurgePhases>,
}

/// How the measured window of a step ended, which decides its duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WindowEnd {
    /// The configured window ran to its end (or, interrupted, this much of
    /// it ran): the duration is this.
    Elapsed(Duration),
    /// The request-count bound was reached first: the step took until its
    /// last completion.
    CountReached,
}

#[derive(Debug, Clone)]
struct EndpointRecorder {
    label: String,
    requests: u64,
    errors: u64,
    latency: Histogram<u64>,
}

/// One finished request, as the worker loop reports it.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Index into the request mix.
    pub entry: usize,
    /// When the request was meant to go (open model) or went (closed).
    pub intended: Duration,
    /// When it could go: `intended`, or later when its connection was
    /// still busy with the previous request.
    pub ready: Duration,
    /// When it actually went, relative to the window start.
    pub sent: Duration,
    /// When the response (or error) arrived, relative to the window start.
    pub done: Duration,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<ErrorKind>,
}

impl Recorder {
    /// A recorder for a mix with these entry labels.
    pub fn new(labels: &[String], open_model: bool, window: Duration) -> Self {
        Recorder {
            open_model,
            latency: new_histogram(),
            uncorrected: open_model.then(new_histogram),
            send_lag: open_model.then(new_histogram),
            wake_lag: open_model.then(new_histogram),
            failed: new_histogram(),
            connect: new_histogram(),
            late_sends: 0,
            unsent: 0,
            out_of_range: 0,
            endpoints: labels
                .iter()
                .map(|l| EndpointRecorder {
                    label: l.clone(),
                    requests: 0,
                    errors: 0,
                    latency: new_histogram(),
                })
                .collect(),
            status: vec![0; 1000],
            errors_by_kind: [0; ErrorKind::ALL.len()],
            requests: 0,
            errors: 0,
            timeline: Timeline::new(window),
            last_completion: Duration::ZERO,
            surge: None,
        }
    }

    /// The recorder of a step whose profile surges at `phases` (`finish`
    /// then computes the surge figures).
    pub fn with_surge(mut self, phases: Option<SurgePhases>) -> Self {
        self.surge = phases;
        self
    }

    /// Records one finished request of the measured window.
    pub fn record(&mut self, s: Sample) {
        self.requests += 1;
        if let Some(code) = s.status {
            self.status[usize::from(code).min(999)] += 1;
        }
        let value = self.micros(s.done.saturating_sub(s.intended));
        let endpoint = &mut self.endpoints[s.entry];
        endpoint.requests += 1;
        if self.open_model {
            let lag = s.sent.saturating_sub(s.intended);
            if let Some(h) = &mut self.send_lag {
                h.saturating_record(micros(lag));
            }
            if let Some(h) = &mut self.wake_lag {
                h.saturating_record(micros(s.sent.saturating_sub(s.ready)));
            }
            if lag > LATE_SEND {
                self.late_sends += 1;
            }
        }
        self.last_completion = self.last_completion.max(s.done);
        self.timeline.record_completion(s.done);
        match s.error {
            None => {
                self.latency.saturating_record(value);
                endpoint.latency.saturating_record(value);
                if let Some(h) = &mut self.uncorrected {
                    h.saturating_record(micros(s.done.saturating_sub(s.sent)));
                }
                self.timeline.record(s.intended, Some(value));
            }
            Some(kind) => {
                self.errors += 1;
                endpoint.errors += 1;
                self.errors_by_kind[kind.index()] += 1;
                self.failed.saturating_record(value);
                self.timeline.record(s.intended, None);
            }
        }
    }

    /// `d` in whole µs for the latency histograms (at least 1), counting a
    /// value beyond their range in `out_of_range` (`saturating_record` then
    /// records it at the range's edge).
    /// Records the set-up time of one connection (any phase of the step).
    pub fn record_connect(&mut self, setup: Duration) {
        self.connect.saturating_record(micros(setup));
    }

    fn micros(&mut self, d: Duration) -> u64 {
        let us = micros(d);
        if us > self.latency.high() {
            self.out_of_range += 1;
        }
        us
    }

    /// Counts one scheduled request that was never sent (open model),
    /// intended `intended` after the window's start (None: before it).
    /// It belongs to the population: `finish` counts it in `requests`,
    /// `errors` and `errors_by_kind.unsent`, and the timeline in the
    /// `offered` of its second.
    pub fn record_unsent(&mut self, intended: Option<Duration>) {
        self.unsent += 1;
        if let Some(at) = intended {
            self.timeline.record_unsent(at);
        }
    }

    /// `n` more never-sent requests whose intended times are not placed
    /// in the timeline (a schedule abandoned in bulk).
    pub fn record_unsent_bulk(&mut self, n: u64) {
        self.unsent += n;
    }

    /// Requests recorded so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Turns the merged recorder into the figures of a step, by the
    /// definitions documented on [`Summary`].
    pub fn finish(mut self, end: WindowEnd, generator: GeneratorUsage) -> Measurement {
        let duration = match end {
            WindowEnd::Elapsed(window) => window,
            WindowEnd::CountReached => self.last_completion,
        };
        let duration_s = duration.as_secs_f64();
        let ok = self.requests - self.errors;
        self.errors_by_kind[ErrorKind::Unsent.index()] += self.unsent;
        let requests = self.requests + self.unsent;
        let errors = self.errors + self.unsent;
        let status = self
            .status
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (code.to_string(), *n))
            .collect();
        let errors_by_kind = ErrorKind::ALL
            .iter()
            .filter(|k| self.errors_by_kind[k.index()] > 0)
            .map(|k| (k.as_str().to_string(), self.errors_by_kind[k.index()]))
            .collect();
        let wake_lag = self
            .wake_lag
            .as_ref()
            .and_then(LatencySummary::from_histogram);
        let latency_us = LatencySummary::from_histogram(&self.latency);
        let summary = Summary {
            requests,
            errors,
            error_rate: error_rate(errors, requests),
            duration_s,
            rps: if duration_s > 0.0 {
                ok as f64 / duration_s
            } else {
                0.0
            },
            latency_us,
            failed_latency_us: LatencySummary::from_histogram(&self.failed),
            out_of_range: self.out_of_range,
            uncorrected_latency_us: self
                .uncorrected
                .as_ref()
                .and_then(LatencySummary::from_histogram),
            status,
            errors_by_kind,
            surge: self.surge.and_then(|p| surge(&self.timeline, &p)),
            connect_us: ConnectSummary::from_histogram(&self.connect),
            transport: None,
            // Set by `fanout::finish` for a fan-out step.
            fanout: None,
            generator: GeneratorStats {
                cpu_s: generator.process_cpu.as_secs_f64(),
                send_lag_us: self
                    .send_lag
                    .as_ref()
                    .and_then(LatencySummary::from_histogram),
                late_sends: self.late_sends,
                unsent: self.unsent,
                threads: generator.threads,
                thread_cpus: generator.thread_cpus.clone(),
                busiest_thread_utilization: generator.busiest_thread_utilization,
                busiest_thread_runnable: generator.busiest_thread_runnable,
                wake_lag_us: wake_lag,
                saturated: saturation(&generator, wake_lag.as_ref(), latency_us.map(|l| l.p99)),
            },
        };
        let endpoints = self
            .endpoints
            .iter()
            .map(|e| {
                let s = EndpointSummary {
                    requests: e.requests,
                    errors: e.errors,
                    latency_us: LatencySummary::from_histogram(&e.latency),
                };
                (e.label.clone(), s)
            })
            .collect();
        let histograms = HistogramSet {
            total: encode_histogram(&self.latency),
            total_uncorrected: self.uncorrected.as_ref().map(encode_histogram),
            endpoints: self
                .endpoints
                .iter()
                .map(|e| (e.label.clone(), encode_histogram(&e.latency)))
                .collect(),
            connect: (!self.connect.is_empty()).then(|| encode_histogram(&self.connect)),
        };
        Measurement {
            summary,
            endpoints,
            histograms,
            timeline: self.timeline.points(),
            latency: self.latency,
            interrupted: false,
            completed_in_step: 0,
        }
    }
}

impl AddAssign<&Recorder> for Recorder {
    fn add_assign(&mut self, other: &Recorder) {
        // All recorders of a step share histogram bounds, so `add` cannot fail.
        let add =
            |a: &mut Histogram<u64>, b: &Histogram<u64>| a.add(b).expect("histograms share bounds");
        add(&mut self.latency, &other.latency);
        if let (Some(a), Some(b)) = (&mut self.uncorrected, &other.uncorrected) {
            add(a, b);
        }
        if let (Some(a), Some(b)) = (&mut self.send_lag, &other.send_lag) {
            add(a, b);
        }
        if let (Some(a), Some(b)) = (&mut self.wake_lag, &other.wake_lag) {
            add(a, b);
        }
        add(&mut self.failed, &other.failed);
        add(&mut self.connect, &other.connect);
        self.late_sends += other.late_sends;
        self.unsent += other.unsent;
        self.out_of_range += other.out_of_range;
        for (a, b) in self.endpoints.iter_mut().zip(&other.endpoints) {
            a.requests += b.requests;
            a.errors += b.errors;
            add(&mut a.latency, &b.latency);
        }
        for (a, b) in self.status.iter_mut().zip(&other.status) {
            *a += b;
        }
        for (a, b) in self.errors_by_kind.iter_mut().zip(other.errors_by_kind) {
            *a += b;
        }
        self.requests += other.requests;
        self.errors += other.errors;
        self.timeline.merge(&other.timeline);
        self.last_completion = self.last_completion.max(other.last_completion);
    }
}

/// The merged figures of one step, ready to be stored as a `StepRecord`.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub summary: Summary,
    pub endpoints: BTreeMap<String, EndpointSummary>,
    pub histograms: HistogramSet,
    pub timeline: Vec<TimelinePoint>,
    /// The total latency histogram, for `.hgrm` export.
    pub latency: Histogram<u64>,
    /// The step was stopped by a signal before its window ended.
    pub interrupted: bool,
    /// Every request the step completed (a response or an error), warm-up
    /// included: the generator's own count, which the runner divides the
    /// step's database queries by (results/README.md, `database`). 0 until
    /// the executor sets it.
    pub completed_in_step: u64,
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

/// errors / requests; an empty population counts as all failed (1.0):
/// nothing succeeded.
pub fn error_rate(errors: u64, requests: u64) -> f64 {
    if requests == 0 {
        1.0
    } else {
        errors as f64 / requests as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(entry: usize, ms: u64, error: Option<ErrorKind>) -> Sample {
        Sample {
            entry,
            intended: Duration::ZERO,
            ready: Duration::ZERO,
            sent: Duration::from_millis(ms / 2),
            done: Duration::from_millis(ms),
            status: Some(if error.is_some() { 500 } else { 200 }),
            error,
        }
    }

    #[test]
    fn merge_adds_counts_histograms_and_tallies() {
        let labels = vec!["GET /a".to_string(), "GET /b".to_string()];
        let mut a = Recorder::new(&labels, true, Duration::from_secs(2));
        let mut b = Recorder::new(&labels, true, Duration::from_secs(2));
        a.record(sample(0, 10, None));
        a.record(sample(1, 20, Some(ErrorKind::HttpStatus)));
        b.record(sample(1, 1000, None));
        b.record(sample(0, 30, None));
        for ms in [100, 200, 1500] {
            b.record_unsent(Some(Duration::from_millis(ms)));
        }
        a += &b;
        let m = a.finish(
            WindowEnd::Elapsed(Duration::from_secs(2)),
            GeneratorUsage::default(),
        );
        let s = &m.summary;
        // 4 completed + 3 unsent make the population; 1 failed + 3 unsent
        // are its errors.
        assert_eq!((s.requests, s.errors), (7, 4));
        assert!((s.error_rate - 4.0 / 7.0).abs() < 1e-12);
        assert_eq!(s.errors_by_kind["unsent"], 3);
        assert_eq!(s.successes(), 3);
        assert_eq!(s.status["200"], 3);
        assert_eq!(s.status["500"], 1);
        assert_eq!(s.errors_by_kind["http_status"], 1);
        assert_eq!(s.generator.unsent, 3);
        assert_eq!(m.endpoints["GET /a"].requests, 2);
        assert_eq!(m.endpoints["GET /b"].errors, 1);
        // Corrected latency is from intended (0) to done; uncorrected from sent.
        assert!(s.latency_us.unwrap().max >= 999_000, "{:?}", s.latency_us);
        assert!(s.failed_latency_us.unwrap().max >= 19_000);
        assert!(s.uncorrected_latency_us.unwrap().max <= 501_000);
        assert_eq!(
            s.generator.late_sends, 4,
            "every send 5..500 ms after its intended time is late, failed or not"
        );
        assert_eq!(m.latency.len(), 3);
        assert!(
            (s.rps - 1.5).abs() < 1e-9,
            "3 ok requests over the 2 s window, though one finished at 1 s past it"
        );
        assert_eq!(s.duration_s, 2.0);
        assert_eq!(
            m.into_step(meta(), None, None).flags,
            [
                crate::results::StepFlag::GeneratorSaturated,
                crate::results::StepFlag::Errors,
                crate::results::StepFlag::Unsent
            ]
        );
    }

    #[test]
    fn a_step_without_successes_has_no_percentiles() {
        let labels = vec!["GET /".to_string()];
        let mut r = Recorder::new(&labels, false, Duration::from_secs(1));
        for _ in 0..10 {
            r.record(sample(0, 10, Some(ErrorKind::HttpStatus)));
        }
        let m = r.finish(
            WindowEnd::Elapsed(Duration::from_secs(1)),
            GeneratorUsage::default(),
        );
        let s = &m.summary;
        assert_eq!(s.latency_us, None);
        assert_eq!(m.endpoints["GET /"].latency_us, None);
        assert_eq!((s.rps, s.error_rate), (0.0, 1.0));
        assert!(m.timeline.iter().all(|p| p.p99_us.is_none()));
        let json = serde_json::to_value(s).unwrap();
        assert!(json["latency_us"].is_null(), "{json}");
    }

    #[test]
    fn a_count_bound_step_lasts_until_its_last_completion() {
        let labels = vec!["GET /".to_string()];
        let mut r = Recorder::new(&labels, false, Duration::from_secs(30));
        r.record(sample(0, 400, None));
        r.record(sample(0, 800, None));
        let m = r.finish(WindowEnd::CountReached, GeneratorUsage::default());
        assert_eq!(m.summary.duration_s, 0.8);
        assert!((m.summary.rps - 2.5).abs() < 1e-9);
    }

    #[test]
    fn out_of_range_latencies_are_counted() {
        let labels = vec!["GET /".to_string()];
        let mut r = Recorder::new(&labels, false, Duration::from_secs(1));
        let mut s = sample(0, 10, None);
        s.done = Duration::from_secs(7200);
        r.record(s);
        r.record(sample(0, 10, None));
        let m = r.finish(
            WindowEnd::Elapsed(Duration::from_secs(1)),
            GeneratorUsage::default(),
        );
        assert_eq!(m.summary.out_of_range, 1);
    }

    fn meta() -> StepMeta {
        StepMeta {
            target: "t".into(),
            scenario: "s".into(),
            model: crate::results::Model::Closed,
            level: 1,
            repeat: 0,
            started_at: String::new(),
        }
    }

    #[test]
    fn a_saturated_generator_and_errors_flag_the_step() {
        use crate::results::StepFlag;
        let labels = vec!["GET /".to_string()];
        let mut r = Recorder::new(&labels, false, Duration::from_secs(1));
        r.record(sample(0, 10, None));
        let calm = GeneratorUsage {
            busiest_thread_utilization: 0.4,
            ..GeneratorUsage::default()
        };
        let step = r
            .clone()
            .finish(WindowEnd::Elapsed(Duration::from_secs(1)), calm)
            .into_step(meta(), None, None);
        assert!(step.flags.is_empty() && step.usable_for_verdicts());

        r.record(sample(0, 10, Some(ErrorKind::Reset)));
        let busy = GeneratorUsage {
            busiest_thread_utilization: 0.99,
            ..GeneratorUsage::default()
        };
        let mut m = r.finish(WindowEnd::Elapsed(Duration::from_secs(1)), busy);
        m.interrupted = true;
        let step = m.into_step(meta(), None, None);
        assert_eq!(
            step.flags,
            [
                StepFlag::Interrupted,
                StepFlag::GeneratorSaturated,
                StepFlag::Errors
            ]
        );
        assert!(step.summary.generator.saturated.is_some());
        assert!(!step.usable_for_verdicts());
    }
}

/// Which step a measurement belongs to.
#[derive(Debug, Clone)]
pub struct StepMeta {
    pub target: String,
    pub scenario: String,
    pub model: crate::results::Model,
    pub level: u64,
    pub repeat: u32,
    pub started_at: String,
}

impl Measurement {
    /// The step record stored in results.json.
    pub fn into_step(
        self,
        meta: StepMeta,
        server: Option<crate::results::ServerUsage>,
        database: Option<crate::results::StepQueries>,
    ) -> crate::results::StepRecord {
        crate::results::StepRecord {
            target: meta.target,
            scenario: meta.scenario,
            model: meta.model,
            level: meta.level,
            repeat: meta.repeat,
            started_at: meta.started_at,
            endpoints: self.endpoints,
            histograms: self.histograms,
            timeline: self.timeline,
            flags: flags(&self.summary, self.interrupted),
            summary: self.summary,
            server,
            database,
        }
    }
}

/// The caveats a step's own figures call for.
fn flags(summary: &Summary, interrupted: bool) -> Vec<crate::results::StepFlag> {
    use crate::results::StepFlag;
    let mut flags = Vec::new();
    if interrupted {
        flags.push(StepFlag::Interrupted);
    }
    if summary.generator.saturated.is_some() {
        flags.push(StepFlag::GeneratorSaturated);
    }
    let failed = summary.errors - summary.generator.unsent.min(summary.errors);
    if failed > 0 {
        flags.push(StepFlag::Errors);
    }
    if summary.generator.unsent as f64 > crate::results::UNSENT_FLAG_SHARE * summary.requests as f64
    {
        flags.push(StepFlag::Unsent);
    }
    flags
}
