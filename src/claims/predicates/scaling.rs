//! Scaling and its counterpoint: growth of throughput between levels
//! (one growth factor per repeat), knees, and the cpu-bound predicate.

use crate::analysis::scalability::TargetScalability;
use crate::scalability::Preferred;
use crate::stats::{Favours, NoisePolicy, judge, knee, median};
use crate::units::{coefficient, coefficient_interval};

use super::*;

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
pub(super) fn scaling(
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
    let mut evidence = format!(
        "On {scenario} from {lo} to {}, {subject}'s throughput grew {} ({sub_knee}) to {} while {} ({}; growth judged per repeat, each repeat's rps at {hi} over its rps at {lo}).",
        at(hi, model),
        growth_median(&sub_growth),
        rps(sub_rps),
        parts.join(" and "),
        repeats_phrase(count, noise)
    );
    if let Some(models) = model_sentence(g, scenario, &all) {
        evidence.push(' ');
        evidence.push_str(&models);
    }
    Finding::new(verdict, evidence)
}

/// The scalability models of `targets` on `scenario` in one sentence
/// (what the curve's shape says beside the growth factors); None when the
/// run has none (an open-model scenario).
fn model_sentence(g: &Lookup, scenario: &str, targets: &[&str]) -> Option<String> {
    let parts: Vec<String> = targets
        .iter()
        .filter_map(|t| Some(model_words(t, g.model_of(t, scenario)?)))
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "Scalability model (the USL and the bounded model min(λN, X_max), least squares on the usable levels, compared by AIC): {}.",
        parts.join("; ")
    ))
}

/// One target's model: its coefficients with their intervals, where the
/// peak lies, the cap, which model fits better, and what was left out.
fn model_words(target: &str, t: &TargetScalability) -> String {
    let m = match &t.model {
        Ok(m) => m,
        Err(e) => return format!("{target}: {e}{}", left_out_words(t)),
    };
    let (f, i) = (&m.fit, &m.intervals);
    let n_star = f.usl.n_star();
    let peak = if f.peak_in_range() {
        format!(
            "N* {} {}",
            coefficient(n_star),
            coefficient_interval(i.n_star)
        )
    } else {
        format!(
            "N* beyond the measured range ({} {})",
            coefficient(n_star),
            coefficient_interval(i.n_star)
        )
    };
    let cap = if f.capped() {
        format!(
            "the bounded model caps at {} req/s {}",
            coefficient(f.bounded.cap),
            coefficient_interval(i.cap)
        )
    } else {
        "the bounded model reaches no cap in range".to_string()
    };
    let preferred = match f.preferred {
        Preferred::Usl => "the USL fits better",
        Preferred::Bounded => "the bounded model fits better: a hard cap",
        Preferred::Either => "AIC does not tell the two apart",
    };
    format!(
        "{target} over {} levels ({}–{}): σ {} {}, κ {} {}, {peak}; {cap}; {preferred} (AIC {:.1} vs {:.1}; intervals: {}){}",
        f.levels,
        f.min_level,
        f.max_level,
        coefficient(f.usl.sigma),
        coefficient_interval(i.sigma),
        coefficient(f.usl.kappa),
        coefficient_interval(i.kappa),
        f.usl_aic,
        f.bounded_aic,
        i.resampling.words(),
        left_out_words(t)
    )
}

/// ", left out of the fit: 256 (L/N = 0.52)", or nothing.
fn left_out_words(t: &TargetScalability) -> String {
    if t.left_out.is_empty() {
        return String::new();
    }
    let items: Vec<String> = t
        .left_out
        .iter()
        .map(|l| format!("{} repeat {} ({})", l.level, l.repeat, l.why.words()))
        .collect();
    format!(", left out of the fit: {}", items.join(", "))
}

/// The growth factor of `target`'s rps from `lo` to `hi`, one per repeat
/// measured at both levels (see [`scaling`]); 0 for a repeat whose lowest
/// level counts as failing.
pub(super) fn growth_per_repeat(
    g: &Lookup,
    target: &str,
    scenario: &str,
    lo: u64,
    hi: u64,
) -> Vec<f64> {
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
pub(super) fn growth_median(samples: &[f64]) -> String {
    match median(samples) {
        Some(m) if samples.iter().any(|s| *s > 0.0) => x(m),
        _ => "—".to_string(),
    }
}

pub(super) fn cpu_bound(
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
