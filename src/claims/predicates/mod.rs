//! What each predicate kind computes: from grouped results to a verdict and
//! one sentence of evidence (figures, targets, scenario, levels, repeats),
//! plus the predicate's own wording. Every supported or refuted verdict
//! rests on the noise rule, and its evidence says which part it passed
//! ("×1.90, ranges of 3 repeats apart", "×2.10 on one repeat, over the
//! ×1.5 margin"):
//!
//! - **Differences** (rps or p99 ahead, slower, climbing, growing more) go
//!   through [`crate::stats::judge`]: they count only when they clear the
//!   ratio and the run-to-run noise (non-overlapping intervals of the
//!   medians with ≥ 3 repeats: the range of the repeats up to 5 repeats, a
//!   95 % bootstrap interval beyond, and labelled so; the larger
//!   few-repeats margin below 3).
//! - **Growth between levels** (scaling) is a figure of its own: one growth
//!   factor per repeat (that repeat's rps at the highest level over its rps
//!   at the lowest), and the two targets' factors are judged like any other
//!   figure.
//! - **Upper bounds** ("within ×1.2 of", "grows less than ×1.5") are the
//!   rule turned round ([`within`]): the worst case the intervals allow must
//!   stay within the bound, and with fewer than 3 repeats the ratio must,
//!   after the rule's few-repeats allowance (×1.5 / ×1.2 = ×1.25). One
//!   repeat at ×1.19 never shows "within ×1.2".
//!
//! The groups hold only steps a verdict may rest on (see
//! [`StepGroups::for_verdicts`]). A point whose every repeat was excluded
//! still counts as measured when levels are chosen, so the comparison point
//! never silently moves; when a predicate needs it, the comparison is
//! undecided: a single-scenario claim becomes Inconclusive, and in a
//! multi-scenario claim that scenario counts in the denominator without
//! deciding anything (it can keep a claim from being supported or refuted,
//! never decide it). `claims::evaluate` names the excluded steps.
//!
//! Failing figures follow the rule of [`crate::stats`]: a step without a
//! successful request, or with more than 1 % of its requests failed, has
//! an infinitely slow latency (and its rps counts successes only), so it
//! can only count against its own target. On an all-failing target:
//! scaling and ratio/head-to-head read it as behind (0 req/s, failing p99)
//! and never as "still growing" (a repeat failing at the lowest level has
//! a growth factor of 0); a latency comparison counts it as slower,
//! never as "within the ratio"; tail_under_load refutes a failing subject;
//! cpu_bound never refutes from a failing lowest level (growth from
//! nothing is not growth). `claims::evaluate` names the failing points.

use crate::analysis::Repeats;
use crate::results::Model;
use crate::stats::{Estimate, Favours, Judgement, NoisePolicy, RANGE_ONLY_REPEATS, judge, median};

use super::Verdict;
use super::lookup::Lookup;
use super::spec::Predicate;

mod fanout;
mod latency;
mod orm;
mod ratio;
mod scaling;
mod surge;
#[cfg(test)]
mod tests;

use fanout::realtime_fanout;
use latency::{latency, tail_under_load};
use orm::orm_cost;
use ratio::ratio_at_highest;
use scaling::{cpu_bound, scaling};
use surge::surge_recovery;

/// A verdict with its one-sentence evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub verdict: Verdict,
    pub evidence: String,
}

impl Finding {
    fn new(verdict: Verdict, evidence: String) -> Self {
        Finding { verdict, evidence }
    }
}

/// Evaluates one predicate.
pub fn evaluate(p: &Predicate, g: &Lookup, noise: NoisePolicy) -> Finding {
    match p {
        Predicate::Scaling {
            scenario,
            subject,
            versus,
            growth_fraction,
        } => scaling(g, noise, scenario, subject, versus, *growth_fraction),
        Predicate::RatioAtHighest {
            scenarios,
            subject,
            versus,
            min_share,
        } => ratio_at_highest(g, noise, scenarios, subject, versus, *min_share, &[]),
        Predicate::RatioTable {
            scenarios,
            subject,
            versus,
            also,
            min_share,
        } => ratio_at_highest(g, noise, scenarios, subject, versus, *min_share, also),
        Predicate::LatencyUncontendedAndLoaded {
            scenarios,
            subject,
            versus,
            ratio,
        } => latency(g, noise, scenarios, subject, versus, *ratio),
        Predicate::OrmCost {
            scenarios,
            raw_scenarios,
            subject,
            versus,
            ratio,
        } => {
            let pairs: Vec<(String, String)> = scenarios
                .iter()
                .cloned()
                .zip(raw_scenarios.iter().cloned())
                .collect();
            orm_cost(g, noise, &pairs, subject, versus, *ratio)
        }
        Predicate::TailUnderLoad {
            scenarios,
            subject,
            versus,
            max_error_rate,
        } => tail_under_load(g, noise, scenarios, subject, versus, *max_error_rate),
        Predicate::CpuBound {
            scenario,
            subject,
            versus,
            max_growth,
        } => cpu_bound(g, noise, scenario, subject, versus, *max_growth),
        Predicate::RealtimeFanout {
            scenario,
            subject,
            versus,
            slo_p99,
            max_error_rate,
        } => realtime_fanout(
            g,
            noise,
            scenario,
            subject,
            versus,
            *slo_p99,
            *max_error_rate,
        ),
        Predicate::SurgeRecovery {
            scenario,
            subject,
            versus,
            max_error_rate,
        } => surge_recovery(g, noise, scenario, subject, versus, *max_error_rate),
        Predicate::OutOfScope { reason } => Finding::new(Verdict::OutOfScope, reason.clone()),
    }
}

/// The predicate in words, for the verdict table.
pub fn describe(p: &Predicate, noise: NoisePolicy) -> String {
    let margin = format!(
        "beyond noise (×{} with ≥ 3 repeats and non-overlapping intervals of the medians: the range of the repeats up to {RANGE_ONLY_REPEATS} repeats, a 95% bootstrap interval beyond; ×{} otherwise)",
        noise.ratio, noise.few_repeats_ratio
    );
    match p {
        Predicate::Scaling {
            scenario,
            subject,
            versus,
            growth_fraction,
        } => format!(
            "scaling on {scenario}: {subject}'s rps at the highest common level exceeds {} {margin}, and its rps grows more from the lowest to the highest common level, by the same rule applied to one growth factor per repeat (knee: growth < {:.0}% per step while p99 climbs)",
            versus.join(" and "),
            growth_fraction * 100.0
        ),
        Predicate::RatioAtHighest {
            scenarios,
            subject,
            versus,
            min_share,
        }
        | Predicate::RatioTable {
            scenarios,
            subject,
            versus,
            min_share,
            ..
        } => format!(
            "ratio at the highest common level on {}: {subject} counts as ahead of {versus} in a scenario when its rps or p99 is better {margin} and neither is worse; supported when ahead in ≥ {:.0}% of measured scenarios, refuted when {versus} is ahead in that share",
            scenarios.join(", "),
            min_share * 100.0
        ),
        Predicate::LatencyUncontendedAndLoaded {
            scenarios,
            subject,
            versus,
            ratio,
        } => format!(
            "latency on {}: {subject}'s p50 at the lowest level and p99 at the highest within ×{ratio} of {versus}'s in every comparison, beyond noise (the worst case the intervals allow within ×{ratio}; with fewer than 3 repeats the ratio times ×{:.2}) (supported), or worse {margin} in most of them (refuted)",
            scenarios.join(", "),
            noise.few_repeats_ratio / noise.ratio
        ),
        Predicate::OrmCost {
            scenarios,
            raw_scenarios,
            subject,
            versus,
            ratio,
        } => format!(
            "the ORM's own cost inside {subject}: on {} against their raw-SQL twins {}, {subject}'s p50 at the lowest and p99 at the highest level both measured within ×{ratio} of raw SQL's in every comparison, beyond noise (the worst case the intervals allow within ×{ratio}; with fewer than 3 repeats the ratio times ×{:.2}) (supported), or slower {margin} in most of them (refuted); the evidence also gives the gap to {versus} that remains with raw SQL, which the verdict does not rest on",
            scenarios.join(", "),
            raw_scenarios.join(", "),
            noise.few_repeats_ratio / noise.ratio
        ),
        Predicate::TailUnderLoad {
            scenarios,
            subject,
            versus,
            max_error_rate,
        } => format!(
            "tail under load on {}: at the highest common level {subject}'s p99 is lower than {}'s {margin}, with an error rate ≤ {}%",
            scenarios.join(", "),
            versus.join(" and "),
            max_error_rate * 100.0
        ),
        Predicate::CpuBound {
            scenario,
            subject,
            max_growth,
            ..
        } => format!(
            "cpu-bound on {scenario}: {subject}'s rps grows less than ×{max_growth} from the lowest to the highest level beyond noise (the worst case the intervals allow; with fewer than 3 repeats the growth times ×{:.2}) while its p99 climbs {margin}; refuted when its rps grows ×{max_growth} or more beyond noise",
            noise.few_repeats_ratio / noise.ratio
        ),
        Predicate::SurgeRecovery {
            scenario,
            subject,
            versus,
            max_error_rate,
        } => format!(
            "surge recovery on {scenario}: {subject} recovers from the spike in every repeat with errors ≤ {}% from the surge on, and against {} its peak p99 is lower {margin} and it is back to baseline no later (recovery times compared at the timeline's 1 s resolution; back to baseline: {} s of p99 ≤ max(×{} the baseline p99, baseline + {} ms) and ≤ {}% errors)",
            max_error_rate * 100.0,
            versus.join(" and "),
            crate::measure::RECOVERY_HOLD,
            crate::measure::RECOVERY_FACTOR,
            crate::measure::RECOVERY_SLACK_US / 1000,
            crate::measure::RECOVERY_ERROR_SHARE * 100.0
        ),
        Predicate::RealtimeFanout {
            scenario,
            subject,
            versus,
            slo_p99,
            max_error_rate,
        } => format!(
            "real-time fan-out on {scenario}: at the highest common subscriber level {subject}'s delivery p99 (receive time minus intended send time) is lower than {}'s {margin}, with ≤ {}% of deliveries lost; and within a delivery p99 of {} it holds at least as many subscribers (capacity by the SLO search, ties within 10%)",
            versus.join(" and "),
            max_error_rate * 100.0,
            crate::units::latency(slo_p99.as_secs_f64() * 1e6)
        ),
        Predicate::OutOfScope { .. } => "out of scope: not measurable with a load test".into(),
    }
}

/// One figure of a step's repeats.
type Figure = fn(&Repeats) -> &[f64];

fn rps_of(r: &Repeats) -> &[f64] {
    &r.rps
}
fn p50_of(r: &Repeats) -> &[f64] {
    &r.p50_us
}
fn p99_of(r: &Repeats) -> &[f64] {
    &r.p99_us
}

/// "128 connections" / "800 offered req/s".
fn at(level: u64, model: Option<Model>) -> String {
    format!("{level} {}", model.unwrap_or(Model::Closed).level_label())
}

fn x(v: f64) -> String {
    crate::units::ratio(v)
}

/// "×3.00 better" / "×1.50 worse" / "about equal" for an advantage ratio.
fn lead(advantage: f64) -> String {
    if (advantage - 1.0).abs() < 0.005 {
        "about equal".into()
    } else if advantage > 1.0 {
        format!("{} better", x(advantage))
    } else {
        format!("{} worse", x(1.0 / advantage))
    }
}

fn rps(v: f64) -> String {
    format!("{v:.0} req/s")
}

/// The fewest and most repeats the comparisons of a finding rested on.
#[derive(Debug, Clone, Copy)]
struct RepeatCount {
    min: usize,
    max: usize,
}

impl RepeatCount {
    fn new() -> Self {
        RepeatCount {
            min: usize::MAX,
            max: 0,
        }
    }
    fn add(&mut self, j: &Judgement) {
        self.min = self.min.min(j.a.n.min(j.b.n));
        self.max = self.max.max(j.a.n.max(j.b.n));
    }
}

/// "single repeat, so a ×1.5 margin was required", "median of 3 repeats,
/// compared by their ranges (min–max)", "median of 8 repeats with 95%
/// bootstrap intervals of the median": what the noise check was, named
/// for what it is (a 95 % bootstrap interval of 5 or fewer repeats is their
/// min–max).
fn repeats_phrase(c: RepeatCount, noise: NoisePolicy) -> String {
    let (min, max) = (c.min, c.max.max(c.min));
    let count = if min == max {
        format!("{min}")
    } else {
        format!("{min} to {max}")
    };
    match min {
        usize::MAX => "no comparison could be judged".to_string(),
        0 | 1 => format!(
            "single repeat, so a ×{} margin was required",
            noise.few_repeats_ratio
        ),
        2 => format!(
            "2 repeats, so a ×{} margin was required",
            noise.few_repeats_ratio
        ),
        _ if max <= RANGE_ONLY_REPEATS => {
            format!("median of {count} repeats, compared by their ranges (min–max)")
        }
        _ if min > RANGE_ONLY_REPEATS => {
            format!("median of {count} repeats with 95% bootstrap intervals of the median")
        }
        _ => format!(
            "median of {count} repeats, compared by their ranges (up to {RANGE_ONLY_REPEATS} repeats) or 95% bootstrap intervals of the median"
        ),
    }
}

/// "on one repeat" / "on 2 repeats".
fn on_repeats(n: usize) -> String {
    if n <= 1 {
        "on one repeat".to_string()
    } else {
        format!("on {n} repeats")
    }
}

/// The spreads of a judgement's two sides, plural: "ranges of 3 repeats",
/// "range of 3 repeats and 95% bootstrap interval of the median of 8
/// repeats" (the labels of [`crate::stats::interval_label`]).
fn spreads(a: &Estimate, b: &Estimate) -> String {
    let (la, lb) = (a.interval_label(), b.interval_label());
    if la == lb {
        la.replacen("range", "ranges", 1)
            .replacen("interval", "intervals", 1)
    } else {
        format!("{la} and {lb}")
    }
}

/// Which part of the noise rule a judgement passed or failed, in words:
/// "×1.90, ranges of 3 repeats apart", "×2.10 on one repeat, over the ×1.5
/// margin", "×1.10, under the ×1.2 ratio", "×1.30, but the ranges of 3
/// repeats overlap", "×1.30 on one repeat, under the ×1.5 margin".
fn rule_words(j: &Judgement) -> String {
    let size = if j.advantage >= 1.0 {
        j.advantage
    } else {
        1.0 / j.advantage
    };
    let (size, margin) = (x(size), j.margin);
    match (j.favours != Favours::Neither, j.used_intervals) {
        (true, true) => format!("{size}, {} apart", spreads(&j.a, &j.b)),
        (true, false) => format!(
            "{size} {}, over the ×{margin} margin",
            on_repeats(j.repeats)
        ),
        (false, false) => format!(
            "{size} {}, under the ×{margin} margin",
            on_repeats(j.repeats)
        ),
        (false, true) if j.advantage.max(1.0 / j.advantage) < margin => {
            format!("{size}, under the ×{margin} ratio")
        }
        (false, true) => format!("{size}, but the {} overlap", spreads(&j.a, &j.b)),
    }
}

/// An upper bound "a is at most ×`bound` of b" (a latency ratio, a growth
/// factor) checked against the noise rule.
#[derive(Debug, Clone, Copy)]
struct Bound {
    a: Estimate,
    b: Estimate,
    /// a / b of the medians.
    ratio: f64,
    /// What the bound was checked on: the largest a/b the intervals allow,
    /// or the ratio times the few-repeats allowance.
    worst: f64,
    /// With fewer than 3 repeats on a side: the allowance for unseen noise.
    allowance: Option<f64>,
    bound: f64,
    held: bool,
}

/// Checks "a ≤ ×`bound` · b" beyond noise, the noise rule turned round for
/// an upper bound. With ≥ 3 repeats on both sides the worst case the
/// intervals of the medians allow (a's upper end over b's lower end) must
/// stay within the bound. With fewer there is no spread, so the ratio of
/// the medians must stay within the bound after the same extra allowance
/// the rule asks of a difference on few repeats (×1.5 instead of ×1.2, so
/// ×1.25): one repeat at ×1.19 does not show "within ×1.2", ×0.96 does. A
/// side with an infinite (failing) figure never stays within a bound.
fn within(a: &[f64], b: &[f64], bound: f64, noise: NoisePolicy) -> Option<Bound> {
    let ea = Estimate::of(a)?;
    let eb = Estimate::of(b)?;
    let ratio = crate::stats::ratio(ea.median, eb.median);
    let (worst, allowance) = match (ea.interval, eb.interval) {
        (Some(ia), Some(ib)) => (crate::stats::ratio(ia.1, ib.0), None),
        _ => {
            let k = noise.few_repeats_ratio / noise.ratio;
            (ratio * k, Some(k))
        }
    };
    Some(Bound {
        a: ea,
        b: eb,
        ratio,
        worst,
        allowance,
        bound,
        held: ea.range.1.is_finite() && worst <= bound,
    })
}

/// The tally of "latency within ×ratio of" comparisons (the latency and
/// ORM-cost kinds): each comparison counts as slower beyond noise
/// ([`judge`]), within the ratio beyond noise ([`within`]), or neither;
/// refuted when slower in most, supported when within in all.
#[derive(Debug, Default)]
struct WithinTally {
    /// Comparisons made (the caller counts undecided ones too).
    pairs: usize,
    slower: usize,
    quick: usize,
}

impl WithinTally {
    /// Counts judgement `j` of latencies `a` (the subject) against `b`
    /// and says how it read: "slower beyond noise: …" or the bound's words.
    fn add(
        &mut self,
        j: &Judgement,
        a: &[f64],
        b: &[f64],
        ratio: f64,
        noise: NoisePolicy,
    ) -> String {
        let bound = within(a, b, ratio, noise);
        if bound.is_some_and(|b| b.held) {
            self.quick += 1;
        }
        if j.favours == Favours::B {
            self.slower += 1;
            format!("slower beyond noise: {}", rule_words(j))
        } else {
            bound.map_or_else(|| "not judged".to_string(), |b| b.words())
        }
    }

    /// The verdict; or, when nothing was compared, the finding that says
    /// why: not measured (`gone`), or only excluded figures (`unusable`).
    fn settle(
        &self,
        compared: bool,
        gone: &[String],
        unusable: &[String],
    ) -> Result<Verdict, Finding> {
        if self.pairs == 0 {
            return Err(not_measured(gone));
        }
        if !compared {
            return Err(excluded_finding(unusable));
        }
        Ok(self.verdict())
    }

    /// "{who} was slower beyond noise in 2 of 6 comparisons and within
    /// ×1.2 beyond noise in 1 (…; "within" holds when …)".
    fn sentence(&self, who: &str, ratio: f64, count: RepeatCount, noise: NoisePolicy) -> String {
        format!(
            "{who} was slower beyond noise in {} of {} comparisons and within ×{ratio} beyond noise in {} ({}; \"within\" holds when the worst case the ranges or intervals allow stays within ×{ratio}, or with fewer than 3 repeats the ratio times ×{:.2})",
            self.slower,
            self.pairs,
            self.quick,
            repeats_phrase(count, noise),
            noise.few_repeats_ratio / noise.ratio
        )
    }

    fn verdict(&self) -> Verdict {
        if self.slower * 2 > self.pairs {
            Verdict::Refuted
        } else if self.quick == self.pairs && self.slower == 0 {
            Verdict::Supported
        } else {
            Verdict::Inconclusive
        }
    }
}

impl Bound {
    /// "at most ×1.14 across the ranges of 3 repeats, within ×1.2",
    /// "×0.95 on one repeat, ×1.19 with the ×1.25 few-repeats allowance,
    /// within ×1.2", "... beyond ×1.2".
    fn words(&self) -> String {
        let verdict = if self.held { "within" } else { "beyond" };
        match self.allowance {
            None => format!(
                "at most {} across the {}, {verdict} ×{}",
                x(self.worst),
                spreads(&self.a, &self.b),
                self.bound
            ),
            Some(k) => format!(
                "{} {}, {} with the ×{k:.2} few-repeats allowance, {verdict} ×{}",
                x(self.ratio),
                on_repeats(self.a.n.min(self.b.n)),
                x(self.worst),
                self.bound
            ),
        }
    }
}

/// What of `scenarios` × `targets` was not measured: "django-sync on io",
/// or the scenario alone when no target of the run measured it (the run
/// left it out), marked so [`gone_words`] can list such scenarios together.
fn missing(g: &Lookup, scenarios: &[&str], targets: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for s in scenarios {
        let absent: Vec<&&str> = targets
            .iter()
            .filter(|t| g.levels(t, s).is_empty())
            .collect();
        let run_has_it = g.targets().iter().any(|t| !g.levels(t, s).is_empty());
        if !absent.is_empty() && !run_has_it {
            out.push(format!("{s}{NOT_RUN}"));
        } else {
            out.extend(absent.iter().map(|t| format!("{t} on {s}")));
        }
    }
    out
}

/// Marks a [`missing`] entry that is a whole scenario.
const NOT_RUN: &str = " (scenario not in this run)";

/// The missing figures in words: "plaintext, queries and cpu (scenarios
/// not in this run); django-sync on io".
fn gone_words(list: &[String]) -> String {
    let scenarios: Vec<&str> = list
        .iter()
        .filter_map(|e| e.strip_suffix(NOT_RUN))
        .collect();
    let points: Vec<&str> = list
        .iter()
        .filter(|e| !e.ends_with(NOT_RUN))
        .map(String::as_str)
        .collect();
    let mut parts = Vec::new();
    match scenarios.as_slice() {
        [] => {}
        [one] => parts.push(format!("{one}{NOT_RUN}")),
        [init @ .., last] => parts.push(format!(
            "{} and {last} (scenarios not in this run)",
            init.join(", ")
        )),
    }
    if !points.is_empty() {
        parts.push(points.join(", "));
    }
    parts.join("; ")
}

/// Ends `evidence` with the comparisons left undecided for lack of usable
/// figures, if any.
fn push_unusable(evidence: &mut String, unusable: &[String]) {
    if !unusable.is_empty() {
        evidence.push_str(&format!(
            "; undecided for lack of usable figures: {}",
            unusable.join(", ")
        ));
    }
}

/// Ends `evidence` with what was not measured ([`gone_words`]), if anything.
fn push_gone(evidence: &mut String, gone: &[String]) {
    if !gone.is_empty() {
        evidence.push_str(&format!("; not measured: {}", gone_words(gone)));
    }
}

fn not_measured(list: &[String]) -> Finding {
    if list.is_empty() {
        // Only excluded figures were missing; `claims::evaluate` names them.
        return Finding::new(
            Verdict::Inconclusive,
            "no usable figures for this claim.".to_string(),
        );
    }
    Finding::new(
        Verdict::Inconclusive,
        format!("not measured: {}.", gone_words(list)),
    )
}

/// "node on io at 256 connections" for each of `targets` whose figures at
/// `level` were all excluded.
fn excluded_at(g: &Lookup, scenario: &str, level: u64, targets: &[&str]) -> Vec<String> {
    targets
        .iter()
        .filter(|t| g.is_excluded(t, scenario, level))
        .map(|t| format!("{t} on {scenario} at {}", at(level, g.model(t, scenario))))
        .collect()
}

/// Inconclusive because the figures the verdict rests on were excluded.
fn excluded_finding(list: &[String]) -> Finding {
    Finding::new(
        Verdict::Inconclusive,
        format!("no usable figures for {}, so no verdict.", list.join(", ")),
    )
}

/// Judges one figure of two targets at one level of a scenario.
// Each argument is a distinct coordinate of the comparison; a struct would
// only rename them.
#[allow(clippy::too_many_arguments)]
fn judge_at(
    g: &Lookup,
    scenario: &str,
    level: u64,
    a: &str,
    b: &str,
    figure: Figure,
    higher_is_better: bool,
    noise: NoisePolicy,
) -> Option<Judgement> {
    let ra = g.get(a, scenario, level)?;
    let rb = g.get(b, scenario, level)?;
    judge(figure(ra), figure(rb), higher_is_better, noise)
}

/// Median (level, rps, p99) points of a target on a scenario; p99 is
/// infinite where it counts as failing.
pub fn curve(g: &Lookup, target: &str, scenario: &str) -> Vec<(u64, f64, f64)> {
    g.levels(target, scenario)
        .into_iter()
        .filter_map(|l| {
            let r = g.get(target, scenario, l)?;
            Some((l, median(&r.rps)?, median(&r.p99_us)?))
        })
        .collect()
}

/// Whether no request of the curve succeeded at any of its levels.
pub fn never_succeeded(c: &[(u64, f64, f64)]) -> bool {
    !c.is_empty() && c.iter().all(|p| p.1 == 0.0 && p.2.is_infinite())
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
