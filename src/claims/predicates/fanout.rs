//! The real-time fan-out predicate: delivery p99 under load (the tail
//! under load rule on a fan-out scenario's deliveries) and the subscribers
//! each target holds within a delivery p99 objective (the capacity table's
//! SLO rule).

use std::time::Duration;

use super::super::capacity::{SloBracket, slo_capacity};
use super::*;
use crate::stats::NoisePolicy;

/// Capacities within this share of each other are a tie: the SLO search
/// stops once its bracket is within 10 % (runner's `SLO_RESOLUTION`).
const CAPACITY_TIE: f64 = 0.10;

pub(super) fn realtime_fanout(
    g: &Lookup,
    noise: NoisePolicy,
    scenario: &str,
    subject: &str,
    versus: &[String],
    slo: Duration,
    max_error_rate: f64,
) -> Finding {
    let scenarios = [scenario.to_string()];
    let tail = tail_under_load(g, noise, &scenarios, subject, versus, max_error_rate);
    if g.levels(subject, scenario).is_empty() {
        return tail;
    }
    // The most subscribers within the objective (None: not even the
    // lowest level measured).
    let capacity = |target: &str| -> Option<u64> {
        match slo_capacity(g, target, scenario, slo).bracket {
            SloBracket::AtLeast { rate } | SloBracket::Between { rate, .. } => Some(rate),
            SloBracket::Below { .. } | SloBracket::Unknown => None,
        }
    };
    let words = |c: Option<u64>| match c {
        Some(n) => format!("{n} subscribers"),
        None => "none of the levels measured".to_string(),
    };
    let own = capacity(subject);
    let mut behind = false;
    let mut per = Vec::new();
    for v in versus {
        if g.levels(v, scenario).is_empty() {
            continue;
        }
        let theirs = capacity(v);
        let (a, b) = (own.unwrap_or(0) as f64, theirs.unwrap_or(0) as f64);
        behind |= a < b * (1.0 - CAPACITY_TIE);
        per.push(format!("{v} {}", words(theirs)));
    }
    let verdict = match tail.verdict {
        Verdict::Refuted => Verdict::Refuted,
        _ if behind => Verdict::Refuted,
        Verdict::Supported if !per.is_empty() => Verdict::Supported,
        _ => Verdict::Inconclusive,
    };
    let evidence = format!(
        "{} Within a delivery p99 of {}, {subject} held {}{}{}.",
        tail.evidence,
        crate::units::latency(slo.as_secs_f64() * 1e6),
        words(own),
        if per.is_empty() { "" } else { " vs " },
        per.join(", ")
    );
    Finding::new(verdict, evidence)
}
