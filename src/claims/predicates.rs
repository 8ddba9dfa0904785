//! What each predicate kind computes: from grouped results to a verdict and
//! one sentence of evidence (figures, targets, scenario, levels, repeats),
//! plus the predicate's own wording. Every comparison goes through
//! [`crate::stats::judge`], so a difference counts only when it clears the
//! ratio and the run-to-run noise (non-overlapping intervals of the medians
//! with ≥ 3 repeats: the range of the repeats up to 5 repeats, a 95 %
//! bootstrap interval beyond, and labelled so; a larger margin below 3).
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
//! and never as "still growing"; a latency comparison counts it as slower,
//! never as "within the ratio"; tail_under_load refutes a failing subject;
//! cpu_bound never refutes from a failing lowest level (growth from
//! nothing is not growth). `claims::evaluate` names the failing points.

use crate::results::Model;
use crate::stats::{
    Favours, Judgement, NoisePolicy, RANGE_ONLY_REPEATS, Repeats, StepGroups, judge, knee, median,
};

use super::Verdict;
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
pub fn evaluate(p: &Predicate, g: &StepGroups, noise: NoisePolicy) -> Finding {
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
            "scaling on {scenario}: {subject}'s rps at the highest common level exceeds {} {margin}, and its rps grows more from the lowest to the highest level (knee: growth < {:.0}% per step while p99 climbs)",
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
            "ratio at the highest common level on {}: {subject} counts as ahead of {versus} in a scenario when its rps or p99 is better {margin} and neither is worse; supported when ahead in ≥ {:.0}% of measured scenarios, refuted when {versus} is",
            scenarios.join(", "),
            min_share * 100.0
        ),
        Predicate::LatencyUncontendedAndLoaded {
            scenarios,
            subject,
            versus,
            ratio,
        } => format!(
            "latency on {}: {subject}'s p50 at the lowest level and p99 at the highest within ×{ratio} of {versus}'s in every comparison (supported), or worse {margin} in most of them (refuted)",
            scenarios.join(", ")
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
            "cpu-bound on {scenario}: {subject}'s rps grows less than ×{max_growth} from the lowest to the highest level while its p99 climbs {margin}; refuted when its rps grows ×{max_growth} or more beyond noise"
        ),
        Predicate::OutOfScope { .. } => "out of scope: not measurable with a load test".into(),
    }
}

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
    if v.is_finite() {
        format!("×{v:.2}")
    } else {
        "×∞".into()
    }
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

/// "not measured: django-sync on io, node on cpu".
fn missing(g: &StepGroups, scenarios: &[&str], targets: &[&str]) -> Vec<String> {
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
fn excluded_at(g: &StepGroups, scenario: &str, level: u64, targets: &[&str]) -> Vec<String> {
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
    g: &StepGroups,
    scenario: &str,
    level: u64,
    a: &str,
    b: &str,
    figure: fn(&Repeats) -> &[f64],
    higher_is_better: bool,
    noise: NoisePolicy,
) -> Option<Judgement> {
    let ra = g.get(a, scenario, level)?;
    let rb = g.get(b, scenario, level)?;
    judge(figure(ra), figure(rb), higher_is_better, noise)
}

/// Median (level, rps, p99) points of a target on a scenario; p99 is
/// infinite where it counts as failing.
pub fn curve(g: &StepGroups, target: &str, scenario: &str) -> Vec<(u64, f64, f64)> {
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

fn scaling(
    g: &StepGroups,
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
    // Growth from the lowest to the highest common level; None when the
    // target had no successful request at the lowest (growth from nothing
    // is not growth, and must not count for it).
    let growth_and_knee = |t: &str| -> (Option<f64>, String, f64) {
        let c = curve(g, t, scenario);
        let rps_at = |l: u64| c.iter().find(|p| p.0 == l).map(|p| p.1).unwrap_or(0.0);
        let growth = (rps_at(lo) > 0.0).then(|| crate::stats::ratio(rps_at(hi), rps_at(lo)));
        (growth, knee_words(&c, growth_fraction), rps_at(hi))
    };
    let grew = |growth: Option<f64>| growth.map_or_else(|| "—".to_string(), x);
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
        // A target without growth (failing at the lowest level) is behind
        // any that grew; the subject must have grown to be ahead.
        let grew_more = match (sub_growth, v_growth) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => true,
            (None, _) => false,
        };
        all_ahead &= j.favours == Favours::A && grew_more;
        any_behind |= j.favours == Favours::B;
        parts.push(format!(
            "{v} grew {} ({v_knee}) to {} ({subject}'s rps {})",
            grew(v_growth),
            rps(v_rps),
            lead(j.advantage)
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
            "On {scenario} from {lo} to {}, {subject}'s throughput grew {} ({sub_knee}) to {} while {} ({}).",
            at(hi, model),
            grew(sub_growth),
            rps(sub_rps),
            parts.join(" and "),
            repeats_phrase(count, noise)
        ),
    )
}

/// One scenario's head-to-head at the highest common level.
struct HeadToHead {
    scenario: String,
    level: u64,
    rps: Judgement,
    p99: Judgement,
    winner: Favours,
}

fn head_to_head(
    g: &StepGroups,
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
    g: &StepGroups,
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
                "{} {}/{} at {}",
                h.scenario,
                x(h.rps.advantage),
                x(h.p99.advantage),
                h.level
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
pub fn rps_ratios(
    g: &StepGroups,
    scenarios: &[String],
    a: &str,
    b: &str,
) -> Vec<(String, u64, f64)> {
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
fn geo_mean_ratio(g: &StepGroups, scenarios: &[String], a: &str, b: &str) -> Option<String> {
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
    g: &StepGroups,
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
        for j in [&j50, &j99] {
            pairs += 1;
            count.add(j);
            // advantage = versus / subject latency; its inverse is how many
            // times slower the subject is.
            let times_slower = 1.0 / j.advantage;
            if j.favours == Favours::B {
                slower += 1;
            }
            // A failing subject is never "within the ratio", not even of a
            // versus that failed too (two failures tie at ×1).
            if times_slower <= ratio && j.a.median.is_finite() {
                quick += 1;
            }
        }
        per.push(format!(
            "{s} p50 {} at {lo}, p99 {} at {hi}",
            x(1.0 / j50.advantage),
            x(1.0 / j99.advantage)
        ));
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
        "{subject}'s latency relative to {versus} (×1 = equal, higher = slower) was {}; {subject} was slower beyond noise in {slower} of {pairs} comparisons and within ×{ratio} in {quick} ({})",
        per.join("; "),
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

fn tail_under_load(
    g: &StepGroups,
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
                    "{v} {} ({subject}'s p99 {})",
                    crate::gates::format_us(j.b.median),
                    lead(j.advantage)
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
            crate::gates::format_us(p99),
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
    g: &StepGroups,
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
    let p99_rise = 1.0 / latency.advantage;
    let verdict = if growth.favours == Favours::A {
        Verdict::Refuted
    } else if growth.advantage < max_growth && latency.favours == Favours::B {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    };
    let k = knee_words(&curve(g, subject, scenario), 0.1);
    let mut evidence = format!(
        "On {scenario} from {lo} to {}, {subject}'s throughput grew {} ({k}, {} at the top) while its p99 rose {} ({} to {})",
        at(hi, model),
        x(growth.advantage),
        rps(growth.a.median),
        x(p99_rise),
        crate::gates::format_us(latency.b.median),
        crate::gates::format_us(latency.a.median),
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
