//! `surge_recovery`: how the subject comes through a traffic spike against
//! each `versus` target, on a scenario whose rate profile surges (its one
//! level is the profile's peak). The figures are the surge figures of
//! `analysis::surge` (baseline and peak p99, errors from the surge on,
//! recovery time).
//!
//! - The peak p99 is judged by the noise rule ([`judge`]).
//! - Recovery times are compared at the timeline's resolution (1 s): one
//!   recovering a bucket or more sooner is ahead, within a bucket is a tie;
//!   a target that did not recover is behind any that did.
//! - The subject is "seamless" when it recovered in every repeat with at
//!   most `max_error_rate` of its requests failed or unsent from the surge
//!   on.
//!
//! Supported when the subject is seamless and, against every `versus`
//! target, its peak p99 is lower beyond noise and it recovered no later.
//! Refuted when it is not seamless, or some `versus` target has the lower
//! peak p99 beyond noise or recovered sooner. Inconclusive otherwise.

use crate::analysis::surge::SurgeLevel;
use crate::stats::{Favours, NoisePolicy};
use crate::units;

use super::*;

pub(super) fn surge_recovery(
    g: &Lookup,
    noise: NoisePolicy,
    scenario: &str,
    subject: &str,
    versus: &[String],
    max_error_rate: f64,
) -> Finding {
    let mut all: Vec<&str> = vec![subject];
    all.extend(versus.iter().map(String::as_str));
    let gone = missing(g, &[scenario], &all);
    let Some(level) = g
        .highest_common_level(scenario, &all)
        .filter(|_| gone.is_empty())
    else {
        return not_measured(&gone);
    };
    let excluded = excluded_at(g, scenario, level, &all);
    if !excluded.is_empty() {
        return excluded_finding(&excluded);
    }
    let mut levels = Vec::new();
    let mut without = Vec::new();
    for t in &all {
        match g
            .get(t, scenario, level)
            .and_then(|r| SurgeLevel::of(&r.surge))
        {
            Some(l) => levels.push((*t, l)),
            None => without.push(*t),
        }
    }
    if !without.is_empty() {
        return Finding::new(
            Verdict::Inconclusive,
            format!(
                "no surge figures for {} on {scenario} (a surge needs a profile with a second before it and {} seconds after it), so no verdict.",
                without.join(", "),
                crate::measure::RECOVERY_HOLD
            ),
        );
    }
    let sub = &levels[0].1;
    let seamless = sub.not_recovered == 0 && sub.surge_error_rate <= max_error_rate;
    let resolution = sub.resolution_s();
    let mut count = RepeatCount::new();
    let (mut ahead_all, mut behind_any) = (seamless, !seamless);
    let mut comparisons = Vec::new();
    for (v, vl) in &levels[1..] {
        let Some(j) = judge(
            &sub.peak_p99_samples(),
            &vl.peak_p99_samples(),
            false,
            noise,
        ) else {
            continue;
        };
        count.add(&j);
        let (rs, rv) = (median_recovery(sub), median_recovery(vl));
        let sooner = rs + resolution <= rv;
        let later = rv + resolution <= rs;
        ahead_all &= j.favours == Favours::A && !later;
        behind_any |= j.favours == Favours::B || later;
        let recovery = if sooner {
            match rv.is_finite() {
                true => format!("recovered {} sooner", units::recovery(Some(rv - rs))),
                false => format!("recovered where {v} did not"),
            }
        } else if later {
            match rs.is_finite() {
                true => format!("recovered {} later", units::recovery(Some(rs - rv))),
                false => format!("did not recover where {v} did"),
            }
        } else {
            format!(
                "recovered within {} of it",
                units::recovery(Some(resolution))
            )
        };
        comparisons.push(format!(
            "{subject}'s peak p99 {} than {v}'s ({}) and it {recovery}",
            lead(j.advantage),
            rule_words(&j)
        ));
    }
    let verdict = if behind_any {
        Verdict::Refuted
    } else if ahead_all {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    };
    let figures: Vec<String> = levels.iter().map(|(t, l)| figures(t, l)).collect();
    let mut evidence = format!(
        "On {scenario} (peak {}): {}",
        at(level, g.model(subject, scenario)),
        figures.join("; ")
    );
    if !seamless {
        evidence.push_str(&format!(
            "; {subject} was not seamless ({})",
            if sub.not_recovered > 0 {
                format!(
                    "did not recover in {} of {} repeats",
                    sub.not_recovered,
                    sub.repeats.len()
                )
            } else {
                format!(
                    "{:.2}% errors from the surge on, over {}%",
                    sub.surge_error_rate * 100.0,
                    max_error_rate * 100.0
                )
            }
        ));
    }
    if !comparisons.is_empty() {
        evidence.push_str(&format!("; {}", comparisons.join("; ")));
    }
    evidence.push_str(&format!(
        " (peak p99: {}; recovery times compared at the timeline's {} resolution, within it a tie).",
        repeats_phrase(count, noise),
        units::recovery(Some(resolution))
    ));
    Finding::new(verdict, capitalize(&evidence))
}

/// The median recovery time, +infinity when it did not recover.
fn median_recovery(l: &SurgeLevel) -> f64 {
    l.recovery_s.unwrap_or(f64::INFINITY)
}

/// "node (stable): baseline p99 4.10 ms, peak p99 12.0 ms, back 0 s after
/// the surge, 0.00% errors".
fn figures(target: &str, l: &SurgeLevel) -> String {
    let back = match l.recovery_s {
        Some(s) => format!("back {} after the surge", units::recovery(Some(s))),
        None => "not back within the step".to_string(),
    };
    format!(
        "{target} ({}): baseline p99 {}, peak p99 {}, {back}, {:.2}% errors",
        l.outcome.as_str(),
        units::latency(l.baseline_p99_us.unwrap_or(f64::INFINITY)),
        units::latency(l.peak_p99_us.unwrap_or(f64::INFINITY)),
        l.surge_error_rate * 100.0
    )
}
