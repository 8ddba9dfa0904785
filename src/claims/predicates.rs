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
use crate::stats::{
    Estimate, Favours, Judgement, NoisePolicy, RANGE_ONLY_REPEATS, judge, knee, median,
};

use super::Verdict;
use super::lookup::Lookup;
use super::spec::Predicate;

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

/// "not measured: django-sync on io, node on cpu".
fn missing(g: &Lookup, scenarios: &[&str], targets: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for s in scenarios {
        for t in targets {
            if g.levels(t, s).is_empty() {
                out.push(format!("{t} on {s}"));
            }
        }
    }
    out
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
        format!("not measured: {}.", list.join(", ")),
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

/// The knee of a curve in words: "knee at 64", "no knee", or "no
/// successful request at any level" (an all-failing target has no curve
/// to read a knee from, and must not read as "still growing").
fn knee_words(c: &[(u64, f64, f64)], growth_fraction: f64) -> String {
    if never_succeeded(c) {
        return "no successful request at any level".to_string();
    }
    match knee(c, growth_fraction) {
        Some(l) => format!("knee at {l}"),
        None => "no knee".to_string(),
    }
}

/// Scaling: the subject's rps at the highest common level must beat each
/// `versus` target's beyond noise, **and** its growth from the lowest to
/// the highest common level must beat theirs beyond noise.
///
/// Growth is judged per repeat: each repeat's rps at the highest level over
/// the same repeat's rps at the lowest gives one growth factor, and the two
/// targets' growth factors go through [`judge`] like any other figure (×1.2
/// with non-overlapping ranges/intervals of ≥ 3 repeats, ×1.5 with fewer).
/// Pairing a repeat with itself keeps what the two levels of one pass share
/// (the machine's state at the time) out of the spread. A repeat whose
/// lowest level counts as failing (no success, or more than 1 % errors)
/// grew from nothing: its factor is 0, so it can only count against its
/// own target. Refuted when a `versus` target's rps at the highest common
/// level is ahead beyond noise.
fn scaling(
    g: &Lookup,
    noise: NoisePolicy,
    scenario: &str,
    subject: &str,
    versus: &[String],
    growth_fraction: f64,
) -> Finding {
    let mut all: Vec<&str> = vec![subject];
    all.extend(versus.iter().map(String::as_str));
    let gone = missing(g, &[scenario], &all);
    if !gone.is_empty() {
        return not_measured(&gone);
    }
    let (Some(lo), Some(hi)) = (
        g.lowest_common_level(scenario, &all),
        g.highest_common_level(scenario, &all),
    ) else {
        return Finding::new(
            Verdict::Inconclusive,
            format!("{} have no level in common on {scenario}.", all.join(", ")),
        );
    };
    let model = g.model(subject, scenario);
    if lo == hi {
        return Finding::new(
            Verdict::Inconclusive,
            format!(
                "only one common level ({}) on {scenario}, so growth cannot be seen.",
                at(hi, model)
            ),
        );
    }
    let mut unusable = excluded_at(g, scenario, lo, &all);
    unusable.extend(excluded_at(g, scenario, hi, &all));
    if !unusable.is_empty() {
        return excluded_finding(&unusable);
    }
    // (growth factors per repeat, knee in words, median rps at the top).
    let growth_and_knee = |t: &str| -> (Vec<f64>, String, f64) {
        let c = curve(g, t, scenario);
        let top = c.iter().find(|p| p.0 == hi).map_or(0.0, |p| p.1);
        (
            growth_per_repeat(g, t, scenario, lo, hi),
            knee_words(&c, growth_fraction),
            top,
        )
    };
    let (sub_growth, sub_knee, sub_rps) = growth_and_knee(subject);
    let mut parts = Vec::new();
    let mut all_ahead = true;
    let mut any_behind = false;
    let mut count = RepeatCount::new();
    for v in versus {
        let (v_growth, v_knee, v_rps) = growth_and_knee(v);
        let Some(j) = judge_at(g, scenario, hi, subject, v, rps_of, true, noise) else {
            return not_measured(&[format!("{v} on {scenario} at {}", at(hi, model))]);
        };
        count.add(&j);
        let growth = judge(&sub_growth, &v_growth, true, noise);
        if let Some(jg) = &growth {
            count.add(jg);
        }
        let grew_more = growth.as_ref().is_some_and(|jg| jg.favours == Favours::A);
        all_ahead &= j.favours == Favours::A && grew_more;
        any_behind |= j.favours == Favours::B;
        let growth_words = match &growth {
            Some(jg) => format!("its growth {} ({})", lead(jg.advantage), rule_words(jg)),
            None => format!("its growth not judged (no repeat of both measured at {lo} and {hi})"),
        };
        parts.push(format!(
            "{v} grew {} ({v_knee}) to {}: {subject}'s rps at {hi} {} ({}), {growth_words}",
            growth_median(&v_growth),
            rps(v_rps),
            lead(j.advantage),
            rule_words(&j),
        ));
    }
    let verdict = if any_behind {
        Verdict::Refuted
    } else if all_ahead {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    };
    Finding::new(
        verdict,
        format!(
            "On {scenario} from {lo} to {}, {subject}'s throughput grew {} ({sub_knee}) to {} while {} ({}; growth judged per repeat, each repeat's rps at {hi} over its rps at {lo}).",
            at(hi, model),
            growth_median(&sub_growth),
            rps(sub_rps),
            parts.join(" and "),
            repeats_phrase(count, noise)
        ),
    )
}

/// The growth factor of `target`'s rps from `lo` to `hi`, one per repeat
/// measured at both levels (see [`scaling`]); 0 for a repeat whose lowest
/// level counts as failing.
fn growth_per_repeat(g: &Lookup, target: &str, scenario: &str, lo: u64, hi: u64) -> Vec<f64> {
    let (Some(rlo), Some(rhi)) = (g.get(target, scenario, lo), g.get(target, scenario, hi)) else {
        return Vec::new();
    };
    rhi.repeat
        .iter()
        .zip(&rhi.rps)
        .filter_map(|(repeat, &top)| {
            let i = rlo.repeat.iter().position(|r| r == repeat)?;
            let base = rlo.rps[i];
            let counts = rlo.p99_us[i].is_finite() && base > 0.0;
            Some(if counts { top / base } else { 0.0 })
        })
        .collect()
}

/// "×2.06", or "—" when no repeat grew from a level that counts (growth
/// from nothing must not read as growth).
fn growth_median(samples: &[f64]) -> String {
    match median(samples) {
        Some(m) if samples.iter().any(|s| *s > 0.0) => x(m),
        _ => "—".to_string(),
    }
}

/// One scenario's head-to-head at the highest common level.
struct HeadToHead {
    scenario: String,
    level: u64,
    rps: Judgement,
    p99: Judgement,
    winner: Favours,
}

impl HeadToHead {
    /// What decided the scenario, with the rule the deciding figure
    /// passed: "ahead on rps: ×1.90, ranges of 3 repeats apart", "within
    /// noise".
    fn decided(&self) -> String {
        let side = match self.winner {
            Favours::A => "ahead",
            Favours::B => "behind",
            Favours::Neither if self.rps.favours == self.p99.favours => {
                return "within noise".to_string();
            }
            Favours::Neither => return "better on one figure, worse on the other".to_string(),
        };
        let (figure, j) = if self.rps.favours == self.winner {
            ("rps", &self.rps)
        } else {
            ("p99", &self.p99)
        };
        format!("{side} on {figure}: {}", rule_words(j))
    }
}

fn head_to_head(
    g: &Lookup,
    scenario: &str,
    a: &str,
    b: &str,
    noise: NoisePolicy,
) -> Option<HeadToHead> {
    let level = g.highest_common_level(scenario, &[a, b])?;
    let rps = judge_at(g, scenario, level, a, b, rps_of, true, noise)?;
    let p99 = judge_at(g, scenario, level, a, b, p99_of, false, noise)?;
    let says = |f: Favours| rps.favours == f || p99.favours == f;
    let winner = match (says(Favours::A), says(Favours::B)) {
        (true, false) => Favours::A,
        (false, true) => Favours::B,
        _ => Favours::Neither,
    };
    Some(HeadToHead {
        scenario: scenario.to_string(),
        level,
        rps,
        p99,
        winner,
    })
}

fn ratio_at_highest(
    g: &Lookup,
    noise: NoisePolicy,
    scenarios: &[String],
    subject: &str,
    versus: &str,
    min_share: f64,
    also: &[String],
) -> Finding {
    let mut rows = Vec::new();
    let mut gone = Vec::new();
    let mut unusable = Vec::new();
    for s in scenarios {
        match head_to_head(g, s, subject, versus, noise) {
            Some(h) => rows.push(h),
            None => match g.highest_common_level(s, &[subject, versus]) {
                Some(level) => unusable.extend(excluded_at(g, s, level, &[subject, versus])),
                None => gone.extend(missing(g, &[s], &[subject, versus])),
            },
        }
    }
    if rows.is_empty() {
        return if unusable.is_empty() {
            not_measured(&gone)
        } else {
            excluded_finding(&unusable)
        };
    }
    // A scenario whose figures were excluded counts without deciding.
    let n = rows.len() + unusable.len();
    let wins_a = rows.iter().filter(|h| h.winner == Favours::A).count();
    let wins_b = rows.iter().filter(|h| h.winner == Favours::B).count();
    let verdict = if wins_a as f64 >= min_share * n as f64 && wins_a > wins_b {
        Verdict::Supported
    } else if wins_b as f64 >= min_share * n as f64 && wins_b > wins_a {
        Verdict::Refuted
    } else {
        Verdict::Inconclusive
    };
    let mut count = RepeatCount::new();
    for h in &rows {
        count.add(&h.rps);
        count.add(&h.p99);
    }
    let per: Vec<String> = rows
        .iter()
        .map(|h| {
            format!(
                "{} {}/{} at {} ({})",
                h.scenario,
                x(h.rps.advantage),
                x(h.p99.advantage),
                h.level,
                h.decided()
            )
        })
        .collect();
    let mut evidence = format!(
        "{subject} was ahead of {versus} beyond noise in {wins_a} of {n} measured scenarios and behind in {wins_b} ({subject}'s rps/p99 advantage at the highest common level: {}; {})",
        per.join(", "),
        repeats_phrase(count, noise)
    );
    if !unusable.is_empty() {
        evidence.push_str(&format!(
            "; undecided for lack of usable figures: {}",
            unusable.join(", ")
        ));
    }
    for other in also {
        if let Some(summary) = geo_mean_ratio(g, scenarios, other, versus) {
            evidence.push_str(&format!("; {other} vs {versus}: {summary}"));
        }
    }
    if !gone.is_empty() {
        evidence.push_str(&format!("; not measured: {}", gone.join(", ")));
    }
    evidence.push('.');
    Finding::new(verdict, evidence)
}

/// rps ratio of `a` over `b` at the highest common level of each scenario
/// (medians), as (scenario, level, ratio).
pub fn rps_ratios(g: &Lookup, scenarios: &[String], a: &str, b: &str) -> Vec<(String, u64, f64)> {
    scenarios
        .iter()
        .filter_map(|s| {
            let level = g.highest_common_level(s, &[a, b])?;
            let ra = median(&g.get(a, s, level)?.rps)?;
            let rb = median(&g.get(b, s, level)?.rps)?;
            Some((s.clone(), level, crate::stats::ratio(ra, rb)))
        })
        .collect()
}

/// "rps ×1.40 (geometric mean over 8 scenarios, ×0.80 to ×3.10)", plus the
/// scenarios left out of the mean because a side had no successful
/// request there (a ratio of 0 or ∞ has no logarithm); they are named, so
/// a target's failures never quietly drop out of its average.
fn geo_mean_ratio(g: &Lookup, scenarios: &[String], a: &str, b: &str) -> Option<String> {
    let all = rps_ratios(g, scenarios, a, b);
    if all.is_empty() {
        return None;
    }
    let ratios: Vec<f64> = all
        .iter()
        .map(|r| r.2)
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    let named = |keep: fn(f64) -> bool| -> Vec<&str> {
        all.iter()
            .filter(|r| keep(r.2))
            .map(|r| r.0.as_str())
            .collect()
    };
    let a_failed = named(|r| r == 0.0);
    let b_failed = named(|r| r.is_infinite());
    let mut text = if ratios.is_empty() {
        "rps: no scenario where both answered".to_string()
    } else {
        let gm = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let over = match ratios.len() {
            1 => "1 scenario".to_string(),
            n => format!("{n} scenarios"),
        };
        format!(
            "rps {} (geometric mean over {over}, {} to {})",
            x(gm),
            x(lo),
            x(hi)
        )
    };
    if !a_failed.is_empty() {
        text.push_str(&format!(
            ", and no successful request of {a} on {}",
            a_failed.join(", ")
        ));
    }
    if !b_failed.is_empty() {
        text.push_str(&format!(
            ", and no successful request of {b} on {}",
            b_failed.join(", ")
        ));
    }
    Some(text)
}

fn latency(
    g: &Lookup,
    noise: NoisePolicy,
    scenarios: &[String],
    subject: &str,
    versus: &str,
    ratio: f64,
) -> Finding {
    let mut per = Vec::new();
    let mut gone = Vec::new();
    let mut unusable = Vec::new();
    let (mut pairs, mut slower, mut quick) = (0usize, 0usize, 0usize);
    let mut count = RepeatCount::new();
    for s in scenarios {
        let both = [subject, versus];
        let (Some(lo), Some(hi)) = (
            g.lowest_common_level(s, &both),
            g.highest_common_level(s, &both),
        ) else {
            gone.extend(missing(g, &[s], &both));
            continue;
        };
        let j50 = judge_at(g, s, lo, subject, versus, p50_of, false, noise);
        let j99 = judge_at(g, s, hi, subject, versus, p99_of, false, noise);
        let (Some(j50), Some(j99)) = (j50, j99) else {
            let mut excl = excluded_at(g, s, lo, &both);
            if hi != lo {
                excl.extend(excluded_at(g, s, hi, &both));
            }
            if excl.is_empty() {
                gone.push(format!("{subject} or {versus} on {s}"));
            } else {
                // Both comparisons of the scenario count, undecided.
                pairs += 2;
                unusable.extend(excl);
            }
            continue;
        };
        let mut words = Vec::new();
        for (j, figure, fig, level) in [
            (&j50, p50_of as Figure, "p50", lo),
            (&j99, p99_of as Figure, "p99", hi),
        ] {
            pairs += 1;
            count.add(j);
            let (Some(rs), Some(rv)) = (g.get(subject, s, level), g.get(versus, s, level)) else {
                continue;
            };
            // "Within ×ratio" is an upper bound on subject / versus
            // latency, checked beyond noise (see [`within`]); a failing
            // subject never stays within it, not even of a versus that
            // failed too.
            let b = within(figure(rs), figure(rv), ratio, noise);
            let held = b.is_some_and(|b| b.held);
            let how = if j.favours == Favours::B {
                slower += 1;
                format!("slower beyond noise: {}", rule_words(j))
            } else {
                match b {
                    Some(b) => b.words(),
                    None => "not judged".to_string(),
                }
            };
            if held {
                quick += 1;
            }
            // advantage = versus / subject latency; its inverse is how many
            // times slower the subject is.
            words.push(format!("{fig} {} at {level} ({how})", x(1.0 / j.advantage)));
        }
        per.push(format!("{s} {}", words.join(", ")));
    }
    if pairs == 0 {
        return not_measured(&gone);
    }
    if per.is_empty() {
        return excluded_finding(&unusable);
    }
    let verdict = if slower * 2 > pairs {
        Verdict::Refuted
    } else if quick == pairs && slower == 0 {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    };
    let mut evidence = format!(
        "{subject}'s latency relative to {versus} (×1 = equal, higher = slower) was {}; {subject} was slower beyond noise in {slower} of {pairs} comparisons and within ×{ratio} beyond noise in {quick} ({}; \"within\" holds when the worst case the ranges or intervals allow stays within ×{ratio}, or with fewer than 3 repeats the ratio times ×{:.2})",
        per.join("; "),
        repeats_phrase(count, noise),
        noise.few_repeats_ratio / noise.ratio
    );
    if !unusable.is_empty() {
        evidence.push_str(&format!(
            "; undecided for lack of usable figures: {}",
            unusable.join(", ")
        ));
    }
    if !gone.is_empty() {
        evidence.push_str(&format!("; not measured: {}", gone.join(", ")));
    }
    evidence.push('.');
    Finding::new(verdict, evidence)
}

fn tail_under_load(
    g: &Lookup,
    noise: NoisePolicy,
    scenarios: &[String],
    subject: &str,
    versus: &[String],
    max_error_rate: f64,
) -> Finding {
    let mut all: Vec<&str> = vec![subject];
    all.extend(versus.iter().map(String::as_str));
    let mut per = Vec::new();
    let mut gone = Vec::new();
    let mut unusable = Vec::new();
    let (mut supported, mut refuted, mut measured) = (0, 0, 0);
    let mut count = RepeatCount::new();
    for s in scenarios {
        let m = missing(g, &[s], &all);
        let Some(hi) = g.highest_common_level(s, &all).filter(|_| m.is_empty()) else {
            gone.extend(m);
            continue;
        };
        let excl = excluded_at(g, s, hi, &all);
        if !excl.is_empty() {
            // Counts as measured, undecided: it keeps the claim from
            // being supported without deciding it.
            measured += 1;
            unusable.extend(excl);
            continue;
        }
        let Some(sub) = g.get(subject, s, hi) else {
            continue;
        };
        measured += 1;
        let err = median(&sub.error_rate).unwrap_or(1.0);
        let p99 = median(&sub.p99_us).unwrap_or(f64::INFINITY);
        let mut ahead_all = err <= max_error_rate;
        let mut behind_any = err > max_error_rate;
        let mut vs = Vec::new();
        for v in versus {
            if let Some(j) = judge_at(g, s, hi, subject, v, p99_of, false, noise) {
                count.add(&j);
                ahead_all &= j.favours == Favours::A;
                behind_any |= j.favours == Favours::B;
                vs.push(format!(
                    "{v} {} ({subject}'s p99 {}: {})",
                    crate::units::latency(j.b.median),
                    lead(j.advantage),
                    rule_words(&j)
                ));
            }
        }
        if behind_any {
            refuted += 1;
        } else if ahead_all {
            supported += 1;
        }
        per.push(format!(
            "on {s} at {} {subject}'s p99 was {} with {:.2}% errors vs {}",
            at(hi, g.model(subject, s)),
            crate::units::latency(p99),
            err * 100.0,
            vs.join(", ")
        ));
    }
    if measured == 0 {
        return not_measured(&gone);
    }
    if per.is_empty() {
        return excluded_finding(&unusable);
    }
    let verdict = if refuted > 0 {
        Verdict::Refuted
    } else if supported == measured {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    };
    let mut evidence = format!(
        "{} ({})",
        capitalize(&per.join("; ")),
        repeats_phrase(count, noise)
    );
    if !unusable.is_empty() {
        evidence.push_str(&format!(
            "; undecided for lack of usable figures: {}",
            unusable.join(", ")
        ));
    }
    if !gone.is_empty() {
        evidence.push_str(&format!("; not measured: {}", gone.join(", ")));
    }
    evidence.push('.');
    Finding::new(verdict, evidence)
}

fn cpu_bound(
    g: &Lookup,
    noise: NoisePolicy,
    scenario: &str,
    subject: &str,
    versus: &[String],
    max_growth: f64,
) -> Finding {
    let levels = g.levels(subject, scenario);
    let (Some(&lo), Some(&hi)) = (levels.first(), levels.last()) else {
        return not_measured(&[format!("{subject} on {scenario}")]);
    };
    if lo == hi {
        return Finding::new(
            Verdict::Inconclusive,
            format!("only one level of {subject} on {scenario}, so growth cannot be seen."),
        );
    }
    let mut unusable = excluded_at(g, scenario, lo, &[subject]);
    unusable.extend(excluded_at(g, scenario, hi, &[subject]));
    if !unusable.is_empty() {
        return excluded_finding(&unusable);
    }
    let (Some(rlo), Some(rhi)) = (g.get(subject, scenario, lo), g.get(subject, scenario, hi))
    else {
        return not_measured(&[format!("{subject} on {scenario}")]);
    };
    let model = g.model(subject, scenario);
    // Growth from a failing lowest level (no success, or too many errors)
    // would read as scaling, in the subject's favour: no verdict.
    if median(&rlo.p99_us).is_none_or(f64::is_infinite) {
        return Finding::new(
            Verdict::Inconclusive,
            format!(
                "{subject}'s figures at the lowest level ({}) on {scenario} count as failing, so its growth from there cannot be judged.",
                at(lo, model)
            ),
        );
    }
    // Growth judged against the growth limit as the margin: "clearly grew
    // ×max_growth or more" refutes.
    let growth_policy = NoisePolicy {
        ratio: max_growth,
        few_repeats_ratio: max_growth * noise.few_repeats_ratio / noise.ratio,
    };
    let (Some(growth), Some(latency)) = (
        judge(&rhi.rps, &rlo.rps, true, growth_policy),
        judge(&rhi.p99_us, &rlo.p99_us, false, noise),
    ) else {
        return not_measured(&[format!("{subject} on {scenario}")]);
    };
    // "Grows less than ×max_growth" is an upper bound, checked beyond
    // noise like the latency bound (see [`within`]): one repeat at ×1.45
    // does not show it.
    let flat = within(&rhi.rps, &rlo.rps, max_growth, noise);
    let p99_rise = 1.0 / latency.advantage;
    let verdict = if growth.favours == Favours::A {
        Verdict::Refuted
    } else if flat.is_some_and(|b| b.held) && latency.favours == Favours::B {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    };
    let k = knee_words(&curve(g, subject, scenario), 0.1);
    let growth_how = if growth.favours == Favours::A {
        format!(
            "×{max_growth} or more beyond noise: {}",
            rule_words(&growth)
        )
    } else {
        flat.map_or_else(|| "not judged".to_string(), |b| b.words())
    };
    let mut evidence = format!(
        "On {scenario} from {lo} to {}, {subject}'s throughput grew {} ({growth_how}; {k}, {} at the top) while its p99 rose {} ({}; {} to {})",
        at(hi, model),
        x(growth.advantage),
        rps(growth.a.median),
        x(p99_rise),
        rule_words(&latency),
        crate::units::latency(latency.b.median),
        crate::units::latency(latency.a.median),
    );
    let vs: Vec<String> = versus
        .iter()
        .filter_map(|v| {
            let level = g.highest_common_level(scenario, &[subject, v])?;
            let j = judge_at(g, scenario, level, subject, v, rps_of, true, noise)?;
            Some(format!("{} {v}'s rps at {level}", x(j.advantage)))
        })
        .collect();
    if !vs.is_empty() {
        evidence.push_str(&format!("; {subject} made {}", vs.join(", ")));
    }
    let mut count = RepeatCount::new();
    count.add(&growth);
    count.add(&latency);
    evidence.push_str(&format!(" ({})", repeats_phrase(count, noise)));
    evidence.push('.');
    Finding::new(verdict, evidence)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::StepGroups;
    use crate::results::{LatencySummary, Provenance, RunResults, StepRecord, Summary};

    /// One step: `rps` successful req/s, p50 = p99 / 2.
    fn step(target: &str, level: u64, repeat: u32, rps: f64, p99: u64) -> StepRecord {
        StepRecord {
            target: target.into(),
            scenario: "s".into(),
            model: Model::Closed,
            level,
            repeat,
            started_at: String::new(),
            summary: Summary {
                requests: (rps * 10.0) as u64,
                errors: 0,
                error_rate: 0.0,
                duration_s: 10.0,
                rps,
                latency_us: Some(LatencySummary {
                    min: 1,
                    mean: p99 as f64 / 2.0,
                    p50: p99 / 2,
                    p90: p99,
                    p99,
                    p999: p99,
                    max: p99,
                }),
                ..Summary::default()
            },
            endpoints: Default::default(),
            histograms: Default::default(),
            timeline: Vec::new(),
            server: None,
            flags: Vec::new(),
        }
    }

    /// One point: (target, level, per-repeat (rps, p99)).
    type Point<'a> = (&'a str, u64, &'a [(f64, u64)]);

    /// Groups of `points`.
    fn groups(points: &[Point]) -> StepGroups {
        let mut run = RunResults::new(Provenance::default());
        for (t, level, repeats) in points {
            for (i, (rps, p99)) in repeats.iter().enumerate() {
                run.steps.push(step(t, *level, i as u32, *rps, *p99));
            }
        }
        StepGroups::for_verdicts(&run)
    }

    fn latency_of(g: &StepGroups) -> Finding {
        let p = Predicate::LatencyUncontendedAndLoaded {
            scenarios: vec!["s".into()],
            subject: "a".into(),
            versus: "b".into(),
            ratio: 1.2,
        };
        evaluate(&p, &Lookup::new(g), NoisePolicy::default())
    }

    fn scaling_of(g: &StepGroups) -> Finding {
        let p = Predicate::Scaling {
            scenario: "s".into(),
            subject: "a".into(),
            versus: vec!["b".into()],
            growth_fraction: 0.1,
        };
        evaluate(&p, &Lookup::new(g), NoisePolicy::default())
    }

    #[test]
    fn one_repeat_at_1_19_is_not_within_1_2() {
        // a is ×1.19 slower than b at both levels, one repeat each.
        let g = groups(&[
            ("a", 1, &[(100.0, 11_900)]),
            ("a", 64, &[(1_000.0, 119_000)]),
            ("b", 1, &[(100.0, 10_000)]),
            ("b", 64, &[(1_000.0, 100_000)]),
        ]);
        let f = latency_of(&g);
        assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.evidence);
        assert!(
            f.evidence.contains(
                "×1.19 on one repeat, ×1.49 with the ×1.25 few-repeats allowance, beyond ×1.2"
            ),
            "{}",
            f.evidence
        );
        // ×0.95 on one repeat clears the allowance.
        let g = groups(&[
            ("a", 1, &[(100.0, 9_500)]),
            ("a", 64, &[(1_000.0, 95_000)]),
            ("b", 1, &[(100.0, 10_000)]),
            ("b", 64, &[(1_000.0, 100_000)]),
        ]);
        let f = latency_of(&g);
        assert_eq!(f.verdict, Verdict::Supported, "{}", f.evidence);
        assert!(
            f.evidence.contains("within ×1.2 beyond noise in 2"),
            "{}",
            f.evidence
        );
    }

    #[test]
    fn within_bound_with_repeats_uses_the_worst_case_of_the_ranges() {
        let a = [1_050.0, 1_100.0, 1_150.0];
        let b = [990.0, 1_000.0, 1_010.0];
        let w = within(&a, &b, 1.2, NoisePolicy::default()).unwrap();
        assert!(w.held, "{w:?}");
        assert!((w.worst - 1_150.0 / 990.0).abs() < 1e-9);
        assert!(
            w.words()
                .contains("across the ranges of 3 repeats, within ×1.2")
        );
        // Medians ×1.1 apart, but the spread reaches ×1.25: not shown.
        let a = [1_000.0, 1_100.0, 1_240.0];
        let w = within(&a, &b, 1.2, NoisePolicy::default()).unwrap();
        assert!(!w.held, "{w:?}");
        // A failing repeat never stays within a bound.
        let a = [1_000.0, 1_000.0, f64::INFINITY];
        assert!(!within(&a, &b, 1.2, NoisePolicy::default()).unwrap().held);
        let inf = [f64::INFINITY];
        assert!(
            !within(&inf, &inf, 1.2, NoisePolicy::default())
                .unwrap()
                .held
        );
    }

    #[test]
    fn scaling_growth_within_noise_is_inconclusive() {
        // a ends ×1.4 ahead at 64, but grew ×10.0 against b's ×9.3: the
        // growth difference is under the ×1.2 ratio.
        let g = groups(&[
            ("a", 1, &[(200.0, 1_000), (204.0, 1_000), (196.0, 1_000)]),
            (
                "a",
                64,
                &[(2_000.0, 9_000), (2_040.0, 9_000), (1_960.0, 9_000)],
            ),
            ("b", 1, &[(150.0, 1_000), (153.0, 1_000), (147.0, 1_000)]),
            (
                "b",
                64,
                &[(1_400.0, 9_000), (1_428.0, 9_000), (1_372.0, 9_000)],
            ),
        ]);
        let f = scaling_of(&g);
        assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.evidence);
        assert!(
            f.evidence.contains("under the ×1.2 ratio"),
            "{}",
            f.evidence
        );
        // Growth ×2 apart on average but noisy per repeat: the ranges of
        // the growth factors overlap.
        let g = groups(&[
            ("a", 1, &[(100.0, 1_000), (100.0, 1_000), (100.0, 1_000)]),
            (
                "a",
                64,
                &[(3_000.0, 9_000), (1_500.0, 9_000), (2_800.0, 9_000)],
            ),
            ("b", 1, &[(100.0, 1_000), (100.0, 1_000), (100.0, 1_000)]),
            (
                "b",
                64,
                &[(1_000.0, 9_000), (1_200.0, 9_000), (1_600.0, 9_000)],
            ),
        ]);
        let f = scaling_of(&g);
        assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.evidence);
        assert!(
            f.evidence
                .contains("its growth ×2.33 better (×2.33, but the ranges of 3 repeats overlap)"),
            "{}",
            f.evidence
        );
    }

    #[test]
    fn scaling_clear_growth_is_supported_and_names_the_rule() {
        let g = groups(&[
            ("a", 1, &[(100.0, 1_000), (102.0, 1_000), (98.0, 1_000)]),
            (
                "a",
                64,
                &[(3_000.0, 2_000), (3_060.0, 2_000), (2_940.0, 2_000)],
            ),
            ("b", 1, &[(100.0, 1_000), (102.0, 1_000), (98.0, 1_000)]),
            ("b", 64, &[(300.0, 9_000), (306.0, 9_000), (294.0, 9_000)]),
        ]);
        let f = scaling_of(&g);
        assert_eq!(f.verdict, Verdict::Supported, "{}", f.evidence);
        assert!(
            f.evidence
                .contains("its growth ×10.00 better (×10.00, ranges of 3 repeats apart)"),
            "{}",
            f.evidence
        );
        assert!(
            f.evidence.contains("growth judged per repeat"),
            "{}",
            f.evidence
        );
    }

    #[test]
    fn a_repeat_failing_at_the_lowest_level_has_no_growth() {
        let mut run = RunResults::new(Provenance::default());
        for r in 0..3 {
            run.steps.push(step("a", 1, r, 100.0, 1_000));
            run.steps.push(step("a", 64, r, 3_000.0, 2_000));
        }
        // Repeat 1 at level 1: 5 % errors, so its latency counts as failing.
        run.steps[2].summary.error_rate = 0.05;
        let g = StepGroups::for_verdicts(&run);
        assert_eq!(
            growth_per_repeat(&Lookup::new(&g), "a", "s", 1, 64),
            [30.0, 0.0, 30.0]
        );
        assert_eq!(growth_median(&[0.0, 0.0]), "—");
    }

    #[test]
    fn rule_words_name_the_part_of_the_rule() {
        let p = NoisePolicy::default();
        let j = judge(&[190.0, 191.0, 189.0], &[100.0, 101.0, 99.0], true, p).unwrap();
        assert_eq!(rule_words(&j), "×1.90, ranges of 3 repeats apart");
        let j = judge(&[210.0], &[100.0], true, p).unwrap();
        assert_eq!(rule_words(&j), "×2.10 on one repeat, over the ×1.5 margin");
        let j = judge(&[119.0], &[100.0], true, p).unwrap();
        assert_eq!(rule_words(&j), "×1.19 on one repeat, under the ×1.5 margin");
        let j = judge(&[110.0, 111.0, 109.0], &[100.0, 101.0, 99.0], true, p).unwrap();
        assert_eq!(rule_words(&j), "×1.10, under the ×1.2 ratio");
    }
}
