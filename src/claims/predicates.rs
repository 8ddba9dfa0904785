//! What each predicate kind computes: from grouped results to a verdict and
//! one sentence of evidence (figures, targets, scenario, levels, repeats),
//! plus the predicate's own wording. Every comparison goes through
//! [`crate::stats::judge`], so a difference counts only when it clears the
//! ratio and the run-to-run noise (bootstrap intervals with ≥ 3 repeats, a
//! larger margin below that).
//!
//! The groups hold only steps a verdict may rest on (see
//! [`StepGroups::for_verdicts`]). A point whose every repeat was excluded
//! still counts as measured when levels are chosen, so the comparison point
//! never silently moves; when a predicate needs it, the comparison is
//! undecided: a single-scenario claim becomes Inconclusive, and in a
//! multi-scenario claim that scenario counts in the denominator without
//! deciding anything (it can keep a claim from being supported or refuted,
//! never decide it). `claims::evaluate` names the excluded steps.

use crate::results::Model;
use crate::stats::{Favours, Judgement, NoisePolicy, Repeats, StepGroups, judge, knee, median};

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
        "beyond noise (×{} with ≥ 3 repeats and non-overlapping bootstrap intervals, ×{} otherwise)",
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

fn repeats_phrase(n: usize, noise: NoisePolicy) -> String {
    match n {
        0 | 1 => format!(
            "single repeat, so a ×{} margin was required",
            noise.few_repeats_ratio
        ),
        2 => format!(
            "2 repeats, so a ×{} margin was required",
            noise.few_repeats_ratio
        ),
        n => format!("median of {n} repeats with 95% bootstrap intervals"),
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

/// Median (level, rps, p99) points of a target on a scenario.
pub fn curve(g: &StepGroups, target: &str, scenario: &str) -> Vec<(u64, f64, f64)> {
    g.levels(target, scenario)
        .into_iter()
        .filter_map(|l| {
            let r = g.get(target, scenario, l)?;
            Some((l, median(&r.rps)?, median(&r.p99_us)?))
        })
        .collect()
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
    let growth_and_knee = |t: &str| -> (f64, String, f64) {
        let c = curve(g, t, scenario);
        let rps_at = |l: u64| c.iter().find(|p| p.0 == l).map(|p| p.1).unwrap_or(0.0);
        let growth = crate::stats::ratio(rps_at(hi), rps_at(lo));
        let k = match knee(&c, growth_fraction) {
            Some(l) => format!("knee at {l}"),
            None => "no knee".to_string(),
        };
        (growth, k, rps_at(hi))
    };
    let (sub_growth, sub_knee, sub_rps) = growth_and_knee(subject);
    let mut parts = Vec::new();
    let mut all_ahead = true;
    let mut any_behind = false;
    let mut min_n = usize::MAX;
    for v in versus {
        let (v_growth, v_knee, v_rps) = growth_and_knee(v);
        let Some(j) = judge_at(g, scenario, hi, subject, v, rps_of, true, noise) else {
            return not_measured(&[format!("{v} on {scenario} at {}", at(hi, model))]);
        };
        min_n = min_n.min(j.repeats);
        all_ahead &= j.favours == Favours::A && sub_growth > v_growth;
        any_behind |= j.favours == Favours::B;
        parts.push(format!(
            "{v} grew {} ({v_knee}) to {} ({subject}'s rps {})",
            x(v_growth),
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
            x(sub_growth),
            rps(sub_rps),
            parts.join(" and "),
            repeats_phrase(min_n, noise)
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
    let min_n = rows
        .iter()
        .map(|h| h.rps.repeats.min(h.p99.repeats))
        .min()
        .unwrap_or(0);
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
        repeats_phrase(min_n, noise)
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

/// "rps ×1.40 (geometric mean over 8 scenarios, ×0.80 to ×3.10)".
fn geo_mean_ratio(g: &StepGroups, scenarios: &[String], a: &str, b: &str) -> Option<String> {
    let ratios: Vec<f64> = rps_ratios(g, scenarios, a, b)
        .into_iter()
        .map(|r| r.2)
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    if ratios.is_empty() {
        return None;
    }
    let gm = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(format!(
        "rps {} (geometric mean over {} scenarios, {} to {})",
        x(gm),
        ratios.len(),
        x(lo),
        x(hi)
    ))
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
    let mut min_n = usize::MAX;
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
            min_n = min_n.min(j.repeats);
            // advantage = versus / subject latency; its inverse is how many
            // times slower the subject is.
            let times_slower = 1.0 / j.advantage;
            if j.favours == Favours::B {
                slower += 1;
            }
            if times_slower <= ratio {
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
        repeats_phrase(min_n, noise)
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
    let mut min_n = usize::MAX;
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
        let p99 = median(&sub.p99_us).unwrap_or(0.0);
        let mut ahead_all = err <= max_error_rate;
        let mut behind_any = err > max_error_rate;
        let mut vs = Vec::new();
        for v in versus {
            if let Some(j) = judge_at(g, s, hi, subject, v, p99_of, false, noise) {
                min_n = min_n.min(j.repeats);
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
        repeats_phrase(min_n, noise)
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
    let model = g.model(subject, scenario);
    let k = match knee(&curve(g, subject, scenario), 0.1) {
        Some(l) => format!("knee at {l}"),
        None => "no knee".into(),
    };
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
    evidence.push_str(&format!(
        " ({})",
        repeats_phrase(growth.repeats.min(latency.repeats), noise)
    ));
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
