//! CI gates: suite thresholds (`p99 < 50ms`, `error_rate < 0.1%`,
//! `rps > 1000`, optionally per target/scenario) evaluated against results.
//!
//! A threshold applies to every matching (target, scenario, level): at each
//! level the metric is the **median over repeats** of that step's figure
//! (latency percentiles in µs from `summary.latency_us`, `summary.rps`,
//! and `summary.error_rate`, unsent requests included; the level's figures
//! as `results/README.md` defines them, the same numbers the report's
//! tables print, formatted by [`crate::units::latency`]), so one noisy
//! repeat cannot fail a gate that the others pass, and a gate fails when
//! any level fails. This module only judges; `run` prints the failures and
//! exits 1. Parsing the threshold expressions is the suite's job
//! (`suite::Threshold`).
//!
//! Latency figures follow the rule of [`crate::stats`]: a repeat without a
//! successful request, or with more than 1 % of its requests failed, has an
//! infinitely slow latency, so `p99 < 50ms` on a target that answers 500 to
//! everything **fails**, and its message says no request succeeded (a
//! missing percentile never passes as 0).
//!
//! Steps flagged `interrupted` or `generator_saturated` are not evidence
//! about the target, so gates ignore them: the median is taken over the
//! other repeats of the level. A level whose every repeat is flagged
//! cannot be judged, and then the gate **fails** with the flag and the
//! generator's reason in its message: a CI gate must not pass on a
//! measurement that says nothing about the target (and a saturated
//! generator can make latency look better than it is, since it offers
//! less load). Steps flagged only `errors` count as usual.

use std::collections::BTreeSet;
use std::fmt;

use crate::analysis::{ExcludedStep, Repeats, StepGroups, StepId};
use crate::stats::median;
use crate::suite::{Metric, Threshold};

/// The outcome of one threshold on one (target, scenario, level).
#[derive(Debug, Clone, PartialEq)]
pub struct GateOutcome {
    pub target: String,
    pub scenario: String,
    /// Connections (closed model) or offered req/s (open model).
    pub level: u64,
    /// Repeats the median was taken over.
    pub repeats: usize,
    pub metric: Metric,
    /// The threshold as written, e.g. "p99 < 50ms".
    pub threshold: String,
    /// Median over the usable repeats, in the threshold's unit (µs, req/s,
    /// fraction); NaN when none was usable.
    pub actual: f64,
    pub passed: bool,
    /// Repeats left out because they were flagged interrupted or
    /// generator_saturated.
    pub excluded_repeats: usize,
    /// Why the level could not be judged (every repeat flagged); the
    /// outcome then fails.
    pub not_judged: Option<String>,
    /// Latency metrics: why some repeats' latency counts as failing
    /// ([`crate::analysis::Repeats::failure_summary`]), e.g. "no request
    /// succeeded".
    pub failing: Option<String>,
}

impl fmt::Display for GateOutcome {
    /// One line such as `FAIL node/db at 64: p99 < 50ms (actual 71.2 ms, median of 3)`
    /// or `FAIL node/db at 64: p99 < 50ms (actual failing; no request succeeded)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed { "pass" } else { "FAIL" };
        if let Some(why) = &self.not_judged {
            return write!(
                f,
                "{verdict} {}/{} at {}: {} (not judged: {why})",
                self.target, self.scenario, self.level, self.threshold
            );
        }
        write!(
            f,
            "{verdict} {}/{} at {}: {} (actual {}",
            self.target,
            self.scenario,
            self.level,
            self.threshold,
            self.actual_text()
        )?;
        if self.repeats > 1 {
            write!(f, ", median of {}", self.repeats)?;
        }
        if let Some(why) = &self.failing {
            write!(f, "; {why}")?;
        }
        if self.excluded_repeats > 0 {
            write!(f, "; {} flagged repeat(s) left out", self.excluded_repeats)?;
        }
        write!(f, ")")
    }
}

impl GateOutcome {
    /// The actual value in the threshold's unit, human readable.
    fn actual_text(&self) -> String {
        match self.metric {
            Metric::Rps => format!("{:.1} req/s", self.actual),
            Metric::ErrorRate => format!("{:.3}%", self.actual * 100.0),
            Metric::P50 | Metric::P90 | Metric::P99 | Metric::P999 | Metric::Max => {
                crate::units::latency(self.actual)
            }
        }
    }
}

/// Evaluates every threshold against the matching steps: one outcome per
/// threshold × matching (target, scenario, level), in threshold order then
/// target order ([`StepGroups::targets_in_order`]), scenario and level, over
/// the verdict groups ([`StepGroups::for_verdicts`]). A threshold that
/// matches no step yields no outcome (see
/// [`unmatched`]).
///
/// Flagged repeats are left out, and a level with no usable repeat fails
/// as not judged (see the module documentation).
pub fn evaluate(thresholds: &[Threshold], groups: &StepGroups) -> Vec<GateOutcome> {
    let keys: BTreeSet<&StepId> = groups.groups.keys().chain(groups.excluded.keys()).collect();
    let mut keys: Vec<&StepId> = keys.into_iter().collect();
    keys.sort_by_key(|k| groups.target_rank(&k.target));
    let mut out = Vec::new();
    for t in thresholds {
        for key in &keys {
            if !matches(t, key) {
                continue;
            }
            let excluded = groups.excluded.get(*key).map(Vec::as_slice).unwrap_or(&[]);
            let outcome =
                |repeats: usize, actual: f64, passed: bool, not_judged, failing| GateOutcome {
                    target: key.target.clone(),
                    scenario: key.scenario.clone(),
                    level: key.level,
                    repeats,
                    metric: t.metric,
                    threshold: t.text.clone(),
                    actual,
                    passed,
                    excluded_repeats: excluded.len(),
                    not_judged,
                    failing,
                };
            match groups.groups.get(*key) {
                Some(repeats) => {
                    let Some(actual) = median(samples(repeats, t.metric)) else {
                        continue;
                    };
                    let failing = is_latency(t.metric)
                        .then(|| repeats.failure_summary())
                        .flatten();
                    // An infinite latency fails whatever the operator: a
                    // target that did not answer is neither fast nor slow
                    // enough to pass (`p99 > 1ms` must not pass either).
                    let passed = actual.is_finite() && t.op.holds(actual, t.value);
                    out.push(outcome(repeats.n(), actual, passed, None, failing));
                }
                None => out.push(outcome(0, f64::NAN, false, Some(unjudged(excluded)), None)),
            }
        }
    }
    out
}

/// "every repeat (2) was flagged generator_saturated (a generator thread
/// was busy 97% of the step (threshold 90%))".
fn unjudged(excluded: &[ExcludedStep]) -> String {
    let mut flags: Vec<&str> = excluded
        .iter()
        .flat_map(|e| e.flags.iter().map(|f| f.as_str()))
        .collect();
    flags.sort_unstable();
    flags.dedup();
    let mut text = format!(
        "every repeat ({}) was flagged {}",
        excluded.len(),
        flags.join(" or ")
    );
    if let Some(reason) = excluded.iter().find_map(|e| e.reason.as_deref()) {
        text.push_str(&format!(" ({reason})"));
    }
    text
}

/// Thresholds that match no step of `groups` (a misspelt target, or a
/// scenario left out by `--scenario`): worth a warning, since they gate
/// nothing.
pub fn unmatched<'a>(thresholds: &'a [Threshold], groups: &StepGroups) -> Vec<&'a Threshold> {
    thresholds
        .iter()
        .filter(|t| {
            !groups
                .groups
                .keys()
                .chain(groups.excluded.keys())
                .any(|k| matches(t, k))
        })
        .collect()
}

fn matches(t: &Threshold, key: &StepId) -> bool {
    t.target.as_deref().is_none_or(|x| x == key.target)
        && t.scenario.as_deref().is_none_or(|x| x == key.scenario)
        && t.model.is_none_or(|m| m == key.model)
}

fn is_latency(metric: Metric) -> bool {
    !matches!(metric, Metric::Rps | Metric::ErrorRate)
}

fn samples(r: &Repeats, metric: Metric) -> &[f64] {
    match metric {
        Metric::P50 => &r.p50_us,
        Metric::P90 => &r.p90_us,
        Metric::P99 => &r.p99_us,
        Metric::P999 => &r.p999_us,
        Metric::Max => &r.max_us,
        Metric::Rps => &r.rps,
        Metric::ErrorRate => &r.error_rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{
        HistogramSet, LatencySummary, Model, Provenance, RunResults, StepRecord, Summary,
    };
    use crate::suite::Comparison;

    fn step(
        target: &str,
        scenario: &str,
        level: u64,
        repeat: u32,
        rps: f64,
        p99: u64,
        errors: u64,
    ) -> StepRecord {
        StepRecord {
            target: target.into(),
            scenario: scenario.into(),
            model: Model::Closed,
            level,
            repeat,
            started_at: String::new(),
            summary: Summary {
                requests: 10_000,
                errors,
                error_rate: crate::stats::error_rate(errors, 10_000),
                duration_s: 10.0,
                rps,
                latency_us: Some(LatencySummary {
                    min: 10,
                    mean: p99 as f64 / 3.0,
                    p50: p99 / 4,
                    p90: p99 / 2,
                    p99,
                    p999: p99 * 2,
                    max: p99 * 3,
                }),
                ..Summary::default()
            },
            endpoints: Default::default(),
            histograms: HistogramSet::default(),
            timeline: Vec::new(),
            server: None,
            database: None,
            flags: Vec::new(),
        }
    }

    /// The gates over the verdict groups of `r`, as `run` evaluates them.
    fn evaluate(thresholds: &[Threshold], r: &RunResults) -> Vec<GateOutcome> {
        super::evaluate(thresholds, &StepGroups::for_verdicts(r))
    }

    fn run(steps: Vec<StepRecord>) -> RunResults {
        let mut r = RunResults::new(Provenance::default());
        r.steps = steps;
        r
    }

    fn th(
        target: Option<&str>,
        scenario: Option<&str>,
        metric: Metric,
        op: Comparison,
        value: f64,
        text: &str,
    ) -> Threshold {
        Threshold {
            target: target.map(String::from),
            scenario: scenario.map(String::from),
            model: None,
            metric,
            op,
            value,
            text: text.into(),
        }
    }

    #[test]
    fn a_model_narrows_a_gate() {
        let mut open = step("node", "shop-open", 1800, 0, 900.0, 5_000, 500);
        open.model = crate::results::Model::Open;
        let r = run(vec![step("node", "db", 8, 0, 900.0, 5_000, 0), open]);
        let mut closed_only = th(
            None,
            None,
            Metric::ErrorRate,
            Comparison::Lt,
            0.01,
            "error_rate < 1%",
        );
        closed_only.model = Some(crate::results::Model::Closed);
        let out = evaluate(std::slice::from_ref(&closed_only), &r);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].scenario.as_str(), out[0].passed), ("db", true));
        closed_only.model = Some(crate::results::Model::Open);
        let out = evaluate(&[closed_only], &r);
        assert_eq!(
            (out[0].scenario.as_str(), out[0].passed),
            ("shop-open", false)
        );
    }

    #[test]
    fn each_metric_and_operator_passes_and_fails() {
        let r = run(vec![step("node", "db", 64, 0, 1_000.0, 40_000, 20)]);
        // p50 = 10 ms, p90 = 20 ms, p99 = 40 ms, p999 = 80 ms, max = 120 ms,
        // error rate = 0.2 %.
        let cases = [
            (Metric::P50, Comparison::Lt, 10_001.0, true),
            (Metric::P50, Comparison::Lt, 10_000.0, false),
            (Metric::P90, Comparison::Le, 20_000.0, true),
            (Metric::P90, Comparison::Le, 19_999.0, false),
            (Metric::P99, Comparison::Lt, 50_000.0, true),
            (Metric::P99, Comparison::Lt, 30_000.0, false),
            (Metric::P999, Comparison::Lt, 80_001.0, true),
            (Metric::P999, Comparison::Gt, 80_000.0, false),
            (Metric::Max, Comparison::Le, 120_000.0, true),
            (Metric::Max, Comparison::Lt, 120_000.0, false),
            (Metric::Rps, Comparison::Gt, 999.0, true),
            (Metric::Rps, Comparison::Gt, 1_000.0, false),
            (Metric::Rps, Comparison::Ge, 1_000.0, true),
            (Metric::ErrorRate, Comparison::Lt, 0.003, true),
            (Metric::ErrorRate, Comparison::Lt, 0.001, false),
        ];
        for (metric, op, value, want) in cases {
            let out = evaluate(&[th(None, None, metric, op, value, "t")], &r);
            assert_eq!(out.len(), 1);
            assert_eq!(
                out[0].passed, want,
                "{metric:?} {op:?} {value}: actual {}",
                out[0].actual
            );
        }
    }

    #[test]
    fn thresholds_apply_per_level_to_the_median_of_repeats() {
        let r = run(vec![
            step("node", "db", 8, 0, 900.0, 5_000, 0),
            step("node", "db", 8, 1, 100.0, 90_000, 0), // one bad repeat
            step("node", "db", 8, 2, 950.0, 6_000, 0),
            step("node", "db", 64, 0, 1_000.0, 60_000, 0),
            step("django-sync", "db", 8, 0, 300.0, 20_000, 0),
            step("node", "json", 8, 0, 5_000.0, 1_000, 0),
        ]);
        let t = th(
            Some("node"),
            Some("db"),
            Metric::P99,
            Comparison::Lt,
            50_000.0,
            "p99 < 50ms",
        );
        let out = evaluate(&[t], &r);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(
            (out[0].level, out[0].actual, out[0].passed),
            (8, 6_000.0, true)
        );
        assert_eq!(out[0].repeats, 3);
        assert_eq!((out[1].level, out[1].passed), (64, false));
        assert_eq!(
            out[1].to_string(),
            "FAIL node/db at 64: p99 < 50ms (actual 60.0 ms)"
        );
        // None = every target and scenario.
        let all = th(None, None, Metric::Rps, Comparison::Gt, 0.0, "rps > 0");
        assert_eq!(evaluate(&[all], &r).len(), 4);
    }

    #[test]
    fn unmatched_thresholds_are_reported() {
        let r = run(vec![step("node", "db", 8, 0, 900.0, 5_000, 0)]);
        let good = th(
            Some("node"),
            None,
            Metric::Rps,
            Comparison::Gt,
            1.0,
            "rps > 1",
        );
        let bad = th(
            Some("nod"),
            None,
            Metric::Rps,
            Comparison::Gt,
            1.0,
            "rps > 1",
        );
        let ts = [good, bad];
        assert!(evaluate(&ts[1..], &r).is_empty());
        let u = unmatched(&ts, &StepGroups::for_verdicts(&r));
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].target.as_deref(), Some("nod"));
    }

    #[test]
    fn flagged_repeats_are_left_out_and_an_all_flagged_level_fails() {
        use crate::results::StepFlag;
        let mut saturated = step("node", "db", 8, 1, 100.0, 1_000, 0);
        saturated.flags = vec![StepFlag::GeneratorSaturated];
        saturated.summary.generator.saturated = Some("a generator thread was busy 97%".into());
        let mut only_flagged = step("node", "db", 64, 0, 100.0, 1_000, 0);
        only_flagged.flags = vec![StepFlag::GeneratorSaturated];
        only_flagged.summary.generator.saturated = Some("busy 99%".into());
        let mut errors_only = step("node", "db", 128, 0, 900.0, 5_000, 3);
        errors_only.flags = vec![StepFlag::Errors];
        let r = run(vec![
            step("node", "db", 8, 0, 900.0, 5_000, 0),
            saturated,
            only_flagged,
            errors_only,
        ]);
        let t = th(None, None, Metric::Rps, Comparison::Gt, 500.0, "rps > 500");
        let out = evaluate(&[t], &r);
        assert_eq!(out.len(), 3, "{out:?}");
        // Level 8: the saturated repeat (100 req/s) is not in the median.
        assert_eq!(
            (out[0].level, out[0].actual, out[0].passed),
            (8, 900.0, true)
        );
        assert_eq!((out[0].repeats, out[0].excluded_repeats), (1, 1));
        assert!(out[0].to_string().contains("1 flagged repeat(s) left out"));
        // Level 64: nothing usable, so the gate fails and says why.
        assert_eq!((out[1].level, out[1].passed), (64, false));
        assert_eq!(
            out[1].to_string(),
            "FAIL node/db at 64: rps > 500 (not judged: every repeat (1) was flagged generator_saturated (busy 99%))"
        );
        // Level 128: errors do not disqualify a step.
        assert_eq!(
            (out[2].level, out[2].passed, out[2].excluded_repeats),
            (128, true, 0)
        );
    }

    #[test]
    fn empty_step_fails_error_rate() {
        let mut s = step("node", "db", 8, 0, 0.0, 0, 0);
        s.summary.requests = 0;
        s.summary.error_rate = 1.0;
        s.summary.latency_us = None;
        let out = evaluate(
            &[th(
                None,
                None,
                Metric::ErrorRate,
                Comparison::Lt,
                0.01,
                "error_rate < 1%",
            )],
            &run(vec![s]),
        );
        assert!(!out[0].passed);
        assert_eq!(
            out[0].to_string(),
            "FAIL node/db at 8: error_rate < 1% (actual 100.000%)"
        );
    }

    /// A step where every request got a 500: no successful request, so no
    /// latency, rps 0 and an error rate of 1.
    fn all_500(target: &str, level: u64, repeat: u32) -> StepRecord {
        let mut s = step(target, "db", level, repeat, 0.0, 0, 10_000);
        s.summary.latency_us = None;
        s.summary.status = [("500".to_string(), 10_000)].into_iter().collect();
        s.summary.errors_by_kind = [("http_status".to_string(), 10_000)].into_iter().collect();
        s
    }

    #[test]
    fn latency_gate_fails_on_a_target_that_answers_500_to_everything() {
        let r = run(vec![all_500("django-sync", 64, 0)]);
        let p99 = th(
            None,
            None,
            Metric::P99,
            Comparison::Lt,
            50_000.0,
            "p99 < 50ms",
        );
        let out = evaluate(&[p99], &r);
        assert_eq!(out.len(), 1);
        assert!(!out[0].passed);
        assert!(out[0].actual.is_infinite());
        assert_eq!(
            out[0].to_string(),
            "FAIL django-sync/db at 64: p99 < 50ms (actual failing; no request succeeded)"
        );
        // Whatever the operator: a missing latency never passes.
        let above = th(None, None, Metric::P50, Comparison::Gt, 1.0, "p50 > 1us");
        assert!(!evaluate(&[above], &r)[0].passed);
        // The error-rate gate reads summary.error_rate.
        let errors = th(
            None,
            None,
            Metric::ErrorRate,
            Comparison::Lt,
            0.01,
            "error_rate < 1%",
        );
        let out = evaluate(&[errors], &r);
        assert_eq!((out[0].actual, out[0].passed), (1.0, false));
    }

    #[test]
    fn latency_gate_fails_when_more_than_one_percent_failed() {
        // Fast answers (p99 5 ms) but 2 % of the requests failed.
        let r = run(vec![step("node", "db", 8, 0, 900.0, 5_000, 200)]);
        let p99 = th(
            None,
            None,
            Metric::P99,
            Comparison::Lt,
            50_000.0,
            "p99 < 50ms",
        );
        let out = evaluate(&[p99], &r);
        assert!(!out[0].passed, "{}", out[0]);
        assert_eq!(
            out[0].to_string(),
            "FAIL node/db at 8: p99 < 50ms (actual failing; 2.00% of requests failed (more than 1%))"
        );
    }

    #[test]
    fn unsent_requests_count_in_the_error_rate_gate() {
        // 9 900 answered fine, 100 scheduled requests never sent (1 %) and
        // 50 more failed: 1.5 % errors.
        let mut s = step("node", "db", 500, 0, 990.0, 5_000, 150);
        s.summary.generator.unsent = 100;
        s.summary.errors_by_kind = [("unsent".to_string(), 100), ("timeout".to_string(), 50)]
            .into_iter()
            .collect();
        let t = th(
            None,
            None,
            Metric::ErrorRate,
            Comparison::Lt,
            0.01,
            "error_rate < 1%",
        );
        let out = evaluate(&[t], &run(vec![s]));
        assert!(!out[0].passed);
        assert!((out[0].actual - 0.015).abs() < 1e-12, "{}", out[0].actual);
    }

    #[test]
    fn one_repeat_without_successes_does_not_improve_the_level() {
        // p99 10 ms and 12 ms in two repeats, nothing in the third: the
        // median is 12 ms (not 11 ms, the median of the two that answered).
        let r = run(vec![
            step("node", "db", 64, 0, 900.0, 10_000, 0),
            all_500("node", 64, 1),
            step("node", "db", 64, 2, 900.0, 12_000, 0),
        ]);
        let t = th(
            None,
            None,
            Metric::P99,
            Comparison::Lt,
            11_500.0,
            "p99 < 11.5ms",
        );
        let out = evaluate(&[t], &r);
        assert_eq!((out[0].actual, out[0].passed), (12_000.0, false));
        assert_eq!(
            out[0].to_string(),
            "FAIL node/db at 64: p99 < 11.5ms (actual 12.0 ms, median of 3; no request succeeded in 1 of 3 repeats)"
        );
    }
}
