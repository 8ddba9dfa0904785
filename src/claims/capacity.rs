//! The "Capacity and knee" report section: per target × scenario, the knee
//! of the throughput curve and, for open-model scenarios with a p99 SLO in
//! the claims file, the highest offered rate whose p99 met it. The maths
//! is in `stats` (`knee`, `slo_bracket`); this file only tabulates.
//!
//! Capacity at the SLO is computed **per rate, across repeats**: for each
//! offered rate, the median over its repeats of the SLO p99, where a repeat
//! without a successful request or with more than 1 % of its requests
//! failed counts as +∞ (the rule of [`crate::stats`]); then the bracket of
//! `stats::slo_bracket` over those medians. It is not a median of
//! per-repeat capacities: the runner probes the same rates in every repeat
//! of a target (repeat 0 searches, later repeats replay its rates), so each
//! rate has all repeats, and a rate measured in fewer repeats (an older
//! run) is named in the cell. A target that answered nothing never reads
//! as "still growing": its knee cell says no request succeeded.

use std::time::Duration;

use crate::report::Section;
use crate::results::{Model, RunResults};
use crate::stats::{SLO_MAX_ERROR_RATE, StepGroups, median, slo_bracket};

use super::predicates::{curve, never_succeeded};
use super::spec::CapacitySpec;

/// Builds the section from `results`; SLOs come from `spec.slo_p99`.
pub fn capacity_section(results: &RunResults, spec: &CapacitySpec) -> Section {
    // Flagged steps (interrupted, generator saturated) are left out, so a
    // knee never comes from the generator's limit.
    let g = StepGroups::for_verdicts(results);
    let targets = StepGroups::targets_in_order(results);
    let scenarios = StepGroups::scenarios_in_order(results);
    let mut md = format!(
        "The knee is the level past which throughput never again grows by more than {:.0}% while p99 climbs. \
         Capacity at the SLO is the highest offered rate whose p99 (median over the repeats of that rate) stayed within the scenario's objective, below the lowest rate that missed it; \
         a repeat without a successful request, or with more than {}% of its requests failed, misses the objective whatever its latency.\n\n",
        spec.growth_fraction * 100.0,
        SLO_MAX_ERROR_RATE * 100.0
    );
    md.push_str(
        "| Target | Scenario | Model | Knee | rps at knee | Peak rps | Capacity at SLO |\n",
    );
    md.push_str("|---|---|---|---:|---:|---:|---|\n");
    let mut rows = 0;
    for scenario in &scenarios {
        for target in &targets {
            let c = curve(&g, target, scenario);
            let Some(model) = g.model(target, scenario) else {
                continue;
            };
            rows += 1;
            let unit = model.level_label();
            let knee = crate::stats::knee(&c, spec.growth_fraction);
            let (knee_cell, knee_rps) = match knee {
                _ if never_succeeded(&c) => {
                    ("— (no request succeeded)".to_string(), "—".to_string())
                }
                Some(l) => {
                    let r = c.iter().find(|p| p.0 == l).map(|p| p.1).unwrap_or(0.0);
                    (format!("{l} {unit}"), format!("{r:.0}"))
                }
                None if c.len() < 2 => ("— (one level)".to_string(), "—".to_string()),
                None => (
                    format!(
                        "not reached (growing at {})",
                        c.last().map(|p| p.0).unwrap_or(0)
                    ),
                    "—".to_string(),
                ),
            };
            let peak = c
                .iter()
                .filter(|p| p.1 > 0.0)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|p| format!("{:.0} at {}", p.1, p.0))
                .unwrap_or_else(|| "—".into());
            let capacity = match (model, spec.slo_p99.get(scenario)) {
                (Model::Open, Some(slo)) => slo_cell(&g, target, scenario, *slo),
                (Model::Open, None) => "no SLO in the claims file".to_string(),
                (Model::Closed, _) => "—".to_string(),
            };
            md.push_str(&format!(
                "| {target} | {scenario} | {} | {knee_cell} | {knee_rps} | {peak} | {capacity} |\n",
                model.as_str()
            ));
        }
    }
    if rows == 0 {
        md = "No steps were measured.\n".to_string();
    } else {
        let excluded = g.all_excluded();
        if !excluded.is_empty() {
            md.push_str(&format!(
                "\nLeft out of these figures: {}\n",
                super::excluded_sentence(&excluded)
            ));
        }
    }
    Section {
        title: "Capacity and knee".to_string(),
        markdown: md,
        charts: Vec::new(),
    }
}

/// The capacity cell of one target × open-model scenario.
fn slo_cell(g: &StepGroups, target: &str, scenario: &str, slo: Duration) -> String {
    let slo_us = slo.as_secs_f64() * 1e6;
    // Per rate: the repeats' SLO p99 (`Repeats::p99_us` is already +∞ for
    // a failing repeat), reduced to their median.
    let rates: Vec<(u64, &crate::stats::Repeats)> = g
        .levels(target, scenario)
        .into_iter()
        .filter_map(|l| Some((l, g.get(target, scenario, l)?)))
        .collect();
    let pts: Vec<(u64, f64)> = rates
        .iter()
        .filter_map(|(l, r)| Some((*l, median(&r.p99_us)?)))
        .collect();
    let slo_text = crate::units::latency(slo_us);
    // Why the lowest failing rate missed the objective.
    let missed = |f: u64| -> String {
        let Some((_, r)) = rates.iter().find(|(l, _)| *l == f) else {
            return format!("p99 > {slo_text}");
        };
        if r.without_success() * 2 > r.n() {
            "no request succeeded".to_string()
        } else if median(&r.error_rate).is_some_and(|e| e > SLO_MAX_ERROR_RATE) {
            format!("more than {}% errors", SLO_MAX_ERROR_RATE * 100.0)
        } else {
            format!("p99 > {slo_text}")
        }
    };
    let mut cell = match slo_bracket(&pts, slo_us) {
        (Some(p), None) => format!("≥ {p} req/s (p99 ≤ {slo_text} at every rate measured)"),
        (Some(p), Some(f)) => format!("{p} req/s ({} from {f} req/s)", missed(f)),
        (None, Some(f)) => {
            // Every rate missed; say why at the lowest.
            let why = missed(f);
            if why.starts_with("p99") {
                format!("below {f} req/s ({why} at every rate measured)")
            } else {
                format!("below {f} req/s (missed at every rate measured; {why} at {f} req/s)")
            }
        }
        (None, None) => "—".to_string(),
    };
    let most = rates.iter().map(|(_, r)| r.n()).max().unwrap_or(0);
    let fewer: Vec<String> = rates
        .iter()
        .filter(|(_, r)| r.n() < most)
        .map(|(l, r)| format!("{l} ({} of {most})", r.n()))
        .collect();
    if !fewer.is_empty() {
        cell.push_str(&format!(
            "; rates measured in fewer repeats: {}",
            fewer.join(", ")
        ));
    }
    cell
}
