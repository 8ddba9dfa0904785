//! The ORM's own cost: inside one variant, an ORM scenario against its
//! raw-SQL twin (the same endpoint through the same framework, connection
//! and pool, without the ORM; targets/API.md `/raw/...`), and, stated
//! beside it, how far the raw twin still is from another target on the
//! ORM scenario: the part of the gap that is not the ORM (request
//! handling, the language). The verdict rests on the first alone.

use crate::stats::{Favours, NoisePolicy, judge};

use super::*;

/// Per pair (ORM scenario, raw twin): the subject's p50 at the lowest and
/// p99 at the highest level both measured, ORM against raw, within
/// `ratio` beyond noise ([`within`]) or slower beyond noise
/// ([`crate::stats::judge`]); the raw twin against `versus` on the ORM
/// scenario at the same levels, for the evidence only.
pub(super) fn orm_cost(
    g: &Lookup,
    noise: NoisePolicy,
    pairs_of: &[(String, String)],
    subject: &str,
    versus: &str,
    ratio: f64,
) -> Finding {
    let mut per = Vec::new();
    let mut gaps = Vec::new();
    let mut gone = Vec::new();
    let mut unusable = Vec::new();
    let mut tally = WithinTally::default();
    let mut count = RepeatCount::new();
    for (orm, raw) in pairs_of {
        let raw_levels = g.levels(subject, raw);
        let common: Vec<u64> = g
            .levels(subject, orm)
            .into_iter()
            .filter(|l| raw_levels.contains(l))
            .collect();
        let (Some(&lo), Some(&hi)) = (common.first(), common.last()) else {
            gone.extend(missing(g, &[orm, raw], &[subject]));
            if gone.is_empty() {
                gone.push(format!("{subject} on {orm} and {raw} at a common level"));
            }
            continue;
        };
        let mut words = Vec::new();
        let mut gap_words = Vec::new();
        for (figure, fig, level) in [(p50_of as Figure, "p50", lo), (p99_of as Figure, "p99", hi)] {
            tally.pairs += 1;
            let (Some(ro), Some(rr)) = (g.get(subject, orm, level), g.get(subject, raw, level))
            else {
                for (s, what) in [(orm, "ORM"), (raw, "raw SQL")] {
                    if g.is_excluded(subject, s, level) {
                        unusable.push(format!(
                            "{subject} on {s} ({what}) at {}",
                            at(level, g.model(subject, s))
                        ));
                    }
                }
                continue;
            };
            let Some(j) = judge(figure(ro), figure(rr), false, noise) else {
                continue;
            };
            count.add(&j);
            let how = tally.add(&j, figure(ro), figure(rr), ratio, noise);
            // advantage = raw / ORM latency; its inverse is the ORM's cost.
            words.push(format!("{fig} {} at {level} ({how})", x(1.0 / j.advantage)));
            // What is left with raw SQL: the twin against versus's ORM
            // scenario (on versus the two are the same code).
            if let Some(rv) = g.get(versus, orm, level)
                && let Some(jv) = judge(figure(rr), figure(rv), false, noise)
            {
                gap_words.push(format!(
                    "{fig} {} at {level} ({})",
                    x(1.0 / jv.advantage),
                    if jv.favours == Favours::B {
                        format!("slower beyond noise: {}", rule_words(&jv))
                    } else {
                        format!("not beyond noise: {}", rule_words(&jv))
                    }
                ));
            }
        }
        if !words.is_empty() {
            per.push(format!("{orm} {}", words.join(", ")));
        }
        if !gap_words.is_empty() {
            gaps.push(format!("{orm} {}", gap_words.join(", ")));
        } else {
            gone.extend(missing(g, &[orm], &[versus]));
        }
    }
    let verdict = match tally.settle(!per.is_empty(), &gone, &unusable) {
        Ok(v) => v,
        Err(finding) => return finding,
    };
    let mut evidence = format!(
        "ORM against raw SQL inside {subject} (latency ratio, ×1 = equal, higher = the ORM slower) was {}; {}",
        per.join("; "),
        tally.sentence("the ORM", ratio, count, noise)
    );
    if !gaps.is_empty() {
        evidence.push_str(&format!(
            ". The gap to {versus} that remains with raw SQL ({subject}'s raw SQL against {versus}, higher = {subject} slower; not part of the verdict): {}",
            gaps.join("; ")
        ));
    }
    push_unusable(&mut evidence, &unusable);
    push_gone(&mut evidence, &gone);
    evidence.push('.');
    Finding::new(verdict, evidence)
}
