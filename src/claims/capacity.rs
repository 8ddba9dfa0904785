//! The "Capacity and knee" report section: per target × scenario, the knee
//! of the throughput curve and, for open-model scenarios with a p99 SLO in
//! the claims file, the highest offered rate whose p99 met it. The maths
//! is in `stats` (`knee`, `slo_bracket`); this file only tabulates.

use std::time::Duration;

use crate::gates::format_us;
use crate::report::Section;
use crate::results::{Model, RunResults};
use crate::stats::{StepGroups, median, slo_bracket, slo_p99};

use super::predicates::curve;
use super::spec::CapacitySpec;

/// Builds the section from `results`; SLOs come from `spec.slo_p99`.
pub fn capacity_section(results: &RunResults, spec: &CapacitySpec) -> Section {
    // Flagged steps (interrupted, generator saturated) are left out, so a
    // knee never comes from the generator's limit.
    let g = StepGroups::for_verdicts(results);
    let mut targets: Vec<String> = Vec::new();
    for s in &results.steps {
        if !targets.contains(&s.target) {
            targets.push(s.target.clone());
        }
    }
    let scenarios = StepGroups::scenarios_in_order(results);
    let mut md = format!(
        "The knee is the level past which throughput never again grows by more than {:.0}% while p99 climbs. \
         Capacity at the SLO is the highest offered rate whose p99 (median over repeats) stayed within the scenario's objective, below the lowest rate that missed it.\n\n",
        spec.growth_fraction * 100.0
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
            let (knee_cell, knee_rps) = match crate::stats::knee(&c, spec.growth_fraction) {
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
    }
}

fn slo_cell(g: &StepGroups, target: &str, scenario: &str, slo: Duration) -> String {
    let slo_us = slo.as_secs_f64() * 1e6;
    let pts: Vec<(u64, f64)> = g
        .levels(target, scenario)
        .into_iter()
        .filter_map(|l| {
            let r = g.get(target, scenario, l)?;
            Some((l, slo_p99(median(&r.p99_us)?, r.requests, r.errors)))
        })
        .collect();
    let slo_text = format_us(slo_us);
    match slo_bracket(&pts, slo_us) {
        (Some(p), None) => format!("≥ {p} req/s (p99 ≤ {slo_text} at every rate measured)"),
        (Some(p), Some(f)) => format!("{p} req/s (p99 > {slo_text} from {f} req/s)"),
        (None, Some(f)) => format!("below {f} req/s (p99 > {slo_text} at every rate measured)"),
        (None, None) => "—".to_string(),
    }
}
