//! Latency predicates: uncontended and loaded latency within a ratio, and
//! the tail under load.

use crate::stats::{Favours, NoisePolicy, median};

use super::*;

pub(super) fn latency(
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
    let mut tally = WithinTally::default();
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
                tally.pairs += 2;
                unusable.extend(excl);
            }
            continue;
        };
        let mut words = Vec::new();
        for (j, figure, fig, level) in [
            (&j50, p50_of as Figure, "p50", lo),
            (&j99, p99_of as Figure, "p99", hi),
        ] {
            tally.pairs += 1;
            count.add(j);
            let (Some(rs), Some(rv)) = (g.get(subject, s, level), g.get(versus, s, level)) else {
                continue;
            };
            // "Within ×ratio" is an upper bound on subject / versus
            // latency, checked beyond noise (see [`within`]); a failing
            // subject never stays within it, not even of a versus that
            // failed too.
            let how = tally.add(j, figure(rs), figure(rv), ratio, noise);
            // advantage = versus / subject latency; its inverse is how many
            // times slower the subject is.
            words.push(format!("{fig} {} at {level} ({how})", x(1.0 / j.advantage)));
        }
        per.push(format!("{s} {}", words.join(", ")));
    }
    let verdict = match tally.settle(!per.is_empty(), &gone, &unusable) {
        Ok(v) => v,
        Err(finding) => return finding,
    };
    let mut evidence = format!(
        "{subject}'s latency relative to {versus} (×1 = equal, higher = slower) was {}; {}",
        per.join("; "),
        tally.sentence(subject, ratio, count, noise)
    );
    push_unusable(&mut evidence, &unusable);
    push_gone(&mut evidence, &gone);
    evidence.push('.');
    Finding::new(verdict, evidence)
}

pub(super) fn tail_under_load(
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
    push_unusable(&mut evidence, &unusable);
    push_gone(&mut evidence, &gone);
    evidence.push('.');
    Finding::new(verdict, evidence)
}
