//! Head-to-head ratios at the highest common level, across scenarios.

use crate::stats::{Favours, NoisePolicy, median};

use super::*;

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

pub(super) fn ratio_at_highest(
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
    push_unusable(&mut evidence, &unusable);
    for other in also {
        if let Some(summary) = geo_mean_ratio(g, scenarios, other, versus) {
            evidence.push_str(&format!("; {other} vs {versus}: {summary}"));
        }
    }
    push_gone(&mut evidence, &gone);
    evidence.push('.');
    Finding::new(verdict, evidence)
}

/// rps ratio of `a` over `b` at the highest common level of each scenario
/// (medians), as (scenario, level, ratio).
pub(super) fn rps_ratios(
    g: &Lookup,
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
